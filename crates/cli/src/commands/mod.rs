//! One file per subcommand.

mod check;
mod data;
mod evaluate;
mod explain;
mod export;
mod features;
mod predict;
mod report;
mod sweep;
mod weights;

use std::path::Path;

use cxr_inference::TrainedModel;

use crate::cli::{Command, MirrorArgs};
use crate::download_bar::DownloadBar;
use crate::exit::ExitStatus;

/// Where `predict`, `evaluate`, `explain` and `features` load a trained run's model: these
/// commands have no `--device`, so the CPU.
const INFERENCE_DEVICE: cxr_models::DeviceSpec = cxr_models::DeviceSpec::Cpu;

/// The results root a classic-head run's source run is looked up in when the run folder is
/// not under `<results>/<grid>/runs/` (where it is, that `<results>` is used).
const DEFAULT_RESULTS: &str = "results";

/// Opens the run folder `run` for `predict`, `evaluate`, `explain` and `features` on
/// [`INFERENCE_DEVICE`]: a network's kept weights, or a classic-head run's backbone (its
/// published weights found in `cache_dir`'s weights folder, or downloaded as a sweep would,
/// from `mirror` when given) and head.
fn open_run(run: &Path, cache_dir: &Path, mirror: &MirrorArgs) -> anyhow::Result<TrainedModel> {
    let weights_mirror = mirror.resolve();
    let registry = cxr_weights::Registry::from_env();
    let env = cxr_trainer::RunEnv {
        cache_dir,
        results_dir: Path::new(DEFAULT_RESULTS),
        weights_mirror: weights_mirror.as_deref(),
        downloads: &DownloadBar,
        registry: &registry,
        earlier_ids: &cxr_trainer::NO_EARLIER_IDS,
    };
    Ok(TrainedModel::open(run, &env, &INFERENCE_DEVICE.open()?)?)
}

/// Runs a parsed command.
pub fn run(command: Command, quiet: bool) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Data(cmd) => data::run(cmd),
        Command::Sweep(args) => sweep::run(args, quiet),
        Command::Predict(args) => predict::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Features(args) => features::run(args),
        Command::Report(args) => report::run(args),
        Command::Check(args) => check::run(args),
        Command::Weights(cmd) => weights::run(cmd),
        Command::Export(cmd) => export::run(cmd),
    }
}
