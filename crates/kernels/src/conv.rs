//! 2-D convolution (no bias, dilation 1, one group) with its two gradients, each as im2col or
//! col2im around one GEMM per group of images.
//!
//! candle 0.11's CPU convolution computes the input gradient with a direct `conv_transpose2d`
//! loop (about a sixth of the machine's GEMM speed) and computes it even when no one needs it
//! (the image, the output of a detached frozen prefix). Here each pass is a GEMM:
//!
//! - forward: `out[n] (Cout, P) = W (Cout, K) * col(x[n]) (K, P)`
//! - weight gradient: `dW (Cout, K) = sum_n dy[n] (Cout, P) * col(x[n])^T (P, K)`
//! - input gradient: `dx[n] = col2im(W^T (K, Cout) * dy[n] (Cout, P))`, skipped when the input
//!   does not track gradients (candle's `track_op`: neither a variable nor computed from one).
//!
//! with `K = Cin * kh * kw` and `P` output pixels. Images are split across rayon's threads (one
//! contiguous run each, so nothing is shared but the weight), and within a thread several small
//! images share one column matrix so each GEMM is at least [`TARGET_COLUMNS`] wide: a GEMM packs
//! its operands, and packing a 512 x 4608 weight for a 16-column product would cost more than
//! the product.

use candle_core::{Shape, Tensor};
use rayon::prelude::*;

use crate::elem::{scratch, zeros, Elem};
use crate::error::KernelError;
use crate::im2col::ConvGeometry;
use crate::kernel::{Kernel, Op};
use crate::matmul::{matmul, Mat};
use crate::reduce::sum1;

/// Minimum GEMM width (output pixels of the images grouped into one column matrix).
const TARGET_COLUMNS: usize = 512;

/// `(N, Cin, H, W) * (Cout, Cin, kh, kw) -> (N, Cout, OH, OW)` with `OH = (H + 2p - kh) / s + 1`.
/// CPU, f32 or f64. The backward pass computes the weight gradient when the weight tracks
/// gradients and the input gradient when the input does.
pub fn conv2d(
    xs: &Tensor,
    weight: &Tensor,
    stride: usize,
    padding: usize,
) -> candle_core::Result<Tensor> {
    xs.contiguous()?
        .apply_op2(&weight.contiguous()?, Op(Conv2d { stride, padding }))
}

/// [`conv2d`] plus a `(Cout,)` bias, whose gradient (the per-channel sum of the output
/// gradient) is computed in the same backward pass rather than by candle's broadcast-add
/// backward, a strided reduction over three dimensions that cost as much as the convolution.
pub fn conv2d_bias(
    xs: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    stride: usize,
    padding: usize,
) -> candle_core::Result<Tensor> {
    xs.contiguous()?.apply_op3(
        &weight.contiguous()?,
        &bias.contiguous()?,
        Op(ConvBias(Conv2d { stride, padding })),
    )
}

/// The forward op; see [`conv2d`].
#[derive(Debug, Clone, Copy)]
struct Conv2d {
    stride: usize,
    padding: usize,
}

impl Conv2d {
    fn geometry(&self, x: &Shape, w: &Shape) -> Result<ConvGeometry, KernelError> {
        let (n, c_in, h, width) = x.dims4().map_err(|e| shape_err(Self::NAME, e))?;
        let (c_out, wc_in, kh, kw) = w.dims4().map_err(|e| shape_err(Self::NAME, e))?;
        let g = ConvGeometry {
            n,
            c_in,
            h,
            w: width,
            c_out,
            kh,
            kw,
            stride: self.stride,
            padding: self.padding,
        };
        if wc_in != c_in
            || self.stride == 0
            || h + 2 * self.padding < kh
            || width + 2 * self.padding < kw
        {
            return Err(KernelError::Shape {
                op: Self::NAME,
                detail: format!(
                    "input {x:?} does not fit weight {w:?} with stride {} padding {}",
                    self.stride, self.padding
                ),
            });
        }
        Ok(g)
    }
}

/// `(N, Cout, OH, OW)`.
fn output_shape(g: &ConvGeometry) -> Shape {
    Shape::from((g.n, g.c_out, g.oh(), g.ow()))
}

fn shape_err(op: &'static str, e: candle_core::Error) -> KernelError {
    KernelError::Shape {
        op,
        detail: e.to_string(),
    }
}

impl Kernel<2> for Conv2d {
    const NAME: &'static str = "conv2d";
    type Sizes = ConvGeometry;

