//! [`Kernel`]: what one CPU op of this crate defines, and [`Op`], which runs it as a candle
//! custom op.
//!
//! Every op checks its input shapes, picks the element type from the first input's storage,
//! borrows each input as a contiguous slice and wraps the result as storage. That glue is written
//! once here; an op states only its shape check, its kernel and its backward pass. The input
//! count is a const parameter, so one trait serves candle's `CustomOp1`, `CustomOp2` and
//! `CustomOp3`; everything is monomorphised, so the kernels run exactly as if called directly.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Shape, Tensor};

use crate::elem::{dispatch_float, Elem};

/// A CPU op over `N` contiguous f32 or f64 tensors of one element type.
pub(crate) trait Kernel<const N: usize>: Send + Sync {
    /// The op's name, in errors and in candle's graph.
    const NAME: &'static str;

    /// What the shape check derives and the kernel runs by (a geometry, or `()`).
    type Sizes;

    /// Checks the input shapes: what [`Kernel::run`] needs, and the output shape.
    fn check(&self, shapes: [&Shape; N]) -> candle_core::Result<(Self::Sizes, Shape)>;

    /// The output, from the inputs' elements in row-major order.
    fn run<T: Elem>(&self, sizes: &Self::Sizes, inputs: [&[T]; N]) -> candle_core::Result<Vec<T>>;

    /// The gradient of each input from the output `res` and its gradient `grad` (`None` for an
    /// input that tracks none). By default the op has no backward pass, as candle's default.
    fn backward(
        &self,
        _inputs: [&Tensor; N],
        _res: &Tensor,
        _grad: &Tensor,
    ) -> candle_core::Result<[Option<Tensor>; N]> {
        Err(candle_core::Error::BackwardNotSupported { op: Self::NAME })
    }
}

/// A [`Kernel`] as a candle custom op (`CustomOp1`, `2` or `3` by its input count).
pub(crate) struct Op<K>(pub K);

impl<K> Op<K> {
    /// The forward pass: the shape check, then the kernel on the inputs' slices.
    fn cpu_fwd_n<const N: usize>(
        &self,
        inputs: [(&CpuStorage, &Layout); N],
    ) -> candle_core::Result<(CpuStorage, Shape)>
    where
        K: Kernel<N>,
    {
        let (sizes, shape) = self.0.check(inputs.map(|(_, layout)| layout.shape()))?;
        let out = dispatch_float!(K::NAME, inputs[0].0, T => {
            let mut slices: [&[T]; N] = [&[]; N];
            for (slice, (storage, layout)) in slices.iter_mut().zip(inputs) {
                *slice = T::slice(K::NAME, storage, layout)?;
            }
            T::wrap(self.0.run(&sizes, slices)?)
        });
        Ok((out, shape))
    }
}

impl<K: Kernel<1>> CustomOp1 for Op<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        self.cpu_fwd_n([(s, l)])
    }

    fn bwd(
        &self,
        arg: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let [d] = self.0.backward([arg], res, grad)?;
        Ok(d)
    }
}

impl<K: Kernel<2>> CustomOp2 for Op<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.cpu_fwd_n([(s1, l1), (s2, l2)])
    }

    fn bwd(
        &self,
        arg1: &Tensor,
        arg2: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let [d1, d2] = self.0.backward([arg1, arg2], res, grad)?;
        Ok((d1, d2))
    }
}

impl<K: Kernel<3>> CustomOp3 for Op<K> {
    fn name(&self) -> &'static str {
        K::NAME
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.cpu_fwd_n([(s1, l1), (s2, l2), (s3, l3)])
    }

    fn bwd(
        &self,
        arg1: &Tensor,
        arg2: &Tensor,
        arg3: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let [d1, d2, d3] = self.0.backward([arg1, arg2, arg3], res, grad)?;
        Ok((d1, d2, d3))
    }
}
