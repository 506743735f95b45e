//! 2-D max-pooling with padding and a backward pass for any kernel and stride.
//!
//! candle's `max_pool2d` has no padding and its backward refuses `kernel != stride`, which rules
//! out the ResNet stem (`MaxPool2d(kernel_size=3, stride=2, padding=1)`). This is a CPU custom op
//! with PyTorch's semantics: padding counts as -inf, the output size is
//! `floor((H + 2 * padding - kernel) / stride) + 1`, and the whole gradient of an output goes to
//! the first maximum of its window in row-major order (so ties are not split, unlike candle's).
//! Planes are pooled in parallel.

use std::sync::{Arc, Mutex, MutexGuard};

use candle_core::{Shape, Tensor};
use rayon::prelude::*;

use crate::elem::{zeros, Elem};
use crate::kernel::{Kernel, Op};

/// Pooling geometry, square in both spatial dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2d {
    /// Window side.
    pub kernel: usize,
    /// Step between windows.
    pub stride: usize,
    /// Implicit -inf border on each side (at most `kernel / 2`, as PyTorch requires).
    pub padding: usize,
}

impl MaxPool2d {
    /// The ResNet stem's pool: kernel 3, stride 2, padding 1.
    pub const RESNET_STEM: Self = Self {
        kernel: 3,
        stride: 2,
        padding: 1,
    };

    /// The CNN's pool: kernel 2, stride 2, no padding.
    pub const HALVE: Self = Self {
        kernel: 2,
        stride: 2,
        padding: 0,
    };

    /// `(batch, C, H, W) -> (batch, C, H', W')` with `H' = (H + 2p - k) / s + 1` (floor).
    /// CPU tensors of f32 or f64 only.
    pub fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let xs = xs.contiguous()?;
        // Argmax indices are u32 within a plane; larger planes search again in the backward.
        let indexable = xs
            .dims4()
            .is_ok_and(|(_, _, h, w)| u32::try_from(h * w).is_ok());
        if xs.track_op() && indexable {
            xs.apply_op1(Op(RecordingPool {
                pool: *self,
                argmax: Argmax::default(),
            }))
        } else {
            xs.apply_op1(Op(*self))
        }
    }

    /// Output side for an input side, or an error when the window does not fit.
    fn out_size(&self, size: usize) -> candle_core::Result<usize> {
        if self.kernel == 0 || self.stride == 0 || 2 * self.padding > self.kernel {
            candle_core::bail!("max-pool: invalid geometry {self:?}");
        }
        if size + 2 * self.padding < self.kernel {
            candle_core::bail!("max-pool: input side {size} is smaller than the window {self:?}");
        }
        Ok((size + 2 * self.padding - self.kernel) / self.stride + 1)
    }

    /// Shapes of the input and output of a pool over the 4-D `shape`.
    fn geometry(&self, shape: &Shape) -> candle_core::Result<Geometry> {
        let (n, c, h, w) = shape.dims4()?;
        Ok(Geometry {
            planes: n * c,
            h,
            w,
            oh: self.out_size(h)?,
            ow: self.out_size(w)?,
            pool: *self,
        })
    }
}

/// The shapes of one pool: `planes` planes of `h x w` in, `oh x ow` out.
// `pub(crate)`: it is the `Kernel::Sizes` of the public `MaxPool2d`.
pub(crate) struct Geometry {
    planes: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    pool: MaxPool2d,
}

impl Geometry {
    /// Calls `visit(input_index, output_index)` with the index of each output's first maximum
    /// within one `(h, w)` plane of `input`.
    fn for_each_argmax<T: Elem>(&self, input: &[T], visit: impl FnMut(usize, usize)) {
        match self.pool {
            MaxPool2d::HALVE => self.for_each_argmax_2x2(input, visit),
            MaxPool2d { kernel: 3, .. } => self.for_each_argmax_square::<T, 3>(input, visit),
            _ => {
                let mut visit = visit;
                for oy in 0..self.oh {
                    for ox in 0..self.ow {
                        visit(self.argmax_clipped(input, oy, ox), oy * self.ow + ox);
                    }
                }
            }
        }
    }

