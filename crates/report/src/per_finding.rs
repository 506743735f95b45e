//! The multi-label part of a facet's section: each model line's best run (the highest
//! validation mean AUROC, chosen without looking at the test films), its test AUROC per finding
//! in one table (lines side by side, from each run's `per_finding.parquet`), and the ROC curves
//! of those runs, one panel per finding ([`RocPanels`], from their `predictions.parquet`).
//!
//! The best run is one run, as in the "Best run per model" table: with cross-validation it is
//! one test fold of its configuration, its intervals that run's patient bootstrap.

use std::fmt::Write as _;
use std::path::PathBuf;

use cxr_metrics::roc_curve;
use cxr_results::{GridDir, ReportFigure};

use crate::canvas::{save, slug};
use crate::error::Result;
use crate::figures::line_styles;
use crate::finding_scores::FindingScores;
use crate::grid_results::{GridResults, RunResults};
use crate::numbers::opt;
use crate::order::first_seen;
use crate::roc::{RocCurve, RocPanel, RocPanels};
use crate::stats::ConfigStats;

/// The file stem of a facet's ROC figure ([`ReportFigure::Metric`]).
pub const ROC_STEM: &str = "roc_curves";

/// A facet's per-finding table and ROC curves, computed.
#[derive(Debug, Clone)]
pub struct PerFindingSection<'a> {
    /// The facet as a file name (`None` for a grid without facets).
    pub facet_slug: Option<String>,
    /// Each line's best run, lines in the facet's figure order.
    pub best: Vec<&'a RunResults>,
    /// The findings, in the runs' output order.
    pub findings: Vec<String>,
    /// The ROC figure (`None` when no best run kept its predictions).
    pub roc: Option<RocPanels>,
}

impl<'a> PerFindingSection<'a> {
    /// The section of `facet`, whose configurations are `stats`; `None` when the facet has no
    /// ok multi-label run.
    pub fn of(results: &'a GridResults, facet: &str, stats: &[ConfigStats]) -> Option<Self> {
        let styles = line_styles(stats);
        let best: Vec<&RunResults> = styles
            .iter()
            .filter_map(|(line, _)| best_run(results, facet, line))
            .collect();
        if best.is_empty() {
            return None;
        }
        let findings = first_seen(
            best.iter()
                .flat_map(|r| &r.per_finding)
                .map(|f| f.finding.clone()),
        );
        let roc = roc_panels(&best, &styles, facet);
        Some(Self {
            facet_slug: (!facet.is_empty()).then(|| slug(facet)),
            best,
            findings,
            roc,
        })
    }

    /// The ROC figure's name in the report folder.
    pub fn figure(&self) -> ReportFigure<'_> {
        ReportFigure::Metric {
            metric: ROC_STEM,
            facet: self.facet_slug.as_deref(),
        }
    }

    /// Writes the ROC figure. Returns the written paths.
    pub fn draw(&self, grid: &GridDir) -> Result<Vec<PathBuf>> {
        match &self.roc {
            Some(roc) => save(roc, &grid.report_figure(&self.figure())),
            None => Ok(Vec::new()),
        }
    }

    /// Appends the table, the runs it reads and the figure to `md`.
    pub fn render(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "### Test AUROC per finding\n\n\
             For each model line, the run with the highest validation mean AUROC (one run; with \
             cross-validation, one test fold): its test AUROC per finding with the 95% \
             bootstrap interval that resamples patients. The run's `per_finding.parquet` also \
             holds each finding's threshold (Youden's J on validation) and the sensitivity, \
             specificity and precision at it.\n"
        );
        let mut header = String::from("| finding |");
        for r in &self.best {
            let _ = write!(header, " {} |", r.line);
        }
        let _ = writeln!(md, "{header}");
        let _ = writeln!(md, "|---|{}", "---|".repeat(self.best.len()));
        for finding in &self.findings {
            let mut line = format!("| {finding} |");
            for r in &self.best {
                let row = r.per_finding.iter().find(|f| f.finding == *finding);
                let cell = row.map_or_else(
                    || "-".to_string(),
                    |f| with_interval(f.test_auroc, f.test_auroc_low, f.test_auroc_high),
                );
                let _ = write!(line, " {cell} |");
            }
            let _ = writeln!(md, "{line}");
        }
        let mut mean = String::from("| **mean** |");
        let mut films = String::from("| test films |");
        for r in &self.best {
            let s = &r.summary;
            let _ = write!(
                mean,
                " {} |",
                with_interval(
                    s.test_mean_auroc,
                    s.test_mean_auroc_low,
                    s.test_mean_auroc_high
                )
            );
            let _ = write!(
                films,
                " {} |",
                s.test_images.map_or_else(|| "-".into(), |n| n.to_string())
            );
        }
        let _ = writeln!(md, "{mean}\n{films}\n");
        for r in &self.best {
            let s = &r.summary;
            let fold = s.fold.map(|f| format!(", fold {f}")).unwrap_or_default();
            let _ = writeln!(
                md,
                "- {}: `{}` (freeze {}, seed {}{fold}; validation mean AUROC {})",
                r.line,
                s.run_id,
                s.freeze,
                s.seed,
                opt(s.val_mean_auroc, 3)
            );
        }
        md.push('\n');
        if let Some(roc) = &self.roc {
            let _ = writeln!(md, "![{}]({})\n", roc.title, self.figure().png());
        }
    }
}

