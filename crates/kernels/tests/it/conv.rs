//! `cxr_kernels::conv2d` against candle's `conv2d` (f32, forward and both gradients) and finite
//! differences (f64), over odd shapes: batch 1, channel counts that are not multiples of 8,
//! padding, stride 2, 1x1 kernels, small images that make the kernel group several images into
//! one GEMM, and 3x3 stride-1 shapes large enough for the Winograd path.

use candle_core::{DType, Result, Tensor, Var};

use crate::support::{assert_close, assert_finite_differences, assert_grads_close, tensor, var};

/// (batch, in channels, height, width, out channels, kernel, stride, padding).
type Case = (usize, usize, usize, usize, usize, usize, usize, usize);

const SHAPES: [Case; 15] = [
    (1, 3, 7, 9, 5, 3, 1, 1),
    (2, 5, 8, 7, 3, 3, 2, 1),
    (3, 4, 6, 6, 6, 1, 1, 0),
    (2, 3, 9, 9, 7, 1, 2, 0),
    (1, 3, 13, 11, 4, 7, 2, 3),
    (2, 6, 5, 5, 10, 5, 1, 2),
    (5, 9, 3, 3, 11, 3, 1, 1),
    (7, 12, 4, 4, 5, 3, 2, 1),
    (4, 5, 2, 2, 3, 1, 1, 0),
    // More output channels than one block of the weight gradient's transpose (16), not a
    // multiple of it, and more images than threads (a partial per task).
    (5, 2, 4, 4, 37, 3, 1, 1),
    // Stride 1 with less padding than "same".
    (2, 3, 6, 5, 4, 3, 1, 0),
    (2, 2, 7, 6, 3, 5, 1, 1),
    // 3x3 stride 1 with at least 16 output tiles of 2x2 per image: Winograd F(2x2, 3x3), with
    // odd sides (a clipped last tile), every padding it takes, and more images than threads.
    (5, 6, 9, 7, 7, 3, 1, 1),
    (2, 3, 6, 8, 4, 3, 1, 2),
    (3, 4, 11, 10, 5, 3, 1, 0),
];

#[test]
fn forward_and_gradients_match_candle() -> Result<()> {
    for (i, &(n, cin, h, w, cout, k, s, p)) in SHAPES.iter().enumerate() {
        let seed = i as u64 * 10;
        let x = var(&[n, cin, h, w], seed, DType::F32)?;
        let wt = var(&[cout, cin, k, k], seed + 1, DType::F32)?;
        let ours = cxr_kernels::conv2d(x.as_tensor(), wt.as_tensor(), s, p)?;
        let theirs = x.as_tensor().conv2d(wt.as_tensor(), p, s, 1, 1)?;
        let what = format!("shape {:?}", SHAPES[i]);
        assert_close(&format!("{what} forward"), &ours, &theirs, 1e-4)?;
        // A weighted sum so every output position gets a distinct gradient.
        let r = tensor(theirs.dims(), seed + 2, DType::F32)?;
        let g_ours = (ours * &r)?.sum_all()?.backward()?;
        // candle's own backward fails when stride 2 leaves an input row or column unused (its
        // conv_transpose2d output is one too large); finite differences cover those shapes.
        let Ok(g_theirs) = (theirs * &r)?.sum_all()?.backward() else {
            assert!(
                (h + 2 * p - k) % s != 0 || (w + 2 * p - k) % s != 0,
                "{what}"
            );
            continue;
        };
        let vars = [("input", &x), ("weight", &wt)];
        assert_grads_close(&what, &g_ours, &g_theirs, &vars, 1e-4)?;
    }
    Ok(())
}

#[test]
fn gradients_match_finite_differences() -> Result<()> {
    for (i, &(n, cin, h, w, cout, k, s, p)) in SHAPES.iter().enumerate() {
        let seed = 100 + i as u64 * 10;
        let x = var(&[n, cin, h, w], seed, DType::F64)?;
        let wt = var(&[cout, cin, k, k], seed + 1, DType::F64)?;
        let out = cxr_kernels::conv2d(x.as_tensor(), wt.as_tensor(), s, p)?;
        let r = tensor(out.dims(), seed + 2, DType::F64)?;
        let grads = (out * &r)?.sum_all()?.backward()?;
        let loss = |x: &Tensor, wt: &Tensor| -> Result<f64> {
            (cxr_kernels::conv2d(x, wt, s, p)? * &r)?
                .sum_all()?
                .to_scalar::<f64>()
        };
        let what = format!("shape {:?}", SHAPES[i]);
        let vars = [("input", &x), ("weight", &wt)];
        assert_finite_differences(&what, &grads, &vars, |t| loss(t[0], t[1]), 1e-4)?;
    }
    Ok(())
}

