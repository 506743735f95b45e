//! The Parquet tables of a run and of a grid, their columns, and how they are written and read.
//! Column names are defined here and nowhere else; README.md documents them.

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use crate::columns::Columns;
use crate::error::{Result, ResultsError};
use crate::layout::{write_atomic, GridDir};

/// Run status values in the `status` column.
pub mod status {
    /// Trained and evaluated.
    pub const OK: &str = "ok";
    /// Stopped by an error (e.g. a diverging loss); `error` says why.
    pub const FAILED: &str = "failed";
}

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
    /// Training image side length.
    pub image_size: i64,
    /// The run's grid-axis values, `axis=value` joined by `, `.
    pub axes: String,
    /// Adam learning rate.
    pub lr: f64,
    /// Batch size.
    pub batch_size: i64,
    /// Epoch sampler.
    pub sampler: String,
    /// Started from pretrained weights.
    pub pretrained: bool,
    /// `ok` or `failed` ([`status`]).
    pub status: String,
    /// Why a failed run failed; empty when ok.
    pub error: String,
    /// Epochs trained.
    pub epochs_run: Option<i64>,
    /// 1-based epoch of the kept weights.
    pub epochs_to_converge: Option<i64>,
    /// Mean training wall time per epoch, seconds.
    pub epoch_time_s: Option<f64>,
    /// Mean validation wall time per epoch, seconds.
    pub eval_time_s: Option<f64>,
    /// Wall time of the whole run (data, training, evaluation, writing), seconds.
    pub total_time_s: Option<f64>,
    /// Wall time of the one-time frozen-prefix pass (null when the cache was not used), seconds.
    pub prefix_time_s: Option<f64>,
    /// Parameters the optimiser updates.
    pub trainable_params: i64,
    /// All parameters.
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
    /// Test mean cross-entropy.
    pub test_loss: Option<f64>,
    /// Validation micro-recall with the kept weights.
    pub val_micro_recall: Option<f64>,
    /// Validation macro-recall with the kept weights.
    pub val_macro_recall: Option<f64>,
    /// Number of test images.
    pub test_images: Option<i64>,
    /// The resolved run config as JSON, for any setting not given its own column.
    pub config_json: String,
}

/// One row of `plan.parquet`: a run the grid plans, finished or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    /// Stable run id.
    pub run_id: String,
    /// Architecture.
    pub model: String,
    /// Frozen stages.
    pub freeze: i64,
    /// Run seed.
    pub seed: i64,
    /// The run's grid-axis values, as in the summary.
    pub axes: String,
}

/// One row of `history.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// 1-based epoch.
    pub epoch: i64,
    /// Mean training loss.
    pub train_loss: f64,
    /// Mean validation loss.
    pub val_loss: f64,
    /// Validation micro-recall.
    pub val_micro_recall: f64,
    /// Validation macro-recall.
    pub val_macro_recall: f64,
    /// Training wall time, seconds.
    pub train_time_s: f64,
    /// Validation wall time, seconds.
    pub eval_time_s: f64,
    /// This is the epoch whose weights were kept.
    pub kept: bool,
}

/// One row of `per_class.parquet` (test split).
#[derive(Debug, Clone, PartialEq)]
pub struct PerClassRow {
    /// Class name.
    pub class: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Number of test images of the class.
    pub support: i64,
}

/// One row of `confusion.parquet` (test split, long format).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfusionRow {
    /// True class.
    pub true_class: String,
    /// Predicted class.
    pub predicted_class: String,
    /// Number of test images.
    pub count: i64,
}

macro_rules! col {
    ($rows:expr, $name:literal, $field:ident) => {
        Column::new(
            $name.into(),
            $rows.iter().map(|r| r.$field.clone()).collect::<Vec<_>>(),
        )
    };
}

