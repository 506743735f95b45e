//! The element types the kernels run on (f32 and f64) and access to their CPU storage.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, DType, Layout, WithDType};
use multiversion::multiversion;
use rayon::prelude::*;

use crate::error::KernelError;

/// A float element the kernels implement: f32 (training) or f64 (finite-difference tests).
pub trait Elem: WithDType + Default {
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;

    /// Runs `f` with this thread's two scratch buffers (kept between calls, so the GEMM
    /// operands of every layer do not cost fresh pages each step). Callers must not call back
    /// into rayon inside `f`, which could run another task on this thread that wants them too.
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R;

    /// Wraps a result as candle storage.
    fn wrap(data: Vec<Self>) -> CpuStorage {
        Self::to_cpu_storage_owned(data)
    }

    /// The borrowed slice a contiguous `layout` covers in `storage`.
    fn slice<'a>(
        op: &'static str,
        storage: &'a CpuStorage,
        layout: &Layout,
    ) -> Result<&'a [Self], KernelError> {
        let data = Self::cpu_storage_as_slice(storage).map_err(|_| KernelError::DType {
            op,
            dtype: storage_dtype(storage),
        })?;
        match layout.contiguous_offsets() {
            Some((start, end)) => Ok(&data[start..end]),
            None => Err(KernelError::NotContiguous { op }),
        }
    }
}

/// [`Elem`] for the float type `$t`, its scratch buffers in the thread-local `$scratch`.
macro_rules! impl_elem {
    ($t:ty, $scratch:ident) => {
        thread_local! {
            static $scratch: RefCell<(Vec<$t>, Vec<$t>)> = const { RefCell::new((Vec::new(), Vec::new())) };
        }

        impl Elem for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;

            fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>, &mut Vec<Self>) -> R) -> R {
                $scratch.with(|s| {
                    let (a, b) = &mut *s.borrow_mut();
                    f(a, b)
                })
            }
        }
    };
}

impl_elem!(f32, SCRATCH_F32);
impl_elem!(f64, SCRATCH_F64);

/// `buf` grown to at least `len` elements, as a slice of exactly `len`; its old contents are
/// left in place (every caller overwrites the whole slice).
pub(crate) fn scratch<T: Elem>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    if buf.len() < len {
        buf.resize(len, T::ZERO);
    }
    &mut buf[..len]
}

/// `n` zeros, written by all of rayon's threads when `n` is large. A plain `vec![0; n]` of an
/// activation (8-34 MB for ResNet18 at 128 px) is one memset on the thread that called the op,
/// with the other cores idle: measured at 3 % of a training step, doubled in wall time.
pub(crate) fn zeros<T: Elem>(n: usize) -> Vec<T> {
    const SERIAL_BELOW: usize = 1 << 16;
    if n < SERIAL_BELOW {
        return vec![T::ZERO; n];
    }
    let mut v = Vec::new();
    (0..n)
        .into_par_iter()
        .map(|_| T::ZERO)
        .collect_into_vec(&mut v);
    v
}

/// `n` values computed a chunk at a time on rayon's threads, written once (no zero fill first,
/// which was a full extra write of every activation: 4 % of a ResNet18 training step). Chunk `i`
/// holds `chunk` values (the last one fewer) and gets them from `values(i, len)`, which must
/// yield exactly `len` values.
///
/// # Panics
/// When `values` yields fewer than `len` values for a chunk (a bug in the caller).
pub(crate) fn collect_chunks<T, I>(
    n: usize,
    chunk: usize,
    values: impl Fn(usize, usize) -> I + Sync,
) -> Vec<T>
where
    T: Elem,
    I: Iterator<Item = T>,
{
    let mut out = Vec::with_capacity(n);
    out.spare_capacity_mut()[..n]
        .par_chunks_mut(chunk.max(1))
        .enumerate()
        .for_each(|(i, slots)| {
            let written = write_all(slots, values(i, slots.len()));
            assert_eq!(
                written,
                slots.len(),
                "collect_chunks: chunk {i} left unwritten"
            );
        });
    // SAFETY: every chunk of the first `n` slots was written whole (the count is asserted, and
    // a panic in any chunk leaves this function before this line), so all `n` are initialised.
    unsafe { out.set_len(n) };
    out
}

/// Writes `values` into `slots` in order, returning how many were written. Compiled for AVX2 and
/// SSE4.2 too, chosen at run time.
#[multiversion(targets = "simd")]
fn write_all<T: Elem, I: Iterator<Item = T>>(slots: &mut [MaybeUninit<T>], values: I) -> usize {
    let mut written = 0;
    for (slot, v) in slots.iter_mut().zip(values) {
        slot.write(v);
        written += 1;
    }
    written
}

/// The dtype of a storage (a free function so callers need not import candle's backend trait).
pub(crate) fn storage_dtype(storage: &CpuStorage) -> DType {
    storage.dtype()
}

/// Runs `$body` with `$t` bound to the element type of `$storage` (f32 or f64).
macro_rules! dispatch_float {
    ($op:expr, $storage:expr, $t:ident => $body:expr) => {
        match $crate::elem::storage_dtype($storage) {
            candle_core::DType::F32 => {
                type $t = f32;
                $body
            }
            candle_core::DType::F64 => {
                type $t = f64;
                $body
            }
            dtype => {
                return Err($crate::error::KernelError::DType { op: $op, dtype }.into());
            }
        }
    };
}
pub(crate) use dispatch_float;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collect_chunks_writes_every_chunk_in_order() {
        // 100,003 values in chunks of 1,000: a short last chunk, and enough chunks for every
        // rayon thread.
        let out: Vec<f32> = collect_chunks(100_003, 1_000, |i, len| {
            (0..len).map(move |j| (i * 1_000 + j) as f32)
        });
        assert_eq!(out.len(), 100_003);
        assert!(out.iter().enumerate().all(|(i, &v)| v == i as f32));
        assert!(collect_chunks::<f64, _>(0, 16, |_, len| (0..len).map(|_| 1.0)).is_empty());
    }

    #[test]
    #[should_panic(expected = "left unwritten")]
    fn a_chunk_left_short_is_a_panic_not_garbage() {
        let _: Vec<f32> =
            collect_chunks(10, 4, |i, len| (0..len - usize::from(i == 2)).map(|_| 0.0));
    }
}
