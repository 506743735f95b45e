//! The kernels crate's error type. Kernels run inside candle's custom-op callbacks, which return
//! `candle_core::Result`, so each variant converts into a `candle_core::Error` on the way out.

/// Errors a kernel reports about its inputs.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// An input has a dtype the kernel has no implementation for.
    #[error("{op}: unsupported dtype {dtype:?} (f32 and f64 only)")]
    DType {
        /// The kernel.
        op: &'static str,
        /// The dtype found.
        dtype: candle_core::DType,
    },
    /// An input is not a contiguous row-major tensor.
    #[error("{op}: expected a contiguous tensor")]
    NotContiguous {
        /// The kernel.
        op: &'static str,
    },
    /// Input shapes that do not fit together.
    #[error("{op}: {detail}")]
    Shape {
        /// The kernel.
        op: &'static str,
        /// What does not fit, with the shapes found.
        detail: String,
    },
    /// The kernel only runs on the CPU.
    #[error("{op}: CPU tensors only, got a tensor on {device:?}")]
    Device {
        /// The kernel.
        op: &'static str,
        /// Where the tensor lives.
        device: candle_core::DeviceLocation,
    },
}

impl From<KernelError> for candle_core::Error {
    fn from(err: KernelError) -> Self {
        candle_core::Error::wrap(err)
    }
}

/// The kernels crate's result type.
pub type Result<T, E = KernelError> = std::result::Result<T, E>;
