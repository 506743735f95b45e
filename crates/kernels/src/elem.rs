//! The element types the kernels run on (f32 and f64) and access to their CPU storage.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, DType, Layout, WithDType};

use crate::error::KernelError;

/// A float element the kernels implement: f32 (training) or f64 (finite-difference tests).
pub trait Elem: WithDType + Default {
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;

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

impl Elem for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
}

impl Elem for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
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
