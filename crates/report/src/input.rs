//! Everything `cxr report` reads from a grid folder, read once, before anything is computed,
//! drawn or written: the grid's tables ([`GridResults`]), and the few run files beyond them that
//! the report needs (a run's class order for its reliability diagram, an autoencoder's
//! reconstructions, a backbone's features for its maps). A file that would not be used is not
//! read, so a broken one the report does not need cannot fail it.

use std::collections::BTreeMap;
use std::path::Path;

use cxr_results::{FeatureTable, GridDir};

use crate::error::{ReportError, Result};
use crate::grid_results::GridResults;

/// What the report reads from `<results>/<grid>/`.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// The grid's Parquet tables.
    pub results: GridResults,
    /// The class order (`preprocessing.json`) of each run whose reliability diagram is drawn
    /// ([`crate::RunResults::has_test_probabilities`]), by run id.
    pub classes: BTreeMap<String, Vec<String>>,
    /// The `reconstructions.png` of each autoencoder run that wrote one, by run id: the report
    /// copies it.
    pub reconstructions: BTreeMap<String, Vec<u8>>,
    /// Per backbone with classic heads, in first-seen order, the features its maps are drawn
    /// from.
    pub features: Vec<FeatureSource>,
    /// Each run's `config.toml` as written, by run id (runs without one are absent): shown in
    /// the run's detail on `report.html`.
    pub configs: BTreeMap<String, String>,
    /// The file names in each run's folder, sorted, by run id: `report.html` links them.
    pub files: BTreeMap<String, Vec<String>>,
}

/// The features a backbone's maps are drawn from: its first ok classic-head run (lowest seed)
/// that wrote `features.parquet`.
#[derive(Debug, Clone)]
pub struct FeatureSource {
    /// The backbone (a figure line: the model with its weights source).
    pub backbone: String,
    /// The run whose features these are.
    pub run_id: String,
    /// That run's seed.
    pub seed: i64,
    /// Its `features.parquet`.
    pub table: FeatureTable,
}

impl ReportInput {
    /// Reads `grid_dir`: [`GridResults::load`], then the run files the report needs.
    pub fn load(grid_dir: &Path) -> Result<Self> {
        let results = GridResults::load(grid_dir)?;
        let grid = GridDir::at(grid_dir);
        let mut classes = BTreeMap::new();
        let mut reconstructions = BTreeMap::new();
        let mut configs = BTreeMap::new();
        let mut files = BTreeMap::new();
        for run in &results.runs {
            let id = &run.summary.run_id;
            let dir = grid.run(id);
            let config = dir.config_path();
            if config.is_file() {
                let text = std::fs::read_to_string(&config).map_err(ReportError::io(&config))?;
                configs.insert(id.clone(), text);
            }
            files.insert(id.clone(), file_names(dir.path())?);
            if run.has_test_probabilities() && dir.preprocessing_path().is_file() {
                classes.insert(id.clone(), dir.read_preprocessing()?.classes);
            }
            let png = dir.reconstructions_path();
            if run.is_autoencoder() && png.is_file() {
                let bytes = std::fs::read(&png).map_err(ReportError::io(&png))?;
                reconstructions.insert(id.clone(), bytes);
            }
        }
        let mut features = Vec::new();
        for (backbone, run_id, seed) in map_sources(&results, &grid) {
            let table = grid.run(&run_id).read_features()?;
            features.push(FeatureSource {
                backbone,
                run_id,
                seed,
                table,
            });
        }
        Ok(Self {
            results,
            classes,
            reconstructions,
            features,
            configs,
            files,
        })
    }
}

/// The names of the plain files in `dir`, sorted (temporary files of a write in progress left
/// out).
fn file_names(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(ReportError::io(dir))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(ReportError::io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Per backbone, the first ok classic-head run (lowest seed) whose `features.parquet` exists:
/// the features its map is drawn from. `(backbone, run id, seed)`.
fn map_sources(results: &GridResults, grid: &GridDir) -> Vec<(String, String, i64)> {
    // Backbones in first-seen order, each with its lowest-seed run that has features.
    let mut backbones: Vec<(String, Option<(String, i64)>)> = Vec::new();
    for r in results
        .runs
        .iter()
        .filter(|r| r.ok_classifier() && r.summary.is_classic_head())
    {
        let position = match backbones.iter().position(|(line, _)| *line == r.line) {
            Some(position) => position,
            None => {
                backbones.push((r.line.clone(), None));
                backbones.len() - 1
            }
        };
        let source = &mut backbones[position].1;
        let lower = source
            .as_ref()
            .is_none_or(|(_, seed)| r.summary.seed < *seed);
        if lower && grid.run(&r.summary.run_id).features_path().is_file() {
            *source = Some((r.summary.run_id.clone(), r.summary.seed));
        }
    }
    backbones
        .into_iter()
        .filter_map(|(line, source)| source.map(|(id, seed)| (line, id, seed)))
        .collect()
}
