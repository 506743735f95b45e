//! A run's starting weights made concrete: the file to load and, for weights taken from another
//! grid's run, the normalisation statistics that run trained with (so that `normalization =
//! "auto"` feeds the backbone what it learned on, not ImageNet's statistics).

use std::path::PathBuf;

use cxr_data::PixelStats;
use cxr_experiment::{RunConfig, Weights};
use cxr_models::ModelKind;
use cxr_results::{status, GridDir, RunDir};

use crate::env::RunEnv;
use crate::error::{Result, TrainerError};
use crate::recorded_stats::recorded_stats;

/// The file a run loads and what it implies for normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct StartingWeights {
    /// The weights file.
    pub file: PathBuf,
    /// The statistics the source run normalised with, for weights taken from a run.
    pub source_stats: Option<PixelStats>,
}

/// Where the starting weights of the run `cfg` are on disk ([`locate`]); `None` for random
/// init.
pub fn starting_weights(cfg: &RunConfig, env: &RunEnv<'_>) -> Result<Option<StartingWeights>> {
    cfg.model
        .weights
        .as_ref()
        .map(|w| locate(w, cfg.model.name, env))
        .transpose()
}

/// Where `weights` (of a `kind` model) are on disk. Published weights are looked up in
/// `env.registry` and downloaded into the cache on first use (from `env.weights_mirror` when
/// set). A source run must be finished and
/// ok in `env.results_dir`: a run never falls back to random init because its source is missing.
pub fn locate(weights: &Weights, kind: ModelKind, env: &RunEnv<'_>) -> Result<StartingWeights> {
    match weights {
        Weights::File { path } => {
            // A cxr run's model.safetensors given by path: its preprocessing.json beside it
            // says what it was trained on, as for weights taken from a run by name.
            let run = path
                .parent()
                .map(RunDir::at)
                .filter(|run| run.preprocessing_path().is_file());
            let source_stats = match run {
                Some(run) => Some(recorded_stats(run.read_preprocessing()?.stats)),
                None => None,
            };
            Ok(StartingWeights {
                file: path.clone(),
                source_stats,
            })
        }
        Weights::Published { name } => {
            let published = env.registry.lookup(kind, name)?;
            let file = cxr_weights::Cache::new(env.cache_dir)
                .with_observer(env.downloads)
                .ensure(published, env.weights_mirror)?;
            Ok(StartingWeights {
                file,
                source_stats: None,
            })
        }
        Weights::Run { grid, run } => {
            let folder = env
                .earlier_ids
                .get(&(grid.clone(), run.clone()))
                .unwrap_or(run);
            let dir = GridDir::new(env.results_dir, grid).run(folder);
            let missing = |message: String| TrainerError::SourceRun {
                weights: format!("{grid}/{run}"),
                message,
            };
            if !dir.is_finished() {
                return Err(missing(format!(
                    "it has no results in {} yet: train its grid first (`cxr sweep <this grid>` without --cell trains source grids before the grid that needs them)",
                    dir.path().display()
                )));
            }
            let summary = dir.read_summary()?;
            if let Some(failed) = summary.iter().find(|s| s.status != status::OK) {
                return Err(missing(format!(
                    "it {} ({}): fix it and rerun its grid with --force",
                    failed.status, failed.error
                )));
            }
            let preprocessing = dir.read_preprocessing()?;
            Ok(StartingWeights {
                file: dir.model_path(),
                source_stats: Some(recorded_stats(preprocessing.stats)),
            })
        }
    }
}
