//! The resolved configuration of one run: every setting concrete, validated, and hashable into
//! a stable run id. This is what `config.toml` in a run folder holds.

use std::path::PathBuf;

use cxr_data::SamplerKind;
use cxr_heads::HeadSearch;
use cxr_models::{DeviceSpec, ModelKind};

use crate::error::{ExperimentError, Result};
use crate::split::SplitSettings;

pub use crate::data_config::{DataConfig, DataSource};
pub use cxr_data::PosWeight;

/// Which validation number early stopping and best-epoch selection follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopMetric {
    /// Higher validation micro-recall is better; ties broken by lower validation loss.
    #[default]
    ValMicroRecall,
    /// Higher validation macro-recall is better; ties broken by lower validation loss.
    ValMacroRecall,
    /// Lower validation loss is better.
    ValLoss,
    /// Higher validation mean AUROC over the findings is better; ties broken by lower
    /// validation loss (multi-label runs, and their default).
    ValMeanAuroc,
}

/// What a run trains its model to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Supervised classification: cross-entropy on the labels, recall metrics.
    #[default]
    Classify,
    /// Self-supervised pretraining: the model's backbone encodes each image, a mirrored decoder
    /// reconstructs it, and the mean squared error to the (normalised) input is minimised. No
    /// label is read; the kept encoder weights initialise a classifier later.
    Autoencoder,
}

impl Objective {
    /// The name in grid files and results (`classify`, `autoencoder`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Classify => "classify",
            Self::Autoencoder => "autoencoder",
        }
    }

    /// Whether this is the default, [`Objective::Classify`] (left out of serialised configs, so
    /// classify runs keep the run ids they had before the setting existed).
    pub fn is_classify(&self) -> bool {
        *self == Self::Classify
    }
}

impl std::fmt::Display for Objective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The model of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Architecture.
    pub name: ModelKind,
    /// Frozen ResNet stages (0..=4; 0 for the CNN, or 5, all its blocks, under a classic
    /// head: [`ModelKind::full_freeze`]).
    pub freeze: usize,
    /// Where the starting weights come from; absent = random init.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Weights>,
    /// A classic head (logistic regression, an SVM, a random forest, kNN) fitted on the pooled
    /// features of the fully frozen backbone, with the hyperparameter values it chooses from
    /// on the validation split. Absent = the `linear` head: the network's own `fc`, trained by
    /// Adam with the unfrozen stages (and left out of the serialised config, so such runs keep
    /// their ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<HeadSearch>,
}

pub use cxr_results::axes::LINEAR_HEAD;

impl ModelSettings {
    /// The head's name: [`LINEAR_HEAD`] or a classic head's (`logistic`, `svm_rbf`, ...).
    pub fn head_name(&self) -> &'static str {
        self.head.as_ref().map_or(LINEAR_HEAD, |h| h.kind().name())
    }
}

/// Where a run's starting weights come from (resolved; see [`crate::raw::RawWeights`] for how
/// a grid file names them). Part of the run id: a different source is a different run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Weights {
    /// A weights file (`.safetensors`, or PyTorch `.pth`) with torchvision's tensor names.
    File {
        /// The file (absolute, or relative to the working directory).
        path: PathBuf,
    },
    /// Published weights by name, downloaded into the cache on first use and verified.
    Published {
        /// The canonical name, e.g. `torchvision:IMAGENET1K_V1` (of the run's architecture).
        name: String,
    },
    /// The kept weights of a run of another grid, which the sweep trains first.
    Run {
        /// The source grid's name (its results folder).
        grid: String,
        /// The source run's id (a hash of its whole config, so an edited source is a new id).
        run: String,
    },
}

impl Weights {
    /// Whether these are ImageNet's weights, whose inputs are normalised with ImageNet's
    /// statistics: published ones, or a file (by convention torchvision's; set
    /// `data.normalization` otherwise).
    pub fn is_imagenet(&self) -> bool {
        matches!(self, Self::File { .. } | Self::Published { .. })
    }
}

impl std::fmt::Display for Weights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File { path } => write!(f, "{}", path.display()),
            Self::Published { name } => f.write_str(name),
            Self::Run { grid, run } => write!(f, "{grid}/{run}"),
        }
    }
}

