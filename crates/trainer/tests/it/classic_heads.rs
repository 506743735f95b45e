//! Classic heads in a sweep: a CNN trained on phantoms, then every classic head fitted on its
//! frozen features (and on a random ResNet18's), recorded like any classifier run.

use std::path::Path;

use cxr_experiment::{Grid, Overrides};
use cxr_results::{read_features, read_summary, GridDir, RunDir};
use cxr_trainer::{sweep, Silent};

use crate::support::{options, TestResult};

const COMMON: &str = "[data]\nimage_size = 32\n[data.synthetic]\nper_class = 12\nsize = 32\n\
                      [train]\nmax_epochs = 2\npatience = 2\nbatch_size = 8\n";

fn grid(dir: &Path) -> Result<Grid, Box<dyn std::error::Error>> {
    std::fs::write(
        dir.join("cnn.toml"),
        format!("name = \"cnn\"\n{COMMON}[model]\nname = \"cnn\"\n"),
    )?;
    std::fs::write(
        dir.join("heads.toml"),
        format!(
            "name = \"heads\"\n{COMMON}[pretrained.trained]\ngrid = \"cnn.toml\"\n\
             [heads.random_forest]\ntrees = [10]\n\
             [[grid]]\nmodel = \"cnn\"\nweights = \"trained\"\n\
             head = [\"logistic\", \"svm_linear\", \"svm_rbf\", \"random_forest\", \"knn\"]\n\
             [[grid]]\nmodel = \"resnet18\"\nhead = \"logistic\"\n"
        ),
    )?;
    Ok(Grid::from_file(
        &dir.join("heads.toml"),
        &Overrides::default(),
    )?)
}

#[test]
fn classic_heads_record_test_results_a_fit_time_and_features_but_no_epochs() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = grid(tmp.path())?;
    let report = sweep(&grid, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!((report.ran.len(), report.failed()), (6, 0));

    let dir = GridDir::new(&tmp.path().join("results"), "heads");
    let rows = read_summary(&dir.summary_path())?;
    assert_eq!(rows.len(), 6);
    let images = 4 * 12; // the synthetic set's 4 classes
    for row in &rows {
        assert!(row.is_classic_head(), "{}", row.run_id);
        assert_eq!(row.status, "ok", "{}: {}", row.run_id, row.error);
        assert_eq!(row.epochs_run, None, "a classic head has no epochs");
        assert_eq!(row.epochs_to_converge, None);
        assert_eq!(row.epoch_time_s, None);
        assert!(row.fit_time_s.is_some_and(|t| t > 0.0));
        assert!(row.head_params.is_some());
        let micro = row.test_micro_recall.ok_or("no recall")?;
        assert!((0.0..=1.0).contains(&micro));
        assert!(row.test_micro_recall_low.is_some());
        assert!(row.trainable_params > 0);

        let run = dir.run(&row.run_id);
        assert!(run.per_class_path().is_file() && run.confusion_path().is_file());
        assert!(!run.history_path().exists() && !run.model_path().exists());
        // The fitted head, read back, with what its features came from.
        let bytes = std::fs::read(run.head_path())?;
        let head = cxr_heads::FittedHead::from_bytes(&bytes)?;
        assert_eq!(Some(head.hyper().to_string()), row.head_params);
        assert_eq!(head.classes(), 4);
        let notes = cxr_heads::read_notes(&bytes)?;
        assert_eq!(notes.get("backbone.model"), Some(&row.model));
        let features = read_features(&run.features_path())?;
        assert_eq!(features.len(), images);
        assert_eq!(
            features.dim, 512,
            "the cnn's and resnet18's pooled features"
        );
        let test = features.splits.iter().filter(|s| *s == "test").count() as i64;
        assert_eq!(Some(test), row.test_images);
        // Predicted classes for the paired tests, and every head's probabilities (so ECE).
        let predictions = run.read_predictions()?;
        assert_eq!(predictions.len() as i64, test);
        for p in &predictions {
            let probabilities = p.probabilities.as_ref().ok_or("no probabilities")?;
            let total: f32 = probabilities.iter().sum();
            assert!(
                (total - 1.0).abs() < 1e-4,
                "{}: {probabilities:?}",
                row.run_id
            );
        }
        assert!(row.test_ece.is_some(), "{}", row.run_id);
    }
    // The CNN's heads all read the same features: the trained source CNN's, fully frozen.
    let cnn: Vec<&str> = rows
        .iter()
        .filter(|r| r.model == "cnn")
        .map(|r| r.run_id.as_str())
        .collect();
    assert_eq!(cnn.len(), 5);
    let first = read_features(&dir.run(cnn[0]).features_path())?;
    for id in &cnn[1..] {
        assert_eq!(read_features(&dir.run(id).features_path())?, first);
    }

    // A rerun fits nothing again.
    let again = sweep(&grid, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!((again.ran.len(), again.skipped), (0, 6));
    Ok(())
}

#[test]
fn same_seed_same_head_predictions() -> TestResult {
    let run_confusions = |tmp: &Path| -> Result<Vec<String>, Box<dyn std::error::Error>> {
        let grid = grid(tmp)?;
        sweep(&grid, &options(tmp), &mut Silent::each)?;
        let dir = GridDir::new(&tmp.join("results"), "heads");
        grid.runs
            .iter()
            .map(|r| {
                let run: RunDir = dir.run(&r.id);
                Ok(format!(
                    "{:?}",
                    cxr_results::read_confusion(&run.confusion_path())?
                ))
            })
            .collect()
    };
    let a = tempfile::tempdir()?;
    let b = tempfile::tempdir()?;
    assert_eq!(run_confusions(a.path())?, run_confusions(b.path())?);
    Ok(())
}
