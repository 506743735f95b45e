//! The trainer's error type.

use std::path::PathBuf;

/// Errors from preparing, fitting and recording a run.
#[derive(Debug, thiserror::Error)]
pub enum TrainerError {
    /// Loading, splitting or batching data failed.
    #[error(transparent)]
    Data(#[from] cxr_data::DataError),
    /// Building, loading or saving the model failed.
    #[error(transparent)]
    Model(#[from] cxr_models::ModelError),
    /// A run's resolved config could not be written out.
    #[error(transparent)]
    Experiment(#[from] cxr_experiment::ExperimentError),
    /// Writing or reading results failed.
    #[error(transparent)]
    Results(#[from] cxr_results::ResultsError),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The training loss became NaN or infinite (learning rate too high?).
    #[error("training loss is {loss} at epoch {epoch}, batch {batch}: the run diverged (try a lower train.lr)")]
    NonFiniteLoss {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The loss value.
        loss: f32,
    },
    /// A signal asked the sweep to stop ([`crate::interrupt`]).
    #[error("interrupted by a signal: finished runs are kept, a run in progress keeps its last finished epoch's checkpoint; rerun the sweep to resume")]
    Interrupted,
    /// An epoch checkpoint could not be written or read.
    #[error("epoch checkpoint: {0}")]
    Checkpoint(String),
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A run's data settings could not be serialised into the data memo's key.
    #[error("run {run_id}: cannot serialise its config: {message}")]
    Config {
        /// The run (or grid) the config belongs to.
        run_id: String,
        /// What serde reported.
        message: String,
    },
    /// Published weights could not be looked up or downloaded.
    #[error(transparent)]
    Weights(#[from] cxr_weights::WeightsError),
    /// A classic head could not be fitted (recorded as a failed run, like a diverging loss).
    #[error("classic head: {0}")]
    Head(#[from] cxr_heads::HeadError),
    /// A run's starting weights cannot be had (source run unfinished or failed, download
    /// failed).
    #[error("cannot load the starting weights {weights}: {message}")]
    SourceRun {
        /// The weights: `<grid>/<run id>` or a published name.
        weights: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// `--cell N` is out of range.
    #[error("--cell {cell} is out of range: the grid has {runs} run(s), numbered 0..{runs}")]
    NoSuchCell {
        /// Requested cell.
        cell: usize,
        /// Number of runs in the grid.
        runs: usize,
    },
}

/// Result alias for the trainer.
pub type Result<T, E = TrainerError> = std::result::Result<T, E>;