    /// The first maximum of output `(oy, ox)`'s window, clipped to the plane (any geometry).
    fn argmax_clipped<T: Elem>(&self, input: &[T], oy: usize, ox: usize) -> usize {
        let MaxPool2d {
            kernel,
            stride,
            padding,
        } = self.pool;
        let y0 = (oy * stride).saturating_sub(padding);
        let y1 = (oy * stride + kernel - padding).min(self.h);
        let x0 = (ox * stride).saturating_sub(padding);
        let x1 = (ox * stride + kernel - padding).min(self.w);
        let mut best = y0 * self.w + x0;
        let mut max = T::from_f64(f64::NEG_INFINITY);
        for y in y0..y1 {
            for x in x0..x1 {
                let i = y * self.w + x;
                // PyTorch's rule: strictly greater (first max wins), NaN propagates.
                if wins(input[i], max) {
                    max = input[i];
                    best = i;
                }
            }
        }
        best
    }

    /// The outputs whose window lies wholly inside a side of `size` pixels with `out` outputs:
    /// `first..end`.
    fn interior(&self, size: usize, out: usize) -> std::ops::Range<usize> {
        let MaxPool2d {
            kernel: k,
            stride,
            padding,
        } = self.pool;
        let first = padding.div_ceil(stride);
        let end = if size + padding >= k {
            ((size + padding - k) / stride + 1).min(out)
        } else {
            0
        };
        first..end.max(first)
    }

    /// [`Geometry::for_each_argmax`] for a `K x K` window (the ResNet stem's 3x3/2, padding 1):
    /// windows wholly inside the plane (all but the first row and column of outputs there) take
    /// a fixed, bounds-check-free loop; the border ones the clipped one.
    #[inline]
    fn for_each_argmax_square<T: Elem, const K: usize>(
        &self,
        input: &[T],
        mut visit: impl FnMut(usize, usize),
    ) {
        let MaxPool2d {
            stride, padding, ..
        } = self.pool;
        let (rows, cols) = (
            self.interior(self.h, self.oh),
            self.interior(self.w, self.ow),
        );
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                let o = oy * self.ow + ox;
                if !(rows.contains(&oy) && cols.contains(&ox)) {
                    visit(self.argmax_clipped(input, oy, ox), o);
                    continue;
                }
                let top_left = (oy * stride - padding) * self.w + ox * stride - padding;
                // Row-major order from the window's first element: the first maximum wins.
                let (mut best, mut max) = (top_left, input[top_left]);
                for dy in 0..K {
                    let start = top_left + dy * self.w;
                    let row = &input[start..][..K];
                    for (dx, &v) in row.iter().enumerate() {
                        // Selects, not a branch: which element wins is data, and a
                        // mispredicted branch per element cost more than the comparison.
                        let take = wins(v, max);
                        best = if take { start + dx } else { best };
                        max = if take { v } else { max };
                    }
                }
                visit(best, o);
            }
        }
    }

    /// [`Geometry::for_each_argmax`] for the 2x2/2 window without padding, the CNN's pool over
    /// its largest activations: no bounds to clip, so the compiler keeps the loop tight.
    #[inline]
    fn for_each_argmax_2x2<T: Elem>(&self, input: &[T], mut visit: impl FnMut(usize, usize)) {
        let w = self.w;
        for oy in 0..self.oh {
            let (top, bottom) = (2 * oy * w, (2 * oy + 1) * w);
            let (row0, row1) = (&input[top..top + w], &input[bottom..bottom + w]);
            for ox in 0..self.ow {
                let x = 2 * ox;
                // Row-major window order, first maximum wins, NaN propagates (as PyTorch).
                // Starting from the first element is the generic loop's first step from -inf.
                let (mut best, mut max) = (top + x, row0[x]);
                for (i, v) in [
                    (top + x + 1, row0[x + 1]),
                    (bottom + x, row1[x]),
                    (bottom + x + 1, row1[x + 1]),
                ] {
                    let take = wins(v, max);
                    best = if take { i } else { best };
                    max = if take { v } else { max };
                }
                visit(best, oy * self.ow + ox);
            }
        }
    }

    /// The output shape for the input `shape` this geometry was made from.
    fn output_shape(&self, shape: &Shape) -> candle_core::Result<Shape> {
        let (n, c, _, _) = shape.dims4()?;
        Ok(Shape::from((n, c, self.oh, self.ow)))
    }

    fn pool<T: Elem>(&self, input: &[T]) -> Vec<T> {
        let (plane_in, plane_out) = (self.h * self.w, self.oh * self.ow);
        let mut out = zeros(self.planes * plane_out);
        out.par_chunks_mut(plane_out.max(1))
            .zip(input.par_chunks(plane_in.max(1)))
            .for_each(|(out, input)| self.for_each_argmax(input, |i, o| out[o] = input[i]));
        out
    }

    /// [`Geometry::pool`] that also returns each output's argmax (its index in the plane).
    fn pool_recording<T: Elem>(&self, input: &[T]) -> (Vec<T>, Vec<u32>) {
        let (plane_in, plane_out) = (self.h * self.w, self.oh * self.ow);
        let mut out = zeros(self.planes * plane_out);
        let mut argmax = vec![0u32; self.planes * plane_out];
        out.par_chunks_mut(plane_out.max(1))
            .zip(argmax.par_chunks_mut(plane_out.max(1)))
            .zip(input.par_chunks(plane_in.max(1)))
            .for_each(|((out, argmax), input)| {
                self.for_each_argmax(input, |i, o| {
                    out[o] = input[i];
                    // In range: `MaxPool2d::forward` records only planes of at most u32::MAX pixels.
                    argmax[o] = i as u32;
                })
            });
        (out, argmax)
    }

    fn unpool<T: Elem>(&self, input: &[T], grad_out: &[T]) -> Vec<T> {
        let (plane_in, plane_out) = (self.h * self.w, self.oh * self.ow);
        let mut grad_in = zeros(input.len());
        grad_in
            .par_chunks_mut(plane_in.max(1))
            .zip(input.par_chunks(plane_in.max(1)))
            .zip(grad_out.par_chunks(plane_out.max(1)))
            .for_each(|((grad_in, input), grad_out)| {
                self.for_each_argmax(input, |i, o| grad_in[i] += grad_out[o])
            });
        grad_in
    }
}

