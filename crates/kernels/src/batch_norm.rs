//! BatchNorm over `(N, C, H, W)` in one pass per direction, optionally fused with the ReLU that
//! follows it in every conv -> BN -> ReLU unit.
//!
//! candle's composed version (mean, subtract, square, mean, divide, multiply, add, then ReLU)
//! makes about ten passes over the activation forward and as many temporaries backward, roughly
//! 14x PyTorch's time. Here the forward reads the input twice for the statistics and once to
//! write the output; the backward reads twice (per-channel sums, then the input gradient). The
//! batch statistics are kept (mean and inverse standard deviation, in f64) for the backward pass
//! and handed to the caller, who folds them into the running statistics.
//!
//! Gradients, with `x^ = (x - mean) * invstd`, `g' = g * [y > 0]` when fused with ReLU, and `M`
//! values per channel: `dbias = sum g'`, `dweight = sum g' x^`, and in training mode
//! `dx = weight * invstd * (g' - dbias / M - x^ * dweight / M)`; in eval mode (fixed statistics)
//! `dx = weight * invstd * g'`.

use std::sync::{Arc, Mutex, OnceLock};

use candle_core::{Shape, Tensor};
use rayon::prelude::*;

use crate::elem::{collect_chunks, Elem};
use crate::error::KernelError;
use crate::kernel::{Kernel, Op};
use crate::reduce::{sum1, sum3_pair};

/// Per-channel statistics a BatchNorm normalised with.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelStats {
    /// Mean per channel.
    pub mean: Vec<f64>,
    /// Biased variance per channel (divided by the count, as PyTorch normalises).
    pub var: Vec<f64>,
}

/// `(N, C, H, W) -> (N, C, H, W)` normalised by the batch's own statistics, scaled by `weight`
/// and shifted by `bias` (both `(C,)`), then ReLU when `relu`. Returns the output and the batch
/// statistics (for the running averages). CPU, f32 or f64.
pub fn batch_norm_train(
    xs: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    eps: f64,
    relu: bool,
) -> candle_core::Result<(Tensor, ChannelStats)> {
    let op = BatchNorm::new(eps, relu, None);
    let stats = op.stats.clone();
    let ys = apply(xs, weight, bias, op)?;
    let stats = stats.get().map(|s| s.stats.clone()).ok_or_else(|| {
        candle_core::Error::Msg("batch-norm: statistics were not computed".into())
    })?;
    Ok((ys, stats))
}

/// As [`batch_norm_train`] but normalised by fixed (running) statistics.
pub fn batch_norm_eval(
    xs: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    stats: ChannelStats,
    eps: f64,
    relu: bool,
) -> candle_core::Result<Tensor> {
    apply(xs, weight, bias, BatchNorm::new(eps, relu, Some(stats)))
}

fn apply(
    xs: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    op: BatchNorm,
) -> candle_core::Result<Tensor> {
    xs.contiguous()?
        .apply_op3(&weight.contiguous()?, &bias.contiguous()?, Op(op))
}

/// Statistics with the inverse standard deviation the kernels use.
#[derive(Debug)]
pub(crate) struct Saved {
    pub(crate) stats: ChannelStats,
    invstd: Vec<f64>,
}

impl Saved {
    /// The statistics `op`'s training forward pass kept in `cell`, for its backward pass; an
    /// error naming `op` when there are none.
    pub(crate) fn of<'a>(cell: &'a OnceLock<Saved>, op: &str) -> candle_core::Result<&'a Saved> {
        cell.get()
            .ok_or_else(|| candle_core::Error::Msg(format!("{op} backward: no statistics")))
    }

    pub(crate) fn new(stats: ChannelStats, eps: f64) -> Self {
        let invstd = stats.var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
        Self { stats, invstd }
    }

    /// Per channel, `(scale, shift)` such that `x * scale + shift` is the BatchNorm of `x` with
    /// these statistics, weight `w` and bias `b`.
    pub(crate) fn scale_shift<T: Elem>(&self, w: &[T], b: &[T]) -> (Vec<T>, Vec<T>) {
        let (mean, invstd) = (&self.stats.mean, &self.invstd);
        (0..w.len())
            .map(|c| {
                let w = w[c].to_f64();
                // `mean * w * invstd` in this order, as before this was shared (same rounding).
                let shift = b[c].to_f64() - mean[c] * w * invstd[c];
                (T::from_f64(w * invstd[c]), T::from_f64(shift))
            })
            .unzip()
    }

    /// The backward pass of a BatchNorm normalised with these statistics and `weight`: `x`'s
    /// gradient and the per-channel `(sum g', sum g' x^)`, from the input `x`, the output
    /// gradient `g`, and, when `relu`, the output `y` whose `> 0` masks `g` (unread otherwise).
    pub(crate) fn gradients(
        &self,
        [x, y, g]: [&Tensor; 3],
        weight: &Tensor,
        relu: bool,
        train: bool,
    ) -> candle_core::Result<(Tensor, ParamGrads)> {
        let op = Op(BatchNormBackward {
            relu,
            train,
            mean: self.stats.mean.clone(),
            invstd: self.invstd.clone(),
            weight: weight.to_dtype(candle_core::DType::F64)?.to_vec1()?,
            sums: Arc::new(Mutex::new(None)),
        });
        let dx = x.apply_op3_no_bwd(y, &g.contiguous()?, &op)?;
        Ok((dx, op.0.take_sums()?))
    }
}

