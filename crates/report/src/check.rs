//! The regression check: each baselined run's test micro-recall now against the baseline, and
//! for a multi-label run its test mean AUROC too (a drop in either beyond the tolerance is a
//! regression). A pure function of the results and the baseline, so every verdict is
//! table-tested.

use std::fmt::Write as _;

use crate::baseline::{key_of, Baseline, RunKey};
use crate::grid_results::{GridResults, RunResults};
use crate::verdict::Verdict;

/// Default allowed drop in micro-recall (and in mean AUROC).
pub const DEFAULT_TOLERANCE: f64 = 0.02;

/// The check's wording of a verdict.
fn label(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ok => "ok",
        Verdict::Improved => "ok (improved; consider --update)",
        Verdict::Regressed => "REGRESSED",
        Verdict::Missing => "MISSING",
        Verdict::Failed => "FAILED",
        Verdict::New => "NEW (no baseline; --allow-new or --update)",
        Verdict::NewAllowed => "new (allowed)",
        // The check never gives it (an interval verdict); worded for completeness.
        Verdict::TooFewSeeds => "fewer than 2 paired seeds",
    }
}

/// One line of the check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    /// Which run.
    pub key: RunKey,
    /// Baseline micro- and macro-recall.
    pub baseline: Option<(f64, f64)>,
    /// Current micro- and macro-recall.
    pub now: Option<(f64, f64)>,
    /// Baseline test mean AUROC (multi-label runs baselined with one).
    pub baseline_auroc: Option<f64>,
    /// Current test mean AUROC (multi-label runs).
    pub now_auroc: Option<f64>,
    /// The verdict: the worse of micro-recall's and, when baselined, mean AUROC's.
    pub verdict: Verdict,
}

impl CheckRow {
    /// Micro-recall now minus baseline.
    pub fn delta(&self) -> Option<f64> {
        Some(self.now?.0 - self.baseline?.0)
    }

    /// Mean AUROC now minus baseline.
    pub fn auroc_delta(&self) -> Option<f64> {
        Some(self.now_auroc? - self.baseline_auroc?)
    }
}

/// The worse of two verdicts on one run: a regression in either fails it; an improvement in
/// either, without a regression, is an improvement.
fn worse(a: Verdict, b: Verdict) -> Verdict {
    match (a, b) {
        (Verdict::Regressed, _) | (_, Verdict::Regressed) => Verdict::Regressed,
        (Verdict::Improved, _) | (_, Verdict::Improved) => Verdict::Improved,
        _ => a,
    }
}

/// All lines of a check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Baselined runs first (in baseline order), then new ones.
    pub rows: Vec<CheckRow>,
    /// Allowed drop.
    pub tolerance: f64,
    /// Autoencoder (pretraining) runs: they have no recall, so the check passes over them.
    pub not_checked: Vec<RunKey>,
}

impl CheckReport {
    /// True when no row fails.
    pub fn passed(&self) -> bool {
        !self.rows.iter().any(|r| r.verdict.fails())
    }

    /// Rows that fail.
    pub fn failures(&self) -> usize {
        self.rows.iter().filter(|r| r.verdict.fails()).count()
    }

