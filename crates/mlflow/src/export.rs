//! The export of a grid ([`export_grid`]): each finished run of its results folder created as an
//! MLflow run, or, when an earlier export made it already (found by its [`RUN_ID_TAG`]),
//! completed with what it lacks ([`crate::missing`]), and skipped with no request of its own
//! when its [`EXPORT_TAG`] holds the fingerprint of what it exports now.
//!
//! Each run is written in an order that makes any interruption resumable: created with its tags
//! (so a rerun finds it), then params and metrics, then artifacts, then its end status, and the
//! export tag last; a rerun completes whatever a killed export or a lost server left undone,
//! without sending anything twice.

use std::collections::BTreeMap;
use std::path::Path;

use cxr_results::GridDir;

use crate::batch::KeyValue;
use crate::client::{artifact_path, Client};
use crate::error::{MlflowError, Result};
use crate::missing::{artifact_folders, metrics_to_fetch, Delta, RemoteState};
use crate::remote::{Experiment, RemoteRun};
use crate::run_export::{RunExport, EXPORT_TAG, RUN_ID_TAG};

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOutcome {
    /// The experiment's name.
    pub experiment: String,
    /// Its id.
    pub experiment_id: String,
    /// The experiment did not exist and was created.
    pub experiment_created: bool,
    /// Runs created.
    pub created: usize,
    /// Runs that were there but lacked something, now complete.
    pub updated: usize,
    /// Runs that were there complete.
    pub up_to_date: usize,
    /// Run folders without a summary (training, or killed): not exported.
    pub unfinished: usize,
}

impl ExportOutcome {
    /// The experiment's page in MLflow's UI at `tracking_uri`.
    pub fn experiment_url(&self, tracking_uri: &str) -> String {
        format!(
            "{}/#/experiments/{}",
            tracking_uri.trim_end_matches('/'),
            self.experiment_id
        )
    }
}

/// Exports every finished run of the grid results folder `grid_dir` to the MLflow server at
/// `tracking_uri`, into experiment `experiment` (default: the folder's name), created if
/// missing. Every run folder is read before the server is contacted, so a damaged one stops
/// the export before anything is sent.
pub fn export_grid(
    grid_dir: &Path,
    tracking_uri: &str,
    experiment: Option<&str>,
) -> Result<ExportOutcome> {
    let client = Client::new(tracking_uri)?;
    let grid = GridDir::at(grid_dir);
    if !grid.runs_dir().is_dir() {
        return Err(MlflowError::NotAGrid {
            path: grid_dir.to_path_buf(),
        });
    }
    let name = match experiment {
        Some(name) => name.to_string(),
        None => folder_name(grid_dir)?,
    };
    let mut exports = Vec::new();
    let mut outcome = ExportOutcome {
        experiment: name.clone(),
        ..ExportOutcome::default()
    };
    for run in grid.runs()? {
        if run.is_finished() {
            exports.push(RunExport::read(&grid, &run)?);
        } else {
            outcome.unfinished += 1;
        }
    }
    let (experiment, created) = open_experiment(&client, &name)?;
    outcome.experiment_id = experiment.experiment_id.clone();
    outcome.experiment_created = created;
    let existing = by_run_id(client.runs_with_tag(&experiment.experiment_id, RUN_ID_TAG)?);
    for export in &exports {
        let id = &export.run_id;
        match existing.get(id) {
            None => {
                let run = client.create_run(
                    &experiment.experiment_id,
                    id,
                    export.start_time_ms,
                    &export.tags,
                )?;
                let root = artifact_root(&client, &experiment, &run)?;
                let remote = RemoteState {
                    run,
                    ..RemoteState::default()
                };
                let delta = Delta::between(export, &remote);
                send(&client, &remote.run, &root, export, &delta)?;
                tracing::info!("{id}: created ({})", counts(&delta));
                outcome.created += 1;
            }
            Some(run) if run.tags.get(EXPORT_TAG) == Some(&export.fingerprint) => {
                tracing::debug!("{id}: up to date");
                outcome.up_to_date += 1;
            }
            Some(run) => {
                let root = artifact_root(&client, &experiment, run)?;
                let remote = fetch_state(&client, run, &root, export)?;
                let delta = Delta::between(export, &remote);
                send(&client, run, &root, export, &delta)?;
                if delta.is_empty() {
                    tracing::info!("{id}: up to date");
                    outcome.up_to_date += 1;
                } else {
                    tracing::info!("{id}: completed ({})", counts(&delta));
                    outcome.updated += 1;
                }
            }
        }
    }
    Ok(outcome)
}

