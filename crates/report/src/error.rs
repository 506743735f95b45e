//! The report crate's error type.

use std::path::PathBuf;

/// Errors from building a report or checking recall against a baseline.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading a results file failed.
    #[error(transparent)]
    Results(#[from] cxr_results::ResultsError),
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The folder is not a grid's results folder, or holds no finished run.
    #[error("{path}: {why}")]
    NoResults {
        /// The folder given.
        path: PathBuf,
        /// What is missing and how to get it.
        why: String,
    },
    /// Drawing a figure failed.
    #[error("{path}: could not draw the figure: {message}")]
    Draw {
        /// The figure file.
        path: PathBuf,
        /// What plotters or the PNG encoder reported.
        message: String,
    },
    /// A feature table cannot be mapped to 2-D (too few rows or features, a non-finite value),
    /// or the PCA or t-SNE failed.
    #[error("cannot map the features: {0}")]
    FeatureMap(String),
    /// A baseline file could not be read or written.
    #[error("{path}: {message}")]
    Baseline {
        /// The baseline file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Result alias for the report crate.
pub type Result<T, E = ReportError> = std::result::Result<T, E>;

impl ReportError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
