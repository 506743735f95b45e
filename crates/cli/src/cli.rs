//! Command-line grammar.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod run_args;
pub use run_args::{EvaluateArgs, ExplainArgs, FeaturesArgs, PredictArgs};

/// Train and compare chest X-ray classifiers.
#[derive(Debug, Parser)]
#[command(name = "cxr", version, about)]
pub struct Cli {
    /// Only print warnings and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More log output (-v debug, -vv trace); CXR_LOG=<filter> overrides.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// CPU threads for training, inference and decoding [default: all cores].
    #[arg(long, global = true, env = "CXR_THREADS", value_name = "N")]
    pub threads: Option<usize>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Look at, prepare or generate datasets.
    #[command(subcommand)]
    Data(DataCommand),
    /// Train every run of a grid file that is not finished yet, recording results as Parquet.
    Sweep(SweepArgs),
    /// Classify radiographs with a trained run: predicted class and every class's probability
    /// (a multi-label run: every finding's probability and call).
    Predict(PredictArgs),
    /// Score a trained run on another dataset in class folders (external validation).
    Evaluate(EvaluateArgs),
    /// Grad-CAM: where a trained run looked, as a colour-mapped overlay PNG.
    Explain(ExplainArgs),
    /// Export every image's pooled features (from a run, or from named weights) to Parquet.
    Features(FeaturesArgs),
    /// Write figures, report.md and report.html for a grid's results (reads only its Parquet
    /// files).
    Report(ReportArgs),
    /// Compare a grid's test recall with a baseline file; exit 1 on a regression.
    Check(CheckArgs),
    /// Download published pretrained weights ahead of time, or list the cached ones.
    #[command(subcommand)]
    Weights(WeightsCommand),
    /// Export a grid's finished runs to an experiment tracker (MLflow).
    #[command(subcommand)]
    Export(ExportCommand),
}

/// `cxr report`
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A grid's results folder, e.g. `results/demo`.
    pub grid_dir: PathBuf,
}

/// `cxr check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A grid's results folder, e.g. `results/ci`.
    pub grid_dir: PathBuf,
    /// The baseline file (TOML), e.g. `experiments/baselines/ci.toml`.
    #[arg(long)]
    pub baseline: PathBuf,
    /// Largest allowed drop in test micro-recall (0 or more).
    #[arg(long, default_value_t = cxr_report::DEFAULT_TOLERANCE, allow_negative_numbers = true, value_parser = non_negative)]
    pub tolerance: f64,
    /// Rewrite the baseline from the current results instead of checking.
    #[arg(long)]
    pub update: bool,
    /// Do not fail on finished runs that the baseline does not list.
    #[arg(long)]
    pub allow_new: bool,
}

