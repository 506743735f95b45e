//! What inference needs to feed new images to a trained model exactly as its run fed its own:
//! the class order (the model's outputs), the input channels and the normalisation statistics.
//!
//! The image size and masking are in the run's `config.toml`, but two things are not: the class
//! order when the config leaves it to the dataset's folders, and the training split's pixel
//! statistics (`normalization = "auto"` or `"dataset"`), which depend on the images. So
//! [`run_one`](crate::run_one) writes them to the run folder's `preprocessing.json` before
//! training. For run folders from before that file existed, [`Preprocessing::recompute`] derives
//! the same values again from the config's data and split seed (deterministic, but it needs the
//! training data on disk).

use std::path::Path;

use cxr_data::PixelStats;
use cxr_experiment::RunConfig;

use crate::error::{Result, TrainerError};
use crate::prepare::{DataMemo, PreparedData};

/// The preprocessing record of one run, as stored in `preprocessing.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocessing {
    /// Class names in label order: output `i` of the model is `classes[i]`.
    pub classes: Vec<String>,
    /// Input channels of the model (gray replicated to 3 when 3).
    pub in_channels: usize,
    /// Statistics the run normalised with (training split, ImageNet, or none).
    pub stats: PixelStats,
}

impl Preprocessing {
    /// The record of `run` trained on `data` with a model of `in_channels` input channels: the
    /// one function both training and [`Preprocessing::recompute`] go through.
    pub fn derive(run: &RunConfig, data: &PreparedData, in_channels: usize) -> Self {
        let stats = run
            .data
            .normalization
            .stats(run.pretrained(), &data.set, &data.split.train);
        Self {
            classes: data.set.classes.clone(),
            in_channels,
            stats,
        }
    }

    /// Derives the record again from `run`'s data (loaded through `cache_dir`) and split seed,
    /// for a run folder without `preprocessing.json`. Runs always build 3-channel models.
    pub fn recompute(run: &RunConfig, cache_dir: &Path) -> Result<Self> {
        let data = DataMemo::default().prepare(run, cache_dir)?;
        let in_channels = cxr_models::ModelConfig::new(run.model.name, 1).in_channels;
        Ok(Self::derive(run, &data, in_channels))
    }

    /// Writes the record as JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| TrainerError::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        cxr_results::write_atomic(path, text.as_bytes())?;
        Ok(())
    }

    /// Reads a record written by [`Preprocessing::write`].
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| TrainerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| TrainerError::Record {
            path: path.to_path_buf(),
            message: format!("not a preprocessing record: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("preprocessing.json");
        let record = Preprocessing {
            classes: vec!["COVID".into(), "Viral Pneumonia".into()],
            in_channels: 3,
            stats: PixelStats {
                mean: [0.25; 3],
                std: [0.125; 3],
            },
        };
        record.write(&path)?;
        assert_eq!(Preprocessing::read(&path)?, record);
        std::fs::write(&path, "{\"classes\": 3}")?;
        let err = Preprocessing::read(&path).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|m| m.contains("not a preprocessing record")),
            "{err:?}"
        );
        Ok(())
    }
}
