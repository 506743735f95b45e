//! Fast CPU kernels for training the cxr models, as candle custom ops with backward passes.
//!
//! candle 0.11's CPU backend trains these networks at 15-35% of PyTorch's speed on the same
//! cores: its convolution input gradient is a direct loop, its weight gradient and forward
//! convolution reach a quarter of the GEMM peak, and BatchNorm and ReLU composed from
//! elementwise ops take about ten passes over each activation. This crate replaces exactly
//! those pieces, each a `candle_core::CustomOp` whose backward is built from further custom ops:
//!
//! - [`conv2d`]: convolution as im2col + GEMM (the `gemm` crate candle itself uses), with the
//!   weight gradient as im2col + GEMM and the input gradient as GEMM + col2im, the latter skipped
//!   when the input tracks no gradient (the image, a detached frozen prefix); stride-1 3x3
//!   convolutions with at least 16 output tiles of 2x2 per image (an 8x8 map) take Winograd
//!   F(2x2, 3x3) instead in all three passes (16 GEMMs over transformed tiles, 2.25 times fewer
//!   multiplications; `CXR_WINOGRAD=0` turns it off); [`conv2d_bias`] adds a bias whose
//!   gradient comes from the same backward pass, and [`conv2d_bias_relu`] a ReLU after it (an eval-mode conv -> BatchNorm -> ReLU, the BatchNorm folded into the conv).
//! - [`batch_norm_train`] / [`batch_norm_eval`]: BatchNorm in one forward and one backward pass
//!   per direction, optionally fused with the ReLU after it.
//! - [`add_relu`]: `relu(a + b)`, the end of a residual block; [`batch_norm_add_relu_train`]
//!   fuses the BatchNorm before it in training, so the BatchNorm's output is never kept.
//! - [`MaxPool2d`]: max-pooling with padding and any kernel/stride (the ResNet stem's 3x3/2),
//!   PyTorch's first-maximum tie rule; [`batch_norm_relu_max_pool_train`] fuses the ResNet
//!   stem's BatchNorm+ReLU before it in training, so their full-size output is never kept.
//!
//! It deliberately does not know about models, layers or parameter names (`cxr-models` owns
//! those and decides when to call these ops), and has no GPU paths: every op fails on a non-CPU
//! tensor, so callers use candle's own ops there. f32 and f64 only (f64 for gradient checks).
//!
//! ```
//! use candle_core::{Device, Tensor, Var};
//! # fn main() -> candle_core::Result<()> {
//! let x = Tensor::randn(0f32, 1., (2, 3, 8, 8), &Device::Cpu)?;
//! let w = Var::randn(0f32, 1., (4, 3, 3, 3), &Device::Cpu)?;
//! let y = cxr_kernels::conv2d(&x, w.as_tensor(), 1, 1)?; // (2, 4, 8, 8)
//! let grads = y.sqr()?.sum_all()?.backward()?; // weight gradient only: x is a constant
//! assert!(grads.get(&w).is_some());
//! # Ok(())
//! # }
//! ```
//!
//! # Why this crate allows `unsafe`
//! The workspace denies `unsafe_code`; this crate is the one exception because the `gemm`
//! crate's only entry point is an `unsafe fn` taking raw pointers and strides. The call sits in
//! the `matmul` module behind safe, bounds-checked wrappers, one of which
//! (`matmul_uninit`) writes a convolution's output into memory not yet written, so that it is
//! not zero-filled first only to be overwritten. The other unsafe code: `elem::collect_chunks`
//! and the convolution's forward pass set a vector's length once every slot is written (counted
//! or written whole by construction, each with its reason beside it), and [`alloc`]'s two calls
//! into mimalloc's option table (the binaries' allocator).
//!
//! # Vector instructions
//! The build targets baseline x86-64 (SSE2), so the binaries run on any x86-64 machine. The
//! element-wise loops (BatchNorm, add+ReLU, the plane sums, writing results) are also compiled
//! for AVX2+FMA and SSE4.2 with the `multiversion` crate and the best one the CPU has is chosen
//! at run time; no FMA contraction is allowed, so each version rounds exactly as the baseline.
//! The GEMM (the `gemm` crate) dispatches to AVX-512 or AVX2 by itself.
#![allow(unsafe_code)]

mod add_relu;
pub mod alloc;
mod batch_norm;
mod batch_norm_add_relu;
mod conv;
mod elem;
pub mod error;
mod im2col;
mod kernel;
mod matmul;
mod max_pool;
mod reduce;

pub use add_relu::add_relu;
pub use batch_norm::{batch_norm_eval, batch_norm_train, ChannelStats};
pub use batch_norm_add_relu::batch_norm_add_relu_train;
pub use conv::{conv2d, conv2d_bias, conv2d_bias_relu};
pub use error::{KernelError, Result};
pub use im2col::ConvGeometry;
pub use max_pool::{batch_norm_relu_max_pool_train, MaxPool2d};
