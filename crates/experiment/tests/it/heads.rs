//! The `head` setting and axis: classic heads on a fully frozen backbone, their declared
//! hyperparameter values, and the settings they refuse.

use std::path::Path;

use cxr_experiment::{Grid, HeadKind, HeadSearch, Overrides};

use crate::support::{self, needs_shared_data, TestResult};

const BASE: &str = r#"
name = "heads"
[data.synthetic]
per_class = 20
"#;

fn grid(text: &str) -> Result<Grid, cxr_experiment::ExperimentError> {
    support::expand_at("experiments/heads.toml", &format!("{BASE}{text}"))
}

fn error_of(text: &str) -> String {
    support::error_of(grid(text))
}

#[test]
fn a_classic_head_freezes_the_whole_backbone_and_names_itself_in_the_run_id() -> TestResult {
    let g = grid(
        "[grid]\nmodel = [\"cnn\", \"resnet18\"]\nhead = [\"linear\", \"logistic\", \"knn\"]\n",
    )?;
    let cells: Vec<(String, usize, &str)> = g
        .runs
        .iter()
        .map(|r| {
            let m = &r.config.model;
            (m.name.to_string(), m.freeze, m.head_name())
        })
        .collect();
    let expected = [
        ("cnn", 0, "linear"),
        ("cnn", 5, "logistic"),
        ("cnn", 5, "knn"),
        ("resnet18", 0, "linear"),
        ("resnet18", 4, "logistic"),
        ("resnet18", 4, "knn"),
    ];
    let expected: Vec<(String, usize, &str)> = expected
        .iter()
        .map(|(m, f, h)| (m.to_string(), *f, *h))
        .collect();
    assert_eq!(cells, expected);
    assert!(
        g.runs[4].id.starts_with("resnet18-f4-logistic-s0-"),
        "{}",
        g.runs[4].id
    );
    // The linear head is the default and is left out of the config: ids predate the setting.
    assert!(
        g.runs[3].id.starts_with("resnet18-f0-s0-"),
        "{}",
        g.runs[3].id
    );
    assert!(!g.runs[3].config.to_json()?.contains("\"head\""));
    assert_eq!(
        g.runs[4].config.model.head,
        Some(HeadSearch::default_for(HeadKind::Logistic))
    );
    Ok(())
}

#[test]
fn declared_values_are_replaced_by_heads_tables_and_change_the_run_id() -> TestResult {
    let plain = grid("[model]\nname = \"resnet18\"\nhead = \"svm_rbf\"\n")?;
    let tuned = grid(
        "[model]\nname = \"resnet18\"\nhead = \"svm_rbf\"\n[heads.svm_rbf]\nc = [0.5, 5.0]\n",
    )?;
    match &tuned.runs[0].config.model.head {
        Some(HeadSearch::SvmRbf { c, gamma_scale }) => {
            assert_eq!(c, &[0.5, 5.0]);
            // Not given: the declared values stay.
            let Some(HeadSearch::SvmRbf {
                gamma_scale: declared,
                ..
            }) = Some(HeadSearch::default_for(HeadKind::SvmRbf))
            else {
                unreachable!()
            };
            assert_eq!(gamma_scale, &declared);
        }
        other => panic!("expected an svm_rbf head, got {other:?}"),
    }
    assert_ne!(plain.runs[0].id, tuned.runs[0].id);
    // A round trip through config.toml keeps the head.
    let text = tuned.runs[0].config.to_toml()?;
    assert_eq!(
        cxr_experiment::RunConfig::from_toml(&text)?,
        tuned.runs[0].config
    );
    Ok(())
}

