//! `[data] labels`: a label table as a grid's data, and the settings only it allows.

use std::fmt::Write as _;

use crate::support::{base_grid, error_of, expand_at, TestResult};
use cxr_data::SplitGroup;
use cxr_experiment::{DataSource, StopMetric, Task};

/// A dataset folder with a generic table naming 6 films of 3 patients (the images need not
/// exist to plan: the fingerprint of unreadable images is left out) and the grid path beside it.
fn table_dir(header: &str, rows: &[&str]) -> Result<(tempfile::TempDir, String), std::io::Error> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("films");
    std::fs::create_dir_all(root.join("images"))?;
    let mut csv = format!("{header}\n");
    for row in rows {
        let _ = writeln!(csv, "{row}");
        let file = row.split(',').next().unwrap_or_default();
        std::fs::write(root.join("images").join(file), b"not a png")?;
    }
    std::fs::write(root.join("labels.csv"), csv)?;
    let grid = tmp.path().join("g.toml").to_string_lossy().into_owned();
    Ok((tmp, grid))
}

/// A generic table of 6 films of 3 patients with two findings, several per film.
const TWO_FINDINGS: (&str, &[&str]) = (
    "path,patient,Effusion,Mass",
    &[
        "a.png,1,1,1",
        "b.png,1,0,0",
        "c.png,2,1,0",
        "d.png,2,0,1",
        "e.png,3,0,0",
        "f.png,3,1,0",
    ],
);

const TABLE: &str =
    "\nname = \"t\"\n[data]\nroot = \"films\"\nlabels = \"labels.csv\"\n[model]\nname = \"cnn\"\n";

#[test]
fn a_multi_label_table_defaults_to_multilabel_and_a_split_by_patient() -> TestResult {
    let (_tmp, path) = table_dir(TWO_FINDINGS.0, TWO_FINDINGS.1)?;
    let grid = expand_at(&path, TABLE)?;
    let cfg = &grid.runs[0].config;
    assert_eq!(cfg.train.task, Task::Multilabel);
    assert_eq!(cfg.train.early_stopping, StopMetric::ValMeanAuroc);
    match &cfg.data.source {
        DataSource::Table { group, labels, .. } => {
            assert_eq!(*group, SplitGroup::Patient);
            assert_eq!(labels.to_str(), Some("labels.csv"));
        }
        other => return Err(format!("not a table: {other:?}").into()),
    }
    let film = expand_at(&path, &format!("{TABLE}[split]\ngroup = \"film\"\n"))?;
    assert_ne!(
        film.runs[0].id, grid.runs[0].id,
        "the group is part of the run's identity"
    );
    Ok(())
}

#[test]
fn a_single_label_table_without_patients_is_multiclass_by_film() -> TestResult {
    let (_tmp, path) = table_dir("path,label", &["a.png,x", "b.png,y", "c.png,x"])?;
    let cfg = expand_at(&path, TABLE)?.runs.remove(0).config;
    assert_eq!(cfg.train.task, Task::Multiclass);
    assert!(matches!(
        cfg.data.source,
        DataSource::Table {
            group: SplitGroup::Film,
            ..
        }
    ));
    let err = error_of(expand_at(
        &path,
        &format!("{TABLE}[split]\ngroup = \"patient\"\n"),
    ));
    assert!(
        err.contains("split.group") && err.contains("no patient column"),
        "{err}"
    );
    Ok(())
}

#[test]
fn table_settings_without_a_table_and_table_errors_are_refused() -> TestResult {
    // `base_grid!` ends inside `[train]`: a line without a table header is a train key.
    for (extra, words) in [
        (
            "[split]\ngroup = \"patient\"\n",
            &["split.group", "label table"][..],
        ),
        (
            "task = \"multilabel\"\n",
            &["train.task", "label table"][..],
        ),
        (
            "[data]\nfindings = [\"Mass\"]\n",
            &["data.findings", "data.labels"][..],
        ),
        (
            "early_stopping = \"val_mean_auroc\"\n",
            &["multi-label"][..],
        ),
        ("uncertain = \"ones\"\n", &["train.uncertain"][..]),
    ] {
        let text = format!("{}{extra}[model]\nname = \"cnn\"\n", base_grid!("s"));
        let err = error_of(expand_at("/x/g.toml", &text));
        for w in words {
            assert!(err.contains(w), "{extra}: {err}");
        }
    }
    let (_tmp, path) = table_dir("path,patient,Effusion", &["a.png,1,2"])?;
    let err = error_of(expand_at(&path, TABLE));
    assert!(
        err.contains("labels.csv:2:") && err.contains("data.labels"),
        "{err}"
    );
    let err = error_of(expand_at(&path, &TABLE.replace("labels.csv", "nope.csv")));
    assert!(err.contains("label table not found"), "{err}");
    Ok(())
}

#[test]
fn multi_label_runs_plan_one_vs_rest_classic_heads_and_calibrate_per_finding() -> TestResult {
    let (_tmp, path) = table_dir(
        "path,patient,Effusion,Mass",
        &["a.png,1,1,1", "b.png,1,0,0", "c.png,2,1,0", "d.png,2,0,1"],
    )?;
    // A classic head plans for several findings (one head per finding, one-vs-rest) as for
    // one class per film; calibration plans either way.
    let multi = expand_at(&path, &format!("{TABLE}head = \"logistic\"\n"))?;
    assert_eq!(
        multi.runs[0].config.train.task,
        cxr_experiment::Task::Multilabel
    );
    let single = format!("{TABLE}head = \"logistic\"\n[train]\ntask = \"multiclass\"\n");
    assert_eq!(expand_at(&path, &single)?.runs.len(), 1);
    let calibrated = format!("{TABLE}[train]\ncalibrate = true\n");
    assert!(
        expand_at(&path, &calibrated)?.runs[0]
            .config
            .train
            .calibrate
    );
    Ok(())
}

#[test]
fn a_source_run_on_the_same_table_split_another_way_is_a_leak() -> TestResult {
    let (tmp, path) = table_dir(TWO_FINDINGS.0, TWO_FINDINGS.1)?;
    let source = TABLE.replace("name = \"t\"", "name = \"src\"");
    let by_film = format!("{source}[split]\ngroup = \"film\"\n");
    std::fs::write(tmp.path().join("src.toml"), &by_film)?;
    let taking = format!("{TABLE}weights = \"s\"\n[pretrained.s]\ngrid = \"src.toml\"\n");
    let err = error_of(expand_at(&path, &taking));
    assert!(
        err.contains("model.weights") && err.contains("split by film there, by patient here"),
        "{err}"
    );
    // Split the same way, the source's training films are this run's training films.
    std::fs::write(tmp.path().join("src.toml"), &source)?;
    assert_eq!(expand_at(&path, &taking)?.runs.len(), 1);
    Ok(())
}