/// Adam's hyperparameters, with PyTorch's semantics and (by [`Default`]) its defaults.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamSettings {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the gradient's running mean.
    pub beta1: f64,
    /// Decay of the squared gradient's running mean.
    pub beta2: f64,
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// L2 weight decay added to the gradient (PyTorch `Adam(weight_decay=...)`).
    pub weight_decay: f64,
}

impl Default for AdamSettings {
    /// `torch.optim.Adam`'s defaults.
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// Optimisation settings of a run (Adam; PyTorch's defaults unless set).
///
/// `deny_unknown_fields` stays although serde documents it as unsupported with `flatten`: on
/// the outer struct it still rejects keys that neither this struct nor [`AdamSettings`] takes
/// (only the "expected one of" list is lost), and a `config.toml` from a newer cxr must fail
/// to load rather than silently drop a setting. (`AdamSettings` itself must not deny them.)
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// Epoch sampler.
    pub sampler: SamplerKind,
    /// Adam's hyperparameters, flattened: they are keys of `[train]` (`train.lr`), in this
    /// position, so the serialised config (and the run id hashed from it) is unchanged.
    #[serde(flatten)]
    pub adam: AdamSettings,
    /// Upper bound on epochs.
    pub max_epochs: usize,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Training batch size.
    pub batch_size: usize,
    /// What early stopping follows.
    pub early_stopping: StopMetric,
    /// Compute a frozen prefix's output once per image and train the rest on it, when valid
    /// (freeze >= 1, no augmentation). Does not change results, so the default (`true`) is
    /// left out of the serialised config and run ids do not depend on it.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub prefix_cache: bool,
    /// What the run trains: a classifier, or an autoencoder that pretrains the backbone without
    /// labels. The default (`classify`) is left out of the serialised config, so classify runs
    /// keep their run ids.
    #[serde(default, skip_serializing_if = "Objective::is_classify")]
    pub objective: Objective,
    /// Temperature scaling: after training, fit the one temperature `T` that minimises the
    /// validation split's negative log-likelihood of `softmax(logits / T)`, and report, store
    /// and predict with the scaled probabilities (it never changes which class is predicted).
    /// Off by default and then left out of the serialised config, so run ids are unchanged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub calibrate: bool,
    /// Where the run trains (`cpu`, `cuda`, `cuda:N`). Part of the run's identity when not the
    /// CPU, as `"cuda"` without the GPU's ordinal (see [`DeviceSpec`]): a GPU run never stands
    /// in for a CPU run. The CPU default is left out of the serialised config, so CPU runs keep
    /// their ids.
    #[serde(default, skip_serializing_if = "DeviceSpec::is_cpu")]
    pub device: DeviceSpec,
    /// One class per film, or a logit per finding. The default (`multiclass`) is left out of
    /// the serialised config, so runs from before label tables keep their ids.
    #[serde(default, skip_serializing_if = "Task::is_multiclass")]
    pub task: Task,
    /// Multi-label runs: how uncertain labels train (left out at its default, `ignore`).
    #[serde(default, skip_serializing_if = "cxr_data::Uncertain::is_ignore")]
    pub uncertain: cxr_data::Uncertain,
    /// Multi-label runs: the weight of each finding's positives in the loss (left out at its
    /// default, none).
    #[serde(default, skip_serializing_if = "PosWeight::is_none")]
    pub pos_weight: PosWeight,
}

/// What a run predicts for each film.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// One class per film: softmax over the classes, cross-entropy.
    #[default]
    Multiclass,
    /// Any number of findings per film: a logit per finding, binary cross-entropy with the
    /// films' missing labels masked out.
    Multilabel,
}

impl Task {
    /// Whether this is the default ([`Task::Multiclass`]).
    pub fn is_multiclass(&self) -> bool {
        *self == Self::Multiclass
    }
}

/// The smallest batch of a pass without gradients (validation, test, building the
/// frozen-prefix cache): with no activations kept for a backward pass, a run with a small
/// training batch can still evaluate in larger ones.
pub const MIN_EVAL_BATCH_SIZE: usize = 64;

impl TrainSettings {
    /// The batch size of a pass without gradients: the training batch, at least
    /// [`MIN_EVAL_BATCH_SIZE`].
    pub fn eval_batch_size(&self) -> usize {
        self.batch_size.max(MIN_EVAL_BATCH_SIZE)
    }
}

fn yes() -> bool {
    true
}

