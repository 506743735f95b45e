//! What the server holds, as the export reads it: an [`Experiment`], a [`RemoteRun`] with its
//! params, tags and metric names, an [`ArtifactEntry`] of a folder listing; and their decoding
//! from MLflow's JSON. int64 fields (times, steps, sizes) arrive as JSON strings (protobuf's JSON
//! mapping) or, from some servers and endpoints, as numbers; both read. Fields at their default
//! (a step of 0) may be absent.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

/// An MLflow experiment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Experiment {
    /// Its id.
    pub experiment_id: String,
    /// Its name.
    pub name: String,
    /// Where its runs' artifacts go, e.g. `mlflow-artifacts:/1`.
    #[serde(default)]
    pub artifact_location: String,
    /// `active` or `deleted`.
    #[serde(default)]
    pub lifecycle_stage: String,
}

/// A run as the server holds it: what [`crate::missing`] compares an export with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteRun {
    /// MLflow's run id.
    pub run_id: String,
    /// `RUNNING`, `FINISHED`, `FAILED`, ...
    pub status: String,
    /// When the run started, ms since the Unix epoch.
    pub start_time: Option<i64>,
    /// When it ended; `None` while running.
    pub end_time: Option<i64>,
    /// Where its artifacts live, e.g. `mlflow-artifacts:/1/<run id>/artifacts`.
    pub artifact_uri: String,
    /// Its params.
    pub params: BTreeMap<String, String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The metrics it has at least one value of.
    pub metric_keys: BTreeSet<String>,
}

/// One entry of an artifact folder's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactEntry {
    /// The name within the folder listed.
    pub name: String,
    /// A folder.
    pub is_dir: bool,
    /// Bytes (files only).
    pub size: Option<u64>,
}

/// An int64 as protobuf's JSON writes it (a string) or as a number.
fn int64<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom("not an int64")),
        Some(Value::String(s)) => s.parse().map(Some).map_err(D::Error::custom),
        Some(other) => Err(D::Error::custom(format!("not an int64: {other}"))),
    }
}

/// A run of `runs/search`, `runs/create` or `runs/get`.
#[derive(Deserialize)]
pub(crate) struct RunJson {
    info: RunInfoJson,
    #[serde(default)]
    data: RunDataJson,
}

#[derive(Deserialize)]
struct RunInfoJson {
    run_id: String,
    #[serde(default)]
    status: String,
    #[serde(default, deserialize_with = "int64")]
    start_time: Option<i64>,
    #[serde(default, deserialize_with = "int64")]
    end_time: Option<i64>,
    #[serde(default)]
    artifact_uri: String,
}

#[derive(Deserialize, Default)]
struct RunDataJson {
    #[serde(default)]
    metrics: Vec<KeyJson>,
    #[serde(default)]
    params: Vec<KeyValueJson>,
    #[serde(default)]
    tags: Vec<KeyValueJson>,
}

#[derive(Deserialize)]
struct KeyJson {
    key: String,
}

#[derive(Deserialize)]
struct KeyValueJson {
    key: String,
    #[serde(default)]
    value: String,
}

/// A point of `metrics/get-history` (only its step matters here).
#[derive(Deserialize)]
pub(crate) struct StepJson {
    #[serde(default, deserialize_with = "int64")]
    pub(crate) step: Option<i64>,
}

/// An entry of `mlflow-artifacts/artifacts?path=`.
#[derive(Deserialize)]
pub(crate) struct FileJson {
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) is_dir: bool,
    #[serde(default, deserialize_with = "int64")]
    pub(crate) file_size: Option<i64>,
}

impl RunJson {
    /// The run as the export compares it.
    pub(crate) fn into_remote(self) -> RemoteRun {
        let pairs = |kvs: Vec<KeyValueJson>| kvs.into_iter().map(|kv| (kv.key, kv.value)).collect();
        RemoteRun {
            run_id: self.info.run_id,
            status: self.info.status,
            start_time: self.info.start_time,
            end_time: self.info.end_time.filter(|&t| t > 0),
            artifact_uri: self.info.artifact_uri,
            params: pairs(self.data.params),
            tags: pairs(self.data.tags),
            metric_keys: self.data.metrics.into_iter().map(|m| m.key).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runs_read_as_mlflow_3_writes_them() -> Result<(), Box<dyn std::error::Error>> {
        // A run of `POST /api/2.0/mlflow/runs/search` from MLflow 3.17's server (int64 as text,
        // end_time absent while running).
        let answer = json!({"run": {
            "info": {"run_id": "9f2", "status": "RUNNING", "start_time": "1765038540000",
                     "artifact_uri": "mlflow-artifacts:/1/9f2/artifacts"},
            "data": {"metrics": [{"key": "val_loss", "value": "NaN", "timestamp": "1", "step": "3"}],
                     "params": [{"key": "train.lr", "value": "0.002"}],
                     "tags": [{"key": "cxr.run_id", "value": "cnn-f0-s0-b69aead1c94d"}]}}});
        let run: RunJson = serde_json::from_value(answer["run"].clone())?;
        let run = run.into_remote();
        assert_eq!(
            (run.start_time, run.end_time),
            (Some(1_765_038_540_000), None)
        );
        assert_eq!(run.params["train.lr"], "0.002");
        assert_eq!(run.tags["cxr.run_id"], "cnn-f0-s0-b69aead1c94d");
        assert!(run.metric_keys.contains("val_loss"));
        let steps: Vec<StepJson> = serde_json::from_value(json!([{"step": "2"}, {}, {"step": 5}]))?;
        assert_eq!(
            steps.iter().map(|s| s.step).collect::<Vec<_>>(),
            [Some(2), None, Some(5)]
        );
        Ok(())
    }
}
