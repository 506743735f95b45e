//! Exports a grid's results to an MLflow tracking server, through MLflow's REST API only (no
//! Python, no direct access to its database or artifact store): each finished run of
//! `results/<grid>/runs/` becomes one MLflow run of an experiment (by default named after the
//! grid), with
//!
//! - params: the run's resolved `config.toml` flattened to dotted keys (`train.lr`), and any
//!   grid axis it does not name ([`params`]);
//! - metrics: each epoch of `history.parquet` at its step, and the numbers of the run's
//!   summary ([`metrics`], which also says how timestamps are derived);
//! - tags: `cxr.run_id`, `cxr.grid`, `cxr.status`, `cxr.model`, `cxr.freeze`, `cxr.weights`,
//!   `cxr.seed`, ..., `cxr.error` for a failed run (MLflow status `FAILED`), and
//!   `mlflow.runName`;
//! - artifacts: the run's small files and the report's figures of it ([`run_export`]).
//!
//! Exporting again sends only what is new. Runs are matched by their `cxr.run_id` tag; a run
//! whose `cxr.export` tag holds the fingerprint of what it would export now costs no request
//! of its own, any other gets what it lacks ([`missing`]): params it does not have, metric
//! steps missing from its history, tags, artifacts. So a killed export, or one whose server
//! went away, is completed by running it again ([`export`] says in what order a run is
//! written so that this holds).
//!
//! It deliberately does not update what MLflow holds already (a param never changes in MLflow;
//! a metric's existing steps are left alone), delete anything, or upload weights.
//!
//! Layers, bottom up: [`http`] (one exchange, and what an answer that is not MLflow's means),
//! [`client`] (the REST calls) and [`remote`] (what they return), [`batch`] (`log-batch`
//! within MLflow's limits), [`run_export`] (a run folder as params, metrics, tags and
//! [`artifacts`]; pure), [`missing`] (what a
//! server-side run lacks; pure), [`export`] (the grid). Artifacts go through the server's
//! artifact proxy, so the server must serve artifacts (`mlflow server`'s default; an experiment
//! whose artifacts live on the server's disk is refused with a one-line error saying so).
//!
//! ```no_run
//! # fn main() -> Result<(), cxr_mlflow::MlflowError> {
//! let outcome = cxr_mlflow::export_grid(
//!     std::path::Path::new("results/ci"),
//!     "http://127.0.0.1:5000",
//!     None, // experiment "ci"
//! )?;
//! println!("{} created, {} updated, {} up to date", outcome.created, outcome.updated, outcome.up_to_date);
//! # Ok(()) }
//! ```

pub mod artifacts;
pub mod batch;
pub mod client;
pub mod error;
pub mod export;
pub mod http;
pub mod metrics;
pub mod missing;
pub mod params;
pub mod remote;
pub mod run_export;

pub use client::Client;
pub use error::{MlflowError, Result};
pub use export::{export_grid, ExportOutcome};
pub use remote::{Experiment, RemoteRun};
pub use run_export::{RunExport, EXPORT_TAG, RUN_ID_TAG};
