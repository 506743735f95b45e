//! BatchNorm2d with PyTorch's training semantics.
//!
//! candle-nn's `BatchNorm` keeps its running statistics as plain tensors built by a `VarBuilder`;
//! this one holds all four tensors as [`Var`]s so they can be loaded, saved and checked by name,
//! and so a training-mode forward can update the running statistics in place exactly as
//! `torch.nn.BatchNorm2d` does: momentum 0.1, running variance from the *unbiased* batch variance,
//! normalisation with the *biased* one, eps 1e-5.
//!
//! On the CPU the normalisation (and the ReLU after it, with [`BatchNorm::forward_relu`]) is one
//! fused `cxr-kernels` op; elsewhere it is composed from candle ops.

use candle_core::{Tensor, Var};
use candle_nn::ModuleT;
use cxr_kernels::ChannelStats;

use crate::conv::use_kernels;

/// PyTorch's default `eps`.
const EPS: f64 = 1e-5;
/// PyTorch's default `momentum`: `running = (1 - momentum) * running + momentum * batch`.
const MOMENTUM: f64 = 0.1;

/// Batch normalisation over the channels of a `(batch, C, H, W)` tensor.
#[derive(Debug, Clone)]
pub struct BatchNorm {
    weight: Var,
    bias: Var,
    running_mean: Var,
    running_var: Var,
}

impl BatchNorm {
    /// A BatchNorm from its four `(C,)` tensors.
    pub(crate) fn new(weight: Var, bias: Var, running_mean: Var, running_var: Var) -> Self {
        Self {
            weight,
            bias,
            running_mean,
            running_var,
        }
    }

    /// Folds the running statistics into the batch statistics of `mean` and biased `var` (both
    /// `(1, C, 1, 1)`) computed over `count` values per channel.
    fn update_running_stats(
        &self,
        mean: &Tensor,
        var: &Tensor,
        count: usize,
    ) -> candle_core::Result<()> {
        let unbiased = (var.detach().flatten_all()? * (count as f64 / (count - 1) as f64))?;
        let mean = mean.detach().flatten_all()?;
        let new_mean =
            ((self.running_mean.as_detached_tensor() * (1.0 - MOMENTUM))? + (mean * MOMENTUM)?)?;
        let new_var =
            ((self.running_var.as_detached_tensor() * (1.0 - MOMENTUM))? + (unbiased * MOMENTUM)?)?;
        self.running_mean.set(&new_mean)?;
        self.running_var.set(&new_var)
    }
}

impl BatchNorm {
    /// Folds a kernel's batch statistics over `count` values per channel into the running
    /// statistics (kept in `like`'s dtype).
    fn update_running_stats_from(
        &self,
        stats: ChannelStats,
        count: usize,
        like: &Tensor,
    ) -> candle_core::Result<()> {
        let channels = stats.mean.len();
        let as_tensor =
            |v: Vec<f64>| Tensor::from_vec(v, channels, like.device())?.to_dtype(like.dtype());
        self.update_running_stats(&as_tensor(stats.mean)?, &as_tensor(stats.var)?, count)
    }

    /// `relu(batch_norm(xs))` when `relu`, else `batch_norm(xs)`; see [`ModuleT::forward_t`].
    pub fn forward_relu(
        &self,
        xs: &Tensor,
        train: bool,
        relu: bool,
    ) -> candle_core::Result<Tensor> {
        if !use_kernels(xs) {
            let ys = self.forward_composed(xs, train)?;
            return if relu { ys.relu() } else { Ok(ys) };
        }
        let (weight, bias) = (self.weight.as_tensor(), self.bias.as_tensor());
        if train {
            let (n, _, h, w) = xs.dims4()?;
            let (ys, stats) = cxr_kernels::batch_norm_train(xs, weight, bias, EPS, relu)?;
            self.update_running_stats_from(stats, n * h * w, xs)?;
            Ok(ys)
        } else {
            let stats = ChannelStats {
                mean: self
                    .running_mean
                    .as_tensor()
                    .to_dtype(candle_core::DType::F64)?
                    .to_vec1()?,
                var: self
                    .running_var
                    .as_tensor()
                    .to_dtype(candle_core::DType::F64)?
                    .to_vec1()?,
            };
            cxr_kernels::batch_norm_eval(xs, weight, bias, stats, EPS, relu)
        }
    }

