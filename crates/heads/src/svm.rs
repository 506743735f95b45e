//! [`SvmModel`]: the SVM heads, one linfa-svm binary SVC per pair of training classes
//! (one-vs-one, as libsvm and scikit-learn's `SVC`), predicting by majority vote.
//!
//! linfa-svm, not smartcore: linfa-svm ports libsvm's SMO solver (second-order working-set
//! selection) and stops when the largest KKT violation is below `eps`, here libsvm's default
//! tolerance 1e-3, so every fit is a converged one; it has no randomness. smartcore 0.7's SVC
//! was tried first and drops out for four reasons:
//!
//! - It does not converge: its LaSVM makes a fixed number of passes (2) and then at most one
//!   SMO step per support vector. On three separable 20-d clusters, `c = 0.1`,
//!   `gamma_scale = 0.1` classified a third right; repeating with up to 256 passes left a KKT
//!   gap of 1.5 (libsvm stops at 1e-3), and on overlapping clusters `c = 10` stayed at 1e-2.
//! - Its optimizer keeps only the first `rows` values of each training row
//!   (`x.extend(self.x.get_row(i).iterator(0).take(n).copied())`, src/svm/svc.rs, `n` the
//!   number of rows): with more features than training rows (ResNet50's 2048 against ~630
//!   images) predicting panics.
//! - It recomputes every kernel value from fresh copies of both rows: 7.5 s per linear and
//!   13.6 s per RBF candidate on 630 x 512 x 3, against 0.3 to 0.7 s here.
//! - `MultiClassSVC::predict` breaks vote ties in `HashMap` order, seeded randomly per process.
//!
//! The voting is done here; a tie goes to the lowest class, as in libsvm.

use std::collections::{BTreeMap, BTreeSet};

use linfa::dataset::Dataset;
use linfa::traits::{Fit, Predict};
use linfa_svm::Svm;
use ndarray::{Array1, Array2};

use crate::matrix::Matrix;

/// libsvm's (and scikit-learn's) default stopping tolerance on the KKT violation.
const TOLERANCE: f64 = 1e-3;

/// A dual below this is zero: linfa-svm's own support-vector threshold (`Svm::nsupport`).
const ZERO_DUAL: f64 = 100.0 * f64::EPSILON;

/// The kernel of an SVM head, on standardised features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SvmKernel {
    /// `<a, b>`.
    Linear,
    /// `exp(-gamma * |a - b|^2)`.
    Rbf {
        /// Width, `gamma_scale / features`.
        gamma: f64,
    },
}

/// The SVM between two classes; `true` from its prediction votes for `positive`.
struct PairSvm {
    negative: u32,
    positive: u32,
    model: Svm<f64, bool>,
}

/// A fitted one-vs-one SVM.
pub(crate) struct SvmModel {
    pairs: Vec<PairSvm>,
    /// Distinct training rows that are a support vector of some pair.
    support_vectors: usize,
    /// Nonzero dual coefficients over all pairs.
    duals: usize,
    features: usize,
}

impl SvmModel {
    /// Fits one SVM with penalty `c` per pair of classes present in `labels`, on the
    /// standardised training features `train`.
    pub(crate) fn fit(
        train: &Matrix,
        labels: &[u32],
        kernel: SvmKernel,
        c: f64,
    ) -> Result<Self, String> {
        let x = to_array(train)?;
        let classes: Vec<u32> = labels
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut pairs = Vec::new();
        let mut support = BTreeSet::new();
        let mut duals = 0;
        for (a, &negative) in classes.iter().enumerate() {
            for &positive in &classes[a + 1..] {
                let rows: Vec<usize> = (0..labels.len())
                    .filter(|&i| labels[i] == negative || labels[i] == positive)
                    .collect();
                let records = x.select(ndarray::Axis(0), &rows);
                let targets: Array1<bool> = rows.iter().map(|&i| labels[i] == positive).collect();
                let parameters = Svm::<f64, bool>::params()
                    .pos_neg_weights(c, c)
                    .eps(TOLERANCE);
                let parameters = match kernel {
                    SvmKernel::Linear => parameters.linear_kernel(),
                    // linfa's Gaussian kernel is exp(-|a - b|^2 / eps).
                    SvmKernel::Rbf { gamma } => parameters.gaussian_kernel(1.0 / gamma),
                };
                let model = parameters
                    .fit(&Dataset::new(records, targets))
                    .map_err(|e| e.to_string())?;
                for (&row, dual) in rows.iter().zip(&model.alpha) {
                    if dual.abs() > ZERO_DUAL {
                        support.insert(row);
                        duals += 1;
                    }
                }
                if !model.rho.is_finite() || model.alpha.iter().any(|a| !a.is_finite()) {
                    return Err("the SVM solver returned a non-finite coefficient".to_string());
                }
                pairs.push(PairSvm {
                    negative,
                    positive,
                    model,
                });
            }
        }
        Ok(Self {
            pairs,
            support_vectors: support.len(),
            duals,
            features: train.cols(),
        })
    }

