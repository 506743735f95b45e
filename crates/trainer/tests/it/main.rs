//! Sweeps, checkpoints, heads and caches trained end to end on tiny synthetic sets, one test
//! binary for the crate (one link, not one per file); `support` holds what they share.

mod support;

mod autoencoder;
mod batching;
mod chained;
mod classic_heads;
mod earlier_ids;
mod folds;
mod label_tables;
mod multilabel;
mod prefix_cache;
mod sweep;