    /// `relu(batch_norm(xs) + shortcut)`, the end of a residual block. On the CPU in training
    /// it is one fused op, which does not keep the BatchNorm's output for the backward pass.
    pub fn forward_add_relu(
        &self,
        xs: &Tensor,
        shortcut: &Tensor,
        train: bool,
    ) -> candle_core::Result<Tensor> {
        if !(train && use_kernels(xs)) {
            return crate::conv::add_relu(&self.forward_relu(xs, train, false)?, shortcut);
        }
        let (n, _, h, w) = xs.dims4()?;
        let (ys, stats) = cxr_kernels::batch_norm_add_relu_train(
            xs,
            shortcut,
            self.weight.as_tensor(),
            self.bias.as_tensor(),
            EPS,
        )?;
        self.update_running_stats_from(stats, n * h * w, xs)?;
        Ok(ys)
    }

    /// `pool(relu(batch_norm(xs)))` in training on the CPU, one fused op that does not keep
    /// the BatchNorm's full-size output (the ResNet stem).
    pub(crate) fn relu_max_pool_train(
        &self,
        xs: &Tensor,
        pool: cxr_kernels::MaxPool2d,
    ) -> candle_core::Result<Tensor> {
        let (n, _, h, w) = xs.dims4()?;
        let (ys, stats) = cxr_kernels::batch_norm_relu_max_pool_train(
            xs,
            self.weight.as_tensor(),
            self.bias.as_tensor(),
            EPS,
            pool,
        )?;
        self.update_running_stats_from(stats, n * h * w, xs)?;
        Ok(ys)
    }

    /// This BatchNorm in eval mode folded into the convolution before it: the `(Cout, Cin, kh,
    /// kw)` `weight` and optional `(Cout,)` `bias` of a convolution whose output it normalises
    /// become `weight * s` and `(bias - running_mean) * s + self.bias` with
    /// `s = self.weight / sqrt(running_var + eps)`, so the convolution alone computes
    /// `batch_norm(conv(x))`. The running statistics are constants; gradients flow to the
    /// convolution's parameters and to this BatchNorm's scale and shift.
    pub(crate) fn fold(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let channels = self.weight.as_tensor().dim(0)?;
        let scale = self
            .weight
            .as_tensor()
            .div(&(self.running_var.as_detached_tensor() + EPS)?.sqrt()?)?;
        let folded_weight = weight.broadcast_mul(&scale.reshape((channels, 1, 1, 1))?)?;
        let mean = self.running_mean.as_detached_tensor();
        let centered = match bias {
            Some(bias) => bias.sub(&mean)?,
            None => mean.neg()?,
        };
        let folded_bias = (centered.mul(&scale)? + self.bias.as_tensor())?;
        Ok((folded_weight, folded_bias))
    }

    /// The candle-op version, for devices the kernels do not cover.
    fn forward_composed(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let (n, c, h, w) = xs.dims4()?;
        let channel_shape = (1, c, 1, 1);
        let weight = self.weight.as_tensor().reshape(channel_shape)?;
        let bias = self.bias.as_tensor().reshape(channel_shape)?;
        let (centered, var) = if train {
            let count = n * h * w;
            if count < 2 {
                candle_core::bail!(
                    "BatchNorm in training mode needs more than one value per channel, got input {:?}",
                    xs.dims()
                );
            }
            let mean = xs.mean_keepdim((0, 2, 3))?;
            let centered = xs.broadcast_sub(&mean)?;
            let var = centered.sqr()?.mean_keepdim((0, 2, 3))?;
            self.update_running_stats(&mean, &var, count)?;
            (centered, var)
        } else {
            let mean = self
                .running_mean
                .as_detached_tensor()
                .reshape(channel_shape)?;
            let var = self
                .running_var
                .as_detached_tensor()
                .reshape(channel_shape)?;
            (xs.broadcast_sub(&mean)?, var)
        };
        // One (1, C, 1, 1) scale instead of a divide and a multiply over the whole activation.
        let scale = weight.broadcast_div(&(var + EPS)?.sqrt()?)?;
        centered.broadcast_mul(&scale)?.broadcast_add(&bias)
    }
}

impl ModuleT for BatchNorm {
    /// `(batch, C, H, W) -> (batch, C, H, W)`. With `train`, normalises by the batch statistics
    /// (gradients flow through them) and updates the running statistics; otherwise normalises by
    /// the running statistics.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.forward_relu(xs, train, false)
    }
}
