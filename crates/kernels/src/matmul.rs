//! A bounds-checked, safe front for the `gemm` crate's `dst := alpha * dst + beta * lhs * rhs`.

use std::mem::MaybeUninit;

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
    // SAFETY: `dst` is initialised, so reading it (with `accumulate`) is sound.
    unsafe { gemm_into(dst.as_mut_ptr(), dst.len(), ld, lhs, rhs, accumulate) }
}

/// `dst = lhs * rhs` into `m x n` slots not yet written (rows back to back, `m * n` slots), which
/// the product never reads; returns them, now written, as values. Saves the zero fill of a
/// convolution's output that the product overwrites anyway.
///
/// # Panics
/// As [`matmul`], and when `dst` does not hold exactly `m * n` slots.
pub(crate) fn matmul_uninit<'d, T: Elem>(
    dst: &'d mut [MaybeUninit<T>],
    lhs: Mat<'_, T>,
    rhs: Mat<'_, T>,
) -> &'d mut [T] {
    let n = rhs.cols;
    assert_eq!(dst.len(), lhs.rows * n, "matmul: destination size");
    // SAFETY: without `accumulate` gemm only writes `dst` (`read_dst` false), and the `k == 0`
    // case fills it; either way every one of the `m * n` slots (rows `n` apart, so all of
    // `dst`) is written before the slice is reinterpreted as initialised values.
    unsafe {
        gemm_into(dst.as_mut_ptr().cast::<T>(), dst.len(), n, lhs, rhs, false);
        &mut *(std::ptr::from_mut(dst) as *mut [T])
    }
}

/// The GEMM behind [`matmul`] and [`matmul_uninit`].
///
/// # Safety
/// `dst` must be valid for writes of `len` elements, and initialised when `accumulate`.
unsafe fn gemm_into<T: Elem>(
    dst: *mut T,
    len: usize,
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
        m == 0 || n == 0 || (m - 1) * ld + n <= len,
        "matmul: destination out of bounds"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                for c in 0..n {
                    // SAFETY: `r * ld + c < len` by the assert above.
                    unsafe { dst.add(r * ld + c).write(T::ZERO) };
                }
            }
        }
        return;
    }
    // SAFETY: the asserts above keep every element the three views address inside its slice
    // (and `dst`'s within `len`); `dst` is exclusively the caller's, so it cannot alias `lhs`
    // or `rhs`; strides fit in isize since they index allocated slices; T is f32 or f64, both
    // of which gemm implements; without `accumulate` gemm does not read `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
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

    #[test]
    fn the_product_into_unwritten_slots_equals_the_plain_one() {
        let lhs: Vec<f32> = (0..35).map(|i| (i % 7) as f32 - 3.0).collect();
        let rhs: Vec<f32> = (0..63).map(|i| (i % 5) as f32 * 0.5).collect();
        let (lhs, rhs) = (Mat::rows(&lhs, 5, 7, 7), Mat::rows(&rhs, 7, 9, 9));
        let mut want = vec![0.0f32; 45];
        matmul(&mut want, 9, lhs, rhs, false);
        let mut slots = vec![std::mem::MaybeUninit::<f32>::uninit(); 45];
        assert_eq!(matmul_uninit(&mut slots, lhs, rhs), want.as_slice());
        // No inner dimension: the product is zeros, written.
        let empty = Mat::rows(&[] as &[f32], 5, 0, 0);
        let none = Mat::rows(&[] as &[f32], 0, 9, 9);
        let mut slots = vec![std::mem::MaybeUninit::<f32>::uninit(); 45];
        assert!(matmul_uninit(&mut slots, empty, none)
            .iter()
            .all(|&v| v == 0.0));
    }
}
