//! What model to build: architecture, classes, input channels and freeze depth.

use crate::error::{ModelError, Result};
use crate::kind::ModelKind;

/// A resolved model configuration: plain data; [`ModelConfig::init`] ([`crate::build`]) builds
/// the model it describes.
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
