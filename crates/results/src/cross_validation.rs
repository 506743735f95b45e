//! `report/cross_validation.parquet`: a cross-validation grid's test recall pooled per
//! configuration, one row each, as `cxr report` computes it (`cxr-report`'s
//! `cross_validation` module) and shows it in `report.md`.
//!
//! A configuration is a run's grid-axis values without `split.fold` and `seed`: its runs are
//! the folds (and seeds) of one setting, pooled as repeated measurements.
//!
//! `report/out_of_fold.parquet` holds the out-of-fold predictions themselves: each image as
//! predicted by the run whose test fold held it, for every configuration and seed.

use std::path::Path;

use crate::axes::AxisValue;

use crate::error::Result;
use crate::table::{read_rows, write_rows};

crate::table! {
    /// One row of `cross_validation.parquet`: one configuration over its folds and seeds.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct CrossValidationRow {
        /// Architecture.
        pub model: String,
        /// Frozen stages.
        pub freeze: i64,
        /// `linear` or a classic head.
        pub head: String,
        /// The configuration's grid-axis values: a run's axes without `split.fold` and `seed`
        /// (a list of `{setting, value}`, as in the summary).
        pub axes: Vec<AxisValue>,
        /// Cross-validation folds the grid asks for (`[split] folds`).
        pub folds: i64,
        /// Distinct test folds with at least one ok run.
        pub folds_finished: i64,
        /// Distinct seeds among the ok runs.
        pub seeds: i64,
        /// Ok runs pooled (folds times seeds when all finished).
        pub runs: i64,
        /// Mean test micro-recall over the pooled runs.
        pub test_micro_recall_mean: f64,
        /// Sample standard deviation (n - 1) of test micro-recall over the pooled runs; null
        /// for a single run.
        pub test_micro_recall_sd: Option<f64>,
        /// Mean test macro-recall over the pooled runs.
        pub test_macro_recall_mean: f64,
        /// Sample standard deviation (n - 1) of test macro-recall; null for a single run.
        pub test_macro_recall_sd: Option<f64>,
        /// Out-of-fold predictions pooled: every image once per seed (null when the runs have
        /// no `predictions.parquet`).
        pub oof_images: Option<i64>,
        /// Micro-recall of the pooled out-of-fold predictions.
        pub oof_micro_recall: Option<f64>,
        /// Macro-recall of the pooled out-of-fold predictions.
        pub oof_macro_recall: Option<f64>,
        /// Mean test mean-AUROC over the pooled runs (multi-label runs; null otherwise).
        pub test_mean_auroc_mean: Option<f64>,
        /// Its sample standard deviation; null for a single run or without multi-label runs.
        pub test_mean_auroc_sd: Option<f64>,
    }
}

crate::table! {
    /// One row of `out_of_fold.parquet`: one image's prediction by the run that had it in its
    /// test fold, for every configuration and seed of a cross-validation grid.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct OutOfFoldRow {
        /// The configuration: its grid-axis values without `split.fold` and `seed`, as one
        /// `setting=value, ...` label.
        pub configuration: String,
        /// Architecture.
        pub model: String,
        /// Frozen stages.
        pub freeze: i64,
        /// `linear` or a classic head.
        pub head: String,
        /// Run seed (the partition into folds).
        pub seed: i64,
        /// The test fold the image was in.
        pub fold: i64,
        /// The run that predicted it.
        pub run_id: String,
        /// The image file, relative to the dataset root.
        pub path: String,
        /// Its true class.
        pub true_class: String,
        /// The predicted class.
        pub predicted_class: String,
        /// Class probabilities in the run's class order; null for classic heads.
        pub probabilities: Option<Vec<f32>>,
    }
}

/// Writes a grid's `out_of_fold.parquet` (atomically).
pub(crate) fn write_out_of_fold(path: &Path, rows: &[OutOfFoldRow]) -> Result<()> {
    write_rows(path, &[], rows)
}

/// Reads an `out_of_fold.parquet` back into rows.
pub fn read_out_of_fold(path: &Path) -> Result<Vec<OutOfFoldRow>> {
    read_rows(path)
}

/// Writes a grid's `cross_validation.parquet` (atomically).
pub(crate) fn write_cross_validation(path: &Path, rows: &[CrossValidationRow]) -> Result<()> {
    write_rows(path, &[], rows)
}

/// Reads a `cross_validation.parquet` back into rows.
pub fn read_cross_validation(path: &Path) -> Result<Vec<CrossValidationRow>> {
    read_rows(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_validation_round_trip_keeps_null_spreads() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("cross_validation.parquet");
        let rows = vec![
            CrossValidationRow {
                model: "resnet18".into(),
                freeze: 4,
                head: "linear".into(),
                axes: vec![AxisValue::new("train.lr", "0.001")],
                folds: 5,
                folds_finished: 5,
                seeds: 2,
                runs: 10,
                test_micro_recall_mean: 0.8,
                test_micro_recall_sd: Some(0.03),
                test_macro_recall_mean: 0.78,
                test_macro_recall_sd: Some(0.04),
                oof_images: Some(900),
                oof_micro_recall: Some(0.81),
                oof_macro_recall: Some(0.79),
                test_mean_auroc_mean: Some(0.71),
                test_mean_auroc_sd: Some(0.02),
            },
            CrossValidationRow {
                model: "cnn".into(),
                folds: 5,
                folds_finished: 1,
                seeds: 1,
                runs: 1,
                test_micro_recall_mean: 0.7,
                ..Default::default()
            },
        ];
        write_cross_validation(&path, &rows)?;
        assert_eq!(read_cross_validation(&path)?, rows);
        Ok(())
    }
}
