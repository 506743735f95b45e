//! The per-run tables: `history.parquet` (one row per epoch), `per_class.parquet` and
//! `confusion.parquet` (test split). Each carries the run id on every row, so the tables of
//! many runs concatenate.

use std::path::Path;

use crate::error::Result;
use crate::table::{read_rows, write_rows};

crate::table! {
    /// One row of `history.parquet`: one epoch. The trainer builds these as it trains and
    /// hands each to its observer, so an epoch's record has this one type from loop to file.
    #[derive(Debug, Clone, PartialEq)]
    pub struct HistoryRow {
        /// 1-based epoch.
        pub epoch: i64,
        /// Mean training loss.
        pub train_loss: f64,
        /// Mean validation loss.
        pub val_loss: f64,
        /// Validation micro-recall.
        pub val_micro_recall: f64,
        /// Validation macro-recall.
        pub val_macro_recall: f64,
        /// Validation mean AUROC over findings (multi-label runs; null otherwise).
        pub val_mean_auroc: Option<f64>,
        /// Training wall time, seconds.
        pub train_time_s: f64,
        /// Validation wall time, seconds.
        pub eval_time_s: f64,
        /// This is the epoch whose weights were kept (set once training ends).
        pub kept: bool,
    }
}

crate::table! {
    /// One row of `per_class.parquet` (test split).
    #[derive(Debug, Clone, PartialEq)]
    pub struct PerClassRow {
        /// Class name.
        pub class: String,
        /// Precision.
        pub precision: f64,
        /// Recall.
        pub recall: f64,
        /// F1.
        pub f1: f64,
        /// Number of test images of the class.
        pub support: i64,
    }
}

crate::table! {
    /// One row of `confusion.parquet` (test split, long format).
    #[derive(Debug, Clone, PartialEq)]
    pub struct ConfusionRow {
        /// True class.
        pub true_class: String,
        /// Predicted class.
        pub predicted_class: String,
        /// Number of test images.
        pub count: i64,
    }
}

impl ConfusionRow {
    /// The long form of a confusion `matrix` (`matrix[true][predicted]`) over `classes`.
    pub fn from_matrix(classes: &[String], matrix: &[Vec<u64>]) -> Vec<Self> {
        let mut rows = Vec::with_capacity(classes.len() * classes.len());
        for (t, row) in matrix.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                rows.push(Self {
                    true_class: classes[t].clone(),
                    predicted_class: classes[p].clone(),
                    count: count as i64,
                });
            }
        }
        rows
    }
}

/// Writes a run's `history.parquet` (with its run id on every row).
pub(crate) fn write_history(path: &Path, run_id: &str, rows: &[HistoryRow]) -> Result<()> {
    write_rows(path, &[("run_id", run_id)], rows)
}

/// Reads a run's `history.parquet` back into rows.
pub fn read_history(path: &Path) -> Result<Vec<HistoryRow>> {
    read_rows(path)
}

/// Writes a run's `per_class.parquet`.
pub(crate) fn write_per_class(path: &Path, run_id: &str, rows: &[PerClassRow]) -> Result<()> {
    write_rows(path, &[("run_id", run_id)], rows)
}

/// Reads a run's `per_class.parquet` back into rows.
pub fn read_per_class(path: &Path) -> Result<Vec<PerClassRow>> {
    read_rows(path)
}

/// Writes a run's `confusion.parquet`.
pub(crate) fn write_confusion(path: &Path, run_id: &str, rows: &[ConfusionRow]) -> Result<()> {
    write_rows(path, &[("run_id", run_id)], rows)
}

/// Reads a run's `confusion.parquet` back into rows.
pub fn read_confusion(path: &Path) -> Result<Vec<ConfusionRow>> {
    read_rows(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::read_frame;

    #[test]
    fn run_tables_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let history = vec![HistoryRow {
            epoch: 1,
            train_loss: 1.5,
            val_loss: 1.25,
            val_micro_recall: 0.5,
            val_macro_recall: 0.25,
            val_mean_auroc: None,
            train_time_s: 3.0,
            eval_time_s: 0.5,
            kept: true,
        }];
        let per_class = vec![PerClassRow {
            class: "COVID".into(),
            precision: 0.5,
            recall: 0.75,
            f1: 0.6,
            support: 4,
        }];
        let confusion = vec![ConfusionRow {
            true_class: "COVID".into(),
            predicted_class: "Normal".into(),
            count: 3,
        }];
        let (h, p, c) = (
            dir.path().join("h"),
            dir.path().join("p"),
            dir.path().join("c"),
        );
        write_history(&h, "r", &history)?;
        write_per_class(&p, "r", &per_class)?;
        write_confusion(&c, "r", &confusion)?;
        assert_eq!(read_history(&h)?, history);
        assert_eq!(read_per_class(&p)?, per_class);
        assert_eq!(read_confusion(&c)?, confusion);
        let columns: Vec<String> = read_frame(&c)?
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            columns,
            ["run_id", "true_class", "predicted_class", "count"]
        );
        Ok(())
    }

    #[test]
    fn confusion_rows_follow_the_matrix() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let rows = ConfusionRow::from_matrix(&classes, &[vec![3, 1], vec![0, 2]]);
        let flat: Vec<(&str, &str, i64)> = rows
            .iter()
            .map(|r| (r.true_class.as_str(), r.predicted_class.as_str(), r.count))
            .collect();
        assert_eq!(
            flat,
            [("a", "a", 3), ("a", "b", 1), ("b", "a", 0), ("b", "b", 2)]
        );
    }
}
