//! The pool of a tensor that tracks gradients: [`RecordingPool`] keeps each output's argmax in
//! an [`Argmax`] cell, and [`Unpool`] scatters the output gradient through it.

use std::sync::{Arc, Mutex, MutexGuard};

use candle_core::{Shape, Tensor};
use rayon::prelude::*;

use super::geometry::Geometry;
use super::MaxPool2d;
use crate::elem::{zeros, Elem};
use crate::kernel::{Kernel, Op};

/// Per output, the index of its maximum within its input plane: written by a [`RecordingPool`],
/// read by its [`Unpool`].
#[derive(Default, Clone)]
pub(super) struct Argmax(Arc<Mutex<Vec<u32>>>);

impl Argmax {
    fn lock(&self) -> candle_core::Result<MutexGuard<'_, Vec<u32>>> {
        self.0
            .lock()
            .map_err(|_| candle_core::Error::Msg("max-pool: argmax lock poisoned".into()))
    }

    /// Keeps the argmax a forward pass recorded.
    pub(super) fn set(&self, argmax: Vec<u32>) -> candle_core::Result<()> {
        *self.lock()? = argmax;
        Ok(())
    }

    /// Pixels per input plane and per output plane (at least 1, as chunk sizes) of the pool
    /// whose input has the 4-D shape `input`, once `grad` is checked to be its output's shape.
    pub(super) fn plane_sizes(
        &self,
        op: &'static str,
        input: &Shape,
        grad: &Shape,
    ) -> candle_core::Result<(usize, usize)> {
        let (n, c, h, w) = input.dims4()?;
        let (gn, gc, oh, ow) = grad.dims4()?;
        if (gn, gc) != (n, c) || self.lock()?.len() != n * c * oh * ow {
            candle_core::bail!("{op}: gradient shape {grad:?} does not match the output");
        }
        Ok(((h * w).max(1), (oh * ow).max(1)))
    }

    /// The input gradient (`len` values, planes of `plane_in`): each output gradient added at
    /// its argmax, for the outputs (flat indices) that `keep` accepts; zero elsewhere.
    pub(super) fn scatter<T: Elem>(
        &self,
        len: usize,
        (plane_in, plane_out): (usize, usize),
        grad_out: &[T],
        keep: impl Fn(usize) -> bool + Sync,
    ) -> candle_core::Result<Vec<T>> {
        let argmax = self.lock()?;
        let mut grad_in = zeros(len);
        grad_in
            .par_chunks_mut(plane_in)
            .zip(grad_out.par_chunks(plane_out))
            .zip(argmax.par_chunks(plane_out))
            .enumerate()
            .for_each(|(plane, ((grad_in, grad_out), argmax))| {
                let base = plane * plane_out;
                for (o, (&i, &g)) in argmax.iter().zip(grad_out).enumerate() {
                    if keep(base + o) {
                        grad_in[i as usize] += g;
                    }
                }
            });
        Ok(grad_in)
    }
}

/// The pool of a tensor that tracks gradients: the forward pass also keeps each output's
/// argmax, so the backward pass is one scatter ([`Unpool`]) instead of a second search of every
/// window (which cost as much as the forward: about 3 % of a ResNet18 training step).
pub(super) struct RecordingPool {
    pub(super) pool: MaxPool2d,
    /// Filled by the forward.
    pub(super) argmax: Argmax,
}

impl Kernel<1> for RecordingPool {
    const NAME: &'static str = "max-pool2d";
    type Sizes = Geometry;

    fn check(&self, shapes: [&Shape; 1]) -> candle_core::Result<(Geometry, Shape)> {
        self.pool.check(shapes)
    }

    fn run<T: Elem>(&self, geo: &Geometry, [x]: [&[T]; 1]) -> candle_core::Result<Vec<T>> {
        let (out, argmax) = geo.pool_recording(x);
        self.argmax.set(argmax)?;
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
        let sizes = self
            .argmax
            .plane_sizes("max-pool backward", &self.input, grad)?;
        Ok((sizes, self.input.clone()))
    }

    fn run<T: Elem>(
        &self,
        &sizes: &(usize, usize),
        [grad_out]: [&[T]; 1],
    ) -> candle_core::Result<Vec<T>> {
        self.argmax
            .scatter(self.input.elem_count(), sizes, grad_out, |_| true)
    }
}
