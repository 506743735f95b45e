//! Fitting runs and recording their results.
//!
//! [`sweep`] takes an expanded [`cxr_experiment::Grid`] and, for each run not finished yet,
//! [`run_one`] writes the resolved config, prepares the data ([`prepare`]: generated synthetic
//! set or a dataset folder, through the `cxr-data` cache, split by the run seed), builds the
//! model, records the [`cxr_results::Preprocessing`] inference needs (class order, normalisation
//! statistics, [`preprocessing`]), calls [`fit`], and records history, per-class metrics, the
//! confusion matrix and the kept weights, each through its typed writer in `cxr-results` (the
//! run folder's contract). Each training path returns a typed outcome instead of filling the
//! summary row; the row is built from it in one place (`summary_row`) and written last. A run
//! whose loss diverges is recorded as failed and the sweep goes on. The caller watches each run through an [`Observer`] it makes per run
//! (the `cxr` binary draws a progress bar); this crate draws nothing and leaves thread counts to
//! the caller.
//!
//! [`fit`] alternates [`train_one_epoch`] and [`evaluate`] ([`epoch`]) under [`EarlyStopping`]
//! (a pure state machine), keeps the best epoch's weights in memory and evaluates the test split
//! once with them. Training batches may be augmented; evaluation batches never are. The
//! optimiser is PyTorch's Adam ([`adam`]); metrics come from `cxr-metrics`.
//!
//! Autoencoder runs (`[train] objective = "autoencoder"`) take the same path up to the model,
//! then [`autoencoder`] trains it as the encoder of a reconstruction network, without
//! reading labels, and records history, weights, `reconstructions.png` and a summary without
//! recall.
//!
//! Classic-head runs (`[model] head = "logistic"`, ...) take the same path up to the model,
//! then [`classic`] embeds every image with the frozen backbone ([`embed`]), fits the head's
//! candidates on the training features and picks one on the validation split, and records the
//! test results, the fit time and `features.parquet`.
//!
//! Several findings per film: [`multilabel`] turns a [`cxr_data::FindingMatrix`] into targets
//! and masks, holds the masked binary cross-entropy (PyTorch's `BCEWithLogitsLoss`, missing and
//! ignored labels left out) and a multi-label evaluation's per-finding AUROC columns.
//!
//! Determinism: the split, each epoch's sampling order, augmentation and the initial weights come
//! from named streams of the run seed, so the same config gives the same run (and, on the same
//! machine and thread count, the same metrics).

pub mod adam;
pub mod autoencoder;
mod checkpoint;
pub mod classic;
pub mod classic_findings;
mod classify;
pub mod early_stopping;
pub mod embed;
pub mod env;
pub mod epoch;
pub mod error;
pub mod fit;
pub mod interrupt;
pub mod multilabel;
pub mod observer;
mod outcome;
pub mod prefix_cache;
pub mod prepare;
pub mod preprocessing;
pub mod recorded_stats;
pub mod run;
mod summary_row;
pub mod sweep;
mod test_results;
pub mod weights;

pub use autoencoder::{fit_autoencoder, PretrainOutcome};
pub use early_stopping::{EarlyStopping, EpochScore};
pub use embed::{embed_images, embed_set, feature_table, Embeddings};
pub use env::{EarlierIds, RunEnv, NO_EARLIER_IDS};
pub use epoch::{evaluate, evaluate_images, train_one_epoch, EpochPlan, Evaluation, Source};
pub use error::{Result, TrainerError};
pub use fit::{fit, FitData, FitOutcome};
pub use observer::{Observer, Silent};
pub use prepare::{prepare_grid, Preparation};
pub use run::{build_model, build_model_on, run_one};
pub use sweep::{sweep, RunObservers, SweepOptions, SweepReport};
