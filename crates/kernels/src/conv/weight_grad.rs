//! The weight gradient: `dW (Cout, K) = sum_n dy[n] (Cout, P) * col(x[n])^T (P, K)`, one GEMM per
//! group into a partial per rayon task, the partials summed at the end.

use candle_core::Shape;
use rayon::prelude::*;

use super::group::{fill_columns, gather, Plan};
use super::{check_grad_shape, winograd, Conv2d};
use crate::elem::{zeros, Elem};
use crate::im2col::ConvGeometry;
use crate::kernel::Kernel;
use crate::matmul::{matmul, Mat};

/// `(input, grad_output) -> grad_weight` for a `kh x kw` kernel.
pub(super) struct ConvWeightGrad {
    pub(super) conv: Conv2d,
    pub(super) kh: usize,
    pub(super) kw: usize,
}

impl Kernel<2> for ConvWeightGrad {
    const NAME: &'static str = "conv2d-weight-grad";
    type Sizes = ConvGeometry;

    fn check(&self, [x, dy]: [&Shape; 2]) -> candle_core::Result<(ConvGeometry, Shape)> {
        let (_, c_in, _, _) = x.dims4()?;
        let (_, c_out, _, _) = dy.dims4()?;
        let w_shape = Shape::from((c_out, c_in, self.kh, self.kw));
        let g = self.conv.geometry(x, &w_shape)?;
        check_grad_shape(Self::NAME, &g, dy, c_out)?;
        Ok((g, w_shape))
    }

    fn run<T: Elem>(&self, g: &ConvGeometry, [x, dy]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        Ok(weight_grad(g, x, dy))
    }
}

/// Output channels per block of the final transpose: one 64-byte cache line of f32.
const CHANNEL_BLOCK: usize = 16;

/// `dW` from the input and the output gradient.
fn weight_grad<T: Elem>(g: &ConvGeometry, x: &[T], dy: &[T]) -> Vec<T> {
    if winograd::applies(g) {
        return winograd::weight_grad(g, x, dy);
    }
    let plan = Plan::new(g);
    let (k, p) = (g.k(), g.out_pixels());
    let init = || vec![T::ZERO; g.c_out * k];
    let partials = plan.fold_tasks(g.n, init, |dw, first, count, col_buf, dy_buf| {
        let x = &x[first * g.in_image()..][..count * g.in_image()];
        let dy = &dy[first * g.out_image()..][..count * g.out_image()];
        let ld = count * p;
        let cols = if count == 1 && g.is_pointwise() {
            x
        } else {
            fill_columns(g, x, count, col_buf)
        };
        let dy = if count == 1 {
            dy
        } else {
            gather(g, dy, count, dy_buf)
        };
        // dW^T (K, Cout) += col (K, ld) * dy^T (ld, Cout). Computing the transpose lets the
        // GEMM pack dy (Cout x ld) rather than the column matrix (K x ld, nine times larger for
        // a 3x3 convolution).
        matmul(
            dw,
            g.c_out,
            Mat::rows(cols, k, ld, ld),
            Mat::rows(dy, g.c_out, ld, ld).t(),
            true,
        );
    });
    // Sum the tasks' (K, Cout) partials and transpose to (Cout, K) in one parallel pass, a
    // block of output rows (channels) at a time: each partial row `r` gives the block one
    // contiguous run of `CHANNEL_BLOCK` values, so every cache line read is used whole (a
    // column-at-a-time transpose read one value per line: 10% of a ResNet18 training step).
    let mut total = zeros(g.c_out * k);
    total
        .par_chunks_mut((CHANNEL_BLOCK * k).max(1))
        .enumerate()
        .for_each(|(block, rows)| {
            let c0 = block * CHANNEL_BLOCK;
            let width = rows.len() / k.max(1);
            for r in 0..k {
                for (i, part) in partials.iter().enumerate() {
                    let run = &part[r * g.c_out + c0..][..width];
                    for (j, &v) in run.iter().enumerate() {
                        let out = &mut rows[j * k + r];
                        *out = if i == 0 { v } else { *out + v };
                    }
                }
            }
        });
    total
}
