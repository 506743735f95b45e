//! `relu(batch_norm(x) + shortcut)`: the end of a residual block in training, in one op.
//!
//! As a BatchNorm followed by [`crate::add_relu`], candle keeps the BatchNorm's output alive
//! until the backward pass (it is an input of the add), though no gradient needs it: one
//! activation per block, 132 MB of ResNet18's 1.3 GB of saved activations at batch 128 and
//! 128 px. Fused, the op keeps only what the gradients need (`x`, the output for the ReLU's mask,
//! the statistics), and the forward makes one pass fewer.
//!
//! Gradients, with `g' = g * [y > 0]`: the shortcut's is `g'`, and `x`'s, the weight's and the
//! bias's are BatchNorm's with `g'` (see [`crate::batch_norm_train`]), so the backward reuses
//! BatchNorm's with its ReLU mask taken from this op's output. Each value is rounded exactly as
//! in the unfused pair (`x * scale + shift`, then `+ shortcut`).

use std::sync::{Arc, OnceLock};

use candle_core::{Shape, Tensor};

use crate::add_relu::ReluMask;
use crate::batch_norm::{batch_stats, param_grad, ChannelStats, Dims, Saved};
use crate::elem::{collect_chunks, Elem};
use crate::error::KernelError;
use crate::kernel::{Kernel, Op};

/// `relu(batch_norm(xs) + shortcut)` for `(N, C, H, W)` `xs` and `shortcut`, normalised by the
/// batch's own statistics, scaled by `weight` and shifted by `bias` (both `(C,)`). Returns the
/// output and the batch statistics (for the running averages). CPU, f32 or f64.
pub fn batch_norm_add_relu_train(
    xs: &Tensor,
    shortcut: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    eps: f64,
) -> candle_core::Result<(Tensor, ChannelStats)> {
    let op = BatchNormAddRelu {
        eps,
        stats: Arc::new(OnceLock::new()),
    };
    let stats = op.stats.clone();
    // Three inputs is candle's most for a custom op; stacking gives the two parameters one,
    // and candle's own backward of the stack hands each its half of the gradient.
    let params = Tensor::stack(&[weight, bias], 0)?;
    let ys = xs
        .contiguous()?
        .apply_op3(&shortcut.contiguous()?, &params, Op(op))?;
    let stats = stats.get().map(|s| s.stats.clone()).ok_or_else(|| {
        candle_core::Error::Msg("batch-norm-add-relu: statistics were not computed".into())
    })?;
    Ok((ys, stats))
}

struct BatchNormAddRelu {
    eps: f64,
    /// Set by the forward pass.
    stats: Arc<OnceLock<Saved>>,
}

impl Kernel<3> for BatchNormAddRelu {
    const NAME: &'static str = "batch-norm-add-relu";
    type Sizes = Dims;

    fn check(&self, [x, shortcut, params]: [&Shape; 3]) -> candle_core::Result<(Dims, Shape)> {
        let channels = match params.dims() {
            [2, c] => *c,
            _ => usize::MAX, // fails the channel check below
        };
        let d = Dims::of(Self::NAME, x, &[channels])?;
        if shortcut != x || d.count() < 2 {
            return Err(KernelError::Shape {
                op: Self::NAME,
                detail: format!(
                    "input {x:?} and shortcut {shortcut:?} must match, with more than one value per channel"
                ),
            }
            .into());
        }
        Ok((d, x.clone()))
    }

    fn run<T: Elem>(&self, &d: &Dims, [x, s, params]: [&[T]; 3]) -> candle_core::Result<Vec<T>> {
        // A second forward through the same op (not done by candle) would keep the first
        // statistics; the op is built afresh for every call.
        let _ = self.stats.set(Saved::new(batch_stats(d, x), self.eps));
        let saved = self
            .stats
            .get()
            .ok_or_else(|| candle_core::Error::Msg("batch-norm-add-relu: no statistics".into()))?;
        let (scale, shift) = saved.scale_shift(&params[..d.c], &params[d.c..]);
        let hw = d.hw.max(1);
        let zero = T::ZERO;
        Ok(collect_chunks(x.len(), hw, |plane, len| {
            let (a, b) = (scale[plane % d.c], shift[plane % d.c]);
            let at = plane * hw;
            x[at..][..len]
                .iter()
                .zip(&s[at..][..len])
                .map(move |(&v, &s)| {
                    let y = v * a + b + s;
                    if y > zero {
                        y
                    } else {
                        zero
                    }
                })
        }))
    }

    fn backward(
        &self,
        [xs, shortcut, params]: [&Tensor; 3],
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 3]> {
        let saved = Saved::of(&self.stats, "batch-norm-add-relu")?;
        let grad = grad.contiguous()?;
        let (dx, (sum_g, sum_gx)) =
            saved.gradients([xs, res, &grad], &params.get(0)?, true, true)?;
        let dparams = param_grad([sum_gx, sum_g].concat(), params)?;
        let dshortcut = if shortcut.track_op() {
            Some(res.apply_op2_no_bwd(&grad, &Op(ReluMask))?)
        } else {
            None
        };
        let dx = if xs.track_op() { Some(dx) } else { None };
        Ok([dx, dshortcut, Some(dparams)])
    }
}
