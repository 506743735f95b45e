//! [`FittedHead`]: one head fitted on standardised training features, predicting from raw ones.

use std::fmt;

use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linear::logistic_regression::{LogisticRegression, LogisticRegressionParameters};

use crate::error::{one_line, HeadError, Result};
use crate::forest::ForestModel;
use crate::kind::HeadKind;
use crate::knn::KnnModel;
use crate::logistic::LogisticModel;
use crate::matrix::Matrix;
use crate::search::Hyper;
use crate::standardizer::Standardizer;
use crate::svm::{SvmKernel, SvmModel};

/// The fitted model behind a head, as the numbers it predicts with (what a head file holds).
#[derive(Debug)]
pub(crate) enum Model {
    Logistic(LogisticModel),
    Svm(SvmModel),
    Forest(ForestModel),
    Knn(KnnModel),
}

/// A head fitted on standardised training features. [`FittedHead::predict`] takes raw
/// (unstandardised) features and standardises them with the training statistics first.
///
/// Every head predicts from its own numbers (coefficients, support vectors and duals, trees,
/// stored neighbours), computed as the library that fitted it computes them, so a head saved
/// with [`FittedHead::to_bytes`] and read back with [`FittedHead::from_bytes`] predicts the
/// same classes and probabilities.
pub struct FittedHead {
    pub(crate) standardizer: Standardizer,
    pub(crate) hyper: Hyper,
    /// The number of classes of the labels (probability rows have this width).
    pub(crate) classes: usize,
    pub(crate) model: Model,
}

/// The training split as every candidate of a search sees it, prepared once.
pub(crate) struct Training {
    /// Statistics of the raw training features.
    pub(crate) standardizer: Standardizer,
    /// The training features, standardised.
    features: Matrix,
    labels: Vec<u32>,
    /// The number of classes labels range over.
    classes: usize,
}

impl Training {
    /// Standardises `train` with its own statistics; labels range over `classes`.
    pub(crate) fn new(train: &Matrix, labels: &[u32], classes: usize) -> Result<Self> {
        let standardizer = Standardizer::fit(train);
        let features = standardizer.apply(train)?;
        Ok(Self {
            standardizer,
            features,
            labels: labels.to_vec(),
            classes,
        })
    }

