//! [`FittedHead`]: one head fitted on standardised training features, predicting from raw ones.

use std::fmt;

use smartcore::algorithm::neighbour::KNNAlgorithmName;
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};
use smartcore::metrics::distance::euclidian::Euclidian;
use smartcore::neighbors::knn_classifier::{KNNClassifier, KNNClassifierParameters};

use crate::error::{one_line, HeadError, Result};
use crate::kind::HeadKind;
use crate::matrix::Matrix;
use crate::search::Hyper;
use crate::standardizer::Standardizer;
use crate::svm::{SvmKernel, SvmModel};

type Logistic = LogisticRegression<f64, u32, DenseMatrix<f64>, Vec<u32>>;
type Forest = RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;
type Knn = KNNClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>, Euclidian<f64>>;

/// The fitted model behind a head.
enum Model {
    Logistic(Logistic),
    Svm(SvmModel),
    Forest(Forest),
    Knn {
        model: Knn,
        /// Training rows it stores.
        rows: usize,
    },
}

/// A head fitted on standardised training features. [`FittedHead::predict`] takes raw
/// (unstandardised) features and standardises them with the training statistics first.
pub struct FittedHead {
    standardizer: Standardizer,
    hyper: Hyper,
    model: Model,
}

/// The training split as every candidate of a search sees it, prepared once.
pub(crate) struct Training {
    /// Statistics of the raw training features.
    pub(crate) standardizer: Standardizer,
    /// The training features, standardised.
    features: Matrix,
    labels: Vec<u32>,
}

impl Training {
    /// Standardises `train` with its own statistics.
    pub(crate) fn new(train: &Matrix, labels: &[u32]) -> Result<Self> {
        let standardizer = Standardizer::fit(train);
        let features = standardizer.apply(train)?;
        Ok(Self {
            standardizer,
            features,
            labels: labels.to_vec(),
        })
    }
}

impl FittedHead {
    /// Fits the head `hyper` on `training`. `seed` drives the forest's bootstrap and feature
    /// draws, the only randomness of any head (the SVM solver, L-BFGS and kNN have none).
    pub(crate) fn fit(training: &Training, hyper: Hyper, seed: u64) -> Result<Self> {
        let failed = |message: String| HeadError::Fit {
            kind: hyper.kind(),
            hyper,
            message: one_line(message),
        };
        // smartcore's matrix, built per candidate (630 x 512 takes a millisecond) so a search
        // holds one copy per running fit only.
        let dense = || training.features.to_dense().map_err(&failed);
        let y = &training.labels;
        let model = match hyper {
            // smartcore minimises sum_i loss_i + alpha/2 |W|^2 (the loss summed over samples,
            // intercepts unpenalised: `f -= prob[self.y[i]].ln()` per sample, then
            // `f += 0.5 * self.alpha * w_squared`, src/linear/logistic_regression.rs);
            // scikit-learn minimises C * sum_i loss_i + 1/2 |W|^2. Dividing by C gives the same
            // minimiser for alpha = 1/C.
            Hyper::Logistic { c } => {
                let parameters = LogisticRegressionParameters::default().with_alpha(1.0 / c);
                Model::Logistic(
                    LogisticRegression::fit(&dense()?, y, parameters)
                        .map_err(|e| failed(e.to_string()))?,
                )
            }
            Hyper::SvmLinear { c } => Model::Svm(
                SvmModel::fit(&training.features, y, SvmKernel::Linear, c).map_err(failed)?,
            ),
            Hyper::SvmRbf { c, gamma_scale } => {
                let gamma = gamma_scale / training.features.cols() as f64;
                let kernel = SvmKernel::Rbf { gamma };
                Model::Svm(SvmModel::fit(&training.features, y, kernel, c).map_err(failed)?)
            }
            Hyper::RandomForest { trees } => {
                let trees = u16::try_from(trees)
                    .map_err(|_| failed(format!("trees must be <= 65535, got {trees}")))?;
                // smartcore's defaults are scikit-learn's: Gini, floor(sqrt(features)) features
                // per split, no depth limit, min_samples_split 2, min_samples_leaf 1.
                let parameters = RandomForestClassifierParameters::default()
                    .with_n_trees(trees)
                    .with_seed(seed);
                Model::Forest(
                    RandomForestClassifier::fit(&dense()?, y, parameters)
                        .map_err(|e| failed(e.to_string()))?,
                )
            }
            Hyper::Knn { k } => {
                if k > y.len() {
                    return Err(HeadError::KTooLarge { k, rows: y.len() });
                }
                // Exhaustive search: a cover tree buys nothing in 512 dimensions, and its
                // neighbour order among equal distances is harder to reason about.
                let parameters = KNNClassifierParameters::default()
                    .with_k(k)
                    .with_algorithm(KNNAlgorithmName::LinearSearch);
                Model::Knn {
                    model: KNNClassifier::fit(&dense()?, y, parameters)
                        .map_err(|e| failed(e.to_string()))?,
                    rows: y.len(),
                }
            }
        };
        Ok(Self {
            standardizer: training.standardizer.clone(),
            hyper,
            model,
        })
    }

