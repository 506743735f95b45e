//! `cxr export mlflow`: a grid's finished runs as MLflow runs (see `cxr_mlflow`).

use anyhow::Context;

use crate::cli::{ExportCommand, ExportMlflowArgs};
use crate::exit::ExitStatus;
use crate::stdout::outln;

/// Runs a `cxr export` subcommand.
pub fn run(cmd: ExportCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        ExportCommand::Mlflow(args) => mlflow(args),
    }
}

fn mlflow(args: ExportMlflowArgs) -> anyhow::Result<ExitStatus> {
    let outcome = cxr_mlflow::export_grid(
        &args.grid_dir,
        &args.tracking_uri,
        args.experiment.as_deref(),
    )
    .with_context(|| format!("exporting {} to MLflow", args.grid_dir.display()))?;
    outln!(
        "experiment {:?}{}: {}",
        outcome.experiment,
        if outcome.experiment_created {
            " (created)"
        } else {
            ""
        },
        outcome.experiment_url(&args.tracking_uri)
    );
    let unfinished = match outcome.unfinished {
        0 => String::new(),
        n => format!("; {n} unfinished run(s) left out"),
    };
    outln!(
        "{} run(s) created, {} updated, {} already up to date{unfinished}",
        outcome.created,
        outcome.updated,
        outcome.up_to_date
    );
    Ok(ExitStatus::Success)
}
