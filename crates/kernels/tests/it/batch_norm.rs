//! `batch_norm_train` / `batch_norm_eval` (with and without the fused ReLU) against BatchNorm
//! composed from candle ops (f32, forward and the three gradients) and finite differences (f64).

use candle_core::{DType, Result, Tensor, Var};
use cxr_kernels::ChannelStats;

use crate::support::{assert_close, assert_finite_differences, assert_grads_close, tensor, var};

const EPS: f64 = 1e-5;

/// (batch, channels, height, width): batch 1, odd channel counts, 1x1 planes.
const SHAPES: [[usize; 4]; 4] = [[1, 3, 5, 7], [4, 5, 3, 3], [3, 9, 1, 1], [2, 17, 6, 4]];

/// BatchNorm as candle ops: batch statistics when `stats` is None, else the given ones.
fn reference(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    stats: Option<(&Tensor, &Tensor)>,
    relu: bool,
) -> Result<Tensor> {
    let c = x.dim(1)?;
    let shape = (1, c, 1, 1);
    let (mean, var) = match stats {
        Some((m, v)) => (m.reshape(shape)?, v.reshape(shape)?),
        None => {
            let mean = x.mean_keepdim((0, 2, 3))?;
            let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim((0, 2, 3))?;
            (mean, var)
        }
    };
    let y = x
        .broadcast_sub(&mean)?
        .broadcast_div(&(var + EPS)?.sqrt()?)?
        .broadcast_mul(&w.reshape(shape)?)?
        .broadcast_add(&b.reshape(shape)?)?;
    if relu {
        y.relu()
    } else {
        Ok(y)
    }
}

fn ours(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    stats: Option<&ChannelStats>,
    relu: bool,
) -> Result<Tensor> {
    match stats {
        Some(s) => cxr_kernels::batch_norm_eval(x, w, b, s.clone(), EPS, relu),
        None => Ok(cxr_kernels::batch_norm_train(x, w, b, EPS, relu)?.0),
    }
}

fn fixed_stats(c: usize, dtype: DType) -> Result<(ChannelStats, Tensor, Tensor)> {
    let mean: Vec<f64> = (0..c).map(|i| 0.1 * i as f64 - 0.3).collect();
    let var: Vec<f64> = (0..c).map(|i| 0.5 + 0.25 * i as f64).collect();
    let dev = candle_core::Device::Cpu;
    let m = Tensor::new(mean.as_slice(), &dev)?.to_dtype(dtype)?;
    let v = Tensor::new(var.as_slice(), &dev)?.to_dtype(dtype)?;
    Ok((ChannelStats { mean, var }, m, v))
}

#[test]
fn matches_candle_ops() -> Result<()> {
    for (i, shape) in SHAPES.iter().enumerate() {
        for train in [true, false] {
            for relu in [false, true] {
                let seed = 10 * i as u64;
                let x = var(shape, seed, DType::F32)?;
                let w = var(&[shape[1]], seed + 1, DType::F32)?;
                let b = var(&[shape[1]], seed + 2, DType::F32)?;
                let (stats, m, v) = fixed_stats(shape[1], DType::F32)?;
                let (s_ours, s_ref) = if train {
                    (None, None)
                } else {
                    (Some(&stats), Some((&m, &v)))
                };
                let y = ours(x.as_tensor(), w.as_tensor(), b.as_tensor(), s_ours, relu)?;
                let y_ref = reference(x.as_tensor(), w.as_tensor(), b.as_tensor(), s_ref, relu)?;
                let what = format!("{shape:?} train={train} relu={relu}");
                assert_close(&format!("{what} forward"), &y, &y_ref, 1e-4)?;
                let r = tensor(shape, seed + 3, DType::F32)?;
                let g = (y * &r)?.sum_all()?.backward()?;
                let g_ref = (y_ref * &r)?.sum_all()?.backward()?;
                let vars = [("input", &x), ("weight", &w), ("bias", &b)];
                assert_grads_close(&what, &g, &g_ref, &vars, 1e-4)?;
            }
        }
    }
    Ok(())
}

#[test]
fn gradients_match_finite_differences() -> Result<()> {
    for (i, shape) in SHAPES.iter().enumerate() {
        for train in [true, false] {
            // ReLU is tested through candle above; finite differences straddling its kink would
            // need a margin, so only the smooth op is differenced here.
            let seed = 100 + 10 * i as u64;
            let x = var(shape, seed, DType::F64)?;
            let w = var(&[shape[1]], seed + 1, DType::F64)?;
            let b = var(&[shape[1]], seed + 2, DType::F64)?;
            let (stats, _, _) = fixed_stats(shape[1], DType::F64)?;
            let s = (!train).then_some(&stats);
            let r = tensor(shape, seed + 3, DType::F64)?;
            let y = ours(x.as_tensor(), w.as_tensor(), b.as_tensor(), s, false)?;
            let grads = (y * &r)?.sum_all()?.backward()?;
            let loss = |x: &Tensor, w: &Tensor, b: &Tensor| -> Result<f64> {
                (ours(x, w, b, s, false)? * &r)?
                    .sum_all()?
                    .to_scalar::<f64>()
            };
            let what = format!("{shape:?} train={train}");
            let vars = [("input", &x), ("weight", &w), ("bias", &b)];
            assert_finite_differences(&what, &grads, &vars, |t| loss(t[0], t[1], t[2]), 1e-4)?;
        }
    }
    Ok(())
}

#[test]
fn training_returns_the_batch_statistics() -> Result<()> {
    // Channel 0 holds 1, 2, 3, 4 over the batch: mean 2.5, biased variance 1.25.
    let x = Tensor::new(
        &[
            [[[1f32]], [[0.]]],
            [[[2.]], [[0.]]],
            [[[3.]], [[0.]]],
            [[[4.]], [[0.]]],
        ],
        &candle_core::Device::Cpu,
    )?;
    let ones = Tensor::ones(2, DType::F32, &candle_core::Device::Cpu)?;
    let (_, stats) = cxr_kernels::batch_norm_train(&x, &ones, &ones.zeros_like()?, EPS, false)?;
    assert_eq!(stats.mean, [2.5, 0.0]);
    assert_eq!(stats.var, [1.25, 0.0]);
    Ok(())
}

#[test]
fn one_value_per_channel_is_an_error_in_training() -> Result<()> {
    let x = tensor(&[1, 3, 1, 1], 1, DType::F32)?;
    let w = Var::ones(3, DType::F32, &candle_core::Device::Cpu)?;
    assert!(cxr_kernels::batch_norm_train(&x, w.as_tensor(), w.as_tensor(), EPS, false).is_err());
    Ok(())
}
