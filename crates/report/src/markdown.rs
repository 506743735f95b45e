//! `report.md`, computed and rendered: what finished and what is missing, a cross-validation
//! grid's recall per configuration, a multi-label grid's split-leak table ([`LeakSection`]), a
//! section per facet (the generated comparison, the best run
//! per model, the figures, the configurations, the paired comparisons, the transfer table),
//! autoencoder (pretraining) runs with their reconstructions, the classic heads, calibration,
//! every run's numbers, and links to each run's figures.
//!
//! [`Document::of`] computes every section from what the report read; nothing here touches
//! the file system. Each section renders itself beside the code that computes it.

use std::fmt::Write as _;

use crate::auroc_comparison::{auroc_comparisons, AurocComparison};
use crate::calibration::CalibrationSection;
use crate::classic_heads::HeadsSection;
use crate::cross_validation::{self, CrossValidation};
use crate::facet::FacetSection;
use crate::grid_results::{GridResults, RunResults};
use crate::input::ReportInput;
use crate::leak::LeakSection;
use crate::numbers::{opt, plural, seconds};
use crate::order::first_seen;
use crate::paired::{paired_comparisons, PairedComparison};
use crate::pretraining::PretrainingSection;
use crate::run_figures::{self, RunFigures};
use crate::stats::config_stats;

/// Everything the report draws and writes, computed.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    /// What was read.
    pub results: &'a GridResults,
    /// A cross-validation grid's tables.
    pub cross_validation: CrossValidation,
    /// One section per facet with ok trained runs.
    pub facets: Vec<FacetSection<'a>>,
    /// The facets' paired comparisons ([`paired_comparisons`]), in the order of the
    /// configurations' facets.
    pub paired: Vec<PairedComparison>,
    /// The facets' paired AUROC comparisons of multi-label configurations
    /// ([`auroc_comparisons`]).
    pub auroc_paired: Vec<AurocComparison>,
    /// Split by patient against split by film, for a cross-validated multi-label grid with
    /// both on its `split.group` axis.
    pub leak: LeakSection,
    /// The autoencoder runs.
    pub pretraining: PretrainingSection<'a>,
    /// The classic heads and their feature maps.
    pub heads: HeadsSection<'a>,
    /// The runs with a test calibration error.
    pub calibration: CalibrationSection<'a>,
    /// Every run's figures, in run order.
    pub run_figures: Vec<RunFigures<'a>>,
}

impl<'a> Document<'a> {
    /// Computes every section from `input`.
    pub fn of(input: &'a ReportInput) -> Self {
        let results = &input.results;
        let stats = config_stats(&results.runs);
        let paired = paired_comparisons(results, &stats);
        let auroc_paired = auroc_comparisons(results, &stats);
        Self {
            results,
            cross_validation: CrossValidation::of(results),
            facets: FacetSection::all(results, &stats, &paired, &auroc_paired),
            paired,
            auroc_paired,
            leak: LeakSection::of(results),
            pretraining: PretrainingSection::of(results, |id| {
                input.reconstructions.contains_key(id)
            }),
            heads: HeadsSection::of(results, &input.features),
            calibration: CalibrationSection::of(results),
            run_figures: results
                .runs
                .iter()
                .map(|run| RunFigures::of(run, input))
                .collect(),
        }
    }

    /// Every paired recall comparison (`comparisons.parquet`): the facets', then the classic
    /// heads'.
    pub fn comparisons(&self) -> Vec<PairedComparison> {
        let transfer = self
            .facets
            .iter()
            .flat_map(|f| &f.transfer)
            .filter_map(|r| r.paired.as_ref());
        self.paired
            .iter()
            .chain(&self.heads.paired)
            .chain(transfer)
            .cloned()
            .collect()
    }

    /// Every AUROC comparison (`comparisons.parquet`): the facets', then the split-leak
    /// table's.
    pub fn auroc_comparisons(&self) -> Vec<AurocComparison> {
        self.auroc_paired
            .iter()
            .chain(&self.leak.rows)
            .cloned()
            .collect()
    }

    /// The whole `report.md`.
    pub fn render(&self) -> String {
        let mut md = String::new();
        status_section(&mut md, self.results);
        cross_validation::render_section(&mut md, &self.cross_validation.rows);
        self.leak.render(&mut md);
        for section in &self.facets {
            section.render(&mut md);
        }
        self.pretraining.render(&mut md);
        self.heads.render(&mut md);
        self.calibration.render(&mut md);
        if self.results.runs.iter().any(|r| !r.is_autoencoder()) {
            let _ = writeln!(md, "## All runs\n");
            runs_table(&mut md, self.results);
        }
        run_figures::render_section(&mut md, &self.run_figures);
        md
    }
}

