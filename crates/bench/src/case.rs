//! What one benchmark row measures: a model, its freeze depth and a mode.

use serde::{Deserialize, Serialize};

/// Images per step, as in the measurements.
pub const BATCH: usize = 32;
/// Image side.
pub const IMAGE_SIZE: usize = 128;
/// Classes of the head.
pub const CLASSES: usize = 4;

/// What is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One training step: forward in training mode, cross-entropy, backward, Adam.
    Train,
    /// An eval-mode forward without gradients.
    Infer,
    /// A sweep's training epoch per image with the frozen-prefix cache: the prefix's output is
    /// computed once beforehand, each step trains the unfrozen rest. Without a frozen prefix it
    /// equals `train`; PyTorch recomputes the prefix every step, so its `train` row is its epoch.
    Epoch,
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Train => "train",
            Self::Infer => "infer",
            Self::Epoch => "epoch",
        })
    }
}

/// One benchmark configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Case {
    /// `cnn`, `resnet18`, `resnet34` (the `ModelKind` names).
    pub model: String,
    /// Freeze depth (0 for the CNN).
    pub freeze: usize,
    /// What is timed.
    pub mode: Mode,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} freeze {} {}", self.model, self.freeze, self.mode)
    }
}

/// The grid: CNN, ResNet18 at freeze 0..=4 and ResNet34 at freeze 0, each trained and
/// run for inference.
pub fn default_cases() -> Vec<Case> {
    let mut models: Vec<(&str, usize)> = vec![("cnn", 0)];
    models.extend((0..=4).map(|k| ("resnet18", k)));
    models.push(("resnet34", 0));
    let mut cases = Vec::new();
    for mode in [Mode::Train, Mode::Infer] {
        for &(model, freeze) in &models {
            cases.push(Case {
                model: model.to_string(),
                freeze,
                mode,
            });
        }
    }
    cases.extend((1..=4).map(|freeze| Case {
        model: "resnet18".into(),
        freeze,
        mode: Mode::Epoch,
    }));
    cases
}
