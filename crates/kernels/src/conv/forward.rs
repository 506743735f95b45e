//! The forward pass: `out[n] (Cout, P) = W (Cout, K) * col(x[n]) (K, P)`, one GEMM per group.

use rayon::prelude::*;

use super::group::{fill_columns, Plan};
use crate::elem::{scratch, zeros, Elem};
use crate::im2col::ConvGeometry;
use crate::matmul::{matmul, Mat};

/// The convolution, plus `bias` per output channel (added to each group's output while it is
/// still in cache).
pub(super) fn forward<T: Elem>(g: &ConvGeometry, x: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
    let mut out = zeros(g.n * g.out_image());
    let plan = Plan::new(g);
    let (k, p) = (g.k(), g.out_pixels());
    let weight = Mat::rows(w, g.c_out, k, k);
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
                    if let Some(bias) = bias {
                        for (plane, out) in out.chunks_mut(p.max(1)).enumerate() {
                            let b = bias[plane % g.c_out];
                            out.iter_mut().for_each(|v| *v += b);
                        }
                    }
                }
            })
        });
    out
}