/// Whether `v` takes over from the running maximum `max`: strictly greater (so the first
/// maximum wins ties), or NaN (NaN propagates), as PyTorch.
#[inline]
fn wins<T: Elem>(v: T, max: T) -> bool {
    #[allow(clippy::eq_op)]
    let is_nan = v != v;
    v > max || is_nan
}

/// The pool that searches each window again in the backward pass: for a tensor that tracks no
/// gradient, or a plane too large for u32 argmax indices.
impl Kernel<1> for MaxPool2d {
    const NAME: &'static str = "max-pool2d";
    type Sizes = Geometry;

    fn check(&self, [x]: [&Shape; 1]) -> candle_core::Result<(Geometry, Shape)> {
        let geo = self.geometry(x)?;
        let out = geo.output_shape(x)?;
        Ok((geo, out))
    }

    fn run<T: Elem>(&self, geo: &Geometry, [x]: [&[T]; 1]) -> candle_core::Result<Vec<T>> {
        Ok(geo.pool(x))
    }

    fn backward(
        &self,
        [arg]: [&Tensor; 1],
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 1]> {
        let grad = arg
            .contiguous()?
            .apply_op2_no_bwd(&grad_res.contiguous()?, &Op(MaxPool2dBackward(*self)))?;
        Ok([Some(grad)])
    }
}

/// Per output, the index of its maximum within its input plane: written by a [`RecordingPool`],
/// read by its [`Unpool`].
#[derive(Default, Clone)]
struct Argmax(Arc<Mutex<Vec<u32>>>);

