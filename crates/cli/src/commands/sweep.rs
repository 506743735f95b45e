//! `cxr sweep`: expand a grid, then train what is not finished (or list it, prepare its data,
//! or emit its Slurm submission).

use std::path::{Path, PathBuf};

use anyhow::Context;
use cxr_experiment::axes::label;
use cxr_experiment::{sbatch_script, DataSource, Grid, Overrides, SlurmOptions, SlurmResources};
use cxr_trainer::SweepOptions;
use cxr_weights::Registry;

use crate::cli::SweepArgs;
use crate::download_bar::DownloadBar;
use crate::exit::ExitStatus;
use crate::progress::RunProgress;
use crate::stdout::outln;

/// Runs `cxr sweep`.
pub fn run(args: SweepArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    // Listing a plan or writing a job script needs no data here: the cluster has it.
    let plan_only = args.dry_run || args.emit_slurm.is_some();
    let cache_dir = args.cache.resolve();
    let overrides = Overrides {
        data_root: args.data.clone(),
        allow_missing_data: plan_only,
        device: args.device,
        registry: Registry::from_env(),
        cache_dir: Some(cache_dir.clone()),
    };
    let grid = Grid::from_file(&args.grid, &overrides)?;
    if plan_only {
        let doing = if args.dry_run {
            "listing the plan"
        } else {
            "writing the job script"
        };
        for root in missing_data(&grid) {
            tracing::warn!(
                "dataset folder {} does not exist on this machine: {doing} anyway, but training needs it (and its runs' ids, which hash the dataset's content, are shown here as ids of its path)",
                root.display()
            );
        }
    }
    if args.dry_run {
        let stages = grid.stages();
        for (n, stage) in stages.iter().enumerate() {
            if n + 1 < stages.len() {
                outln!("source stage {} of {}:", n + 1, stages.len() - 1);
            } else if stages.len() > 1 {
                outln!("then:");
            }
            print_plan(stage);
            print_claims(stage, &args.results, args.claim_timeout);
        }
        return Ok(ExitStatus::Success);
    }
    for note in &grid.notes {
        tracing::info!("{note}");
    }
    if let Some(path) = &args.emit_slurm {
        return emit_slurm(&grid, &args, path);
    }
    let weights_mirror = args.mirror.resolve();
    if args.prepare {
        let done = cxr_trainer::prepare_grid(
            &grid,
            &cache_dir,
            weights_mirror.as_deref(),
            &DownloadBar,
            &overrides.registry,
        )
        .with_context(|| format!("preparing {}", args.grid.display()))?;
        for line in &done.datasets {
            outln!("data: {line}");
        }
        for file in &done.weights {
            outln!("weights: {}", file.display());
        }
        return Ok(ExitStatus::Success);
    }
    open_devices(&grid)?;
    stop_on_signals()?;
    if args.workers > 1 && args.cell.is_none() {
        return workers(args.workers);
    }
    if let (Some(cell), Some(expected)) = (args.cell, &args.expect_run) {
        let actual = grid.runs.get(cell).map(|r| r.id.as_str());
        if actual != Some(expected.as_str()) {
            anyhow::bail!(
                "cell {cell} of {} is {}, not {expected}: the grid changed since the job script was written; emit it again",
                args.grid.display(),
                actual.unwrap_or("no run")
            );
        }
    }
    let options = SweepOptions {
        results_dir: args.results.clone(),
        cache_dir,
        force: args.force,
        cell: args.cell,
        weights_mirror,
        downloads: std::sync::Arc::new(DownloadBar),
        registry: overrides.registry,
        claim_timeout: std::time::Duration::from_secs(args.claim_timeout),
        keep_checkpoints: args.keep_checkpoints,
    };
    let report = match cxr_trainer::sweep(&grid, &options, &mut |label, planned| {
        Box::new(RunProgress::new(label, planned, quiet))
    }) {
        Ok(report) => report,
        Err(cxr_trainer::TrainerError::Interrupted) => {
            eprintln!(
                "interrupted: sweep {} stopped on a signal; finished runs are kept, a run in progress keeps its last finished epoch; rerun the same command to resume",
                args.grid.display()
            );
            return Ok(ExitStatus::Interrupted);
        }
        Err(e) => {
            return Err(
                anyhow::Error::new(e).context(format!("sweep {} stopped", args.grid.display()))
            )
        }
    };
    for (name, source) in &report.sources {
        outln!("source stage {name}: {}", counts(source));
    }
    outln!("{}: {}", grid.name, counts(&report));
    let source_failures: usize = report.sources.iter().map(|(_, r)| r.failed()).sum();
    Ok(if report.failed() + source_failures > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `3 run(s) trained, 1 skipped as finished, 2 left to other sweeps, 0 failed; 6 run(s) in
/// <summary>` (the middle part only when another sweep held runs).
fn counts(report: &cxr_trainer::SweepReport) -> String {
    let elsewhere = match report.claimed_elsewhere {
        0 => String::new(),
        n => format!(", {n} left to other sweeps"),
    };
    format!(
        "{} run(s) trained, {} skipped as finished{elsewhere}, {} failed; {} run(s) in {}",
        report.ran.len(),
        report.skipped,
        report.failed(),
        report.merged,
        report.summary_path.display()
    )
}

/// `cxr sweep --workers N`: this command line again in `n` processes, `--workers` left out,
/// each with its share of the threads, all on the same results folder (their claims keep them
/// off each other's runs). Exits with the worst of their exit codes.
fn workers(n: u16) -> anyhow::Result<ExitStatus> {
    let exe = std::env::current_exe().context("finding the cxr executable")?;
    let threads = (rayon::current_num_threads() / usize::from(n)).max(1);
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    let mut given = std::env::args_os().skip(1);
    while let Some(arg) = given.next() {
        let text = arg.to_string_lossy();
        if text == "--workers" || text == "--threads" {
            given.next();
        } else if !(text.starts_with("--workers=") || text.starts_with("--threads=")) {
            args.push(arg);
        }
    }
    tracing::info!("starting {n} sweep workers, {threads} thread(s) each");
    let mut children = Vec::new();
    for _ in 0..n {
        let child = std::process::Command::new(&exe)
            .args(&args)
            .env("CXR_THREADS", threads.to_string())
            .spawn()
            .with_context(|| format!("starting a sweep worker ({})", exe.display()))?;
        children.push(child);
    }
    // Wait for every worker, passing a stop signal on to them (a Slurm batch step's SIGTERM
    // reaches this process only; a terminal's Ctrl-C reaches them all).
    let mut codes: Vec<Option<i32>> = vec![None; children.len()];
    let mut forwarded = false;
    while codes.iter().any(Option::is_none) {
        for (child, code) in children.iter_mut().zip(codes.iter_mut()) {
            if code.is_none() {
                if let Some(status) = child.try_wait().context("waiting for a sweep worker")? {
                    *code = Some(status.code().unwrap_or(2));
                }
            }
        }
        if cxr_trainer::interrupt::stop_requested() && !forwarded {
            for child in &children {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
            }
            forwarded = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let codes: Vec<i32> = codes.into_iter().flatten().collect();
    Ok(if codes.contains(&2) {
        ExitStatus::Error
    } else if codes.contains(&3) {
        ExitStatus::Interrupted
    } else if codes.iter().any(|&c| c != 0) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// SIGTERM and SIGINT stop the sweep before its next batch ([`cxr_trainer::interrupt`]); a
/// second one quits at once (exit 130).
fn stop_on_signals() -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = std::sync::Arc::clone(&cxr_trainer::interrupt::STOP);
    for signal in [SIGTERM, SIGINT] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, std::sync::Arc::clone(&stop))
            .context("installing the signal handler")?;
        signal_hook::flag::register(signal, std::sync::Arc::clone(&stop))
            .context("installing the signal handler")?;
    }
    Ok(())
}

/// The claims held on `grid`'s runs under `results`: by whom, since when, and whether stale.
fn print_claims(grid: &Grid, results: &Path, timeout: u64) {
    let claims = cxr_results::read_claims(&cxr_results::GridDir::new(results, &grid.name));
    if claims.is_empty() {
        return;
    }
    outln!("claimed by running sweeps:");
    for (run, claim) in claims {
        let stale = claim
            .stale(std::time::Duration::from_secs(timeout))
            .map_or(String::new(), |why| {
                format!("; stale ({why}), the next sweep takes it over")
            });
        outln!(
            "  {run}  by {} since {} s ago, last heartbeat {} s ago{stale}",
            claim.holder(),
            claim.age_s(),
            claim.silent_s()
        );
    }
}

/// Opens every device the grid's runs (and its sources') train on, so that a GPU this build or
/// machine cannot use stops the sweep before any run starts, with the error's one line.
fn open_devices(grid: &Grid) -> anyhow::Result<()> {
    let mut devices: Vec<cxr_models::DeviceSpec> = Vec::new();
    for run in grid.stages().iter().flat_map(|g| &g.runs) {
        if !devices.contains(&run.config.train.device) {
            devices.push(run.config.train.device);
        }
    }
    for device in devices {
        device.open()?;
        if !device.is_cpu() {
            tracing::info!("training on {device}");
        }
    }
    Ok(())
}

fn print_plan(grid: &Grid) {
    outln!(
        "{} ({}): {} run(s)",
        grid.name,
        grid.path.display(),
        grid.runs.len()
    );
    for note in &grid.notes {
        outln!("note: {note}");
    }
    outln!(
        "{:>4}  {:<34} {:<9} {:>6}  other axes",
        "cell",
        "run id",
        "model",
        "freeze"
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
        outln!(
            "{:>4}  {:<34} {:<9} {:>6}  {}",
            run.index,
            run.id,
            run.config.model.name.to_string(),
            run.config.model.freeze,
            from
        );
    }
}

/// The dataset folders of the grid's stages that do not exist on this machine, each once.
fn missing_data(grid: &Grid) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for run in grid.stages().iter().flat_map(|g| &g.runs) {
        if let DataSource::Folder { root, .. } = &run.config.data.source {
            if !root.is_dir() && !out.contains(root) {
                out.push(root.clone());
            }
        }
    }
    out
}

fn emit_slurm(grid: &Grid, args: &SweepArgs, path: &Path) -> anyhow::Result<ExitStatus> {
    let exe = std::env::current_exe().context("locating the cxr binary")?;
    let workdir = std::env::current_dir().context("reading the working directory")?;
    let text = |p: &Path| p.to_string_lossy().into_owned();
    let mut shared_args = Vec::new();
    if let Some(cache) = &args.cache.cache_dir {
        shared_args.extend(["--cache-dir".to_string(), text(cache)]);
    }
    if let Some(mirror) = args.mirror.resolve() {
        shared_args.extend(["--weights-mirror".to_string(), mirror]);
    }
    if let Some(device) = &args.device {
        shared_args.extend(["--device".to_string(), device.to_string()]);
    }
    let mut grid_args = Vec::new();
    if let Some(data) = &args.data {
        grid_args.extend(["--data".to_string(), text(data)]);
    }
    let s = &args.slurm;
    let opts = SlurmOptions {
        cxr: text(&exe),
        workdir: text(&workdir),
        results: text(&args.results),
        shared_args,
        grid_args,
        script: text(path),
        resources: SlurmResources {
            partition: s.partition.clone(),
            time: s.time.clone(),
            cpus_per_task: usize::from(s.cpus_per_task),
            mem: s.mem.clone(),
            gres: s.gres.clone(),
            max_parallel: s.max_parallel.map(usize::from),
        },
    };
    // Slurm opens a job's --output before the job runs and fails it when the folder is
    // missing; the preparation job makes the arrays' folders itself.
    let log_dir = opts.log_dir(grid);
    std::fs::create_dir_all(&log_dir).with_context(|| format!("creating {log_dir}"))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, sbatch_script(grid, &opts))
        .with_context(|| format!("writing {}", path.display()))?;
    let stages = grid.stages();
    let tasks: usize = stages.iter().map(|g| g.runs.len()).sum();
    outln!(
        "wrote {}: a preparation job, then {} job array(s) with {tasks} task(s) in all; submit with: sbatch {}",
        path.display(),
        stages.len(),
        path.display()
    );
    Ok(ExitStatus::Success)
}
