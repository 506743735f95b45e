//! [`Geometry`]: the sizes of one pool, and the plane-parallel loops that pool, pool while
//! recording each argmax, and route gradients back through a fresh search.

use candle_core::Shape;
use rayon::prelude::*;

use super::MaxPool2d;
use crate::elem::{zeros, Elem};

/// The shapes of one pool: `planes` planes of `h x w` in, `oh x ow` out.
// `pub(crate)`, not `pub(super)`: it is the `Kernel::Sizes` of the public `MaxPool2d`.
pub(crate) struct Geometry {
    pub(super) planes: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
    pub(super) pool: MaxPool2d,
}

impl Geometry {
    /// The output shape for the input `shape` this geometry was made from.
    pub(super) fn output_shape(&self, shape: &Shape) -> candle_core::Result<Shape> {
        let (n, c, _, _) = shape.dims4()?;
        Ok(Shape::from((n, c, self.oh, self.ow)))
    }

    /// Each plane of `input` pooled.
    pub(super) fn pool<T: Elem>(&self, input: &[T]) -> Vec<T> {
        let (plane_in, plane_out) = (self.h * self.w, self.oh * self.ow);
        let mut out = zeros(self.planes * plane_out);
        out.par_chunks_mut(plane_out.max(1))
            .zip(input.par_chunks(plane_in.max(1)))
            .for_each(|(out, input)| self.for_each_argmax(input, |i, o| out[o] = input[i]));
        out
    }

    /// [`Geometry::pool`] that also returns each output's argmax (its index in the plane).
    pub(super) fn pool_recording<T: Elem>(&self, input: &[T]) -> (Vec<T>, Vec<u32>) {
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

    /// `grad_out` routed to each window's first maximum in `input`, found by a fresh search.
    pub(super) fn unpool<T: Elem>(&self, input: &[T], grad_out: &[T]) -> Vec<T> {
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
