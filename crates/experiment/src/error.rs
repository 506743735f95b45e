//! The experiment crate's error type: each variant names the grid file and the setting.

use std::path::PathBuf;

/// Errors from reading, validating and expanding a grid file.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// The grid file could not be read. The message leaves the I/O error to the error chain,
    /// which prints it once.
    #[error("cannot read grid file {path}")]
    Read {
        /// The grid file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The grid file is not valid TOML, or a key is unknown or has the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The grid file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        message: String,
    },
    /// A setting is out of range.
    #[error("{path}: {setting} = {value} is invalid: {message}")]
    Invalid {
        /// The grid file.
        path: PathBuf,
        /// Dotted setting name, e.g. `train.batch_size`.
        setting: String,
        /// The offending value.
        value: String,
        /// What is allowed.
        message: String,
    },
    /// A resolved config could not be written out (as JSON for its run id, or as TOML).
    #[error("cannot write the resolved config of grid `{grid}` as {format}")]
    Serialize {
        /// The grid the config belongs to.
        grid: String,
        /// `JSON` or `TOML`.
        format: &'static str,
        /// The serialiser's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Result alias for the experiment crate.
pub type Result<T, E = ExperimentError> = std::result::Result<T, E>;
