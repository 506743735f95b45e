//! MLflow's REST API, the calls an export makes, as typed methods: experiments by name, runs of
//! an experiment, a run's creation, update and `log-batch`, a metric's history, and artifacts
//! through the server's proxy (`/api/2.0/mlflow-artifacts/artifacts`, what `mlflow server`
//! serves by default; checked against `mlflow/server/handlers.py` of MLflow 3.17). What the
//! calls return is in [`crate::remote`].

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::batch::{batches, KeyValue, MetricPoint};
use crate::error::{MlflowError, Result};
use crate::http::Http;
use crate::remote::{ArtifactEntry, Experiment, FileJson, RemoteRun, RunJson, StepJson};

const API: &str = "/api/2.0/mlflow";
const ARTIFACTS: &str = "/api/2.0/mlflow-artifacts/artifacts";
/// Runs per page of `runs/search` (MLflow's default and the usual server maximum).
const SEARCH_PAGE: u32 = 1000;

/// The typed MLflow calls, over one [`Http`] client.
#[derive(Debug, Clone)]
pub struct Client {
    http: Http,
}

impl Client {
    /// A client for the tracking server at `uri`; nothing is sent yet.
    pub fn new(uri: &str) -> Result<Self> {
        Ok(Self {
            http: Http::new(uri)?,
        })
    }

    /// The tracking URI.
    pub fn uri(&self) -> &str {
        self.http.uri()
    }

