//! `MaxPool2d` against candle's `max_pool2d` (2x2/2, f32 forward) and finite differences (f64,
//! gradients) for the ResNet stem's padded 3x3/2 window and the halving pool, over odd shapes.
//!
//! Not against candle's gradient: candle 0.11's `max_pool2d` backward multiplies each window's
//! gradient by the share of maxima in the window (1/4 for a 2x2 window with one maximum), so it
//! is a quarter of the true gradient; finite differences are the reference instead.

use candle_core::{DType, Result, Tensor};

use cxr_kernels::MaxPool2d;

use crate::support::{assert_close, assert_grad_close, numeric_grad, tensor, var};

#[test]
fn halving_pool_matches_candle() -> Result<()> {
    for (i, shape) in [[1, 3, 8, 6], [3, 5, 4, 10], [2, 9, 2, 2]]
        .iter()
        .enumerate()
    {
        let x = var(shape, i as u64, DType::F32)?;
        let y = MaxPool2d::HALVE.forward(x.as_tensor())?;
        let y_ref = x.as_tensor().max_pool2d(2)?;
        assert_close("forward", &y, &y_ref, 0.0)?;
    }
    Ok(())
}

#[test]
fn padded_pools_match_finite_differences() -> Result<()> {
    let stem = MaxPool2d::RESNET_STEM;
    let cases = [
        (stem, [1, 3, 7, 5]),
        (stem, [2, 5, 6, 6]),
        (MaxPool2d::HALVE, [2, 3, 5, 7]),
    ];
    for (i, (pool, shape)) in cases.into_iter().enumerate() {
        // Random values are distinct, so each window's maximum is unique and the pool is
        // differentiable there.
        let x = var(&shape, 20 + i as u64, DType::F64)?;
        let y = pool.forward(x.as_tensor())?;
        let r = tensor(y.dims(), 30 + i as u64, DType::F64)?;
        let grads = (y * &r)?.sum_all()?.backward()?;
        let numeric = numeric_grad(x.as_tensor(), |x| {
            (pool.forward(x)? * &r)?.sum_all()?.to_scalar::<f64>()
        })?;
        let what = format!("{pool:?} {shape:?}");
        assert_grad_close(&what, "input", &grads, &x, Some(&numeric), 1e-4)?;
    }
    Ok(())
}

#[test]
fn output_side_follows_pytorch() -> Result<()> {
    let x = Tensor::zeros((2, 3, 7, 9), DType::F32, &candle_core::Device::Cpu)?;
    assert_eq!(MaxPool2d::RESNET_STEM.forward(&x)?.dims(), [2, 3, 4, 5]);
    Ok(())
}
