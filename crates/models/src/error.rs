//! The models crate's error type: every variant names the setting, file or tensor at fault.

use std::path::PathBuf;

/// Errors from configuring, building, loading and saving models.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model name that is not one of the known architectures.
    #[error("unknown model {0:?}: expected one of cnn, resnet18, resnet34, resnet50")]
    UnknownKind(String),
    /// A model setting is out of range.
    #[error("invalid model config: {0}")]
    Config(String),
    /// A weights file lacks a tensor the model needs.
    #[error("weights file {path}: tensor `{name}` is missing")]
    MissingTensor {
        /// The weights file.
        path: PathBuf,
        /// The torchvision-style name of the missing tensor, e.g. `layer1.0.conv1.weight`.
        name: String,
    },
    /// A weights file holds a tensor whose shape differs from the model's.
    #[error("weights file {path}: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    ShapeMismatch {
        /// The weights file.
        path: PathBuf,
        /// The torchvision-style name of the tensor.
        name: String,
        /// The shape the model needs.
        expected: Vec<usize>,
        /// The shape found in the file.
        found: Vec<usize>,
    },
    /// A saved model holds tensors the configured model does not have (wrong architecture?).
    #[error("weights file {path}: unexpected tensors {names:?}; was it saved from another architecture?")]
    UnexpectedTensors {
        /// The weights file.
        path: PathBuf,
        /// The names the model does not have.
        names: Vec<String>,
    },
    /// The weights file's extension is not one we can read.
    #[error(
        "weights file {0}: unknown format, expected a .safetensors or a PyTorch .pth/.pt/.bin file"
    )]
    UnknownFormat(PathBuf),
    /// Reading or parsing a weights file failed.
    #[error("cannot read weights file {path}: {source}")]
    Read {
        /// The weights file.
        path: PathBuf,
        /// What candle reported.
        #[source]
        source: candle_core::Error,
    },
    /// Writing a weights file failed.
    #[error("cannot write weights file {path}: {source}")]
    Write {
        /// The weights file.
        path: PathBuf,
        /// What candle reported.
        #[source]
        source: candle_core::Error,
    },
    /// A training device that cannot be used (unknown, not compiled in, or no GPU).
    #[error("{0}")]
    Device(String),
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// The models crate's result type.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