    /// The experiment called `name`, deleted ones included; `None` when there is none.
    pub fn experiment_by_name(&self, name: &str) -> Result<Option<Experiment>> {
        let path = format!("{API}/experiments/get-by-name");
        match self.http.get(&path, &[("experiment_name", name)]) {
            Ok(answer) => self.field(&answer, "experiment", &path).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates experiment `name` with the server's default artifact location; its id.
    pub fn create_experiment(&self, name: &str) -> Result<String> {
        let path = format!("{API}/experiments/create");
        let answer = self.http.post(&path, &json!({ "name": name }))?;
        self.field(&answer, "experiment_id", &path)
    }

    /// Every active run of experiment `experiment_id` that has tag `tag`, page by page.
    pub fn runs_with_tag(&self, experiment_id: &str, tag: &str) -> Result<Vec<RemoteRun>> {
        let path = format!("{API}/runs/search");
        let mut runs = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut body = json!({
                "experiment_ids": [experiment_id],
                "filter": format!("tags.\"{tag}\" LIKE '%'"),
                "run_view_type": "ACTIVE_ONLY",
                "max_results": SEARCH_PAGE,
            });
            if let Some(token) = &page_token {
                body["page_token"] = json!(token);
            }
            let answer = self.http.post(&path, &body)?;
            let page: Vec<RunJson> = self.optional_field(&answer, "runs", &path)?;
            runs.extend(page.into_iter().map(RunJson::into_remote));
            page_token = answer["next_page_token"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if page_token.is_none() {
                return Ok(runs);
            }
        }
    }

    /// Creates a run (status `RUNNING`) named `name` in `experiment_id`, started at
    /// `start_time_ms`, with `tags`.
    pub fn create_run(
        &self,
        experiment_id: &str,
        name: &str,
        start_time_ms: i64,
        tags: &[KeyValue],
    ) -> Result<RemoteRun> {
        let path = format!("{API}/runs/create");
        let body = json!({
            "experiment_id": experiment_id,
            "run_name": name,
            "start_time": start_time_ms,
            "tags": tags,
        });
        let answer = self.http.post(&path, &body)?;
        let run: RunJson = self.field(&answer, "run", &path)?;
        Ok(run.into_remote())
    }

    /// Sets a run's status (`FINISHED`, `FAILED`) and end time.
    pub fn finish_run(&self, run_id: &str, status: &str, end_time_ms: i64) -> Result<()> {
        let body = json!({ "run_id": run_id, "status": status, "end_time": end_time_ms });
        self.http.post(&format!("{API}/runs/update"), &body)?;
        Ok(())
    }

    /// Logs `metrics`, `params` and `tags` to a run in as few `log-batch` requests as MLflow's
    /// limits allow; returns the number of requests.
    pub fn log(
        &self,
        run_id: &str,
        metrics: &[MetricPoint],
        params: &[KeyValue],
        tags: &[KeyValue],
    ) -> Result<usize> {
        let path = format!("{API}/runs/log-batch");
        let batches = batches(metrics, params, tags);
        for batch in &batches {
            self.http.post(&path, &batch.to_json(run_id))?;
        }
        Ok(batches.len())
    }

    /// The steps at which a run has a value of metric `key`.
    pub fn metric_steps(&self, run_id: &str, key: &str) -> Result<BTreeSet<i64>> {
        let path = format!("{API}/metrics/get-history");
        let mut steps = BTreeSet::new();
        let mut page_token = String::new();
        loop {
            let mut query = vec![("run_id", run_id), ("metric_key", key)];
            if !page_token.is_empty() {
                query.push(("page_token", &page_token));
            }
            let answer = self.http.get(&path, &query)?;
            let points: Vec<StepJson> = self.optional_field(&answer, "metrics", &path)?;
            steps.extend(points.into_iter().map(|p| p.step.unwrap_or(0)));
            match answer["next_page_token"].as_str() {
                Some(token) if !token.is_empty() => page_token = token.to_string(),
                _ => return Ok(steps),
            }
        }
    }

    /// The entries of folder `path` (relative to the server's artifact root, e.g.
    /// `1/<run id>/artifacts/figures`); empty when it does not exist.
    pub fn list_artifacts(&self, path: &str) -> Result<Vec<ArtifactEntry>> {
        let answer = self.http.get(ARTIFACTS, &[("path", path)])?;
        let files: Vec<FileJson> = self.optional_field(&answer, "files", ARTIFACTS)?;
        Ok(files
            .into_iter()
            .map(|f| ArtifactEntry {
                name: f.path.rsplit('/').next().unwrap_or_default().to_string(),
                is_dir: f.is_dir,
                size: f.file_size.and_then(|s| u64::try_from(s).ok()),
            })
            .collect())
    }

    /// Uploads `bytes` as the file `path` (relative to the server's artifact root), replacing
    /// any file there.
    pub fn upload_artifact(&self, path: &str, content_type: &str, bytes: &[u8]) -> Result<()> {
        let url_path = format!("{ARTIFACTS}/{}", encode_path(path));
        self.http.put(&url_path, content_type, bytes)?;
        Ok(())
    }

    /// Field `name` of an answer, which must be there.
    fn field<T: serde::de::DeserializeOwned>(
        &self,
        answer: &Value,
        name: &str,
        path: &str,
    ) -> Result<T> {
        let value = answer
            .get(name)
            .ok_or_else(|| self.protocol(path, &format!("no `{name}`")))?;
        serde_json::from_value(value.clone())
            .map_err(|e| self.protocol(path, &format!("`{name}`: {e}")))
    }

    /// Field `name` of an answer, its default when absent (protobuf's JSON leaves out empty
    /// lists).
    fn optional_field<T: serde::de::DeserializeOwned + Default>(
        &self,
        answer: &Value,
        name: &str,
        path: &str,
    ) -> Result<T> {
        match answer.get(name) {
            None | Some(Value::Null) => Ok(T::default()),
            Some(_) => self.field(answer, name, path),
        }
    }

    fn protocol(&self, path: &str, detail: &str) -> MlflowError {
        MlflowError::Protocol {
            uri: self.uri().to_string(),
            endpoint: path.to_string(),
            detail: detail.to_string(),
        }
    }
}

/// The path of a run's artifact folder relative to the server's artifact root, from its
/// `artifact_uri`: `mlflow-artifacts:/1/<run>/artifacts` (or `mlflow-artifacts://host/1/...`,
/// or the same through `http(s)://.../api/2.0/mlflow-artifacts/artifacts/1/...`) gives
/// `1/<run>/artifacts`. `None` for anything else (a path on the server's disk, a bucket): the
/// server does not proxy those, so nothing can upload there over REST. The host an
/// `mlflow-artifacts://host` URI names is ignored: uploads go to the tracking server.
pub fn artifact_path(artifact_uri: &str) -> Option<String> {
    let rest = match artifact_uri.strip_prefix("mlflow-artifacts:") {
        Some(rest) => match rest.strip_prefix("//") {
            Some(authority_and_path) => authority_and_path.split_once('/')?.1,
            None => rest,
        },
        None if artifact_uri.starts_with("http://") || artifact_uri.starts_with("https://") => {
            artifact_uri.split_once(&format!("{ARTIFACTS}/"))?.1
        }
        None => return None,
    };
    let path = rest.trim_matches('/');
    (!path.is_empty()).then(|| path.to_string())
}

/// `path` with every byte outside RFC 3986's unreserved set and `/` percent-encoded.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_paths_of_proxied_uris_only() {
        for (uri, path) in [
            ("mlflow-artifacts:/1/abc/artifacts", Some("1/abc/artifacts")),
            (
                "mlflow-artifacts://127.0.0.1:5000/1/abc/artifacts",
                Some("1/abc/artifacts"),
            ),
            (
                "http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts",
                Some("1/abc/artifacts"),
            ),
            ("mlflow-artifacts:/", None),
            ("/srv/mlruns/1/abc/artifacts", None),
            ("file:///srv/mlruns/1/abc/artifacts", None),
            ("s3://bucket/1/abc/artifacts", None),
        ] {
            assert_eq!(artifact_path(uri).as_deref(), path, "{uri}");
        }
    }

    #[test]
    fn paths_are_encoded_segment_safe() {
        assert_eq!(
            encode_path("1/ab-c_d/artifacts/figures/curves.png"),
            "1/ab-c_d/artifacts/figures/curves.png"
        );
        assert_eq!(encode_path("a b/é?#"), "a%20b/%C3%A9%3F%23");
    }
}
