//! [`KnnModel`]: k nearest neighbours as the training features and labels they vote from.

use smartcore::algorithm::neighbour::KNNAlgorithmName;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::metrics::distance::euclidian::Euclidian;
use smartcore::neighbors::knn_classifier::{KNNClassifier, KNNClassifierParameters};

use crate::matrix::Matrix;

/// smartcore's kNN classifier (exhaustive search, Euclidean distance, uniform votes).
type Knn = KNNClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>, Euclidian<f64>>;

/// k nearest neighbours. The model is what it stores, so a saved one is rebuilt by fitting
/// smartcore's classifier on the same rows again, and votes exactly as before.
pub(crate) struct KnnModel {
    /// Number of neighbours that vote.
    pub(crate) k: usize,
    /// The standardised training features.
    pub(crate) features: Matrix,
    /// Their classes.
    pub(crate) labels: Vec<u32>,
    model: Knn,
}

impl KnnModel {
    /// Stores `features` and `labels` for `k`-neighbour votes.
    pub(crate) fn fit(k: usize, features: Matrix, labels: Vec<u32>) -> Result<Self, String> {
        // Exhaustive search: a cover tree buys nothing in 512 dimensions, and its neighbour
        // order among equal distances is harder to reason about.
        let parameters = KNNClassifierParameters::default()
            .with_k(k)
            .with_algorithm(KNNAlgorithmName::LinearSearch);
        let model = KNNClassifier::fit(&features.to_dense()?, &labels, parameters)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            k,
            features,
            labels,
            model,
        })
    }

    /// The training classes, ascending (what smartcore's probabilities index).
    fn classes(&self) -> Vec<u32> {
        let mut classes = self.labels.clone();
        classes.sort_unstable();
        classes.dedup();
        classes
    }

    /// The majority class among each standardised row's `k` nearest training rows.
    pub(crate) fn predict(&self, rows: &DenseMatrix<f64>) -> Result<Vec<u32>, String> {
        self.model.predict(rows).map_err(|e| e.to_string())
    }

    /// The share of the `k` neighbours in each class, `rows x classes` row-major.
    pub(crate) fn probabilities(
        &self,
        rows: &DenseMatrix<f64>,
        classes: usize,
    ) -> Result<Vec<f32>, String> {
        let present = self.classes();
        let shares = self.model.predict_proba(rows).map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(shares.len() * classes);
        for row in shares {
            let mut full = vec![0.0f32; classes];
            for (&class, p) in present.iter().zip(row) {
                if let Some(slot) = full.get_mut(class as usize) {
                    *slot = p as f32;
                }
            }
            out.extend(full);
        }
        Ok(out)
    }
}

impl std::fmt::Debug for KnnModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnnModel")
            .field("k", &self.k)
            .field("rows", &self.labels.len())
            .finish_non_exhaustive()
    }
}
