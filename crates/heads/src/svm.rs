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
//! The voting is done here; a tie goes to the lowest class, as in libsvm. So is the prediction
//! itself: each pair keeps the numbers linfa-svm's `Svm` would predict with (its hyperplane for
//! the linear kernel, its support vectors and signed duals for the RBF one, and `rho`) and
//! computes the decision value with the same operations in the same order, so a head saved to
//! a file and loaded again decides every film as the fitted model did (the tests compare both
//! bit for bit).
//!
//! Probabilities are libsvm's (`-b 1`): a Platt sigmoid per pair, `P(positive | f) = 1 / (1 +
//! exp(A f + B))`, fitted on the decision values of the pair's validation films (linfa's
//! `platt_newton_method`, Lin, Lin and Weng's Newton method with libsvm's defaults), then the
//! pairwise probabilities coupled into one distribution per film ([`crate::coupling`]).

use std::collections::{BTreeMap, BTreeSet};

use linfa::composing::platt_scaling::{platt_newton_method, platt_predict, PlattParams};
use linfa::dataset::Dataset;
use linfa::traits::Fit;
use linfa::ParamGuard;
use linfa_svm::Svm;
use ndarray::{Array1, Array2, ArrayView1};

use crate::coupling::couple;
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

impl SvmKernel {
    /// linfa's Gaussian kernel is `exp(-|a - b|^2 / eps)`: the `eps` it is given.
    fn eps(gamma: f64) -> f64 {
        1.0 / gamma
    }
}

/// The SVM between two classes: a decision value `>= 0` votes for `positive`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PairSvm {
    pub(crate) negative: u32,
    pub(crate) positive: u32,
    /// `(row into SvmModel::support_vectors, signed dual)` of the pair's support vectors, in
    /// training order.
    pub(crate) duals: Vec<(usize, f64)>,
    /// The bias: decision value = `sum_i dual_i K(sv_i, x) - rho`.
    pub(crate) rho: f64,
    /// The linear kernel's hyperplane, `sum_i dual_i sv_i` summed as linfa-svm sums it (over
    /// every training row of the pair); empty for the RBF kernel.
    pub(crate) weights: Vec<f64>,
    /// Platt's `(A, B)` fitted on validation ([`SvmModel::calibrate`]); `None` before.
    pub(crate) platt: Option<(f64, f64)>,
}

