//! [`Standardizer`]: per-feature centring and scaling with statistics of the training split.

use crate::error::{HeadError, Result};
use crate::matrix::Matrix;

/// A standard deviation below this is treated as a constant feature (scikit-learn's
/// `StandardScaler` uses the same `10 * eps` cut-off).
const CONSTANT_STD: f64 = 10.0 * f64::EPSILON;

/// Per-feature mean and standard deviation of a training matrix; [`Standardizer::apply`] maps
/// each feature to `(x - mean) / std`.
///
/// The standard deviation is the population one (divided by `rows`, as scikit-learn's
/// `StandardScaler`); a constant feature gets `std = 1`, so it maps to 0 instead of NaN.
/// Statistics are accumulated in `f64` and stored as `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// Mean of each feature over the training rows.
    pub mean: Vec<f32>,
    /// Population standard deviation of each feature (1 for a constant feature).
    pub std: Vec<f32>,
}

impl Standardizer {
    /// The statistics of `train`'s columns. An empty matrix gives mean 0 and std 1 (the identity).
    pub fn fit(train: &Matrix) -> Self {
        let (rows, cols) = (train.rows(), train.cols());
        if rows == 0 {
            return Self {
                mean: vec![0.0; cols],
                std: vec![1.0; cols],
            };
        }
        let n = rows as f64;
        let mut mean = vec![0.0f64; cols];
        for i in 0..rows {
            for (m, &v) in mean.iter_mut().zip(train.row(i)) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        // Two passes: the sum of squared deviations does not cancel as E[x^2] - E[x]^2 can.
        let mut var = vec![0.0f64; cols];
        for i in 0..rows {
            for ((s, &v), m) in var.iter_mut().zip(train.row(i)).zip(&mean) {
                let d = f64::from(v) - m;
                *s += d * d;
            }
        }
        let std = var
            .iter()
            .map(|s| {
                let std = (s / n).sqrt();
                if std < CONSTANT_STD {
                    1.0
                } else {
                    std as f32
                }
            })
            .collect();
        Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
        }
    }

    /// Number of features the statistics cover.
    pub fn cols(&self) -> usize {
        self.mean.len()
    }

    /// `m` with each feature centred and scaled: `(x - mean) / std`. An error when `m` has a
    /// different number of columns.
    pub fn apply(&self, m: &Matrix) -> Result<Matrix> {
        if m.cols() != self.cols() {
            return Err(HeadError::ColumnMismatch {
                split: "standardised",
                expected: self.cols(),
                found: m.cols(),
            });
        }
        let mut data = Vec::with_capacity(m.data().len());
        for i in 0..m.rows() {
            data.extend(
                m.row(i)
                    .iter()
                    .zip(self.mean.iter().zip(&self.std))
                    .map(|(&v, (&mean, &std))| (v - mean) / std),
            );
        }
        Matrix::new(m.rows(), m.cols(), data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_matches_hand_computed_statistics() -> Result<()> {
        // Column 0: 1, 2, 3, 6 -> mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5.
        // Column 1: constant 5 -> mean 5, std 0 -> 1.
        // Column 2: -1, 1, -1, 1 -> mean 0, std 1.
        let train = Matrix::new(4, 3, vec![1., 5., -1., 2., 5., 1., 3., 5., -1., 6., 5., 1.])?;
        let s = Standardizer::fit(&train);
        assert_eq!(s.mean, vec![3.0, 5.0, 0.0]);
        assert_eq!(s.std, vec![3.5f64.sqrt() as f32, 1.0, 1.0]);

        let z = s.apply(&train)?;
        let sd = 3.5f32.sqrt();
        assert_eq!(z.row(0), &[-2.0 / sd, 0.0, -1.0]);
        assert_eq!(z.row(3), &[3.0 / sd, 0.0, 1.0]);
        // Standardised training columns have mean 0 and population std 1 (the constant one 0).
        let again = Standardizer::fit(&z);
        assert!(
            again.mean.iter().all(|m| m.abs() < 1e-6),
            "{:?}",
            again.mean
        );
        assert!((again.std[0] - 1.0).abs() < 1e-6 && again.std[2] == 1.0);
        Ok(())
    }

    #[test]
    fn a_constant_column_gets_std_1_and_maps_to_zero() -> Result<()> {
        let train = Matrix::new(3, 1, vec![0.1, 0.1, 0.1])?;
        let s = Standardizer::fit(&train);
        assert_eq!((s.mean.clone(), s.std.clone()), (vec![0.1], vec![1.0]));
        assert_eq!(s.apply(&train)?.data(), &[0.0; 3]);
        // Elsewhere it is only shifted, never blown up by a tiny std.
        let z = s.apply(&Matrix::new(1, 1, vec![0.6])?)?;
        assert!((z.data()[0] - 0.5).abs() < 1e-6);
        Ok(())
    }

    #[test]
    fn apply_rejects_other_widths_and_empty_fit_is_identity() -> Result<()> {
        let s = Standardizer::fit(&Matrix::new(0, 2, vec![])?);
        assert_eq!(
            (s.mean.clone(), s.std.clone()),
            (vec![0.0; 2], vec![1.0; 2])
        );
        let err = s.apply(&Matrix::new(1, 3, vec![0.0; 3])?).err();
        assert!(matches!(
            err,
            Some(HeadError::ColumnMismatch {
                expected: 2,
                found: 3,
                ..
            })
        ));
        Ok(())
    }
}
