//! A whole grid: skip finished runs, train the rest one after another, keep going past failed
//! runs, and rebuild the grid's merged summary after each run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cxr_experiment::{Grid, PlannedRun};
use cxr_results::{
    claim_of, merge_summaries, status, try_claim, Claim, GridDir, PlanRow, RunDir, RunSummary,
};

use crate::env::EarlierIds;
use crate::env::RunEnv;
use crate::error::{Result, TrainerError};
use crate::observer::Observer;
use crate::prepare::DataMemo;
use crate::run::run_one;

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Results root; the grid writes to `<results_dir>/<grid name>/`.
    pub results_dir: PathBuf,
    /// Image caches and generated synthetic sets.
    pub cache_dir: PathBuf,
    /// Rerun finished runs.
    pub force: bool,
    /// Run only this expanded run (0-based).
    pub cell: Option<usize>,
    /// Base URL that replaces the publisher's for published weights (`--weights-mirror`,
    /// `$CXR_WEIGHTS_MIRROR`); `None` = the grid's `weights_mirror`, else the publisher's.
    pub weights_mirror: Option<String>,
    /// What shows the progress of weights downloads (the CLI's bar).
    pub downloads: Arc<dyn cxr_weights::DownloadObserver>,
    /// The published weights that runs' weights names are looked up in: the one the grid was
    /// resolved with (its `Overrides::registry`).
    pub registry: cxr_weights::Registry,
    /// How long another sweep's claim on a run lives without a heartbeat before this sweep
    /// takes the run over ([`cxr_results::claims`]).
    pub claim_timeout: Duration,
    /// Keep each run's last epoch checkpoint when it finishes (`--keep-checkpoints`); by
    /// default it is removed once the run's summary is written.
    pub keep_checkpoints: bool,
}

impl SweepOptions {
    /// A sweep of every unfinished run into `results_dir`, caching into `cache_dir`, with the
    /// publishers' download hosts: no `--force`, `--cell` or mirror, downloads shown by log
    /// lines only, and torchvision's published weights only.
    pub fn new(results_dir: PathBuf, cache_dir: PathBuf) -> Self {
        Self {
            results_dir,
            cache_dir,
            force: false,
            cell: None,
            weights_mirror: None,
            downloads: Arc::new(cxr_weights::NoProgress),
            registry: cxr_weights::Registry::builtin(),
            claim_timeout: cxr_results::DEFAULT_CLAIM_TIMEOUT,
            keep_checkpoints: false,
        }
    }
}

/// What a sweep did.
#[derive(Debug, Clone, Default)]
pub struct SweepReport {
    /// Summaries of the runs trained now.
    pub ran: Vec<RunSummary>,
    /// Runs skipped because their results were complete.
    pub skipped: usize,
    /// Runs left to another sweep on the same results folder, which held their claim.
    pub claimed_elsewhere: usize,
    /// Rows in the merged summary afterwards.
    pub merged: usize,
    /// The merged summary file.
    pub summary_path: PathBuf,
    /// What the source stages did, by grid name, in the order they ran.
    pub sources: Vec<(String, SweepReport)>,
}

impl SweepReport {
    /// Runs trained now that failed.
    pub fn failed(&self) -> usize {
        self.ran.iter().filter(|r| r.status != status::OK).count()
    }
}

/// The folder of `planned` in `grid_dir`: its own, unless only the folder of its earlier id
/// ([`PlannedRun::legacy_id`]) holds a finished run, which is then this run's results (found,
/// not trained again, and reported under that id). `--force` always trains into its own.
pub fn run_folder(grid_dir: &GridDir, planned: &PlannedRun, force: bool) -> RunDir {
    let own = grid_dir.run(&planned.id);
    if force || own.is_finished() {
        return own;
    }
    match &planned.legacy_id {
        Some(earlier) if grid_dir.run(earlier).is_finished() => grid_dir.run(earlier),
        _ => own,
    }
}

/// Makes the [`Observer`] of one run from its label (`[n/total] run-id`) and plan; the sweep
/// drops it when the run ends, before logging the run's one-line summary. Pass
/// `&mut Silent::each` ([`Silent::each`]) to watch nothing.
///
/// [`Silent::each`]: crate::observer::Silent::each
pub type RunObservers<'a> = dyn FnMut(&str, &PlannedRun) -> Box<dyn Observer> + 'a;

