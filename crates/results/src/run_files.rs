//! The one way to write a run folder's files, and to read them back: [`RunDir`]'s methods, one
//! writer and one reader per file. Every write goes through a temporary file and a rename, so a
//! killed run never leaves a partial file under a final name; the tables carry the run id (the
//! folder name) on every row.
//!
//! Two files of a run folder have their typed reader and writer with the type they hold, which
//! this crate does not depend on: `config.toml` (`cxr_experiment::RunConfig`, through
//! `cxr_experiment::RunConfigFile`) and `model.safetensors` (`cxr_models::Model::save` and
//! `load`, given [`RunDir::model_path`]). `head.safetensors` likewise: `cxr_heads::FittedHead`'s
//! `to_bytes` and `from_bytes`, written with [`crate::write_atomic`] at [`RunDir::head_path`]. `reconstructions.png` is written by
//! [`RunDir::write_reconstructions`] beside its figure type.

use crate::atomic::{read_json, write_json};
use crate::calibration::CalibrationRecord;
use crate::error::Result;
use crate::features::{read_features, write_features, FeatureTable};
use crate::findings::{
    read_finding_predictions, read_per_finding, write_finding_predictions, write_per_finding,
    FindingPredictionRow, PerFindingRow,
};
use crate::layout::RunDir;
use crate::predictions::{read_predictions, write_predictions, PredictionRow};
use crate::preprocessing::Preprocessing;
use crate::run_tables::{
    read_confusion, read_history, read_per_class, write_confusion, write_history, write_per_class,
    ConfusionRow, HistoryRow, PerClassRow,
};
use crate::summary::{read_summary, write_summary, RunSummary};

impl RunDir {
    /// Writes the run's `preprocessing.json`.
    pub fn write_preprocessing(&self, record: &Preprocessing) -> Result<()> {
        write_json(&self.preprocessing_path(), record)
    }

    /// Reads the run's `preprocessing.json`.
    pub fn read_preprocessing(&self) -> Result<Preprocessing> {
        read_json(&self.preprocessing_path(), "a preprocessing record")
    }

    /// Writes the run's `calibration.json`.
    pub fn write_calibration(&self, record: &CalibrationRecord) -> Result<()> {
        write_json(&self.calibration_path(), record)
    }

    /// The run's temperature scaling, `None` when it was trained without (no
    /// `calibration.json`).
    pub fn read_calibration(&self) -> Result<Option<CalibrationRecord>> {
        let path = self.calibration_path();
        if path.is_file() {
            read_json(&path, "a calibration record").map(Some)
        } else {
            Ok(None)
        }
    }

    /// Writes the run's `history.parquet` (one row per epoch).
    pub fn write_history(&self, rows: &[HistoryRow]) -> Result<()> {
        write_history(&self.history_path(), &self.id(), rows)
    }

    /// Reads the run's `history.parquet`.
    pub fn read_history(&self) -> Result<Vec<HistoryRow>> {
        read_history(&self.history_path())
    }

    /// Writes a multi-label run's `per_finding.parquet` (test split).
    pub fn write_per_finding(&self, rows: &[PerFindingRow]) -> Result<()> {
        write_per_finding(&self.per_finding_path(), &self.id(), rows)
    }

    /// Reads a multi-label run's `per_finding.parquet`.
    pub fn read_per_finding(&self) -> Result<Vec<PerFindingRow>> {
        read_per_finding(&self.per_finding_path())
    }

    /// Writes a multi-label run's `predictions.parquet`: a probability per (film, finding).
    pub fn write_finding_predictions(&self, rows: &[FindingPredictionRow]) -> Result<()> {
        write_finding_predictions(&self.predictions_path(), &self.id(), rows)
    }

    /// Reads a multi-label run's `predictions.parquet`.
    pub fn read_finding_predictions(&self) -> Result<Vec<FindingPredictionRow>> {
        read_finding_predictions(&self.predictions_path())
    }

    /// Writes the run's `per_class.parquet` (test split).
    pub fn write_per_class(&self, rows: &[PerClassRow]) -> Result<()> {
        write_per_class(&self.per_class_path(), &self.id(), rows)
    }

    /// Reads the run's `per_class.parquet`.
    pub fn read_per_class(&self) -> Result<Vec<PerClassRow>> {
        read_per_class(&self.per_class_path())
    }

    /// Writes the run's `confusion.parquet` (test split, long format).
    pub fn write_confusion(&self, rows: &[ConfusionRow]) -> Result<()> {
        write_confusion(&self.confusion_path(), &self.id(), rows)
    }

    /// Reads the run's `confusion.parquet`.
    pub fn read_confusion(&self) -> Result<Vec<ConfusionRow>> {
        read_confusion(&self.confusion_path())
    }

    /// Writes the run's `summary.parquet`, its one row: the last file a run writes, whose
    /// presence means the run finished ([`RunDir::is_finished`]).
    pub fn write_summary(&self, summary: &RunSummary) -> Result<()> {
        write_summary(&self.summary_path(), std::slice::from_ref(summary))
    }

    /// Reads the run's `summary.parquet` (one row, as written by [`RunDir::write_summary`]).
    pub fn read_summary(&self) -> Result<Vec<RunSummary>> {
        read_summary(&self.summary_path())
    }

    /// Writes the run's `predictions.parquet`.
    pub fn write_predictions(&self, rows: &[PredictionRow]) -> Result<()> {
        write_predictions(&self.predictions_path(), &self.id(), rows)
    }

    /// Reads the run's `predictions.parquet`.
    pub fn read_predictions(&self) -> Result<Vec<PredictionRow>> {
        read_predictions(&self.predictions_path())
    }

    /// Writes a classic-head run's `features.parquet` (every image's embedding).
    pub fn write_features(&self, table: &FeatureTable) -> Result<()> {
        write_features(&self.features_path(), table)
    }

    /// Reads the run's `features.parquet`.
    pub fn read_features(&self) -> Result<FeatureTable> {
        read_features(&self.features_path())
    }
}
