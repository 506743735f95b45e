//! Grid files as users write them: expansion, ids, and one clear error per kind of mistake.

use std::path::Path;

use cxr_experiment::{AxisValue, DataSource, Grid, Overrides};

use crate::support::{self, base_grid, TestResult};

const BASE: &str = base_grid!("t");

fn expand(text: &str) -> Result<Grid, cxr_experiment::ExperimentError> {
    support::expand_at("experiments/t.toml", text)
}

fn error_of(text: &str) -> String {
    support::error_of(expand(text))
}

#[test]
fn objective_is_a_grid_axis_and_classify_keeps_its_run_id() -> TestResult {
    use cxr_experiment::Objective;
    let plain = expand(&format!("{BASE}\n[model]\nname = \"resnet18\"\n"))?;
    let g = expand(&format!(
        "{BASE}\n[model]\nname = \"resnet18\"\n[grid]\n\"train.objective\" = [\"classify\", \"autoencoder\"]\n"
    ))?;
    let objectives: Vec<Objective> = g.runs.iter().map(|r| r.config.train.objective).collect();
    assert_eq!(objectives, [Objective::Classify, Objective::Autoencoder]);
    // The default is left out of the serialised config: the id is the one it had before.
    assert_eq!(g.runs[0].id, plain.runs[0].id);
    assert!(!g.runs[0].config.to_toml()?.contains("objective"));
    assert_ne!(g.runs[1].id, plain.runs[0].id);
    let toml = g.runs[1].config.to_toml()?;
    assert!(toml.contains("objective = \"autoencoder\""), "{toml}");
    assert_eq!(
        cxr_experiment::RunConfig::from_toml(&toml)?,
        g.runs[1].config
    );
    Ok(())
}

#[test]
fn an_autoencoder_with_frozen_stages_is_one_clear_error() {
    let msg = error_of(&format!(
        "{BASE}objective = \"autoencoder\"\n[model]\nname = \"resnet18\"\nfreeze = 2\n"
    ));
    assert_eq!(
        msg,
        "experiments/t.toml: model.freeze = 2 is invalid: an autoencoder run trains the whole \
         encoder: use freeze = 0"
    );
    let msg = error_of(&format!(
        "{BASE}objective = \"autoencode\"\n[model]\nname = \"cnn\"\n"
    ));
    assert!(
        msg.contains("unknown variant `autoencode`, expected `classify` or `autoencoder`"),
        "{msg}"
    );
}

#[test]
fn model_by_freeze_folds_the_cnn_and_says_so() -> TestResult {
    let g = expand(&format!(
        "{BASE}\n[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [0, 1, 2]\n"
    ))?;
    let cells: Vec<(String, usize)> = g
        .runs
        .iter()
        .map(|r| (r.config.model.name.to_string(), r.config.model.freeze))
        .collect();
    assert_eq!(
        cells,
        [
            ("cnn".into(), 0),
            ("resnet18".into(), 0),
            ("resnet18".into(), 1),
            ("resnet18".into(), 2)
        ]
    );
    assert_eq!(
        g.runs.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(g.notes.len(), 1);
    assert!(
        g.notes[0].contains("cnn has no stages to freeze"),
        "{}",
        g.notes[0]
    );
    assert!(g.notes[0].contains("model.freeze=1") && g.notes[0].contains("model.freeze=2"));
    Ok(())
}

#[test]
fn any_setting_is_an_axis_and_seeds_repeat_cells() -> TestResult {
    let g = expand(&format!(
        "{BASE}\n[model]\nname = \"cnn\"\n[grid]\nseed = [1, 2]\n\"train.lr\" = [0.001, 0.0001]\n\"data.image_size\" = [64]\n"
    ))?;
    assert_eq!(g.runs.len(), 4);
    assert_eq!(g.axes, ["seed", "train.lr", "data.image_size"]);
    let r = &g.runs[3];
    assert_eq!(
        (
            r.config.seed,
            r.config.train.adam.lr,
            r.config.data.image_size
        ),
        (2, 0.0001, 64)
    );
    let lr = AxisValue {
        setting: "train.lr".to_string(),
        value: "0.0001".to_string(),
    };
    assert_eq!(r.axes[1], lr);
    let ids: std::collections::BTreeSet<&str> = g.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "distinct configs get distinct ids");
    Ok(())
}

