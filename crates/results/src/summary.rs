//! `summary.parquet`: one row per finished run, in each run folder and merged per grid.

use std::path::Path;

use crate::axes::{AxisValue, LINEAR_HEAD};

use crate::error::{Result, ResultsError};
use crate::layout::GridDir;
use crate::table::{read_rows, write_rows, Table};

/// Run status values in the `status` column.
pub mod status {
    /// Trained and evaluated.
    pub const OK: &str = "ok";
    /// Stopped by an error (e.g. a diverging loss); `error` says why.
    pub const FAILED: &str = "failed";
}

/// Values of the `objective` column (the names of `cxr_experiment::Objective`).
pub mod objective {
    /// A classifier (also what a null `objective` means).
    pub const CLASSIFY: &str = "classify";
    /// Self-supervised autoencoder pretraining.
    pub const AUTOENCODER: &str = "autoencoder";
}

/// Values of the `task` column.
pub mod task {
    /// A logit per finding, several findings per film.
    pub const MULTILABEL: &str = "multilabel";
}

crate::table! {
    /// One row of `summary.parquet`: a finished run.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct RunSummary {
        /// Stable run id.
        pub run_id: String,
        /// Grid name.
        pub grid: String,
        /// Architecture (`cnn`, `resnet18`, ...).
        pub model: String,
        /// Frozen stages.
        pub freeze: i64,
        /// Run seed.
        pub seed: i64,
        /// The test fold of a cross-validation run (`0..folds`); null when the run used one
        /// split by fractions, and in files written before cross-validation existed.
        pub fold: Option<i64>,
        /// The number of cross-validation folds; null when not cross-validating.
        pub folds: Option<i64>,
        /// Training image side length.
        pub image_size: i64,
        /// The run's value on each grid axis, in axis order (a list of `{setting, value}`).
        pub axes: Vec<AxisValue>,
        /// Adam learning rate.
        pub lr: f64,
        /// Batch size.
        pub batch_size: i64,
        /// Epoch sampler.
        pub sampler: String,
        /// The device it trained on: `cpu` or `cuda:N`. Null in files written before the
        /// column existed, which were all trained on the CPU ([`RunSummary::device_name`]).
        pub device: Option<String>,
        /// Started from pretrained weights.
        pub pretrained: bool,
        /// What the run trained ([`objective`]): `classify`, or `autoencoder` (pretraining
        /// without labels: no recall, `test_loss` is the reconstruction MSE). Null in files
        /// written before the column existed, which hold classify runs only.
        pub objective: Option<String>,
        /// The classifier on the backbone's features: `linear` (the network's `fc`, trained by
        /// Adam) or a classic head fitted on the frozen backbone's pooled features (`logistic`,
        /// `svm_linear`, `svm_rbf`, `random_forest`, `knn`). Null in files written before the
        /// column existed, which hold linear heads only.
        pub head: Option<String>,
        /// A classic head's hyperparameters as chosen on the validation split (`c=0.1`,
        /// `c=1, gamma_scale=0.1`, `trees=300`, `k=5`); null for the linear head.
        pub head_params: Option<String>,
        /// `ok` or `failed` ([`status`]).
        pub status: String,
        /// Why a failed run failed; empty when ok.
        pub error: String,
        /// Epochs trained (null for a classic head, which has no epochs).
        pub epochs_run: Option<i64>,
        /// 1-based epoch of the kept weights (null for a classic head: it is fitted to
        /// convergence by its own solver, so the number means nothing there).
        pub epochs_to_converge: Option<i64>,
        /// Mean training wall time per epoch, seconds (null for a classic head).
        pub epoch_time_s: Option<f64>,
        /// Mean validation wall time per epoch, seconds.
        pub eval_time_s: Option<f64>,
        /// Wall time of the whole run (data, training, evaluation, writing), seconds.
        pub total_time_s: Option<f64>,
        /// Wall time of the one-time frozen-prefix pass (null when the cache was not used), or
        /// for a classic head of computing every image's pooled features, seconds.
        pub prefix_time_s: Option<f64>,
        /// A classic head's fit: every hyperparameter candidate fitted on the training
        /// features and scored on the validation features, seconds (null for the linear head).
        pub fit_time_s: Option<f64>,
        /// Parameters the optimiser updates; for a classic head, the numbers its fit holds
        /// (weights of a linear model, support vectors of an SVM, tree nodes, kNN's stored
        /// training features).
        pub trainable_params: i64,
        /// All parameters (the backbone's and, for a classic head, the head's fitted numbers).
        pub total_params: i64,
        /// Test micro-recall (accuracy) with the kept weights.
        pub test_micro_recall: Option<f64>,
        /// Test macro-recall with the kept weights.
        pub test_macro_recall: Option<f64>,
        /// Lower bound of the 95% bootstrap interval of test micro-recall (test images resampled).
        pub test_micro_recall_low: Option<f64>,
        /// Upper bound of the 95% bootstrap interval of test micro-recall.
        pub test_micro_recall_high: Option<f64>,
        /// Lower bound of the 95% bootstrap interval of test macro-recall.
        pub test_macro_recall_low: Option<f64>,
        /// Upper bound of the 95% bootstrap interval of test macro-recall.
        pub test_macro_recall_high: Option<f64>,
        /// Test loss with the kept weights: mean cross-entropy, or for an autoencoder run the
        /// mean squared reconstruction error per pixel (of the normalised image).
        pub test_loss: Option<f64>,
        /// Expected calibration error (15 confidence bins) of the test split's probabilities,
        /// temperature-scaled when the run was calibrated; null for runs without probabilities
        /// (autoencoders, classic heads fitted before heads had probabilities) and files from
        /// before the column.
        pub test_ece: Option<f64>,
        /// The temperature fitted on the validation split (`train.calibrate = true`); null for
        /// runs trained without calibration, whose probabilities are the plain softmax.
        pub temperature: Option<f64>,
        /// A calibrated run's test ECE before temperature scaling (the plain softmax's); null
        /// for runs trained without calibration, whose `test_ece` is that already.
        pub test_ece_uncalibrated: Option<f64>,
        /// Validation micro-recall with the kept weights.
        pub val_micro_recall: Option<f64>,
        /// Validation macro-recall with the kept weights.
        pub val_macro_recall: Option<f64>,
        /// Number of test images.
        pub test_images: Option<i64>,
        /// `multilabel` for a run with a logit per finding (`per_finding.parquet`); null for
        /// one class per image (and in files written before the column).
        pub task: Option<String>,
        /// A multi-label run's headline: test AUROC averaged over the findings it is defined
        /// for (a positive and a negative test film).
        pub test_mean_auroc: Option<f64>,
        /// Lower bound of its 95% bootstrap interval (patients resampled when the table names
        /// them).
        pub test_mean_auroc_low: Option<f64>,
        /// Upper bound of that interval.
        pub test_mean_auroc_high: Option<f64>,
        /// Validation mean AUROC of the kept weights (what early stopping followed by default).
        pub val_mean_auroc: Option<f64>,
        /// Patients in the training split, for a label table that names patients.
        pub train_patients: Option<i64>,
        /// Patients in the validation split.
        pub val_patients: Option<i64>,
        /// Patients in the test split.
        pub test_patients: Option<i64>,
        /// The resolved run config as JSON, for any setting not given its own column.
        pub config_json: String,
    }
}

