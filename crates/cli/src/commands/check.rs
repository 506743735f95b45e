//! `cxr check`: test recall against a committed baseline, for CI.

use anyhow::bail;
use cxr_report::{Baseline, GridResults};

use crate::cli::CheckArgs;
use crate::exit::ExitStatus;
use crate::stdout::outln;

/// Runs `cxr check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitStatus> {
    if !(0.0..=1.0).contains(&args.tolerance) {
        bail!(
            "--tolerance {} is not a recall difference: give a value in [0, 1], e.g. 0.02",
            args.tolerance
        );
    }
    let results = GridResults::load(&args.grid_dir)?;
    if args.update {
        let baseline = Baseline::from_results(&results);
        baseline.write(&args.baseline, &args.grid_dir)?;
        outln!(
            "{}: baseline rewritten with {} run(s) from {}",
            args.baseline.display(),
            baseline.runs.len(),
            args.grid_dir.display()
        );
        return Ok(ExitStatus::Success);
    }
    let baseline = Baseline::read(&args.baseline)?;
    let report = cxr_report::check(&results, &baseline, args.tolerance, args.allow_new);
    print!("{}", report.table());
    if report.passed() {
        outln!(
            "check passed: {} run(s) within {} of {}",
            report.rows.len(),
            args.tolerance,
            args.baseline.display()
        );
        Ok(ExitStatus::Success)
    } else {
        outln!(
            "check FAILED: {} of {} run(s) regressed, missing, failed or unbaselined (tolerance {})",
            report.failures(),
            report.rows.len(),
            args.tolerance
        );
        Ok(ExitStatus::Failure)
    }
}