/// `conv2d_bias`, or `conv2d_bias_relu` when `relu`.
fn conv_bias(x: &Tensor, w: &Tensor, b: &Tensor, s: usize, p: usize, relu: bool) -> Result<Tensor> {
    if relu {
        cxr_kernels::conv2d_bias_relu(x, w, b, s, p)
    } else {
        cxr_kernels::conv2d_bias(x, w, b, s, p)
    }
}

#[test]
fn bias_and_bias_relu_match_candle_and_finite_differences() -> Result<()> {
    for relu in [false, true] {
        for (i, &(n, cin, h, w, cout, k, s, p)) in SHAPES.iter().enumerate() {
            let seed = 200 + i as u64 * 10;
            let what = format!("shape {:?}, relu {relu}", SHAPES[i]);
            for dtype in [DType::F32, DType::F64] {
                let x = var(&[n, cin, h, w], seed, dtype)?;
                let wt = var(&[cout, cin, k, k], seed + 1, dtype)?;
                let b = var(&[cout], seed + 2, dtype)?;
                let (xt, wtt, bt) = (x.as_tensor(), wt.as_tensor(), b.as_tensor());
                let ours = conv_bias(xt, wtt, bt, s, p, relu)?;
                let plain = cxr_kernels::conv2d(xt, wtt, s, p)?;
                let mut theirs = plain.broadcast_add(&bt.reshape((1, cout, 1, 1))?)?;
                if relu {
                    theirs = theirs.relu()?;
                    let cut = theirs.le(0.0)?.to_dtype(DType::F64)?.mean_all()?;
                    assert!(
                        cut.to_scalar::<f64>()? > 0.05,
                        "{what}: the ReLU must cut something for the test to mean anything"
                    );
                }
                assert_close(&format!("{what} forward"), &ours, &theirs, 1e-6)?;
                let r = tensor(ours.dims(), seed + 3, dtype)?;
                let g_ours = (ours * &r)?.sum_all()?.backward()?;
                let g_theirs = (theirs * &r)?.sum_all()?.backward()?;
                let vars = [("input", &x), ("weight", &wt), ("bias", &b)];
                assert_grads_close(&what, &g_ours, &g_theirs, &vars, 1e-5)?;
                if dtype == DType::F64 {
                    let loss = |x: &Tensor, w: &Tensor, b: &Tensor| -> Result<f64> {
                        (conv_bias(x, w, b, s, p, relu)? * &r)?
                            .sum_all()?
                            .to_scalar::<f64>()
                    };
                    let what = format!("{what} finite differences");
                    let loss = |t: &[&Tensor]| loss(t[0], t[1], t[2]);
                    assert_finite_differences(&what, &g_ours, &vars, loss, 1e-4)?;
                }
            }
        }
    }
    Ok(())
}

#[test]
fn constant_input_gets_no_gradient() -> Result<()> {
    // candle's own conv backward stores a gradient for a constant input (computed with the slow
    // conv_transpose2d); ours must not compute one at all.
    let x = tensor(&[2, 3, 8, 8], 7, DType::F32)?;
    let wt = var(&[4, 3, 3, 3], 8, DType::F32)?;
    let grads = cxr_kernels::conv2d(&x, wt.as_tensor(), 1, 1)?
        .sum_all()?
        .backward()?;
    assert!(grads.get(&x).is_none(), "constant input got a gradient");
    assert!(
        grads.get(wt.as_tensor()).is_some(),
        "weight lost its gradient"
    );
    // A detached tensor computed from a variable behaves the same.
    let v = Var::from_tensor(&x)?;
    let detached = (v.as_tensor() * 2.0)?.detach();
    let grads = cxr_kernels::conv2d(&detached, wt.as_tensor(), 1, 1)?
        .sum_all()?
        .backward()?;
    assert!(grads.get(&detached).is_none() && grads.get(&v).is_none());
    Ok(())
}

#[test]
fn mismatched_shapes_are_errors() -> Result<()> {
    let x = tensor(&[1, 3, 8, 8], 1, DType::F32)?;
    let wt = tensor(&[4, 2, 3, 3], 2, DType::F32)?;
    assert!(cxr_kernels::conv2d(&x, &wt, 1, 1).is_err());
    let small = tensor(&[1, 2, 2, 2], 3, DType::F32)?;
    assert!(cxr_kernels::conv2d(&small, &wt, 1, 0).is_err());
    Ok(())
}
