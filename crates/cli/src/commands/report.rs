//! `cxr report`: figures, report.md and report.html from a grid's Parquet results.

use crate::cli::ReportArgs;
use crate::exit::ExitStatus;
use crate::stdout::outln;

/// Runs `cxr report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitStatus> {
    let out = cxr_report::write_report(&args.grid_dir)?;
    let pngs = out
        .figures
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .count();
    outln!(
        "{}: {} run(s) reported, {} missing; {} figure(s) as PNG and SVG",
        out.markdown.display(),
        out.runs,
        out.missing,
        pngs
    );
    outln!(
        "{}: the same report as one page, opens offline in a browser",
        out.html.display()
    );
    if let Some(path) = &out.cross_validation {
        outln!("cross-validation per configuration: {}", path.display());
    }
    for paragraph in &out.paragraphs {
        outln!("\n{paragraph}");
    }
    Ok(ExitStatus::Success)
}