#[derive(Debug, Clone)]
struct BatchNorm {
    eps: f64,
    relu: bool,
    /// Whether the statistics come from the batch (training) or are fixed (eval).
    train: bool,
    /// Set by the forward pass in training mode, given up front in eval mode.
    stats: Arc<OnceLock<Saved>>,
}

impl BatchNorm {
    fn new(eps: f64, relu: bool, fixed: Option<ChannelStats>) -> Self {
        let stats = Arc::new(OnceLock::new());
        let train = fixed.is_none();
        if let Some(fixed) = fixed {
            let _ = stats.set(Saved::new(fixed, eps));
        }
        Self {
            eps,
            relu,
            train,
            stats,
        }
    }
}

/// `(N, C, H*W)` as seen by the kernels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dims {
    pub(crate) n: usize,
    pub(crate) c: usize,
    pub(crate) hw: usize,
}

impl Dims {
    pub(crate) fn of(
        op: &'static str,
        shape: &Shape,
        channel_lens: &[usize],
    ) -> Result<Self, KernelError> {
        let dims = shape.dims();
        if dims.len() < 2 || channel_lens.iter().any(|&l| l != dims[1]) {
            return Err(KernelError::Shape {
                op,
                detail: format!(
                    "input {shape:?} needs (N, C, ...) with per-channel tensors of C elements, got {channel_lens:?}"
                ),
            });
        }
        Ok(Self {
            n: dims[0],
            c: dims[1],
            hw: dims[2..].iter().product(),
        })
    }

    pub(crate) fn count(&self) -> usize {
        self.n * self.hw
    }

    /// Calls `f` on each of channel `c`'s planes in `data`.
    fn planes<'a, T>(&self, data: &'a [T], c: usize) -> impl Iterator<Item = &'a [T]> + 'a {
        let (cc, hw) = (self.c, self.hw);
        (0..self.n).map(move |n| &data[(n * cc + c) * hw..][..hw])
    }
}

pub(crate) fn batch_stats<T: Elem>(d: Dims, x: &[T]) -> ChannelStats {
    let (mean, var) = (0..d.c)
        .into_par_iter()
        .map(|c| {
            let m = d.count() as f64;
            let sum: f64 = d.planes(x, c).map(|p| sum1(p, |v| v)).sum();
            let mean = sum / m;
            // Two passes (sum of squared deviations), not E[x^2] - E[x]^2, which cancels
            // catastrophically when the mean is large against the spread.
            let mt = T::from_f64(mean);
            let sq: f64 = d
                .planes(x, c)
                .map(|p| sum1(p, |v| (v - mt) * (v - mt)))
                .sum();
            // The f32 mean is rounded; correct the deviations' sum for it.
            let shift = sum / m - mt.to_f64();
            (mean, (sq / m - shift * shift).max(0.0))
        })
        .unzip();
    ChannelStats { mean, var }
}

fn normalise<T: Elem>(d: Dims, x: &[T], scale: &[T], shift: &[T], relu: bool) -> Vec<T> {
    let hw = d.hw.max(1);
    let zero = T::ZERO;
    collect_chunks(x.len(), hw, |plane, len| {
        let (a, b) = (scale[plane % d.c], shift[plane % d.c]);
        x[plane * hw..][..len].iter().map(move |&v| {
            let y = v * a + b;
            if !relu || y > zero {
                y
            } else {
                zero
            }
        })
    })
}

impl Kernel<3> for BatchNorm {
    const NAME: &'static str = "batch-norm";
    type Sizes = Dims;

    fn check(&self, [x, w, b]: [&Shape; 3]) -> candle_core::Result<(Dims, Shape)> {
        let d = Dims::of(Self::NAME, x, &[w.elem_count(), b.elem_count()])?;
        if self.train && d.count() < 2 {
            return Err(KernelError::Shape {
                op: Self::NAME,
                detail: format!("training needs more than one value per channel, got {x:?}"),
            }
            .into());
        }
        Ok((d, x.clone()))
    }

    fn run<T: Elem>(&self, &d: &Dims, [x, w, b]: [&[T]; 3]) -> candle_core::Result<Vec<T>> {
        if self.train {
            // A second forward through the same op (not done by candle) would keep the first
            // statistics; the op is built afresh for every call.
            let _ = self.stats.set(Saved::new(batch_stats(d, x), self.eps));
        }
        let saved = self
            .stats
            .get()
            .ok_or_else(|| candle_core::Error::Msg("batch-norm: no statistics".into()))?;
        let (scale, shift) = saved.scale_shift(w, b);
        Ok(normalise(d, x, &scale, &shift, self.relu))
    }