/// The experiment called `name`, created if there is none; whether it was created.
fn open_experiment(client: &Client, name: &str) -> Result<(Experiment, bool)> {
    let (experiment, created) = match client.experiment_by_name(name)? {
        Some(experiment) => (experiment, false),
        None => {
            match client.create_experiment(name) {
                Ok(_) => {}
                // Another export created it meanwhile.
                Err(MlflowError::Api { error_code, .. })
                    if error_code == "RESOURCE_ALREADY_EXISTS" => {}
                Err(e) => return Err(e),
            }
            let experiment =
                client
                    .experiment_by_name(name)?
                    .ok_or_else(|| MlflowError::Protocol {
                        uri: client.uri().to_string(),
                        endpoint: "GET /api/2.0/mlflow/experiments/get-by-name".to_string(),
                        detail: format!("experiment {name:?} is missing right after its creation"),
                    })?;
            (experiment, true)
        }
    };
    if experiment.lifecycle_stage == "deleted" {
        return Err(MlflowError::DeletedExperiment {
            uri: client.uri().to_string(),
            name: name.to_string(),
            id: experiment.experiment_id,
        });
    }
    if artifact_path(&experiment.artifact_location).is_none() {
        return Err(MlflowError::NoArtifactServing {
            uri: client.uri().to_string(),
            experiment: name.to_string(),
            location: experiment.artifact_location,
        });
    }
    Ok((experiment, created))
}

/// Runs by their cxr run id. Two MLflow runs of one cxr run (two exports racing) should not
/// happen; if they do, the one an export finished is kept, else the first.
fn by_run_id(runs: Vec<RemoteRun>) -> BTreeMap<String, RemoteRun> {
    let mut out: BTreeMap<String, RemoteRun> = BTreeMap::new();
    for run in runs {
        let Some(id) = run.tags.get(RUN_ID_TAG).cloned() else {
            continue;
        };
        let Some(kept) = out.get(&id) else {
            out.insert(id, run);
            continue;
        };
        let replace = !kept.tags.contains_key(EXPORT_TAG) && run.tags.contains_key(EXPORT_TAG);
        let (chosen, other) = if replace { (&run, kept) } else { (kept, &run) };
        tracing::warn!(
            "MLflow runs {} and {} both hold cxr run {id}; exporting to {} only",
            chosen.run_id,
            other.run_id,
            chosen.run_id
        );
        if replace {
            out.insert(id, run);
        }
    }
    out
}

/// Where `run`'s artifacts go, relative to the server's artifact root.
fn artifact_root(client: &Client, experiment: &Experiment, run: &RemoteRun) -> Result<String> {
    artifact_path(&run.artifact_uri).ok_or_else(|| MlflowError::NoArtifactServing {
        uri: client.uri().to_string(),
        experiment: experiment.name.clone(),
        location: run.artifact_uri.clone(),
    })
}

/// What the server holds of `run` that `export` could lack: the steps of the metrics it has
/// values of, and the files in its artifact folders.
fn fetch_state(
    client: &Client,
    run: &RemoteRun,
    root: &str,
    export: &RunExport,
) -> Result<RemoteState> {
    let mut state = RemoteState {
        run: run.clone(),
        ..RemoteState::default()
    };
    for key in metrics_to_fetch(export, run) {
        let steps = client.metric_steps(&run.run_id, &key)?;
        state.metric_steps.insert(key, steps);
    }
    for folder in artifact_folders(export) {
        let (listed, prefix) = if folder.is_empty() {
            (client.list_artifacts(root)?, String::new())
        } else {
            (
                client.list_artifacts(&format!("{root}/{folder}"))?,
                format!("{folder}/"),
            )
        };
        for entry in listed.into_iter().filter(|e| !e.is_dir) {
            state
                .artifacts
                .insert(format!("{prefix}{}", entry.name), entry.size);
        }
    }
    Ok(state)
}

