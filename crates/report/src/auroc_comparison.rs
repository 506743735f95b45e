//! Paired comparisons of two multi-label configurations on the same test films: DeLong's test
//! of each finding's AUROC ([`delong_test`]) and of the mean AUROC over findings
//! ([`delong_mean_test`]), and the 95% bootstrap interval of the mean-AUROC difference that
//! resamples **patients** ([`paired_group_bootstrap`]: a patient's films are correlated, so
//! drawing films would make the interval too narrow).
//!
//! The comparisons are the ones the recall comparisons make ([`crate::paired`]), the best
//! being the highest test mean AUROC: the best ResNet configuration against the best CNN, and
//! each other freeze depth of a ResNet against its best depth; runs are paired by seed and fold
//! and their films matched by path, then pooled over the pairs (a film tested under several
//! seeds enters once per seed, as in the recall comparisons). The split-leak table
//! ([`crate::leak`]) makes the same comparison between a configuration split by film and split
//! by patient. Every row goes to `report/comparisons.parquet` beside the recall comparisons
//! ([`crate::comparisons_file`]).

use std::fmt::Write as _;

use cxr_metrics::{delong_mean_test, delong_test, paired_group_bootstrap, DEFAULT_RESAMPLES};
use cxr_results::LINEAR_HEAD;

use crate::finding_scores::FindingScores;
use crate::grid_results::{GridResults, RunResults};
use crate::paired::{format_p, pair_key, planned, runs_of, ALPHA};
use crate::paired_scores::{PairSide, PairedScores};
use crate::stats::ConfigStats;

/// `metric` of a row comparing the mean AUROC over findings.
pub const MEAN_AUROC: &str = "mean_auroc";
/// `metric` of a row comparing one finding's AUROC.
pub const AUROC: &str = "auroc";

cxr_results::table! {
    /// One AUROC comparison (`report/comparisons.parquet`, where `metric` is set): configuration
    /// `a` minus configuration `b` on the test films both answered.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct AurocComparison {
        /// The facet (other axes' values) both configurations belong to; for the split-leak
        /// rows, the facet without `split.group`.
        pub facet: String,
        /// `best_resnet_vs_cnn`, `freeze_vs_best` or `split_film_vs_patient` (`a` split by
        /// film, `b` by patient).
        pub kind: String,
        /// Configuration `a`: its line (model and weights source).
        pub a_model: String,
        /// Configuration `a`'s frozen stages.
        pub a_freeze: i64,
        /// Configuration `a`'s head.
        pub a_head: String,
        /// Configuration `b`: its line.
        pub b_model: String,
        /// Configuration `b`'s frozen stages.
        pub b_freeze: i64,
        /// Configuration `b`'s head.
        pub b_head: String,
        /// Run pairs (seed and fold; for the split-leak rows, seeds with their folds pooled)
        /// with films on both sides.
        pub pairs: i64,
        /// Test films pooled over the pairs.
        pub images: i64,
        /// `mean_auroc` (the mean over findings) or `auroc` (one finding).
        pub metric: String,
        /// The finding of an `auroc` row; null for the mean.
        pub finding: Option<String>,
        /// Findings averaged (those with two positive and two negative films); 1 for a finding.
        pub findings: i64,
        /// Distinct patients among the films (films without a patient count one each).
        pub patients: i64,
        /// A finding's positive films; null for the mean.
        pub positives: Option<i64>,
        /// `a`'s AUROC (mean AUROC) on the pooled films.
        pub auroc_a: Option<f64>,
        /// `b`'s.
        pub auroc_b: Option<f64>,
        /// `auroc_a - auroc_b`.
        pub auroc_diff: Option<f64>,
        /// DeLong's z of the difference.
        pub delong_z: Option<f64>,
        /// DeLong's two-sided p-value.
        pub delong_p: Option<f64>,
        /// 2.5th percentile of the patient-bootstrap differences (mean rows only).
        pub boot_low: Option<f64>,
        /// 97.5th percentile.
        pub boot_high: Option<f64>,
        /// Bootstrap replicates on which both means were defined.
        pub boot_replicates: Option<i64>,
    }
}

impl AurocComparison {
    /// Whether both tests say the difference is real at [`ALPHA`]: DeLong's p below it and the
    /// patient-bootstrap interval excluding 0 (a finding's row, without a bootstrap, on
    /// DeLong's p alone).
    pub fn significant(&self) -> bool {
        let p = self.delong_p.is_some_and(|p| p < ALPHA);
        match self.interval() {
            Some((lo, hi)) => p && !(lo <= 0.0 && 0.0 <= hi),
            None => p,
        }
    }

    /// `different`, `tests disagree` or `not separated`.
    pub fn verdict(&self) -> &'static str {
        let p = self.delong_p.is_some_and(|p| p < ALPHA);
        let excludes = self
            .interval()
            .is_some_and(|(lo, hi)| !(lo <= 0.0 && 0.0 <= hi));
        if self.significant() {
            "different"
        } else if self.interval().is_some() && p != excludes {
            "tests disagree"
        } else {
            "not separated"
        }
    }

    /// The bootstrap interval of the difference, when there is one.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.boot_low.zip(self.boot_high)
    }
}

