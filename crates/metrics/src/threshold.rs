//! Turning one finding's score into a call: the threshold chosen on validation films by Youden's
//! J, and the counts, sensitivity, specificity and precision at a threshold.
//!
//! A film is called positive when `score >= threshold` (the convention of [`crate::roc_curve`]).
//! Youden's J is `sensitivity + specificity - 1` (Youden 1950, "Index for rating diagnostic
//! tests", Cancer 3:32-35): the vertical distance of a ROC point above the diagonal.
//! [`youden_threshold`] tries every distinct score as the threshold and keeps the one with the
//! largest J; among thresholds with equal J it keeps the *highest* (fewest positive calls), so
//! the choice is deterministic and does not depend on the films' order. J is compared as the
//! exact integer `tp n - fp m` (over `m n`), so equal J are equal, not merely close.
//!
//! NaN scores give `None`, as in [`crate::auroc`](mod@crate::auroc).

/// The confusion counts of one finding at one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdStats {
    /// Films with `score >= threshold` are called positive.
    pub threshold: f64,
    /// Positive films called positive.
    pub tp: u64,
    /// Negative films called positive.
    pub fp: u64,
    /// Negative films called negative.
    pub tn: u64,
    /// Positive films called negative.
    pub fn_: u64,
}

impl ThresholdStats {
    /// Counts of `scores` against `positive` at `threshold`; `None` when the lengths differ, the
    /// input is empty, or a score (or the threshold) is NaN.
    pub fn at(scores: &[f64], positive: &[bool], threshold: f64) -> Option<Self> {
        if scores.is_empty() || scores.len() != positive.len() || threshold.is_nan() {
            return None;
        }
        if scores.iter().any(|s| s.is_nan()) {
            return None;
        }
        let mut stats = Self {
            threshold,
            tp: 0,
            fp: 0,
            tn: 0,
            fn_: 0,
        };
        for (&s, &p) in scores.iter().zip(positive) {
            match (s >= threshold, p) {
                (true, true) => stats.tp += 1,
                (true, false) => stats.fp += 1,
                (false, false) => stats.tn += 1,
                (false, true) => stats.fn_ += 1,
            }
        }
        Some(stats)
    }

    /// Sensitivity (recall), `tp / (tp + fn)`; `None` without positive films.
    pub fn sensitivity(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fn_)
    }

    /// Specificity, `tn / (tn + fp)`; `None` without negative films.
    pub fn specificity(&self) -> Option<f64> {
        ratio(self.tn, self.tn + self.fp)
    }

    /// Precision (positive predictive value), `tp / (tp + fp)`; `None` when nothing is called
    /// positive.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// Youden's J, `sensitivity + specificity - 1`; `None` without films of both classes.
    pub fn youden_j(&self) -> Option<f64> {
        Some(self.sensitivity()? + self.specificity()? - 1.0)
    }
}

/// The threshold with the largest Youden's J among the distinct scores, ties to the highest
/// threshold, with its counts; `None` when a class is absent, a score is NaN, or the lengths
/// differ.
pub fn youden_threshold(scores: &[f64], positive: &[bool]) -> Option<ThresholdStats> {
    let (m, n) = crate::ranked::checked_counts(scores, positive)?;
    let (m, n) = (m as u64, n as u64);
    // Walk thresholds from the highest down; a later (lower) threshold must beat J strictly.
    let mut best: Option<(i128, f64, u64, u64)> = None;
    for step in crate::ranked::steps(scores, positive) {
        // J * m * n, exact in integers.
        let (tp, fp) = (step.tp, step.fp);
        let j = i128::from(tp) * i128::from(n) - i128::from(fp) * i128::from(m);
        if best.is_none_or(|(b, ..)| j > b) {
            best = Some((j, step.threshold, tp, fp));
        }
    }
    let (_, threshold, tp, fp) = best?;
    Some(ThresholdStats {
        threshold,
        tp,
        fp,
        tn: n - fp,
        fn_: m - tp,
    })
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}