#[test]
fn run_ids_depend_on_settings_not_file_text() -> TestResult {
    let a = expand(&format!(
        "{BASE}\n[model]\nname = \"resnet18\"\nfreeze = 2\n"
    ))?;
    let b = expand(
        "# same settings, other order, defaults spelled out\nname = \"t\"\n[model]\nfreeze = 2\nname = \"resnet18\"\n[train]\nlr = 0.001\nmax_epochs = 3\n[data.synthetic]\nper_class = 20\nsize = 128\n",
    )?;
    assert_eq!(a.runs[0].id, b.runs[0].id);
    assert!(
        a.runs[0].id.starts_with("resnet18-f2-s0-"),
        "{}",
        a.runs[0].id
    );
    let c = expand(&format!(
        "{BASE}\n[model]\nname = \"resnet18\"\nfreeze = 3\n"
    ))?;
    assert_ne!(a.runs[0].id, c.runs[0].id);
    // The resolved config survives its own TOML round trip, id included.
    let text = a.runs[0].config.to_toml()?;
    let back = cxr_experiment::RunConfig::from_toml(&text)?;
    assert_eq!(back.run_id()?, a.runs[0].id);
    Ok(())
}

#[test]
fn unknown_key_names_key_file_and_line() {
    let msg = error_of(&format!(
        "{BASE}\n[model]\nname = \"cnn\"\nlearning_rate = 3\n"
    ));
    assert!(msg.starts_with("experiments/t.toml: line "), "{msg}");
    assert!(msg.contains("learning_rate"), "{msg}");
    assert_eq!(msg.lines().count(), 1, "{msg}");
    let msg = error_of(&format!(
        "{BASE}\n[model]\nname = \"cnn\"\n[grid]\n\"train.lrr\" = [1]\n"
    ));
    assert!(
        msg.contains("lrr") && msg.contains("experiments/t.toml"),
        "{msg}"
    );
}