impl RunSummary {
    /// Whether this is an autoencoder (pretraining) run: no recall, `test_loss` is the
    /// reconstruction error. Reports list these apart from the classifiers.
    pub fn is_autoencoder(&self) -> bool {
        self.objective.as_deref() == Some(objective::AUTOENCODER)
    }

    /// Whether the run predicts several findings per film (`per_finding.parquet`, mean AUROC).
    pub fn is_multilabel(&self) -> bool {
        self.task.as_deref() == Some(task::MULTILABEL)
    }

    /// Whether the run fitted a classic head on frozen features (any head but `linear`): no
    /// epochs, a fit time instead.
    pub fn is_classic_head(&self) -> bool {
        self.head.as_deref().is_some_and(|h| h != LINEAR_HEAD)
    }

    /// The training device, `cpu` where the column is null (files from before it existed).
    pub fn device_name(&self) -> &str {
        self.device.as_deref().unwrap_or("cpu")
    }

    /// The head's name, `linear` where the column is null (files from before it existed).
    pub fn head_name(&self) -> &str {
        self.head.as_deref().unwrap_or(LINEAR_HEAD)
    }
}

/// The columns of `summary.parquet`, in order.
pub fn summary_columns() -> Vec<String> {
    RunSummary::COLUMNS.iter().map(|c| c.to_string()).collect()
}

