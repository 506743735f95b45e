//! The grid file as written: every key optional, unknown keys rejected, named values parsed
//! into their enums (so a bad one is serde's "unknown variant `x`, expected one of ..." at its
//! line). [`crate::grid`] parses the file once into a [`RawRun`], takes its [`RawGrid`] out,
//! merges each grid cell's axis values into the rest (serialised back to a TOML table) and
//! resolves the result into a [`crate::RunConfig`].

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize as _;

use cxr_data::{Normalization, SamplerKind};
use cxr_heads::HeadKind;
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
    /// `[models.<name>]`: per-architecture settings (weights).
    pub models: Option<BTreeMap<ModelKind, RawModelEntry>>,
    /// Base URL replacing the publisher's for published weights (an institutional mirror);
    /// `--weights-mirror` / `$CXR_WEIGHTS_MIRROR` take precedence. Not part of a run's config.
    pub weights_mirror: Option<String>,
    /// `[pretrained.<label>]`: named weight sources (another grid's runs) that `weights` and
    /// the `weights` axis refer to by label.
    pub pretrained: Option<BTreeMap<String, RawRunSource>>,
    /// `[heads.<name>]`: the hyperparameter values a classic head chooses from (e.g.
    /// `[heads.knn] k = [1, 5, 15]`); absent = its declared defaults.
    pub heads: Option<BTreeMap<HeadKind, RawHeadGrid>>,
    /// `[train]`.
    pub train: Option<RawTrain>,
    /// `[grid]` or `grid = { ... }`: only in the file, never in a cell.
    #[serde(skip_serializing)]
    pub grid: Option<RawGrid>,
}

/// `[grid]` (one block of axes) or `[[grid]]` (several blocks, whose runs are joined): each
/// block lists axis names with their values (a list, or one scalar) and where they are in the
/// file. Axes keep their file order: the last one varies fastest.
#[derive(Debug, Clone, Default)]
pub struct RawGrid(pub Vec<RawBlock>);

/// One block of a [`RawGrid`]: its axes in file order.
#[derive(Debug, Clone, Default)]
pub struct RawBlock(pub Vec<(String, toml::Spanned<toml::Value>)>);

impl<'de> serde::Deserialize<'de> for RawBlock {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Axes;
        impl<'de> serde::de::Visitor<'de> for Axes {
            type Value = RawBlock;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of axes: [grid] model = [\"cnn\", \"resnet18\"]")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawBlock, A::Error> {
                let mut axes = Vec::new();
                while let Some(axis) = map.next_entry()? {
                    axes.push(axis);
                }
                Ok(RawBlock(axes))
            }
        }
        deserializer.deserialize_map(Axes)
    }
}

impl<'de> serde::Deserialize<'de> for RawGrid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Blocks;
        impl<'de> serde::de::Visitor<'de> for Blocks {
            type Value = RawGrid;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of axes ([grid]) or a list of them ([[grid]])")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawGrid, A::Error> {
                let block =
                    RawBlock::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RawGrid(vec![block]))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawGrid, A::Error> {
                let mut blocks = Vec::new();
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(RawGrid(blocks))
            }
        }
        deserializer.deserialize_any(Blocks)
    }
}

/// A `weights` value as written: a string (`"random"`, `"imagenet"`,
/// `"torchvision:IMAGENET1K_V1"`, a `[pretrained.<label>]` label, or a file path relative to the
/// grid file) or an inline source table (`{ grid = "pretrain.toml", model = "resnet18" }`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum RawWeights {
    /// A name, label or path.
    Named(String),
    /// Another grid's run.
    Run(RawRunSource),
}

impl<'de> serde::Deserialize<'de> for RawWeights {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Weights;
        impl<'de> serde::de::Visitor<'de> for Weights {
            type Value = RawWeights;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "\"random\", \"imagenet\", a [pretrained] label, a weights file, or { grid = \"<grid file>\", model = \"<name>\" }",
                )
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawWeights, E> {
                Ok(RawWeights::Named(v.to_string()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<RawWeights, A::Error> {
                RawRunSource::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawWeights::Run)
            }
        }
        deserializer.deserialize_any(Weights)
    }
}