    fn check(&self, [x, w]: [&Shape; 2]) -> candle_core::Result<(ConvGeometry, Shape)> {
        let g = self.geometry(x, w)?;
        Ok((g, output_shape(&g)))
    }

    fn run<T: Elem>(&self, g: &ConvGeometry, [x, w]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        Ok(forward(g, x, w, None))
    }

    fn backward(
        &self,
        [xs, weight]: [&Tensor; 2],
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 2]> {
        self.grads(xs, weight, &grad.contiguous()?)
    }
}

impl Conv2d {
    /// `(dx, dw)` from a contiguous output gradient, each only when its tensor tracks gradients.
    fn grads(
        &self,
        xs: &Tensor,
        weight: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 2]> {
        let dx = if xs.track_op() {
            let (_, _, h, w) = xs.dims4()?;
            let op = ConvInputGrad { conv: *self, h, w };
            Some(weight.apply_op2_no_bwd(grad, &Op(op))?)
        } else {
            None
        };
        let dw = if weight.track_op() {
            let (_, _, kh, kw) = weight.dims4()?;
            let op = ConvWeightGrad {
                conv: *self,
                kh,
                kw,
            };
            Some(xs.apply_op2_no_bwd(grad, &Op(op))?)
        } else {
            None
        };
        Ok([dx, dw])
    }
}

/// Convolution plus bias; see [`conv2d_bias`].
struct ConvBias(Conv2d);

impl Kernel<3> for ConvBias {
    const NAME: &'static str = "conv2d-bias";
    type Sizes = ConvGeometry;

    fn check(&self, [x, w, bias]: [&Shape; 3]) -> candle_core::Result<(ConvGeometry, Shape)> {
        let g = self.0.geometry(x, w)?;
        if bias.dims() != [g.c_out] {
            return Err(KernelError::Shape {
                op: Self::NAME,
                detail: format!("bias {bias:?} for {} output channels", g.c_out),
            }
            .into());
        }
        Ok((g, output_shape(&g)))
    }

    fn run<T: Elem>(&self, g: &ConvGeometry, [x, w, b]: [&[T]; 3]) -> candle_core::Result<Vec<T>> {
        Ok(forward(g, x, w, Some(b)))
    }

    fn backward(
        &self,
        [xs, weight, bias]: [&Tensor; 3],
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 3]> {
        let grad = grad.contiguous()?;
        let [dx, dw] = self.0.grads(xs, weight, &grad)?;
        let db = if bias.track_op() {
            Some(grad.apply_op1_no_bwd(&Op(ChannelSum))?)
        } else {
            None
        };
        Ok([dx, dw, db])
    }
}

/// `(N, C, H, W) -> (C,)`: the sum over everything but the channel.
struct ChannelSum;

impl Kernel<1> for ChannelSum {
    const NAME: &'static str = "channel-sum";
    /// Images, channels, and pixels per plane.
    type Sizes = (usize, usize, usize);

    fn check(&self, [g]: [&Shape; 1]) -> candle_core::Result<((usize, usize, usize), Shape)> {
        let (n, channels, h, w) = g.dims4()?;
        Ok(((n, channels, h * w), Shape::from(channels)))
    }

    fn run<T: Elem>(
        &self,
        &(n, channels, hw): &(usize, usize, usize),
        [g]: [&[T]; 1],
    ) -> candle_core::Result<Vec<T>> {
        Ok((0..channels)
            .into_par_iter()
            .map(|c| {
                let total: f64 = (0..n)
                    .map(|i| sum1(&g[(i * channels + c) * hw..][..hw], |v| v))
                    .sum();
                T::from_f64(total)
            })
            .collect())
    }
}

/// How the batch is cut: `per_task` images per rayon task, `group` images per GEMM.
struct Plan {
    per_task: usize,
    group: usize,
}

impl Plan {
    fn new(g: &ConvGeometry) -> Self {
        let per_task = g.n.div_ceil(rayon::current_num_threads().max(1)).max(1);
        let group = TARGET_COLUMNS
            .div_ceil(g.out_pixels().max(1))
            .clamp(1, per_task);
        Self { per_task, group }
    }

    /// `(first image, images)` of each GEMM group within a task's `count` images.
    fn groups(&self, count: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..count)
            .step_by(self.group)
            .map(move |i| (i, self.group.min(count - i)))
    }
}

