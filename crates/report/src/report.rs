//! `cxr report`: reads a grid folder once ([`ReportInput`]), computes every section
//! ([`Document`]), then draws the figures and writes the tables, `report.md` and `report.html`
//! (the same report as one interactive page, [`crate::html_page`]) into `report/` beside the
//! results.

use std::path::{Path, PathBuf};

use cxr_results::GridDir;

use crate::comparisons_file::write_comparisons;
use crate::error::{ReportError, Result};
use crate::html_page::write_html;
use crate::input::ReportInput;
use crate::markdown::Document;

/// What a report wrote.
#[derive(Debug, Clone)]
pub struct ReportOutput {
    /// `<grid>/report/`.
    pub dir: PathBuf,
    /// `report.md`.
    pub markdown: PathBuf,
    /// `report.html`: the same report as one self-contained, interactive page.
    pub html: PathBuf,
    /// Every figure file written (PNG and SVG).
    pub figures: Vec<PathBuf>,
    /// `cross_validation.parquet`, when the grid cross-validates.
    pub cross_validation: Option<PathBuf>,
    /// The generated comparison, one per facet.
    pub paragraphs: Vec<String>,
    /// Finished runs reported.
    pub runs: usize,
    /// Planned runs not finished.
    pub missing: usize,
}

/// Builds the report of the grid results in `grid_dir`, replacing any earlier one.
pub fn write_report(grid_dir: &Path) -> Result<ReportOutput> {
    let input = ReportInput::load(grid_dir)?;
    let document = Document::of(&input);
    let grid = GridDir::at(grid_dir);
    let dir = grid.report_dir();
    if dir.exists() {
        // The folder is wholly generated; clearing it drops figures of runs no longer listed.
        std::fs::remove_dir_all(&dir).map_err(ReportError::io(&dir))?;
    }
    std::fs::create_dir_all(&dir).map_err(ReportError::io(&dir))?;
    let figures = draw(&document, &grid)?;
    let cross_validation = write_tables(&document, &grid)?;
    let markdown = grid.report_md_path();
    let text = document.render();
    cxr_results::write_atomic(&markdown, text.as_bytes())?;
    let html = write_html(&input, &document, &grid, &text)?;
    Ok(ReportOutput {
        dir,
        markdown,
        html,
        figures,
        cross_validation,
        paragraphs: document
            .facets
            .iter()
            .map(|f| f.paragraph.clone())
            .collect(),
        runs: input.results.runs.len(),
        missing: input.results.missing.len(),
    })
}

/// Draws every figure into the grid's report folder: the facets' grid figures, each run's
/// figures, the backbones' feature maps. Returns the written paths, in that order.
fn draw(document: &Document<'_>, grid: &GridDir) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for section in &document.facets {
        written.extend(section.draw(grid)?);
    }
    for run in &document.run_figures {
        written.extend(run.draw(grid)?);
    }
    for maps in &document.heads.maps {
        written.extend(maps.draw(grid)?);
    }
    Ok(written)
}

/// Writes `comparisons.parquet` (when there are paired comparisons, of recall or of AUROC)
/// and a cross-validation grid's `cross_validation.parquet` and `out_of_fold.parquet`.
/// Returns the `cross_validation.parquet` path, when written.
fn write_tables(document: &Document<'_>, grid: &GridDir) -> Result<Option<PathBuf>> {
    let comparisons = document.comparisons();
    let auroc = document.auroc_comparisons();
    if !comparisons.is_empty() || !auroc.is_empty() {
        write_comparisons(&grid.comparisons_path(), &comparisons, &auroc)?;
    }
    let folds = &document.cross_validation;
    if folds.rows.is_empty() {
        return Ok(None);
    }
    if !folds.out_of_fold.is_empty() {
        grid.write_out_of_fold(&folds.out_of_fold)?;
    }
    let path = grid.cross_validation_path();
    grid.write_cross_validation(&folds.rows)?;
    Ok(Some(path))
}
