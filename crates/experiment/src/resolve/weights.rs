//! `weights`: what a run starts from, read from `[model] weights` or `[models.<name>] weights`:
//! nothing (`"random"`), a run of a source grid (a `{ grid = ... }` table or a
//! `[pretrained.<label>]` label; `source_run.rs`), published weights (`"imagenet"`), or a
//! weights file.
//!
//! [`requested`] reads what the settings ask for without opening a file: expanding a grid reads
//! its source grids by it ([`source_grid`]) before resolving any run, and the resolver resolves
//! the same request, so every source grid a run names has been expanded when it is resolved.

use std::path::{Path, PathBuf};

use cxr_models::ModelKind;

use super::{normalize, Resolver};
use crate::config::Weights;
use crate::error::Result;
use crate::raw::{RawRun, RawRunSource, RawWeights};
use crate::split::SplitSettings;

/// What a run's weights setting names, before any file is read.
pub(crate) enum Requested<'a> {
    /// A run of another grid: `setting` is the inline table or the `[pretrained.<label>]` that
    /// names it.
    Source {
        setting: String,
        source: &'a RawRunSource,
    },
    /// Published weights or a weights file, by `setting`'s text.
    Named { setting: String, text: &'a str },
}

/// The weights a `name` run of `raw` asks for: `[model] weights`, else `[models.<name>]
/// weights`; `None` for none given, `"random"` or `"none"`.
pub(crate) fn requested(raw: &RawRun, name: ModelKind) -> Option<Requested<'_>> {
    let given = raw.model.as_ref().and_then(|m| m.weights.as_ref());
    let entry = raw.models.as_ref().and_then(|ms| ms.get(&name));
    let (setting, weights) = match (given, entry) {
        (Some(w), _) => ("model.weights".to_string(), w),
        (None, Some(entry)) => (format!("models.{name}.weights"), entry.weights.as_ref()?),
        (None, None) => return None,
    };
    let text = match weights {
        RawWeights::Run(source) => return Some(Requested::Source { setting, source }),
        RawWeights::Named(text) if text == "random" || text == "none" => return None,
        RawWeights::Named(text) => text,
    };
    Some(match raw.pretrained.as_ref().and_then(|p| p.get(text)) {
        Some(source) => Requested::Source {
            setting: format!("pretrained.{text}"),
            source,
        },
        None => Requested::Named { setting, text },
    })
}

/// Whether `raw` asks for random init by name (`weights = "random"` or `"none"`, for a
/// `name` run), as a grid's deliberate random-init arm does, rather than giving no weights.
pub(crate) fn random_by_choice(raw: &RawRun, name: ModelKind) -> bool {
    let given = raw.model.as_ref().and_then(|m| m.weights.as_ref());
    let entry = raw
        .models
        .as_ref()
        .and_then(|ms| ms.get(&name))
        .and_then(|e| e.weights.as_ref());
    matches!(given.or(entry), Some(RawWeights::Named(text)) if text == "random" || text == "none")
}

/// The source grid file (relative to `base_dir`, normalised) that a run of `raw` takes its
/// weights from, with the setting that names it; `None` when it names none (or no model).
pub(crate) fn source_grid(raw: &RawRun, base_dir: &Path) -> Option<(String, PathBuf)> {
    let name = raw.model.as_ref()?.name?;
    match requested(raw, name)? {
        Requested::Source { setting, source } => {
            Some((setting, normalize(&base_dir.join(&source.grid))))
        }
        Requested::Named { .. } => None,
    }
}

impl Resolver<'_> {
    /// The weights a `name` run with `seed` and `split` starts from: none, a source grid's run,
    /// published weights, or a file path.
    pub(super) fn weights(
        &self,
        raw: &RawRun,
        name: ModelKind,
        seed: u64,
        split: &SplitSettings,
    ) -> Result<Option<Weights>> {
        match requested(raw, name) {
            None => Ok(None),
            Some(Requested::Source { setting, source }) => self
                .source_run(&setting, source, name, seed, split)
                .map(Some),
            Some(Requested::Named { setting, text }) => {
                self.named_weights(raw, &setting, text, name).map(Some)
            }
        }
    }

    /// Published weights of `name` (`"imagenet"`, `"torchvision:IMAGENET1K_V1"`), or a weights
    /// file relative to the grid file.
    fn named_weights(
        &self,
        raw: &RawRun,
        setting: &str,
        text: &str,
        name: ModelKind,
    ) -> Result<Weights> {
        let registry = &self.overrides.registry;
        if registry.is_published_name(text) {
            let published = registry
                .lookup(name, text)
                .map_err(|e| self.invalid(setting, text, e.to_string()))?;
            return Ok(Weights::Published {
                name: published.id(),
            });
        }
        let path = self.path(Path::new(text));
        if !path.is_file() {
            let labels: Vec<String> = raw
                .pretrained
                .iter()
                .flat_map(|p| p.keys())
                .map(|l| format!("\"{l}\""))
                .collect();
            let labels = if labels.is_empty() {
                String::new()
            } else {
                format!(", a [pretrained] label ({})", labels.join(", "))
            };
            return Err(self.invalid(
                setting,
                path.display(),
                format!("no such weights file: use \"random\", \"imagenet\"{labels}, or a .safetensors/.pth path relative to the grid file"),
            ));
        }
        Ok(Weights::File { path })
    }
}
