//! The bench crate's error type.

use std::path::PathBuf;

/// Errors from measuring and reporting.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Building the model failed (boxed: the model and trainer errors are large).
    #[error(transparent)]
    Model(Box<cxr_models::ModelError>),
    /// The optimiser failed.
    #[error(transparent)]
    Trainer(Box<cxr_trainer::TrainerError>),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A case the benchmark cannot run (yet).
    #[error("cannot benchmark {0}")]
    Unsupported(String),
    /// Reading or writing a results file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS reported.
        #[source]
        source: std::io::Error,
    },
    /// A results file is not the JSON we write.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What serde reported.
        #[source]
        source: serde_json::Error,
    },
}

impl From<cxr_models::ModelError> for BenchError {
    fn from(err: cxr_models::ModelError) -> Self {
        Self::Model(Box::new(err))
    }
}

impl From<cxr_trainer::TrainerError> for BenchError {
    fn from(err: cxr_trainer::TrainerError) -> Self {
        Self::Trainer(Box::new(err))
    }
}

/// The bench crate's result type.
pub type Result<T, E = BenchError> = std::result::Result<T, E>;
