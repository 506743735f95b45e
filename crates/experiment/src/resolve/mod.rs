//! Raw settings to a validated [`RunConfig`]: defaults filled in, ranges checked, paths made
//! relative to the grid file's folder. Every error names the file, the setting and the range.

use std::cell::RefCell;
use std::path::{Component, Path, PathBuf};

use cxr_data::{Augment, SplitFractions};

use cxr_heads::{HeadKind, HeadSearch};
use cxr_models::{DeviceSpec, ModelKind};

use crate::config::{
    AdamSettings, DataConfig, DataSource, ModelSettings, Objective, RunConfig, TrainSettings,
    Weights, LINEAR_HEAD,
};
use crate::error::{ExperimentError, Result};
use crate::grid::Grid;
use crate::raw::{RawFreeze, RawRun, RawRunSource, RawSplit, RawWeights};
use crate::split::{FoldSplit, SplitSettings};

/// Settings given on the command line that replace the grid file's.
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
}

/// The most cross-validation folds a grid may ask for.
pub(crate) const MAX_FOLDS: usize = 1000;

pub(crate) struct Resolver<'a> {
    pub file: &'a Path,
    pub base_dir: &'a Path,
    pub overrides: &'a Overrides,
    pub sources: &'a Sources,
}

/// The source grids a grid's runs take weights from, each read and expanded once, and the
/// chain of grid files that led here (a grid that reaches itself is a cycle).
pub(crate) struct Sources {
    chain: Vec<PathBuf>,
    grids: RefCell<Vec<Grid>>,
}

impl Sources {
    /// `chain`: the grid files being expanded, outermost first, this one last.
    pub fn new(chain: Vec<PathBuf>) -> Self {
        Self {
            chain,
            grids: RefCell::new(Vec::new()),
        }
    }

    /// The expanded source grids, in first-use order.
    pub fn into_grids(self) -> Vec<Grid> {
        self.grids.into_inner()
    }

    /// The resolved config of run `run` of the source grid named `grid`, once expanded.
    fn config_of(&self, grid: &str, run: &str) -> Option<RunConfig> {
        self.grids
            .borrow()
            .iter()
            .filter(|g| g.name == grid)
            .flat_map(|g| &g.runs)
            .find(|r| r.id == run)
            .map(|r| r.config.clone())
    }

