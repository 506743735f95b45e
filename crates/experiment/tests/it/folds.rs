//! k-fold cross-validation as a grid axis: `[split] folds = k` expands each cell into k runs,
//! `fold` in `[grid]` runs some of them, and every mistake is one line naming the setting.

use cxr_experiment::{
    sbatch_script, FoldSplit, Grid, Overrides, RunConfig, SlurmOptions, SlurmResources,
    SplitSettings, Weights,
};

use crate::support::{self, base_grid, TestResult};

const BASE: &str = base_grid!("cv");

fn expand(text: &str) -> Result<Grid, cxr_experiment::ExperimentError> {
    support::expand_at("experiments/cv.toml", text)
}

fn error_of(text: &str) -> String {
    support::error_of(expand(text))
}

#[test]
fn folds_make_one_run_per_test_fold_varying_fastest() -> TestResult {
    let g = expand(&format!(
        "{BASE}[split]\nfolds = 3\nval = 0.2\n[grid]\nmodel = [\"cnn\", \"resnet18\"]\n"
    ))?;
    let cells: Vec<(String, Option<usize>)> = g
        .runs
        .iter()
        .map(|r| {
            (
                r.config.model.name.to_string(),
                r.config.split.fold().map(|f| f.fold),
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            ("cnn".to_string(), Some(0)),
            ("cnn".into(), Some(1)),
            ("cnn".into(), Some(2)),
            ("resnet18".into(), Some(0)),
            ("resnet18".into(), Some(1)),
            ("resnet18".into(), Some(2)),
        ]
    );
    assert_eq!(g.axes, ["model.name", "split.fold"]);
    assert_eq!(
        g.runs.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    let run = &g.runs[4];
    assert_eq!(
        run.config.split,
        SplitSettings::Fold(FoldSplit {
            val: 0.2,
            folds: 3,
            fold: 1
        })
    );
    assert_eq!(
        run.axes.last().map(|a| a.to_string()),
        Some("split.fold=1".into())
    );
    assert!(run.id.starts_with("resnet18-f0-s0-fold1-"), "{}", run.id);
    // config.toml names the fold and leaves out the fractions that have no meaning here.
    let toml = run.config.to_toml()?;
    assert!(
        toml.contains("[split]\nval = 0.2\nfolds = 3\nfold = 1\n"),
        "{toml}"
    );
    assert!(
        !toml.contains("train = 0.") && !toml.contains("test = 0."),
        "{toml}"
    );
    assert_eq!(RunConfig::from_toml(&toml)?, run.config);
    // The folds of a configuration are distinct runs with distinct ids.
    let mut ids: Vec<&str> = g.runs.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 6);
    Ok(())
}

#[test]
fn a_fold_axis_runs_some_folds_and_still_varies_fastest() -> TestResult {
    // Listed first, the fold still varies fastest: a configuration's folds stay neighbours.
    let g = expand(&format!(
        "{BASE}[model]\nname = \"cnn\"\n[split]\nfolds = 5\n[grid]\nfold = [0, 2]\nseed = [1, 2]\n"
    ))?;
    let cells: Vec<(u64, usize)> = g
        .runs
        .iter()
        .map(|r| (r.config.seed, r.config.split.fold().map_or(99, |f| f.fold)))
        .collect();
    assert_eq!(cells, [(1, 0), (1, 2), (2, 0), (2, 2)]);
    assert_eq!(g.axes, ["seed", "split.fold"]);
    assert!(
        g.runs[3].id.starts_with("cnn-f0-s2-fold2-"),
        "{}",
        g.runs[3].id
    );
    Ok(())
}

#[test]
fn a_folds_axis_expands_each_cell_by_its_own_count() -> TestResult {
    let g = expand(&format!(
        "{BASE}[model]\nname = \"cnn\"\n[grid]\n\"split.folds\" = [2, 3]\n"
    ))?;
    let cells: Vec<(usize, usize)> = g
        .runs
        .iter()
        .filter_map(|r| r.config.split.fold().map(|f| (f.folds, f.fold)))
        .collect();
    assert_eq!(cells, [(2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]);
    Ok(())
}

#[test]
fn the_cnn_freeze_note_names_a_cell_once_not_once_per_fold() -> TestResult {
    let g = expand(&format!(
        "{BASE}[split]\nfolds = 4\n[grid]\nmodel = [\"cnn\"]\nfreeze = [0, 2]\n"
    ))?;
    assert_eq!(g.runs.len(), 4);
    assert_eq!(
        g.notes,
        ["cnn has no stages to freeze: model.name=cnn, model.freeze=2 run as freeze = 0 (once per other setting)"]
    );
    Ok(())
}

#[test]
fn fold_mistakes_are_one_line_naming_the_setting() {
    let cnn = format!("{BASE}[model]\nname = \"cnn\"\n");
    assert_eq!(
        error_of(&format!("{cnn}[split]\nfolds = 5\ntrain = 0.7\n")),
        "experiments/cv.toml: split.train = 0.7 is invalid: with split.folds = 5 each run tests \
         on one fold (1/5 of each class) and trains on the rest: leave split.train and \
         split.test out"
    );
    assert_eq!(
        error_of(&format!("{cnn}[split]\nfolds = 5\ntest = 0.2\n")),
        "experiments/cv.toml: split.test = 0.2 is invalid: with split.folds = 5 each run tests \
         on one fold (1/5 of each class) and trains on the rest: leave split.train and \
         split.test out"
    );
    assert_eq!(
        error_of(&format!("{cnn}[grid]\nfold = [0, 1]\n")),
        "experiments/cv.toml: split.fold = 0 is invalid: a fold is one of k cross-validation \
         folds: set [split] folds = k, or leave fold out"
    );
    assert_eq!(
        error_of(&format!("{cnn}[split]\nfolds = 3\n[grid]\nfold = [1, 3]\n")),
        "experiments/cv.toml: split.fold = 3 is invalid: allowed range is 0..=2 (split.folds = 3)"
    );
    assert_eq!(
        error_of(&format!("{cnn}[split]\nfolds = 1\n")),
        "experiments/cv.toml: split.folds = 1 is invalid: allowed range is 2..=1000"
    );
    assert_eq!(
        error_of(&format!("{cnn}[split]\nfolds = 2\nval = 0.5\n")),
        "experiments/cv.toml: split.val = 0.5 is invalid: with split.folds = 2 validation is \
         carved from the other folds (0.500 of each class): allowed range is (0, 0.500), \
         leaving training images"
    );
    let msg = error_of(&format!("{cnn}[grid]\nfold = [\"a\"]\n"));
    assert!(msg.contains("line") && msg.contains("split.fold"), "{msg}");
}

#[test]
fn config_toml_split_is_fractions_or_a_fold_never_a_mix() -> TestResult {
    let g = expand(&format!(
        "{BASE}[model]\nname = \"cnn\"\n[split]\nfolds = 2\n"
    ))?;
    let toml = g.runs[0].config.to_toml()?;
    let mixed = toml.replace("folds = 2\n", "folds = 2\ntrain = 0.5\n");
    let err = RunConfig::from_toml(&mixed).err().map(|e| e.to_string());
    let msg = err.unwrap_or_default();
    assert!(
        msg.contains("either train, val and test, or val, folds and fold"),
        "{msg}"
    );
    let unknown = toml.replace("folds = 2\n", "folds = 2\nrepeats = 3\n");
    let msg = RunConfig::from_toml(&unknown)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("unknown field `repeats`"), "{msg}");
    Ok(())
}

#[test]
fn slurm_array_and_cell_indices_count_every_fold() -> TestResult {
    let g = expand(&format!(
        "{BASE}[split]\nfolds = 3\n[grid]\nmodel = [\"cnn\", \"resnet18\"]\n"
    ))?;
    let script = sbatch_script(
        &g,
        &SlurmOptions {
            cxr: "cxr".into(),
            workdir: ".".into(),
            results: "results".into(),
            shared_args: Vec::new(),
            grid_args: Vec::new(),
            script: "cv.sh".into(),
            resources: SlurmResources::default(),
        },
    );
    assert!(script.contains("#SBATCH --array=0-5\n"), "{script}");
    // Array task (= `--cell`) 4 is the resnet18's fold 1.
    let task = script
        .lines()
        .find(|l| l.ends_with("  # 4"))
        .ok_or("no line for task 4")?;
    assert_eq!(
        task.split_whitespace().next(),
        Some(g.runs[4].id.as_str()),
        "{task}"
    );
    assert!(g.runs[4].id.starts_with("resnet18-f0-s0-fold1-"));
    Ok(())
}

const CV_SOURCE: &str = r#"
name = "cv-source"
[data.synthetic]
per_class = 20
[model]
name = "cnn"
[split]
folds = 3
"#;

#[test]
fn a_source_on_this_data_is_taken_from_the_same_fold_and_another_fold_is_a_leak() -> TestResult {
    let tmp = tempfile::tempdir()?;
    std::fs::write(tmp.path().join("source.toml"), CV_SOURCE)?;
    let target = |split: &str, extra: &str| -> Result<Grid, Box<dyn std::error::Error>> {
        let text = format!(
            "{BASE}[model]\nname = \"cnn\"\nhead = \"logistic\"\nweights = {{ grid = \"source.toml\"{extra} }}\n{split}"
        );
        let path = tmp.path().join("target.toml");
        std::fs::write(&path, text)?;
        Ok(Grid::from_file(&path, &Overrides::default())?)
    };
    // Each fold takes the source run of its own fold: same data, same partition, same fold.
    let g = target("[split]\nfolds = 3\n", "")?;
    let source = &g.sources[0];
    assert_eq!(g.runs.len(), 3);
    for (run, from) in g.runs.iter().zip(&source.runs) {
        let expected = Weights::Run {
            grid: "cv-source".into(),
            run: from.id.clone(),
        };
        assert_eq!(run.config.model.weights.as_ref(), Some(&expected));
        assert_eq!(run.config.split, from.config.split);
    }
    // Pinning fold 0's source for every fold tests folds 1 and 2 on images it trained on.
    let fold0 = source.runs[0].id.clone();
    let msg = target("[split]\nfolds = 3\n", &format!(", run = \"{fold0}\""))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(msg.contains("model.weights"), "{msg}");
    assert!(
        msg.contains("another split (fold 0 of 3 (val 0.1) there, fold 1 of 3 (val 0.1) here)"),
        "{msg}"
    );
    // A run on one split by fractions is no fold of the source's partition.
    let msg = target("", &format!(", run = \"{fold0}\""))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        msg.contains("fold 0 of 3 (val 0.1) there, train/val/test 0.7/0.1/0.2 here"),
        "{msg}"
    );
    Ok(())
}
