//! The arguments of the commands that use a trained run or named weights: `cxr predict`,
//! `cxr evaluate`, `cxr explain` and `cxr features`.

use std::path::PathBuf;

use clap::Args;

use super::{CacheArgs, MirrorArgs};

/// `cxr predict`
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The run folder (`results/<grid>/runs/<run-id>`).
    #[arg(long, value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Image files, or folders searched recursively for PNG/JPEG (masks/ and lesions/ skipped).
    #[arg(required = true, value_name = "IMAGE_OR_DIR")]
    pub inputs: Vec<PathBuf>,
    /// One JSON object per line: {"path", "predicted", "probabilities": {class: p}}, and for a
    /// multi-label run "called": {finding: bool}.
    #[arg(long)]
    pub json: bool,
    /// Show only the K most probable classes (most probable first).
    #[arg(long, value_name = "K")]
    pub top: Option<usize>,
    /// The cache folder: a classic-head run's published backbone weights, and the data to
    /// recompute the preprocessing of runs without preprocessing.json.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Where published weights are downloaded from (a classic-head run's backbone, when not
    /// yet in the cache).
    #[command(flatten)]
    pub mirror: MirrorArgs,
}

/// `cxr evaluate`
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The run folder (`results/<grid>/runs/<run-id>`).
    #[arg(long, value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Dataset root with one folder per class (`<DIR>/<Class>/images/*` or `<DIR>/<Class>/*`);
    /// folders are matched to the model's classes ignoring case, spaces, `_` and `-`. With
    /// `--labels`, the root the table's image paths are under.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// A label table (NIH, CheXpert or generic layout; relative to --data or absolute) to score
    /// a multi-label run on: per-finding AUROC with intervals that resample patients.
    #[arg(long, value_name = "TABLE")]
    pub labels: Option<PathBuf>,
    /// Also write every printed number to this Parquet file (one long table).
    #[arg(long, value_name = "FILE.parquet")]
    pub out: Option<PathBuf>,
    /// Also write every image's prediction to this Parquet file (path, true class, predicted
    /// class, probabilities: the columns of a run's predictions.parquet).
    #[arg(long, value_name = "FILE.parquet")]
    pub predictions: Option<PathBuf>,
    /// Also draw the reliability diagram to STEM.png and STEM.svg.
    #[arg(long, value_name = "STEM")]
    pub reliability: Option<PathBuf>,
    /// The cache folder, for decoded images.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Where published weights are downloaded from (a classic-head run's backbone, when not
    /// yet in the cache).
    #[command(flatten)]
    pub mirror: MirrorArgs,
}

/// `cxr explain`
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The run folder (`results/<grid>/runs/<run-id>`).
    #[arg(long, value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// The radiograph to explain.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
    /// Explain this class (or a multi-label run's finding: `--finding`) instead of the
    /// predicted one.
    #[arg(long, visible_alias = "finding", value_name = "NAME")]
    pub class: Option<String>,
    /// Where to write the overlay PNG.
    #[arg(long, value_name = "PNG")]
    pub out: PathBuf,
    /// The cache folder.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Where published weights are downloaded from (a classic-head run's backbone, when not
    /// yet in the cache).
    #[command(flatten)]
    pub mirror: MirrorArgs,
}

/// `cxr features`
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("backbone").required(true).args(["run", "model"])))]
pub struct FeaturesArgs {
    /// A trained run folder (`results/<grid>/runs/<run-id>`): its network (for a classic-head
    /// run, its backbone), image size, masking, normalisation, seed and split (its fractions,
    /// or its cross-validation fold).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["model", "weights", "image_size", "seed", "mask"])]
    pub run: Option<PathBuf>,
    /// Instead of a run: this architecture (`cnn`, `resnet18`, `resnet34`, `resnet50`) ...
    #[arg(long, value_name = "NAME", requires = "weights")]
    pub model: Option<cxr_models::ModelKind>,
    /// ... with these weights: what a grid's `weights` takes (`imagenet`,
    /// `torchvision:IMAGENET1K_V2`, a `.safetensors`/`.pth` file, `random`).
    #[arg(long, value_name = "W")]
    pub weights: Option<String>,
    /// Image side length, with --model.
    #[arg(long, value_name = "PX", default_value_t = cxr_data::DEFAULT_IMAGE_SIZE)]
    pub image_size: u32,
    /// Seed of the split column (and of random init), with --model.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Multiply images by their lung masks, with --model.
    #[arg(long)]
    pub mask: bool,
    /// Dataset root with one folder per class (`<DIR>/<Class>/images/*` or `<DIR>/<Class>/*`).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The Parquet file to write: columns path, class, split, features (fixed-size list of f32).
    #[arg(long, value_name = "FILE.parquet")]
    pub out: PathBuf,
    /// The cache folder, for decoded images and downloaded weights.
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Results root, where runs named as weights sources are.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Where published weights are downloaded from.
    #[command(flatten)]
    pub mirror: MirrorArgs,
}