/// Runs every planned run of `grid` (or only `options.cell`) that is not finished yet, watching
/// each through the observer `observe` makes for it. A whole sweep first runs the grid's
/// source stages ([`Grid::source_stages`]: the grids it takes weights from), each resumable
/// like any grid in its own results folder and never forced; a single `--cell` does not (cells
/// run in parallel must not train a source twice), so its source runs must be finished already.
pub fn sweep(
    grid: &Grid,
    options: &SweepOptions,
    observe: &mut RunObservers<'_>,
) -> Result<SweepReport> {
    let mut earlier_ids = EarlierIds::new();
    for stage in grid.stages() {
        let grid_dir = GridDir::new(&options.results_dir, &stage.name);
        for planned in &stage.runs {
            let folder = run_folder(&grid_dir, planned, options.force).id();
            if folder != planned.id {
                tracing::info!(
                    "{}/{} is finished under its earlier id {folder} (from before datasets were identified by content): using that folder",
                    stage.name,
                    planned.id
                );
                earlier_ids.insert((stage.name.clone(), planned.id.clone()), folder);
            }
        }
    }
    let mut source_reports = Vec::new();
    if options.cell.is_none() {
        let source_options = SweepOptions {
            force: false,
            ..options.clone()
        };
        for source in grid.source_stages() {
            tracing::info!(
                "source stage: grid {} ({}), {} run(s)",
                source.name,
                source.path.display(),
                source.runs.len()
            );
            let report = sweep_one(source, &source_options, &earlier_ids, observe)?;
            if report.failed() > 0 {
                tracing::error!(
                    "source stage {}: {} run(s) failed; the runs that start from them will stop with an error",
                    source.name,
                    report.failed()
                );
            }
            source_reports.push((source.name.clone(), report));
            wait_for_claimed(source, options);
        }
    }
    let mut report = sweep_one(grid, options, &earlier_ids, observe)?;
    report.sources = source_reports;
    Ok(report)
}

/// [`sweep`] of one grid, its sources not included.
fn sweep_one(
    grid: &Grid,
    options: &SweepOptions,
    earlier_ids: &EarlierIds,
    observe: &mut RunObservers<'_>,
) -> Result<SweepReport> {
    let grid_dir = GridDir::new(&options.results_dir, &grid.name);
    let selected: Vec<&PlannedRun> = match options.cell {
        Some(cell) => vec![grid.runs.get(cell).ok_or(TrainerError::NoSuchCell {
            cell,
            runs: grid.runs.len(),
        })?],
        None => grid.runs.iter().collect(),
    };
    grid_dir.write_plan(&plan_rows(grid, &grid_dir, options.force))?;
    let env = RunEnv {
        cache_dir: &options.cache_dir,
        results_dir: &options.results_dir,
        weights_mirror: options
            .weights_mirror
            .as_deref()
            .or(grid.weights_mirror.as_deref()),
        downloads: options.downloads.as_ref(),
        registry: &options.registry,
        earlier_ids,
    };
    let mut memo = DataMemo::default();
    let mut report = SweepReport {
        summary_path: grid_dir.summary_path(),
        ..SweepReport::default()
    };
    let todo: Vec<&PlannedRun> = selected
        .into_iter()
        .filter(|p| {
            let done = run_folder(&grid_dir, p, options.force).is_finished() && !options.force;
            report.skipped += usize::from(done);
            !done
        })
        .collect();
    if report.skipped > 0 {
        tracing::info!(
            "skipping {} finished run(s) (use --force to rerun them)",
            report.skipped
        );
    }
    for (n, planned) in todo.iter().enumerate() {
        if crate::interrupt::stop_requested() {
            return Err(TrainerError::Interrupted);
        }
        let dir = run_folder(&grid_dir, planned, options.force);
        let label = format!("[{}/{}] {}", n + 1, todo.len(), dir.id());
        // Another sweep on this results folder may hold the run, or have finished it since
        // this one looked (checked again once claimed).
        let claim = match try_claim(&grid_dir, &dir.id(), options.claim_timeout)? {
            Claim::Held(claim) => claim,
            Claim::Busy(holder) => {
                tracing::info!(
                    "{label} is claimed by {} (since {} s ago): left to it",
                    holder.holder(),
                    holder.age_s()
                );
                report.claimed_elsewhere += 1;
                continue;
            }
        };
        if let Some((before, why)) = &claim.took_over {
            tracing::warn!(
                "{label}: taking over the stale claim of {} ({why})",
                before.holder()
            );
        }
        if !options.force && dir.is_finished() {
            claim.release();
            report.skipped += 1;
            continue;
        }
        let mut observer = observe(&label, planned);
        let start = Instant::now();
        let summary = run_one(planned, &dir, &env, &mut memo, observer.as_mut());
        // The run's buffers are free now; the next run's shapes may differ (another model).
        cxr_kernels::alloc::release_pool();
        let summary = summary?;
        // Finished: the epoch checkpoint has served its purpose, unless asked to keep it.
        let checkpoint = dir.checkpoint_path();
        if !options.keep_checkpoints && checkpoint.is_file() {
            std::fs::remove_file(&checkpoint).map_err(|source| TrainerError::Io {
                path: checkpoint.clone(),
                source,
            })?;
        }
        // Before the summary line, so a progress display can clear itself first.
        drop(observer);
        tracing::info!(
            "{}",
            one_line(&label, &summary, start.elapsed().as_secs_f64())
        );
        report.ran.push(summary);
        report.merged = merge_summaries(&grid_dir)?;
        claim.release();
    }
    if report.ran.is_empty() {
        report.merged = merge_summaries(&grid_dir)?;
    }
    Ok(report)
}