impl Argmax {
    fn lock(&self) -> candle_core::Result<MutexGuard<'_, Vec<u32>>> {
        self.0
            .lock()
            .map_err(|_| candle_core::Error::Msg("max-pool: argmax lock poisoned".into()))
    }
}

/// The pool of a tensor that tracks gradients: the forward pass also keeps each output's
/// argmax, so the backward pass is one scatter ([`Unpool`]) instead of a second search of every
/// window (which cost as much as the forward: about 3 % of a ResNet18 training step).
struct RecordingPool {
    pool: MaxPool2d,
    /// Filled by the forward.
    argmax: Argmax,
}

impl Kernel<1> for RecordingPool {
    const NAME: &'static str = "max-pool2d";
    type Sizes = Geometry;

    fn check(&self, shapes: [&Shape; 1]) -> candle_core::Result<(Geometry, Shape)> {
        self.pool.check(shapes)
    }

    fn run<T: Elem>(&self, geo: &Geometry, [x]: [&[T]; 1]) -> candle_core::Result<Vec<T>> {
        let (out, argmax) = geo.pool_recording(x);
        *self.argmax.lock()? = argmax;
        Ok(out)
    }

    fn backward(
        &self,
        [arg]: [&Tensor; 1],
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 1]> {
        let op = Unpool {
            argmax: self.argmax.clone(),
            input: arg.shape().clone(),
        };
        Ok([Some(grad_res.contiguous()?.apply_op1_no_bwd(&Op(op))?)])
    }
}

/// `grad_output -> grad_input` from the argmax a [`RecordingPool`] kept.
struct Unpool {
    argmax: Argmax,
    input: Shape,
}

impl Kernel<1> for Unpool {
    const NAME: &'static str = "max-pool2d-backward";
    /// Pixels per input plane and per output plane (at least 1, as chunk sizes).
    type Sizes = (usize, usize);

    fn check(&self, [grad]: [&Shape; 1]) -> candle_core::Result<((usize, usize), Shape)> {
        let (n, c, h, w) = self.input.dims4()?;
        let (gn, gc, oh, ow) = grad.dims4()?;
        if (gn, gc) != (n, c) || self.argmax.lock()?.len() != n * c * oh * ow {
            candle_core::bail!(
                "max-pool backward: gradient shape {grad:?} does not match the output"
            );
        }
        Ok((((h * w).max(1), (oh * ow).max(1)), self.input.clone()))
    }

    fn run<T: Elem>(
        &self,
        &(plane_in, plane_out): &(usize, usize),
        [grad_out]: [&[T]; 1],
    ) -> candle_core::Result<Vec<T>> {
        let argmax = self.argmax.lock()?;
        let mut grad_in = zeros(self.input.elem_count());
        grad_in
            .par_chunks_mut(plane_in)
            .zip(grad_out.par_chunks(plane_out))
            .zip(argmax.par_chunks(plane_out))
            .for_each(|((grad_in, grad_out), argmax)| {
                for (&i, &g) in argmax.iter().zip(grad_out) {
                    grad_in[i as usize] += g;
                }
            });
        Ok(grad_in)
    }
}

/// `(input, grad_output) -> grad_input`: routes each output gradient to its window's argmax.
struct MaxPool2dBackward(MaxPool2d);

impl Kernel<2> for MaxPool2dBackward {
    const NAME: &'static str = "max-pool2d-backward";
    type Sizes = Geometry;

    fn check(&self, [x, grad]: [&Shape; 2]) -> candle_core::Result<(Geometry, Shape)> {
        let geo = self.0.geometry(x)?;
        if geo.output_shape(x)? != *grad {
            candle_core::bail!(
                "max-pool backward: gradient shape {grad:?} does not match the output"
            );
        }
        Ok((geo, x.clone()))
    }