    /// The source grid at `file` (normalised), expanded on first use. Its own `--data`-free
    /// settings apply: a source grid is trained on the data its file names.
    fn get(&self, file: &Path, r: &Resolver<'_>, setting: &str) -> Result<Grid> {
        if let Some(grid) = self.grids.borrow().iter().find(|g| g.path == file) {
            return Ok(grid.clone());
        }
        if self.chain.iter().any(|p| p == file) {
            let cycle: Vec<String> = self
                .chain
                .iter()
                .chain([&file.to_path_buf()])
                .map(|p| p.display().to_string())
                .collect();
            return Err(r.invalid(
                setting,
                file.display(),
                format!(
                    "grids take weights from each other in a cycle ({}): a source grid must not depend on this one",
                    cycle.join(" -> ")
                ),
            ));
        }
        if !file.is_file() {
            return Err(r.invalid(
                setting,
                file.display(),
                "source grid file not found: give its path relative to this grid file",
            ));
        }
        let mut chain = self.chain.clone();
        chain.push(file.to_path_buf());
        let overrides = Overrides {
            allow_missing_data: r.overrides.allow_missing_data,
            device: r.overrides.device,
            ..Overrides::default()
        };
        let grid = Grid::from_file_in_chain(file, &overrides, chain)?;
        self.grids.borrow_mut().push(grid.clone());
        Ok(grid)
    }
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
        let seed = raw.seed.unwrap_or(0);
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
                self.same_split_on_same_data(&from, run, &data, &split, seed)?;
            }
        }
        let train = self.train(&raw)?;
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

    /// A source run trained on this run's dataset must have split it the same way: otherwise
    /// its training images include this run's test images, and the test score is inflated.
    fn same_split_on_same_data(
        &self,
        source: &RunConfig,
        run: &str,
        data: &DataConfig,
        split: &SplitSettings,
        seed: u64,
    ) -> Result<()> {
        if source.data.source != data.source {
            return Ok(());
        }
        let differs = if source.seed != seed {
            format!("seed {} there, {seed} here", source.seed)
        } else if source.split != *split {
            format!("{} there, {split} here", source.split)
        } else if source.data.classes != data.classes
            || source.data.skip_unreadable != data.skip_unreadable
        {
            "another class list or set of readable images".to_string()
        } else {
            return Ok(());
        };
        Err(self.invalid(
            "model.weights",
            format!("{}/{run}", source.grid),
            format!(
                "the source run was trained on this dataset with another split ({differs}), so its training images include this run's test images: give both the same seed and split, or take the weights from a run on other data"
            ),
        ))
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
        let dicom_window = d.dicom_window.unwrap_or_default();
        if let Err(cxr_data::DataError::InvalidSetting { message, .. }) = dicom_window.validate() {
            return Err(self.invalid("data.dicom_window", dicom_window.key(), message));
        }
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
            dicom_window,
            normalization: d.normalization.unwrap_or_default(),
            augment,
        })
    }

    fn split(&self, raw: &RawRun) -> Result<SplitSettings> {
        let s = raw.split.clone().unwrap_or_default();
        let def = SplitFractions::default();
        match (s.folds, s.fold) {
            (Some(folds), fold) => return self.fold_split(&s, folds, fold).map(SplitSettings::Fold),
            (None, Some(fold)) => {
                return Err(self.invalid(
                    "split.fold",
                    fold,
                    "a fold is one of k cross-validation folds: set [split] folds = k, or leave fold out",
                ))
            }
            (None, None) => {}
        }
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
        Ok(SplitSettings::Fractions(f))
    }

    /// `[split] folds = k` with the cell's test fold: the validation fraction must leave
    /// training images in the other folds, and fractions of train and test have no meaning.
    fn fold_split(&self, s: &RawSplit, folds: usize, fold: Option<usize>) -> Result<FoldSplit> {
        let folds = self.range("split.folds", folds, 2, MAX_FOLDS)?;
        for (setting, given) in [("split.train", s.train), ("split.test", s.test)] {
            if let Some(v) = given {
                return Err(self.invalid(
                    setting,
                    v,
                    format!(
                        "with split.folds = {folds} each run tests on one fold (1/{folds} of each class) and trains on the rest: leave split.train and split.test out"
                    ),
                ));
            }
        }
        let fold = fold.ok_or_else(|| {
            self.invalid(
                "split.fold",
                "(missing)",
                "a cross-validation run needs its test fold: list fold = [...] in [grid] or leave it to the expansion",
            )
        })?;
        if fold >= folds {
            return Err(self.invalid(
                "split.fold",
                fold,
                format!("allowed range is 0..={} (split.folds = {folds})", folds - 1),
            ));
        }
        let val = s.val.unwrap_or(SplitFractions::default().val);
        let outside = (folds - 1) as f64 / folds as f64;
        if !(val > 0.0 && val < outside) {
            return Err(self.invalid(
                "split.val",
                val,
                format!(
                    "with split.folds = {folds} validation is carved from the other folds ({outside:.3} of each class): allowed range is (0, {outside:.3}), leaving training images"
                ),
            ));
        }
        Ok(FoldSplit { val, folds, fold })
    }

    fn model(
        &self,
        raw: &RawRun,
        seed: u64,
        split: &SplitSettings,
        fold_cnn_freeze: bool,
    ) -> Result<(ModelSettings, bool)> {
        let m = raw.model.clone().unwrap_or_default();
        let name = m.name.ok_or_else(|| {
            self.invalid(
                "model.name",
                "(missing)",
                "set [model] name = \"cnn\" or a grid axis model = [...]",
            )
        })?;
        let head = match m.head.as_deref() {
            None | Some(LINEAR_HEAD) => None,
            Some(text) => Some(text.parse::<HeadKind>().map_err(|_| {
                let names: Vec<&str> = HeadKind::ALL.iter().map(|k| k.name()).collect();
                self.invalid(
                    "model.head",
                    text,
                    format!("unknown head: use {LINEAR_HEAD}, {}", names.join(", ")),
                )
            })?),
        };
        let requested = match &m.freeze {
            None => None,
            Some(RawFreeze::Depth(depth)) => Some(*depth),
            Some(RawFreeze::Named(text)) if text == "all" => Some(name.full_freeze()),
            Some(RawFreeze::Named(text)) => {
                return Err(self.invalid(
                    "model.freeze",
                    text,
                    "use a number of frozen stages, or \"all\" for the whole backbone",
                ))
            }
        };
        let (freeze, folded) = match head {
            Some(kind) => (
                self.classic_freeze(name, kind, requested, fold_cnn_freeze)?,
                false,
            ),
            None => self.linear_freeze(name, requested.unwrap_or(0), fold_cnn_freeze)?,
        };
        let (setting, raw_weights) =
            match (m.weights, raw.models.as_ref().and_then(|ms| ms.get(&name))) {
                (Some(w), _) => ("model.weights".to_string(), Some(w)),
                (None, Some(entry)) => (format!("models.{name}.weights"), entry.weights.clone()),
                (None, None) => (String::new(), None),
            };
        let weights = match raw_weights {
            Some(w) => self.weights(raw, &setting, w, name, seed, split)?,
            None => None,
        };
        let head = head.map(|kind| self.head_search(raw, kind)).transpose()?;
        Ok((
            ModelSettings {
                name,
                freeze,
                weights,
                head,
            },
            folded,
        ))
    }

    /// The freeze depth of a linear-head run: 0..=4 for a ResNet, 0 for the CNN (a grid cell
    /// pairing the CNN with a depth is folded to 0 when `fold`).
    fn linear_freeze(&self, name: ModelKind, freeze: usize, fold: bool) -> Result<(usize, bool)> {
        if freeze <= name.max_freeze() {
            return Ok((freeze, false));
        }
        if name.is_resnet() {
            return Err(self.invalid(
                "model.freeze",
                freeze,
                format!(
                    "{name} has the stem and 4 stages: allowed range is 0..=4 (4 trains fc only)"
                ),
            ));
        }
        if fold {
            return Ok((0, true));
        }
        let message = if freeze == name.full_freeze() {
            "freezing all of the cnn's blocks is for classic heads (head = \"logistic\", ...), fitted on its frozen features: use 0 to train it, or set a classic head"
        } else {
            "the cnn has no stages to freeze: use 0"
        };
        Err(self.invalid("model.freeze", freeze, message))
    }

    /// The freeze depth of a classic-head run: the whole backbone, whatever the grid cell
    /// pairs it with for the CNN (which has no stages of its own to freeze).
    fn classic_freeze(
        &self,
        name: ModelKind,
        head: HeadKind,
        requested: Option<usize>,
        fold: bool,
    ) -> Result<usize> {
        let full = name.full_freeze();
        match requested {
            None => Ok(full),
            Some(depth) if depth == full => Ok(full),
            Some(_) if fold && !name.is_resnet() => Ok(full),
            Some(depth) => Err(self.invalid(
                "model.freeze",
                depth,
                format!(
                    "a {head} head is fitted on the features of a fully frozen backbone: set freeze = {full} (or \"all\") for the {name}, or head = \"{LINEAR_HEAD}\" to train stages"
                ),
            )),
        }
    }

    /// A classic head's declared hyperparameter values, with `[heads.<name>]`'s in their place.
    fn head_search(&self, raw: &RawRun, kind: HeadKind) -> Result<HeadSearch> {
        let mut search = HeadSearch::default_for(kind);
        let setting = format!("heads.{kind}");
        if let Some(given) = raw.heads.as_ref().and_then(|h| h.get(&kind)) {
            let keys = [
                ("c", given.c.is_some()),
                ("gamma_scale", given.gamma_scale.is_some()),
                ("trees", given.trees.is_some()),
                ("k", given.k.is_some()),
            ];
            let own: &[&str] = match &mut search {
                HeadSearch::Logistic { c } | HeadSearch::SvmLinear { c } => {
                    set(c, &given.c);
                    &["c"]
                }
                HeadSearch::SvmRbf { c, gamma_scale } => {
                    set(c, &given.c);
                    set(gamma_scale, &given.gamma_scale);
                    &["c", "gamma_scale"]
                }
                HeadSearch::RandomForest { trees } => {
                    set(trees, &given.trees);
                    &["trees"]
                }
                HeadSearch::Knn { k } => {
                    set(k, &given.k);
                    &["k"]
                }
            };
            if let Some((key, _)) = keys
                .iter()
                .find(|(key, given)| *given && !own.contains(key))
            {
                return Err(self.invalid(
                    &format!("{setting}.{key}"),
                    "...",
                    format!("{kind} takes no {key}: its settings are {}", own.join(", ")),
                ));
            }
        }
        search
            .validate()
            .map_err(|message| self.invalid(&setting, "...", message))?;
        Ok(search)
    }

    /// Resolves a `weights` value of a `name` run with `seed` and `split`: `"random"` (none),
    /// a `[pretrained.<label>]` label, a source table, or a file path.
    fn weights(
        &self,
        raw: &RawRun,
        setting: &str,
        weights: RawWeights,
        name: ModelKind,
        seed: u64,
        split: &SplitSettings,
    ) -> Result<Option<Weights>> {
        let text = match weights {
            RawWeights::Run(source) => {
                return self
                    .source_run(setting, &source, name, seed, split)
                    .map(Some)
            }
            RawWeights::Named(text) => text,
        };
        if text == "random" || text == "none" {
            return Ok(None);
        }
        if let Some(source) = raw.pretrained.as_ref().and_then(|p| p.get(&text)) {
            let setting = format!("pretrained.{text}");
            return self
                .source_run(&setting, source, name, seed, split)
                .map(Some);
        }
        if cxr_weights::is_published_name(&text) {
            let published = cxr_weights::lookup(name, &text)
                .map_err(|e| self.invalid(setting, &text, e.to_string()))?;
            return Ok(Some(Weights::Published {
                name: published.id(),
            }));
        }
        let path = self.path(Path::new(&text));
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
        Ok(Some(Weights::File { path }))
    }

    /// The one run of a source grid whose kept weights a `name` run with `seed` and `split`
    /// starts from. Among several, the one of this run's seed, then of its split (a
    /// cross-validation source's run of this run's fold) is taken.
    fn source_run(
        &self,
        setting: &str,
        source: &RawRunSource,
        name: ModelKind,
        seed: u64,
        split: &SplitSettings,
    ) -> Result<Weights> {
        let file = self.path(&source.grid);
        let grid = self.sources.get(&file, self, setting)?;
        let model = source.model.unwrap_or(name);
        if model != name {
            return Err(self.invalid(
                &format!("{setting}.model"),
                model,
                format!("a {model}'s weights do not fit a {name}: take them from a {name} run"),
            ));
        }
        let mut matches: Vec<_> = grid
            .runs
            .iter()
            .filter(|r| r.config.model.name == model)
            .filter(|r| {
                source
                    .run
                    .as_ref()
                    .is_none_or(|id| r.id.starts_with(id.as_str()))
            })
            .collect();
        match source.seed {
            Some(s) => matches.retain(|r| r.config.seed == s),
            None if matches.len() > 1 && matches.iter().any(|r| r.config.seed == seed) => {
                matches.retain(|r| r.config.seed == seed)
            }
            None => {}
        }
        if matches.len() > 1 && matches.iter().any(|r| r.config.split == *split) {
            matches.retain(|r| r.config.split == *split);
        }
        match matches.as_slice() {
            [run] => Ok(Weights::Run {
                grid: grid.name.clone(),
                run: run.id.clone(),
            }),
            [] => Err(self.invalid(
                setting,
                file.display(),
                format!(
                    "no {model} run of that grid matches (its runs: {}): add a {model} run to it or change model/seed/run",
                    grid.runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
            several => Err(self.invalid(
                setting,
                file.display(),
                format!(
                    "{} runs of that grid match ({}): pick one with seed = <n> or run = \"<id prefix>\"",
                    several.len(),
                    several.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
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
            calibrate: t.calibrate.unwrap_or(false),
            device: match (self.overrides.device, &t.device) {
                (Some(device), _) => device,
                (None, None) => DeviceSpec::Cpu,
                (None, Some(text)) => text.parse().map_err(|_| {
                    self.invalid(
                        "train.device",
                        format!("{text:?}"),
                        format!("use {}", cxr_models::device::DEVICE_VALUES),
                    )
                })?,
            },
        })
    }
}

/// Replaces a declared list with the one a grid file gives, if any.
fn set<T: Clone>(list: &mut Vec<T>, given: &Option<Vec<T>>) {
    if let Some(given) = given {
        list.clone_from(given);
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
    if !root.is_dir() && !r.overrides.allow_missing_data {
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
