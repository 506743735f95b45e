//! Deriving a run's [`Preprocessing`] record (its type and file are `cxr-results`'): the class
//! order, input channels and normalisation statistics a run trains with, so that inference
//! feeds new images exactly as the run fed its own. For run folders from before the record was
//! written, [`recompute`] derives the same values again from the config's data and split seed
//! (deterministic, but it needs the training data on disk).

use std::path::Path;

use cxr_data::{Normalization, PixelStats};
use cxr_experiment::{RunConfig, Weights};
use cxr_results::Preprocessing;

use crate::error::{Result, TrainerError};
use crate::prepare::{DataMemo, PreparedData};

/// The record of `run` trained on `data` with a model of `in_channels` input channels: the one
/// function both training and [`recompute`] go through. `source_stats`: the statistics of the
/// run whose weights this one starts from, which `normalization = "auto"` follows (a backbone
/// is fed what it learned on); ImageNet's for ImageNet weights, the training split's otherwise.
pub fn derive(
    run: &RunConfig,
    data: &PreparedData,
    in_channels: usize,
    source_stats: Option<PixelStats>,
) -> Preprocessing {
    let imagenet = run.model.weights.as_ref().is_some_and(|w| w.is_imagenet());
    let stats = match (run.data.normalization, source_stats) {
        (Normalization::Auto, Some(stats)) => stats,
        (normalization, _) => normalization.stats(imagenet, &data.set, &data.split.train),
    };
    Preprocessing {
        classes: data.set.classes.clone(),
        in_channels,
        stats: stats_record(stats),
        multilabel: false,
        thresholds: Vec::new(),
        temperatures: Vec::new(),
    }
}

pub use crate::recorded_stats::{recorded_stats, stats_record};

/// Derives the record again from `run`'s data (loaded through `cache_dir`) and split seed, for
/// a run folder without `preprocessing.json`.
pub fn recompute(run: &RunConfig, cache_dir: &Path) -> Result<Preprocessing> {
    if let Some(weights @ Weights::Run { .. }) = &run.model.weights {
        // Such runs always write the record; the source's statistics are not in the config.
        return Err(TrainerError::SourceRun {
            weights: weights.to_string(),
            message: "a run that starts from another run's weights records its normalisation in preprocessing.json, which is missing: restore the file or retrain the run".into(),
        });
    }
    let data = DataMemo::default().prepare(run, cache_dir)?;
    let in_channels = cxr_models::ModelConfig::new(run.model.name, 1).in_channels;
    Ok(derive(run, &data, in_channels, None))
}
