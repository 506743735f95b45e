//! The kernels against candle and finite differences, one test binary for the crate (one link,
//! not one per file); `support` holds the seeded inputs and comparisons they share.

mod support;

mod add_relu;
mod batch_norm;
mod batch_norm_add_relu;
mod conv;
mod max_pool;
mod stem_pool;
