//! The models: construction, freezing, backward, weights and parity with PyTorch, one test
//! binary for the crate (one link, not one per file; `candle_ops` stays its own binary: the CUDA
//! build ships it alone, see scripts/cuda-build.sh); `support` holds the shared helpers.

mod support;

mod autoencoder;
mod backward;
mod construction;
mod freezing;
mod parity;
mod weights;
