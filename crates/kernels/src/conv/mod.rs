//! 2-D convolution (no bias, dilation 1, one group) with its two gradients, each as im2col or
//! col2im around one GEMM per group of images.
//!
//! candle 0.11's CPU convolution computes the input gradient with a direct `conv_transpose2d`
//! loop (about a sixth of the machine's GEMM speed) and computes it even when no one needs it
//! (the image, the output of a detached frozen prefix). Here each pass is a GEMM:
//!
//! - forward: `out[n] (Cout, P) = W (Cout, K) * col(x[n]) (K, P)`
//! - weight gradient: `dW (Cout, K) = sum_n dy[n] (Cout, P) * col(x[n])^T (P, K)`
//! - input gradient: `dx[n] = col2im(W^T (K, Cout) * dy[n] (Cout, P))`, skipped when the input
//!   does not track gradients (candle's `track_op`: neither a variable nor computed from one).
//!
//! with `K = Cin * kh * kw` and `P` output pixels. Images are split across rayon's threads (one
//! contiguous run each, so nothing is shared but the weight), and within a thread several small
//! images share one column matrix so each GEMM is at least [`group::TARGET_COLUMNS`] wide: a
//! GEMM packs its operands, and packing a 512 x 4608 weight for a 16-column product would cost
//! more than the product.
//!
//! This module holds the public functions and the ops with their shape checks; `forward`,
//! `weight_grad` and `input_grad` the three GEMM passes (the gradients with their ops), and
//! `group` how a batch is cut into tasks and GEMM groups.

mod forward;
mod group;
mod input_grad;
mod weight_grad;
mod winograd;

use candle_core::{Shape, Tensor};
use rayon::prelude::*;

use crate::add_relu::ReluMask;
use crate::elem::Elem;
use crate::error::KernelError;
use crate::im2col::ConvGeometry;
use crate::kernel::{Kernel, Op};
use crate::reduce::sum1;
use forward::{forward, Epilogue};
use input_grad::ConvInputGrad;
use weight_grad::ConvWeightGrad;

/// `(N, Cin, H, W) * (Cout, Cin, kh, kw) -> (N, Cout, OH, OW)` with `OH = (H + 2p - kh) / s + 1`.
/// CPU, f32 or f64. The backward pass computes the weight gradient when the weight tracks
/// gradients and the input gradient when the input does.
pub fn conv2d(
    xs: &Tensor,
    weight: &Tensor,
    stride: usize,
    padding: usize,
) -> candle_core::Result<Tensor> {
    xs.contiguous()?
        .apply_op2(&weight.contiguous()?, Op(Conv2d { stride, padding }))
}

/// [`conv2d`] plus a `(Cout,)` bias, whose gradient (the per-channel sum of the output
/// gradient) is computed in the same backward pass rather than by candle's broadcast-add
/// backward, a strided reduction over three dimensions that cost as much as the convolution.
pub fn conv2d_bias(
    xs: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    stride: usize,
    padding: usize,
) -> candle_core::Result<Tensor> {
    let conv = Conv2d { stride, padding };
    ConvBias { conv, relu: false }.apply(xs, weight, bias)
}

/// `relu(conv2d(xs, weight) + bias)` in one op: the bias and the ReLU are applied to each group
/// of output planes while it is still in cache, and the backward masks the gradient by the
/// output before [`conv2d_bias`]'s gradients. What a conv -> BatchNorm -> ReLU unit becomes in
/// eval mode, the BatchNorm folded into the weight and bias (`cxr-models` does the folding).
pub fn conv2d_bias_relu(
    xs: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    stride: usize,
    padding: usize,
) -> candle_core::Result<Tensor> {
    let conv = Conv2d { stride, padding };
    ConvBias { conv, relu: true }.apply(xs, weight, bias)
}

/// The forward op; see [`conv2d`].
#[derive(Debug, Clone, Copy)]
struct Conv2d {
    stride: usize,
    padding: usize,
}

impl Conv2d {
    fn geometry(&self, x: &Shape, w: &Shape) -> Result<ConvGeometry, KernelError> {
        let (n, c_in, h, width) = x.dims4().map_err(|e| shape_err(Self::NAME, e))?;
        let (c_out, wc_in, kh, kw) = w.dims4().map_err(|e| shape_err(Self::NAME, e))?;
        let g = ConvGeometry {
            n,
            c_in,
            h,
            w: width,
            c_out,
            kh,
            kw,
            stride: self.stride,
            padding: self.padding,
        };
        if wc_in != c_in
            || self.stride == 0
            || h + 2 * self.padding < kh
            || width + 2 * self.padding < kw
        {
            return Err(KernelError::Shape {
                op: Self::NAME,
                detail: format!(
                    "input {x:?} does not fit weight {w:?} with stride {} padding {}",
                    self.stride, self.padding
                ),
            });
        }
        Ok(g)
    }
}

/// `(N, Cout, OH, OW)`.
fn output_shape(g: &ConvGeometry) -> Shape {
    Shape::from((g.n, g.c_out, g.oh(), g.ow()))
}

