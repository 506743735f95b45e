//! Paired comparisons between configurations: two models scored on the same test images are
//! paired data, so the report tests their difference directly instead of asking whether two
//! separate intervals overlap.
//!
//! Runs of two configurations are paired by seed (and fold, when cross-validating): the same
//! seed on the same data gives the same split, so both runs answered the same test images,
//! matched here by path. With several seeds, the pairs of every seed are **pooled** (each
//! `(seed, image)` pair once) and tested together: the difference in micro- and macro-recall
//! with a 95% paired-bootstrap interval (resampling pairs, both models together) and McNemar's
//! exact test on the discordant pairs. The spread of the per-seed differences is reported
//! beside the pooled one, so a difference carried by one seed shows. Pooling rather than
//! averaging predictions over seeds because different seeds test different images (each seed
//! draws its own split), so there is no common image set to average on.
//!
//! The comparisons are the ones the report's prose makes: the best ResNet configuration
//! against the best CNN configuration, and every other freeze depth of a ResNet against that
//! ResNet's best depth; and in the classic-heads section, each backbone's winning head
//! against its runner-up and the linear head. They are written to `report/comparisons.parquet`
//! ([`crate::comparisons_file`]), beside the AUROC comparisons of multi-label runs
//! ([`crate::auroc_comparison`]).

use std::collections::HashMap;
use std::fmt::Write as _;

use cxr_metrics::{mcnemar, paired_bootstrap, ConfusionMatrix, DEFAULT_RESAMPLES};
use cxr_results::{PredictionRow, LINEAR_HEAD};

use crate::grid_results::{GridResults, RunResults};
use crate::stats::ConfigStats;

/// `kind` of a head against the winning head on its backbone (the classic-heads verdicts).
pub const HEAD_VS_BEST: &str = "head_vs_best";

/// The significance level the verdicts use.
pub const ALPHA: f64 = 0.05;

cxr_results::table! {
    /// One paired comparison (`report/comparisons.parquet`): configuration `a` minus
    /// configuration `b` on the test images both answered.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct PairedComparison {
        /// The facet (other axes' values) both configurations belong to.
        pub facet: String,
        /// `best_resnet_vs_cnn`, `freeze_vs_best` or `head_vs_best`.
        pub kind: String,
        /// Configuration `a`: its line (model and weights source).
        pub a_model: String,
        /// Configuration `a`'s frozen stages.
        pub a_freeze: i64,
        /// Configuration `a`'s head (`linear`, or a classic head, with its facet if any).
        pub a_head: String,
        /// Configuration `b`: its line.
        pub b_model: String,
        /// Configuration `b`'s frozen stages.
        pub b_freeze: i64,
        /// Configuration `b`'s head.
        pub b_head: String,
        /// Run pairs (seeds, or seed and fold) with predictions on both sides.
        pub pairs: i64,
        /// Test images pooled over the pairs.
        pub images: i64,
        /// Micro-recall of `a` minus `b` on the pooled images.
        pub micro_diff: f64,
        /// 2.5th percentile of the paired-bootstrap micro-recall differences.
        pub micro_low: f64,
        /// 97.5th percentile.
        pub micro_high: f64,
        /// Macro-recall of `a` minus `b` on the pooled images.
        pub macro_diff: f64,
        /// 2.5th percentile of the paired-bootstrap macro-recall differences.
        pub macro_low: f64,
        /// 97.5th percentile.
        pub macro_high: f64,
        /// Images `a` got right and `b` wrong.
        pub a_only: i64,
        /// Images `b` got right and `a` wrong.
        pub b_only: i64,
        /// McNemar's exact two-sided p-value.
        pub p_value: f64,
        /// Smallest micro-recall difference of a single pair (seed).
        pub pair_micro_min: f64,
        /// Largest micro-recall difference of a single pair (seed).
        pub pair_micro_max: f64,
    }
}

impl PairedComparison {
    /// Whether both tests say the difference is real at [`ALPHA`]: McNemar's p below it and
    /// the bootstrap interval of the micro-recall difference excluding 0.
    pub fn significant(&self) -> bool {
        self.p_value < ALPHA && !(self.micro_low <= 0.0 && 0.0 <= self.micro_high)
    }

    /// Whether the two tests disagree at [`ALPHA`].
    pub fn split_verdict(&self) -> bool {
        (self.p_value < ALPHA) == (self.micro_low <= 0.0 && 0.0 <= self.micro_high)
    }