/// Waits while a run of the source stage `source` is unfinished and claimed by a live sweep:
/// this sweep's runs start from it. A run neither finished nor held is left to the runs that
/// need it, which stop with the source's error.
fn wait_for_claimed(source: &Grid, options: &SweepOptions) {
    let grid_dir = GridDir::new(&options.results_dir, &source.name);
    for planned in &source.runs {
        let dir = grid_dir.run(&planned.id);
        let mut announced = false;
        while !dir.is_finished() {
            let Some(holder) = claim_of(&grid_dir, &planned.id) else {
                break;
            };
            if holder.stale(options.claim_timeout).is_some() {
                break;
            }
            if !announced {
                tracing::info!(
                    "waiting for source run {}/{} that {} is training",
                    source.name,
                    planned.id,
                    holder.holder()
                );
                announced = true;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// Every run of the grid (not only the selected cell), so a report can name the missing ones;
/// a run finished under its earlier id is listed under that id, its folder's.
fn plan_rows(grid: &Grid, grid_dir: &GridDir, force: bool) -> Vec<PlanRow> {
    grid.runs
        .iter()
        .map(|p| PlanRow {
            run_id: run_folder(grid_dir, p, force).id(),
            model: p.config.model.name.to_string(),
            freeze: p.config.model.freeze as i64,
            seed: p.config.seed as i64,
            axes: p.axes.clone(),
        })
        .collect()
}

/// The one-line summary printed when a run finishes.
fn one_line(label: &str, s: &RunSummary, wall: f64) -> String {
    if s.status != status::OK {
        return format!("{label} FAILED: {}", s.error);
    }
    if s.is_autoencoder() {
        return format!(
            "{label} test reconstruction MSE {:.4} | best epoch {}/{} | {:.1}s/epoch | {} trainable params | {:.0}s",
            s.test_loss.unwrap_or(f64::NAN),
            s.epochs_to_converge.unwrap_or(0),
            s.epochs_run.unwrap_or(0),
            s.epoch_time_s.unwrap_or(0.0),
            s.trainable_params,
            wall
        );
    }
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0));
    if s.is_classic_head() && s.is_multilabel() {
        return format!(
            "{label} test mean AUROC {}, micro-recall {} at validation thresholds | {} head per finding, fitted in {:.1}s | {:.0}s",
            s.test_mean_auroc.map_or("-".to_string(), |a| format!("{a:.3}")),
            pct(s.test_micro_recall),
            s.head_name(),
            s.fit_time_s.unwrap_or(0.0),
            wall
        );
    }
    if s.is_classic_head() {
        return format!(
            "{label} test micro-recall {} macro-recall {} | {} head, {} chosen on validation, fitted in {:.1}s | {:.0}s",
            pct(s.test_micro_recall),
            pct(s.test_macro_recall),
            s.head_name(),
            s.head_params.as_deref().unwrap_or("-"),
            s.fit_time_s.unwrap_or(0.0),
            wall
        );
    }
    if s.is_multilabel() {
        let ci = match (s.test_mean_auroc_low, s.test_mean_auroc_high) {
            (Some(low), Some(high)) => format!(" ({low:.3}-{high:.3})"),
            _ => String::new(),
        };
        return format!(
            "{label} test mean AUROC {}{ci}, micro-recall {} at validation thresholds | best epoch {}/{} | {:.1}s/epoch | {} trainable params | {:.0}s",
            s.test_mean_auroc.map_or("-".to_string(), |a| format!("{a:.3}")),
            pct(s.test_micro_recall),
            s.epochs_to_converge.unwrap_or(0),
            s.epochs_run.unwrap_or(0),
            s.epoch_time_s.unwrap_or(0.0),
            s.trainable_params,
            wall
        );
    }
    format!(
        "{label} test micro-recall {} macro-recall {} | best epoch {}/{} | {:.1}s/epoch | {} trainable params | {:.0}s",
        pct(s.test_micro_recall),
        pct(s.test_macro_recall),
        s.epochs_to_converge.unwrap_or(0),
        s.epochs_run.unwrap_or(0),
        s.epoch_time_s.unwrap_or(0.0),
        s.trainable_params,
        wall
    )
}
