//! One facet's section of `report.md` (a facet: the runs sharing the values of the grid axes
//! other than model, freeze, seed and weights): the generated comparison, the best run per
//! model, the four grid figures, the configurations, the paired comparisons and the transfer
//! table. A facet of multi-label runs adds the mean-AUROC figure, the per-finding AUROC table
//! with the ROC curves ([`PerFindingSection`]) and the paired AUROC comparisons, and states its
//! comparison in mean AUROC ([`auroc_paragraph`]).

use std::fmt::Write as _;
use std::path::PathBuf;

use cxr_results::{GridDir, ReportFigure};

use crate::auroc_comparison::AurocComparison;
use crate::auroc_paragraph::auroc_paragraph;
use crate::canvas::{save, slug};
use crate::comparison::{comparison_paragraph, describe_interval};
use crate::error::Result;
use crate::figures::{grid_figure, Metric};
use crate::grid_results::{GridResults, RunResults};
use crate::line_chart::LineChart;
use crate::numbers::{opt, seconds};
use crate::order::first_seen;
use crate::paired::PairedComparison;
use crate::per_finding::PerFindingSection;
use crate::stats::ConfigStats;
use crate::transfer::{transfer_rows, TransferRow};

/// One facet's section, computed.
#[derive(Debug, Clone)]
pub struct FacetSection<'a> {
    /// Other-axes values (`""` when the grid has none).
    pub facet: String,
    /// Aggregated configurations of the facet.
    pub stats: Vec<ConfigStats>,
    /// The grid figures, in [`Metric::of_facet`] order (four; five with the mean AUROC).
    pub figures: Vec<GridFigure>,
    /// The facet's paired comparisons ([`crate::paired`]).
    pub paired: Vec<PairedComparison>,
    /// The facet's paired AUROC comparisons of multi-label configurations
    /// ([`crate::auroc_comparison`]).
    pub auroc_paired: Vec<AurocComparison>,
    /// The per-finding table and ROC curves, when the facet has multi-label runs.
    pub per_finding: Option<PerFindingSection<'a>>,
    /// The generated comparison ([`comparison_paragraph`]).
    pub paragraph: String,
    /// The best ok run of each figure line (test micro-recall; validation mean AUROC for a
    /// multi-label run), lines sorted by name.
    pub best_runs: Vec<&'a RunResults>,
    /// Each weights source against random init ([`crate::transfer`]); empty when the grid does
    /// not vary the weights.
    pub transfer: Vec<TransferRow>,
}

/// A grid figure: what it plots and its chart.
#[derive(Debug, Clone)]
pub struct GridFigure {
    /// The number plotted.
    pub metric: Metric,
    /// The facet as a file name (`None` for a grid without facets): the figure is
    /// [`ReportFigure::Metric`] of the metric's stem and this.
    pub facet_slug: Option<String>,
    /// The chart.
    pub chart: LineChart,
}

impl GridFigure {
    /// The figure's name in the report folder.
    pub fn name(&self) -> ReportFigure<'_> {
        ReportFigure::Metric {
            metric: self.metric.stem(),
            facet: self.facet_slug.as_deref(),
        }
    }
}

impl<'a> FacetSection<'a> {
    /// One section per facet of `results` with ok trained runs, from the grid's configurations
    /// (`stats`) and paired comparisons (`paired`, `auroc_paired`).
    pub fn all(
        results: &'a GridResults,
        stats: &[ConfigStats],
        paired: &[PairedComparison],
        auroc_paired: &[AurocComparison],
    ) -> Vec<Self> {
        results
            .facets()
            .into_iter()
            .filter_map(|facet| {
                let stats: Vec<ConfigStats> =
                    stats.iter().filter(|s| s.facet == facet).cloned().collect();
                if stats.is_empty() {
                    return None; // every run of this facet failed
                }
                let paired: Vec<PairedComparison> = paired
                    .iter()
                    .filter(|p| p.facet == facet)
                    .cloned()
                    .collect();
                let auroc_paired = auroc_paired
                    .iter()
                    .filter(|p| p.facet == facet)
                    .cloned()
                    .collect();
                Some(Self::of(results, facet, stats, paired, auroc_paired))
            })
            .collect()
    }

    fn of(
        results: &'a GridResults,
        facet: String,
        stats: Vec<ConfigStats>,
        paired: Vec<PairedComparison>,
        auroc_paired: Vec<AurocComparison>,
    ) -> Self {
        let multilabel = stats.iter().any(|s| s.multilabel);
        let figures = Metric::of_facet(multilabel)
            .into_iter()
            .map(|metric| GridFigure {
                metric,
                facet_slug: (!facet.is_empty()).then(|| slug(&facet)),
                chart: grid_figure(metric, &stats, &facet),
            })
            .collect();
        let paragraph = if multilabel {
            auroc_paragraph(&stats, &auroc_paired)
        } else {
            comparison_paragraph(&stats, &paired)
        };
        Self {
            paragraph,
            per_finding: PerFindingSection::of(results, &facet, &stats),
            best_runs: best_runs(results, &facet),
            transfer: transfer_rows(results, &facet),
            figures,
            paired,
            auroc_paired,
            stats,
            facet,
        }
    }