fn summary_frame(rows: &[RunSummary]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        col!(rows, "run_id", run_id),
        col!(rows, "grid", grid),
        col!(rows, "model", model),
        col!(rows, "freeze", freeze),
        col!(rows, "seed", seed),
        col!(rows, "image_size", image_size),
        col!(rows, "axes", axes),
        col!(rows, "lr", lr),
        col!(rows, "batch_size", batch_size),
        col!(rows, "sampler", sampler),
        col!(rows, "pretrained", pretrained),
        col!(rows, "status", status),
        col!(rows, "error", error),
        col!(rows, "epochs_run", epochs_run),
        col!(rows, "epochs_to_converge", epochs_to_converge),
        col!(rows, "epoch_time_s", epoch_time_s),
        col!(rows, "eval_time_s", eval_time_s),
        col!(rows, "total_time_s", total_time_s),
        col!(rows, "prefix_time_s", prefix_time_s),
        col!(rows, "trainable_params", trainable_params),
        col!(rows, "total_params", total_params),
        col!(rows, "test_micro_recall", test_micro_recall),
        col!(rows, "test_macro_recall", test_macro_recall),
        col!(rows, "test_micro_recall_low", test_micro_recall_low),
        col!(rows, "test_micro_recall_high", test_micro_recall_high),
        col!(rows, "test_macro_recall_low", test_macro_recall_low),
        col!(rows, "test_macro_recall_high", test_macro_recall_high),
        col!(rows, "test_loss", test_loss),
        col!(rows, "val_micro_recall", val_micro_recall),
        col!(rows, "val_macro_recall", val_macro_recall),
        col!(rows, "test_images", test_images),
        col!(rows, "config_json", config_json),
    ])
}

