//! DeLong's test for two correlated AUROCs measured on the same films (DeLong, DeLong &
//! Clarke-Pearson 1988, "Comparing the areas under two or more correlated receiver operating
//! characteristic curves: a nonparametric approach", Biometrics 44:837-845), and the DeLong
//! variance and interval of one AUROC.
//!
//! The AUROC `A` is a two-sample U-statistic (see [`crate::auroc`](mod@crate::auroc)). Its
//! structural components, or placement values, are per film:
//!
//! ```text
//! V10(x_i) = 1/n * sum_j psi(x_i, y_j)    for each of the m positive films
//! V01(y_j) = 1/m * sum_i psi(x_i, y_j)    for each of the n negative films
//! ```
//!
//! so that `A = mean_i V10(x_i) = mean_j V01(y_j)`. With `S10` and `S01` the sample variances
//! (divisor `m - 1`, `n - 1`) of `V10` and `V01`, DeLong's variance is `Var(A) = S10/m +
//! S01/n`; for two scores `a` and `b` of the same films, the covariance is `S10(a,b)/m +
//! S01(a,b)/n` with the sample covariances of their components. The difference then has
//! `Var(A_a - A_b) = Var(A_a) + Var(A_b) - 2 Cov(A_a, A_b)`, `z = (A_a - A_b) / sqrt(that)`,
//! and the two-sided `p = 2 Phi(-|z|)`.
//!
//! Each film's share of these sums is its *influence*, `(V10(x_i) - A) / sqrt(m (m - 1))` for a
//! positive film and `(V01(y_j) - A) / sqrt(n (n - 1))` for a negative one: `Var(A)` is the
//! sum of squared influences and `Cov(A_a, A_b)` the sum of their products. The mean over
//! findings ([`crate::delong_mean`]) is built from the same influences.
//!
//! The test treats films as independent. Films of one patient are not; the patient bootstrap
//! ([`crate::group_bootstrap`](mod@crate::group_bootstrap)) is the comparison that respects that.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::bootstrap::Interval;
use crate::ranked::checked_counts;

/// The placement values (structural components) of one score against binary labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Placements {
    /// The AUROC, the mean of either list.
    pub auroc: f64,
    /// `V10` of each positive film, in film order.
    pub v10: Vec<f64>,
    /// `V01` of each negative film, in film order.
    pub v01: Vec<f64>,
}

impl Placements {
    /// Placement values of `scores` for the films marked `positive`, by sorting and binary
    /// search (`O((m + n) log(m + n))`); `None` when either class is absent, a score is NaN, or
    /// the lengths differ.
    pub fn new(scores: &[f64], positive: &[bool]) -> Option<Self> {
        let (m, n) = checked_counts(scores, positive)?;
        let mut xs: Vec<f64> = Vec::with_capacity(m);
        let mut ys: Vec<f64> = Vec::with_capacity(n);
        for (&s, &p) in scores.iter().zip(positive) {
            if p {
                xs.push(s);
            } else {
                ys.push(s);
            }
        }
        // Film order is kept in the output; the sorted copies only answer "how many below".
        let (films_x, films_y) = (xs.clone(), ys.clone());
        xs.sort_by(f64::total_cmp);
        ys.sort_by(f64::total_cmp);
        // Below plus half of the ties, as a fraction of the other class.
        let share = |sorted: &[f64], v: f64| {
            let below = sorted.partition_point(|&o| o < v);
            let not_above = sorted.partition_point(|&o| o <= v);
            (below as f64 + 0.5 * (not_above - below) as f64) / sorted.len() as f64
        };
        let v10: Vec<f64> = films_x.iter().map(|&x| share(&ys, x)).collect();
        let v01: Vec<f64> = films_y.iter().map(|&y| 1.0 - share(&xs, y)).collect();
        let auroc = v10.iter().sum::<f64>() / m as f64;
        Some(Self { auroc, v10, v01 })
    }

