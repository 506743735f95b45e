//! `cxr features`: the pooled features of every image of a dataset, from a trained run or from
//! named weights, as a `features.parquet` table ([`cxr_results::features`]: path, class, split,
//! features) for scikit-learn, polars or the report's feature maps.
//!
//! The images go through the trainer's own pipeline (the dataset cache, the run's image size,
//! masking and normalisation statistics, eval-mode batches), and the split column is the
//! split of the dataset by the run's seed and split settings (its fractions, or its
//! cross-validation fold), so on the run's own data it is the split the run trained on. From
//! named weights the backbone is built as a grid run with those weights would build it:
//! `--weights` takes what a grid's `weights` takes (a
//! published name such as `imagenet`, a weights file, `random`), normalised as `normalization
//! = "auto"` would (ImageNet's statistics for ImageNet weights, a source run's own for its
//! `model.safetensors`, the training split's for random init), random init from the seed's
//! init stream, as a grid run of that seed gets it.

use std::path::Path;

use cxr_data::BatchSpec;
use cxr_experiment::{DataSource, Grid, Overrides, RunConfig};
use cxr_heads::Matrix;
use cxr_models::ModelKind;
use cxr_results::FeatureTable;
use cxr_trainer::prepare::{DataMemo, PreparedData};
use cxr_trainer::weights::starting_weights;
use cxr_trainer::{build_model, embed_set, feature_table, preprocessing, RunEnv};

use crate::error::Result;
use crate::trained::TrainedModel;

/// Images per embedding batch.
const BATCH: usize = 64;

/// A backbone given by name, as `cxr features --model --weights` describes it.
#[derive(Debug, Clone)]
pub struct NamedBackbone {
    /// Architecture.
    pub model: ModelKind,
    /// What a grid's `weights` takes: `"random"`, `"imagenet"`, a published name, or a file.
    pub weights: String,
    /// Side length the images are resized to.
    pub image_size: u32,
    /// Multiply images by their lung masks.
    pub mask: bool,
    /// Seed of the split column (and of random init).
    pub seed: u64,
}

/// The features of every image in `data` (class folders) from `model`'s network (a
/// classic-head run's backbone: what its head was fitted on), split by its run's seed and
/// split settings.
pub fn run_features(model: &TrainedModel, data: &Path, cache_dir: &Path) -> Result<FeatureTable> {
    let config = on_folder(&model.config, data);
    let prepared = DataMemo::default().prepare(&config, cache_dir)?;
    table(&model.model, &prepared, &model.batch_spec())
}

/// `config` with its images read from the class folders in `data`, all of them: the class
/// column names folders, not the run's outputs.
fn on_folder(config: &RunConfig, data: &Path) -> RunConfig {
    let mut config = config.clone();
    config.data.source = DataSource::Folder {
        root: data.to_path_buf(),
        fingerprint: None,
    };
    config.data.classes = None;
    config
}

/// The features of every image in `data` (class folders) from the backbone `named`, built and
/// normalised as a grid run with those settings would be (see the module docs).
pub fn named_features(
    named: &NamedBackbone,
    data: &Path,
    env: &RunEnv<'_>,
) -> Result<FeatureTable> {
    let config = named_config(named, data, env)?;
    let start_from = starting_weights(&config, env)?;
    let prepared = DataMemo::default().prepare(&config, env.cache_dir)?;
    let (model, model_config) =
        build_model(&config, prepared.set.classes.len(), start_from.as_ref())?;
    let record = preprocessing::derive(
        &config,
        &prepared,
        model_config.in_channels,
        start_from.and_then(|w| w.source_stats),
    );
    let spec = BatchSpec {
        channels: model_config.in_channels,
        stats: preprocessing::recorded_stats(record.stats),
    };
    table(&model, &prepared, &spec)
}

/// The run config a one-run grid of `named` on `data` resolves to: the grid's own resolution
/// of `weights` (names in `env.registry`, files relative to the working directory) and every
/// default.
fn named_config(named: &NamedBackbone, data: &Path, env: &RunEnv<'_>) -> Result<RunConfig> {
    let mut model = toml::Table::new();
    model.insert("name".into(), named.model.name().into());
    model.insert("weights".into(), named.weights.clone().into());
    let mut data_table = toml::Table::new();
    data_table.insert("image_size".into(), i64::from(named.image_size).into());
    data_table.insert("mask".into(), named.mask.into());
    let mut grid = toml::Table::new();
    grid.insert("name".into(), "features".into());
    grid.insert("seed".into(), (named.seed as i64).into());
    grid.insert("data".into(), data_table.into());
    grid.insert("model".into(), model.into());
    let overrides = Overrides {
        data_root: Some(data.to_path_buf()),
        registry: env.registry.clone(),
        ..Overrides::default()
    };
    // Errors name the command where they would name a grid file, and relative weights paths
    // resolve against the "file's" folder: the working directory.
    let grid = Grid::from_toml(&grid.to_string(), Path::new("cxr features"), &overrides)?;
    Ok(grid.runs[0].config.clone())
}

fn table(
    model: &cxr_models::Model,
    prepared: &PreparedData,
    spec: &BatchSpec,
) -> Result<FeatureTable> {
    let embeddings = embed_set(model, &prepared.set, spec, BATCH)?;
    let features = Matrix::new(prepared.set.len(), embeddings.dim, embeddings.values)?;
    Ok(feature_table(&prepared.set, &prepared.split, &features))
}