/// The columns of `summary.parquet`, in order.
pub fn summary_columns() -> Vec<String> {
    summary_frame(&[])
        .map(|df| {
            df.get_column_names()
                .iter()
                .map(|c| c.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Writes a run's `history.parquet` (with its run id on every row).
pub fn write_history(path: &Path, run_id: &str, rows: &[HistoryRow]) -> Result<()> {
    let df = DataFrame::new_infer_height(vec![
        Column::new("run_id".into(), vec![run_id; rows.len()]),
        col!(rows, "epoch", epoch),
        col!(rows, "train_loss", train_loss),
        col!(rows, "val_loss", val_loss),
        col!(rows, "val_micro_recall", val_micro_recall),
        col!(rows, "val_macro_recall", val_macro_recall),
        col!(rows, "train_time_s", train_time_s),
        col!(rows, "eval_time_s", eval_time_s),
        col!(rows, "kept", kept),
    ]);
    write_frame(path, df)
}

/// Writes a run's `per_class.parquet`.
pub fn write_per_class(path: &Path, run_id: &str, rows: &[PerClassRow]) -> Result<()> {
    let df = DataFrame::new_infer_height(vec![
        Column::new("run_id".into(), vec![run_id; rows.len()]),
        col!(rows, "class", class),
        col!(rows, "precision", precision),
        col!(rows, "recall", recall),
        col!(rows, "f1", f1),
        col!(rows, "support", support),
    ]);
    write_frame(path, df)
}

/// Writes a run's `confusion.parquet`.
pub fn write_confusion(path: &Path, run_id: &str, rows: &[ConfusionRow]) -> Result<()> {
    let df = DataFrame::new_infer_height(vec![
        Column::new("run_id".into(), vec![run_id; rows.len()]),
        col!(rows, "true_class", true_class),
        col!(rows, "predicted_class", predicted_class),
        col!(rows, "count", count),
    ]);
    write_frame(path, df)
}

/// Writes a grid's `plan.parquet`.
pub fn write_plan(path: &Path, rows: &[PlanRow]) -> Result<()> {
    let df = DataFrame::new_infer_height(vec![
        col!(rows, "run_id", run_id),
        col!(rows, "model", model),
        col!(rows, "freeze", freeze),
        col!(rows, "seed", seed),
        col!(rows, "axes", axes),
    ]);
    write_frame(path, df)
}

/// Reads a grid's `plan.parquet`.
pub fn read_plan(path: &Path) -> Result<Vec<PlanRow>> {
    let df = read_frame(path)?;
    let c = Columns(&df);
    let rows = || -> PolarsResult<Vec<PlanRow>> {
        let (run_id, model, axes) = (c.str("run_id")?, c.str("model")?, c.str("axes")?);
        let (freeze, seed) = (c.i64("freeze")?, c.i64("seed")?);
        Ok((0..c.height())
            .map(|r| PlanRow {
                run_id: run_id[r].clone(),
                model: model[r].clone(),
                freeze: freeze[r],
                seed: seed[r],
                axes: axes[r].clone(),
            })
            .collect())
    };
    rows().map_err(ResultsError::table(path))
}

/// Writes a `summary.parquet` (one row per run).
pub fn write_summary(path: &Path, rows: &[RunSummary]) -> Result<()> {
    write_frame(path, summary_frame(rows))
}

fn write_frame(path: &Path, df: PolarsResult<DataFrame>) -> Result<()> {
    let mut df = df.map_err(ResultsError::table(path))?;
    let mut buf = Cursor::new(Vec::new());
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(ResultsError::table(path))?;
    write_atomic(path, buf.get_ref())
}

/// Reads a Parquet file.
pub fn read_frame(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(ResultsError::io(path))?;
    ParquetReader::new(file)
        .finish()
        .map_err(ResultsError::table(path))
}

/// Reads a run's `history.parquet` back into rows.
pub fn read_history(path: &Path) -> Result<Vec<HistoryRow>> {
    let df = read_frame(path)?;
    let c = Columns(&df);
    let rows = || -> PolarsResult<Vec<HistoryRow>> {
        let (epoch, kept) = (c.i64("epoch")?, c.bool("kept")?);
        let (train_loss, val_loss) = (c.f64("train_loss")?, c.f64("val_loss")?);
        let (val_micro, val_macro) = (c.f64("val_micro_recall")?, c.f64("val_macro_recall")?);
        let (train_time, eval_time) = (c.f64("train_time_s")?, c.f64("eval_time_s")?);
        Ok((0..c.height())
            .map(|r| HistoryRow {
                epoch: epoch[r],
                train_loss: train_loss[r],
                val_loss: val_loss[r],
                val_micro_recall: val_micro[r],
                val_macro_recall: val_macro[r],
                train_time_s: train_time[r],
                eval_time_s: eval_time[r],
                kept: kept[r],
            })
            .collect())
    };
    rows().map_err(ResultsError::table(path))
}

/// Reads a run's `per_class.parquet` back into rows.
pub fn read_per_class(path: &Path) -> Result<Vec<PerClassRow>> {
    let df = read_frame(path)?;
    let c = Columns(&df);
    let rows = || -> PolarsResult<Vec<PerClassRow>> {
        let (class, support) = (c.str("class")?, c.i64("support")?);
        let (precision, recall, f1) = (c.f64("precision")?, c.f64("recall")?, c.f64("f1")?);
        Ok((0..c.height())
            .map(|r| PerClassRow {
                class: class[r].clone(),
                precision: precision[r],
                recall: recall[r],
                f1: f1[r],
                support: support[r],
            })
            .collect())
    };
    rows().map_err(ResultsError::table(path))
}

/// Reads a run's `confusion.parquet` back into rows.
pub fn read_confusion(path: &Path) -> Result<Vec<ConfusionRow>> {
    let df = read_frame(path)?;
    let c = Columns(&df);
    let rows = || -> PolarsResult<Vec<ConfusionRow>> {
        let (true_class, predicted_class) = (c.str("true_class")?, c.str("predicted_class")?);
        let count = c.i64("count")?;
        Ok((0..c.height())
            .map(|r| ConfusionRow {
                true_class: true_class[r].clone(),
                predicted_class: predicted_class[r].clone(),
                count: count[r],
            })
            .collect())
    };
    rows().map_err(ResultsError::table(path))
}

/// Reads a `summary.parquet` back into rows.
pub fn read_summary(path: &Path) -> Result<Vec<RunSummary>> {
    let df = read_frame(path)?;
    let err = ResultsError::table(path);
    rows_of(&df).map_err(err)
}

fn rows_of(df: &DataFrame) -> PolarsResult<Vec<RunSummary>> {
    let c = Columns(df);
    let (s, i, f) = (
        |n: &str| c.str(n),
        |n: &str| c.i64_opt(n),
        |n: &str| c.f64_opt(n),
    );
    let (b, f_new) = (|n: &str| c.bool(n), |n: &str| c.f64_added(n));
    let (run_id, grid, model, axes) = (s("run_id")?, s("grid")?, s("model")?, s("axes")?);
    let (sampler, status, error, config_json) =
        (s("sampler")?, s("status")?, s("error")?, s("config_json")?);
    let (freeze, seed, image_size, batch_size) =
        (i("freeze")?, i("seed")?, i("image_size")?, i("batch_size")?);
    let (epochs_run, epochs_to_converge) = (i("epochs_run")?, i("epochs_to_converge")?);
    let (trainable, total, test_images) = (
        i("trainable_params")?,
        i("total_params")?,
        i("test_images")?,
    );
    let (lr, epoch_time, eval_time, total_time) = (
        f("lr")?,
        f("epoch_time_s")?,
        f("eval_time_s")?,
        f("total_time_s")?,
    );
    let (test_micro, test_macro, test_loss) = (
        f("test_micro_recall")?,
        f("test_macro_recall")?,
        f("test_loss")?,
    );
    let (val_micro, val_macro) = (f("val_micro_recall")?, f("val_macro_recall")?);
    let prefix_time = f_new("prefix_time_s")?;
    let (micro_low, micro_high, macro_low, macro_high) = (
        f_new("test_micro_recall_low")?,
        f_new("test_micro_recall_high")?,
        f_new("test_macro_recall_low")?,
        f_new("test_macro_recall_high")?,
    );
    let pretrained = b("pretrained")?;
    Ok((0..df.height())
        .map(|r| RunSummary {
            run_id: run_id[r].clone(),
            grid: grid[r].clone(),
            model: model[r].clone(),
            freeze: freeze[r].unwrap_or_default(),
            seed: seed[r].unwrap_or_default(),
            image_size: image_size[r].unwrap_or_default(),
            axes: axes[r].clone(),
            lr: lr[r].unwrap_or_default(),
            batch_size: batch_size[r].unwrap_or_default(),
            sampler: sampler[r].clone(),
            pretrained: pretrained[r],
            status: status[r].clone(),
            error: error[r].clone(),
            epochs_run: epochs_run[r],
            epochs_to_converge: epochs_to_converge[r],
            epoch_time_s: epoch_time[r],
            eval_time_s: eval_time[r],
            total_time_s: total_time[r],
            prefix_time_s: prefix_time[r],
            trainable_params: trainable[r].unwrap_or_default(),
            total_params: total[r].unwrap_or_default(),
            test_micro_recall: test_micro[r],
            test_macro_recall: test_macro[r],
            test_micro_recall_low: micro_low[r],
            test_micro_recall_high: micro_high[r],
            test_macro_recall_low: macro_low[r],
            test_macro_recall_high: macro_high[r],
            test_loss: test_loss[r],
            val_micro_recall: val_micro[r],
            val_macro_recall: val_macro[r],
            test_images: test_images[r],
            config_json: config_json[r].clone(),
        })
        .collect())
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

    fn row(id: &str, micro: Option<f64>) -> RunSummary {
        RunSummary {
            run_id: id.into(),
            grid: "g".into(),
            model: "cnn".into(),
            status: status::OK.into(),
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
        Ok(())
    }

    #[test]
    fn run_tables_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let history = vec![HistoryRow {
            epoch: 1,
            train_loss: 1.5,
            val_loss: 1.25,
            val_micro_recall: 0.5,
            val_macro_recall: 0.25,
            train_time_s: 3.0,
            eval_time_s: 0.5,
            kept: true,
        }];
        let per_class = vec![PerClassRow {
            class: "COVID".into(),
            precision: 0.5,
            recall: 0.75,
            f1: 0.6,
            support: 4,
        }];
        let confusion = vec![ConfusionRow {
            true_class: "COVID".into(),
            predicted_class: "Normal".into(),
            count: 3,
        }];
        let (h, p, c) = (
            dir.path().join("h"),
            dir.path().join("p"),
            dir.path().join("c"),
        );
        write_history(&h, "r", &history)?;
        write_per_class(&p, "r", &per_class)?;
        write_confusion(&c, "r", &confusion)?;
        assert_eq!(read_history(&h)?, history);
        assert_eq!(read_per_class(&p)?, per_class);
        assert_eq!(read_confusion(&c)?, confusion);
        Ok(())
    }

    #[test]
    fn plan_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("plan.parquet");
        let rows = vec![PlanRow {
            run_id: "cnn-f0-s0-abc".into(),
            model: "cnn".into(),
            freeze: 0,
            seed: 0,
            axes: "model.name=cnn".into(),
        }];
        write_plan(&path, &rows)?;
        assert_eq!(read_plan(&path)?, rows);
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
