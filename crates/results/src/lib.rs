//! The results of a sweep, as an API: where each file lives ([`layout`]), what each file holds
//! and how it is written and read. Every file of a run folder and of a grid folder is named in
//! [`layout`], and written and read through one [`RunDir`] or [`GridDir`] method
//! ([`run_files`], [`grid_files`]): the Parquet tables ([`summary`], [`run_tables`], [`plan`],
//! [`evaluation`], the report's [`cross_validation`]), whose columns are the fields of one row
//! struct each ([`table`]), a classic-head run's embeddings ([`features`]: a fixed-size list
//! column, written directly), the run's `preprocessing.json` ([`preprocessing`]), an
//! autoencoder run's `reconstructions.png` ([`reconstructions`]), every test image's prediction
//! ([`predictions`]) and a calibrated run's temperature ([`calibration`]). The trainer writes
//! through this crate; the report, the regression check and inference read through it.
//!
//! This crate sits at the bottom of the results stack and depends on no data, model or tensor
//! code, so the report links none: the plain types a run's files hold are defined here (the
//! grid [`axes`] and their [`AxisValue`], the normalisation statistics of
//! [`PixelStatsRecord`]). The two files whose types live elsewhere are read and written by
//! their owners at the paths named here: `config.toml` by `cxr-experiment` (`RunConfigFile`),
//! `model.safetensors` by `cxr-models` (`Model::save`, `Model::load`).
//!
//! Every file is written to a temporary file in its folder and renamed into place; a run's
//! `summary.parquet` is written last, so its presence is what "finished" means and a killed run
//! never looks finished. The grid's merged `summary.parquet` is rebuilt from the run folders
//! under a file lock, so cells run by separate processes (`cxr sweep --cell N`) merge without a
//! shared writer.
//!
//! ```
//! use cxr_results::{HistoryRow, RunDir};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tmp = tempfile::tempdir()?;
//! let run = RunDir::at(&tmp.path().join("runs/cnn-f0-s0-0123456789ab"));
//! let epoch = HistoryRow { epoch: 1, train_loss: 1.2, val_loss: 1.1, val_micro_recall: 0.5,
//!     val_macro_recall: 0.5, val_mean_auroc: None, train_time_s: 2.0, eval_time_s: 0.3,
//!     kept: true };
//! run.write_history(std::slice::from_ref(&epoch))?;
//! assert_eq!(run.read_history()?, [epoch]);
//! # Ok(()) }
//! ```

mod atomic;
pub mod axes;
pub mod calibration;
pub mod claims;
pub mod cross_validation;
pub mod error;
pub mod evaluation;
pub mod features;
pub mod findings;
pub mod grid_files;
pub mod layout;
pub mod plan;
pub mod predictions;
pub mod preprocessing;
pub mod reconstructions;
pub mod run_files;
pub mod run_tables;
pub mod summary;
pub mod table;

pub use atomic::{write_atomic, write_atomic_with};
pub use axes::{AxisValue, LINEAR_HEAD};
pub use calibration::CalibrationRecord;
pub use claims::{
    claim_of, claim_path, read_claims, try_claim, Claim, ClaimGuard, ClaimInfo,
    DEFAULT_CLAIM_TIMEOUT,
};
pub use cross_validation::{
    read_cross_validation, read_out_of_fold, CrossValidationRow, OutOfFoldRow,
};
pub use error::{Result, ResultsError};
pub use evaluation::{read_evaluation, write_evaluation, MetricRow};
pub use features::{read_features, split_name, write_features, FeatureTable, FEATURE_COLUMNS};
pub use findings::{
    read_finding_predictions, read_per_finding, FindingPredictionRow, PerFindingRow,
};
pub use layout::{GridDir, ReportFigure, RunDir};
pub use plan::{read_plan, PlanRow};
pub use predictions::{read_predictions, write_predictions, PredictionRow};
pub use preprocessing::{PixelStatsRecord, Preprocessing};
pub use reconstructions::Reconstructions;
pub use run_tables::{
    read_confusion, read_history, read_per_class, ConfusionRow, HistoryRow, PerClassRow,
};
pub use summary::{
    merge_summaries, objective, read_summary, status, summary_columns, task, RunSummary,
};
pub use table::read_frame;