/// Weights taken from a run of another grid: `[pretrained.<label>]` or an inline table.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRunSource {
    /// The source grid file, relative to this grid file's folder.
    pub grid: PathBuf,
    /// The source run's model (default: the model of the run that takes the weights).
    pub model: Option<ModelKind>,
    /// The source run's seed, when the source grid has several (default: this run's seed if
    /// the source has a run with it).
    pub seed: Option<u64>,
    /// The source run's id or an id prefix, when model and seed do not single one out.
    pub run: Option<String>,
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
    /// DICOM window: `"file"`, `"full"` or `{ percentiles = [lower, upper] }`.
    pub dicom_window: Option<cxr_data::DicomWindow>,
    /// Pixel normalisation.
    pub normalization: Option<Normalization>,
    /// `[data.augment]`.
    pub augment: Option<RawAugment>,
    /// A label table (CSV or Parquet, relative to `root`): the films and their findings.
    pub labels: Option<PathBuf>,
    /// The table's findings to train on, in output order (default: all of them).
    pub findings: Option<Vec<String>>,
    /// `[data.columns]`: the table's column names for the roles (`path`, `patient`, `label`,
    /// `view`), where they differ from its layout's.
    pub columns: Option<cxr_data::labels::ColumnMap>,
    /// `[data.filter]`: keep the table's rows whose column holds one of the listed values.
    pub filter: Option<BTreeMap<String, Vec<String>>>,
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
    /// k-fold cross-validation: each grid cell becomes `folds` runs, one per test fold (the
    /// `split.fold` axis); train and test fractions then have no meaning.
    pub folds: Option<usize>,
    /// The test fold of a run (`0..folds`): set by the expansion, or listed as a `fold` axis
    /// to run some folds only.
    pub fold: Option<usize>,
    /// What a label table's split keeps together: `patient` (the default when the table
    /// names patients) or `film`.
    pub group: Option<cxr_data::SplitGroup>,
}

/// `[model]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// Architecture.
    pub name: Option<ModelKind>,
    /// Frozen stages: a number, or `"all"` (the whole backbone).
    pub freeze: Option<RawFreeze>,
    /// Starting weights of this run (overrides `[models.<name>]`).
    pub weights: Option<RawWeights>,
    /// `linear` (the default) or a classic head: `logistic`, `svm_linear`, `svm_rbf`,
    /// `random_forest`, `knn`.
    pub head: Option<String>,
}

/// A `freeze` value as written: a number of frozen stages, or a name (`"all"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum RawFreeze {
    /// Frozen stages.
    Depth(usize),
    /// `"all"`: the whole backbone.
    Named(String),
}

/// `[heads.<name>]`: the values a classic head's fit chooses from on the validation split.
/// Each head takes only its own keys.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeadGrid {
    /// Inverse L2 strength, as scikit-learn's `C` (logistic, svm_linear, svm_rbf).
    pub c: Option<Vec<f64>>,
    /// RBF width in units of 1 / features (svm_rbf; 1 is scikit-learn's `gamma = "scale"` on
    /// standardised features).
    pub gamma_scale: Option<Vec<f64>>,
    /// Trees (random_forest).
    pub trees: Option<Vec<usize>>,
    /// Neighbours (knn).
    pub k: Option<Vec<usize>>,
}

/// `[models.<name>]`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModelEntry {
    /// Starting weights of this architecture's runs.
    pub weights: Option<RawWeights>,
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
    /// Fit a softmax temperature on the validation split after training (default false).
    pub calibrate: Option<bool>,
    /// Where to train: `cpu` (default), `cuda` or `cuda:N`.
    pub device: Option<String>,
    /// `multiclass` (one class per film) or `multilabel` (a logit per finding; the default
    /// for a label table with several findings per film).
    pub task: Option<crate::config::Task>,
    /// Multi-label: how uncertain labels train (`ignore`, `zeros`, `ones`).
    pub uncertain: Option<cxr_data::Uncertain>,
    /// Multi-label: `"balanced"` weighs each finding's positives by negatives / positives.
    pub pos_weight: Option<crate::config::PosWeight>,
}
