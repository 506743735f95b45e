//! Grid files as users write them and as shipped in `experiments/`: expansion, run ids, chained
//! and cross-validated grids, heads, and one clear error per mistake; one test binary for the
//! crate (one link, not one per file), `support` holds what they share.

mod support;

mod chained;
mod dicom_window;
mod fingerprint;
mod folds;
mod grids;
mod heads;
mod label_tables;
mod shipped;
