//! One file per subcommand.

mod check;
mod data;
mod report;
mod sweep;

use crate::cli::Command;
use crate::exit::ExitStatus;

/// Runs a parsed command.
pub fn run(command: Command, quiet: bool) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Data(cmd) => data::run(cmd),
        Command::Sweep(args) => sweep::run(args, quiet),
        Command::Report(args) => report::run(args),
        Command::Check(args) => check::run(args),
    }
}
