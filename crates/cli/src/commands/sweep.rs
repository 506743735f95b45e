//! `cxr sweep`: expand a grid, then train what is not finished (or list it, or emit Slurm).

use anyhow::Context;
use cxr_experiment::axes::label;
use cxr_experiment::{sbatch_script, shell_quote, Grid, Overrides, SlurmOptions};
use cxr_trainer::SweepOptions;

use crate::cli::SweepArgs;
use crate::exit::ExitStatus;
use crate::progress::RunProgress;

/// Runs `cxr sweep`.
pub fn run(args: SweepArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let overrides = Overrides {
        data_root: args.data.clone(),
    };
    let grid = Grid::from_file(&args.grid, &overrides)?;
    if args.dry_run {
        let stages = grid.stages();
        for (n, stage) in stages.iter().enumerate() {
            if n + 1 < stages.len() {
                println!("source stage {} of {}:", n + 1, stages.len() - 1);
            } else if stages.len() > 1 {
                println!("then:");
            }
            print_plan(stage);
        }
        return Ok(ExitStatus::Success);
    }
    for note in &grid.notes {
        tracing::info!("{note}");
    }
    if let Some(path) = &args.emit_slurm {
        return emit_slurm(&grid, &args, path);
    }
    let options = SweepOptions {
        results_dir: args.results.clone(),
        cache_dir: args
            .cache_dir
            .clone()
            .unwrap_or_else(cxr_data::default_cache_dir),
        force: args.force,
        cell: args.cell,
        weights_mirror: args.weights_mirror.clone().filter(|m| !m.trim().is_empty()),
    };
    let report = cxr_trainer::sweep(&grid, &options, &mut |label, planned| {
        Box::new(RunProgress::new(label, planned, quiet))
    })
    .with_context(|| format!("sweep {} stopped", args.grid.display()))?;
    for (name, source) in &report.sources {
        println!(
            "source stage {name}: {} run(s) trained, {} skipped as finished, {} failed; {} run(s) in {}",
            source.ran.len(),
            source.skipped,
            source.failed(),
            source.merged,
            source.summary_path.display()
        );
    }
    println!(
        "{}: {} run(s) trained, {} skipped as finished, {} failed; {} run(s) in {}",
        grid.name,
        report.ran.len(),
        report.skipped,
        report.failed(),
        report.merged,
        report.summary_path.display()
    );
    let source_failures: usize = report.sources.iter().map(|(_, r)| r.failed()).sum();
    Ok(if report.failed() + source_failures > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn print_plan(grid: &Grid) {
    println!(
        "{} ({}): {} run(s)",
        grid.name,
        grid.path.display(),
        grid.runs.len()
    );
    for note in &grid.notes {
        println!("note: {note}");
    }
    println!(
        "{:>4}  {:<34} {:<9} {:>6}  other axes",
        "cell", "run id", "model", "freeze"
    );
    for run in &grid.runs {
        // Model and freeze have their own columns; the seed is listed with the other axes.
        let others = label(
            run.axes
                .iter()
                .filter(|a| a.setting != "model.name" && a.setting != "model.freeze"),
        );
        let from = match &run.config.model.weights {
            Some(w) if others.is_empty() => format!("starts from {w}"),
            Some(w) => format!("{others}; starts from {w}"),
            None => others,
        };
        println!(
            "{:>4}  {:<34} {:<9} {:>6}  {}",
            run.index,
            run.id,
            run.config.model.name.to_string(),
            run.config.model.freeze,
            from
        );
    }
}

fn emit_slurm(grid: &Grid, args: &SweepArgs, path: &std::path::Path) -> anyhow::Result<ExitStatus> {
    let exe = std::env::current_exe().context("locating the cxr binary")?;
    let mut command = format!(
        "{} sweep {} --results {}",
        shell_quote(&exe.to_string_lossy()),
        shell_quote(&args.grid.to_string_lossy()),
        shell_quote(&args.results.to_string_lossy())
    );
    if let Some(data) = &args.data {
        command.push_str(&format!(" --data {}", shell_quote(&data.to_string_lossy())));
    }
    if let Some(cache) = &args.cache_dir {
        command.push_str(&format!(
            " --cache-dir {}",
            shell_quote(&cache.to_string_lossy())
        ));
    }
    let workdir = std::env::current_dir().context("reading the working directory")?;
    let script = sbatch_script(
        grid,
        &SlurmOptions {
            command,
            workdir: workdir.to_string_lossy().into_owned(),
            log_dir: args.results.join(&grid.name).to_string_lossy().into_owned(),
            cpus_per_task: 8,
            time: "24:00:00".into(),
        },
    );
    std::fs::write(path, script).with_context(|| format!("writing {}", path.display()))?;
    for source in grid.source_stages() {
        println!(
            "note: this grid takes weights from grid {} ({}): train it first (`cxr sweep {}`, or its own --emit-slurm script) and submit this one after it, e.g. with sbatch --dependency=afterok:<its job id>; a cell whose source run is missing stops with an error",
            source.name,
            source.path.display(),
            source.path.display()
        );
    }
    println!(
        "wrote {} ({} array tasks); submit with: sbatch {}",
        path.display(),
        grid.runs.len(),
        path.display()
    );
    Ok(ExitStatus::Success)
}
