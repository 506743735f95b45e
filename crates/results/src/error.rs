//! The results crate's error type.

use std::path::PathBuf;

/// Errors from writing or reading results.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A Parquet file could not be written or read, or lacks an expected column.
    #[error("{path}: {message}")]
    Table {
        /// The Parquet file.
        path: PathBuf,
        /// What polars reported.
        message: String,
    },
    /// A run folder's record (`config.toml`, `preprocessing.json`, `calibration.json`) could
    /// not be written or parsed.
    #[error("{path}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A figure (`reconstructions.png`) could not be encoded.
    #[error("{path}: cannot encode the image: {message}")]
    Image {
        /// The image file.
        path: PathBuf,
        /// What the `image` crate reported.
        message: String,
    },
    /// The results folder holds no finished run.
    #[error("no finished runs under {0}: run `cxr sweep <GRID.toml>` first")]
    NoRuns(PathBuf),
}

/// Result alias for the results crate.
pub type Result<T, E = ResultsError> = std::result::Result<T, E>;

impl ResultsError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| ResultsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn table(
        path: &std::path::Path,
    ) -> impl FnOnce(polars::error::PolarsError) -> Self + '_ {
        move |e| ResultsError::Table {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
