//! Where the models' layers meet the fast CPU kernels of `cxr-kernels`.
//!
//! The layers keep candle-nn's `Conv2d` (weights and names stay as the initializer and the
//! checkpoint loader made them) and the model code calls these functions instead of
//! `Module::forward`: on the CPU with f32 or f64 they run the `cxr-kernels` custom ops, whose
//! backward passes are GEMMs and skip the input gradient when no one needs it; anywhere else
//! they fall back to candle's ops, with the same results.

use candle_core::{DType, Tensor};
use candle_nn::{Conv2d, Module};

/// Whether `xs` can run on the `cxr-kernels` ops.
pub(crate) fn use_kernels(xs: &Tensor) -> bool {
    xs.device().is_cpu() && matches!(xs.dtype(), DType::F32 | DType::F64)
}

/// `(batch, Cin, H, W) -> (batch, Cout, H', W')`: `conv`'s convolution plus its bias, if any.
pub fn conv2d(conv: &Conv2d, xs: &Tensor) -> candle_core::Result<Tensor> {
    let config = conv.config();
    if !use_kernels(xs) || config.dilation != 1 || config.groups != 1 {
        return conv.forward(xs);
    }
    let (stride, padding) = (config.stride, config.padding);
    match conv.bias() {
        Some(bias) => cxr_kernels::conv2d_bias(xs, conv.weight(), bias, stride, padding),
        None => cxr_kernels::conv2d(xs, conv.weight(), stride, padding),
    }
}

/// `relu(a + b)` for two tensors of the same shape.
pub fn add_relu(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    if use_kernels(a) {
        cxr_kernels::add_relu(a, b)
    } else {
        (a + b)?.relu()
    }
}