/// A fitted one-vs-one SVM.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SvmModel {
    pub(crate) kernel: SvmKernel,
    pub(crate) pairs: Vec<PairSvm>,
    /// Distinct training rows that are a support vector of some pair, in training order,
    /// `rows x features` (standardised).
    pub(crate) support_vectors: Array2<f64>,
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
        let mut fitted = Vec::new();
        let mut support = BTreeSet::new();
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
                    SvmKernel::Rbf { gamma } => parameters.gaussian_kernel(SvmKernel::eps(gamma)),
                };
                let model = parameters
                    .fit(&Dataset::new(records.clone(), targets))
                    .map_err(|e| e.to_string())?;
                if !model.rho.is_finite() || model.alpha.iter().any(|a| !a.is_finite()) {
                    return Err("the SVM solver returned a non-finite coefficient".to_string());
                }
                let duals: Vec<(usize, f64)> = rows
                    .iter()
                    .zip(&model.alpha)
                    .filter(|(_, dual)| dual.abs() > ZERO_DUAL)
                    .map(|(&row, &dual)| (row, dual))
                    .collect();
                support.extend(duals.iter().map(|&(row, _)| row));
                let weights = match kernel {
                    // linfa-svm's hyperplane (src/solver_smo.rs): a zero vector to which every
                    // training row of the pair is added, scaled by its signed dual.
                    SvmKernel::Linear => {
                        let mut w = Array1::<f64>::zeros(x.ncols());
                        for (row, &dual) in records.outer_iter().zip(&model.alpha) {
                            w.scaled_add(dual, &row);
                        }
                        w.to_vec()
                    }
                    SvmKernel::Rbf { .. } => Vec::new(),
                };
                fitted.push((negative, positive, duals, model.rho, weights));
            }
        }
        // Training rows to rows of the support-vector matrix (ascending, so each pair's
        // support vectors stay in training order).
        let support: Vec<usize> = support.into_iter().collect();
        let position: BTreeMap<usize, usize> = support
            .iter()
            .enumerate()
            .map(|(k, &row)| (row, k))
            .collect();
        let pairs = fitted
            .into_iter()
            .map(|(negative, positive, duals, rho, weights)| PairSvm {
                negative,
                positive,
                duals: duals
                    .into_iter()
                    .map(|(row, dual)| (position[&row], dual))
                    .collect(),
                rho,
                weights,
                platt: None,
            })
            .collect();
        Ok(Self {
            kernel,
            pairs,
            support_vectors: x.select(ndarray::Axis(0), &support),
        })
    }

    /// Each pair's decision value for each standardised row, `rows x pairs`.
    pub(crate) fn decisions(&self, features: &Matrix) -> Result<Vec<Vec<f64>>, String> {
        let x = to_array(features)?;
        Ok(x.outer_iter()
            .map(|row| self.pairs.iter().map(|p| self.decision(p, row)).collect())
            .collect())
    }

    /// linfa-svm's `weighted_sum(x) - rho`, computed as it computes it.
    fn decision(&self, pair: &PairSvm, x: ArrayView1<'_, f64>) -> f64 {
        let sum = match self.kernel {
            SvmKernel::Linear => {
                let w = ArrayView1::from(&pair.weights[..]);
                (&w * &x).sum()
            }
            SvmKernel::Rbf { gamma } => {
                let eps = SvmKernel::eps(gamma);
                pair.duals
                    .iter()
                    .map(|&(k, dual)| {
                        let sv = self.support_vectors.row(k);
                        let distance = sv
                            .iter()
                            .zip(x.iter())
                            .map(|(a, b)| (*a - *b) * (*a - *b))
                            .sum::<f64>();
                        (-distance / eps).exp() * dual
                    })
                    .sum()
            }
        };
        sum - pair.rho
    }

    /// The majority vote of the pairwise SVMs for each standardised row; a tie goes to the
    /// lowest class.
    pub(crate) fn predict(&self, features: &Matrix) -> Result<Vec<u32>, String> {
        Ok(self
            .decisions(features)?
            .iter()
            .map(|row| {
                let mut votes = BTreeMap::<u32, usize>::new();
                for (pair, &value) in self.pairs.iter().zip(row) {
                    let class = if value >= 0.0 {
                        pair.positive
                    } else {
                        pair.negative
                    };
                    *votes.entry(class).or_default() += 1;
                }
                winner(&votes)
            })
            .collect())
    }

    /// Fits each pair's Platt sigmoid on the decision values of the validation rows of its two
    /// classes (standardised `features`, `labels`). A pair without a validation row of either
    /// class keeps `A = -1, B = 0`, the plain logistic of its decision value.
    pub(crate) fn calibrate(&mut self, features: &Matrix, labels: &[u32]) -> Result<(), String> {
        let decisions = self.decisions(features)?;
        let params = PlattParams::<f64, ()>::default()
            .check()
            .map_err(|e| e.to_string())?;
        for (k, pair) in self.pairs.iter_mut().enumerate() {
            let (values, targets): (Vec<f64>, Vec<bool>) = labels
                .iter()
                .zip(&decisions)
                .filter(|(&l, _)| l == pair.negative || l == pair.positive)
                .map(|(&l, row)| (row[k], l == pair.positive))
                .unzip();
            pair.platt = Some(if values.is_empty() {
                (-1.0, 0.0)
            } else {
                platt_newton_method(
                    Array1::from(values).view(),
                    Array1::from(targets).view(),
                    &params,
                )
                .map_err(|e| {
                    format!(
                        "Platt scaling of {} vs {}: {e}",
                        pair.negative, pair.positive
                    )
                })?
            });
        }
        Ok(())
    }

    /// Class probabilities of each standardised row, `rows x classes` row-major: the pairs'
    /// Platt probabilities coupled (classes absent from training get 0). `None` before
    /// [`SvmModel::calibrate`].
    pub(crate) fn probabilities(
        &self,
        features: &Matrix,
        classes: usize,
    ) -> Result<Option<Vec<f32>>, String> {
        let Some(platt) = self
            .pairs
            .iter()
            .map(|p| p.platt)
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(None);
        };
        let present: Vec<u32> = self
            .pairs
            .iter()
            .flat_map(|p| [p.negative, p.positive])
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index = |class: u32| present.iter().position(|&c| c == class).unwrap_or(0);
        let n = present.len();
        let mut out = Vec::with_capacity(features.rows() * classes);
        for row in self.decisions(features)? {
            // r[i][j]: probability that class i beats class j.
            let mut r = vec![vec![0.0f64; n]; n];
            for ((pair, &(a, b)), &value) in self.pairs.iter().zip(&platt).zip(&row) {
                let p = f64::from(*platt_predict(value, a, b)).clamp(MIN_PROB, 1.0 - MIN_PROB);
                let (i, j) = (index(pair.positive), index(pair.negative));
                r[i][j] = p;
                r[j][i] = 1.0 - p;
            }
            let coupled = couple(&r);
            let mut full = vec![0.0f32; classes];
            for (&class, p) in present.iter().zip(coupled) {
                if let Some(slot) = full.get_mut(class as usize) {
                    *slot = p as f32;
                }
            }
            out.extend(full);
        }
        Ok(Some(out))
    }

    /// Values a kernel SVM holds (libsvm's and scikit-learn's `support_vectors_`, nonzero
    /// `dual_coef_`, `intercept_`): distinct support vectors x features, plus one dual
    /// coefficient per (pair, support vector of that pair), plus one bias per pair. The same
    /// count for the linear kernel, so both SVMs compare on the same terms (linfa-svm itself
    /// folds a linear SVM into one weight vector per pair).
    pub(crate) fn parameter_count(&self) -> usize {
        let duals: usize = self.pairs.iter().map(|p| p.duals.len()).sum();
        self.support_vectors.len() + duals + self.pairs.len()
    }
}

/// libsvm clips each pairwise probability to `[1e-7, 1 - 1e-7]` before coupling
/// (`svm_predict_probability`, `min_prob`).
const MIN_PROB: f64 = 1e-7;

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

pub(crate) fn to_array(m: &Matrix) -> Result<Array2<f64>, String> {
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
            let sv = model.support_vectors.nrows();
            assert!((3..=x.rows()).contains(&sv), "{kernel:?}: {sv}");
            let duals: usize = model.pairs.iter().map(|p| p.duals.len()).sum();
            assert!(duals >= 6 && duals >= sv, "{kernel:?}: {duals}");
            assert_eq!(model.parameter_count(), sv * 2 + duals + 3);
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