/// `cxr sweep`
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The grid file (`experiments/*.toml`).
    pub grid: PathBuf,
    /// Dataset root, replacing the grid's `data.root` / `[data.synthetic]`.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Results root; the grid writes to `<RESULTS>/<grid name>/`.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Print the expanded runs (index, run id, model, freeze, other axes) and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// Run only the N-th expanded run (0-based): the hook for job arrays.
    #[arg(long, value_name = "N")]
    pub cell: Option<usize>,
    /// Rerun runs whose results are complete.
    #[arg(long)]
    pub force: bool,
    /// Start N sweeps of this grid in parallel processes on this machine, the threads split
    /// between them; like sweeps started on several machines sharing the results folder, each
    /// claims a run before training it and skips runs another holds.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: u16,
    /// Seconds another sweep's claim on a run lives without a heartbeat (it renews it every
    /// fifth of this) before this sweep takes the run over; a claim of a process gone from
    /// this machine is taken over at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub claim_timeout: u64,
    /// Keep each run's last epoch checkpoint (checkpoint.safetensors) when it finishes; by
    /// default it is removed once the run's summary is written.
    #[arg(long)]
    pub keep_checkpoints: bool,
    /// The cache folder, for decoded images, the synthetic set and downloaded weights.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Write a Slurm sbatch script to FILE and exit: a preparation job (data cache, weights)
    /// that submits one job array per grid stage, one task per run (options below).
    #[arg(long, value_name = "FILE")]
    pub emit_slurm: Option<PathBuf>,
    /// Build the data caches and download the published weights that the runs of the grid and
    /// of its source grids read, then exit (the preparation job of --emit-slurm).
    #[arg(long, conflicts_with_all = ["cell", "dry_run", "emit_slurm"])]
    pub prepare: bool,
    /// With --cell: stop unless cell N is this run (the arrays of --emit-slurm pass it, so a
    /// grid edited after its script was written cannot train the wrong run under a log's name).
    #[arg(long, value_name = "RUN_ID", requires = "cell")]
    pub expect_run: Option<String>,
    /// Where published weights are downloaded from (without the flag or its variable: the
    /// grid's `weights_mirror`, else the publisher).
    #[command(flatten)]
    pub mirror: MirrorArgs,
    /// Train on this device: cpu, cuda (GPU 0) or cuda:N, replacing every run's
    /// `train.device` (source grids' too). A GPU run has its own run id [default: the grid's
    /// `train.device`, else cpu].
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<cxr_models::DeviceSpec>,
    /// What the --emit-slurm jobs ask Slurm for. Last: its help heading would otherwise file
    /// the options after it under "Slurm" too.
    #[command(flatten)]
    pub slurm: SlurmArgs,
}

/// The resources of `cxr sweep --emit-slurm`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Slurm (with --emit-slurm)")]
pub struct SlurmArgs {
    /// Partition of every job [default: the cluster's].
    #[arg(long, value_name = "NAME", requires = "emit_slurm", value_parser = crate::slurm_values::word)]
    pub partition: Option<String>,
    /// Wall-time limit of each job (the preparation and each array task), in a Slurm format:
    /// MM, HH:MM:SS, D-HH:MM:SS, ...
    #[arg(long, value_name = "TIME", default_value = "24:00:00", requires = "emit_slurm", value_parser = crate::slurm_values::time)]
    pub time: String,
    /// CPUs per job; also each run's thread count (so a task's results equal a local
    /// `cxr sweep --threads N`).
    #[arg(long, value_name = "N", default_value_t = 8, requires = "emit_slurm", value_parser = clap::value_parser!(u16).range(1..))]
    pub cpus_per_task: u16,
    /// Memory per job, with its unit: 16G, 500M [default: the cluster's].
    #[arg(long, value_name = "SIZE", requires = "emit_slurm", value_parser = crate::slurm_values::mem)]
    pub mem: Option<String>,
    /// Generic resources of each array task, e.g. gpu:1 (not of the preparation job).
    #[arg(long, value_name = "GRES", requires = "emit_slurm", value_parser = crate::slurm_values::word)]
    pub gres: Option<String>,
    /// Run at most N tasks of an array at once (the array's %N) [default: no limit].
    #[arg(long, value_name = "N", requires = "emit_slurm", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_parallel: Option<u16>,
}

/// A tolerance: a number, 0 or more.
fn non_negative(s: &str) -> Result<f64, String> {
    let value: f64 = s.parse().map_err(|_| format!("{s} is not a number"))?;
    if value >= 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "the tolerance must be 0 or more (a drop in test micro-recall), got {s}"
        ))
    }
}

/// `cxr data ...`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Count images and masks per class, list sizes, pixel types, file types and unreadable files;
    /// or, with --labels, count a label table's findings, patients and views.
    Inspect(InspectArgs),
    /// Write the synthetic chest X-ray phantom dataset (Kaggle layout, with lung masks).
    Synth(SynthArgs),
    /// Decode, resize and cache a dataset now, and report how long it took.
    Prepare(PrepareArgs),
}

