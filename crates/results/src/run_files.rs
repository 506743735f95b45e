//! The typed readers and writers of a run folder's non-table files: `config.toml` (the
//! resolved [`RunConfig`], written first), `preprocessing.json` ([`Preprocessing`]) and
//! `model.safetensors` (the kept weights, a classifier's or an autoencoder's). Every write goes through a temporary file and a
//! rename, so a killed run never leaves a partial file under a final name.

use candle_core::Device;
use cxr_experiment::RunConfig;
use cxr_models::{Autoencoder, Model, ModelConfig};

use crate::calibration::CalibrationRecord;
use crate::error::{Result, ResultsError};
use crate::features::{read_features, write_features, FeatureTable};
use crate::layout::{write_atomic, write_atomic_with, RunDir};
use crate::predictions::{read_predictions, write_predictions, PredictionRow};
use crate::preprocessing::Preprocessing;

impl RunDir {
    /// Writes the run's resolved settings to `config.toml`.
    pub fn write_config(&self, config: &RunConfig) -> Result<()> {
        let path = self.config_path();
        let text = config.to_toml().map_err(|e| ResultsError::Record {
            path: path.clone(),
            message: format!(
                "{e}: {}",
                std::error::Error::source(&e).map_or_else(String::new, |s| s.to_string())
            ),
        })?;
        write_atomic(&path, text.as_bytes())
    }

    /// Reads the run's `config.toml`; an error names the file and the line.
    pub fn read_config(&self) -> Result<RunConfig> {
        let path = self.config_path();
        let text = std::fs::read_to_string(&path).map_err(ResultsError::io(&path))?;
        RunConfig::from_toml(&text).map_err(|e| ResultsError::Record {
            message: format!(
                "not a run config this cxr can read: {}",
                cxr_experiment::one_line(&e, &text)
            ),
            path,
        })
    }

    /// Writes the run's `preprocessing.json`.
    pub fn write_preprocessing(&self, record: &Preprocessing) -> Result<()> {
        record.write(&self.preprocessing_path())
    }

    /// Reads the run's `preprocessing.json`.
    pub fn read_preprocessing(&self) -> Result<Preprocessing> {
        Preprocessing::read(&self.preprocessing_path())
    }

    /// Writes the run's `calibration.json`.
    pub fn write_calibration(&self, record: &CalibrationRecord) -> Result<()> {
        record.write(&self.calibration_path())
    }

    /// The run's temperature scaling, `None` when it was trained without (no
    /// `calibration.json`).
    pub fn read_calibration(&self) -> Result<Option<CalibrationRecord>> {
        let path = self.calibration_path();
        if path.is_file() {
            CalibrationRecord::read(&path).map(Some)
        } else {
            Ok(None)
        }
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

    /// Writes `model`'s weights to `model.safetensors`.
    pub fn write_model(&self, model: &Model) -> Result<()> {
        write_atomic_with(&self.model_path(), |tmp| Ok(model.save(tmp)?))
    }

    /// Writes an autoencoder's weights to `model.safetensors`: the encoder under the
    /// classifier's names plus `decoder.*` (see [`Autoencoder::save`]).
    pub fn write_autoencoder(&self, autoencoder: &Autoencoder) -> Result<()> {
        write_atomic_with(&self.model_path(), |tmp| Ok(autoencoder.save(tmp)?))
    }

    /// Builds a model of `config` on `device` with the weights in `model.safetensors`.
    pub fn read_model(&self, config: ModelConfig, device: &Device) -> Result<Model> {
        Ok(Model::load(config, &self.model_path(), device)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_models::ModelKind;

    #[test]
    fn weights_round_trip_and_leave_no_temporary_file(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let run = RunDir::at(&dir.path().join("run"));
        let config = ModelConfig::new(ModelKind::Cnn, 3);
        let model = config.build(None, &Device::Cpu, 7)?;
        run.write_model(&model)?;
        let names: Vec<_> = std::fs::read_dir(run.path())?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::result::Result<_, _>>()?;
        assert_eq!(names, ["model.safetensors"]);
        let back = run.read_model(config, &Device::Cpu)?;
        for (a, b) in model.parameters().iter().zip(back.parameters()) {
            assert_eq!(a.name(), b.name());
            let (a, b) = (a.tensor().flatten_all()?, b.tensor().flatten_all()?);
            assert_eq!(a.to_vec1::<f32>()?, b.to_vec1::<f32>()?);
        }
        Ok(())
    }
}
