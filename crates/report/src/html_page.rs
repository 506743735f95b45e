//! `report.html`: the report as one self-contained page that opens offline from disk. It holds
//! `report.md` rendered ([`markdown_to_html`], figures inlined), and the views a script builds
//! from the runs' data ([`PageData`], embedded as JSON):
//!
//! - **Runs**: every run with every axis, status and metric, sortable by any column and
//!   filtered by axis values; a tick per run.
//! - **Learning curves**: the ticked runs' curves overlaid on one chart, metric chosen.
//! - **Freeze depth and transfer**: each configuration's runs as points (one per seed and
//!   fold) with their mean and spread; a point opens its run.
//! - **Run detail** (`#run=<id>`): its `summary.parquet` numbers, loss and validation curves,
//!   confusion matrix, reliability diagram, per-finding ROC curves, config and files.
//!
//! No chart library: the script (`assets/report.js`) draws SVG itself, so nothing is vendored
//! and the page has no dependency to pin. The CSS and the script are inlined from
//! `assets/`, compiled into the binary.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use cxr_results::GridDir;

use crate::error::Result;
use crate::html_data::PageData;
use crate::input::ReportInput;
use crate::markdown::Document;
use crate::markdown_html::{escape, markdown_to_html};

/// The page's style sheet.
const STYLE: &str = include_str!("../assets/report.css");
/// The page's script: builds every interactive view from the embedded data.
const SCRIPT: &str = include_str!("../assets/report.js");

/// Writes `report.html` into the grid's report folder, after `report.md` and the figures it
/// inlines. Returns its path.
pub fn write_html(
    input: &ReportInput,
    document: &Document<'_>,
    grid: &GridDir,
    markdown: &str,
) -> Result<PathBuf> {
    let page = render(input, document, &grid.report_dir(), markdown)?;
    let path = grid.report_html_path();
    cxr_results::write_atomic(&path, page.as_bytes())?;
    Ok(path)
}

/// The whole page.
pub fn render(
    input: &ReportInput,
    document: &Document<'_>,
    report_dir: &Path,
    markdown: &str,
) -> Result<String> {
    let data = PageData::of(input, document);
    let ids: HashSet<String> = data.runs.iter().map(|r| r.id.clone()).collect();
    let report = markdown_to_html(markdown, report_dir, &ids)?;
    let title = escape(&format!("Report: {}", data.grid));
    Ok(format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cxr report">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
{STYLE}</style>
</head>
<body>
<header class="top">
  <h1>{title}</h1>
  <nav id="tabs">
    <a href="#runs" data-view="runs">Runs</a>
    <a href="#curves" data-view="curves">Learning curves <span id="tick-count"></span></a>
    <a href="#figures" data-view="figures">Freeze depth &amp; transfer</a>
    <a href="#report" data-view="report">Report</a>
    <a href="#run" data-view="run" id="run-tab">Run detail</a>
  </nav>
</header>
<main>
<section id="view-runs" class="view"><noscript><p>The runs table, curves and run details need JavaScript; the report itself is under <a href="#report">Report</a>.</p></noscript></section>
<section id="view-curves" class="view"></section>
<section id="view-figures" class="view"></section>
<section id="view-report" class="view report-md">
{report}</section>
<section id="view-run" class="view"></section>
</main>
<script type="application/json" id="cxr-data">{json}</script>
<script>
{SCRIPT}</script>
</body>
</html>
"##,
        json = data.to_script_json(),
    ))
}
