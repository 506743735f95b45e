//! [`Matrix`]: the row-major `f32` feature matrix every head takes, one image per row.

use smartcore::linalg::basic::matrix::DenseMatrix;

use crate::error::{HeadError, Result};

/// Row-major `f32` feature matrix: (rows = images, cols = features).
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

impl Matrix {
    /// A `rows x cols` matrix over `data`, row after row; an error unless
    /// `data.len() == rows * cols`.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(HeadError::DataLength {
                rows,
                cols,
                len: data.len(),
            });
        }
        Ok(Self { rows, cols, data })
    }

    /// Number of rows (images).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (features).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`, `cols` values. Panics when `i >= rows`, as slice indexing does.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// All values, row after row.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The rows at `indices`, in that order (repeats allowed). Panics on an index `>= rows`.
    pub fn select(&self, indices: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(indices.len() * self.cols);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Matrix {
            rows: indices.len(),
            cols: self.cols,
            data,
        }
    }

    /// The first value that is NaN or infinite, as (row, col, value).
    pub(crate) fn first_non_finite(&self) -> Option<(usize, usize, f32)> {
        let cols = self.cols.max(1);
        self.data
            .iter()
            .position(|v| !v.is_finite())
            .map(|at| (at / cols, at % cols, self.data[at]))
    }

    /// The same values as smartcore's `f64` matrix (smartcore's solvers run in `f64`, which
    /// keeps L-BFGS's convergence test meaningful).
    pub(crate) fn to_dense(&self) -> std::result::Result<DenseMatrix<f64>, String> {
        let values = self.data.iter().map(|&v| f64::from(v)).collect();
        DenseMatrix::new(self.rows, self.cols, values, false).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_checks_the_length() -> Result<()> {
        let m = Matrix::new(2, 3, vec![1., 2., 3., 4., 5., 6.])?;
        assert_eq!((m.rows(), m.cols()), (2, 3));
        assert_eq!(m.row(1), &[4., 5., 6.]);
        let err = Matrix::new(2, 3, vec![1.; 5]).err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("a 2x3 feature matrix needs 6 values, got 5")
        );
        Ok(())
    }

    #[test]
    fn select_takes_rows_in_the_order_given() -> Result<()> {
        let m = Matrix::new(3, 2, vec![0., 1., 10., 11., 20., 21.])?;
        let s = m.select(&[2, 0, 2]);
        assert_eq!(s, Matrix::new(3, 2, vec![20., 21., 0., 1., 20., 21.])?);
        assert_eq!(m.select(&[]).rows(), 0);
        Ok(())
    }

    #[test]
    fn finds_the_first_non_finite_value() -> Result<()> {
        let m = Matrix::new(2, 2, vec![0., 1., f32::NAN, f32::INFINITY])?;
        let found = m
            .first_non_finite()
            .map(|(row, col, v)| (row, col, v.is_nan()));
        assert_eq!(found, Some((1, 0, true)));
        assert_eq!(Matrix::new(1, 2, vec![0., 1.])?.first_non_finite(), None);
        Ok(())
    }
}
