//! [`LogisticModel`]: a fitted logistic regression as the numbers it predicts with.

use smartcore::linalg::basic::arrays::Array;
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::logistic_regression::LogisticRegression;

/// smartcore's fitted logistic regression.
pub(crate) type Logistic = LogisticRegression<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// A fitted logistic regression: for two training classes one weight row (the logit of the
/// second class, smartcore's sigmoid), for more one row per class (a softmax).
///
/// Logits are computed as smartcore's `predict` computes them (a sum over features from
/// zero in feature order, then the intercept), so both call every film alike.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogisticModel {
    /// The training classes, ascending: the rows' classes (smartcore's `classes`).
    pub(crate) classes: Vec<u32>,
    /// `rows x features`, row-major: 1 row for two classes, else one per class.
    pub(crate) coefficients: Vec<f64>,
    /// One per row.
    pub(crate) intercepts: Vec<f64>,
}

impl LogisticModel {
    /// The numbers of `fitted`, trained on labels whose distinct values are `classes`.
    pub(crate) fn from_smartcore(fitted: &Logistic, classes: Vec<u32>) -> Self {
        let w = fitted.coefficients();
        let (rows, cols) = w.shape();
        let coefficients = (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .map(|rc| *w.get(rc))
            .collect();
        let intercepts = (0..rows).map(|r| *fitted.intercept().get((r, 0))).collect();
        Self {
            classes,
            coefficients,
            intercepts,
        }
    }

    /// Number of features a row has.
    pub(crate) fn features(&self) -> usize {
        self.coefficients.len() / self.intercepts.len().max(1)
    }

    /// The logits of one standardised row: one value for two classes, else one per class.
    pub(crate) fn logits(&self, x: &[f64]) -> Vec<f64> {
        self.coefficients
            .chunks_exact(self.features().max(1))
            .zip(&self.intercepts)
            .map(|(w, b)| {
                let mut s = 0.0f64;
                for (xi, wi) in x.iter().zip(w) {
                    s += xi * wi;
                }
                s + b
            })
            .collect()
    }

    /// The predicted class of one standardised row: for two classes the second when its
    /// sigmoid exceeds 1/2 (smartcore's rule, clamped beyond |40|); else the first largest logit.
    pub(crate) fn predict(&self, x: &[f64]) -> u32 {
        let logits = self.logits(x);
        let chosen = if let [z] = logits[..] {
            usize::from(sigmoid(z) > 0.5)
        } else {
            let mut best = (f64::MIN, 0);
            for (k, &z) in logits.iter().enumerate() {
                if z > best.0 {
                    best = (z, k);
                }
            }
            best.1
        };
        self.classes[chosen]
    }

    /// The training classes' probabilities of one standardised row (the sigmoid, or the
    /// softmax of the logits), written into `out` at the class indices.
    pub(crate) fn probabilities(&self, x: &[f64], out: &mut [f32]) {
        let logits = self.logits(x);
        let probabilities = if let [z] = logits[..] {
            let p = sigmoid(z);
            vec![1.0 - p, p]
        } else {
            let top = logits.iter().copied().fold(f64::MIN, f64::max);
            let exp: Vec<f64> = logits.iter().map(|z| (z - top).exp()).collect();
            let total: f64 = exp.iter().sum();
            exp.iter().map(|e| e / total).collect()
        };
        for (&class, p) in self.classes.iter().zip(probabilities) {
            if let Some(slot) = out.get_mut(class as usize) {
                *slot = p as f32;
            }
        }
    }
}

/// smartcore's `RealNumber::sigmoid` for `f64`.
fn sigmoid(z: f64) -> f64 {
    if z < -40.0 {
        0.0
    } else if z > 40.0 {
        1.0
    } else {
        1.0 / (1.0 + (-z).exp())
    }
}
