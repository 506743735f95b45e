//! Raw settings to a validated [`RunConfig`]: defaults filled in ([`crate::defaults`]), ranges
//! checked, paths made relative to the grid file's folder. Every error names the file, the
//! setting and the range.
//!
//! One file per section of a grid file: `data.rs`, `split.rs`, `model.rs` (architecture,
//! freeze depth, head), `head.rs` (a classic head's hyperparameters), `weights.rs` and
//! `source_run.rs` (what a run starts from), `train.rs`. This file resolves a run from them
//! and checks the settings that span sections. The resolver reads no grid file: the source
//! grids its runs take weights from were expanded before it runs (`crate::grid`), and it looks
//! their runs up by file.

use std::path::{Component, Path, PathBuf};

use cxr_data::SplitGroup;
use cxr_models::DeviceSpec;

use crate::config::{Objective, RunConfig, Weights};
use crate::defaults;
use crate::error::{ExperimentError, Result};
use crate::raw::RawRun;
use crate::sources::SourceGrids;

mod data;
mod head;
mod model;
mod source_run;
mod split;
mod train;
mod weights;

pub(crate) use weights::{random_by_choice, source_grid};

/// Settings given on the command line that replace the grid file's, and the published weights
/// that its `weights = "..."` names resolve against.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Dataset root (`--data`), replacing `data.root` / `data.synthetic`.
    pub data_root: Option<PathBuf>,
    /// Accept dataset folders that do not exist (here): for listing a plan or writing a job
    /// script on a machine without the data, where the caller warns instead. Applies to source
    /// grids too.
    pub allow_missing_data: bool,
    /// Training device (`--device`), replacing every run's `train.device`, source grids' too.
    pub device: Option<DeviceSpec>,
    /// The published weights names are looked up in (the CLI's: torchvision's and
    /// `$CXR_WEIGHTS_INDEX`'s), source grids' too; by default torchvision's only.
    pub registry: cxr_weights::Registry,
    /// The cache folder, where dataset fingerprints are remembered between plans; `None`
    /// hashes a dataset's files at every expansion.
    pub cache_dir: Option<PathBuf>,
}

/// The most cross-validation folds a grid may ask for.
pub(crate) const MAX_FOLDS: usize = 1000;

/// Resolves the runs of the grid file `file`, whose folder is `base_dir`.
pub(crate) struct Resolver<'a> {
    pub file: &'a Path,
    pub base_dir: &'a Path,
    pub overrides: &'a Overrides,
    /// The expanded grids that this grid's runs take weights from.
    pub sources: &'a SourceGrids<'a>,
}

impl Resolver<'_> {
    fn invalid(
        &self,
        setting: &str,
        value: impl std::fmt::Display,
        message: impl Into<String>,
    ) -> ExperimentError {
        ExperimentError::Invalid {
            path: self.file.to_path_buf(),
            setting: setting.to_string(),
            value: value.to_string(),
            message: message.into(),
        }
    }

    fn range<T: PartialOrd + std::fmt::Display + Copy>(
        &self,
        setting: &str,
        v: T,
        lo: T,
        hi: T,
    ) -> Result<T> {
        if v >= lo && v <= hi {
            Ok(v)
        } else {
            Err(self.invalid(setting, v, format!("allowed range is {lo}..={hi}")))
        }
    }

    fn path(&self, p: &Path) -> PathBuf {
        normalize(&self.base_dir.join(p))
    }

    /// Resolves one run. `fold_cnn_freeze`: a grid cell that pairs the CNN with freeze > 0 is
    /// folded to freeze 0 instead of rejected (the CNN has no stages to freeze).
    pub fn resolve(&self, raw: RawRun, fold_cnn_freeze: bool) -> Result<(RunConfig, bool)> {
        let grid = raw
            .name
            .clone()
            .ok_or_else(|| self.invalid("name", "(missing)", "every grid needs a name"))?;
        if grid.is_empty() || grid.contains(['/', '\\']) || grid.starts_with('.') {
            return Err(self.invalid("name", &grid, "use a plain folder name"));
        }
        let (data, facts) = self.data(&raw)?;
        if !facts.table && raw.split.as_ref().and_then(|s| s.group) == Some(SplitGroup::Patient) {
            return Err(self.invalid(
                "split.group",
                "patient",
                "class folders name no patients: a split by patient needs a label table (data.labels) with a patient column",
            ));
        }
        let split = self.split(&raw)?;
        let seed = raw.seed.unwrap_or(defaults::SEED);
        let (model, folded) = self.model(&raw, seed, &split, fold_cnn_freeze)?;
        if let Some(Weights::Run { grid: source, .. }) = &model.weights {
            if *source == grid {
                return Err(self.invalid(
                    "model.weights",
                    source,
                    "the source grid has this grid's name, so their results would share a folder: rename one",
                ));
            }
        }
        if let Some(Weights::Run { grid: source, run }) = &model.weights {
            if let Some(from) = self.sources.config_of(source, run) {
                self.same_split_on_same_data(from, run, &data, &split, seed)?;
            }
        }
        let train = self.train(&raw, facts)?;
        if train.objective == Objective::Autoencoder && model.head.is_some() {
            return Err(self.invalid(
                "model.head",
                model.head_name(),
                "an autoencoder run trains the encoder, it fits no classifier: leave the head out",
            ));
        }
        if train.objective == Objective::Autoencoder && model.freeze > 0 {
            return Err(self.invalid(
                "model.freeze",
                model.freeze,
                "an autoencoder run trains the whole encoder: use freeze = 0",
            ));
        }
        if train.calibrate && (model.head.is_some() || train.objective == Objective::Autoencoder) {
            let (what, fix) = if model.head.is_some() {
                (
                    format!("the {} head", model.head_name()),
                    "leave calibrate out, or use head = \"linear\"",
                )
            } else {
                (
                    "an autoencoder run".to_string(),
                    "leave calibrate out of the pretraining grid",
                )
            };
            return Err(self.invalid(
                "train.calibrate",
                true,
                format!(
                    "temperature scaling rescales a network's logits, and {what} has none: {fix}"
                ),
            ));
        }
        let config = RunConfig {
            grid,
            seed,
            data,
            split,
            model,
            train,
        };
        Ok((config, folded))
    }
}

/// Removes `.` and `x/..` lexically (no symlink resolution), so `experiments/../data` reads as
/// `data` and run ids do not depend on how the grid file was reached.
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                if matches!(last, Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(last, Some(Component::RootDir)) {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(
            normalize(Path::new("experiments/../../shared/data")),
            PathBuf::from("../shared/data")
        );
        assert_eq!(normalize(Path::new("./a/./b/../c")), PathBuf::from("a/c"));
        assert_eq!(normalize(Path::new("/x/../../y")), PathBuf::from("/y"));
        assert_eq!(normalize(Path::new("experiments/..")), PathBuf::from("."));
    }
}
