//! A multi-label run's test tables (`[train] task = "multilabel"`): `per_finding.parquet`, one
//! row per finding, and `predictions.parquet` in its multi-label form, one row per (film,
//! finding).
//!
//! `per_finding.parquet`:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `run_id` | str | the run |
//! | `finding` | str | the finding, in the model's output order |
//! | `test_auroc` | f64, null | AUROC on the test films labelled for it; null without a positive or a negative |
//! | `test_auroc_low`, `test_auroc_high` | f64, null | its 95% bootstrap interval, resampling **patients** (films where the table names no patients) |
//! | `val_auroc` | f64, null | AUROC on the validation films |
//! | `threshold` | f64, null | the probability at or above which a film is called positive: Youden's J on validation |
//! | `sensitivity`, `specificity`, `precision` | f64, null | on the test films at `threshold` |
//! | `test_positives`, `test_negatives` | i64 | test films labelled positive / negative under the run's `uncertain` policy |
//! | `test_ece` | f64, null | expected calibration error (15 bins) of the test probabilities as recorded |
//! | `temperature`, `test_ece_uncalibrated` | f64, null | with `train.calibrate`: the finding's temperature fitted on validation, and the test ECE before it |
//!
//! Multi-label `predictions.parquet`: `run_id`, `path`, `patient` (empty when the table names
//! none), `finding`, `label` (`positive`, `negative`, `uncertain` or `missing`, as the table
//! says), `probability` (the sigmoid of the finding's logit) and `called` (`probability >=
//! threshold`). Rows follow the test split's order, findings in output order within a film.

use std::path::Path;

use crate::error::Result;
use crate::table::{read_rows, write_rows};

crate::table! {
    /// One finding of a multi-label run, on its test split.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct PerFindingRow {
        /// Finding name.
        pub finding: String,
        /// Test AUROC; `None` when the test films lack a positive or a negative.
        pub test_auroc: Option<f64>,
        /// Lower bound of its 95% patient-bootstrap interval.
        pub test_auroc_low: Option<f64>,
        /// Upper bound of its 95% patient-bootstrap interval.
        pub test_auroc_high: Option<f64>,
        /// Validation AUROC.
        pub val_auroc: Option<f64>,
        /// Decision threshold chosen on validation (Youden's J).
        pub threshold: Option<f64>,
        /// Test sensitivity at the threshold.
        pub sensitivity: Option<f64>,
        /// Test specificity at the threshold.
        pub specificity: Option<f64>,
        /// Test precision at the threshold (null when nothing is called positive).
        pub precision: Option<f64>,
        /// Test films labelled positive.
        pub test_positives: i64,
        /// Test films labelled negative.
        pub test_negatives: i64,
        /// Expected calibration error (15 bins) of the test probabilities as recorded.
        pub test_ece: Option<f64>,
        /// The finding's temperature (`train.calibrate`), fitted on validation; null otherwise.
        pub temperature: Option<f64>,
        /// A calibrated run's test ECE before scaling; null when not calibrated.
        pub test_ece_uncalibrated: Option<f64>,
    }
}

crate::table! {
    /// One (test film, finding) of a multi-label run.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct FindingPredictionRow {
        /// The image file, as the table names it.
        pub path: String,
        /// The film's patient (empty when the table names none).
        pub patient: String,
        /// The finding.
        pub finding: String,
        /// `positive`, `negative`, `uncertain` or `missing`, as the table states it.
        pub label: String,
        /// The run's probability of the finding.
        pub probability: f64,
        /// Whether the probability reaches the finding's threshold.
        pub called: bool,
    }
}

/// Writes a run's `per_finding.parquet` (with its run id on every row).
pub fn write_per_finding(path: &Path, run_id: &str, rows: &[PerFindingRow]) -> Result<()> {
    write_rows(path, &[("run_id", run_id)], rows)
}

/// Reads a run's `per_finding.parquet`.
pub fn read_per_finding(path: &Path) -> Result<Vec<PerFindingRow>> {
    read_rows(path)
}

/// Writes a multi-label run's `predictions.parquet` (with its run id on every row).
pub fn write_finding_predictions(
    path: &Path,
    run_id: &str,
    rows: &[FindingPredictionRow],
) -> Result<()> {
    write_rows(path, &[("run_id", run_id)], rows)
}

/// Reads a multi-label run's `predictions.parquet`.
pub fn read_finding_predictions(path: &Path) -> Result<Vec<FindingPredictionRow>> {
    read_rows(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_tables_round_trip() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let per_finding = vec![
            PerFindingRow {
                finding: "Effusion".into(),
                test_auroc: Some(0.8125),
                test_auroc_low: Some(0.6),
                test_auroc_high: Some(0.95),
                val_auroc: Some(0.75),
                threshold: Some(0.3),
                sensitivity: Some(0.5),
                specificity: Some(0.875),
                precision: None,
                test_positives: 4,
                test_negatives: 16,
                test_ece: Some(0.125),
                temperature: Some(1.5),
                test_ece_uncalibrated: Some(0.25),
            },
            PerFindingRow {
                finding: "Hernia".into(),
                ..Default::default()
            },
        ];
        let path = dir.path().join("per_finding.parquet");
        write_per_finding(&path, "r", &per_finding)?;
        assert_eq!(read_per_finding(&path)?, per_finding);

        let predictions = vec![FindingPredictionRow {
            path: "images/00000001_000.png".into(),
            patient: "1".into(),
            finding: "Effusion".into(),
            label: "uncertain".into(),
            probability: 0.25,
            called: false,
        }];
        let path = dir.path().join("predictions.parquet");
        write_finding_predictions(&path, "r", &predictions)?;
        assert_eq!(read_finding_predictions(&path)?, predictions);
        Ok(())
    }
}