    /// The table printed by `cxr check`.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let pair = |v: Option<(f64, f64)>| {
            v.map_or_else(|| "-".to_string(), |(mi, ma)| format!("{mi:.4} / {ma:.4}"))
        };
        let width = self
            .rows
            .iter()
            .map(|r| r.key.to_string().len())
            .max()
            .unwrap_or(3)
            .max(3);
        // Mean AUROC columns only when a run has one: a single-label check prints as before.
        let auroc = self
            .rows
            .iter()
            .any(|r| r.baseline_auroc.is_some() || r.now_auroc.is_some());
        let one = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.4}"));
        let signed = |v: Option<f64>| v.map_or_else(|| "-".into(), |d| format!("{d:+.4}"));
        let _ = write!(
            out,
            "{:<width$}  {:>17}  {:>17}  {:>8}  ",
            "run", "baseline mi / ma", "now mi / ma", "delta"
        );
        if auroc {
            let _ = write!(
                out,
                "{:>10}  {:>9}  {:>8}  ",
                "base AUROC", "now AUROC", "delta"
            );
        }
        let _ = writeln!(out, "verdict");
        for r in &self.rows {
            let _ = write!(
                out,
                "{:<width$}  {:>17}  {:>17}  {:>8}  ",
                r.key.to_string(),
                pair(r.baseline),
                pair(r.now),
                signed(r.delta()),
            );
            if auroc {
                let _ = write!(
                    out,
                    "{:>10}  {:>9}  {:>8}  ",
                    one(r.baseline_auroc),
                    one(r.now_auroc),
                    signed(r.auroc_delta())
                );
            }
            let _ = writeln!(out, "{}", label(r.verdict));
        }
        if !self.not_checked.is_empty() {
            let _ = writeln!(
                out,
                "not checked ({} autoencoder pretraining run(s), no recall): {}",
                self.not_checked.len(),
                self.not_checked
                    .iter()
                    .map(RunKey::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        out
    }
}

/// Compares `results` with `baseline`: a run fails when its micro-recall (or, where the
/// baseline has one, its mean AUROC) is more than `tolerance` below the baseline, when a baselined run is missing or failed, and when a
/// finished run has no baseline (unless `allow_new`). Autoencoder runs are passed over: they
/// have no recall.
pub fn check(
    results: &GridResults,
    baseline: &Baseline,
    tolerance: f64,
    allow_new: bool,
) -> CheckReport {
    let (pretraining, classifiers): (Vec<&RunResults>, Vec<&RunResults>) =
        results.runs.iter().partition(|r| r.is_autoencoder());
    let mut rows = Vec::new();
    for expected in &baseline.runs {
        let key = expected.key();
        let run = classifiers.iter().find(|r| key_of(r) == key);
        let base = Some((expected.micro_recall, expected.macro_recall));
        let unscored = |verdict| CheckRow {
            key: key.clone(),
            baseline: base,
            now: None,
            baseline_auroc: expected.mean_auroc,
            now_auroc: None,
            verdict,
        };
        let row = match run {
            None => unscored(Verdict::Missing),
            Some(r) if !r.ok() => unscored(Verdict::Failed),
            Some(r) => {
                let micro = r.summary.test_micro_recall.unwrap_or(f64::NAN);
                let macro_ = r.summary.test_macro_recall.unwrap_or(f64::NAN);
                let mut verdict = Verdict::of_delta(micro - expected.micro_recall, tolerance);
                if let Some(base_auroc) = expected.mean_auroc {
                    // A run that lost its mean AUROC (NaN delta) regressed.
                    let now = r.summary.test_mean_auroc.unwrap_or(f64::NAN);
                    verdict = worse(verdict, Verdict::of_delta(now - base_auroc, tolerance));
                }
                CheckRow {
                    key: key.clone(),
                    baseline: base,
                    now: Some((micro, macro_)),
                    baseline_auroc: expected.mean_auroc,
                    now_auroc: r.summary.test_mean_auroc,
                    verdict,
                }
            }
        };
        rows.push(row);
    }
    for run in classifiers {
        let key = key_of(run);
        if baseline.runs.iter().any(|b| b.key() == key) {
            continue;
        }
        let now = run
            .summary
            .test_micro_recall
            .zip(run.summary.test_macro_recall);
        rows.push(CheckRow {
            key,
            baseline: None,
            now,
            baseline_auroc: None,
            now_auroc: run.summary.test_mean_auroc,
            verdict: if allow_new {
                Verdict::NewAllowed
            } else {
                Verdict::New
            },
        });
    }
    CheckReport {
        rows,
        tolerance,
        not_checked: pretraining.into_iter().map(key_of).collect(),
    }
}