    /// Writes the grid figures into the grid's report folder. Returns the written paths.
    pub fn draw(&self, grid: &GridDir) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for figure in &self.figures {
            written.extend(save(&figure.chart, &grid.report_figure(&figure.name()))?);
        }
        if let Some(section) = &self.per_finding {
            written.extend(section.draw(grid)?);
        }
        Ok(written)
    }

    /// Appends the section to `md`.
    pub fn render(&self, md: &mut String) {
        if !self.facet.is_empty() {
            let _ = writeln!(md, "## {}\n", self.facet);
        }
        let _ = writeln!(md, "### Summary\n\n{}\n", self.paragraph);
        let _ = writeln!(md, "### Best run per model\n");
        best_runs_table(md, &self.best_runs);
        let _ = writeln!(md, "### Figures\n");
        for figure in &self.figures {
            let _ = writeln!(md, "![{}]({})\n", figure.chart.title, figure.name().png());
        }
        if let Some(section) = &self.per_finding {
            section.render(md);
        }
        let _ = writeln!(md, "### Configurations\n");
        config_table(md, &self.stats);
        crate::paired::render_table(md, &self.paired);
        crate::auroc_comparison::render_table(md, &self.auroc_paired);
        crate::transfer::render_table(md, &self.transfer);
    }
}

/// The best ok trained run of each figure line of `facet`, lines sorted by name.
fn best_runs<'a>(results: &'a GridResults, facet: &str) -> Vec<&'a RunResults> {
    let of_facet = || {
        results
            .runs
            .iter()
            .filter(move |r| r.ok_trained() && r.facet == facet)
    };
    let mut lines = first_seen(of_facet().map(|r| r.line.as_str()));
    lines.sort_unstable();
    lines
        .into_iter()
        .filter_map(|line| {
            // A multi-label line's best run is picked on validation, the run its per-finding
            // table and ROC curves show.
            if let Some(run) = crate::per_finding::best_run(results, facet, line) {
                return Some(run);
            }
            of_facet().filter(|r| r.line == line).max_by(|a, b| {
                let key = |r: &RunResults| r.summary.test_micro_recall.unwrap_or(f64::NAN);
                key(a).total_cmp(&key(b))
            })
        })
        .collect()
}

fn best_runs_table(md: &mut String, runs: &[&RunResults]) {
    let multilabel = runs.iter().any(|r| r.is_multilabel());
    let mut header = String::from("| model | freeze | seed |");
    if multilabel {
        header.push_str(" test mean AUROC | 95% patient bootstrap |");
    }
    header.push_str(
        " test micro-recall | 95% bootstrap interval | test macro-recall | epochs to converge | s/epoch | trainable params | run |",
    );
    let _ = writeln!(md, "{header}");
    let _ = writeln!(md, "|{}", "---|".repeat(header.matches('|').count() - 1));
    let interval = |lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
        (Some(lo), Some(hi)) => format!("{lo:.3}-{hi:.3}"),
        _ => "-".into(),
    };
    for r in runs {
        let s = &r.summary;
        let mut line = format!("| {} | {} | {} |", r.line, s.freeze, s.seed);
        if multilabel {
            let _ = write!(
                line,
                " {} | {} |",
                opt(s.test_mean_auroc, 3),
                interval(s.test_mean_auroc_low, s.test_mean_auroc_high)
            );
        }
        let _ = writeln!(
            md,
            "{line} {} | {} | {} | {} | {} | {} | `{}` |",
            opt(s.test_micro_recall, 3),
            interval(s.test_micro_recall_low, s.test_micro_recall_high),
            opt(s.test_macro_recall, 3),
            s.epochs_to_converge.map_or("-".into(), |e| e.to_string()),
            s.epoch_time_s.map_or_else(|| "-".into(), seconds),
            s.trainable_params,
            s.run_id
        );
    }
    md.push('\n');
}

fn config_table(md: &mut String, stats: &[ConfigStats]) {
    let multilabel = stats.iter().any(|s| s.multilabel);
    let mut header = String::from("| model | freeze | seeds |");
    if multilabel {
        header.push_str(" test mean AUROC | interval |");
    }
    header.push_str(
        " test micro-recall | interval | test macro-recall | epochs to converge | s/epoch | trainable params |",
    );
    let _ = writeln!(md, "{header}");
    let _ = writeln!(md, "|{}", "---|".repeat(header.matches('|').count() - 1));
    for s in stats {
        let seeds = if s.folds > 0 {
            format!("{} x {} folds", s.seeds, s.folds)
        } else {
            s.seeds.to_string()
        };
        let mut line = format!("| {} | {} | {seeds} |", s.line, s.freeze);
        if multilabel {
            let _ = write!(
                line,
                " {} | {} |",
                opt(s.mean_auroc, 3),
                describe_auroc_interval(s)
            );
        }
        let _ = writeln!(
            md,
            "{line} {:.3} | {} | {:.3} | {:.1} | {} | {} |",
            s.micro,
            describe_interval(s),
            s.macro_,
            s.epochs_to_converge,
            seconds(s.epoch_time_s),
            s.trainable_params
        );
    }
    md.push('\n');
}

/// The mean-AUROC interval of a configuration: `sd 0.021` over several runs, a single run's
/// `95% patient bootstrap 0.70-0.81`, or `-`.
fn describe_auroc_interval(s: &ConfigStats) -> String {
    match (s.mean_auroc, s.mean_auroc_low, s.mean_auroc_high) {
        (Some(m), Some(lo), _) if s.runs > 1 => format!("sd {:.3}", m - lo),
        (Some(_), Some(lo), Some(hi)) => format!("95% patient bootstrap {lo:.3}-{hi:.3}"),
        _ => "-".into(),
    }
}