    /// The distinct training labels, ascending.
    fn present(&self) -> Vec<u32> {
        let mut present = self.labels.clone();
        present.sort_unstable();
        present.dedup();
        present
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
                let fitted = LogisticRegression::fit(&dense()?, y, parameters)
                    .map_err(|e| failed(e.to_string()))?;
                Model::Logistic(LogisticModel::from_smartcore(&fitted, training.present()))
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
                let fitted = RandomForestClassifier::fit(&dense()?, y, parameters)
                    .map_err(|e| failed(e.to_string()))?;
                Model::Forest(ForestModel::from_smartcore(&fitted).map_err(failed)?)
            }
            Hyper::Knn { k } => {
                if k > y.len() {
                    return Err(HeadError::KTooLarge { k, rows: y.len() });
                }
                Model::Knn(KnnModel::fit(k, training.features.clone(), y.clone()).map_err(failed)?)
            }
        };
        Ok(Self {
            standardizer: training.standardizer.clone(),
            hyper,
            classes: training.classes,
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

    /// Number of classes: the width of [`FittedHead::probabilities`]' rows.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Checks raw `features` and standardises them: an error when the width differs from
    /// training or a value is not finite.
    fn standardise(&self, features: &Matrix) -> Result<Matrix> {
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
        self.standardizer.apply(features)
    }

    fn failed(&self, message: impl fmt::Display) -> HeadError {
        HeadError::Predict {
            kind: self.kind(),
            hyper: self.hyper,
            message: one_line(message),
        }
    }

    /// The predicted class of each row of raw `features`, standardised with the training
    /// statistics first. An error when the width differs from training or a value is not
    /// finite.
    ///
    /// The class is the head's own decision (the SVMs' one-vs-one vote, the forest's and
    /// kNN's majority, the logistic's largest logit), which for the SVMs may differ from the
    /// most probable class of [`FittedHead::probabilities`], as in libsvm.
    pub fn predict(&self, features: &Matrix) -> Result<Vec<u32>> {
        let z = self.standardise(features)?;
        if z.rows() == 0 {
            return Ok(Vec::new());
        }
        let rows = || rows_f64(&z);
        match &self.model {
            Model::Logistic(m) => Ok(rows().map(|x| m.predict(&x)).collect()),
            Model::Svm(m) => m.predict(&z).map_err(|e| self.failed(e)),
            Model::Forest(m) => rows()
                .map(|x| {
                    m.predict(&x)
                        .ok_or_else(|| self.failed("a tree is malformed"))
                })
                .collect(),
            Model::Knn(m) => m
                .predict(&z.to_dense().map_err(|e| self.failed(e))?)
                .map_err(|e| self.failed(e)),
        }
    }

    /// Class probabilities of each row of raw `features`, `rows x classes` row-major (classes
    /// absent from training get 0): the logistic's softmax (sigmoid for two classes), the
    /// SVMs' Platt-scaled pairwise probabilities coupled as libsvm couples them, the share of
    /// the forest's trees, the share of the `k` neighbours. `None` for an SVM whose sigmoids
    /// were never fitted ([`FittedHead::calibrate`]).
    pub fn probabilities(&self, features: &Matrix) -> Result<Option<Vec<f32>>> {
        let z = self.standardise(features)?;
        let classes = self.classes;
        let mut out = vec![0.0f32; z.rows() * classes];
        if z.rows() == 0 {
            return Ok(Some(out));
        }
        let rows = || rows_f64(&z);
        match &self.model {
            Model::Logistic(m) => {
                for (x, slot) in rows().zip(out.chunks_exact_mut(classes)) {
                    m.probabilities(&x, slot);
                }
            }
            Model::Svm(m) => return m.probabilities(&z, classes).map_err(|e| self.failed(e)),
            Model::Forest(m) => {
                for (x, slot) in rows().zip(out.chunks_exact_mut(classes)) {
                    m.probabilities(&x, slot)
                        .ok_or_else(|| self.failed("a tree is malformed"))?;
                }
            }
            Model::Knn(m) => {
                let dense = z.to_dense().map_err(|e| self.failed(e))?;
                out = m
                    .probabilities(&dense, classes)
                    .map_err(|e| self.failed(e))?;
            }
        }
        Ok(Some(out))
    }

    /// For a head fitted on two classes, 0 and 1: a score per row of raw `features` that ranks
    /// rows by class 1 (the logistic's logit, the SVM's decision value, the share of trees
    /// or neighbours voting 1), which AUROC reads. An error for a head of more classes.
    pub fn scores(&self, features: &Matrix) -> Result<Vec<f64>> {
        if self.classes != 2 {
            return Err(self.failed(format!(
                "scores rank two classes; this head has {}",
                self.classes
            )));
        }
        let z = self.standardise(features)?;
        match &self.model {
            Model::Logistic(m) => Ok(rows_f64(&z).map(|x| m.logits(&x)[0]).collect()),
            Model::Svm(m) => Ok(m
                .decisions(&z)
                .map_err(|e| self.failed(e))?
                .iter()
                .map(|row| row[0])
                .collect()),
            Model::Forest(_) | Model::Knn(_) => {
                let p = self
                    .probabilities(features)?
                    .ok_or_else(|| self.failed("no vote shares"))?;
                Ok(p.chunks_exact(2).map(|row| f64::from(row[1])).collect())
            }
        }
    }

    /// Fits what turns the head's decision values into probabilities on the validation split
    /// (raw `features`, `labels`): the SVMs' Platt sigmoids, one per pair of classes. The
    /// other heads have probabilities of their own and are left as they are.
    pub fn calibrate(&mut self, features: &Matrix, labels: &[u32]) -> Result<()> {
        let z = self.standardise(features)?;
        if let Model::Svm(m) = &mut self.model {
            m.calibrate(&z, labels).map_err(|e| HeadError::Predict {
                kind: self.hyper.kind(),
                hyper: self.hyper,
                message: one_line(e),
            })?;
        }
        Ok(())
    }

    /// For a logistic head, the same logits as one linear layer on raw features:
    /// `(weights, biases)`, `outputs x features` and `outputs`, with one output per class
    /// (classes absent from training get a logit of -1e4; for two training classes the first
    /// gets 0 and the second the sigmoid's logit, which gives the same softmax). The
    /// standardisation is folded in: `w / std` and `b - sum(w * mean / std)`. What Grad-CAM
    /// needs to explain a logistic head as it explains a network's last layer. `None` for the
    /// other heads, which are not linear in the features.
    pub fn as_linear_layer(&self) -> Option<(Vec<f32>, Vec<f32>)> {
        let Model::Logistic(m) = &self.model else {
            return None;
        };
        let f = self.features();
        let mut weights = vec![0.0f32; self.classes * f];
        let mut biases = vec![-1e4f32; self.classes];
        let rows: Vec<(u32, Vec<f64>, f64)> = if m.intercepts.len() == 1 {
            vec![
                (m.classes[0], vec![0.0; f], 0.0),
                (m.classes[1], m.coefficients.clone(), m.intercepts[0]),
            ]
        } else {
            m.classes
                .iter()
                .zip(m.coefficients.chunks_exact(f))
                .zip(&m.intercepts)
                .map(|((&c, w), &b)| (c, w.to_vec(), b))
                .collect()
        };
        for (class, w, b) in rows {
            let class = class as usize;
            let mut bias = b;
            for j in 0..f {
                let scale = f64::from(self.standardizer.std[j]);
                let wj = w[j] / scale;
                weights[class * f + j] = wj as f32;
                bias -= wj * f64::from(self.standardizer.mean[j]);
            }
            biases[class] = bias as f32;
        }
        Some((weights, biases))
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
            Model::Logistic(m) => m.coefficients.len() + m.intercepts.len(),
            Model::Svm(m) => m.parameter_count(),
            Model::Forest(m) => m.nodes(),
            Model::Knn(m) => m.labels.len() * self.features(),
        }
    }
}

