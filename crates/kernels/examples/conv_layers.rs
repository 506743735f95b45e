//! Times `cxr_kernels::conv2d` forward and both gradients on ResNet18's 3x3 stride-1 layer shapes
//! at 128 px, best of 20: `cargo run --release -p cxr-kernels --example conv_layers [BATCH
//! [LAYER]]` (batch 32 and all four layers by default). Run it again with `CXR_WINOGRAD=0` for
//! im2col. GFLOP/s are nominal (im2col's multiply-adds x 2; Winograd does 2.25 times fewer), and
//! the 4x4 layer is im2col either way (below Winograd's minimum of 16 tiles per image).
use std::time::Instant;

use candle_core::{Device, Tensor, Var};

fn main() -> candle_core::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(32, |a| a.parse().expect("batch"));
    let only: Option<usize> = std::env::args().nth(2).map(|a| a.parse().expect("layer"));
    for (layer, (c, side)) in [(64, 32), (128, 16), (256, 8), (512, 4)]
        .into_iter()
        .enumerate()
    {
        if only.is_some_and(|o| o != layer) {
            continue;
        }
        let x = Var::randn(0f32, 1., (n, c, side, side), &Device::Cpu)?;
        let w = Var::randn(0f32, 0.05, (c, c, 3, 3), &Device::Cpu)?;
        let r = Tensor::randn(0f32, 1., (n, c, side, side), &Device::Cpu)?;
        let mut best = (f64::MAX, f64::MAX);
        for _ in 0..20 {
            let t = Instant::now();
            let y = cxr_kernels::conv2d(x.as_tensor(), w.as_tensor(), 1, 1)?;
            let fwd = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let _g = (y * &r)?.sum_all()?.backward()?;
            let bwd = t.elapsed().as_secs_f64();
            best = (best.0.min(fwd), best.1.min(bwd));
        }
        let gflop = 2.0 * (n * c * c * 9 * side * side) as f64 / 1e9;
        println!(
            "c {c:3} side {side:2}: forward {:6.2} ms ({:5.0} GFLOP/s), backward {:6.2} ms ({:5.0} GFLOP/s)",
            best.0 * 1e3,
            gflop / best.0,
            best.1 * 1e3,
            2.0 * gflop / best.1
        );
    }
    Ok(())
}