fn shape_err(op: &'static str, e: candle_core::Error) -> KernelError {
    KernelError::Shape {
        op,
        detail: e.to_string(),
    }
}

impl Kernel<2> for Conv2d {
    const NAME: &'static str = "conv2d";
    type Sizes = ConvGeometry;

    fn check(&self, [x, w]: [&Shape; 2]) -> candle_core::Result<(ConvGeometry, Shape)> {
        let g = self.geometry(x, w)?;
        Ok((g, output_shape(&g)))
    }

    fn run<T: Elem>(&self, g: &ConvGeometry, [x, w]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        Ok(forward(g, x, w, g.k(), Epilogue::NONE))
    }

    fn backward(
        &self,
        [xs, weight]: [&Tensor; 2],
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 2]> {
        self.grads(xs, weight, &grad.contiguous()?)
    }
}

impl Conv2d {
    /// `(dx, dw)` from a contiguous output gradient, each only when its tensor tracks gradients.
    fn grads(
        &self,
        xs: &Tensor,
        weight: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 2]> {
        let dx = if xs.track_op() {
            let (_, _, h, w) = xs.dims4()?;
            let op = ConvInputGrad { conv: *self, h, w };
            Some(weight.apply_op2_no_bwd(grad, &Op(op))?)
        } else {
            None
        };
        let dw = if weight.track_op() {
            let (_, _, kh, kw) = weight.dims4()?;
            let op = ConvWeightGrad {
                conv: *self,
                kh,
                kw,
            };
            Some(xs.apply_op2_no_bwd(grad, &Op(op))?)
        } else {
            None
        };
        Ok([dx, dw])
    }
}

/// Convolution plus bias, then ReLU when `relu`; see [`conv2d_bias`] and [`conv2d_bias_relu`].
struct ConvBias {
    conv: Conv2d,
    relu: bool,
}

impl ConvBias {
    fn apply(self, xs: &Tensor, weight: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
        xs.contiguous()?
            .apply_op3(&weight.contiguous()?, &bias.contiguous()?, Op(self))
    }
}

impl Kernel<3> for ConvBias {
    const NAME: &'static str = "conv2d-bias";
    type Sizes = ConvGeometry;

    fn check(&self, [x, w, bias]: [&Shape; 3]) -> candle_core::Result<(ConvGeometry, Shape)> {
        let g = self.conv.geometry(x, w)?;
        if bias.dims() != [g.c_out] {
            return Err(KernelError::Shape {
                op: Self::NAME,
                detail: format!("bias {bias:?} for {} output channels", g.c_out),
            }
            .into());
        }
        Ok((g, output_shape(&g)))
    }

    fn run<T: Elem>(&self, g: &ConvGeometry, [x, w, b]: [&[T]; 3]) -> candle_core::Result<Vec<T>> {
        let epilogue = Epilogue {
            bias: Some(b),
            relu: self.relu,
        };
        Ok(forward(g, x, w, g.k(), epilogue))
    }

    fn backward(
        &self,
        [xs, weight, bias]: [&Tensor; 3],
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 3]> {
        let grad = if self.relu {
            res.apply_op2_no_bwd(&grad.contiguous()?, &Op(ReluMask))?
        } else {
            grad.contiguous()?
        };
        let [dx, dw] = self.conv.grads(xs, weight, &grad)?;
        let db = if bias.track_op() {
            Some(grad.apply_op1_no_bwd(&Op(ChannelSum))?)
        } else {
            None
        };
        Ok([dx, dw, db])
    }
}

/// `(N, C, H, W) -> (C,)`: the sum over everything but the channel.
struct ChannelSum;

impl Kernel<1> for ChannelSum {
    const NAME: &'static str = "channel-sum";
    /// Images, channels, and pixels per plane.
    type Sizes = (usize, usize, usize);

    fn check(&self, [g]: [&Shape; 1]) -> candle_core::Result<((usize, usize, usize), Shape)> {
        let (n, channels, h, w) = g.dims4()?;
        Ok(((n, channels, h * w), Shape::from(channels)))
    }

    fn run<T: Elem>(
        &self,
        &(n, channels, hw): &(usize, usize, usize),
        [g]: [&[T]; 1],
    ) -> candle_core::Result<Vec<T>> {
        Ok((0..channels)
            .into_par_iter()
            .map(|c| {
                let total: f64 = (0..n)
                    .map(|i| sum1(&g[(i * channels + c) * hw..][..hw], |v| v))
                    .sum();
                T::from_f64(total)
            })
            .collect())
    }
}

/// Checks that `dy` is the gradient of the output of the convolution `g` with `c_out` channels.
fn check_grad_shape(
    op: &'static str,
    g: &ConvGeometry,
    dy: &Shape,
    c_out: usize,
) -> Result<(), KernelError> {
    if dy.dims() != [g.n, c_out, g.oh(), g.ow()] {
        return Err(KernelError::Shape {
            op,
            detail: format!(
                "gradient {dy:?} does not match the output ({}, {c_out}, {}, {})",
                g.n,
                g.oh(),
                g.ow()
            ),
        });
    }
    Ok(())
}
