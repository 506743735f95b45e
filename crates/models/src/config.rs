//! What model to build: architecture, classes, input channels and freeze depth.

use std::path::Path;

use candle_core::Device;

use crate::error::{ModelError, Result};
use crate::kind::ModelKind;
use crate::model::Model;
use crate::weights::LoadReport;

/// A resolved model configuration; [`ModelConfig::init`] builds the model it describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Architecture.
    pub kind: ModelKind,
    /// Outputs of the final linear layer.
    pub num_classes: usize,
    /// Channels of the input images (3 by default; ImageNet weights need 3).
    pub in_channels: usize,
    /// Freeze depth in `0..=4` for ResNets, 0 for the CNN (see [`crate::freeze`]).
    pub freeze: usize,
}

impl ModelConfig {
    /// `kind` with `num_classes` outputs, 3 input channels and nothing frozen.
    pub fn new(kind: ModelKind, num_classes: usize) -> Self {
        Self {
            kind,
            num_classes,
            in_channels: 3,
            freeze: 0,
        }
    }

    /// The same config with freeze depth `freeze`.
    pub fn with_freeze(self, freeze: usize) -> Self {
        Self { freeze, ..self }
    }

    /// The same config with `in_channels` input channels.
    pub fn with_in_channels(self, in_channels: usize) -> Self {
        Self {
            in_channels,
            ..self
        }
    }

    /// Checks the settings: at least one class and one input channel, and a freeze depth the
    /// architecture has (0..=4 for ResNets, 0 for the CNN).
    pub fn validate(&self) -> Result<()> {
        if self.num_classes == 0 {
            return Err(ModelError::Config("num_classes must be at least 1".into()));
        }
        if self.in_channels == 0 {
            return Err(ModelError::Config("in_channels must be at least 1".into()));
        }
        let max = self.kind.max_freeze();
        if self.freeze > max {
            let msg = if self.kind.is_resnet() {
                format!(
                    "freeze = {} but {} has only the stem and {max} stages: use 0 (train all) to {max} (train fc only)",
                    self.freeze, self.kind
                )
            } else {
                format!(
                    "freeze = {} but the {} has no pretrained stages to freeze: use freeze = 0",
                    self.freeze, self.kind
                )
            };
            return Err(ModelError::Config(msg));
        }
        Ok(())
    }

    /// Builds the model with random weights drawn from `seed` (torchvision's init; see
    /// [`crate::resnet`] and [`crate::cnn`]). The same config and seed give bit-identical weights.
    pub fn init(&self, device: &Device, seed: u64) -> Result<Model> {
        Model::new(*self, device, seed)
    }

    /// Builds the model and loads pretrained weights from `path` (`.safetensors` or PyTorch
    /// `.pth`, torchvision names); `fc` keeps its random init from `seed` when the file's head
    /// has another shape (ImageNet's 1000 classes). See [`Model::load_pretrained`].
    pub fn init_pretrained(
        &self,
        path: &Path,
        device: &Device,
        seed: u64,
    ) -> Result<(Model, LoadReport)> {
        let model = self.init(device, seed)?;
        let report = model.load_pretrained(path)?;
        Ok((model, report))
    }

    /// What a training run calls: pretrained weights when `weights` is given (logging what was
    /// re-initialised), random init otherwise.
    pub fn build(&self, weights: Option<&Path>, device: &Device, seed: u64) -> Result<Model> {
        match weights {
            Some(path) => {
                let (model, report) = self.init_pretrained(path, device, seed)?;
                tracing::info!(
                    model = %self.kind,
                    weights = %path.display(),
                    loaded = report.loaded.len(),
                    reinitialised = ?report.reinitialised,
                    decoder_skipped = report.ignored.len(),
                    "loaded pretrained weights"
                );
                Ok(model)
            }
            None => self.init(device, seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freeze_limits_per_architecture() {
        // (kind, freeze, valid?)
        let cases = [
            (ModelKind::Cnn, 0, true),
            (ModelKind::Cnn, 1, false),
            (ModelKind::Resnet18, 4, true),
            (ModelKind::Resnet18, 5, false),
            (ModelKind::Resnet34, 0, true),
            (ModelKind::Resnet50, 5, false),
        ];
        for (kind, freeze, valid) in cases {
            let config = ModelConfig::new(kind, 4).with_freeze(freeze);
            assert_eq!(config.validate().is_ok(), valid, "{kind} freeze {freeze}");
        }
    }

    #[test]
    fn freeze_error_explains_the_range() {
        let err = ModelConfig::new(ModelKind::Resnet18, 4)
            .with_freeze(5)
            .validate();
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("freeze = 5") && msg.contains("0 (train all) to 4"),
            "{msg}"
        );
        let err = ModelConfig::new(ModelKind::Cnn, 4)
            .with_freeze(1)
            .validate();
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("no pretrained stages"), "{msg}");
    }

    #[test]
    fn zero_classes_or_channels_rejected() {
        assert!(ModelConfig::new(ModelKind::Cnn, 0).validate().is_err());
        let config = ModelConfig::new(ModelKind::Resnet18, 2).with_in_channels(0);
        assert!(config.validate().is_err());
    }
}