#[test]
fn unknown_model_freeze_5_empty_axis_batch_0() {
    let msg = error_of(&format!("{BASE}\n[grid]\nmodel = [\"vgg16\"]\n"));
    assert!(
        msg.contains("model.name = \"vgg16\" is invalid") && msg.contains("resnet18"),
        "{msg}"
    );
    let msg = error_of(&format!(
        "{BASE}\n[grid]\nmodel = [\"resnet18\"]\nfreeze = [5]\n"
    ));
    assert!(
        msg.contains("model.freeze = 5 is invalid") && msg.contains("0..=4"),
        "{msg}"
    );
    let msg = error_of(&format!("{BASE}\n[model]\nname = \"cnn\"\nfreeze = 1\n"));
    assert!(
        msg.contains("cnn has no stages"),
        "a fixed cnn freeze is an error, not a fold: {msg}"
    );
    let msg = error_of(&format!("{BASE}\n[grid]\nmodel = []\n"));
    assert!(msg.contains("grid axis `model` is empty"), "{msg}");
    let msg = error_of(&format!(
        "{BASE}\n[model]\nname = \"cnn\"\n[grid]\n\"train.batch_size\" = [0]\n"
    ));
    assert!(
        msg.contains("train.batch_size = 0 is invalid") && msg.contains("1..=65536"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1, "{msg}");
}

#[test]
fn inline_grid_expands_like_the_grid_table() -> TestResult {
    let table = expand(&format!(
        "{BASE}\n[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [0, 2]\n"
    ))?;
    // An inline table belongs to the table above it, so it goes before the first [header].
    let inline = expand(&format!(
        "grid = {{ model = [\"cnn\", \"resnet18\"], freeze = [0, 2] }}\n{BASE}"
    ))?;
    assert_eq!(inline.axes, ["model.name", "model.freeze"]);
    assert_eq!(inline.axes, table.axes);
    assert_eq!(
        inline.runs, table.runs,
        "same cells, configs, ids and axis values"
    );
    assert_eq!(inline.runs.len(), 3, "cnn once, resnet18 at freeze 0 and 2");
    assert_eq!(inline.notes, table.notes);
    Ok(())
}

#[test]
fn unknown_named_value_names_file_line_and_choices() {
    let msg = error_of(&format!("{BASE}sampler = \"balance\"\n"));
    assert_eq!(
        msg,
        "experiments/t.toml: line 7: unknown variant `balance`, \
         expected one of `sequential`, `shuffled`, `balanced`"
    );
    // BASE has 6 lines and ends in [train].
    let models = "`cnn`, `resnet18`, `resnet34`, `resnet50`";
    for (text, line, choices) in [
        ("[model]\nname = \"resnet19\"\n", 8, models),
        ("[models.resnet19]\nweights = \"w.pth\"\n", 7, models),
        (
            "[data]\nnormalization = \"zscore\"\n",
            8,
            "`auto`, `imagenet`, `dataset`, `none`",
        ),
        (
            "early_stopping = \"val_auc\"\n",
            7,
            "`val_micro_recall`, `val_macro_recall`, `val_loss`, `val_mean_auroc`",
        ),
    ] {
        let msg = error_of(&format!("{BASE}{text}"));
        assert!(
            msg.starts_with(&format!(
                "experiments/t.toml: line {line}: unknown variant `"
            )) && msg.ends_with(&format!("expected one of {choices}")),
            "{msg}"
        );
    }
    // A grid axis value is checked on its own and named with its setting and line.
    let msg = error_of(&format!(
        "{BASE}[model]\nname = \"cnn\"\n[grid]\n\"train.sampler\" = [\"balanced\", \"balance\"]\n"
    ));
    assert_eq!(
        msg,
        "experiments/t.toml: line 10: train.sampler = \"balance\" is invalid: unknown variant \
         `balance`, expected one of `sequential`, `shuffled`, `balanced`"
    );
}

#[test]
fn missing_dataset_path_and_missing_weights() {
    let msg = error_of("name = \"t\"\n[data]\nroot = \"no/such/dir\"\n[model]\nname = \"cnn\"\n");
    assert!(
        msg.contains("data.root = experiments/no/such/dir is invalid") && msg.contains("not found"),
        "{msg}"
    );
    let msg = error_of(&format!(
        "{BASE}\n[model]\nname = \"resnet18\"\n[models.resnet18]\nweights = \"w.safetensors\"\n"
    ));
    assert!(
        msg.contains("models.resnet18.weights") && msg.contains("experiments/w.safetensors"),
        "{msg}"
    );
    let msg = error_of("name = \"t\"\n[model]\nname = \"cnn\"\n");
    assert!(msg.contains("data.root"), "{msg}");
}

#[test]
fn data_override_replaces_the_source() -> TestResult {
    let dir = tempfile::tempdir()?;
    let overrides = Overrides {
        data_root: Some(dir.path().to_path_buf()),
        ..Overrides::default()
    };
    let g = Grid::from_toml(
        &format!("{BASE}\n[model]\nname = \"cnn\"\n"),
        Path::new("g.toml"),
        &overrides,
    )?;
    let DataSource::Folder { root, .. } = &g.runs[0].config.data.source else {
        panic!("a folder source, got {:?}", g.runs[0].config.data.source);
    };
    assert_eq!(root, dir.path());
    Ok(())
}

#[test]
fn shipped_grids_expand() -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    for (file, runs) in [
        ("demo.toml", None),
        ("ci.toml", None),
        ("paper.toml", Some(11)),
    ] {
        let path = dir.join(file);
        // paper.toml points at a dataset that may be absent; --data stands in for it.
        let overrides = Overrides {
            data_root: Some(dir.clone()),
            ..Overrides::default()
        };
        let g = Grid::from_file(&path, &overrides)?;
        assert!(!g.runs.is_empty(), "{file}");
        if let Some(n) = runs {
            assert_eq!(g.runs.len(), n, "{file}: cnn + resnet18 x 5 + resnet34 x 5");
        }
    }
    Ok(())
}

/// Every setting spelled out, none at its default (weights left out: their path is absolute).
const FULLY_SPECIFIED: &str = r#"
name = "pinned"
description = "ignored"
seed = 7
[data]
classes = ["NORMAL", "PNEUMONIA", "COVID"]
image_size = 96
mask = true
skip_unreadable = true
normalization = "imagenet"
[data.synthetic]
per_class = 12
size = 64
seed = 3
[data.augment]
rotation_deg = 7.5
crop_scale_min = 0.8
brightness = 0.1
contrast = 0.15
[split]
train = 0.6
val = 0.25
test = 0.15
[model]
name = "resnet34"
freeze = 3
[train]
sampler = "shuffled"
lr = 0.0003
beta1 = 0.85
beta2 = 0.995
eps = 1e-7
weight_decay = 0.0001
max_epochs = 40
patience = 6
batch_size = 32
early_stopping = "val_macro_recall"
prefix_cache = false
"#;

/// Run ids name result folders across releases, so the resolved config's JSON (what the id
/// hashes) and its `config.toml` must not change. The expected text and id were printed by this
/// test's own code at commit da6296a, before the settings were typed.
#[test]
fn run_id_and_serialised_config_are_pinned() -> TestResult {
    let g = expand(FULLY_SPECIFIED)?;
    let config = &g.runs[0].config;
    let json = serde_json::to_string(config)?;
    let toml = config.to_toml()?;
    assert_eq!(json, PINNED_JSON);
    assert_eq!(toml, PINNED_TOML);
    assert_eq!(g.runs[0].id, PINNED_ID);
    Ok(())
}

