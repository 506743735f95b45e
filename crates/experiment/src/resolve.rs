//! Raw settings to a validated [`RunConfig`]: defaults filled in, ranges checked, paths made
//! relative to the grid file's folder. Every error names the file, the setting and the range.

use std::path::{Component, Path, PathBuf};

use cxr_data::{Augment, SplitFractions};

use crate::config::{
    AdamSettings, DataConfig, DataSource, ModelSettings, Objective, RunConfig, TrainSettings,
};
use crate::error::{ExperimentError, Result};
use crate::raw::RawRun;

/// Settings given on the command line that replace the grid file's.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Dataset root (`--data`), replacing `data.root` / `data.synthetic`.
    pub data_root: Option<PathBuf>,
}

pub(crate) struct Resolver<'a> {
    pub file: &'a Path,
    pub base_dir: &'a Path,
    pub overrides: &'a Overrides,
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
        let data = self.data(&raw)?;
        let split = self.split(&raw)?;
        let (model, folded) = self.model(&raw, fold_cnn_freeze)?;
        let train = self.train(&raw)?;
        if train.objective == Objective::Autoencoder && model.freeze > 0 {
            return Err(self.invalid(
                "model.freeze",
                model.freeze,
                "an autoencoder run trains the whole encoder: use freeze = 0",
            ));
        }
        let config = RunConfig {
            grid,
            seed: raw.seed.unwrap_or(0),
            data,
            split,
            model,
            train,
        };
        Ok((config, folded))
    }

    fn data(&self, raw: &RawRun) -> Result<DataConfig> {
        let d = raw.data.clone().unwrap_or_default();
        let image_size = self.range(
            "data.image_size",
            d.image_size.unwrap_or(cxr_data::DEFAULT_IMAGE_SIZE),
            16,
            1024,
        )?;
        let source = match (&self.overrides.data_root, &d.root, &d.synthetic) {
            (Some(root), _, _) => folder(self, root, "--data", false)?,
            (None, Some(_), Some(_)) => {
                return Err(self.invalid(
                    "data",
                    "root + synthetic",
                    "set either data.root or [data.synthetic], not both",
                ))
            }
            (None, Some(root), None) => folder(self, root, "data.root", true)?,
            (None, None, Some(s)) => DataSource::Synthetic {
                per_class: self.range(
                    "data.synthetic.per_class",
                    s.per_class.unwrap_or(200),
                    3,
                    1_000_000,
                )?,
                size: self.range(
                    "data.synthetic.size",
                    s.size.unwrap_or(image_size),
                    32,
                    1024,
                )?,
                seed: s.seed.unwrap_or(0),
            },
            (None, None, None) => {
                return Err(self.invalid(
                    "data",
                    "(missing)",
                    "set data.root = \"<dataset folder>\" or add [data.synthetic]",
                ))
            }
        };
        let augment = match d.augment {
            Some(a) if a.enabled.unwrap_or(true) => {
                let def = Augment::default();
                let aug = Augment {
                    rotation_deg: a.rotation_deg.unwrap_or(def.rotation_deg),
                    crop_scale_min: a.crop_scale_min.unwrap_or(def.crop_scale_min),
                    brightness: a.brightness.unwrap_or(def.brightness),
                    contrast: a.contrast.unwrap_or(def.contrast),
                };
                aug.validate()
                    .map_err(|e| self.invalid("data.augment", "...", e.to_string()))?;
                Some(aug)
            }
            _ => None,
        };
        if let Some(classes) = &d.classes {
            if classes.is_empty() {
                return Err(self.invalid(
                    "data.classes",
                    "[]",
                    "list at least one class, or leave it out",
                ));
            }
        }
        Ok(DataConfig {
            source,
            classes: d.classes,
            image_size,
            mask: d.mask.unwrap_or(false),
            skip_unreadable: d.skip_unreadable.unwrap_or(false),
            normalization: d.normalization.unwrap_or_default(),
            augment,
        })
    }

    fn split(&self, raw: &RawRun) -> Result<SplitFractions> {
        let s = raw.split.clone().unwrap_or_default();
        let def = SplitFractions::default();
        let f = SplitFractions {
            train: s.train.unwrap_or(def.train),
            val: s.val.unwrap_or(def.val),
            test: s.test.unwrap_or(def.test),
        };
        f.validate().map_err(|e| {
            self.invalid(
                "split",
                format!("{}/{}/{}", f.train, f.val, f.test),
                e.to_string(),
            )
        })?;
        Ok(f)
    }

    fn model(&self, raw: &RawRun, fold_cnn_freeze: bool) -> Result<(ModelSettings, bool)> {
        let m = raw.model.clone().unwrap_or_default();
        let name = m.name.ok_or_else(|| {
            self.invalid(
                "model.name",
                "(missing)",
                "set [model] name = \"cnn\" or a grid axis model = [...]",
            )
        })?;
        let mut freeze = m.freeze.unwrap_or(0);
        let mut folded = false;
        if freeze > name.max_freeze() {
            if fold_cnn_freeze && !name.is_resnet() {
                freeze = 0;
                folded = true;
            } else if name.is_resnet() {
                return Err(self.invalid(
                    "model.freeze",
                    freeze,
                    format!("{name} has the stem and 4 stages: allowed range is 0..=4 (4 trains fc only)"),
                ));
            } else {
                return Err(self.invalid(
                    "model.freeze",
                    freeze,
                    "the cnn has no stages to freeze: use 0",
                ));
            }
        }
        let weights = m
            .weights
            .or_else(|| raw.models.as_ref()?.get(&name)?.weights.clone())
            .map(|w| self.path(&w));
        if let Some(w) = &weights {
            if !name.is_resnet() {
                return Err(self.invalid(
                    "model.weights",
                    w.display(),
                    "the cnn has no pretrained weights",
                ));
            }
            if !w.is_file() {
                return Err(self.invalid(
                    &format!("models.{name}.weights"),
                    w.display(),
                    "file not found: give a .safetensors/.pth path relative to the grid file, or remove it for random init",
                ));
            }
        }
        Ok((
            ModelSettings {
                name,
                freeze,
                weights,
            },
            folded,
        ))
    }

    fn train(&self, raw: &RawRun) -> Result<TrainSettings> {
        let t = raw.train.clone().unwrap_or_default();
        let def = AdamSettings::default();
        let lr = t.lr.unwrap_or(def.lr);
        if !(lr > 0.0 && lr <= 1.0) {
            return Err(self.invalid("train.lr", lr, "allowed range is (0, 1]"));
        }
        let beta = |name: &str, v: f64| {
            if (0.0..1.0).contains(&v) {
                Ok(v)
            } else {
                Err(self.invalid(name, v, "allowed range is [0, 1)"))
            }
        };
        let eps = t.eps.unwrap_or(def.eps);
        if !(eps > 0.0 && eps < 1.0) {
            return Err(self.invalid("train.eps", eps, "allowed range is (0, 1)"));
        }
        let weight_decay = t.weight_decay.unwrap_or(def.weight_decay);
        if !(0.0..=1.0).contains(&weight_decay) {
            return Err(self.invalid("train.weight_decay", weight_decay, "allowed range is 0..=1"));
        }
        let adam = AdamSettings {
            lr,
            beta1: beta("train.beta1", t.beta1.unwrap_or(def.beta1))?,
            beta2: beta("train.beta2", t.beta2.unwrap_or(def.beta2))?,
            eps,
            weight_decay,
        };
        Ok(TrainSettings {
            sampler: t.sampler.unwrap_or_default(),
            adam,
            max_epochs: self.range("train.max_epochs", t.max_epochs.unwrap_or(100), 1, 100_000)?,
            patience: self.range("train.patience", t.patience.unwrap_or(20), 1, 100_000)?,
            batch_size: self.range("train.batch_size", t.batch_size.unwrap_or(128), 1, 65_536)?,
            early_stopping: t.early_stopping.unwrap_or_default(),
            prefix_cache: t.prefix_cache.unwrap_or(true),
            objective: t.objective.unwrap_or_default(),
        })
    }
}

fn folder(
    r: &Resolver<'_>,
    root: &Path,
    setting: &str,
    relative_to_grid: bool,
) -> Result<DataSource> {
    let root = if relative_to_grid {
        r.path(root)
    } else {
        normalize(root)
    };
    if !root.is_dir() {
        return Err(r.invalid(
            setting,
            root.display(),
            "dataset folder not found: point it at the folder holding one sub-folder per class",
        ));
    }
    Ok(DataSource::Folder { root })
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
