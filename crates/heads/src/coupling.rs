//! [`couple`]: one probability per class from pairwise ones, as libsvm does for its
//! one-vs-one SVMs.
//!
//! Method 2 of Wu, Lin and Weng, "Probability Estimates for Multi-class Classification by
//! Pairwise Coupling", JMLR 5 (2004) 975-1005: the `p` minimising
//! `sum_i sum_{j != i} (r_ji p_i - r_ij p_j)^2` subject to `sum p = 1`, `p >= 0`, found by the
//! fixed-point iteration of their section 4 (libsvm's `multiclass_probability`: at most
//! `max(100, k)` sweeps, stopping when every `|(Qp)_t - p^T Q p|` is below `0.005 / k`).
//! No Rust library implements it.

/// The class probabilities coupled from `r`, where `r[i][j]` is the probability that class
/// `i` beats class `j` (`r[i][j] + r[j][i] = 1`; the diagonal is ignored). Sums to 1.
pub(crate) fn couple(r: &[Vec<f64>]) -> Vec<f64> {
    let k = r.len();
    match k {
        0 => return Vec::new(),
        1 => return vec![1.0],
        2 => return vec![r[0][1], r[1][0]],
        _ => {}
    }
    // Q[t][t] = sum_{j != t} r_jt^2, Q[t][j] = -r_jt r_tj.
    let mut q = vec![vec![0.0f64; k]; k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t][t] += r[j][t] * r[j][t];
                q[t][j] = -r[j][t] * r[t][j];
            }
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let max_iterations = k.max(100);
    let eps = 0.005 / k as f64;
    for _ in 0..max_iterations {
        let mut qp: Vec<f64> = (0..k)
            .map(|t| (0..k).map(|j| q[t][j] * p[j]).sum())
            .collect();
        let mut pqp: f64 = (0..k).map(|t| p[t] * qp[t]).sum();
        if qp.iter().all(|&v| (v - pqp).abs() < eps) {
            break;
        }
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairwise probabilities that are exactly those of a distribution `p`:
    /// `r_ij = p_i / (p_i + p_j)` (Bradley-Terry). Coupling recovers `p`.
    #[test]
    fn consistent_pairwise_probabilities_give_back_their_distribution() {
        let p = [0.5, 0.3, 0.2];
        let r: Vec<Vec<f64>> = (0..3)
            .map(|i| (0..3).map(|j| p[i] / (p[i] + p[j])).collect())
            .collect();
        let coupled = couple(&r);
        for (a, b) in coupled.iter().zip(p) {
            assert!((a - b).abs() < 1e-3, "{coupled:?}");
        }
        assert!((coupled.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn two_classes_are_the_pair_itself_and_ties_are_uniform() {
        assert_eq!(couple(&[vec![0.0, 0.8], vec![0.2, 0.0]]), vec![0.8, 0.2]);
        let half = vec![vec![0.5; 4]; 4];
        for p in couple(&half) {
            assert!((p - 0.25).abs() < 1e-12);
        }
    }

    /// Wu, Lin and Weng's method 2 minimises `sum_i sum_{j != i} (r_ji p_i - r_ij p_j)^2` on
    /// the simplex: on inconsistent pairwise probabilities no nearby point on the simplex does
    /// better than the coupled one.
    #[test]
    fn the_coupled_distribution_minimises_the_pairwise_objective() {
        let r = vec![
            vec![0.0, 0.9, 0.3],
            vec![0.1, 0.0, 0.6],
            vec![0.7, 0.4, 0.0],
        ];
        let objective = |p: &[f64]| -> f64 {
            let mut total = 0.0;
            for i in 0..3 {
                for j in 0..3 {
                    if i != j {
                        total += (r[j][i] * p[i] - r[i][j] * p[j]).powi(2);
                    }
                }
            }
            total
        };
        let p = couple(&r);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let best = objective(&p);
        for (a, b) in [(0, 1), (0, 2), (1, 2)] {
            for step in [-0.01, 0.01] {
                let mut moved = p.clone();
                moved[a] += step;
                moved[b] -= step;
                assert!(
                    objective(&moved) >= best - 1e-6,
                    "{p:?} moved {a},{b} by {step}"
                );
            }
        }
    }
}
