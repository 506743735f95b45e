//! DeLong's test for the mean AUROC over several findings of a multi-label model: two
//! configurations `a` and `b` score the same films, and the headline is the mean over findings
//! of each one's AUROC.
//!
//! # Derivation
//!
//! Finding `k` has its own positive and negative films (a film whose label for `k` is missing is
//! left out of finding `k` only), so its AUROC `A_k` and placement values are those of
//! [`crate::delong`] on that subset. To first order (the Hoeffding projection DeLong's variance
//! rests on) each AUROC is its mean plus a sum over films of that film's centred placement value
//! divided by its class size,
//!
//! ```text
//! A_k - E[A_k] ~ sum_f phi_k(f),   phi_k(f) = (V10_k(f) - A_k)/m_k  if f is positive for k
//!                                             (V01_k(f) - A_k)/n_k  if f is negative for k
//!                                             0                     if k's label is missing
//! ```
//!
//! so the mean difference `D = 1/K sum_k (A_ak - A_bk)` is, to first order, a sum over films of
//! `g(f) = 1/K sum_k (phi_ak(f) - phi_bk(f))`. The films are independent draws (a film's
//! several findings are *not*: they share the film, which is what the cross-finding terms
//! capture), so `Var(D) = sum_f Var(g(f))`, estimated by `sum_f g(f)^2`: each finding's
//! components enter once per film, and the covariance between findings `k` and `l` is
//! `sum_f phi_k(f) phi_l(f)` over the films labelled for both. Using DeLong's small-sample
//! scaling `sqrt(m (m - 1))` in place of `m` (the influences of [`Placements::influence`]) makes
//! the estimate *exactly* DeLong's when `K = 1`:
//!
//! ```text
//! Var(D) = 1/K^2 sum_f ( sum_k (I_ak(f) - I_bk(f)) )^2
//!        = 1/K^2 sum_k sum_l [ C(A_ak, A_al) + C(A_bk, A_bl) - C(A_ak, A_bl) - C(A_bk, A_al) ]
//!
//! C(A_k, A_l) = sum_f I_k(f) I_l(f)     (DeLong's covariance when k and l share their films)
//! ```
//!
//! With no film labelled for two findings, the cross terms vanish and `Var(D)` is the mean of
//! the per-finding DeLong variances divided by `K`. `z = D / sqrt(Var(D))`, two-sided `p = 2
//! Phi(-|z|)`, as for one finding.
//!
//! A finding enters the mean only when both configurations' DeLong variances are defined on it:
//! at least two positive and two negative labelled films. The findings used are returned.

use crate::delong::{DeLong, Placements};

/// DeLong's test of the mean AUROC over findings, `a` minus `b`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeLongMean {
    /// The findings averaged (column indices), those with two films of each class.
    pub findings: Vec<usize>,
    /// The mean AUROCs (`auroc_a`, `auroc_b`), the variances of each mean and their covariance,
    /// `z` and the two-sided p of the difference of the means.
    pub test: DeLong,
}

/// DeLong's test of `a`'s mean AUROC over findings against `b`'s. `a`, `b` and `labels` are
/// row-major `films x findings` (film `i`'s values at `i * findings..(i + 1) * findings`);
/// `labels` is `None` where a film's label for a finding is missing (or uncertain and ignored).
/// `None` when the shapes disagree, a labelled film's score is NaN, or no finding has two films
/// of each class.
pub fn delong_mean_test(
    a: &[f64],
    b: &[f64],
    labels: &[Option<bool>],
    findings: usize,
) -> Option<DeLongMean> {
    if findings == 0 || labels.is_empty() || !labels.len().is_multiple_of(findings) {
        return None;
    }
    if a.len() != labels.len() || b.len() != labels.len() {
        return None;
    }
    let labelled = |k: usize| {
        (k..labels.len())
            .step_by(findings)
            .filter(|&j| labels[j].is_some())
    };
    let nan_where_labelled = (labels.iter().zip(a).zip(b))
        .any(|((label, x), y)| label.is_some() && (x.is_nan() || y.is_nan()));
    if nan_where_labelled {
        return None;
    }
    let films = labels.len() / findings;
    // Per film, the sum over used findings of each configuration's influence.
    let (mut ga, mut gb) = (vec![0.0; films], vec![0.0; films]);
    let (mut sum_a, mut sum_b) = (0.0, 0.0);
    let mut used = Vec::new();
    for k in 0..findings {
        let cells: Vec<usize> = labelled(k).collect();
        let positive: Vec<bool> = cells.iter().map(|&j| labels[j] == Some(true)).collect();
        let sa: Vec<f64> = cells.iter().map(|&j| a[j]).collect();
        let sb: Vec<f64> = cells.iter().map(|&j| b[j]).collect();
        let (Some(pa), Some(pb)) = (
            Placements::new(&sa, &positive),
            Placements::new(&sb, &positive),
        ) else {
            continue;
        };
        let (Some(ia), Some(ib)) = (pa.influence(&positive), pb.influence(&positive)) else {
            continue;
        };
        for ((&j, x), y) in cells.iter().zip(ia).zip(ib) {
            ga[j / findings] += x;
            gb[j / findings] += y;
        }
        sum_a += pa.auroc;
        sum_b += pb.auroc;
        used.push(k);
    }
    if used.is_empty() {
        return None;
    }
    let count = used.len() as f64;
    for g in ga.iter_mut().chain(gb.iter_mut()) {
        *g /= count;
    }
    Some(DeLongMean {
        findings: used,
        test: DeLong::from_influence(sum_a / count, sum_b / count, &ga, &gb),
    })
}