/// `0.812 (0.700-0.900)`, `0.812` without an interval, `-` without a value.
fn with_interval(value: Option<f64>, low: Option<f64>, high: Option<f64>) -> String {
    match (value, low, high) {
        (Some(v), Some(lo), Some(hi)) => format!("{v:.3} ({lo:.3}-{hi:.3})"),
        (Some(v), _, _) => format!("{v:.3}"),
        _ => "-".into(),
    }
}

/// The ok multi-label run of `line` in `facet` with the highest validation mean AUROC (a run
/// without one ranks last; the first of equals wins).
pub fn best_run<'a>(results: &'a GridResults, facet: &str, line: &str) -> Option<&'a RunResults> {
    let key = |r: &RunResults| r.summary.val_mean_auroc.unwrap_or(f64::NEG_INFINITY);
    results
        .runs
        .iter()
        .filter(|r| r.ok_multilabel() && r.facet == facet && r.line == line)
        .fold(None, |best: Option<&RunResults>, r| match best {
            Some(b) if key(b) >= key(r) => Some(b),
            _ => Some(r),
        })
}

/// One panel per finding of the best runs' test predictions; `None` when none kept them.
fn roc_panels(
    best: &[&RunResults],
    styles: &[(&str, crate::style::SeriesStyle)],
    facet: &str,
) -> Option<RocPanels> {
    let scores: Vec<Option<FindingScores>> =
        best.iter().map(|r| FindingScores::of_runs(&[*r])).collect();
    let findings = first_seen(scores.iter().flatten().flat_map(|s| s.findings.clone()));
    if findings.is_empty() {
        return None;
    }
    let panels = findings
        .iter()
        .map(|finding| RocPanel {
            finding: finding.clone(),
            curves: scores
                .iter()
                .map(|s| {
                    let s = s.as_ref()?;
                    let k = s.findings.iter().position(|f| f == finding)?;
                    let (scores, truths) = s.column(k);
                    let auroc = cxr_metrics::auroc(&scores, &truths)?;
                    let points = roc_curve(&scores, &truths)
                        .into_iter()
                        .map(|(fpr, tpr, _)| (fpr, tpr))
                        .collect();
                    Some(RocCurve { points, auroc })
                })
                .collect(),
        })
        .collect();
    let lines = best
        .iter()
        .map(|r| {
            let style = styles
                .iter()
                .find(|(line, _)| *line == r.line)
                .map_or(crate::style::REFERENCE, |(_, s)| *s);
            (r.line.clone(), style)
        })
        .collect();
    let title = if facet.is_empty() {
        "Test ROC per finding".to_string()
    } else {
        format!("Test ROC per finding ({facet})")
    };
    Some(RocPanels {
        title,
        lines,
        panels,
        note: Some(
            "each model line's run with the best validation mean AUROC; its test AUROC in the \
             corner"
                .into(),
        ),
    })
}
