//! The forward pass: `out[n] (Cout, P) = W (Cout, K) * col(x[n]) (K, P)`, one GEMM per group,
//! then the [`Epilogue`] on each group's output while it is still in cache.

use rayon::prelude::*;

use super::group::{fill_columns, Plan};
use crate::elem::{scratch, zeros, Elem};
use crate::im2col::ConvGeometry;
use crate::matmul::{matmul, Mat};

/// What is applied to the convolution's output in the same pass: `relu?(out + bias[c])`,
/// each part optional.
#[derive(Clone, Copy)]
pub(super) struct Epilogue<'a, T> {
    /// One value per output channel.
    pub(super) bias: Option<&'a [T]>,
    /// Clamp at zero last.
    pub(super) relu: bool,
}

impl<T> Epilogue<'_, T> {
    /// Nothing: the plain convolution.
    pub(super) const NONE: Self = Self {
        bias: None,
        relu: false,
    };
}

/// The convolution of `x` with the weight `w` (`Cout` rows of `K` values, `w_ld` apart), then
/// `epilogue`.
pub(super) fn forward<T: Elem>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    w_ld: usize,
    epilogue: Epilogue<'_, T>,
) -> Vec<T> {
    let mut out = zeros(g.n * g.out_image());
    let plan = Plan::new(g);
    let (k, p) = (g.k(), g.out_pixels());
    let weight = Mat::rows(w, g.c_out, k, w_ld);
    out.par_chunks_mut(plan.per_task * g.out_image())
        .enumerate()
        .for_each(|(task, out)| {
            let first = task * plan.per_task;
            T::with_scratch(|col_buf, tmp_buf| {
                for (i, count) in plan.groups(out.len() / g.out_image()) {
                    let x = &x[(first + i) * g.in_image()..][..count * g.in_image()];
                    let out = &mut out[i * g.out_image()..][..count * g.out_image()];
                    if count == 1 && g.is_pointwise() {
                        matmul(out, p, weight, Mat::rows(x, k, p, p), false);
                    } else {
                        let col = fill_columns(g, x, count, col_buf);
                        let ld = count * p;
                        if count == 1 {
                            matmul(out, p, weight, Mat::rows(col, k, p, p), false);
                        } else {
                            let tmp = scratch(tmp_buf, g.c_out * ld);
                            matmul(tmp, ld, weight, Mat::rows(col, k, ld, ld), false);
                            for img in 0..count {
                                for c in 0..g.c_out {
                                    out[img * g.out_image() + c * p..][..p]
                                        .copy_from_slice(&tmp[c * ld + img * p..][..p]);
                                }
                            }
                        }
                    }
                    apply(out, p, g.c_out, epilogue);
                }
            })
        });
    out
}

/// `out` (images x `c_out` planes of `p` pixels) plus each plane's bias, then ReLU when asked.
fn apply<T: Elem>(out: &mut [T], p: usize, c_out: usize, epilogue: Epilogue<'_, T>) {
    let Epilogue { bias, relu } = epilogue;
    if bias.is_none() && !relu {
        return;
    }
    let zero = T::ZERO;
    for (plane, out) in out.chunks_mut(p.max(1)).enumerate() {
        let b = bias.map_or(zero, |bias| bias[plane % c_out]);
        if relu {
            // `y > 0 ? y : 0`, as the other fused ReLUs: NaN becomes 0.
            out.iter_mut().for_each(|v| {
                let y = *v + b;
                *v = if y > zero { y } else { zero };
            });
        } else {
            out.iter_mut().for_each(|v| *v += b);
        }
    }
}
