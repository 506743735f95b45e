//! `relu(a + b)`, the end of every residual block, in one pass each way.
//!
//! candle composes it from an add and a ReLU whose backward builds a `ge(0)` mask, converts it
//! to floats and multiplies: four passes and three temporaries. Here the backward masks the
//! gradient by `y > 0` (PyTorch's convention at exactly 0) and hands the same tensor to both
//! inputs.

use candle_core::{Shape, Tensor};

use crate::elem::{collect_chunks, Elem};
use crate::error::KernelError;
use crate::kernel::{Kernel, Op};

/// Elements per rayon task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 1 << 15;

/// `relu(a + b)` for two tensors of the same shape. CPU, f32 or f64.
pub fn add_relu(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    a.contiguous()?.apply_op2(&b.contiguous()?, Op(AddRelu))
}

struct AddRelu;

/// The shared shape of two inputs, or an error naming both.
fn same_shape(op: &'static str, [a, b]: [&Shape; 2]) -> Result<((), Shape), KernelError> {
    if a != b {
        return Err(KernelError::Shape {
            op,
            detail: format!("shapes {a:?} and {b:?} differ"),
        });
    }
    Ok(((), a.clone()))
}

/// `out[i] = f(a[i], b[i])`, in parallel chunks.
fn zip_map<T: Elem>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    collect_chunks(a.len(), CHUNK, |i, len| {
        let (a, b) = (&a[i * CHUNK..][..len], &b[i * CHUNK..][..len]);
        a.iter().zip(b).map(|(&a, &b)| f(a, b))
    })
}

impl Kernel<2> for AddRelu {
    const NAME: &'static str = "add-relu";
    type Sizes = ();

    fn check(&self, shapes: [&Shape; 2]) -> candle_core::Result<((), Shape)> {
        Ok(same_shape(Self::NAME, shapes)?)
    }

    fn run<T: Elem>(&self, _: &(), [a, b]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        let zero = T::ZERO;
        Ok(zip_map(a, b, |a, b| {
            let s = a + b;
            if s > zero {
                s
            } else {
                zero
            }
        }))
    }

    fn backward(
        &self,
        [a, b]: [&Tensor; 2],
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; 2]> {
        if !a.track_op() && !b.track_op() {
            return Ok([None, None]);
        }
        let g = res.apply_op2_no_bwd(&grad.contiguous()?, &Op(ReluMask))?;
        let ga = a.track_op().then(|| g.clone());
        let gb = b.track_op().then_some(g);
        Ok([ga, gb])
    }
}

/// `(y, dy) -> dy * [y > 0]`: the gradient through a ReLU whose output is `y`.
pub(crate) struct ReluMask;

impl Kernel<2> for ReluMask {
    const NAME: &'static str = "relu-mask";
    type Sizes = ();

    fn check(&self, shapes: [&Shape; 2]) -> candle_core::Result<((), Shape)> {
        Ok(same_shape(Self::NAME, shapes)?)
    }

    fn run<T: Elem>(&self, _: &(), [y, g]: [&[T]; 2]) -> candle_core::Result<Vec<T>> {
        let zero = T::ZERO;
        Ok(zip_map(y, g, |y, g| if y > zero { g } else { zero }))
    }
}
