//! `preprocessing.json`: what inference needs to feed new images to a trained model exactly as
//! its run fed its own: the class order (the model's outputs), the input channels and the
//! normalisation statistics.
//!
//! The image size and masking are in the run's `config.toml`, but two things are not: the class
//! order when the config leaves it to the dataset's folders, and the training split's pixel
//! statistics (`normalization = "auto"` or `"dataset"`), which depend on the images. So the
//! trainer writes them before training.

use std::path::Path;

use cxr_data::PixelStats;

use crate::error::Result;
use crate::layout::{read_json, write_json};

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
    /// Writes the record as JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }

    /// Reads a record written by [`Preprocessing::write`].
    pub fn read(path: &Path) -> Result<Self> {
        read_json(path, "a preprocessing record")
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
