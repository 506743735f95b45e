//! 2-D max-pooling with padding and a backward pass for any kernel and stride.
//!
//! candle's `max_pool2d` has no padding and its backward refuses `kernel != stride`, which rules
//! out the ResNet stem (`MaxPool2d(kernel_size=3, stride=2, padding=1)`). This is a CPU custom op
//! with PyTorch's semantics: padding counts as -inf, the output size is
//! `floor((H + 2 * padding - kernel) / stride) + 1`, and the whole gradient of an output goes to
//! the first maximum of its window in row-major order (so ties are not split, unlike candle's).
//! Planes are pooled in parallel.
//!
//! [`MaxPool2d`] is the public pool and, as an op, the one whose backward searches every window
//! again ([`MaxPool2dBackward`]); `recording` holds the pool that keeps each argmax for a
//! one-scatter backward, `geometry` the sizes and plane loops both share, `search` the window
//! search itself, with its fast paths; `stem` the ResNet stem's BatchNorm+ReLU+pool fused for
//! training.

mod geometry;
mod recording;
mod search;
mod stem;

use candle_core::{Shape, Tensor};

use crate::elem::Elem;
use crate::kernel::{Kernel, Op};
use geometry::Geometry;
use recording::{Argmax, RecordingPool};
pub use stem::batch_norm_relu_max_pool_train;

/// Whether `xs` is 4-D with planes small enough for u32 argmax indices (recorded pools need it).
fn indexable(xs: &Tensor) -> bool {
    xs.dims4()
        .is_ok_and(|(_, _, h, w)| u32::try_from(h * w).is_ok())
}

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
        // Larger planes search again in the backward.
        if xs.track_op() && indexable(&xs) {
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
    pub(super) fn geometry(&self, shape: &Shape) -> candle_core::Result<Geometry> {
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
        (0..16)
            .map(|i| f32::from(u8::from(ones.contains(&i))))
            .collect()
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