/// `cxr data inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Dataset root: `<DIR>/<Class>/images/*` or `<DIR>/<Class>/*`.
    pub dir: PathBuf,
    /// Print JSON: {"classes": [{"name", "images", "masks", "file_types", ...}], "unreadable": [{"path", "reason"}]}.
    #[arg(long)]
    pub json: bool,
    /// Only these classes, in this order (comma separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "labels")]
    pub classes: Option<Vec<String>>,
    /// A label table (CSV or Parquet, relative to DIR or absolute; NIH, CheXpert/MIMIC or
    /// generic layout): report per finding the positives, negatives, uncertain and missing,
    /// the patients and their films, and the views, instead of the class folders. Rows naming
    /// missing images are counted, not fatal. With --json: {"table", "layout", "films",
    /// "findings": [{"name", "positive", "negative", "uncertain", "missing"}], "patients":
    /// {"count", "min_films", "median_films", "max_films"}, "views": {VIEW: films}, ...}.
    #[arg(long, value_name = "TABLE")]
    pub labels: Option<PathBuf>,
}

/// `cxr data synth`
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output folder (created; existing generator files are overwritten, and those past
    /// --per-class removed).
    #[arg(long)]
    pub out: PathBuf,
    /// Images per class.
    #[arg(long, default_value_t = 200)]
    pub per_class: usize,
    /// Image side length in pixels.
    #[arg(long, default_value_t = 128)]
    pub size: u32,
    /// Generator seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Class names (comma separated); default COVID,Lung_Opacity,Normal,Viral Pneumonia.
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
}

/// `cxr data prepare`
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// Dataset root.
    pub dir: PathBuf,
    /// Side length of the resized square images.
    #[arg(long, default_value_t = cxr_data::DEFAULT_IMAGE_SIZE)]
    pub image_size: u32,
    /// Multiply each image by its lung mask from `<Class>/masks/`.
    #[arg(long)]
    pub mask: bool,
    /// Skip unreadable images (with a warning) instead of failing.
    #[arg(long)]
    pub skip_unreadable: bool,
    /// The cache folder, for decoded images.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// DICOM window: `file` (the file's window, else the image's full range), `full`, or two
    /// percentiles `LOWER,UPPER` such as `0.5,99.5` (as `[data] dicom_window` in a grid).
    #[arg(long, default_value = "file")]
    pub dicom_window: cxr_data::DicomWindow,
}

/// `cxr weights ...`
#[derive(Debug, Subcommand)]
pub enum WeightsCommand {
    /// Download and verify published weights into the cache now (e.g. on a login node, before
    /// submitting to compute nodes without internet); prints each cached file's path.
    Fetch(FetchArgs),
    /// List the cached weights: file, model, variant, size, SHA-256 and whether it verifies.
    List(WeightsListArgs),
}

/// `cxr weights fetch`
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Models to fetch weights for (resnet18, resnet34, resnet50).
    #[arg(
        value_name = "MODEL",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub models: Vec<cxr_models::ModelKind>,
    /// Fetch every published file cxr knows.
    #[arg(long)]
    pub all: bool,
    /// Which weights: `imagenet` or `torchvision:<VARIANT>` (e.g. `torchvision:IMAGENET1K_V2`).
    #[arg(long, default_value = "imagenet", value_name = "NAME")]
    pub variant: String,
    /// The cache folder; weights go to `<DIR>/weights/`.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Where the weights are downloaded from.
    #[command(flatten)]
    pub mirror: MirrorArgs,
}

/// `cxr weights list`
#[derive(Debug, Args)]
pub struct WeightsListArgs {
    /// The cache folder; weights are in `<DIR>/weights/`.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Print JSON: [{"path", "file", "model", "variant", "bytes", "sha256", "verified"}].
    #[arg(long)]
    pub json: bool,
}

/// `--cache-dir`, for every command that reads or fills cxr's caches.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Cache folder: decoded images, generated synthetic sets, downloaded weights
    /// (`<DIR>/weights/`) [default: $CXR_CACHE_DIR, else $XDG_CACHE_HOME/cxr, else ~/.cache/cxr].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl CacheArgs {
    /// The cache folder: `--cache-dir`, else [`cxr_data::default_cache_dir`] (`$CXR_CACHE_DIR`,
    /// else `$XDG_CACHE_HOME/cxr`, else `~/.cache/cxr`).
    pub fn resolve(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(cxr_data::default_cache_dir)
    }
}

