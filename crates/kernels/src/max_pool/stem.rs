//! `max_pool(relu(batch_norm(x)))`: the ResNet stem after its convolution, in training, in one
//! op.
//!
//! Unfused, the BatchNorm+ReLU writes its whole output (134 MB for ResNet18 at batch 128 and
//! 128 px), the pool reads it back, and candle keeps it alive until the backward pass as the
//! pool's input, though no gradient needs more of it than the pooled values. Fused, each plane
//! is normalised into a small per-task buffer and pooled from there with its argmax recorded;
//! the op keeps `x` (for the BatchNorm's gradient), the pooled output and the argmax.
//!
//! Backward: each output gradient goes to its window's argmax when the pooled value is above 0
//! (the ReLU's mask at that pixel, which the pooled value is), which gives BatchNorm's masked
//! gradient `g'` whole; the rest is BatchNorm's backward pass. Every value is rounded as in the
//! unfused ops, and the scatter adds in the same order, so the results are bit-identical.

use std::sync::{Arc, OnceLock};

use candle_core::{Shape, Tensor};
use rayon::prelude::*;

use super::geometry::Geometry;
use super::recording::Argmax;
use super::MaxPool2d;
use crate::batch_norm::{batch_stats, param_grad, ChannelStats, Dims, Saved};
use crate::elem::{zeros, Elem};
use crate::kernel::{Kernel, Op};

/// `max_pool(relu(batch_norm(xs)))` for `(N, C, H, W)` `xs`, normalised by the batch's own
/// statistics, scaled by `weight` and shifted by `bias` (both `(C,)`), pooled by `pool`.
/// Returns the pooled output and the batch statistics (for the running averages). CPU, f32 or
/// f64.
pub fn batch_norm_relu_max_pool_train(
    xs: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    eps: f64,
    pool: MaxPool2d,
) -> candle_core::Result<(Tensor, ChannelStats)> {
    if !super::indexable(xs) {
        // Argmax indices are u32 within a plane: the unfused ops handle larger planes.
        let (ys, stats) = crate::batch_norm_train(xs, weight, bias, eps, true)?;
        return Ok((pool.forward(&ys)?, stats));
    }
    let op = StemPool {
        eps,
        pool,
        stats: Arc::new(OnceLock::new()),
        argmax: Argmax::default(),
    };
    let stats = op.stats.clone();
    let ys = xs
        .contiguous()?
        .apply_op3(&weight.contiguous()?, &bias.contiguous()?, Op(op))?;
    let stats = stats.get().map(|s| s.stats.clone()).ok_or_else(|| {
        candle_core::Error::Msg("batch-norm-relu-max-pool: statistics were not computed".into())
    })?;
    Ok((ys, stats))
}

struct StemPool {
    eps: f64,
    pool: MaxPool2d,
    /// Set by the forward pass.
    stats: Arc<OnceLock<Saved>>,
    /// Set by the forward pass.
    argmax: Argmax,
}

impl Kernel<3> for StemPool {
    const NAME: &'static str = "batch-norm-relu-max-pool";
    type Sizes = (Dims, Geometry);

    fn check(&self, [x, w, b]: [&Shape; 3]) -> candle_core::Result<((Dims, Geometry), Shape)> {
        let d = Dims::of(Self::NAME, x, &[w.elem_count(), b.elem_count()])?;
        if d.count() < 2 {
            candle_core::bail!(
                "{}: training needs more than one value per channel, got {x:?}",
                Self::NAME
            );
        }
        let geo = self.pool.geometry(x)?;
        let out = geo.output_shape(x)?;
        Ok(((d, geo), out))
    }

    fn run<T: Elem>(
        &self,
        (d, geo): &(Dims, Geometry),
        [x, w, b]: [&[T]; 3],
    ) -> candle_core::Result<Vec<T>> {
        let _ = self.stats.set(Saved::new(batch_stats(*d, x), self.eps));
        let saved = self.stats.get().ok_or_else(|| {
            candle_core::Error::Msg("batch-norm-relu-max-pool: no statistics".into())
        })?;
        let (scale, shift) = saved.scale_shift(w, b);
        let (plane_in, plane_out) = ((geo.h * geo.w).max(1), (geo.oh * geo.ow).max(1));
        let mut out = zeros(geo.planes * plane_out);
        let mut argmax = vec![0u32; geo.planes * plane_out];
        let zero = T::ZERO;
        out.par_chunks_mut(plane_out)
            .zip(argmax.par_chunks_mut(plane_out))
            .zip(x.par_chunks(plane_in))
            .enumerate()
            .for_each_init(Vec::new, |y, (plane, ((out, argmax), x))| {
                let (a, s) = (scale[plane % d.c], shift[plane % d.c]);
                y.clear();
                y.extend(x.iter().map(|&v| {
                    let t = v * a + s;
                    if t > zero {
                        t
                    } else {
                        zero
                    }
                }));
                geo.for_each_argmax(y, |i, o| {
                    out[o] = y[i];
                    // In range: only planes of at most u32::MAX pixels come here.
                    argmax[o] = i as u32;
                });
            });
        self.argmax.set(argmax)?;
        Ok(out)
    }

    fn backward(
        &self,
        [xs, weight, _bias]: [&Tensor; 3],
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 3]> {
        let saved = Saved::of(&self.stats, "batch-norm-relu-max-pool")?;
        // BatchNorm's masked gradient, scattered whole; then BatchNorm's backward with no mask
        // left to apply (the gradient stands in for the output it would read one from).
        let unpool = Op(MaskedUnpool {
            argmax: self.argmax.clone(),
            input: xs.shape().clone(),
        });
        let masked = res.apply_op2_no_bwd(&grad.contiguous()?, &unpool)?;
        let (dx, (sum_g, sum_gx)) = saved.gradients([xs, &masked, &masked], weight, false, true)?;
        let dx = if xs.track_op() { Some(dx) } else { None };
        Ok([
            dx,
            Some(param_grad(sum_gx, weight)?),
            Some(param_grad(sum_g, weight)?),
        ])
    }
}

/// `(pooled, grad_pooled) -> g'`: each output's gradient added at its argmax when the pooled
/// value is above 0, zero elsewhere.
struct MaskedUnpool {
    argmax: Argmax,
    input: Shape,
}

impl Kernel<2> for MaskedUnpool {
    const NAME: &'static str = "batch-norm-relu-max-pool-unpool";
    /// Pixels per input plane and per output plane (at least 1, as chunk sizes).
    type Sizes = (usize, usize);

    fn check(&self, [y, grad]: [&Shape; 2]) -> candle_core::Result<((usize, usize), Shape)> {
        if y != grad {
            candle_core::bail!(
                "{}: gradient shape {grad:?} is not the output's {y:?}",
                Self::NAME
            );
        }
        let sizes = self.argmax.plane_sizes(Self::NAME, &self.input, grad)?;
        Ok((sizes, self.input.clone()))
    }

    fn run<T: Elem>(
        &self,
        &sizes: &(usize, usize),
        [y, grad_out]: [&[T]; 2],
    ) -> candle_core::Result<Vec<T>> {
        let zero = T::ZERO;
        self.argmax
            .scatter(self.input.elem_count(), sizes, grad_out, |o| y[o] > zero)
    }
}
