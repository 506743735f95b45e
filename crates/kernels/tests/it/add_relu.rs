//! `add_relu` against candle's `(a + b).relu()` (f32) and finite differences (f64).

use candle_core::{DType, Result, Tensor};

use crate::support::{
    assert_close, assert_grad_close, assert_grads_close, numeric_grad, tensor, var,
};

#[test]
fn matches_candle_and_finite_differences() -> Result<()> {
    // Odd sizes, and one above the parallel chunk (2^15) so several tasks run.
    for (i, shape) in [vec![1, 3, 5, 7], vec![2, 9, 1, 1], vec![3, 11, 33, 35]]
        .iter()
        .enumerate()
    {
        let seed = 10 * i as u64;
        let a = var(shape, seed, DType::F32)?;
        let b = var(shape, seed + 1, DType::F32)?;
        let y = cxr_kernels::add_relu(a.as_tensor(), b.as_tensor())?;
        let y_ref = (a.as_tensor() + b.as_tensor())?.relu()?;
        assert_close("forward", &y, &y_ref, 1e-6)?;
        let r = tensor(shape, seed + 2, DType::F32)?;
        let g = (y * &r)?.sum_all()?.backward()?;
        let g_ref = (y_ref * &r)?.sum_all()?.backward()?;
        let what = format!("{shape:?}");
        assert_grads_close(&what, &g, &g_ref, &[("a", &a), ("b", &b)], 1e-6)?;
    }
    let shape = [2, 3, 4, 5];
    let a = var(&shape, 7, DType::F64)?;
    let b = var(&shape, 8, DType::F64)?;
    let r = tensor(&shape, 9, DType::F64)?;
    let loss = |a: &Tensor| -> Result<f64> {
        (cxr_kernels::add_relu(a, b.as_tensor())? * &r)?
            .sum_all()?
            .to_scalar::<f64>()
    };
    let grads = (cxr_kernels::add_relu(a.as_tensor(), b.as_tensor())? * &r)?
        .sum_all()?
        .backward()?;
    let numeric = numeric_grad(a.as_tensor(), loss)?;
    assert_grad_close("finite differences", "a", &grads, &a, Some(&numeric), 1e-4)?;
    Ok(())
}

#[test]
fn constant_operand_gets_no_gradient() -> Result<()> {
    let a = var(&[2, 3], 1, DType::F32)?;
    let b = tensor(&[2, 3], 2, DType::F32)?;
    let grads = cxr_kernels::add_relu(a.as_tensor(), &b)?
        .sum_all()?
        .backward()?;
    assert!(grads.get(&b).is_none() && grads.get(&a).is_some());
    Ok(())
}