    /// The hyperparameter setting this head was fitted with.
    pub fn hyper(&self) -> Hyper {
        self.hyper
    }

    /// Which head this is.
    pub fn kind(&self) -> HeadKind {
        self.hyper.kind()
    }

    /// The statistics of the training features, applied to every input of
    /// [`FittedHead::predict`].
    pub fn standardizer(&self) -> &Standardizer {
        &self.standardizer
    }

    /// Number of features the head takes.
    pub fn features(&self) -> usize {
        self.standardizer.cols()
    }

    /// The predicted class of each row of raw `features`, standardised with the training
    /// statistics first. An error when the width differs from training or a value is not
    /// finite.
    pub fn predict(&self, features: &Matrix) -> Result<Vec<u32>> {
        if let Some((row, col, value)) = features.first_non_finite() {
            return Err(HeadError::NonFinite {
                split: "predict",
                row,
                col,
                value,
            });
        }
        if features.cols() != self.features() {
            return Err(HeadError::ColumnMismatch {
                split: "predict",
                expected: self.features(),
                found: features.cols(),
            });
        }
        if features.rows() == 0 {
            return Ok(Vec::new());
        }
        let standardised = self.standardizer.apply(features)?;
        let failed = |message: String| HeadError::Predict {
            kind: self.kind(),
            hyper: self.hyper,
            message: one_line(message),
        };
        let dense = || standardised.to_dense().map_err(&failed);
        match &self.model {
            Model::Logistic(m) => m.predict(&dense()?).map_err(|e| failed(e.to_string())),
            Model::Svm(m) => m.predict(&standardised).map_err(failed),
            Model::Forest(m) => m.predict(&dense()?).map_err(|e| failed(e.to_string())),
            Model::Knn { model, .. } => model.predict(&dense()?).map_err(|e| failed(e.to_string())),
        }
    }

    /// How many numbers the fitted head holds, to compare heads' sizes:
    ///
    /// - logistic: coefficients and intercepts, `(features + 1) * classes` for 3+ training
    ///   classes, `features + 1` for 2 (smartcore then fits one sigmoid, not a softmax);
    /// - SVMs: distinct support vectors x features, plus one dual coefficient per support
    ///   vector of each one-vs-one pair, plus one bias per pair (scikit-learn's
    ///   `support_vectors_`, nonzero `dual_coef_` and `intercept_`);
    /// - random forest: the number of nodes of all trees (split and leaf), each holding a
    ///   feature index and a threshold or a class;
    /// - kNN: the stored training features, rows x features (labels not counted).
    pub fn parameter_count(&self) -> usize {
        match &self.model {
            Model::Logistic(m) => m.coefficients().shape().0 * (m.coefficients().shape().1 + 1),
            Model::Svm(m) => m.parameter_count(),
            Model::Forest(m) => forest_nodes(m),
            Model::Knn { rows, .. } => rows * self.features(),
        }
    }
}

/// Total nodes of a forest's trees. smartcore keeps the trees and their nodes private and
/// exposes no count, but its `Debug` output prints each node as `Node { .. }` (derived on
/// `struct Node`, src/tree/decision_tree_classifier.rs); the unit test below pins this on a
/// forest whose node count is known, so a change of format fails loudly.
fn forest_nodes(forest: &Forest) -> usize {
    format!("{forest:?}").matches("Node {").count()
}

