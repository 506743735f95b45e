//! The results of a sweep, as an API: where each file lives ([`layout`]), what each file holds
//! and how it is written and read. Every file of a run folder has one typed reader and writer
//! here: the Parquet tables ([`summary`], [`run_tables`], [`plan`], [`evaluation`], the
//! report's [`cross_validation`]), whose columns are the fields of one row struct each
//! ([`table`]), a classic-head run's embeddings
//! ([`features`]: a fixed-size list column, written directly), and the run's `config.toml`,
//! `preprocessing.json` and `model.safetensors` ([`run_files`], [`preprocessing`]) and an
//! autoencoder run's `reconstructions.png` ([`reconstructions`]), every test image's prediction
//! ([`predictions`]) and a calibrated run's temperature ([`calibration`]). The trainer
//! writes through this crate; the report, the regression check and inference read through it.
//!
//! Every file is written to a temporary file in its folder and renamed into place; a run's
//! `summary.parquet` is written last, so its presence is what "finished" means and a killed run
//! never looks finished. The grid's merged `summary.parquet` is rebuilt from the run folders
//! under a file lock, so cells run by separate processes (`cxr sweep --cell N`) merge without a
//! shared writer.
//!
//! ```
//! use cxr_results::{read_history, write_history, HistoryRow, RunDir};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?;
//! let run = RunDir::at(&tmp.path().join("runs/cnn-f0-s0-0123456789ab"));
//! let epoch = HistoryRow { epoch: 1, train_loss: 1.2, val_loss: 1.1, val_micro_recall: 0.5,
//!     val_macro_recall: 0.5, train_time_s: 2.0, eval_time_s: 0.3, kept: true };
//! write_history(&run.history_path(), &run.id(), std::slice::from_ref(&epoch))?;
//! assert_eq!(read_history(&run.history_path())?, [epoch]);
//! # Ok(()) }
//! ```

pub mod calibration;
pub mod cross_validation;
pub mod error;
pub mod evaluation;
pub mod features;
pub mod layout;
pub mod plan;
pub mod predictions;
pub mod preprocessing;
pub mod reconstructions;
pub mod run_files;
pub mod run_tables;
pub mod summary;
pub mod table;

pub use calibration::CalibrationRecord;
pub use cross_validation::{
    read_cross_validation, read_out_of_fold, write_cross_validation, write_out_of_fold,
    CrossValidationRow, OutOfFoldRow,
};
pub use cxr_experiment::{axes, AxisValue, LINEAR_HEAD};
pub use error::{Result, ResultsError};
pub use evaluation::{read_evaluation, write_evaluation, MetricRow};
pub use features::{read_features, split_name, write_features, FeatureTable, FEATURE_COLUMNS};
pub use layout::{write_atomic, write_atomic_with, GridDir, RunDir};
pub use plan::{read_plan, write_plan, PlanRow};
pub use predictions::{read_predictions, write_predictions, PredictionRow};
pub use preprocessing::Preprocessing;
pub use reconstructions::Reconstructions;
pub use run_tables::{
    read_confusion, read_history, read_per_class, write_confusion, write_history, write_per_class,
    ConfusionRow, HistoryRow, PerClassRow,
};
pub use summary::{
    merge_summaries, objective, read_summary, status, summary_columns, write_summary, RunSummary,
};
pub use table::read_frame;
