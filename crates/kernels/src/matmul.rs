//! A bounds-checked, safe front for the `gemm` crate's `dst := alpha * dst + beta * lhs * rhs`.

use gemm::Parallelism;

use crate::elem::Elem;

/// A read-only strided matrix view: element `(r, c)` is `data[r * rs + c * cs]`.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A row-major `rows x cols` matrix whose rows are `ld` apart.
    pub fn rows(data: &'a [T], rows: usize, cols: usize, ld: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            rs: ld,
            cs: 1,
        }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Whether every element lies inside `data`.
    fn fits(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.rs + (self.cols - 1) * self.cs < self.data.len()
    }
}

/// `dst (m x n, rows ld apart) = lhs * rhs`, or `dst += lhs * rhs` with `accumulate`.
/// Single-threaded: callers parallelise over images, which needs no synchronisation.
///
/// # Panics
/// When the shapes disagree or a view reaches past its slice (a bug in the caller, never data).
pub(crate) fn matmul<T: Elem>(
    dst: &mut [T],
    ld: usize,
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
    accumulate: bool,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions differ");
    assert!(
        lhs.fits() && rhs.fits(),
        "matmul: operand view out of bounds"
    );
    assert!(
        m == 0 || n == 0 || (m - 1) * ld + n <= dst.len(),
        "matmul: destination out of bounds"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                dst[r * ld..r * ld + n].fill(T::ZERO);
            }
        }
        return;
    }
    // SAFETY: the asserts above keep every element the three views address inside its slice;
    // `dst` is borrowed mutably, so it cannot alias `lhs` or `rhs`; strides fit in isize since
    // they index allocated slices; T is f32 or f64, both of which gemm implements.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            ld as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposed_views_multiply_like_the_textbook() {
        // lhs = [[1, 2, 3], [4, 5, 6]] stored transposed (3 x 2), rhs = [[1, 0], [0, 1], [1, 1]].
        let lhs_t = [1.0f64, 4.0, 2.0, 5.0, 3.0, 6.0];
        let rhs = [1.0f64, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut dst = [10.0f64; 4];
        matmul(
            &mut dst,
            2,
            Mat::rows(&lhs_t, 3, 2, 2).t(),
            Mat::rows(&rhs, 3, 2, 2),
            false,
        );
        assert_eq!(dst, [4.0, 5.0, 10.0, 11.0]);
        matmul(
            &mut dst,
            2,
            Mat::rows(&lhs_t, 3, 2, 2).t(),
            Mat::rows(&rhs, 3, 2, 2),
            true,
        );
        assert_eq!(dst, [8.0, 10.0, 20.0, 22.0]);
    }
}