    /// `different`, `tests disagree` or `not separated`: the verdict column of the report.
    pub fn verdict(&self) -> &'static str {
        if self.significant() {
            "different"
        } else if self.split_verdict() {
            "tests disagree"
        } else {
            "not separated"
        }
    }

    /// The sentence the report states: the differences with their intervals, McNemar's test,
    /// the spread over seeds, and the verdict. `a` and `b` name the two configurations.
    pub fn sentence(&self, a: &str, b: &str) -> String {
        let points = |v: f64| format!("{:+.1}", v * 100.0);
        let mut text = format!(
            "Paired on the same {} test images ({} run pair{}), {a} minus {b} is {} points of \
             micro-recall (95% paired bootstrap {} to {}) and {} points of macro-recall ({} to \
             {}); McNemar's exact test: {} images only {a} got right, {} only {b}, p = {}.",
            self.images,
            self.pairs,
            if self.pairs == 1 { "" } else { "s" },
            points(self.micro_diff),
            points(self.micro_low),
            points(self.micro_high),
            points(self.macro_diff),
            points(self.macro_low),
            points(self.macro_high),
            self.a_only,
            self.b_only,
            format_p(self.p_value),
        );
        if self.pairs > 1 {
            text.push_str(&format!(
                " Across the {} run pairs the micro-recall difference ranges from {} to {} \
                 points.",
                self.pairs,
                points(self.pair_micro_min),
                points(self.pair_micro_max)
            ));
        }
        text.push(' ');
        text.push_str(if self.significant() {
            "Both tests call the difference real at the 5% level."
        } else if self.split_verdict() {
            "The two tests disagree at the 5% level: treat the difference as unresolved."
        } else {
            "The paired tests cannot separate them at the 5% level."
        });
        text
    }
}

/// `0.003`, `0.041`, `< 0.001`.
pub fn format_p(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// The comparisons the report states, for every facet of `stats` whose configurations have
/// runs with predictions on both sides.
pub fn paired_comparisons(results: &GridResults, stats: &[ConfigStats]) -> Vec<PairedComparison> {
    let mut out = Vec::new();
    for (kind, a, b) in planned(stats, |s| s.micro) {
        let side = |s: &ConfigStats| Side {
            model: s.line.clone(),
            freeze: s.freeze,
            head: LINEAR_HEAD.to_string(),
            runs: runs_of(results, s),
        };
        out.extend(compare(kind, &a.facet, side(a), side(b)));
    }
    out
}

/// One side of a comparison: a configuration and its runs.
pub(crate) struct Side<'a> {
    /// Its line (model and weights source).
    pub(crate) model: String,
    /// Its frozen stages.
    pub(crate) freeze: i64,
    /// Its head.
    pub(crate) head: String,
    /// Its runs, paired with the other side's by [`pair_key`].
    pub(crate) runs: Vec<&'a RunResults>,
}

/// Best ResNet vs best CNN per facet, then each ResNet's other depths vs its best depth, the
/// best being the highest `key` (mean test micro-recall; mean AUROC for multi-label runs).
pub(crate) fn planned(
    stats: &[ConfigStats],
    key: fn(&ConfigStats) -> f64,
) -> Vec<(&'static str, &ConfigStats, &ConfigStats)> {
    let mut out = Vec::new();
    let facets = crate::order::first_seen(stats.iter().map(|s| s.facet.clone()));
    for facet in facets {
        let of_facet: Vec<&ConfigStats> = stats.iter().filter(|s| s.facet == facet).collect();
        let cnn = best(of_facet.iter().copied().filter(|s| s.is_reference()), key);
        let resnet = best(of_facet.iter().copied().filter(|s| !s.is_reference()), key);
        if let (Some(r), Some(c)) = (resnet, cnn) {
            out.push(("best_resnet_vs_cnn", r, c));
        }
        let lines = crate::order::first_seen(
            of_facet
                .iter()
                .filter(|s| !s.is_reference())
                .map(|s| s.line.clone()),
        );
        for line in lines {
            let rows: Vec<&ConfigStats> = of_facet
                .iter()
                .copied()
                .filter(|s| s.line == line)
                .collect();
            let Some(top) = best(rows.iter().copied(), key) else {
                continue;
            };
            for other in rows.iter().filter(|s| s.freeze != top.freeze) {
                out.push(("freeze_vs_best", *other, top));
            }
        }
    }
    out
}

/// The configuration with the highest `key` (the one the prose calls best).
fn best<'a>(
    rows: impl Iterator<Item = &'a ConfigStats>,
    key: fn(&ConfigStats) -> f64,
) -> Option<&'a ConfigStats> {
    rows.max_by(|x, y| key(x).total_cmp(&key(y)))
}

/// The ok trained runs of configuration `stats`.
pub(crate) fn runs_of<'a>(results: &'a GridResults, stats: &ConfigStats) -> Vec<&'a RunResults> {
    results
        .runs
        .iter()
        .filter(|r| {
            r.ok_trained()
                && r.facet == stats.facet
                && r.line == stats.line
                && r.summary.freeze == stats.freeze
        })
        .collect()
}

