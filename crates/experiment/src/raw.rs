//! The grid file as written: every key optional, unknown keys rejected, named values parsed
//! into their enums (so a bad one is serde's "unknown variant `x`, expected one of ..." at its
//! line). [`crate::grid`] parses the file once into a [`RawRun`], takes its [`RawGrid`] out,
//! merges each grid cell's axis values into the rest (serialised back to a TOML table) and
//! resolves the result into a [`crate::RunConfig`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use cxr_data::{Normalization, SamplerKind};
use cxr_models::ModelKind;

use crate::config::{Objective, StopMetric};

/// One run's settings as written in a grid file (after a cell's axis values are merged in).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// Grid name (results go to `<results>/<name>/`).
    pub name: Option<String>,
    /// Free text, ignored.
    pub description: Option<String>,
    /// Run seed.
    pub seed: Option<u64>,
    /// `[data]`.
    pub data: Option<RawData>,
    /// `[split]`.
    pub split: Option<RawSplit>,
    /// `[model]`.
    pub model: Option<RawModel>,
    /// `[models.<name>]`: per-architecture settings (weights file).
    pub models: Option<BTreeMap<ModelKind, RawModelEntry>>,
    /// `[train]`.
    pub train: Option<RawTrain>,
    /// `[grid]` or `grid = { ... }`: only in the file, never in a cell.
    #[serde(skip_serializing)]
    pub grid: Option<RawGrid>,
}

/// `[grid]`: each axis name with its value (a list, or one scalar) and where it is in the file.
/// The axes keep their file order: the last one varies fastest.
#[derive(Debug, Clone, Default)]
pub struct RawGrid(pub Vec<(String, toml::Spanned<toml::Value>)>);

impl<'de> serde::Deserialize<'de> for RawGrid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Axes;
        impl<'de> serde::de::Visitor<'de> for Axes {
            type Value = RawGrid;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of axes: [grid] model = [\"cnn\", \"resnet18\"]")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawGrid, A::Error> {
                let mut axes = Vec::new();
                while let Some(axis) = map.next_entry()? {
                    axes.push(axis);
                }
                Ok(RawGrid(axes))
            }
        }
        deserializer.deserialize_map(Axes)
    }
}

/// `[data]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    /// Dataset root, relative to the grid file's folder.
    pub root: Option<PathBuf>,
    /// `[data.synthetic]`: use the built-in synthetic set instead of a folder.
    pub synthetic: Option<RawSynthetic>,
    /// Explicit class list.
    pub classes: Option<Vec<String>>,
    /// Side length of the training images.
    pub image_size: Option<u32>,
    /// Multiply by lung masks.
    pub mask: Option<bool>,
    /// Skip unreadable images.
    pub skip_unreadable: Option<bool>,
    /// Pixel normalisation.
    pub normalization: Option<Normalization>,
    /// `[data.augment]`.
    pub augment: Option<RawAugment>,
}

/// `[data.synthetic]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSynthetic {
    /// Images per class.
    pub per_class: Option<usize>,
    /// Generated image size (default: `data.image_size`).
    pub size: Option<u32>,
    /// Generator seed.
    pub seed: Option<u64>,
}

/// `[data.augment]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAugment {
    /// Turn augmentation on.
    pub enabled: Option<bool>,
    /// Max rotation in degrees.
    pub rotation_deg: Option<f32>,
    /// Smallest crop area fraction.
    pub crop_scale_min: Option<f32>,
    /// Brightness jitter.
    pub brightness: Option<f32>,
    /// Contrast jitter.
    pub contrast: Option<f32>,
}

/// `[split]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSplit {
    /// Train fraction.
    pub train: Option<f64>,
    /// Validation fraction.
    pub val: Option<f64>,
    /// Test fraction.
    pub test: Option<f64>,
}

/// `[model]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// Architecture.
    pub name: Option<ModelKind>,
    /// Frozen stages.
    pub freeze: Option<usize>,
    /// Weights file for this run (overrides `[models.<name>]`).
    pub weights: Option<PathBuf>,
}

/// `[models.<name>]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModelEntry {
    /// Pretrained weights file (`.safetensors` or `.pth`), relative to the grid file's folder.
    pub weights: Option<PathBuf>,
}

/// `[train]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrain {
    /// Epoch sampler.
    pub sampler: Option<SamplerKind>,
    /// Adam learning rate.
    pub lr: Option<f64>,
    /// Adam beta1.
    pub beta1: Option<f64>,
    /// Adam beta2.
    pub beta2: Option<f64>,
    /// Adam epsilon.
    pub eps: Option<f64>,
    /// L2 weight decay.
    pub weight_decay: Option<f64>,
    /// Max epochs.
    pub max_epochs: Option<usize>,
    /// Early-stopping patience in epochs.
    pub patience: Option<usize>,
    /// Batch size.
    pub batch_size: Option<usize>,
    /// What early stopping follows.
    pub early_stopping: Option<StopMetric>,
    /// Use the frozen-prefix cache when valid (default true).
    pub prefix_cache: Option<bool>,
    /// `classify` (default) or `autoencoder`.
    pub objective: Option<Objective>,
}