/// Writes a `summary.parquet` (one row per run).
pub(crate) fn write_summary(path: &Path, rows: &[RunSummary]) -> Result<()> {
    write_rows(path, &[], rows)
}

/// Reads a `summary.parquet` back into rows.
pub fn read_summary(path: &Path) -> Result<Vec<RunSummary>> {
    read_rows(path)
}

/// Rebuilds `<grid>/summary.parquet` from every finished run folder, under a file lock so that
/// cells finishing in separate processes never overwrite each other's rows. Returns the number
/// of runs merged.
pub fn merge_summaries(grid: &GridDir) -> Result<usize> {
    std::fs::create_dir_all(grid.path()).map_err(ResultsError::io(grid.path()))?;
    let lock_path = grid.lock_path();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(ResultsError::io(&lock_path))?;
    lock.lock().map_err(ResultsError::io(&lock_path))?;
    let mut rows = Vec::new();
    for run in grid.runs()? {
        if run.is_finished() {
            rows.extend(read_summary(&run.summary_path())?);
        }
    }
    write_summary(&grid.summary_path(), &rows)?;
    lock.unlock().map_err(ResultsError::io(&lock_path))?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_tables::write_history;

    fn row(id: &str, micro: Option<f64>) -> RunSummary {
        RunSummary {
            run_id: id.into(),
            grid: "g".into(),
            model: "cnn".into(),
            fold: Some(1),
            folds: Some(5),
            axes: vec![
                AxisValue::new("model.name", "cnn"),
                AxisValue::new("train.lr", "0.001"),
            ],
            status: status::OK.into(),
            objective: Some(objective::CLASSIFY.into()),
            test_micro_recall: micro,
            epochs_run: Some(3),
            trainable_params: 1_606_916,
            ..Default::default()
        }
    }

    #[test]
    fn summary_round_trip_keeps_nulls() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("summary.parquet");
        let rows = vec![row("a", Some(0.75)), row("b", None)];
        write_summary(&path, &rows)?;
        assert_eq!(read_summary(&path)?, rows);
        assert!(summary_columns().contains(&"epochs_to_converge".to_string()));
        write_summary(&path, &[])?;
        assert!(read_summary(&path)?.is_empty());
        Ok(())
    }

    #[test]
    fn axes_written_as_text_by_older_versions_read_back() -> Result<(), Box<dyn std::error::Error>>
    {
        use polars::prelude::*;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("summary.parquet");
        let written = row("a", Some(0.5));
        let mut df = RunSummary::to_frame(std::slice::from_ref(&written))?;
        df.with_column(Column::new(
            "axes".into(),
            ["model.name=cnn, train.lr=0.001"],
        ))?;
        let _ = df.drop_in_place("prefix_time_s")?; // added after the first release
        let _ = df.drop_in_place("objective")?; // added with autoencoder runs
        let _ = df.drop_in_place("fold")?; // added with cross-validation
        let _ = df.drop_in_place("folds")?;
        let mut file = std::fs::File::create(&path)?;
        ParquetWriter::new(&mut file).finish(&mut df)?;
        let expected = RunSummary {
            objective: None,
            fold: None,
            folds: None,
            ..written
        };
        assert_eq!(read_summary(&path)?, vec![expected]);
        Ok(())
    }

    #[test]
    fn merge_takes_finished_runs_only() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let grid = GridDir::new(dir.path(), "g");
        write_summary(&grid.run("r1").summary_path(), &[row("r1", Some(0.5))])?;
        std::fs::create_dir_all(grid.run("r2").path())?; // started, never finished
        write_history(&grid.run("r2").history_path(), "r2", &[])?;
        write_summary(&grid.run("r3").summary_path(), &[row("r3", Some(0.9))])?;
        assert_eq!(merge_summaries(&grid)?, 2);
        let ids: Vec<String> = read_summary(&grid.summary_path())?
            .into_iter()
            .map(|r| r.run_id)
            .collect();
        assert_eq!(ids, ["r1", "r3"]);
        Ok(())
    }
}
