//! The weights crate's error type. Every message is one line and, for a failed download, names
//! the URL, what went wrong and how to get the file by hand.

use std::path::PathBuf;

use cxr_models::ModelKind;

/// What a download's error message tells the user to do instead.
const FALLBACK: &str = "download that URL by hand and set weights = \"<path to the .pth>\" \
                        (or set CXR_WEIGHTS_MIRROR to a reachable mirror)";

/// Errors from looking up, downloading and listing published weights.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// A name that is not one of the published weights of this model.
    #[error("no published weights {name:?} for {model}; {}", known_names(*model, known))]
    UnknownName {
        /// The model the name was looked up for.
        model: ModelKind,
        /// The name as given.
        name: String,
        /// The names this model has (empty for the CNN).
        known: Vec<String>,
    },
    /// A download that failed; nothing was left in the cache.
    #[error("cannot download {what} from {url}: {failure}; {FALLBACK}")]
    Download {
        /// What was being downloaded, e.g. `resnet18 ImageNet weights (torchvision:IMAGENET1K_V1)`.
        what: String,
        /// The URL requested.
        url: String,
        /// What went wrong.
        failure: Failure,
    },
    /// The index file of more published weights (`$CXR_WEIGHTS_INDEX`) is unreadable.
    #[error("weights index {} (from $CXR_WEIGHTS_INDEX): {message}; fix the file or unset the variable", path.display())]
    Index {
        /// The index file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Reading or writing the cache folder failed.
    #[error("weights cache {}: {source}", path.display())]
    Io {
        /// The file or folder at fault.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Why a download failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// No response: connection refused, unknown host, TLS failure, timeout.
    #[error("{0}")]
    Request(String),
    /// The server answered with an error status.
    #[error("HTTP {code} {reason}")]
    Status {
        /// The status code, e.g. 404.
        code: u16,
        /// Its canonical reason, e.g. `Not Found` (empty when unknown).
        reason: String,
    },
    /// The connection closed before the announced `Content-Length` arrived.
    #[error("truncated body: received {received} of {expected} bytes")]
    Truncated {
        /// Bytes received.
        received: u64,
        /// Bytes announced by `Content-Length`.
        expected: u64,
    },
    /// The body arrived but reading it failed (no `Content-Length` to compare with).
    #[error("reading the body failed after {received} bytes: {detail}")]
    Read {
        /// Bytes received before the failure.
        received: u64,
        /// The error, on one line.
        detail: String,
    },
    /// The file arrived whole but its SHA-256 does not start with the prefix in its name.
    #[error("checksum mismatch: SHA-256 {actual} does not start with {expected_prefix}")]
    Checksum {
        /// The prefix the published file name carries, e.g. `f37072fd`.
        expected_prefix: String,
        /// The full SHA-256 (hex) of what arrived.
        actual: String,
    },
}

fn known_names(model: ModelKind, known: &[String]) -> String {
    if known.is_empty() {
        format!("the {model} has no published weights (it trains from scratch)")
    } else {
        format!("{model} has: {}", known.join(", "))
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = WeightsError> = std::result::Result<T, E>;

/// Puts an error's text on one line (some errors' `Display` spans several).
pub(crate) fn one_line(text: impl std::fmt::Display) -> String {
    text.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