/// Copies `count` images' `(Cout, P)` blocks side by side into `dst`, `(Cout, count * P)`.
fn gather<'a, T: Elem>(
    g: &ConvGeometry,
    images: &[T],
    count: usize,
    buf: &'a mut Vec<T>,
) -> &'a [T] {
    let p = g.out_pixels();
    let ld = count * p;
    let dst = scratch(buf, g.c_out * ld);
    for i in 0..count {
        for c in 0..g.c_out {
            let from = &images[i * g.out_image() + c * p..][..p];
            dst[c * ld + i * p..][..p].copy_from_slice(from);
        }
    }
    dst
}

/// The column matrix of `count` images of `x` side by side, `(K, count * P)`.
fn fill_columns<'a, T: Elem>(
    g: &ConvGeometry,
    x: &[T],
    count: usize,
    buf: &'a mut Vec<T>,
) -> &'a [T] {
    let p = g.out_pixels();
    let ld = count * p;
    let col = scratch(buf, g.k() * ld);
    for i in 0..count {
        g.im2col(&x[i * g.in_image()..][..g.in_image()], col, ld, i * p);
    }
    col
}

/// The convolution, plus `bias` per output channel (added to each group's output while it is
/// still in cache).
fn forward<T: Elem>(g: &ConvGeometry, x: &[T], w: &[T], bias: Option<&[T]>) -> Vec<T> {
    let mut out = zeros(g.n * g.out_image());
    let plan = Plan::new(g);
    let (k, p) = (g.k(), g.out_pixels());
    let weight = Mat::rows(w, g.c_out, k, k);
    out.par_chunks_mut(plan.per_task * g.out_image())
        .enumerate()
        .for_each(|(task, out)| {
            let first = task * plan.per_task;
            T::with_scratch(|col_buf, tmp_buf| {
                for (i, count) in plan.groups(out.len() / g.out_image()) {
                    let x = &x[(first + i) * g.in_image()..][..count * g.in_image()];
                    let out = &mut out[i * g.out_image()..][..count * g.out_image()];
                    if count == 1 && g.is_pointwise() {
                        matmul(out, p, weight, Mat::rows(x, k, p, p), false);
                    } else {
                        let col = fill_columns(g, x, count, col_buf);
                        let ld = count * p;
                        if count == 1 {
                            matmul(out, p, weight, Mat::rows(col, k, p, p), false);
                        } else {
                            let tmp = scratch(tmp_buf, g.c_out * ld);
                            matmul(tmp, ld, weight, Mat::rows(col, k, ld, ld), false);
                            for img in 0..count {
                                for c in 0..g.c_out {
                                    out[img * g.out_image() + c * p..][..p]
                                        .copy_from_slice(&tmp[c * ld + img * p..][..p]);
                                }
                            }
                        }
                    }
                    if let Some(bias) = bias {
                        for (plane, out) in out.chunks_mut(p.max(1)).enumerate() {
                            let b = bias[plane % g.c_out];
                            out.iter_mut().for_each(|v| *v += b);
                        }
                    }
                }
            })
        });
    out
}

fn weight_grad<T: Elem>(g: &ConvGeometry, x: &[T], dy: &[T]) -> Vec<T> {
    let plan = Plan::new(g);
    let (k, p) = (g.k(), g.out_pixels());
    let tasks = g.n.div_ceil(plan.per_task);
    let partials: Vec<Vec<T>> = (0..tasks)
        .into_par_iter()
        .map(|task| {
            let first = task * plan.per_task;
            let count = plan.per_task.min(g.n - first);
            let mut dw = vec![T::ZERO; g.c_out * k];
            T::with_scratch(|col_buf, dy_buf| {
                for (i, count) in plan.groups(count) {
                    let x = &x[(first + i) * g.in_image()..][..count * g.in_image()];
                    let dy = &dy[(first + i) * g.out_image()..][..count * g.out_image()];
                    let ld = count * p;
                    let cols = if count == 1 && g.is_pointwise() {
                        x
                    } else {
                        fill_columns(g, x, count, col_buf)
                    };
                    let dy = if count == 1 {
                        dy
                    } else {
                        gather(g, dy, count, dy_buf)
                    };
                    // dW^T (K, Cout) += col (K, ld) * dy^T (ld, Cout). Computing the transpose
                    // lets the GEMM pack dy (Cout x ld) rather than the column matrix
                    // (K x ld, nine times larger for a 3x3 convolution).
                    matmul(
                        &mut dw,
                        g.c_out,
                        Mat::rows(cols, k, ld, ld),
                        Mat::rows(dy, g.c_out, ld, ld).t(),
                        true,
                    );
                }
            });
            dw
        })
        .collect();
    // Sum the tasks' (K, Cout) partials and transpose to (Cout, K) in one parallel pass.
    let mut total = zeros(g.c_out * k);
    total
        .par_chunks_mut(k.max(1))
        .enumerate()
        .for_each(|(c, row)| {
            for (r, out) in row.iter_mut().enumerate() {
                let mut sum = T::ZERO;
                for part in &partials {
                    sum += part[r * g.c_out + c];
                }
                *out = sum;
            }
        });
    total
}