/// The title, and what finished, failed, is missing or was ignored.
fn status_section(md: &mut String, results: &GridResults) {
    let ok = results.runs.iter().filter(|r| r.ok()).count();
    let failed = results.runs.len() - ok;
    let _ = writeln!(md, "# Report: {}\n", results.name);
    let _ = writeln!(
        md,
        "Generated by `cxr report` from the Parquet files of this grid folder; rerun it after \
         the sweep changes. {} run{} finished ({ok} ok, {failed} failed), {} planned run{} \
         missing.\n",
        results.runs.len(),
        plural(results.runs.len()),
        results.missing.len(),
        plural(results.missing.len()),
    );
    if !results.missing.is_empty() {
        let _ = writeln!(
            md,
            "**Partial sweep.** Not finished yet (run `cxr sweep` on the grid file to complete):\n"
        );
        for m in &results.missing {
            let _ = writeln!(
                md,
                "- `{}` ({} freeze {} seed {})",
                m.run_id, m.model, m.freeze, m.seed
            );
        }
        md.push('\n');
    }
    let failures: Vec<&RunResults> = results.runs.iter().filter(|r| !r.ok()).collect();
    if !failures.is_empty() {
        let _ = writeln!(md, "**Failed runs** (excluded from the figures):\n");
        for r in failures {
            let _ = writeln!(md, "- `{}`: {}", r.summary.run_id, r.summary.error);
        }
        md.push('\n');
    }
    if !results.stale.is_empty() {
        let _ = writeln!(
            md,
            "Ignored {} finished run{} that the grid's current plan no longer lists (the grid \
             file changed since): {}\n",
            results.stale.len(),
            plural(results.stale.len()),
            results
                .stale
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Every classifier run (autoencoder runs have their own table).
fn runs_table(md: &mut String, results: &GridResults) {
    let runs: Vec<&RunResults> = results
        .runs
        .iter()
        .filter(|r| !r.is_autoencoder())
        .collect();
    let classes = first_seen(
        runs.iter()
            .flat_map(|r| &r.per_class)
            .map(|c| c.class.as_str()),
    );
    let facets = runs.iter().any(|r| !r.facet.is_empty());
    let heads = runs.iter().any(|r| r.is_classic_head());
    let folds = runs.iter().any(|r| r.summary.fold.is_some());
    let multilabel = runs.iter().any(|r| r.is_multilabel());
    let mut header = String::from("| run | model | freeze | seed |");
    if folds {
        header.push_str(" fold |");
    }
    if heads {
        header.push_str(" head |");
    }
    if facets {
        header.push_str(" other axes |");
    }
    header.push_str(" status |");
    if multilabel {
        header.push_str(" test mean AUROC |");
    }
    header.push_str(" test micro-recall | test macro-recall |");
    for c in &classes {
        let _ = write!(header, " recall {c} |");
    }
    header.push_str(" epochs to converge | s/epoch | trainable params |");
    let _ = writeln!(md, "{header}");
    let columns = header.matches('|').count() - 1;
    let _ = writeln!(md, "|{}", "---|".repeat(columns));
    for r in &runs {
        let s = &r.summary;
        let mut line = format!(
            "| `{}` | {} | {} | {} |",
            s.run_id, r.line, s.freeze, s.seed
        );
        if folds {
            let _ = write!(line, " {} |", s.fold.map_or("-".into(), |f| f.to_string()));
        }
        if heads {
            let _ = write!(line, " {} |", s.head_name());
        }
        if facets {
            let _ = write!(line, " {} |", r.facet);
        }
        let _ = write!(line, " {} |", s.status);
        if multilabel {
            let _ = write!(line, " {} |", opt(s.test_mean_auroc, 3));
        }
        let _ = write!(
            line,
            " {} | {} |",
            opt(s.test_micro_recall, 3),
            opt(s.test_macro_recall, 3)
        );
        for c in &classes {
            let recall = r.per_class.iter().find(|p| p.class == *c).map(|p| p.recall);
            let _ = write!(line, " {} |", opt(recall, 3));
        }
        let _ = write!(
            line,
            " {} | {} | {} |",
            s.epochs_to_converge.map_or("-".into(), |e| e.to_string()),
            s.epoch_time_s.map_or_else(|| "-".into(), seconds),
            s.trainable_params
        );
        let _ = writeln!(md, "{line}");
    }
    md.push('\n');
}