fn is_true(v: &bool) -> bool {
    *v
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// Everything that determines one run's results.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The grid this run belongs to.
    pub grid: String,
    /// Run seed: split, sampler, augmentation and init streams derive from it.
    pub seed: u64,
    /// Data and preprocessing.
    pub data: DataConfig,
    /// Train/validation/test split: fractions, or a cross-validation fold.
    pub split: SplitSettings,
    /// Model.
    pub model: ModelSettings,
    /// Optimisation.
    pub train: TrainSettings,
}

impl RunConfig {
    /// Stable id: `<model>-f<freeze>-s<seed>-<hash>`, with the head after the freeze depth for
    /// a classic head (`<model>-f<freeze>-<head>-s<seed>-<hash>`) and the test fold after the
    /// seed when cross-validating (`...-s<seed>-fold<k>-<hash>`). The hash (12 hex digits of
    /// BLAKE3) is taken over the whole resolved config, so equal configs share an id whatever
    /// the file text.
    ///
    /// A folder dataset with a fingerprint enters by its fingerprint alone: the hashed config
    /// holds an empty root, so moving, renaming or copying the data keeps the id.
    pub fn run_id(&self) -> Result<String> {
        let mut identity = self.clone();
        match &mut identity.data.source {
            DataSource::Folder {
                root,
                fingerprint: Some(_),
            }
            | DataSource::Table {
                root,
                fingerprint: Some(_),
                ..
            } => *root = PathBuf::new(),
            _ => {}
        }
        let hash = blake3::hash(identity.to_json()?.as_bytes()).to_hex();
        let head = match &self.model.head {
            Some(head) => format!("-{}", head.kind()),
            None => String::new(),
        };
        let fold = match self.split.fold() {
            Some(f) => format!("-fold{}", f.fold),
            None => String::new(),
        };
        Ok(format!(
            "{}-f{}{head}-s{}{fold}-{}",
            self.model.name,
            self.model.freeze,
            self.seed,
            &hash[..12]
        ))
    }

    /// The id this run had before datasets were identified by content ([`RunConfig::run_id`]
    /// of the config without its fingerprint, hashing the root path, and starting from the
    /// source run's own earlier id, `source_legacy_id`), when that differs from its id: the
    /// name of its folder in results written by an earlier cxr.
    pub fn legacy_run_id(&self, source_legacy_id: Option<&str>) -> Result<Option<String>> {
        let mut legacy = self.clone();
        let mut changed = false;
        if let DataSource::Folder { fingerprint, .. } = &mut legacy.data.source {
            changed |= fingerprint.take().is_some();
        }
        if let (Some(Weights::Run { run, .. }), Some(old)) =
            (&mut legacy.model.weights, source_legacy_id)
        {
            changed |= run != old;
            *run = old.to_string();
        }
        if changed {
            legacy.run_id().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The config as compact JSON: what [`RunConfig::run_id`] hashes and the summary's
    /// `config_json` column holds.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| self.unwritable("JSON", e))
    }

    /// The config as TOML, as written to a run folder's `config.toml`.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| self.unwritable("TOML", e))
    }

    /// Parses a run folder's `config.toml`.
    pub fn from_toml(text: &str) -> std::result::Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Whether the model starts from pretrained weights.
    pub fn pretrained(&self) -> bool {
        self.model.weights.is_some()
    }

    fn unwritable(
        &self,
        format: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> ExperimentError {
        ExperimentError::Serialize {
            grid: self.grid.clone(),
            format,
            source: Box::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::{Grid, Overrides, RunConfig};

    #[test]
    fn flattened_adam_keeps_unknown_train_keys_an_error() -> Result<(), Box<dyn std::error::Error>>
    {
        let grid = Grid::from_toml(
            "name = \"g\"\n[data.synthetic]\n[model]\nname = \"cnn\"\n[train]\nlr = 0.01\n",
            Path::new("g.toml"),
            &Overrides::default(),
        )?;
        let text = grid.runs[0].config.to_toml()?;
        let back = RunConfig::from_toml(&text)?;
        assert_eq!(back, grid.runs[0].config);
        assert_eq!(back.train.adam.lr, 0.01);
        // [train] is the last table of config.toml, so an appended key lands in it.
        let err = RunConfig::from_toml(&format!("{text}future_setting = 1\n")).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("unknown field `future_setting`"), "{msg}");
        Ok(())
    }
}