fn input_grad<T: Elem>(g: &ConvGeometry, w: &[T], dy: &[T]) -> Vec<T> {
    let mut dx = zeros(g.n * g.in_image());
    let plan = Plan::new(g);
    let (k, p) = (g.k(), g.out_pixels());
    let weight_t = Mat::rows(w, g.c_out, k, k).t();
    dx.par_chunks_mut(plan.per_task * g.in_image())
        .enumerate()
        .for_each(|(task, dx)| {
            let first = task * plan.per_task;
            T::with_scratch(|col_buf, dy_buf| {
                for (i, count) in plan.groups(dx.len() / g.in_image()) {
                    let dy = &dy[(first + i) * g.out_image()..][..count * g.out_image()];
                    let dx = &mut dx[i * g.in_image()..][..count * g.in_image()];
                    let ld = count * p;
                    let dy = if count == 1 {
                        dy
                    } else {
                        gather(g, dy, count, dy_buf)
                    };
                    let dy = Mat::rows(dy, g.c_out, ld, ld);
                    if count == 1 && g.is_pointwise() {
                        matmul(dx, p, weight_t, dy, false);
                        continue;
                    }
                    let col = scratch(col_buf, k * ld);
                    matmul(col, ld, weight_t, dy, false);
                    for img in 0..count {
                        g.col2im(
                            col,
                            ld,
                            img * p,
                            &mut dx[img * g.in_image()..][..g.in_image()],
                        );
                    }
                }
            })
        });
    dx
}

/// `(weight, grad_output) -> grad_input` for an input of side `h x w`.
struct ConvInputGrad {
    conv: Conv2d,
    h: usize,
    w: usize,
}

impl Kernel<2> for ConvInputGrad {
    const NAME: &'static str = "conv2d-input-grad";
    type Sizes = ConvGeometry;

    fn check(&self, [w, dy]: [&Shape; 2]) -> candle_core::Result<(ConvGeometry, Shape)> {
        let (c_out, c_in, _, _) = w.dims4()?;
        let (n, _, _, _) = dy.dims4()?;
        let x_shape = Shape::from((n, c_in, self.h, self.w));
        let g = self.conv.geometry(&x_shape, w)?;
        check_grad_shape(Self::NAME, &g, dy, c_out)?;
        Ok((g, x_shape))
    }

    fn run<T: Elem>(&self, g: &ConvGeometry, [w, dy]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        Ok(input_grad(g, w, dy))
    }
}

/// `(input, grad_output) -> grad_weight` for a `kh x kw` kernel.
struct ConvWeightGrad {
    conv: Conv2d,
    kh: usize,
    kw: usize,
}

impl Kernel<2> for ConvWeightGrad {
    const NAME: &'static str = "conv2d-weight-grad";
    type Sizes = ConvGeometry;

    fn check(&self, [x, dy]: [&Shape; 2]) -> candle_core::Result<(ConvGeometry, Shape)> {
        let (_, c_in, _, _) = x.dims4()?;
        let (_, c_out, _, _) = dy.dims4()?;
        let w_shape = Shape::from((c_out, c_in, self.kh, self.kw));
        let g = self.conv.geometry(x, &w_shape)?;
        check_grad_shape(Self::NAME, &g, dy, c_out)?;
        Ok((g, w_shape))
    }

    fn run<T: Elem>(&self, g: &ConvGeometry, [x, dy]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        Ok(weight_grad(g, x, dy))
    }
}

fn check_grad_shape(
    op: &'static str,
    g: &ConvGeometry,
    dy: &Shape,
    c_out: usize,
) -> Result<(), KernelError> {
    if dy.dims() != [g.n, c_out, g.oh(), g.ow()] {
        return Err(KernelError::Shape {
            op,
            detail: format!(
                "gradient {dy:?} does not match the output ({}, {c_out}, {}, {})",
                g.n,
                g.oh(),
                g.ow()
            ),
        });
    }
    Ok(())
}
