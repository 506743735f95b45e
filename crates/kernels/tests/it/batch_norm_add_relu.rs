//! `batch_norm_add_relu_train` against BatchNorm + add + ReLU composed from candle ops (f32,
//! forward and the four gradients), against this crate's unfused pair (bit for bit, forward and
//! backward), and against finite differences (f64).

use candle_core::{DType, Result, Tensor};

use crate::support::{assert_close, assert_finite_differences, assert_grads_close, tensor, var};

const EPS: f64 = 1e-5;

/// (batch, channels, height, width): batch 1, odd channel counts, 1x1 planes.
const SHAPES: [[usize; 4]; 4] = [[1, 3, 5, 7], [4, 5, 3, 3], [3, 9, 1, 1], [2, 17, 6, 4]];

fn fused(x: &Tensor, s: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(cxr_kernels::batch_norm_add_relu_train(x, s, w, b, EPS)?.0)
}

/// The same as candle ops: batch statistics, normalise, scale, shift, add, ReLU.
fn reference(x: &Tensor, s: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let shape = (1, x.dim(1)?, 1, 1);
    let mean = x.mean_keepdim((0, 2, 3))?;
    let var = x.broadcast_sub(&mean)?.sqr()?.mean_keepdim((0, 2, 3))?;
    x.broadcast_sub(&mean)?
        .broadcast_div(&(var + EPS)?.sqrt()?)?
        .broadcast_mul(&w.reshape(shape)?)?
        .broadcast_add(&b.reshape(shape)?)?
        .add(s)?
        .relu()
}

#[test]
fn matches_candle_ops() -> Result<()> {
    for (i, shape) in SHAPES.iter().enumerate() {
        let seed = 200 + 10 * i as u64;
        let x = var(shape, seed, DType::F32)?;
        let s = var(shape, seed + 1, DType::F32)?;
        let w = var(&[shape[1]], seed + 2, DType::F32)?;
        let b = var(&[shape[1]], seed + 3, DType::F32)?;
        let (xt, st, wt, bt) = (x.as_tensor(), s.as_tensor(), w.as_tensor(), b.as_tensor());
        let y = fused(xt, st, wt, bt)?;
        let y_ref = reference(xt, st, wt, bt)?;
        let what = format!("{shape:?}");
        assert_close(&format!("{what} forward"), &y, &y_ref, 1e-4)?;
        let r = tensor(shape, seed + 4, DType::F32)?;
        let g = (y * &r)?.sum_all()?.backward()?;
        let g_ref = (y_ref * &r)?.sum_all()?.backward()?;
        let vars = [
            ("input", &x),
            ("shortcut", &s),
            ("weight", &w),
            ("bias", &b),
        ];
        assert_grads_close(&what, &g, &g_ref, &vars, 1e-4)?;
    }
    Ok(())
}

#[test]
fn equals_the_unfused_pair_bit_for_bit() -> Result<()> {
    for (i, shape) in SHAPES.iter().enumerate() {
        let seed = 300 + 10 * i as u64;
        let x = var(shape, seed, DType::F32)?;
        let s = var(shape, seed + 1, DType::F32)?;
        let w = var(&[shape[1]], seed + 2, DType::F32)?;
        let b = var(&[shape[1]], seed + 3, DType::F32)?;
        let (xt, st, wt, bt) = (x.as_tensor(), s.as_tensor(), w.as_tensor(), b.as_tensor());
        let (y, stats) = cxr_kernels::batch_norm_add_relu_train(xt, st, wt, bt, EPS)?;
        let (z, stats_ref) = cxr_kernels::batch_norm_train(xt, wt, bt, EPS, false)?;
        let y_ref = cxr_kernels::add_relu(&z, st)?;
        assert_eq!(stats, stats_ref, "{shape:?}: statistics");
        let bits = |t: &Tensor| -> Result<Vec<u32>> {
            Ok(t.flatten_all()?
                .to_vec1::<f32>()?
                .into_iter()
                .map(f32::to_bits)
                .collect())
        };
        assert_eq!(bits(&y)?, bits(&y_ref)?, "{shape:?}: forward");
        let r = tensor(shape, seed + 4, DType::F32)?;
        let g = (y * &r)?.sum_all()?.backward()?;
        let g_ref = (y_ref * &r)?.sum_all()?.backward()?;
        for (name, v) in [
            ("input", &x),
            ("shortcut", &s),
            ("weight", &w),
            ("bias", &b),
        ] {
            let grad = |g: &candle_core::backprop::GradStore| {
                g.get(v)
                    .cloned()
                    .ok_or_else(|| candle_core::Error::Msg(format!("no {name} gradient")))
            };
            assert_eq!(
                bits(&grad(&g)?)?,
                bits(&grad(&g_ref)?)?,
                "{shape:?}: {name} gradient"
            );
        }
    }
    Ok(())
}

#[test]
fn gradients_match_finite_differences() -> Result<()> {
    for (i, shape) in SHAPES.iter().enumerate() {
        let seed = 400 + 10 * i as u64;
        let x = var(shape, seed, DType::F64)?;
        // The shortcut is shifted well above the normalised values' range (|x^| <= sqrt(M)
        // with the weights and biases in [-1, 1)) so no output sits near the ReLU's kink, where
        // a finite difference would straddle it.
        let s = (tensor(shape, seed + 1, DType::F64)? + 8.0)?;
        let s = candle_core::Var::from_tensor(&s)?;
        let w = var(&[shape[1]], seed + 2, DType::F64)?;
        let b = var(&[shape[1]], seed + 3, DType::F64)?;
        let r = tensor(shape, seed + 4, DType::F64)?;
        let (xt, st, wt, bt) = (x.as_tensor(), s.as_tensor(), w.as_tensor(), b.as_tensor());
        let y = fused(xt, st, wt, bt)?;
        let grads = (y * &r)?.sum_all()?.backward()?;
        let loss = |x: &Tensor, s: &Tensor, w: &Tensor, b: &Tensor| -> Result<f64> {
            (fused(x, s, w, b)? * &r)?.sum_all()?.to_scalar::<f64>()
        };
        let what = format!("{shape:?}");
        let vars = [
            ("input", &x),
            ("shortcut", &s),
            ("weight", &w),
            ("bias", &b),
        ];
        let loss = |t: &[&Tensor]| loss(t[0], t[1], t[2], t[3]);
        assert_finite_differences(&what, &grads, &vars, loss, 1e-4)?;
    }
    Ok(())
}

#[test]
fn mismatched_shapes_are_an_error() -> Result<()> {
    let x = tensor(&[2, 3, 4, 4], 1, DType::F32)?;
    let w = tensor(&[3], 2, DType::F32)?;
    let short = tensor(&[2, 3, 4, 3], 3, DType::F32)?;
    assert!(cxr_kernels::batch_norm_add_relu_train(&x, &short, &w, &w, EPS).is_err());
    let one = tensor(&[1, 3, 1, 1], 4, DType::F32)?;
    assert!(cxr_kernels::batch_norm_add_relu_train(&one, &one, &w, &w, EPS).is_err());
    let wide = tensor(&[4], 5, DType::F32)?;
    assert!(cxr_kernels::batch_norm_add_relu_train(&x, &x, &wide, &wide, EPS).is_err());
    Ok(())
}