    /// Each film's influence on the AUROC, in the order of `positive` (see the module doc);
    /// `None` with fewer than two films of a class, where DeLong's variance is undefined.
    pub fn influence(&self, positive: &[bool]) -> Option<Vec<f64>> {
        let (m, n) = (self.v10.len(), self.v01.len());
        if m < 2 || n < 2 || positive.len() != m + n {
            return None;
        }
        let scale_x = ((m * (m - 1)) as f64).sqrt();
        let scale_y = ((n * (n - 1)) as f64).sqrt();
        let (mut x, mut y) = (self.v10.iter(), self.v01.iter());
        positive
            .iter()
            .map(|&p| {
                if p {
                    x.next().map(|v| (v - self.auroc) / scale_x)
                } else {
                    y.next().map(|v| (v - self.auroc) / scale_y)
                }
            })
            .collect()
    }
}

/// DeLong's variance of the AUROC of `scores`, `S10/m + S01/n`; `None` where [`Placements`]
/// is, or with fewer than two films of a class.
pub fn auroc_variance(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let influence = Placements::new(scores, positive)?.influence(positive)?;
    Some(influence.iter().map(|i| i * i).sum())
}

/// The 95% DeLong interval of the AUROC, `A -/+ Phi^-1(0.975) sqrt(Var(A))`, clipped to
/// `[0, 1]` (as pROC's `ci.auc` does); `None` where [`auroc_variance`] is.
pub fn auroc_interval(scores: &[f64], positive: &[bool]) -> Option<Interval> {
    let placements = Placements::new(scores, positive)?;
    let variance: f64 = placements.influence(positive)?.iter().map(|i| i * i).sum();
    let half = standard_normal().inverse_cdf(0.975) * variance.sqrt();
    Some(Interval {
        low: (placements.auroc - half).max(0.0),
        high: (placements.auroc + half).min(1.0),
    })
}

/// DeLong's comparison of two AUROCs on the same films: `a` minus `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeLong {
    /// AUROC of `a`.
    pub auroc_a: f64,
    /// AUROC of `b`.
    pub auroc_b: f64,
    /// DeLong variance of `a`'s AUROC.
    pub variance_a: f64,
    /// DeLong variance of `b`'s AUROC.
    pub variance_b: f64,
    /// DeLong covariance of the two AUROCs.
    pub covariance: f64,
    /// `(auroc_a - auroc_b) / sqrt(variance_a + variance_b - 2 covariance)`; 0 when both the
    /// difference and its variance are 0, infinite when only the variance is.
    pub z: f64,
    /// Two-sided p-value, `2 Phi(-|z|)`.
    pub p_value: f64,
}

impl DeLong {
    /// `auroc_a - auroc_b`.
    pub fn difference(&self) -> f64 {
        self.auroc_a - self.auroc_b
    }

    /// From two influence vectors over the same films.
    pub(crate) fn from_influence(auroc_a: f64, auroc_b: f64, ia: &[f64], ib: &[f64]) -> Self {
        let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(x, y)| x * y).sum::<f64>();
        // Summing squared differences keeps the variance of the difference non-negative,
        // where va + vb - 2 cov can round below zero for near-identical scores.
        let variance: f64 = ia.iter().zip(ib).map(|(x, y)| (x - y) * (x - y)).sum();
        let (z, p_value) = z_test(auroc_a - auroc_b, variance);
        Self {
            auroc_a,
            auroc_b,
            variance_a: dot(ia, ia),
            variance_b: dot(ib, ib),
            covariance: dot(ia, ib),
            z,
            p_value,
        }
    }
}

/// DeLong's test of `a`'s AUROC against `b`'s, both scoring the same films marked `positive`;
/// `None` where [`auroc_variance`] is for either score.
pub fn delong_test(a: &[f64], b: &[f64], positive: &[bool]) -> Option<DeLong> {
    let pa = Placements::new(a, positive)?;
    let pb = Placements::new(b, positive)?;
    let ia = pa.influence(positive)?;
    let ib = pb.influence(positive)?;
    Some(DeLong::from_influence(pa.auroc, pb.auroc, &ia, &ib))
}

/// `(z, two-sided p)` of `difference` with `variance`.
fn z_test(difference: f64, variance: f64) -> (f64, f64) {
    let z = if variance > 0.0 {
        difference / variance.sqrt()
    } else if difference == 0.0 {
        0.0
    } else {
        difference.signum() * f64::INFINITY
    };
    (z, 2.0 * standard_normal().cdf(-z.abs()))
}

fn standard_normal() -> Normal {
    Normal::standard()
}