    fn run<T: Elem>(&self, geo: &Geometry, [x, g]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        Ok(geo.unpool(x, g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::backprop::GradStore;
    use candle_core::{Device, Var, WithDType};

    /// The gradient of `xs` in `grads`, flattened; `None` when `xs` got none.
    fn flat_grad<T: WithDType>(grads: &GradStore, xs: &Var) -> candle_core::Result<Option<Vec<T>>> {
        grads
            .get(xs)
            .map(|g| g.flatten_all()?.to_vec1::<T>())
            .transpose()
    }

    #[test]
    fn stem_pool_matches_hand_computed_values() -> candle_core::Result<()> {
        // A 4x4 ramp 0..16; kernel 3, stride 2, padding 1 gives a 2x2 output whose windows are
        // rows/cols {0,1}x{0,1}, {0,1}x{1,2,3}, {1,2,3}x{0,1}, {1,2,3}x{1,2,3}: maxima 5, 7, 13, 15.
        let xs = Tensor::arange(0f32, 16., &Device::Cpu)?.reshape((1, 1, 4, 4))?;
        let ys = MaxPool2d::RESNET_STEM.forward(&xs)?;
        assert_eq!(ys.flatten_all()?.to_vec1::<f32>()?, [5., 7., 13., 15.]);
        Ok(())
    }

    /// Where `pool` sends the gradient of `sum(pool(x))` for an all-equal 4x4 `x`: 1 at each
    /// pixel that is the first maximum (row-major) of some window, 0 elsewhere.
    fn tie_gradient(pool: MaxPool2d) -> candle_core::Result<Option<Vec<f32>>> {
        let xs = Var::ones((1, 1, 4, 4), candle_core::DType::F32, &Device::Cpu)?;
        let grads = pool.forward(xs.as_tensor())?.sum_all()?.backward()?;
        flat_grad::<f32>(&grads, &xs)
    }

    /// 16 values, 1 at `ones` and 0 elsewhere.
    fn ones_at(ones: &[usize]) -> Vec<f32> {
        (0..16).map(|i| f32::from(u8::from(ones.contains(&i)))).collect()
    }

    #[test]
    fn backward_routes_gradient_to_first_maximum() -> candle_core::Result<()> {
        // All-equal input: every window's first element (row-major) takes the gradient, as in
        // PyTorch. Windows start at (0,0), (0,1), (1,0), (1,1) after clipping the padding.
        let expected = ones_at(&[0, 1, 4, 5]);
        assert_eq!(tie_gradient(MaxPool2d::RESNET_STEM)?, Some(expected));
        Ok(())
    }

    #[test]
    fn backward_matches_finite_differences() -> candle_core::Result<()> {
        // Distinct values, so the max is unique and the pool is locally linear: the gradient of
        // sum(w * pool(x)) is w routed to each window's argmax.
        let xs = Var::from_tensor(
            &Tensor::arange(0f64, 50., &Device::Cpu)?
                .affine(0.37, 0.)?
                .sin()?
                .reshape((1, 2, 5, 5))?,
        )?;
        let pool = MaxPool2d::RESNET_STEM;
        let weights = Tensor::arange(1f64, 19., &Device::Cpu)?.reshape((1, 2, 3, 3))?;
        let loss = |x: &Tensor| {
            pool.forward(x)?
                .mul(&weights)?
                .sum_all()?
                .to_scalar::<f64>()
        };
        let grads = pool
            .forward(xs.as_tensor())?
            .mul(&weights)?
            .sum_all()?
            .backward()?;
        let analytic = flat_grad::<f64>(&grads, &xs)?.unwrap_or_default();
        let base = xs.as_tensor().flatten_all()?.to_vec1::<f64>()?;
        for i in 0..base.len() {
            let mut bumped = base.clone();
            bumped[i] += 1e-6;
            let x = Tensor::from_vec(bumped, (1, 2, 5, 5), &Device::Cpu)?;
            let numeric = (loss(&x)? - loss(xs.as_tensor())?) / 1e-6;
            assert!(
                (numeric - analytic[i]).abs() < 1e-4,
                "element {i}: {numeric} vs {}",
                analytic[i]
            );
        }
        Ok(())
    }

    #[test]
    fn halving_pool_routes_ties_to_the_first_element() -> candle_core::Result<()> {
        let expected = ones_at(&[0, 2, 8, 10]);
        assert_eq!(tie_gradient(MaxPool2d::HALVE)?, Some(expected));
        Ok(())
    }

    #[test]
    fn nan_propagates_like_pytorch() -> candle_core::Result<()> {
        // A NaN anywhere in a window wins it, for the fast 2x2 path and the generic one.
        let mut v = vec![0f32; 16];
        v[5] = f32::NAN;
        let xs = Tensor::from_vec(v, (1, 1, 4, 4), &Device::Cpu)?;
        for pool in [MaxPool2d::HALVE, MaxPool2d::RESNET_STEM] {
            let ys = pool.forward(&xs)?.flatten_all()?.to_vec1::<f32>()?;
            assert!(ys[0].is_nan(), "{pool:?}: {ys:?}");
        }
        Ok(())
    }

    #[test]
    fn fixed_window_path_agrees_with_the_clipped_one() -> candle_core::Result<()> {
        // Few distinct values (many ties) and a NaN: the interior fast path must pick exactly
        // the element the clipped loop picks, for every 3x3 geometry and odd plane sizes.
        for pool in [
            MaxPool2d::RESNET_STEM,
            MaxPool2d {
                kernel: 3,
                stride: 1,
                padding: 1,
            },
            MaxPool2d {
                kernel: 3,
                stride: 2,
                padding: 0,
            },
            MaxPool2d {
                kernel: 3,
                stride: 3,
                padding: 1,
            },
        ] {
            for (h, w) in [(3, 3), (5, 5), (6, 7), (9, 4), (16, 16)] {
                let mut input: Vec<f32> =
                    (0..h * w).map(|i| ((i * 7 + i / 3) % 4) as f32).collect();
                input[(h * w) / 2] = f32::NAN;
                let geo = pool.geometry(&Shape::from((1, 1, h, w)))?;
                let mut seen = Vec::new();
                geo.for_each_argmax(&input, |i, o| seen.push((o, i)));
                let expected: Vec<(usize, usize)> = (0..geo.oh)
                    .flat_map(|oy| (0..geo.ow).map(move |ox| (oy, ox)))
                    .map(|(oy, ox)| (oy * geo.ow + ox, geo.argmax_clipped(&input, oy, ox)))
                    .collect();
                assert_eq!(seen, expected, "{pool:?} on {h}x{w}");
            }
        }
        Ok(())
    }

    #[test]
    fn recorded_argmax_backward_equals_the_recomputing_one() -> candle_core::Result<()> {
        // `forward` on a tracked tensor records the argmax; the plain op (the fallback for
        // planes too large for u32 indices) searches the windows again in its backward.
        let values = Tensor::arange(0f64, 2. * 3. * 9. * 7., &Device::Cpu)?
            .affine(0.61, 0.)?
            .sin()?
            .round()? // ties
            .reshape((2, 3, 9, 7))?;
        for pool in [MaxPool2d::RESNET_STEM, MaxPool2d::HALVE] {
            let grad_of = |recorded: bool| -> candle_core::Result<Vec<f64>> {
                let xs = Var::from_tensor(&values)?;
                let ys = if recorded {
                    pool.forward(xs.as_tensor())?
                } else {
                    xs.as_tensor().apply_op1(Op(pool))?
                };
                let w = Tensor::arange(0f64, ys.elem_count() as f64, &Device::Cpu)?
                    .reshape(ys.shape())?;
                let grads = ys.mul(&w)?.sum_all()?.backward()?;
                Ok(flat_grad::<f64>(&grads, &xs)?.unwrap_or_default())
            };
            assert_eq!(grad_of(true)?, grad_of(false)?, "{pool:?}");
        }
        Ok(())
    }

    #[test]
    fn halving_pool_drops_odd_remainder() -> candle_core::Result<()> {
        let xs = Tensor::zeros((2, 3, 7, 9), candle_core::DType::F32, &Device::Cpu)?;
        assert_eq!(MaxPool2d::HALVE.forward(&xs)?.dims(), [2, 3, 3, 4]);
        Ok(())
    }
}