/// One side of an AUROC comparison: a configuration's name.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Its line (model and weights source).
    pub model: String,
    /// Its frozen stages.
    pub freeze: i64,
    /// Its head.
    pub head: String,
}

impl Config {
    /// The configuration of `stats` (linear head: multi-label runs train their `fc`).
    pub fn of(stats: &ConfigStats) -> Self {
        Self {
            model: stats.line.clone(),
            freeze: stats.freeze,
            head: LINEAR_HEAD.to_string(),
        }
    }
}

/// The AUROC comparisons the report states for the multi-label configurations of `stats`
/// (the mean row of each, then its findings' rows), in the order the recall comparisons plan
/// theirs ([`crate::paired`]).
pub fn auroc_comparisons(results: &GridResults, stats: &[ConfigStats]) -> Vec<AurocComparison> {
    let multilabel: Vec<ConfigStats> = stats.iter().filter(|s| s.multilabel).cloned().collect();
    let mut out = Vec::new();
    for (kind, a, b) in planned(&multilabel, ConfigStats::headline) {
        let (runs_a, runs_b) = (runs_of(results, a), runs_of(results, b));
        let pairs: Vec<(FindingScores, FindingScores)> = runs_a
            .iter()
            .filter_map(|ra| {
                let rb = runs_b.iter().find(|rb| pair_key(rb) == pair_key(ra))?;
                Some((
                    FindingScores::of_runs(&[*ra])?,
                    FindingScores::of_runs(&[*rb])?,
                ))
            })
            .collect();
        out.extend(compare_auroc(
            kind,
            &a.facet,
            Config::of(a),
            Config::of(b),
            &pairs,
        ));
    }
    out
}

/// Configuration `a` minus `b` (`kind`, in `facet`) on the films of each `(a, b)` pair (one run
/// each, or a seed's fold runs pooled): the mean row, then a row per finding. Empty when no
/// pair shares a film.
pub fn compare_auroc(
    kind: &str,
    facet: &str,
    a: Config,
    b: Config,
    pairs: &[(FindingScores, FindingScores)],
) -> Vec<AurocComparison> {
    let Some(paired) = PairedScores::of(pairs) else {
        return Vec::new();
    };
    let base = AurocComparison {
        facet: facet.to_string(),
        kind: kind.to_string(),
        a_model: a.model,
        a_freeze: a.freeze,
        a_head: a.head,
        b_model: b.model,
        b_freeze: b.freeze,
        b_head: b.head,
        pairs: paired.pairs as i64,
        images: paired.films() as i64,
        patients: paired.patients() as i64,
        ..AurocComparison::default()
    };
    let n = paired.findings.len();
    let mean = delong_mean_test(&paired.a, &paired.b, &paired.labels, n);
    let used: Vec<usize> = mean
        .as_ref()
        .map(|m| m.findings.clone())
        .unwrap_or_default();
    let mut rng = cxr_seed::report_bootstrap_rng();
    let boot = (!used.is_empty())
        .then(|| {
            paired_group_bootstrap(
                &paired.groups,
                DEFAULT_RESAMPLES,
                &mut rng,
                |films| paired.mean_auroc(PairSide::A, &used, films),
                |films| paired.mean_auroc(PairSide::B, &used, films),
            )
        })
        .flatten();
    let mut rows = vec![AurocComparison {
        metric: MEAN_AUROC.into(),
        findings: used.len() as i64,
        auroc_a: mean.as_ref().map(|m| m.test.auroc_a),
        auroc_b: mean.as_ref().map(|m| m.test.auroc_b),
        auroc_diff: mean.as_ref().map(|m| m.test.difference()),
        delong_z: mean.as_ref().map(|m| m.test.z),
        delong_p: mean.as_ref().map(|m| m.test.p_value),
        boot_low: boot.map(|b| b.interval.low),
        boot_high: boot.map(|b| b.interval.high),
        boot_replicates: boot.map(|b| b.replicates as i64),
        ..base.clone()
    }];
    for (k, finding) in paired.findings.iter().enumerate() {
        let c = paired.column(k, 0..paired.films());
        let test = delong_test(&c.a, &c.b, &c.truth);
        let auroc = |s: &[f64]| cxr_metrics::auroc(s, &c.truth);
        rows.push(AurocComparison {
            metric: AUROC.into(),
            finding: Some(finding.clone()),
            findings: 1,
            positives: Some(c.truth.iter().filter(|&&t| t).count() as i64),
            auroc_a: auroc(&c.a),
            auroc_b: auroc(&c.b),
            auroc_diff: auroc(&c.a).zip(auroc(&c.b)).map(|(x, y)| x - y),
            delong_z: test.map(|t| t.z),
            delong_p: test.map(|t| t.p_value),
            ..base.clone()
        });
    }
    rows
}

