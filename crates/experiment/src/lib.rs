//! Experiment grids: one TOML file describes every run of a comparison.
//!
//! A grid file holds base settings (`name`, `seed`, `[data]`, `[split]`, `[model]`,
//! `[models.<name>]`, `[train]`) and a `[grid]` table (or inline `grid = { ... }`) whose keys
//! are axes: `model`, `freeze`, `seed`, or any scalar setting by its dotted path
//! (`"train.lr" = [1e-3, 1e-4]`). [`Grid`]
//! expands the cartesian product of the axes; each cell is merged into the base, resolved into
//! a [`RunConfig`] with every default filled in and every range checked, and named by a stable
//! [`RunConfig::run_id`] hashed from the resolved settings, not the file text.
//!
//! Parsing is raw, then resolved ([`raw`] then [`resolve`]): unknown keys and unknown named
//! values (`sampler = "balance"`) are errors naming the file and the line, and a value out of
//! range names the setting and the allowed range. A setting left out takes its value from
//! [`defaults`]. The grids a grid's runs take weights from are expanded first, then its runs
//! are resolved against them. The CNN
//! has no stages to freeze: cells pairing it with freeze > 0 fold into its freeze-0 run and the
//! expansion says so in [`Grid::notes`].
//!
//! `[train] objective` ([`Objective`]) says what a run trains: a classifier (the default, left
//! out of the serialised config so that classify run ids predate the setting) or an autoencoder
//! that pretrains the backbone without labels (which must not freeze stages).
//!
//! `[model] head` (axis `head`) picks the classifier on the backbone's features: `linear`
//! (the default: the network's `fc`, trained by Adam with the unfrozen stages) or a classic head
//! from `cxr-heads` (`logistic`, `svm_linear`, `svm_rbf`, `random_forest`, `knn`), fitted on
//! the pooled features of the fully frozen backbone (`freeze` defaults to, and must be, the
//! whole backbone: 4 for a ResNet, 5 for the CNN). `[heads.<name>]` replaces a head's declared
//! hyperparameter values (`[heads.knn] k = [1, 5]`), which become part of the run's config.
//! A backbone taken from another grid's run on the same dataset must have used the same split,
//! or its training images would include this run's test images: that is a resolve error.
//!
//! `[split] folds = k` ([`SplitSettings::Fold`]) cross-validates: each grid cell becomes k runs,
//! one per test fold, on the `fold` axis (`split.fold`), which varies fastest so that `--cell`
//! indices and Slurm array tasks count the folds like any cell; `fold = [0, 2]` in `[grid]`
//! runs some folds only. The fold is in the run id (`...-s<seed>-fold<k>-<hash>`); a run on
//! one split by fractions serialises its config exactly as before folds existed, so its id is
//! unchanged. A source run on the same data with another fold counts as another split.
//!
//! A run folder's `config.toml` is written and read by [`RunConfigFile`]'s methods on
//! `cxr-results`' `RunDir`; the grid axes' plain types ([`axes`], [`AxisValue`]) are the
//! results crate's, re-exported here.
//!
//! This crate neither loads data nor trains: `cxr-trainer` runs a [`RunConfig`].
//!
//! ```
//! use cxr_experiment::{Grid, Overrides};
//! let grid = Grid::from_toml(r#"
//!     name = "demo"
//!     [data.synthetic]
//!     per_class = 50
//!     [grid]
//!     model = ["cnn", "resnet18"]
//!     freeze = [0, 2]
//! "#, "experiments/demo.toml".as_ref(), &Overrides::default()).unwrap();
//! assert_eq!(grid.runs.len(), 3); // cnn once, resnet18 at freeze 0 and 2
//! ```

mod cell;
pub mod config;
pub mod config_file;
mod data_config;
pub mod defaults;
pub mod error;
pub mod grid;
pub mod planned_run;
pub mod raw;
pub mod resolve;
pub mod slurm;
mod sources;
pub mod split;
pub mod toml_error;

pub use config::{
    AdamSettings, DataConfig, DataSource, ModelSettings, Objective, PosWeight, RunConfig,
    StopMetric, Task, TrainSettings, Weights, LINEAR_HEAD,
};
pub use config_file::RunConfigFile;
pub use cxr_heads::{HeadKind, HeadSearch};
pub use cxr_results::axes::{self, AxisValue};
pub use error::{ExperimentError, Result};
pub use grid::Grid;
pub use planned_run::PlannedRun;
pub use resolve::Overrides;
pub use slurm::{sbatch_script, shell_quote, SlurmOptions, SlurmResources};
pub use split::{FoldSplit, SplitSettings};
pub use toml_error::one_line;