/// Sends `delta` to `run`, in the resumable order, then marks the run exported.
fn send(
    client: &Client,
    run: &RemoteRun,
    root: &str,
    export: &RunExport,
    delta: &Delta<'_>,
) -> Result<()> {
    for (key, value) in &delta.conflicting_params {
        tracing::warn!(
            "{}: param {key} is {value:?} in MLflow run {}, which MLflow never changes; \
             export to a new experiment (--experiment) to record the new value",
            export.run_id,
            run.run_id
        );
    }
    client.log(&run.run_id, &delta.metrics, &delta.params, &delta.tags)?;
    for artifact in &delta.artifacts {
        let bytes = std::fs::read(&artifact.file).map_err(MlflowError::io(&artifact.file))?;
        let path = format!("{root}/{}", artifact.path);
        client.upload_artifact(&path, artifact.content_type(), &bytes)?;
    }
    if delta.finish {
        client.finish_run(&run.run_id, export.status.as_str(), export.end_time_ms)?;
    }
    client.log(
        &run.run_id,
        &[],
        &[],
        &[KeyValue::new(EXPORT_TAG, &export.fingerprint)],
    )?;
    Ok(())
}

/// `3 params, 70 metric values, 2 tags, 9 files` (the parts that are not zero).
fn counts(delta: &Delta<'_>) -> String {
    let parts = [
        (delta.params.len(), "params"),
        (delta.metrics.len(), "metric values"),
        (delta.tags.len(), "tags"),
        (delta.artifacts.len(), "files"),
    ];
    let said: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if said.is_empty() {
        "status".to_string()
    } else {
        said.join(", ")
    }
}

/// The name of the folder `path` (`results/ci` -> `ci`, `.` -> the current folder's name).
fn folder_name(path: &Path) -> Result<String> {
    let full = path.canonicalize().map_err(MlflowError::io(path))?;
    full.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| MlflowError::NotAGrid {
            path: path.to_path_buf(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(run_id: &str, cxr_id: &str, exported: bool) -> RemoteRun {
        let mut tags = BTreeMap::from([(RUN_ID_TAG.to_string(), cxr_id.to_string())]);
        if exported {
            tags.insert(EXPORT_TAG.to_string(), "f".to_string());
        }
        RemoteRun {
            run_id: run_id.into(),
            tags,
            ..RemoteRun::default()
        }
    }

    #[test]
    fn duplicate_runs_resolve_to_the_finished_one() {
        let runs = vec![
            remote("m1", "a", false),
            remote("m2", "a", true),
            remote("m3", "b", false),
            remote("m4", "b", false),
        ];
        let index = by_run_id(runs);
        let picked: Vec<(&str, &str)> = index
            .iter()
            .map(|(id, run)| (id.as_str(), run.run_id.as_str()))
            .collect();
        assert_eq!(picked, [("a", "m2"), ("b", "m3")]);
    }

    #[test]
    fn a_folder_that_is_not_a_grid_is_refused_before_any_request(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        // A port nothing listens on: the error must be about the folder, not the server.
        let err = export_grid(tmp.path(), "http://127.0.0.1:9", None).err();
        assert!(matches!(err, Some(MlflowError::NotAGrid { .. })), "{err:?}");
        Ok(())
    }

    #[test]
    fn a_closed_port_fails_naming_the_server() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        std::fs::create_dir_all(tmp.path().join("ci/runs"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let uri = format!("http://127.0.0.1:{port}");
        let err = export_grid(&tmp.path().join("ci"), &uri, None)
            .err()
            .ok_or("exported to a closed port")?;
        assert!(matches!(err, MlflowError::Unreachable { .. }), "{err:?}");
        assert!(err.to_string().contains(&uri));
        Ok(())
    }

    #[test]
    fn the_folder_name_is_the_default_experiment() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let grid = tmp.path().join("ci");
        std::fs::create_dir_all(grid.join("runs"))?;
        assert_eq!(folder_name(&grid.join("runs/.."))?, "ci");
        Ok(())
    }
}
