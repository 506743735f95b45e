//! Area under the ROC curve of one finding, from `f64` scores, and the curve itself for a figure.
//!
//! With `m` positive films scoring `x_1..x_m` and `n` negative films scoring `y_1..y_n`,
//!
//! ```text
//! AUROC = 1/(m n) * sum_i sum_j psi(x_i, y_j),   psi(x, y) = 1 if x > y, 1/2 if x = y, 0 if x < y
//! ```
//!
//! the Mann-Whitney statistic: the probability that a random positive film outscores a random
//! negative one, ties counting one half. It equals the trapezoidal area under [`roc_curve`]'s
//! points. Computed by sorting (`O((m + n) log(m + n))`), through the same placement values
//! DeLong's test uses ([`crate::delong::Placements`]).
//!
//! NaN scores: a NaN is a broken model output, not a film to drop quietly, so every function
//! here returns `None` (or an empty curve) when a score is NaN; infinities are ordinary scores.
//! Scores and labels of different lengths, or no film of one class, give `None` too.

use crate::delong::Placements;
use crate::ranked::{checked_counts, steps};

/// AUROC of `scores` for the films marked `positive` (Mann-Whitney, ties one half); `None` when
/// either class is absent, a score is NaN, or the lengths differ.
pub fn auroc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    Placements::new(scores, positive).map(|p| p.auroc)
}

/// The ROC curve as `(false positive rate, true positive rate, threshold)` points, one per
/// distinct score, a film being called positive when `score >= threshold`. The first point is
/// `(0, 0, +inf)` (nothing called positive), the last `(1, 1, lowest score)`; thresholds
/// decrease along the curve and films with tied scores move it diagonally, so the trapezoidal
/// area under the points is [`auroc`]. Empty when [`auroc`] would be `None`.
pub fn roc_curve(scores: &[f64], positive: &[bool]) -> Vec<(f64, f64, f64)> {
    let Some((m, n)) = checked_counts(scores, positive) else {
        return Vec::new();
    };
    let mut points = vec![(0.0, 0.0, f64::INFINITY)];
    points.extend(
        steps(scores, positive)
            .into_iter()
            .map(|s| (s.fp as f64 / n as f64, s.tp as f64 / m as f64, s.threshold)),
    );
    points
}
