//! Deriving a run's [`Preprocessing`] record (its type and file are `cxr-results`'): the class
//! order, input channels and normalisation statistics a run trains with, so that inference
//! feeds new images exactly as the run fed its own. For run folders from before the record was
//! written, [`recompute`] derives the same values again from the config's data and split seed
//! (deterministic, but it needs the training data on disk).

use std::path::Path;

use cxr_experiment::RunConfig;
use cxr_results::Preprocessing;

use crate::error::Result;
use crate::prepare::{DataMemo, PreparedData};

/// The record of `run` trained on `data` with a model of `in_channels` input channels: the one
/// function both training and [`recompute`] go through.
pub fn derive(run: &RunConfig, data: &PreparedData, in_channels: usize) -> Preprocessing {
    let stats = run
        .data
        .normalization
        .stats(run.pretrained(), &data.set, &data.split.train);
    Preprocessing {
        classes: data.set.classes.clone(),
        in_channels,
        stats,
    }
}

/// Derives the record again from `run`'s data (loaded through `cache_dir`) and split seed, for
/// a run folder without `preprocessing.json`.
pub fn recompute(run: &RunConfig, cache_dir: &Path) -> Result<Preprocessing> {
    let data = DataMemo::default().prepare(run, cache_dir)?;
    let in_channels = cxr_models::ModelConfig::new(run.model.name, 1).in_channels;
    Ok(derive(run, &data, in_channels))
}