impl fmt::Debug for FittedHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FittedHead")
            .field("kind", &self.kind())
            .field("hyper", &self.hyper)
            .field("features", &self.features())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartcore::linalg::basic::arrays::Array;

    /// `rows` points of 3 overlapping Gaussian clusters in `dims` dimensions (class c shifted
    /// by 1 along axis c), from a fixed ChaCha8 stream.
    fn overlapping(rows: usize, dims: usize) -> Result<(Matrix, Vec<u32>)> {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        let noise = Normal::new(0.0f32, 1.0).map_err(|_| HeadError::NoFeatures)?;
        let mut data = Vec::with_capacity(rows * dims);
        for i in 0..rows {
            for d in 0..dims {
                data.push(if d == i % 3 { 1.0 } else { 0.0 } + noise.sample(&mut rng));
            }
        }
        let labels = (0..rows).map(|i| (i % 3) as u32).collect();
        Ok((Matrix::new(rows, dims, data)?, labels))
    }

    #[test]
    fn logistic_is_fitted_to_convergence() -> Result<()> {
        let (x, labels) = overlapping(200, 20)?;
        let training = Training::new(&x, &labels)?;
        let z = &training.features;
        for c in [0.01, 1.0, 10.0] {
            let head = FittedHead::fit(&training, Hyper::Logistic { c }, 0)?;
            let Model::Logistic(model) = &head.model else {
                panic!("not a logistic model");
            };
            let (w, b) = (model.coefficients(), model.intercept());
            assert_eq!(w.shape(), (3, 20));
            // Gradient of sum_i -log softmax(W x_i + b)[y_i] + |W|^2 / (2c), which smartcore
            // minimises with alpha = 1/c; at the optimum it vanishes.
            let mut grad = vec![0.0f64; 3 * 21];
            for (i, &label) in labels.iter().enumerate() {
                let logits: Vec<f64> = (0..3)
                    .map(|k| {
                        let row = z.row(i).iter().enumerate();
                        row.map(|(j, &v)| f64::from(v) * w.get((k, j))).sum::<f64>() + b.get((k, 0))
                    })
                    .collect();
                let top = logits.iter().copied().fold(f64::MIN, f64::max);
                let norm: f64 = logits.iter().map(|l| (l - top).exp()).sum();
                for k in 0..3 {
                    let p = (logits[k] - top).exp() / norm;
                    let r = p - if label as usize == k { 1.0 } else { 0.0 };
                    for (j, &v) in z.row(i).iter().enumerate() {
                        grad[k * 21 + j] += r * f64::from(v);
                    }
                    grad[k * 21 + 20] += r;
                }
            }
            for k in 0..3 {
                for j in 0..20 {
                    grad[k * 21 + j] += w.get((k, j)) / c;
                }
            }
            let largest = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
            // scikit-learn stops at 1e-4 on the gradient of the mean loss (this sum over 200
            // samples is 200 times that).
            assert!(
                largest < 1e-4,
                "c = {c}: largest gradient component {largest:e}"
            );
            assert_eq!(head.parameter_count(), 3 * 21);
        }
        Ok(())
    }

    #[test]
    fn parameter_counts_follow_their_definitions() -> Result<()> {
        // Two classes: smartcore's logistic fits one weight vector and one intercept.
        let x = Matrix::new(4, 1, vec![0.0, 1.0, 2.0, 3.0])?;
        let training = Training::new(&x, &[0, 0, 1, 1])?;
        let logistic = FittedHead::fit(&training, Hyper::Logistic { c: 1.0 }, 0)?;
        assert_eq!(logistic.parameter_count(), 2);

        // One tree on separable 1-d data: a root split and two pure leaves. The stratified
        // bootstrap always draws both classes.
        for (trees, nodes) in [(1, 3), (2, 6)] {
            let forest = FittedHead::fit(&training, Hyper::RandomForest { trees }, 9)?;
            assert_eq!(forest.parameter_count(), nodes, "{trees} trees");
            assert_eq!(forest.predict(&x)?, [0, 0, 1, 1]);
        }

        let knn = FittedHead::fit(&training, Hyper::Knn { k: 1 }, 0)?;
        assert_eq!(knn.parameter_count(), 4);

        let (x, labels) = overlapping(30, 5)?;
        let training = Training::new(&x, &labels)?;
        let knn = FittedHead::fit(&training, Hyper::Knn { k: 3 }, 0)?;
        assert_eq!(knn.parameter_count(), 30 * 5);
        // A grown forest: every tree has an odd number of nodes (each split adds two).
        let forest = FittedHead::fit(&training, Hyper::RandomForest { trees: 10 }, 1)?;
        let nodes = forest.parameter_count();
        assert!(nodes > 10 && (nodes - 10) % 2 == 0, "{nodes}");
        Ok(())
    }

    #[test]
    fn knn_refuses_k_above_the_training_rows() -> Result<()> {
        let x = Matrix::new(3, 1, vec![0.0, 1.0, 2.0])?;
        let training = Training::new(&x, &[0, 1, 1])?;
        let err = FittedHead::fit(&training, Hyper::Knn { k: 4 }, 0).err();
        assert_eq!(err, Some(HeadError::KTooLarge { k: 4, rows: 3 }));
        Ok(())
    }
}
