//! What a run's params, tags and metrics are sent as: `runs/log-batch` requests, each within
//! MLflow's limits (`mlflow/utils/validation.py`: 1000 metrics, 100 params, 100 tags and 1000
//! entities in all per request), so a run of a few hundred epochs takes a handful of requests.

use serde_json::{json, Value};

/// Most metrics in one `log-batch`.
pub const MAX_METRICS_PER_BATCH: usize = 1000;
/// Most params, and most tags, in one `log-batch`.
pub const MAX_PARAMS_TAGS_PER_BATCH: usize = 100;
/// Most entities (metrics, params and tags together) in one `log-batch`.
pub const MAX_ENTITIES_PER_BATCH: usize = 1000;

/// A param or a tag: `key = value`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct KeyValue {
    /// The key, e.g. `train.lr` or `cxr.run_id`.
    pub key: String,
    /// The value, as MLflow stores it (text).
    pub value: String,
}

impl KeyValue {
    /// `key = value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// One value of a metric: its step (the epoch, or 0 for a run's final numbers) and when it was
/// measured.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// The metric, e.g. `val_loss`.
    pub key: String,
    /// Its value (NaN and infinities are sent as MLflow's JSON spells them).
    pub value: f64,
    /// The step: the 1-based epoch for per-epoch metrics, 0 for final ones.
    pub step: i64,
    /// When, in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

impl MetricPoint {
    /// The point as `log-batch` takes it.
    fn to_json(&self) -> Value {
        // Protobuf's JSON mapping (which MLflow parses requests with) spells non-finite doubles
        // as strings; JSON itself has no NaN.
        let value = if self.value.is_nan() {
            json!("NaN")
        } else if self.value.is_infinite() {
            json!(if self.value > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            })
        } else {
            json!(self.value)
        };
        json!({
            "key": self.key,
            "value": value,
            "timestamp": self.timestamp_ms,
            "step": self.step,
        })
    }
}

/// One `log-batch` request's content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Metric values.
    pub metrics: Vec<MetricPoint>,
    /// Params.
    pub params: Vec<KeyValue>,
    /// Tags.
    pub tags: Vec<KeyValue>,
}

impl Batch {
    /// The request body for run `run_id`.
    pub fn to_json(&self, run_id: &str) -> Value {
        json!({
            "run_id": run_id,
            "metrics": self.metrics.iter().map(MetricPoint::to_json).collect::<Vec<_>>(),
            "params": self.params,
            "tags": self.tags,
        })
    }
}

/// `metrics`, `params` and `tags` cut into as few batches as MLflow's limits allow, each
/// non-empty, in order (params and tags first, so that a run's settings arrive before its
/// numbers). Nothing to send gives no batch.
pub fn batches(metrics: &[MetricPoint], params: &[KeyValue], tags: &[KeyValue]) -> Vec<Batch> {
    let (mut metrics, mut params, mut tags) = (metrics, params, tags);
    let mut out = Vec::new();
    while !(metrics.is_empty() && params.is_empty() && tags.is_empty()) {
        let (p, rest) = params.split_at(params.len().min(MAX_PARAMS_TAGS_PER_BATCH));
        params = rest;
        let (t, rest) = tags.split_at(tags.len().min(MAX_PARAMS_TAGS_PER_BATCH));
        tags = rest;
        let room = (MAX_ENTITIES_PER_BATCH - p.len() - t.len()).min(MAX_METRICS_PER_BATCH);
        let (m, rest) = metrics.split_at(metrics.len().min(room));
        metrics = rest;
        out.push(Batch {
            metrics: m.to_vec(),
            params: p.to_vec(),
            tags: t.to_vec(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(n: usize) -> Vec<MetricPoint> {
        (0..n)
            .map(|i| MetricPoint {
                key: "train_loss".into(),
                value: i as f64,
                step: i as i64 + 1,
                timestamp_ms: 1_700_000_000_000 + i as i64,
            })
            .collect()
    }

    fn kvs(prefix: &str, n: usize) -> Vec<KeyValue> {
        (0..n)
            .map(|i| KeyValue::new(format!("{prefix}{i}"), i.to_string()))
            .collect()
    }

    #[test]
    fn batches_respect_every_limit_and_lose_nothing() {
        for (m, p, t) in [
            (0, 0, 0),
            (1, 0, 0),
            (999, 1, 0),
            (1000, 100, 100),
            (2500, 250, 7),
            (0, 101, 0),
        ] {
            let (metrics, params, tags) = (points(m), kvs("p", p), kvs("t", t));
            let out = batches(&metrics, &params, &tags);
            for b in &out {
                assert!(b.metrics.len() <= MAX_METRICS_PER_BATCH);
                assert!(b.params.len() <= MAX_PARAMS_TAGS_PER_BATCH);
                assert!(b.tags.len() <= MAX_PARAMS_TAGS_PER_BATCH);
                assert!(b.metrics.len() + b.params.len() + b.tags.len() <= MAX_ENTITIES_PER_BATCH);
                assert!(b.metrics.len() + b.params.len() + b.tags.len() > 0);
            }
            let rejoined: Vec<MetricPoint> = out.iter().flat_map(|b| b.metrics.clone()).collect();
            assert_eq!(rejoined, metrics);
            let rejoined: Vec<KeyValue> = out.iter().flat_map(|b| b.params.clone()).collect();
            assert_eq!(rejoined, params);
            let rejoined: Vec<KeyValue> = out.iter().flat_map(|b| b.tags.clone()).collect();
            assert_eq!(rejoined, tags);
        }
        // 2500 metrics with 250 params: 100 params + 900 metrics, twice, then 50 + 700.
        assert_eq!(batches(&points(2500), &kvs("p", 250), &[]).len(), 3);
    }

    #[test]
    fn non_finite_values_are_spelled_as_protobuf_json_does() {
        let json = Batch {
            metrics: [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5]
                .into_iter()
                .map(|value| MetricPoint {
                    key: "val_loss".into(),
                    value,
                    step: 1,
                    timestamp_ms: 2,
                })
                .collect(),
            ..Batch::default()
        }
        .to_json("r");
        let values: Vec<&Value> = json["metrics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| &m["value"])
            .collect();
        assert_eq!(
            values,
            [
                &json!("NaN"),
                &json!("Infinity"),
                &json!("-Infinity"),
                &json!(0.5)
            ]
        );
        assert_eq!(json["run_id"], "r");
    }
}
