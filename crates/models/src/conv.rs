//! Where the models' layers meet the fast CPU kernels of `cxr-kernels`, and the candle ops that
//! stand in for them on a GPU.
//!
//! The layers keep candle-nn's `Conv2d` (weights and names stay as the initializer and the
//! checkpoint loader made them) and the model code calls these functions instead of
//! `Module::forward`: on the CPU with f32 or f64 they run the `cxr-kernels` custom ops, whose
//! backward passes are GEMMs and skip the input gradient when no one needs it; anywhere else
//! (CUDA) they run candle's ops, with the same results up to rounding: cuDNN convolutions,
//! BatchNorm composed from reductions and broadcasts ([`crate::batch_norm`]), and [`max_pool2d`]
//! composed from strided window views for the pools candle's own `max_pool2d` cannot train.
//!
//! The candle-op path also runs on the CPU, slowly, inside [`with_candle_ops`] or with the
//! environment variable `CXR_CANDLE_OPS=1`: that is how the tests check it against the kernels
//! on machines without a GPU, and how a CPU sweep rehearses exactly the ops a GPU sweep runs.

use std::cell::Cell;
use std::sync::OnceLock;

use candle_core::{DType, Tensor};
use candle_nn::{Conv2d, Module};
use cxr_kernels::MaxPool2d;

use crate::batch_norm::BatchNorm;

/// The environment variable that sends every op down the candle path (diagnostics).
pub const CANDLE_OPS_ENV: &str = "CXR_CANDLE_OPS";

thread_local! {
    static CANDLE_OPS: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with every layer on candle's ops (the GPU path) on this thread, even on the CPU.
pub fn with_candle_ops<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            CANDLE_OPS.with(|c| c.set(self.0));
        }
    }
    let _reset = Reset(CANDLE_OPS.with(|c| c.replace(true)));
    f()
}

fn candle_ops_forced() -> bool {
    static FROM_ENV: OnceLock<bool> = OnceLock::new();
    CANDLE_OPS.with(Cell::get)
        || *FROM_ENV
            .get_or_init(|| std::env::var(CANDLE_OPS_ENV).is_ok_and(|v| !v.is_empty() && v != "0"))
}

