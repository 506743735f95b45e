//! Single-layer GFLOP/s of the kernels against candle's ops, for the layers that dominate a
//! ResNet18 / CNN training step at 128x128, batch 32:
//! `cargo run --release -p cxr-kernels --example layers [-- --ours-only]`. Times are CPU time
//! divided by the threads, so a machine busy with other jobs reads roughly as a quiet one.

use std::time::Instant;

use candle_core::{DType, Device, Result, Tensor, Var};

/// This process's CPU seconds (all threads, user + system), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat are utime and stime; after the ")" (field 2) they are 11 and 12.
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (field(11) + field(12)) / 100.0
}

/// Seconds per call of `f`, as CPU time divided by the threads (so a busy machine shared with
/// other jobs reads as the quiet machine would, assuming the op scales across the threads).
fn time(_runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let threads = rayon::current_num_threads() as f64;
    let (start, wall) = (cpu_seconds(), Instant::now());
    let mut calls = 0;
    while cpu_seconds() - start < 0.6 * threads || calls < 2 {
        f()?;
        calls += 1;
    }
    let _ = wall;
    Ok((cpu_seconds() - start) / threads / calls as f64)
}

fn main() -> Result<()> {
    let dev = Device::Cpu;
    // `--ours-only` skips candle's ops (its conv backward takes minutes on the big layers).
    let ours_only = std::env::args().any(|a| a == "--ours-only");
    // (name, batch, cin, side, cout, kernel, stride, padding)
    let layers = [
        ("r18 conv1 7x7/2", 32, 3, 128, 64, 7, 2, 3),
        ("r18 layer1 3x3", 32, 64, 32, 64, 3, 1, 1),
        ("r18 layer2 3x3", 32, 128, 16, 128, 3, 1, 1),
        ("r18 layer3 3x3", 32, 256, 8, 256, 3, 1, 1),
        ("r18 layer4 3x3", 32, 512, 4, 512, 3, 1, 1),
        ("r18 layer2.0 ds 1x1/2", 32, 64, 32, 128, 1, 2, 0),
        ("cnn block1 5x5", 32, 3, 128, 32, 5, 1, 2),
        ("cnn block2 5x5", 32, 32, 64, 64, 5, 1, 2),
    ];
    let a = Tensor::randn(0f32, 1., (2048, 2048), &dev)?;
    let t = time(3, || a.matmul(&a).map(drop))?;
    println!(
        "2048^2 sgemm: {:.0} GFLOP/s (CPU-time based)",
        2.0 * 2048f64.powi(3) / t / 1e9
    );
    println!("| layer | ours fwd | ours dW | ours dX | candle fwd | candle bwd (dW+dX) |");
    println!("|---|---|---|---|---|---|");
    for (name, n, cin, side, cout, k, s, p) in layers {
        let x = Var::randn(0f32, 1., (n, cin, side, side), &dev)?;
        let w = Var::randn(0f32, 0.1, (cout, cin, k, k), &dev)?;
        let y = cxr_kernels::conv2d(x.as_tensor(), w.as_tensor(), s, p)?;
        let (_, _, oh, ow) = y.dims4()?;
        let gflop = 2.0 * (n * cout * cin * k * k * oh * ow) as f64 / 1e9;
        let fwd = time(5, || {
            cxr_kernels::conv2d(x.as_tensor(), w.as_tensor(), s, p).map(drop)
        })?;
        let g = Tensor::randn(0f32, 1., y.shape(), &dev)?;
        // Weight gradient alone: a constant input.
        let xc = x.as_tensor().detach();
        let dw = time(5, || {
            (cxr_kernels::conv2d(&xc, w.as_tensor(), s, p)? * &g)?
                .sum_all()?
                .backward()
                .map(drop)
        })? - fwd;
        let both = time(5, || {
            (cxr_kernels::conv2d(x.as_tensor(), w.as_tensor(), s, p)? * &g)?
                .sum_all()?
                .backward()
                .map(drop)
        })? - fwd;
        if ours_only {
            println!(
                "| {name} | {:.0} | {:.0} | {:.0} | - | - |",
                gflop / fwd,
                gflop / dw,
                gflop / (both - dw)
            );
            continue;
        }
        let cfwd = time(3, || {
            x.as_tensor().conv2d(w.as_tensor(), p, s, 1, 1).map(drop)
        })?;
        let cboth = time(3, || {
            (x.as_tensor().conv2d(w.as_tensor(), p, s, 1, 1)? * &g)?
                .sum_all()?
                .backward()
                .map(drop)
        })
        .map(|t| t - cfwd)
        .unwrap_or(f64::NAN);
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} |",
            gflop / fwd,
            gflop / dw,
            gflop / (both - dw),
            gflop / cfwd,
            2.0 * gflop / cboth
        );
        let _ = DType::F32;
    }
    Ok(())
}
