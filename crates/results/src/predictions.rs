//! `predictions.parquet`: every test image of a run, what it is and what the run said, so that
//! every statistic cxr reports about a run (recalls, paired comparisons between runs,
//! calibration, cross-validated pooling) can be recomputed outside cxr.
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `run_id` | str | the run |
//! | `path` | str | the image file, as the dataset lists it |
//! | `true_class` | str | its class |
//! | `predicted_class` | str | the run's prediction |
//! | `probabilities` | list of f32, null | the run's probability of each class, in the order of `preprocessing.json`'s `classes` (temperature-scaled when the run was calibrated); for a classic head its own probabilities (softmax, Platt-scaled and coupled SVM pairs, tree shares, neighbour shares); null in classic-head runs fitted before heads had them |
//!
//! Rows follow the test split's order (ascending dataset index).

use std::path::Path;

use crate::error::Result;
use crate::table::{read_rows, write_rows};

crate::table! {
    /// One test image of a run.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct PredictionRow {
        /// The image file.
        pub path: String,
        /// Its true class.
        pub true_class: String,
        /// The class the run predicted.
        pub predicted_class: String,
        /// The probability of each class (the run's class order); `None` without them.
        pub probabilities: Option<Vec<f32>>,
    }
}

/// Writes a run's `predictions.parquet` (with its run id on every row).
pub fn write_predictions(path: &Path, run_id: &str, rows: &[PredictionRow]) -> Result<()> {
    write_rows(path, &[("run_id", run_id)], rows)
}

/// Reads a run's `predictions.parquet` back into rows.
pub fn read_predictions(path: &Path) -> Result<Vec<PredictionRow>> {
    read_rows(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_with_and_without_probabilities(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("predictions.parquet");
        let rows = vec![
            PredictionRow {
                path: "COVID/images/a.png".into(),
                true_class: "COVID".into(),
                predicted_class: "Normal".into(),
                probabilities: Some(vec![0.25, 0.75]),
            },
            PredictionRow {
                path: "Normal/images/b.png".into(),
                true_class: "Normal".into(),
                predicted_class: "Normal".into(),
                probabilities: None,
            },
        ];
        write_predictions(&path, "cnn-f0-s0-0123456789ab", &rows)?;
        assert_eq!(read_predictions(&path)?, rows);
        let df = crate::read_frame(&path)?;
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "run_id",
                "path",
                "true_class",
                "predicted_class",
                "probabilities"
            ]
        );
        // All-null probabilities (a run of SVM heads) still make a typed list column.
        write_predictions(&path, "r", &rows[1..])?;
        assert_eq!(read_predictions(&path)?, rows[1..]);
        write_predictions(&path, "r", &[])?;
        assert!(read_predictions(&path)?.is_empty());
        Ok(())
    }
}
