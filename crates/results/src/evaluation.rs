//! The Parquet file `cxr evaluate --out` writes: everything it prints, in one long table.
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
//! `macro_recall`, `macro_recall_low`, `macro_recall_high` (95% bootstrap bounds), `ece`
//! (expected calibration error, 15 bins), `temperature` (null unless the run was calibrated);
//! per class
//! `precision`, `recall`, `f1`, `support`, `roc_auc`; and `confusion` (count of `class` images
//! predicted as `predicted_class`).

use std::path::Path;

use crate::error::Result;
use crate::run_tables::ConfusionRow;
use crate::table::{read_rows, write_rows};

crate::table! {
    /// One row of an evaluation table.
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
}

impl MetricRow {
    /// An overall metric.
    pub fn overall(metric: &str, value: Option<f64>) -> Self {
        Self {
            metric: metric.into(),
            class: None,
            predicted_class: None,
            value,
        }
    }

    /// A metric of one class.
    pub fn of_class(metric: &str, class: &str, value: Option<f64>) -> Self {
        Self {
            metric: metric.into(),
            class: Some(class.into()),
            predicted_class: None,
            value,
        }
    }
}

impl From<ConfusionRow> for MetricRow {
    /// A `confusion` row: images of `true_class` predicted as `predicted_class`.
    fn from(cell: ConfusionRow) -> Self {
        Self {
            metric: "confusion".into(),
            class: Some(cell.true_class),
            predicted_class: Some(cell.predicted_class),
            value: Some(cell.count as f64),
        }
    }
}

/// Writes the evaluation of run `run_id` on dataset `data` to `path` (atomically).
pub fn write_evaluation(path: &Path, run_id: &str, data: &Path, rows: &[MetricRow]) -> Result<()> {
    let data = data.to_string_lossy();
    write_rows(path, &[("run_id", run_id), ("data", &data)], rows)
}

/// Reads the rows of an evaluation table.
pub fn read_evaluation(path: &Path) -> Result<Vec<MetricRow>> {
    read_rows(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read_frame;

    #[test]
    fn evaluation_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("eval.parquet");
        let rows = vec![
            MetricRow::overall("micro_recall", Some(0.75)),
            MetricRow::of_class("roc_auc", "COVID", None),
            MetricRow::from(ConfusionRow {
                true_class: "COVID".into(),
                predicted_class: "Normal".into(),
                count: 2,
            }),
        ];
        write_evaluation(&path, "r", Path::new("/data/x"), &rows)?;
        assert_eq!(read_evaluation(&path)?, rows);
        let df = read_frame(&path)?;
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "run_id",
                "data",
                "metric",
                "class",
                "predicted_class",
                "value"
            ]
        );
        Ok(())
    }
}