const PINNED_JSON: &str = r#"{"grid":"pinned","seed":7,"data":{"source":{"kind":"synthetic","per_class":12,"size":64,"seed":3},"classes":["NORMAL","PNEUMONIA","COVID"],"image_size":96,"mask":true,"skip_unreadable":true,"normalization":"imagenet","augment":{"rotation_deg":7.5,"crop_scale_min":0.8,"brightness":0.1,"contrast":0.15}},"split":{"train":0.6,"val":0.25,"test":0.15},"model":{"name":"resnet34","freeze":3},"train":{"sampler":"shuffled","lr":0.0003,"beta1":0.85,"beta2":0.995,"eps":1e-7,"weight_decay":0.0001,"max_epochs":40,"patience":6,"batch_size":32,"early_stopping":"val_macro_recall","prefix_cache":false}}"#;
const PINNED_TOML: &str = r#"grid = "pinned"
seed = 7

[data]
classes = [
    "NORMAL",
    "PNEUMONIA",
    "COVID",
]
image_size = 96
mask = true
skip_unreadable = true
normalization = "imagenet"

[data.source]
kind = "synthetic"
per_class = 12
size = 64
seed = 3

[data.augment]
rotation_deg = 7.5
crop_scale_min = 0.800000011920929
brightness = 0.10000000149011612
contrast = 0.15000000596046448

[split]
train = 0.6
val = 0.25
test = 0.15

[model]
name = "resnet34"
freeze = 3

[train]
sampler = "shuffled"
lr = 0.0003
beta1 = 0.85
beta2 = 0.995
eps = 0.0000001
weight_decay = 0.0001
max_epochs = 40
patience = 6
batch_size = 32
early_stopping = "val_macro_recall"
prefix_cache = false
"#;
const PINNED_ID: &str = "resnet34-f3-s7-bfe391adf665";

#[test]
fn calibrate_is_off_by_default_keeps_ids_and_is_refused_where_there_are_no_logits() -> TestResult {
    let plain = expand(&format!("{BASE}\n[model]\nname = \"cnn\"\n"))?;
    assert!(!plain.runs[0].config.train.calibrate);
    assert!(!plain.runs[0].config.to_toml()?.contains("calibrate"));
    let g = expand(&format!(
        "{BASE}\n[model]\nname = \"cnn\"\n[grid]\n\"train.calibrate\" = [false, true]\n"
    ))?;
    assert_eq!(
        g.runs[0].id, plain.runs[0].id,
        "calibrate = false changed the id"
    );
    assert!(g.runs[1].config.train.calibrate);
    assert_ne!(g.runs[1].id, plain.runs[0].id);
    let toml = g.runs[1].config.to_toml()?;
    assert!(toml.contains("calibrate = true"), "{toml}");
    assert_eq!(
        cxr_experiment::RunConfig::from_toml(&toml)?,
        g.runs[1].config
    );

    let msg = error_of(&format!(
        "{BASE}calibrate = true\n[model]\nname = \"resnet18\"\nhead = \"svm_rbf\"\n"
    ));
    assert_eq!(
        msg,
        "experiments/t.toml: train.calibrate = true is invalid: temperature scaling rescales a \
         network's logits, and the svm_rbf head has none: leave calibrate out, or use head = \
         \"linear\""
    );
    let msg = error_of(&format!(
        "{BASE}calibrate = true\nobjective = \"autoencoder\"\n[model]\nname = \"resnet18\"\n"
    ));
    assert!(msg.contains("an autoencoder run has none"), "{msg}");
    Ok(())
}

/// Results folders of grids swept before cross-validation existed must stay found: the ids of
/// the shipped synthetic grids (no machine-specific paths in their configs) as printed by
/// `cxr sweep experiments/<grid>.toml --dry-run` at commit 4310a31, before `[split] folds`.
#[test]
fn existing_grids_keep_their_run_ids() -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    for (file, ids) in [
        (
            "ci.toml",
            &[
                "cnn-f0-s0-b69aead1c94d",
                "resnet18-f0-s0-1aeddf28f210",
                "resnet18-f4-s0-ebe2718b9520",
            ][..],
        ),
        (
            "demo.toml",
            &[
                "cnn-f0-s0-0cd6f5c9f3e0",
                "resnet18-f0-s0-b5b9ff362c1c",
                "resnet18-f0-s0-f322048c0ed2",
                "resnet18-f2-s0-0d83303b4937",
                "resnet18-f2-s0-15cf2964d20b",
                "resnet18-f4-s0-b89d2475ad69",
                "resnet18-f4-s0-48944f245f26",
            ][..],
        ),
        ("demo-pretrain.toml", &["resnet18-f0-s0-a325c7b90603"][..]),
    ] {
        let g = Grid::from_file(&dir.join(file), &Overrides::default())?;
        let found: Vec<&str> = g.runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(found, ids, "{file}");
        for run in &g.runs {
            let toml = run.config.to_toml()?;
            assert!(!toml.contains("fold"), "{file}: {toml}");
        }
    }
    Ok(())
}

