//! From a run's data settings to images in memory and a split: the synthetic set generated on
//! first use, every dataset loaded through the `cxr-data` cache, and loaded sets shared between
//! the runs of a sweep that use the same data. [`prepare_grid`] does the loading part ahead of
//! time for a whole grid (a Slurm preparation job), with the published weights its runs start
//! from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cxr_data::seed::{self, Stream};
use cxr_data::synth::cached_root;
use cxr_data::{
    load, load_table, CacheStatus, ImageSet, LabelTable, LoadOptions, LoadReport, Split,
    SplitGroup, TableSet,
};
use cxr_experiment::{DataConfig, DataSource, Grid, RunConfig, Weights};

use crate::env::RunEnv;
use crate::error::{Result, TrainerError};
use crate::weights::locate;

/// Loaded datasets, keyed by everything that determines their pixels.
#[derive(Default)]
pub struct DataMemo {
    sets: HashMap<String, Loaded>,
}

/// A dataset in memory: its images, and for a label table its rows (aligned with the images).
#[derive(Clone)]
struct Loaded {
    set: Arc<ImageSet>,
    table: Option<Arc<LabelTable>>,
}

/// A run's images and split.
pub struct PreparedData {
    /// All images of the dataset.
    pub set: Arc<ImageSet>,
    /// A label table's films (findings, patients, views), aligned with `set`; `None` for
    /// folders and synthetic sets.
    pub table: Option<Arc<LabelTable>>,
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
        let loaded = match self.sets.get(&key) {
            Some(loaded) => loaded.clone(),
            None => {
                let (set, table, _) = load_data(&run.data, cache_dir)?;
                let loaded = Loaded {
                    set: Arc::new(set),
                    table: table.map(Arc::new),
                };
                self.sets.insert(key, loaded.clone());
                loaded
            }
        };
        // Every fold of one seed draws the same partition from the seed's split stream, so
        // their test folds are disjoint and cover the dataset.
        let rng = &mut seed::rng(run.seed, Stream::Split);
        let split = match (&loaded.table, &run.data.source) {
            (
                Some(table),
                DataSource::Table {
                    group: SplitGroup::Patient,
                    ..
                },
            ) => {
                let patients = table.patients.as_ref().ok_or_else(|| TrainerError::Config {
                    run_id: run.grid.clone(),
                    message: format!(
                        "{} names no patients, so it cannot be split by patient: set [split] group = \"film\"",
                        table.table.display()
                    ),
                })?;
                run.split
                    .partition_grouped(patients, &table.findings, rng)?
            }
            _ => {
                if loaded.table.is_some() {
                    tracing::warn!(
                        "split by film (split.group = \"film\"): a patient's films may be in training and test, which inflates test metrics"
                    );
                }
                run.split
                    .partition(&loaded.set.labels, &loaded.set.classes, rng)?
            }
        };
        Ok(PreparedData {
            set: loaded.set,
            table: loaded.table,
            split,
        })
    }
}

/// Loads (or generates) the images of `data`; a label table's rows come with them.
fn load_data(
    data: &DataConfig,
    cache_dir: &Path,
) -> Result<(ImageSet, Option<LabelTable>, LoadReport)> {
    let opts = LoadOptions {
        image_size: data.image_size,
        mask: data.mask,
        skip_unreadable: data.skip_unreadable,
        classes: data.classes.clone(),
        cache_dir: Some(cache_dir.to_path_buf()),
        dicom_window: data.dicom_window,
    };
    let root = match &data.source {
        DataSource::Folder { root, .. } => root.clone(),
        DataSource::Synthetic {
            per_class,
            size,
            seed,
        } => cached_root(*per_class, *size, *seed, cache_dir)?,
        DataSource::Table { .. } => {
            let spec = data
                .source
                .label_spec(data.skip_unreadable)
                .unwrap_or_default();
            let (TableSet { images, table }, report) = load_table(&spec, &opts)?;
            tracing::debug!(table = %table.table.display(), decoded = report.decoded, cache = ?report.cache, "label table loaded");
            return Ok((images, Some(table), report));
        }
    };
    let (set, report) = load(&root, &opts)?;
    tracing::debug!(root = %root.display(), decoded = report.decoded, cache = ?report.cache, "dataset loaded");
    Ok((set, None, report))
}