/// `--weights-mirror`, for every command that may download published weights.
#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// Download published weights as `<URL>/<file>` instead of from the publisher's server
    /// (download.pytorch.org for torchvision's): an institutional mirror [default: for `cxr
    /// sweep`, the grid's `weights_mirror`; else the publisher's].
    // `--mirror` was `cxr weights fetch`'s name for it; kept, hidden, for scripts using it.
    #[arg(long, alias = "mirror", env = cxr_weights::MIRROR_ENV, value_name = "URL")]
    pub weights_mirror: Option<String>,
}

impl MirrorArgs {
    /// The mirror given by `--weights-mirror` or `$CXR_WEIGHTS_MIRROR`, trimmed; `None` when
    /// neither is given or the value is blank.
    pub fn resolve(&self) -> Option<String> {
        self.weights_mirror
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_string)
    }
}

/// `cxr export ...`
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export each finished run of a grid as an MLflow run (params, per-epoch metrics, tags,
    /// artifacts) over the server's REST API; a rerun sends only what is new.
    Mlflow(ExportMlflowArgs),
}

/// `cxr export mlflow`
#[derive(Debug, Args)]
pub struct ExportMlflowArgs {
    /// A grid's results folder, e.g. `results/ci`.
    pub grid_dir: PathBuf,
    /// The MLflow tracking server, e.g. http://127.0.0.1:5000; it must serve artifacts, as
    /// `mlflow server` does by default.
    #[arg(long, env = "MLFLOW_TRACKING_URI", value_name = "URI")]
    pub tracking_uri: String,
    /// The experiment to export into, created if missing [default: the grid folder's name].
    #[arg(long, value_name = "NAME")]
    pub experiment: Option<String>,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    /// The mirror `cxr weights fetch --all <flag> <url>` resolves to.
    fn fetch_mirror(flag: &str, url: &str) -> Result<Option<String>, clap::Error> {
        let cli = Cli::try_parse_from(["cxr", "weights", "fetch", "--all", flag, url])?;
        Ok(match cli.command {
            Command::Weights(WeightsCommand::Fetch(args)) => args.mirror.resolve(),
            _ => None,
        })
    }

    #[test]
    fn the_grammar_is_consistent() {
        // Catches two arguments of one command under one id, e.g. a flattened `--cache-dir`
        // beside a positional of the same field name.
        Cli::command().debug_assert();
    }

    #[test]
    fn the_mirror_has_one_name_and_the_old_one_still_parses() -> Result<(), clap::Error> {
        let want = Some("http://mirror.lan/w/".to_string());
        assert_eq!(
            fetch_mirror("--weights-mirror", " http://mirror.lan/w/ ")?,
            want
        );
        assert_eq!(fetch_mirror("--mirror", "http://mirror.lan/w/")?, want);
        let blank = MirrorArgs {
            weights_mirror: Some("  ".into()),
        };
        assert_eq!(blank.resolve(), None);
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("weights")
            .and_then(|w| w.find_subcommand_mut("fetch"))
            .map(|fetch| fetch.render_long_help().to_string())
            .unwrap_or_default();
        assert!(help.contains("--weights-mirror <URL>"), "{help}");
        assert!(
            !help.contains("--mirror"),
            "the old name stays hidden: {help}"
        );
        Ok(())
    }

    #[test]
    fn an_explicit_cache_dir_wins() {
        let given = CacheArgs {
            cache_dir: Some("/scratch/cache".into()),
        };
        assert_eq!(given.resolve(), PathBuf::from("/scratch/cache"));
        let default = CacheArgs { cache_dir: None };
        assert_eq!(default.resolve(), cxr_data::default_cache_dir());
    }
}
