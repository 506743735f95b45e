//! A side's whole run: the GEMM peak plus one child process per case, saved as one JSON file
//! (the PyTorch script writes the same format).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use candle_core::Tensor;
use cxr_models::DeviceSpec;
use serde::{Deserialize, Serialize};

use crate::case::Case;
use crate::error::{BenchError, Result};
use crate::measure::{Budget, Measurement, Target};

/// One side's results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suite {
    /// What ran (e.g. `cxr (candle 0.11.1 + cxr-kernels)`, `torch 2.x`).
    pub label: String,
    /// GFLOP/s of a 2048^2 f32 matrix product on all cores.
    pub gemm_gflops: f64,
    /// Threads used.
    pub threads: usize,
    /// One entry per case.
    pub results: Vec<Measurement>,
}

impl Suite {
    /// Reads a results file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
            path: path.into(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| BenchError::Json {
            path: path.into(),
            source,
        })
    }

    /// Writes the results file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|source| BenchError::Json {
            path: path.into(),
            source,
        })?;
        std::fs::write(path, text + "\n").map_err(|source| BenchError::Io {
            path: path.into(),
            source,
        })
    }
}

/// GFLOP/s of `C = A B` with 2048 x 2048 f32 matrices on `device` (on the CPU candle's matmul:
/// the same `gemm` crate the kernels call, on all threads; on a GPU cuBLAS, 8192^2 so the
/// product outlasts the launch), best of 5 after one warm-up.
pub fn gemm_gflops(device: DeviceSpec) -> Result<f64> {
    let n = if device.is_cpu() { 2048 } else { 8192 };
    let device = device.open()?;
    let a = Tensor::randn(0f32, 1., (n, n), &device)?;
    let b = Tensor::randn(0f32, 1., (n, n), &device)?;
    a.matmul(&b)?;
    device.synchronize()?;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        a.matmul(&b)?;
        device.synchronize()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(2.0 * (n as f64).powi(3) / best / 1e9)
}

/// Measures each case in a fresh child process (`exe run ...`), so each peak memory is that
/// case's alone. `progress` hears each result as it arrives.
pub fn run_cases(
    exe: &Path,
    cases: &[Case],
    budget: Budget,
    target: Target,
    mut progress: impl FnMut(&Measurement),
) -> Result<Vec<Measurement>> {
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let output = Command::new(exe)
            .args(["run", "--model", &case.model])
            .args(["--freeze", &case.freeze.to_string()])
            .args(["--mode", &case.mode.to_string()])
            .args(["--seconds", &budget.min_time.as_secs_f64().to_string()])
            .args(["--warmup", &budget.warmup_steps.to_string()])
            .args(["--device", &target.device.to_string()])
            .args(["--batch", &target.batch.to_string()])
            .output()
            .map_err(|source| BenchError::Io {
                path: exe.into(),
                source,
            })?;
        if !output.status.success() {
            return Err(BenchError::Unsupported(format!(
                "{case}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let m: Measurement =
            serde_json::from_slice(&output.stdout).map_err(|source| BenchError::Json {
                path: exe.into(),
                source,
            })?;
        progress(&m);
        results.push(m);
    }
    Ok(results)
}