/// Whether `xs` can run on the `cxr-kernels` ops.
pub(crate) fn use_kernels(xs: &Tensor) -> bool {
    xs.device().is_cpu() && matches!(xs.dtype(), DType::F32 | DType::F64) && !candle_ops_forced()
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

/// `conv` -> `bn` (eval mode: its running statistics) -> ReLU when `relu`, as one convolution:
/// the BatchNorm folded into the convolution's weight and bias ([`BatchNorm::fold`]), the bias
/// and the ReLU applied in the convolution's epilogue ([`cxr_kernels::conv2d_bias_relu`]). One
/// pass over the activation instead of three (write, then read and write again); gradients
/// still reach the weights and the BatchNorm's scale and shift through the fold. `None` where
/// the kernels do not run (a GPU, candle's ops forced) or the convolution is one they do not
/// cover: the caller runs the unfolded layers.
pub(crate) fn conv_bn_eval(
    conv: &Conv2d,
    bn: &BatchNorm,
    xs: &Tensor,
    relu: bool,
) -> candle_core::Result<Option<Tensor>> {
    let config = conv.config();
    if !use_kernels(xs) || config.dilation != 1 || config.groups != 1 {
        return Ok(None);
    }
    let (weight, bias) = bn.fold(conv.weight(), conv.bias())?;
    let (stride, padding) = (config.stride, config.padding);
    let ys = if relu {
        cxr_kernels::conv2d_bias_relu(xs, &weight, &bias, stride, padding)?
    } else {
        cxr_kernels::conv2d_bias(xs, &weight, &bias, stride, padding)?
    };
    Ok(Some(ys))
}

/// `relu(a + b)` for two tensors of the same shape.
pub fn add_relu(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    if use_kernels(a) {
        cxr_kernels::add_relu(a, b)
    } else {
        (a + b)?.relu()
    }
}

/// `pool` over `(batch, C, H, W)`, PyTorch's output size and -inf padding on every device.
pub fn max_pool2d(pool: MaxPool2d, xs: &Tensor) -> candle_core::Result<Tensor> {
    if use_kernels(xs) {
        return pool.forward(xs);
    }
    let MaxPool2d {
        kernel,
        stride,
        padding,
    } = pool;
    // Not candle's `max_pool2d` even where windows tile the input: its backward multiplies
    // each gradient by the share of the window holding the maximum (1/4 for a 2x2 window with
    // one maximum) instead of dividing by the number of maxima.
    let (_, _, h, w) = xs.dims4()?;
    if h + 2 * padding < kernel || w + 2 * padding < kernel || stride == 0 {
        candle_core::bail!("max-pool {pool:?} does not fit input {:?}", xs.dims());
    }
    let (out_h, out_w) = (
        (h + 2 * padding - kernel) / stride + 1,
        (w + 2 * padding - kernel) / stride + 1,
    );
    // Pad with -inf so that every window `(dy, dx)` can be read as one strided view of
    // `out_h x out_w` elements: rows dy, dy + stride, ..., likewise columns.
    let padded = pad_neg_inf(
        xs,
        2,
        padding,
        (kernel - 1 + stride * out_h).max(h + 2 * padding),
    )?;
    let padded = pad_neg_inf(
        &padded,
        3,
        padding,
        (kernel - 1 + stride * out_w).max(w + 2 * padding),
    )?;
    let mut pooled: Option<Tensor> = None;
    for dy in 0..kernel {
        let rows = strided(&padded, 2, dy, stride, out_h)?;
        for dx in 0..kernel {
            let window = strided(&rows, 3, dx, stride, out_w)?;
            pooled = Some(match pooled {
                None => window,
                Some(max) => max.maximum(&window)?,
            });
        }
    }
    pooled.ok_or_else(|| candle_core::Error::Msg("max-pool with an empty kernel".into()))
}

/// `xs` with `before` values of -inf ahead of dimension `dim` and as many after as make it
/// `total` long.
fn pad_neg_inf(
    xs: &Tensor,
    dim: usize,
    before: usize,
    total: usize,
) -> candle_core::Result<Tensor> {
    let size = xs.dim(dim)?;
    let after = total - size - before;
    let block = |len: usize| {
        let mut shape = xs.dims().to_vec();
        shape[dim] = len;
        Tensor::zeros(shape, xs.dtype(), xs.device())? - f64::INFINITY
    };
    let mut parts = Vec::with_capacity(3);
    if before > 0 {
        parts.push(block(before)?);
    }
    parts.push(xs.clone());
    if after > 0 {
        parts.push(block(after)?);
    }
    if parts.len() == 1 {
        return Ok(xs.clone());
    }
    Tensor::cat(&parts, dim)
}

/// Elements `start, start + step, ..., start + step * (len - 1)` of dimension `dim` (which must
/// hold at least `start + step * len`), as a contiguous tensor with a backward pass.
fn strided(
    xs: &Tensor,
    dim: usize,
    start: usize,
    step: usize,
    len: usize,
) -> candle_core::Result<Tensor> {
    let taken = xs.narrow(dim, start, step * len)?;
    if step == 1 {
        return taken.contiguous();
    }
    let mut split = xs.dims().to_vec();
    split[dim] = len;
    split.insert(dim + 1, step);
    let mut out = xs.dims().to_vec();
    out[dim] = len;
    taken.reshape(split)?.narrow(dim + 1, 0, 1)?.reshape(out)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

    fn largest(t: &Tensor) -> TestResult<f64> {
        Ok(t.abs()?.max_all()?.to_scalar::<f64>()?)
    }

    /// The composed pool equals the kernel's, forward and backward, on data without ties.
    fn composed_equals_kernel(pool: MaxPool2d, h: usize, w: usize) -> TestResult {
        let at = format!("{pool:?} on {h}x{w}");
        let x = Var::randn(0f64, 1., (2, 3, h, w), &Device::Cpu)?;
        let go = || max_pool2d(pool, x.as_tensor());
        let (kernel_y, candle_y) = (go()?, with_candle_ops(go)?);
        assert_eq!(kernel_y.dims(), candle_y.dims(), "{at}");
        assert_eq!(largest(&(&kernel_y - &candle_y)?)?, 0.0, "{at}");
        let weights = Tensor::randn(0f64, 1., kernel_y.shape(), &Device::Cpu)?;
        let grad = |y: &Tensor| -> TestResult<Tensor> {
            let grads = (y * &weights)?.sum_all()?.backward()?;
            Ok(grads.get(&x).ok_or("no gradient")?.clone())
        };
        let diff = (grad(&kernel_y)? - grad(&candle_y)?)?;
        assert!(largest(&diff)? < 1e-12, "{at}");
        Ok(())
    }

    #[test]
    fn composed_pools_match_the_kernel_forward_and_backward() -> TestResult {
        composed_equals_kernel(MaxPool2d::RESNET_STEM, 8, 8)?;
        composed_equals_kernel(MaxPool2d::RESNET_STEM, 7, 9)?;
        composed_equals_kernel(MaxPool2d::HALVE, 8, 6)?;
        composed_equals_kernel(MaxPool2d::HALVE, 5, 7)?; // floor: last row and column dropped
        let wide = MaxPool2d {
            kernel: 3,
            stride: 3,
            padding: 0,
        };
        composed_equals_kernel(wide, 10, 9)
    }

    #[test]
    fn with_candle_ops_is_scoped_to_the_call() -> TestResult {
        let x = Tensor::zeros((1, 1, 2, 2), DType::F32, &Device::Cpu)?;
        let before = use_kernels(&x);
        with_candle_ops(|| assert!(!use_kernels(&x)));
        assert_eq!(use_kernels(&x), before);
        assert_eq!(before, !candle_ops_forced());
        Ok(())
    }
}
