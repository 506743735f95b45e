//! Timing one [`Case`] in this process: build the model, warm up, then run steps until the
//! minimum time has passed.

use std::time::{Duration, Instant};

use candle_core::{DType, Tensor};
use candle_nn::ModuleT;
use cxr_models::{DeviceSpec, ModelConfig, ModelKind};
use cxr_trainer::adam::{Adam, AdamSettings};
use serde::{Deserialize, Serialize};

use crate::case::{Case, Mode, BATCH, CLASSES, IMAGE_SIZE};
use crate::error::{BenchError, Result};

/// What one side (ours or PyTorch) measured for one case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// The configuration.
    #[serde(flatten)]
    pub case: Case,
    /// Images per second over the timed steps.
    pub img_s: f64,
    /// Timed steps.
    pub steps: usize,
    /// Seconds the timed steps took.
    pub seconds: f64,
    /// The process's peak resident memory (MiB), warm-up included.
    pub peak_mb: f64,
    /// Where it ran: `cpu` or `cuda:N` (files from before the field: `cpu`).
    #[serde(default = "cpu")]
    pub device: String,
    /// Images per step (files from before the field: [`BATCH`]).
    #[serde(default = "default_batch")]
    pub batch: usize,
}

fn cpu() -> String {
    "cpu".into()
}

fn default_batch() -> usize {
    BATCH
}

/// Where and how large: the device the case runs on and its batch.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The device.
    pub device: DeviceSpec,
    /// Images per step.
    pub batch: usize,
}

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Untimed steps first (allocator, caches, rayon pool).
    pub warmup_steps: usize,
    /// Steps continue until this much time has passed (and at least 3 steps).
    pub min_time: Duration,
}

/// Runs `case` in this process. The peak memory is this process's, so run one case per process
/// (as `cxr-bench all` does) for per-case numbers.
///
/// On a GPU every step ends by reading a scalar back (the loss, or the logits' sum), which
/// waits for the device, so the time covers the work and not only its queueing.
pub fn measure(case: &Case, budget: Budget, target: Target) -> Result<Measurement> {
    let device = target.device.open()?;
    let batch = target.batch.max(1);
    let kind: ModelKind = case
        .model
        .parse()
        .map_err(|_| BenchError::Unsupported(case.to_string()))?;
    let model = ModelConfig::new(kind, CLASSES)
        .with_freeze(case.freeze)
        .build(None, &device, 0)?;
    let images = Tensor::randn(0f32, 1., (batch, 3, IMAGE_SIZE, IMAGE_SIZE), &device)?;
    let labels: Vec<u32> = (0..batch as u32).map(|i| i % CLASSES as u32).collect();
    let labels = Tensor::new(labels.as_slice(), &device)?;
    let mut step: Box<dyn FnMut() -> Result<()>> = match case.mode {
        Mode::Infer => Box::new(move || {
            let logits = model.forward_t(&images, false)?.detach();
            logits.sum_all()?.to_scalar::<f32>()?;
            Ok(())
        }),
        Mode::Train | Mode::Epoch => {
            // `epoch` is what a sweep's epoch costs per image: with freeze >= 1 the frozen prefix
            // runs once per image before training (the prefix cache) and each step trains the
            // rest from its output; without a frozen prefix it is the training step.
            let from_prefix = case.mode == Mode::Epoch;
            let input = if from_prefix {
                model.forward_prefix(&images)?.unwrap_or(images)
            } else {
                images
            };
            let mut opt = Adam::new(model.trainable_vars(), AdamSettings::default())?;
            Box::new(move || {
                let logits = if from_prefix {
                    model.forward_from_prefix_t(&input, true)?
                } else {
                    model.forward_t(&input, true)?
                };
                let loss = candle_nn::loss::cross_entropy(&logits, &labels)?;
                opt.backward_step(&loss)?;
                // Reading the loss is what the trainer does every step (and it syncs).
                loss.to_dtype(DType::F32)?.to_scalar::<f32>()?;
                Ok(())
            })
        }
    };
    for _ in 0..budget.warmup_steps {
        step()?;
    }
    let start = Instant::now();
    let mut steps = 0;
    while steps < 3 || start.elapsed() < budget.min_time {
        step()?;
        steps += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(Measurement {
        case: case.clone(),
        img_s: (steps * batch) as f64 / seconds,
        steps,
        seconds,
        peak_mb: peak_rss_mb(),
        device: target.device.to_string(),
        batch,
    })
}

/// The process's peak resident set (`VmHWM`) in MiB, or 0 where /proc is not available.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
