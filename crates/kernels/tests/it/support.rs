//! Helpers shared by the kernel tests: seeded inputs, relative errors and finite differences.

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Result, Tensor, Var};

/// Deterministic pseudo-random values in [-1, 1) (a fixed LCG, so failures reproduce).
pub fn values(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// A tensor of `values` with `shape` and `dtype`.
pub fn tensor(shape: &[usize], seed: u64, dtype: DType) -> Result<Tensor> {
    let n = shape.iter().product();
    Tensor::from_vec(values(n, seed), shape, &Device::Cpu)?.to_dtype(dtype)
}

/// A variable of `values` with `shape` and `dtype`.
pub fn var(shape: &[usize], seed: u64, dtype: DType) -> Result<Var> {
    Var::from_tensor(&tensor(shape, seed, dtype)?)
}

/// `max |a - b| / max |b|`: the error relative to the reference's scale.
pub fn rel_err(a: &Tensor, reference: &Tensor) -> Result<f64> {
    let a = a.to_dtype(DType::F64)?.flatten_all()?;
    let b = reference.to_dtype(DType::F64)?.flatten_all()?;
    let diff = (a - &b)?.abs()?.max(0)?.to_scalar::<f64>()?;
    let scale = b.abs()?.max(0)?.to_scalar::<f64>()?.max(1e-12);
    Ok(diff / scale)
}

/// Asserts `rel_err(a, reference) <= tol`, naming `what`.
pub fn assert_close(what: &str, a: &Tensor, reference: &Tensor, tol: f64) -> Result<()> {
    assert_eq!(a.dims(), reference.dims(), "{what}: shapes differ");
    let err = rel_err(a, reference)?;
    assert!(err <= tol, "{what}: relative error {err:e} > {tol:e}");
    Ok(())
}

/// Asserts that `var`'s gradient in `grads` is within `tol` of `reference`, naming `what` and the
/// variable's `name`; panics when either is missing.
pub fn assert_grad_close(
    what: &str,
    name: &str,
    grads: &GradStore,
    var: &Var,
    reference: Option<&Tensor>,
    tol: f64,
) -> Result<()> {
    let (Some(ours), Some(reference)) = (grads.get(var), reference) else {
        panic!("{what}: missing {name} gradient");
    };
    assert_close(&format!("{what} {name} gradient"), ours, reference, tol)
}

/// [`assert_grad_close`] for each named variable, against its gradient in `reference`.
pub fn assert_grads_close(
    what: &str,
    grads: &GradStore,
    reference: &GradStore,
    vars: &[(&str, &Var)],
    tol: f64,
) -> Result<()> {
    for &(name, var) in vars {
        assert_grad_close(what, name, grads, var, reference.get(var), tol)?;
    }
    Ok(())
}

/// Asserts that each named variable's gradient in `grads` is within `tol` of the central finite
/// differences of `loss`, which takes the variables' values in `vars`' order (f64).
pub fn assert_finite_differences(
    what: &str,
    grads: &GradStore,
    vars: &[(&str, &Var)],
    loss: impl Fn(&[&Tensor]) -> Result<f64>,
    tol: f64,
) -> Result<()> {
    let at: Vec<&Tensor> = vars.iter().map(|(_, v)| v.as_tensor()).collect();
    for (i, &(name, var)) in vars.iter().enumerate() {
        let numeric = numeric_grad(at[i], |t| {
            let mut values = at.clone();
            values[i] = t;
            loss(&values)
        })?;
        assert_grad_close(what, name, grads, var, Some(&numeric), tol)?;
    }
    Ok(())
}

/// Central finite differences of the scalar `loss` with respect to every element of `at`
/// (f64), with step 1e-6.
pub fn numeric_grad(at: &Tensor, loss: impl Fn(&Tensor) -> Result<f64>) -> Result<Tensor> {
    let base = at.flatten_all()?.to_vec1::<f64>()?;
    let h = 1e-6;
    let mut grad = Vec::with_capacity(base.len());
    for i in 0..base.len() {
        let mut plus = base.clone();
        plus[i] += h;
        let mut minus = base.clone();
        minus[i] -= h;
        let lp = loss(&Tensor::from_vec(plus, at.shape(), at.device())?)?;
        let lm = loss(&Tensor::from_vec(minus, at.shape(), at.device())?)?;
        grad.push((lp - lm) / (2.0 * h));
    }
    Tensor::from_vec(grad, at.shape(), at.device())
}
