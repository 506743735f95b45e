//! `relu(a + b)`, the end of every residual block, in one pass each way.
//!
//! candle composes it from an add and a ReLU whose backward builds a `ge(0)` mask, converts it
//! to floats and multiplies: four passes and three temporaries. Here the backward masks the
//! gradient by `y > 0` (PyTorch's convention at exactly 0) and hands the same tensor to both
//! inputs.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use crate::elem::{dispatch_float, zeros, Elem};
use crate::error::KernelError;

/// Elements per rayon task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 1 << 15;

/// `relu(a + b)` for two tensors of the same shape. CPU, f32 or f64.
pub fn add_relu(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    a.contiguous()?.apply_op2(&b.contiguous()?, AddRelu)
}

struct AddRelu;

fn same_shape(op: &'static str, l1: &Layout, l2: &Layout) -> Result<(), KernelError> {
    if l1.shape() != l2.shape() {
        return Err(KernelError::Shape {
            op,
            detail: format!("shapes {:?} and {:?} differ", l1.shape(), l2.shape()),
        });
    }
    Ok(())
}

/// `out[i] = f(a[i], b[i])`, in parallel chunks.
fn zip_map<T: Elem>(a: &[T], b: &[T], f: impl Fn(T, T) -> T + Sync) -> Vec<T> {
    let mut out = zeros(a.len());
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
        .for_each(|(o, (a, b))| {
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = f(a, b);
            }
        });
    out
}

impl CustomOp2 for AddRelu {
    fn name(&self) -> &'static str {
        "add-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        same_shape(self.name(), l1, l2)?;
        let out = dispatch_float!(self.name(), s1, T => {
            let a = T::slice(self.name(), s1, l1)?;
            let b = T::slice(self.name(), s2, l2)?;
            let zero = T::ZERO;
            T::wrap(zip_map(a, b, |a, b| {
                let s = a + b;
                if s > zero { s } else { zero }
            }))
        });
        Ok((out, l1.shape().clone()))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        if !a.track_op() && !b.track_op() {
            return Ok((None, None));
        }
        let g = res.apply_op2_no_bwd(&grad.contiguous()?, &ReluMask)?;
        let ga = a.track_op().then(|| g.clone());
        let gb = b.track_op().then_some(g);
        Ok((ga, gb))
    }
}

/// `(y, dy) -> dy * [y > 0]`.
struct ReluMask;

impl CustomOp2 for ReluMask {
    fn name(&self) -> &'static str {
        "relu-mask"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        same_shape(self.name(), l1, l2)?;
        let out = dispatch_float!(self.name(), s1, T => {
            let y = T::slice(self.name(), s1, l1)?;
            let g = T::slice(self.name(), s2, l2)?;
            let zero = T::ZERO;
            T::wrap(zip_map(y, g, |y, g| if y > zero { g } else { zero }))
        });
        Ok((out, l1.shape().clone()))
    }
}
