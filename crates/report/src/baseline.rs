//! The committed baseline of a regression check: expected test recall per run (and a
//! multi-label run's test mean AUROC), keyed by the settings that identify a run across
//! machines (model, frozen stages, seed, other axes), in a TOML file people can read and review
//! in a diff.
//!
//! ```toml
//! [[run]]
//! model = "cnn"
//! freeze = 0
//! seed = 0
//! micro_recall = 0.6722
//! macro_recall = 0.6701
//!
//! [[run]]
//! model = "resnet18"
//! freeze = 2
//! seed = 0
//! axes = "split.fold=1"
//! micro_recall = 0.4412
//! macro_recall = 0.3810
//! mean_auroc = 0.7133
//! ```
//!
//! `mean_auroc` is written for multi-label runs only, so a baseline of single-label runs reads
//! and writes exactly as before it existed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ReportError, Result};
use crate::grid_results::GridResults;

/// Identifies a run independently of its run id (which hashes every setting).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RunKey {
    /// Architecture.
    pub model: String,
    /// Frozen stages.
    pub freeze: i64,
    /// Run seed.
    pub seed: i64,
    /// Other grid axes, `setting=value` joined by `, ` (empty when none).
    pub axes: String,
}

impl std::fmt::Display for RunKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} freeze {} seed {}",
            self.model, self.freeze, self.seed
        )?;
        if !self.axes.is_empty() {
            write!(f, " ({})", self.axes)?;
        }
        Ok(())
    }
}

/// Expected recall of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineRun {
    /// Architecture.
    pub model: String,
    /// Frozen stages.
    pub freeze: i64,
    /// Run seed.
    pub seed: i64,
    /// Other grid axes (empty when none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub axes: String,
    /// Expected test micro-recall.
    pub micro_recall: f64,
    /// Expected test macro-recall.
    pub macro_recall: f64,
    /// Expected test mean AUROC of a multi-label run (absent for other runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_auroc: Option<f64>,
}

impl BaselineRun {
    /// The run this entry is about.
    pub fn key(&self) -> RunKey {
        RunKey {
            model: self.model.clone(),
            freeze: self.freeze,
            seed: self.seed,
            axes: self.axes.clone(),
        }
    }
}

/// A baseline file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// One entry per run.
    #[serde(rename = "run", default)]
    pub runs: Vec<BaselineRun>,
}

impl Baseline {
    /// Reads a baseline file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::Baseline {
            path: path.to_path_buf(),
            message: format!(
                "cannot read the baseline ({e}); create it with `cxr check <GRID_DIR> --baseline {} --update`",
                path.display()
            ),
        })?;
        toml::from_str(&text).map_err(|e| ReportError::Baseline {
            path: path.to_path_buf(),
            message: format!(
                "not a baseline file: {}",
                e.message().lines().next().unwrap_or_default()
            ),
        })
    }

    /// The baseline the current results would make: every ok classifier run (autoencoder runs
    /// have no recall), recall (and a multi-label run's mean AUROC) rounded to 4 decimals (far
    /// below any sensible tolerance) so the file stays readable.
    pub fn from_results(results: &GridResults) -> Self {
        let round4 = |v: f64| (v * 1e4).round() / 1e4;
        let round = |v: Option<f64>| round4(v.unwrap_or_default());
        let mut runs: Vec<BaselineRun> = results
            .runs
            .iter()
            .filter(|r| r.ok_classifier())
            .map(|r| BaselineRun {
                model: r.summary.model.clone(),
                freeze: r.summary.freeze,
                seed: r.summary.seed,
                axes: crate::grid_results::identity_of(&r.summary.axes),
                micro_recall: round(r.summary.test_micro_recall),
                macro_recall: round(r.summary.test_macro_recall),
                mean_auroc: r
                    .is_multilabel()
                    .then(|| r.summary.test_mean_auroc.map(round4))
                    .flatten(),
            })
            .collect();
        runs.sort_by_key(BaselineRun::key);
        Self { runs }
    }

    /// Writes the file with a header saying how it was made.
    pub fn write(&self, path: &Path, grid_dir: &Path) -> Result<()> {
        let body = toml::to_string(self).map_err(|e| ReportError::Baseline {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let grid = grid_dir.file_name().map_or_else(
            || grid_dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let text = format!(
            "# Expected test recall per run of grid `{grid}`, checked by\n\
             # `cxr check <RESULTS>/{grid} --baseline <this file>` (exit 1 on a drop).\n\
             # Regenerate after an intended change with `--update` and review the diff.\n\n{body}"
        );
        cxr_results::write_atomic(path, text.as_bytes())?;
        Ok(())
    }
}

/// The key of a finished run.
pub fn key_of(run: &crate::grid_results::RunResults) -> RunKey {
    RunKey {
        model: run.summary.model.clone(),
        freeze: run.summary.freeze,
        seed: run.summary.seed,
        axes: crate::grid_results::identity_of(&run.summary.axes),
    }
}
