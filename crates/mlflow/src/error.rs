//! The export's error type. Every message is one line that names the server address (and the
//! endpoint) or the file at fault and says what to do. Nothing an export leaves half done is
//! lost: a rerun of the same command completes it, so errors from the server say so.

use std::path::PathBuf;

/// What a message about a server error tells the user to do after fixing the cause.
const RERUN: &str = "rerun the same command to complete the export";

/// Errors from reading a grid's results and from talking to the MLflow server.
#[derive(Debug, thiserror::Error)]
pub enum MlflowError {
    /// The tracking URI is not an `http://` or `https://` address.
    #[error(
        "tracking URI {uri:?} {reason}; pass the address of a running `mlflow server`, \
         e.g. --tracking-uri http://127.0.0.1:5000"
    )]
    InvalidUri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No answer at all: connection refused, unknown host, timeout, TLS failure.
    #[error(
        "cannot reach the MLflow server at {uri} ({endpoint}): {detail}; start it \
         (`mlflow server --host 127.0.0.1 --port 5000`) or fix --tracking-uri, then {RERUN}"
    )]
    Unreachable {
        /// The tracking URI.
        uri: String,
        /// The endpoint requested, e.g. `GET /api/2.0/mlflow/experiments/get-by-name`.
        endpoint: String,
        /// What went wrong, on one line.
        detail: String,
    },
    /// An answer that is not MLflow's JSON (a web page, another service's 404).
    #[error(
        "{uri} is not an MLflow tracking server: {endpoint} answered HTTP {status} with {what} \
         instead of MLflow's JSON; pass the server's base address (what `mlflow server` prints, \
         e.g. http://127.0.0.1:5000, without /api or a UI page)"
    )]
    NotMlflow {
        /// The tracking URI.
        uri: String,
        /// The endpoint requested.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// What came back instead, e.g. `an HTML page`.
        what: String,
    },
    /// The server failed without MLflow's JSON error (an unhandled exception, a proxy in front
    /// of a server that is down).
    #[error("MLflow server {uri}: {endpoint} failed with HTTP {status} ({what}); see the server's log, then {RERUN}")]
    Server {
        /// The tracking URI.
        uri: String,
        /// The endpoint requested.
        endpoint: String,
        /// The HTTP status (5xx).
        status: u16,
        /// What came back, e.g. `"Internal Server Error"`.
        what: String,
    },
    /// MLflow answered with an error (`error_code` and `message` from its JSON).
    #[error("MLflow server {uri}: {endpoint} failed with HTTP {status} {error_code}: {message}; {RERUN}")]
    Api {
        /// The tracking URI.
        uri: String,
        /// The endpoint requested.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// MLflow's error code, e.g. `INVALID_PARAMETER_VALUE`.
        error_code: String,
        /// MLflow's message, on one line.
        message: String,
    },
    /// A 2xx answer whose JSON lacks what MLflow's API promises.
    #[error("MLflow server {uri}: unexpected answer to {endpoint}: {detail}")]
    Protocol {
        /// The tracking URI.
        uri: String,
        /// The endpoint requested.
        endpoint: String,
        /// What was missing or malformed.
        detail: String,
    },
    /// The experiment's artifacts live where the REST API cannot write (a path on the server's
    /// disk, a bucket): the server does not proxy artifacts for it.
    #[error(
        "experiment {experiment:?} on {uri} stores artifacts at {location:?}, which cannot be \
         written through the server: start it with artifact serving (`mlflow server \
         --serve-artifacts --artifacts-destination DIR`, the default since MLflow 2.0) and export \
         to an experiment created by that server (--experiment NAME)"
    )]
    NoArtifactServing {
        /// The tracking URI.
        uri: String,
        /// The experiment's name.
        experiment: String,
        /// Its (or its run's) artifact location.
        location: String,
    },
    /// An experiment of that name exists but is deleted, so none can be created under it.
    #[error(
        "experiment {name:?} on {uri} is deleted; restore it (`mlflow experiments restore \
         --experiment-id {id}`) or export to another one (--experiment NAME)"
    )]
    DeletedExperiment {
        /// The tracking URI.
        uri: String,
        /// The experiment's name.
        name: String,
        /// Its id.
        id: String,
    },
    /// The folder given is not a grid's results folder.
    #[error("{} is not a grid's results folder (no runs/ in it): pass one such as results/ci", path.display())]
    NotAGrid {
        /// The folder given.
        path: PathBuf,
    },
    /// A run's `config.toml` does not parse.
    #[error("{}: not valid TOML: {message}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// The parser's message, on one line.
        message: String,
    },
    /// A run's summary holds no row.
    #[error("{}: no row; the run folder is damaged, rerun the run with `cxr sweep --force`", path.display())]
    EmptySummary {
        /// The summary file.
        path: PathBuf,
    },
    /// Reading a file of a run folder failed.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Reading a results table failed.
    #[error(transparent)]
    Results(#[from] cxr_results::ResultsError),
}

impl MlflowError {
    /// A closure mapping an I/O error on `path` to [`MlflowError::Io`].
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether this is MLflow saying that what was asked for does not exist.
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { error_code, .. } if error_code == "RESOURCE_DOES_NOT_EXIST")
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = MlflowError> = std::result::Result<T, E>;

/// Puts a text on one line (a server's message or an OS error may span several).
pub(crate) fn one_line(text: impl std::fmt::Display) -> String {
    text.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
