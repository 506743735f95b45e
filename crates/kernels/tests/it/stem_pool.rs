//! `batch_norm_relu_max_pool_train` (the ResNet stem's BatchNorm+ReLU+pool) against this
//! crate's unfused ops, which the other tests check against candle and finite differences: bit
//! for bit, forward and the three gradients, f32 and f64, for the stem's padded 3x3/2 pool and
//! the halving one; and against finite differences (f64) where no value sits on the ReLU's kink.

use candle_core::backprop::GradStore;
use candle_core::{DType, Result, Tensor, Var};
use cxr_kernels::MaxPool2d;

use crate::support::{assert_finite_differences, tensor, var};

const EPS: f64 = 1e-5;

const CASES: [(MaxPool2d, [usize; 4]); 5] = [
    (MaxPool2d::RESNET_STEM, [1, 3, 7, 5]),
    (MaxPool2d::RESNET_STEM, [2, 5, 6, 6]),
    (MaxPool2d::RESNET_STEM, [3, 4, 9, 8]),
    (MaxPool2d::HALVE, [2, 3, 5, 7]),
    (MaxPool2d::HALVE, [4, 6, 4, 4]),
];

fn fused(x: &Tensor, w: &Tensor, b: &Tensor, pool: MaxPool2d) -> Result<Tensor> {
    Ok(cxr_kernels::batch_norm_relu_max_pool_train(x, w, b, EPS, pool)?.0)
}

fn bits(t: &Tensor) -> Result<Vec<u64>> {
    let t = t.flatten_all()?;
    Ok(match t.dtype() {
        DType::F32 => t
            .to_vec1::<f32>()?
            .into_iter()
            .map(|v| u64::from(v.to_bits()))
            .collect(),
        _ => t.to_vec1::<f64>()?.into_iter().map(f64::to_bits).collect(),
    })
}

fn grad_bits(grads: &GradStore, v: &Var, name: &str) -> Result<Vec<u64>> {
    bits(
        grads
            .get(v)
            .ok_or_else(|| candle_core::Error::Msg(format!("no {name} gradient")))?,
    )
}

#[test]
fn equals_the_unfused_ops_bit_for_bit() -> Result<()> {
    for dtype in [DType::F32, DType::F64] {
        for (i, (pool, shape)) in CASES.into_iter().enumerate() {
            let seed = 500 + 10 * i as u64;
            let x = var(&shape, seed, dtype)?;
            let w = var(&[shape[1]], seed + 1, dtype)?;
            let b = var(&[shape[1]], seed + 2, dtype)?;
            let (xt, wt, bt) = (x.as_tensor(), w.as_tensor(), b.as_tensor());
            let (y, stats) = cxr_kernels::batch_norm_relu_max_pool_train(xt, wt, bt, EPS, pool)?;
            let (z, stats_ref) = cxr_kernels::batch_norm_train(xt, wt, bt, EPS, true)?;
            let y_ref = pool.forward(&z)?;
            let what = format!("{dtype:?} {pool:?} {shape:?}");
            assert_eq!(stats, stats_ref, "{what}: statistics");
            assert_eq!(bits(&y)?, bits(&y_ref)?, "{what}: forward");
            let r = tensor(y.dims(), seed + 3, dtype)?;
            let g = (y * &r)?.sum_all()?.backward()?;
            let g_ref = (y_ref * &r)?.sum_all()?.backward()?;
            for (name, v) in [("input", &x), ("weight", &w), ("bias", &b)] {
                assert_eq!(
                    grad_bits(&g, v, name)?,
                    grad_bits(&g_ref, v, name)?,
                    "{what}: {name}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn gradients_match_finite_differences() -> Result<()> {
    for (i, (pool, shape)) in CASES.into_iter().enumerate() {
        let seed = 600 + 10 * i as u64;
        let x = var(&shape, seed, DType::F64)?;
        let w = var(&[shape[1]], seed + 1, DType::F64)?;
        // Biases of 4 and more keep every normalised value above 0 (|x^| <= sqrt(M) is far
        // smaller here, |w| < 1), so no finite difference straddles the ReLU's kink; random
        // inputs keep each window's maximum unique.
        let b = Var::from_tensor(&(tensor(&[shape[1]], seed + 2, DType::F64)? + 5.0)?)?;
        let r = tensor(&[shape[0], shape[1], 1, 1], seed + 3, DType::F64)?;
        let (xt, wt, bt) = (x.as_tensor(), w.as_tensor(), b.as_tensor());
        let loss_of = |y: Tensor| -> Result<Tensor> { y.broadcast_mul(&r)?.sqr()?.sum_all() };
        let grads = loss_of(fused(xt, wt, bt, pool)?)?.backward()?;
        let loss = |x: &Tensor, w: &Tensor, b: &Tensor| -> Result<f64> {
            loss_of(fused(x, w, b, pool)?)?.to_scalar::<f64>()
        };
        let what = format!("{pool:?} {shape:?}");
        let vars = [("input", &x), ("weight", &w), ("bias", &b)];
        assert_finite_differences(&what, &grads, &vars, |t| loss(t[0], t[1], t[2]), 1e-4)?;
    }
    Ok(())
}

#[test]
fn bad_shapes_are_errors() -> Result<()> {
    let w = tensor(&[3], 1, DType::F32)?;
    let one = tensor(&[1, 3, 1, 1], 2, DType::F32)?;
    assert!(
        fused(&one, &w, &w, MaxPool2d::HALVE).is_err(),
        "one value per channel"
    );
    let x = tensor(&[2, 4, 6, 6], 3, DType::F32)?;
    assert!(
        fused(&x, &w, &w, MaxPool2d::HALVE).is_err(),
        "channel count"
    );
    Ok(())
}
