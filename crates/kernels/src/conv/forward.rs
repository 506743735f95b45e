//! The forward pass: `out[n] (Cout, P) = W (Cout, K) * col(x[n]) (K, P)`, one GEMM per group,
//! then the [`Epilogue`] on each group's output while it is still in cache.

use std::mem::MaybeUninit;

use super::group::{fill_columns, Plan};
use super::winograd;
use crate::elem::{scratch, Elem};
use crate::im2col::ConvGeometry;
use crate::matmul::{matmul, matmul_uninit, Mat};

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
/// `epilogue`. The output is written once, by the GEMM or the copy out of a group's product,
/// never zero-filled first.
pub(super) fn forward<T: Elem>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    w_ld: usize,
    epilogue: Epilogue<'_, T>,
) -> Vec<T> {
    if winograd::applies(g) {
        return winograd::forward(g, x, w, w_ld, epilogue);
    }
    let total = g.n * g.out_image();
    let mut out = Vec::with_capacity(total);
    let plan = Plan::new(g);
    let (k, p) = (g.k(), g.out_pixels());
    let weight = Mat::rows(w, g.c_out, k, w_ld);
    let all = &mut out.spare_capacity_mut()[..total];
    plan.for_each_group(
        all,
        g.out_image(),
        |first, count, slots, col_buf, tmp_buf| {
            let x = &x[first * g.in_image()..][..count * g.in_image()];
            let out = if count == 1 && g.is_pointwise() {
                matmul_uninit(slots, weight, Mat::rows(x, k, p, p))
            } else {
                let col = fill_columns(g, x, count, col_buf);
                let ld = count * p;
                if count == 1 {
                    matmul_uninit(slots, weight, Mat::rows(col, k, p, p))
                } else {
                    let tmp = scratch(tmp_buf, g.c_out * ld);
                    matmul(tmp, ld, weight, Mat::rows(col, k, ld, ld), false);
                    scatter_images(g, tmp, count, slots)
                }
            };
            apply(out, p, g.c_out, epilogue);
        },
    );
    // SAFETY: the tasks' chunks cover all `total` slots, and each group wrote every slot of its
    // images (`matmul_uninit` writes all it is given; `scatter_images` writes every image's
    // planes), so the whole output is initialised.
    unsafe { out.set_len(total) };
    out
}

/// Writes `count` images' `(Cout, P)` blocks, side by side in `tmp` (`(Cout, count * P)`), to
/// `slots` one image after another; returns them, now written.
fn scatter_images<'d, T: Elem>(
    g: &ConvGeometry,
    tmp: &[T],
    count: usize,
    slots: &'d mut [MaybeUninit<T>],
) -> &'d mut [T] {
    let p = g.out_pixels();
    let ld = count * p;
    assert_eq!(slots.len(), count * g.c_out * p, "conv forward: group size");
    for (plane, dst) in slots.chunks_exact_mut(p.max(1)).enumerate() {
        let (img, c) = (plane / g.c_out, plane % g.c_out);
        for (d, &v) in dst.iter_mut().zip(&tmp[c * ld + img * p..][..p]) {
            d.write(v);
        }
    }
    // SAFETY: `slots` is `count * c_out` planes of `p` slots (asserted), and the loop wrote each
    // plane whole from a `p`-long run of `tmp`.
    unsafe { &mut *(std::ptr::from_mut(slots) as *mut [T]) }
}

/// `out` (images x `c_out` planes of `p` pixels) plus each plane's bias, then ReLU when asked.
pub(super) fn apply<T: Elem>(out: &mut [T], p: usize, c_out: usize, epilogue: Epilogue<'_, T>) {
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
