//! From a run's data settings to images in memory and a split: the synthetic set generated on
//! first use, every dataset loaded through the `cxr-data` cache, and loaded sets shared between
//! the runs of a sweep that use the same data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cxr_data::synth::{write_synthetic, SynthConfig};
use cxr_data::seed::{self, Stream};
use cxr_data::{load, stratified_split, ImageSet, LoadOptions, Split};
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
    /// The images and split of `run`, loading (or generating) the dataset at most once per
    /// memo. `cache_dir` holds image caches and generated synthetic sets.
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
        let split = stratified_split(
            &set.labels,
            &set.classes,
            run.split,
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
        } => synthetic_root(*per_class, *size, *seed, cache_dir)?,
    };
    let opts = LoadOptions {
        image_size: data.image_size,
        mask: data.mask,
        skip_unreadable: data.skip_unreadable,
        classes: data.classes.clone(),
        cache_dir: Some(cache_dir.to_path_buf()),
    };
    let (set, report) = load(&root, &opts)?;
    tracing::debug!(root = %root.display(), decoded = report.decoded, cache = ?report.cache, "dataset loaded");
    Ok(set)
}

/// The synthetic set for these settings under `cache_dir/synthetic/`, generated if absent.
/// Generation writes to a temporary folder renamed into place, so an interrupted generation is
/// never mistaken for a complete one.
pub fn synthetic_root(per_class: usize, size: u32, seed: u64, cache_dir: &Path) -> Result<PathBuf> {
    let name = format!(
        "v{}-{per_class}x{size}-seed{seed}",
        cxr_data::synth::GENERATOR_VERSION
    );
    let dir = cache_dir.join("synthetic").join(name);
    if dir.join("README.md").is_file() {
        return Ok(dir);
    }
    let parent = cache_dir.join("synthetic");
    std::fs::create_dir_all(&parent).map_err(|source| TrainerError::Io {
        path: parent.clone(),
        source,
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(&parent)
        .map_err(|source| TrainerError::Io {
            path: parent.clone(),
            source,
        })?;
    let cfg = SynthConfig {
        per_class,
        size,
        seed,
        ..SynthConfig::default()
    };
    write_synthetic(tmp.path(), &cfg)?;
    let staged = tmp.keep();
    match std::fs::rename(&staged, &dir) {
        Ok(()) => Ok(dir),
        // Another process generated the same set meanwhile: theirs is identical, use it.
        Err(_) if dir.join("README.md").is_file() => {
            let _ = std::fs::remove_dir_all(&staged);
            Ok(dir)
        }
        Err(source) => Err(TrainerError::Io { path: dir, source }),
    }
}