/// What [`prepare_grid`] made ready.
#[derive(Debug, Clone, Default)]
pub struct Preparation {
    /// One line per distinct dataset the grid's runs read, e.g. `../data/COVID-19 at 128 px:
    /// 21165 images, cache built (/cache/ab12.bin)`.
    pub datasets: Vec<String>,
    /// The published weights files the grid's runs start from, in the cache.
    pub weights: Vec<PathBuf>,
}

/// Makes ready what every run of `grid` and of its source stages reads before training: the
/// image cache of each distinct dataset (decoded now unless intact; synthetic sets generated)
/// and each published weights file (looked up in `registry`, downloaded and verified unless
/// cached). A Slurm preparation job runs this once, so that the array's tasks only read caches
/// instead of each decoding the dataset (or racing to download the same file). Datasets are loaded one at a
/// time and dropped. Weights taken from another grid's runs are not touched: their runs train
/// later, in their own stage.
pub fn prepare_grid(
    grid: &Grid,
    cache_dir: &Path,
    weights_mirror: Option<&str>,
    downloads: &dyn cxr_weights::DownloadObserver,
    registry: &cxr_weights::Registry,
) -> Result<Preparation> {
    let mut out = Preparation::default();
    let mut seen_data: Vec<&DataConfig> = Vec::new();
    let mut seen_weights = Vec::new();
    for stage in grid.stages() {
        let env = RunEnv {
            cache_dir,
            results_dir: Path::new("."),
            weights_mirror: weights_mirror.or(stage.weights_mirror.as_deref()),
            downloads,
            registry,
            earlier_ids: &crate::env::NO_EARLIER_IDS,
        };
        for run in &stage.runs {
            let cfg = &run.config;
            if !seen_data.iter().any(|d| same_pixels(d, &cfg.data)) {
                seen_data.push(&cfg.data);
                let (set, _, report) = load_data(&cfg.data, cache_dir)?;
                out.datasets.push(describe(&cfg.data, &set, &report));
            }
            if let Some(w @ Weights::Published { name }) = &cfg.model.weights {
                let key = (cfg.model.name, name.clone());
                if !seen_weights.contains(&key) {
                    seen_weights.push(key);
                    out.weights.push(locate(w, cfg.model.name, &env)?.file);
                }
            }
        }
    }
    Ok(out)
}

/// Whether two data settings read the same cached pixels (normalisation and augmentation act
/// later, on batches).
fn same_pixels(a: &DataConfig, b: &DataConfig) -> bool {
    a.source == b.source
        && a.image_size == b.image_size
        && a.mask == b.mask
        && a.skip_unreadable == b.skip_unreadable
        && a.classes == b.classes
}

fn describe(data: &DataConfig, set: &ImageSet, report: &LoadReport) -> String {
    let source = match &data.source {
        DataSource::Folder { root, .. } => root.display().to_string(),
        DataSource::Table { root, labels, .. } => root.join(labels).display().to_string(),
        DataSource::Synthetic {
            per_class,
            size,
            seed,
        } => format!("synthetic ({per_class} per class, {size} px, seed {seed})"),
    };
    let cache = match &report.cache {
        CacheStatus::Hit => "cache intact",
        CacheStatus::Built => "cache built",
        CacheStatus::Rebuilt(_) => "cache rebuilt",
        CacheStatus::Disabled => "no cache",
    };
    let path = report
        .cache_path
        .as_ref()
        .map_or(String::new(), |p| format!(" ({})", p.display()));
    format!(
        "{source} at {} px{}: {} images, {cache}{path}",
        data.image_size,
        if data.mask { ", masked" } else { "" },
        set.len()
    )
}