/// `+0.031`, or `-` when absent.
pub(crate) fn signed(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:+.3}"))
}

/// `+0.031 (-0.010 to +0.070)`.
pub fn diff_with_interval(row: &AurocComparison) -> String {
    match row.interval() {
        Some((lo, hi)) => format!(
            "{} ({} to {})",
            signed(row.auroc_diff),
            signed(Some(lo)),
            signed(Some(hi))
        ),
        None => signed(row.auroc_diff),
    }
}

/// DeLong's p as the tables write it, `-` when undefined.
pub fn p_text(p: Option<f64>) -> String {
    p.map_or_else(|| "-".into(), format_p)
}

/// A facet's AUROC comparisons: the mean-AUROC table, then DeLong's test per finding with a
/// column per comparison.
pub fn render_table(md: &mut String, rows: &[AurocComparison]) {
    let means: Vec<&AurocComparison> = rows.iter().filter(|r| r.metric == MEAN_AUROC).collect();
    if means.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "### Paired AUROC comparisons\n\n\
         Each row is configuration A minus configuration B on the test films both answered, \
         runs paired by seed (and fold) and pooled over the pairs: the mean AUROC over the \
         findings with two positive and two negative films, its difference with the 95% \
         bootstrap interval that resamples patients, and DeLong's test of the difference of \
         the means (correlated findings on one film included). All rows: \
         `comparisons.parquet` (`metric` = `mean_auroc` or `auroc`).\n"
    );
    let _ = writeln!(
        md,
        "| A | B | pairs | films | patients | findings | mean AUROC A | mean AUROC B | difference (95% patient bootstrap) | DeLong p | verdict |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &means {
        let _ = writeln!(
            md,
            "| {} f{} | {} f{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.a_model,
            r.a_freeze,
            r.b_model,
            r.b_freeze,
            r.pairs,
            r.images,
            r.patients,
            r.findings,
            crate::numbers::opt(r.auroc_a, 3),
            crate::numbers::opt(r.auroc_b, 3),
            diff_with_interval(r),
            p_text(r.delong_p),
            r.verdict()
        );
    }
    md.push('\n');
    let findings = crate::order::first_seen(rows.iter().filter_map(|r| r.finding.clone()));
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "Per finding, AUROC of A minus B with DeLong's p (no correction for testing {} \
         findings):\n",
        findings.len()
    );
    let mut header = String::from("| finding |");
    for r in &means {
        let _ = write!(
            header,
            " {} f{} - {} f{} |",
            r.a_model, r.a_freeze, r.b_model, r.b_freeze
        );
    }
    let _ = writeln!(md, "{header}\n|---|{}", "---|".repeat(means.len()));
    for finding in &findings {
        let mut line = format!("| {finding} |");
        for m in &means {
            let row = rows
                .iter()
                .find(|r| r.finding.as_deref() == Some(finding.as_str()) && same_comparison(r, m));
            let cell = row.map_or_else(
                || "-".into(),
                |r| format!("{} (p {})", signed(r.auroc_diff), p_text(r.delong_p)),
            );
            let _ = write!(line, " {cell} |");
        }
        let _ = writeln!(md, "{line}");
    }
    md.push('\n');
}

/// Whether two rows compare the same two configurations.
fn same_comparison(x: &AurocComparison, y: &AurocComparison) -> bool {
    (
        &x.facet, &x.kind, &x.a_model, x.a_freeze, &x.b_model, x.b_freeze,
    ) == (
        &y.facet, &y.kind, &y.a_model, y.a_freeze, &y.b_model, y.b_freeze,
    )
}

/// The runs of `configuration` pooled per seed: the pairs of the split-leak comparison.
pub(crate) fn seed_pools<'a>(runs: &[&'a RunResults]) -> Vec<(i64, Vec<&'a RunResults>)> {
    crate::order::first_seen(runs.iter().map(|r| r.summary.seed))
        .into_iter()
        .map(|seed| {
            (
                seed,
                runs.iter()
                    .copied()
                    .filter(|r| r.summary.seed == seed)
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_need_both_tests_on_the_mean_and_delong_alone_per_finding() {
        let row = |p: f64, interval: Option<(f64, f64)>| AurocComparison {
            delong_p: Some(p),
            boot_low: interval.map(|i| i.0),
            boot_high: interval.map(|i| i.1),
            ..AurocComparison::default()
        };
        assert_eq!(row(0.01, Some((0.02, 0.1))).verdict(), "different");
        assert_eq!(row(0.01, Some((-0.01, 0.1))).verdict(), "tests disagree");
        assert_eq!(row(0.2, Some((0.02, 0.1))).verdict(), "tests disagree");
        assert_eq!(row(0.2, Some((-0.01, 0.1))).verdict(), "not separated");
        assert_eq!(row(0.01, None).verdict(), "different");
        assert_eq!(row(0.2, None).verdict(), "not separated");
        let undefined = AurocComparison::default();
        assert_eq!(undefined.verdict(), "not separated");
    }
}
