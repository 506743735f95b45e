//! The element types the kernels run on (f32 and f64) and access to their CPU storage.

use std::cell::RefCell;

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, DType, Layout, WithDType};
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