#[test]
fn head_mistakes_are_one_clear_line_naming_the_setting() {
    let cases = [
        (
            "[model]\nname = \"resnet18\"\nfreeze = 2\nhead = \"logistic\"\n",
            &["model.freeze", "fully frozen backbone", "freeze = 4"][..],
        ),
        (
            "[model]\nname = \"resnet18\"\nhead = \"svm\"\n",
            &["model.head", "unknown head", "svm_linear"][..],
        ),
        (
            "[model]\nname = \"cnn\"\nfreeze = 5\n",
            &["model.freeze", "classic heads"][..],
        ),
        (
            "[model]\nname = \"resnet18\"\nfreeze = \"most\"\n",
            &["model.freeze", "\"all\""][..],
        ),
        (
            "[model]\nname = \"resnet18\"\nhead = \"knn\"\n[heads.knn]\nc = [1.0]\n",
            &["heads.knn.c", "knn takes no c", "k"][..],
        ),
        (
            "[model]\nname = \"resnet18\"\nhead = \"knn\"\n[heads.knn]\nk = [0]\n",
            &["heads.knn"][..],
        ),
        (
            "[model]\nname = \"resnet18\"\nhead = \"knn\"\n[train]\nobjective = \"autoencoder\"\n",
            &["model.head", "autoencoder"][..],
        ),
        (
            "[model]\nname = \"resnet18\"\n[heads.svm]\nc = [1.0]\n",
            &["line 7", "unknown variant `svm`", "svm_linear"][..],
        ),
    ];
    for (text, needles) in cases {
        let msg = error_of(text);
        eprintln!("{msg}");
        assert!(!msg.contains('\n'), "{text}: not one line: {msg}");
        for needle in needles {
            assert!(msg.contains(needle), "{text}: {needle:?} not in: {msg}");
        }
    }
}

#[test]
fn freeze_all_is_the_whole_backbone() -> TestResult {
    let g = grid("[model]\nname = \"resnet34\"\nfreeze = \"all\"\nhead = \"random_forest\"\n")?;
    assert_eq!(g.runs[0].config.model.freeze, 4);
    let g = grid("[model]\nname = \"cnn\"\nfreeze = \"all\"\nhead = \"logistic\"\n")?;
    assert_eq!(g.runs[0].config.model.freeze, 5);
    Ok(())
}

const CNN_SOURCE: &str = r#"
name = "cnn-source"
[data.synthetic]
per_class = 20
[grid]
seed = [0, 1]
model = "cnn"
"#;

#[test]
fn a_backbone_trained_on_this_data_must_share_the_split() -> TestResult {
    let tmp = tempfile::tempdir()?;
    std::fs::write(tmp.path().join("source.toml"), CNN_SOURCE)?;
    let heads = |extra: &str| -> Result<Grid, Box<dyn std::error::Error>> {
        let text = format!(
            "{BASE}[model]\nname = \"cnn\"\nhead = \"logistic\"\nweights = {{ grid = \"source.toml\"{extra} }}\n[grid]\nseed = [0, 1]\n"
        );
        let path = tmp.path().join("heads.toml");
        std::fs::write(&path, text)?;
        Ok(Grid::from_file(&path, &Overrides::default())?)
    };
    // Each seed takes the source run of its own seed: same data, same split.
    let g = heads("")?;
    assert_eq!(g.runs.len(), 2);
    // Pinning the seed-0 source for the seed-1 run would test it on images the CNN trained on.
    let msg = heads(", seed = 0")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("model.weights"), "{msg}");
    assert!(msg.contains("seed 0 there, 1 here"), "{msg}");
    assert!(msg.contains("test images"), "{msg}");
    Ok(())
}

/// On the data in `../shared/data`: ignored by a plain `cargo test`, run by `just test` where the
/// folder exists (`cargo test -- --ignored shared_data::`).
mod shared_data {
    use super::*;

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn shipped_heads_grid_covers_every_head_on_each_backbone() -> TestResult {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        needs_shared_data(&["TB_Chest_Source", "COVID-19_Radiography_Dataset"])?;
        let grid = Grid::from_file(&dir.join("experiments/heads.toml"), &Overrides::default())?;
        let stages: Vec<&str> = grid.stages().iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            stages,
            ["heads-cnn", "pretrain-tb", "pretrain-tb-ae", "heads"]
        );
        // 3 seeds x (the CNN x 5 classic heads + resnet18 x 3 starts x (linear + 5 classic), and
        // the linear head once more with a longer budget).
        assert_eq!(grid.runs.len(), 3 * (5 + 3 * 6 + 3));
        for kind in HeadKind::ALL {
            assert!(grid
                .runs
                .iter()
                .any(|r| r.config.model.name.is_resnet()
                    && r.config.model.head_name() == kind.name()));
        }
        Ok(())
    }
}