/// What pairs two runs: their seed and, when cross-validating, their test fold.
pub(crate) fn pair_key(run: &RunResults) -> (i64, Option<i64>) {
    (run.summary.seed, run.summary.fold)
}

/// Configuration `a` minus `b` (`kind`, in `facet`) on the test images both answered, their
/// runs paired by seed and fold; `None` when no pair has predictions on both sides.
pub(crate) fn compare(
    kind: &str,
    facet: &str,
    a: Side<'_>,
    b: Side<'_>,
) -> Option<PairedComparison> {
    let (runs_a, runs_b) = (&a.runs, &b.runs);
    let mut classes: Vec<String> = Vec::new();
    let mut index = |name: &str| -> u32 {
        match classes.iter().position(|c| c == name) {
            Some(i) => i as u32,
            None => {
                classes.push(name.to_string());
                (classes.len() - 1) as u32
            }
        }
    };
    let (mut truth, mut pa, mut pb) = (Vec::new(), Vec::new(), Vec::new());
    let mut per_pair = Vec::new();
    for run_a in runs_a {
        let Some(run_b) = runs_b.iter().find(|r| pair_key(r) == pair_key(run_a)) else {
            continue;
        };
        let (Some(rows_a), Some(rows_b)) = (&run_a.predictions, &run_b.predictions) else {
            continue;
        };
        let of_b: HashMap<&str, &PredictionRow> =
            rows_b.iter().map(|r| (r.path.as_str(), r)).collect();
        let start = truth.len();
        for row in rows_a {
            // Same seed on the same data means the same test images; a path only one side has
            // (other data, other classes) is not a pair.
            let Some(other) = of_b.get(row.path.as_str()) else {
                continue;
            };
            truth.push(index(&row.true_class));
            pa.push(index(&row.predicted_class));
            pb.push(index(&other.predicted_class));
        }
        if truth.len() > start {
            per_pair.push(start..truth.len());
        }
    }
    if truth.is_empty() {
        return None;
    }
    let n_classes = classes.len();
    let mut rng = cxr_seed::report_bootstrap_rng();
    let diff = paired_bootstrap(&truth, &pa, &pb, n_classes, DEFAULT_RESAMPLES, &mut rng)?;
    let test = mcnemar(&truth, &pa, &pb);
    let pair_diffs: Vec<f64> = per_pair
        .iter()
        .map(|r| {
            let t = &truth[r.clone()];
            ConfusionMatrix::new(t, &pa[r.clone()], n_classes).micro_recall()
                - ConfusionMatrix::new(t, &pb[r.clone()], n_classes).micro_recall()
        })
        .collect();
    Some(PairedComparison {
        facet: facet.to_string(),
        kind: kind.to_string(),
        a_model: a.model,
        a_freeze: a.freeze,
        a_head: a.head,
        b_model: b.model,
        b_freeze: b.freeze,
        b_head: b.head,
        pairs: per_pair.len() as i64,
        images: truth.len() as i64,
        micro_diff: diff.micro,
        micro_low: diff.micro_interval.low,
        micro_high: diff.micro_interval.high,
        macro_diff: diff.macro_,
        macro_low: diff.macro_interval.low,
        macro_high: diff.macro_interval.high,
        a_only: test.a_only as i64,
        b_only: test.b_only as i64,
        p_value: test.p_value,
        pair_micro_min: pair_diffs.iter().copied().fold(f64::INFINITY, f64::min),
        pair_micro_max: pair_diffs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// Every paired comparison of a facet: the differences, their intervals and McNemar's test.
pub fn render_table(md: &mut String, rows: &[PairedComparison]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "### Paired comparisons\n\n\
         Each row is configuration A minus configuration B on the test images both answered, \
         runs paired by seed (and fold) and pooled over the pairs; differences in percentage \
         points with 95% paired-bootstrap intervals, McNemar's exact test on the images only \
         one of them got right. All rows: `comparisons.parquet`.\n"
    );
    let _ = writeln!(
        md,
        "| A | B | pairs | images | micro-recall diff | macro-recall diff | A only right | B only right | McNemar p | verdict |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
    let points = |v: f64| format!("{:+.1}", v * 100.0);
    for r in rows {
        let verdict = r.verdict();
        let _ = writeln!(
            md,
            "| {} f{} | {} f{} | {} | {} | {} ({} to {}) | {} ({} to {}) | {} | {} | {} | {verdict} |",
            r.a_model,
            r.a_freeze,
            r.b_model,
            r.b_freeze,
            r.pairs,
            r.images,
            points(r.micro_diff),
            points(r.micro_low),
            points(r.micro_high),
            points(r.macro_diff),
            points(r.macro_low),
            points(r.macro_high),
            r.a_only,
            r.b_only,
            format_p(r.p_value),
        );
    }
    md.push('\n');
}