    fn backward(
        &self,
        [xs, weight, _bias]: [&Tensor; 3],
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 3]> {
        let saved = Saved::of(&self.stats, "batch-norm")?;
        let (dx, sums) = saved.gradients([xs, res, grad], weight, self.relu, self.train)?;
        let dx = if xs.track_op() { Some(dx) } else { None };
        Ok([
            dx,
            Some(param_grad(sums.1, weight)?),
            Some(param_grad(sums.0, weight)?),
        ])
    }
}

/// Per-channel parameter-gradient sums as a tensor of `param`'s shape, device and dtype.
pub(crate) fn param_grad(sums: Vec<f64>, param: &Tensor) -> candle_core::Result<Tensor> {
    Tensor::from_vec(sums, param.shape(), param.device())?.to_dtype(param.dtype())
}

/// Per-channel `(sum g', sum g' x^)`: the bias and weight gradients.
pub(crate) type ParamGrads = (Vec<f64>, Vec<f64>);

/// `(x, y, dy) -> dx`, leaving `(sum g', sum g' x^)` per channel in `sums`.
struct BatchNormBackward {
    relu: bool,
    train: bool,
    mean: Vec<f64>,
    invstd: Vec<f64>,
    weight: Vec<f64>,
    sums: Arc<Mutex<Option<ParamGrads>>>,
}

impl BatchNormBackward {
    /// The `(sum g', sum g' x^)` the pass left, once it has run.
    fn take_sums(&self) -> candle_core::Result<ParamGrads> {
        self.sums
            .lock()
            .map_err(|_| candle_core::Error::Msg("batch-norm backward: poisoned".into()))?
            .take()
            .ok_or_else(|| candle_core::Error::Msg("batch-norm backward: no sums".into()))
    }

    fn gradients<T: Elem>(&self, d: Dims, x: &[T], y: &[T], g: &[T]) -> (Vec<T>, ParamGrads) {
        let zero = T::ZERO;
        let relu = self.relu;
        let masked = |yv: T, gv: T| if !relu || yv > zero { gv } else { zero };
        let (sum_g, sum_gx): (Vec<f64>, Vec<f64>) = (0..d.c)
            .into_par_iter()
            .map(|c| {
                let mean = T::from_f64(self.mean[c]);
                let (mut sg, mut sgx) = (0.0, 0.0);
                for ((x, y), g) in d.planes(x, c).zip(d.planes(y, c)).zip(d.planes(g, c)) {
                    let (pg, pgx) = sum3_pair(
                        x,
                        y,
                        g,
                        |_, yv, gv| masked(yv, gv),
                        |xv, yv, gv| masked(yv, gv) * (xv - mean),
                    );
                    sg += pg;
                    sgx += pgx;
                }
                (sg, sgx * self.invstd[c])
            })
            .unzip();
        // Per channel: dx = a * g' - b - (x - mean) * e in training, a * g' in eval, with
        // a = weight * invstd, b = a * sum g' / M and e = a * invstd * sum g' x^ / M.
        let m = d.count() as f64;
        let coefficients: Vec<[T; 4]> = (0..d.c)
            .map(|c| {
                let a = self.weight[c] * self.invstd[c];
                let (b, e) = if self.train {
                    (a * sum_g[c] / m, a * self.invstd[c] * sum_gx[c] / m)
                } else {
                    (0.0, 0.0)
                };
                [a, b, e, self.mean[c]].map(T::from_f64)
            })
            .collect();
        let hw = d.hw.max(1);
        let dx = if self.train {
            collect_chunks(x.len(), hw, |plane, len| {
                let [a, b, e, mean] = coefficients[plane % d.c];
                let at = plane * hw;
                let (x, y, g) = (&x[at..][..len], &y[at..][..len], &g[at..][..len]);
                x.iter()
                    .zip(y)
                    .zip(g)
                    .map(move |((&xv, &yv), &gv)| a * masked(yv, gv) - b - (xv - mean) * e)
            })
        } else {
            // Fixed statistics: `x` is not read.
            collect_chunks(x.len(), hw, |plane, len| {
                let [a, ..] = coefficients[plane % d.c];
                let at = plane * hw;
                let (y, g) = (&y[at..][..len], &g[at..][..len]);
                y.iter().zip(g).map(move |(&yv, &gv)| a * masked(yv, gv))
            })
        };
        (dx, (sum_g, sum_gx))
    }
}

impl Kernel<3> for BatchNormBackward {
    const NAME: &'static str = "batch-norm-backward";
    type Sizes = Dims;

    fn check(&self, [x, y, dy]: [&Shape; 3]) -> candle_core::Result<(Dims, Shape)> {
        let d = Dims::of(Self::NAME, x, &[self.weight.len()])?;
        if y != x || dy != x {
            return Err(KernelError::Shape {
                op: Self::NAME,
                detail: format!("x {x:?}, y {y:?} and dy {dy:?} differ"),
            }
            .into());
        }
        Ok((d, x.clone()))
    }

    fn run<T: Elem>(&self, &d: &Dims, [x, y, g]: [&[T]; 3]) -> candle_core::Result<Vec<T>> {
        let (dx, sums) = self.gradients(d, x, y, g);
        if let Ok(mut slot) = self.sums.lock() {
            *slot = Some(sums);
        }
        Ok(dx)
    }
}