/// Each row of standardised features as the `f64` values the library models computed with
/// (every `f32` converted exactly).
fn rows_f64(z: &Matrix) -> impl Iterator<Item = Vec<f64>> + '_ {
    (0..z.rows()).map(|i| z.row(i).iter().map(|&v| f64::from(v)).collect())
}

impl fmt::Debug for FittedHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FittedHead")
            .field("kind", &self.kind())
            .field("hyper", &self.hyper)
            .field("features", &self.features())
            .field("classes", &self.classes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `rows` points of 3 overlapping Gaussian clusters in `dims` dimensions (class c shifted
    /// by 1 along axis c), from a fixed ChaCha8 stream.
    fn overlapping(rows: usize, dims: usize) -> Result<(Matrix, Vec<u32>)> {
        overlapping_from(rows, dims, 17)
    }

    /// [`overlapping`] from another stream.
    pub(crate) fn overlapping_from(
        rows: usize,
        dims: usize,
        stream: u64,
    ) -> Result<(Matrix, Vec<u32>)> {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Normal};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(stream);
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
        let training = Training::new(&x, &labels, 3)?;
        let z = &training.features;
        for c in [0.01, 1.0, 10.0] {
            let head = FittedHead::fit(&training, Hyper::Logistic { c }, 0)?;
            let Model::Logistic(model) = &head.model else {
                panic!("not a logistic model");
            };
            let (w, b) = (&model.coefficients, &model.intercepts);
            assert_eq!((w.len(), b.len()), (3 * 20, 3));
            // Gradient of sum_i -log softmax(W x_i + b)[y_i] + |W|^2 / (2c), which smartcore
            // minimises with alpha = 1/c; at the optimum it vanishes.
            let mut grad = vec![0.0f64; 3 * 21];
            for (i, &label) in labels.iter().enumerate() {
                let logits: Vec<f64> = (0..3)
                    .map(|k| {
                        let row = z.row(i).iter().enumerate();
                        row.map(|(j, &v)| f64::from(v) * w[k * 20 + j]).sum::<f64>() + b[k]
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
                    grad[k * 21 + j] += w[k * 20 + j] / c;
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
        let training = Training::new(&x, &[0, 0, 1, 1], 2)?;
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
        let training = Training::new(&x, &labels, 3)?;
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
        let training = Training::new(&x, &[0, 1, 1], 2)?;
        let err = FittedHead::fit(&training, Hyper::Knn { k: 4 }, 0).err();
        assert_eq!(err, Some(HeadError::KTooLarge { k: 4, rows: 3 }));
        Ok(())
    }

    /// Every head decides each film exactly as the library model it was fitted with: the
    /// logistic's and forest's classes against smartcore's `predict`, each SVM pair's decision
    /// value bit for bit against linfa-svm's `weighted_sum - rho`. On two and three classes.
    #[test]
    fn every_head_decides_as_the_library_that_fitted_it() -> Result<()> {
        use linfa::traits::Fit as _;
        use smartcore::linalg::basic::matrix::DenseMatrix;
        let (x, labels3) = overlapping(150, 8)?;
        let (unseen, _) = overlapping_from(120, 8, 99)?;
        let labels2: Vec<u32> = labels3.iter().map(|l| l % 2).collect();
        for (labels, classes) in [(&labels3, 3), (&labels2, 2)] {
            let training = Training::new(&x, labels, classes)?;
            let dense_train = training.features.to_dense().map_err(HeadError::Format)?;
            let z = training.standardizer.apply(&unseen)?;
            let dense: DenseMatrix<f64> = z.to_dense().map_err(HeadError::Format)?;
            let lib = |e: smartcore::error::Failed| HeadError::Format(e.to_string());
            for c in [0.1, 10.0] {
                let head = FittedHead::fit(&training, Hyper::Logistic { c }, 0)?;
                let parameters = LogisticRegressionParameters::default().with_alpha(1.0 / c);
                let library =
                    LogisticRegression::fit(&dense_train, labels, parameters).map_err(lib)?;
                assert_eq!(
                    head.predict(&unseen)?,
                    library.predict(&dense).map_err(lib)?
                );
            }
            for (trees, seed) in [(7, 3), (30, 11)] {
                let head = FittedHead::fit(&training, Hyper::RandomForest { trees }, seed)?;
                let parameters = RandomForestClassifierParameters::default()
                    .with_n_trees(trees as u16)
                    .with_seed(seed);
                let library =
                    RandomForestClassifier::fit(&dense_train, labels, parameters).map_err(lib)?;
                assert_eq!(
                    head.predict(&unseen)?,
                    library.predict(&dense).map_err(lib)?
                );
            }
            let gamma_scale: f64 = 1.0;
            for hyper in [
                Hyper::SvmLinear { c: 1.0 },
                Hyper::SvmRbf {
                    c: 1.0,
                    gamma_scale,
                },
            ] {
                let head = FittedHead::fit(&training, hyper, 0)?;
                let Model::Svm(svm) = &head.model else {
                    panic!("not an SVM");
                };
                let ours = svm.decisions(&z).map_err(HeadError::Format)?;
                // The pair (0, 1), refitted with linfa-svm directly.
                let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] <= 1).collect();
                let train = crate::svm::to_array(&training.features.select(&rows))
                    .map_err(HeadError::Format)?;
                let targets: ndarray::Array1<bool> = rows.iter().map(|&i| labels[i] == 1).collect();
                let params = linfa_svm::Svm::<f64, bool>::params()
                    .pos_neg_weights(1.0, 1.0)
                    .eps(1e-3);
                let params = match hyper {
                    Hyper::SvmRbf { .. } => params.gaussian_kernel(8.0 / gamma_scale),
                    _ => params.linear_kernel(),
                };
                let model = params
                    .fit(&linfa::Dataset::new(train, targets))
                    .map_err(|e| HeadError::Format(e.to_string()))?;
                let z64 = crate::svm::to_array(&z).map_err(HeadError::Format)?;
                for (row, decided) in z64.outer_iter().zip(&ours) {
                    let theirs = model.weighted_sum(&row) - model.rho;
                    assert_eq!(decided[0].to_bits(), theirs.to_bits(), "{hyper}");
                }
            }
        }
        Ok(())
    }
}