    /// The majority vote of the pairwise SVMs for each standardised row; a tie goes to the
    /// lowest class.
    pub(crate) fn predict(&self, features: &Matrix) -> Result<Vec<u32>, String> {
        let x = to_array(features)?;
        let mut votes = vec![BTreeMap::<u32, usize>::new(); features.rows()];
        for pair in &self.pairs {
            let positive: Array1<bool> = pair.model.predict(&x);
            for (tally, &is_positive) in votes.iter_mut().zip(&positive) {
                let class = if is_positive {
                    pair.positive
                } else {
                    pair.negative
                };
                *tally.entry(class).or_default() += 1;
            }
        }
        Ok(votes.iter().map(winner).collect())
    }

    /// Values a kernel SVM holds (libsvm's and scikit-learn's `support_vectors_`, nonzero
    /// `dual_coef_`, `intercept_`): distinct support vectors x features, plus one dual
    /// coefficient per (pair, support vector of that pair), plus one bias per pair. The same
    /// count for the linear kernel, so both SVMs compare on the same terms (linfa-svm itself
    /// folds a linear SVM into one weight vector per pair).
    pub(crate) fn parameter_count(&self) -> usize {
        self.support_vectors * self.features + self.duals + self.pairs.len()
    }
}

/// The class with the most votes; ascending labels and strictly-more-to-replace make the
/// lowest win a tie.
fn winner(votes: &BTreeMap<u32, usize>) -> u32 {
    let mut best = (0, 0);
    for (&class, &n) in votes {
        if n > best.1 {
            best = (class, n);
        }
    }
    best.0
}

fn to_array(m: &Matrix) -> Result<Array2<f64>, String> {
    let values = m.data().iter().map(|&v| f64::from(v)).collect();
    Array2::from_shape_vec((m.rows(), m.cols()), values).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{HeadError, Result};

    /// 0 near x = -2, 1 near x = +2, 2 near y = 3.
    fn three_blobs() -> Result<(Matrix, Vec<u32>)> {
        let points = [
            (-2.0, 0.1, 0),
            (-2.2, -0.1, 0),
            (-1.8, 0.0, 0),
            (2.0, 0.0, 1),
            (2.1, 0.2, 1),
            (1.9, -0.2, 1),
            (0.0, 3.0, 2),
            (0.2, 2.8, 2),
            (-0.2, 3.1, 2),
        ];
        let data = points.iter().flat_map(|&(x, y, _)| [x, y]).collect();
        let labels = points.iter().map(|&(.., c)| c).collect();
        Ok((Matrix::new(points.len(), 2, data)?, labels))
    }

    fn failed(message: String) -> HeadError {
        HeadError::InvalidSearch {
            kind: crate::HeadKind::SvmLinear,
            message,
        }
    }

    #[test]
    fn one_vs_one_votes_and_counts_parameters() -> Result<()> {
        let (x, labels) = three_blobs()?;
        for kernel in [SvmKernel::Linear, SvmKernel::Rbf { gamma: 0.5 }] {
            let model = SvmModel::fit(&x, &labels, kernel, 10.0).map_err(failed)?;
            assert_eq!(model.predict(&x).map_err(failed)?, labels, "{kernel:?}");
            let pairs: Vec<(u32, u32)> = model
                .pairs
                .iter()
                .map(|p| (p.negative, p.positive))
                .collect();
            assert_eq!(pairs, [(0, 1), (0, 2), (1, 2)]);
            // Every pair needs a support vector of each class; a row may serve two pairs.
            let sv = model.support_vectors;
            assert!((3..=x.rows()).contains(&sv), "{kernel:?}: {sv}");
            assert!(
                model.duals >= 6 && model.duals >= sv,
                "{kernel:?}: {}",
                model.duals
            );
            assert_eq!(model.parameter_count(), sv * 2 + model.duals + 3);
        }
        Ok(())
    }

    #[test]
    fn features_may_outnumber_training_rows() -> Result<()> {
        // 4 rows of 10 features, the class in the last one (smartcore's SVC kept only the
        // first 4 features of each row, then panicked predicting).
        let mut data = vec![0.0f32; 40];
        for (i, sign) in [-1.0f32, -1.0, 1.0, 1.0].iter().enumerate() {
            data[i * 10 + 9] = sign * (1.0 + i as f32 * 0.1);
        }
        let x = Matrix::new(4, 10, data)?;
        let labels = [0, 0, 1, 1];
        for kernel in [SvmKernel::Linear, SvmKernel::Rbf { gamma: 0.1 }] {
            let model = SvmModel::fit(&x, &labels, kernel, 1.0).map_err(failed)?;
            assert_eq!(model.predict(&x).map_err(failed)?, labels, "{kernel:?}");
        }
        Ok(())
    }

    #[test]
    fn a_vote_tie_goes_to_the_lowest_class() {
        let tally = |pairs: &[(u32, usize)]| pairs.iter().copied().collect::<BTreeMap<_, _>>();
        assert_eq!(winner(&tally(&[(0, 1), (1, 1), (2, 1)])), 0);
        assert_eq!(winner(&tally(&[(1, 1), (2, 1)])), 1);
        assert_eq!(winner(&tally(&[(0, 1), (2, 2)])), 2);
    }
}
