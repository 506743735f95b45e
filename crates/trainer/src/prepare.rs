//! From a run's data settings to images in memory and a split: the synthetic set generated on
//! first use, every dataset loaded through the `cxr-data` cache, and loaded sets shared between
//! the runs of a sweep that use the same data.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use cxr_data::seed::{self, Stream};
use cxr_data::synth::cached_root;
use cxr_data::{load, ImageSet, LoadOptions, Split};
use cxr_experiment::{DataConfig, DataSource, RunConfig};

use crate::error::{Result, TrainerError};

/// Loaded datasets, keyed by everything that determines their pixels.
#[derive(Default)]
pub struct DataMemo {
    sets: HashMap<String, Arc<ImageSet>>,
}

/// A run's images and split.
pub struct PreparedData {
    /// All images of the dataset.
    pub set: Arc<ImageSet>,
    /// Train/val/test indices.
    pub split: Split,
}

impl DataMemo {
    /// The images and split of `run` (its stratified split, or its cross-validation fold),
    /// loading (or generating) the dataset at most once per memo. `cache_dir` holds image caches and generated synthetic sets.
    pub fn prepare(&mut self, run: &RunConfig, cache_dir: &Path) -> Result<PreparedData> {
        let key = serde_json::to_string(&run.data).map_err(|e| TrainerError::Config {
            run_id: run.grid.clone(),
            message: e.to_string(),
        })?;
        let set = match self.sets.get(&key) {
            Some(set) => Arc::clone(set),
            None => {
                let set = Arc::new(load_data(&run.data, cache_dir)?);
                self.sets.insert(key, Arc::clone(&set));
                set
            }
        };
        // Every fold of one seed draws the same partition from the seed's split stream, so
        // their test folds are disjoint and cover the dataset.
        let split = run.split.partition(
            &set.labels,
            &set.classes,
            &mut seed::rng(run.seed, Stream::Split),
        )?;
        Ok(PreparedData { set, split })
    }
}

fn load_data(data: &DataConfig, cache_dir: &Path) -> Result<ImageSet> {
    let root = match &data.source {
        DataSource::Folder { root } => root.clone(),
        DataSource::Synthetic {
            per_class,
            size,
            seed,
        } => cached_root(*per_class, *size, *seed, cache_dir)?,
    };
    let opts = LoadOptions {
        image_size: data.image_size,
        mask: data.mask,
        skip_unreadable: data.skip_unreadable,
        classes: data.classes.clone(),
        cache_dir: Some(cache_dir.to_path_buf()),
        dicom_window: data.dicom_window,
    };
    let (set, report) = load(&root, &opts)?;
    tracing::debug!(root = %root.display(), decoded = report.decoded, cache = ?report.cache, "dataset loaded");
    Ok(set)
}