#[test]
fn a_gpu_run_is_its_own_run_and_the_ordinal_is_not_part_of_it() -> TestResult {
    use cxr_models::DeviceSpec;
    let model = "[model]\nname = \"resnet18\"\n";
    let cpu = expand(&format!("{BASE}{model}"))?;
    let explicit_cpu = expand(&format!("{BASE}device = \"cpu\"\n{model}"))?;
    let gpu = expand(&format!("{BASE}device = \"cuda\"\n{model}"))?;
    let gpu1 = expand(&format!("{BASE}device = \"cuda:1\"\n{model}"))?;
    // The CPU default keeps every existing id and stays out of config.toml.
    assert_eq!(explicit_cpu.runs[0].id, cpu.runs[0].id);
    assert!(!cpu.runs[0].config.to_toml()?.contains("device"));
    assert_eq!(cpu.runs[0].config.train.device, DeviceSpec::Cpu);
    // A GPU run has another id, carries the device as an axis value (so reports and baseline
    // keys never pool it with CPU runs) and names it in config.toml without the ordinal.
    assert_ne!(gpu.runs[0].id, cpu.runs[0].id);
    assert_eq!(gpu1.runs[0].id, gpu.runs[0].id);
    assert_eq!(gpu1.runs[0].config.train.device, DeviceSpec::Cuda(1));
    assert!(gpu.runs[0]
        .axes
        .contains(&AxisValue::new("train.device", "cuda")));
    assert!(gpu.axes.iter().any(|a| a == "train.device"));
    let toml = gpu.runs[0].config.to_toml()?;
    assert!(toml.contains("device = \"cuda\""), "{toml}");
    assert_eq!(
        cxr_experiment::RunConfig::from_toml(&toml)?,
        gpu.runs[0].config
    );
    // `--device` replaces the file's setting.
    let overridden = Grid::from_toml(
        &format!("{BASE}{model}"),
        Path::new("experiments/t.toml"),
        &Overrides {
            device: Some(DeviceSpec::Cuda(0)),
            ..Overrides::default()
        },
    )?;
    assert_eq!(overridden.runs[0].id, gpu.runs[0].id);
    // A device axis runs the same cell on both.
    let both = expand(&format!(
        "{BASE}{model}[grid]\n\"train.device\" = [\"cpu\", \"cuda\"]\n"
    ))?;
    let ids: Vec<&str> = both.runs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [cpu.runs[0].id.as_str(), gpu.runs[0].id.as_str()]);
    Ok(())
}

#[test]
fn an_unknown_device_is_one_clear_error() {
    let msg = error_of(&format!(
        "{BASE}device = \"tpu\"\n[model]\nname = \"cnn\"\n"
    ));
    assert_eq!(
        msg,
        "experiments/t.toml: train.device = \"tpu\" is invalid: use \"cpu\", \"cuda\" or \"cuda:N\""
    );
}

/// `weights = "random"` is a deliberate random-init arm (the demo's), which the trainer does not
/// warn about; a ResNet given no weights at all is not (issue 28 item 9).
#[test]
fn random_init_by_name_is_told_apart_from_no_weights() -> TestResult {
    let grid = support::expand_at(
        "g.toml",
        "name = \"g\"\n[data.synthetic]\nper_class = 10\n\
         [[grid]]\nmodel = \"resnet18\"\nweights = [\"random\"]\n\
         [[grid]]\nmodel = \"resnet34\"\n",
    )?;
    let chosen: Vec<(String, bool)> = grid
        .runs
        .iter()
        .map(|r| (r.config.model.name.to_string(), r.random_init_chosen))
        .collect();
    assert_eq!(
        chosen,
        [
            ("resnet18".to_string(), true),
            ("resnet34".to_string(), false)
        ]
    );
    assert!(grid.runs.iter().all(|r| r.config.model.weights.is_none()));
    Ok(())
}
