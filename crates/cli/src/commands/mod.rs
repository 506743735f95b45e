//! One file per subcommand.

mod check;
mod data;
mod evaluate;
mod explain;
mod features;
mod predict;
mod report;
mod sweep;
mod weights;

use crate::cli::Command;
use crate::exit::ExitStatus;

/// Where `predict`, `evaluate`, `explain` and `features` load a trained run's model: these
/// commands have no `--device`, so the CPU.
const INFERENCE_DEVICE: cxr_models::DeviceSpec = cxr_models::DeviceSpec::Cpu;

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
    }
}
