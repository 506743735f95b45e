//! The Parquet file `cxr evaluate --out` writes: everything it prints, in one long table.
//!
//! Columns (defined here and nowhere else; README.md documents them):
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `run_id` | str | the run evaluated |
//! | `data` | str | the dataset root |
//! | `metric` | str | see below |
//! | `class` | str, null | the (true) class the row is about; null for overall rows |
//! | `predicted_class` | str, null | the predicted class of a `confusion` row; null otherwise |
//! | `value` | f64, null | the number; null where undefined (an AUC without positives) |
//!
//! Metrics: overall `images`, `micro_recall`, `micro_recall_low`, `micro_recall_high`,
//! `macro_recall`, `macro_recall_low`, `macro_recall_high` (95% bootstrap bounds); per class
//! `precision`, `recall`, `f1`, `support`, `roc_auc`; and `confusion` (count of `class` images
//! predicted as `predicted_class`).

use std::io::Cursor;
use std::path::Path;

use polars::prelude::*;

use crate::error::{InferenceError, Result};
use crate::evaluate::ExternalEvaluation;

/// One row of the evaluation table.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    /// Metric name.
    pub metric: String,
    /// The (true) class, for per-class and confusion rows.
    pub class: Option<String>,
    /// The predicted class, for confusion rows.
    pub predicted_class: Option<String>,
    /// The value; `None` where undefined.
    pub value: Option<f64>,
}

impl MetricRow {
    fn overall(metric: &str, value: Option<f64>) -> Self {
        Self {
            metric: metric.into(),
            class: None,
            predicted_class: None,
            value,
        }
    }

    fn of_class(metric: &str, class: &str, value: Option<f64>) -> Self {
        Self {
            metric: metric.into(),
            class: Some(class.into()),
            predicted_class: None,
            value,
        }
    }
}

/// The rows of `eval`, overall first, then per class, then the confusion matrix.
pub fn metric_rows(eval: &ExternalEvaluation) -> Vec<MetricRow> {
    let ci = eval.intervals;
    let mut rows = vec![
        MetricRow::overall("images", Some(eval.images() as f64)),
        MetricRow::overall("micro_recall", Some(eval.micro_recall())),
        MetricRow::overall("micro_recall_low", ci.map(|c| c.micro.low)),
        MetricRow::overall("micro_recall_high", ci.map(|c| c.micro.high)),
        MetricRow::overall("macro_recall", Some(eval.macro_recall())),
        MetricRow::overall("macro_recall_low", ci.map(|c| c.macro_.low)),
        MetricRow::overall("macro_recall_high", ci.map(|c| c.macro_.high)),
    ];
    for ((class, m), auc) in eval.classes.iter().zip(eval.per_class()).zip(&eval.roc_auc) {
        rows.push(MetricRow::of_class("precision", class, Some(m.precision)));
        rows.push(MetricRow::of_class("recall", class, Some(m.recall)));
        rows.push(MetricRow::of_class("f1", class, Some(m.f1)));
        rows.push(MetricRow::of_class(
            "support",
            class,
            Some(m.support as f64),
        ));
        rows.push(MetricRow::of_class("roc_auc", class, *auc));
    }
    for (t, row) in eval.evaluation.confusion.matrix.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            rows.push(MetricRow {
                metric: "confusion".into(),
                class: Some(eval.classes[t].clone()),
                predicted_class: Some(eval.classes[p].clone()),
                value: Some(count as f64),
            });
        }
    }
    rows
}

/// Writes `eval` to `path` as Parquet (atomically).
pub fn write_evaluation(path: &Path, eval: &ExternalEvaluation) -> Result<()> {
    let rows = metric_rows(eval);
    let n = rows.len();
    let write_err = |e: PolarsError| InferenceError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let data = eval.data.to_string_lossy().into_owned();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("run_id".into(), vec![eval.run_id.clone(); n]),
        Column::new("data".into(), vec![data; n]),
        Column::new(
            "metric".into(),
            rows.iter().map(|r| r.metric.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "class".into(),
            rows.iter().map(|r| r.class.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "predicted_class".into(),
            rows.iter()
                .map(|r| r.predicted_class.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "value".into(),
            rows.iter().map(|r| r.value).collect::<Vec<_>>(),
        ),
    ])
    .map_err(write_err)?;
    let mut buf = Cursor::new(Vec::new());
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(write_err)?;
    cxr_results::write_atomic(path, buf.get_ref())?;
    Ok(())
}
