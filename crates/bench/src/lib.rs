//! Throughput of the cxr models against PyTorch on the same machine (`just bench`).
//!
//! Each [`Case`] (model, freeze depth, mode) is timed in its own process ([`suite::run_cases`])
//! so its peak memory is its own: a warm-up, then steps on one fixed random batch (32 images of
//! 3x128x128, 4 classes) until a minimum time has passed. A training step is what the trainer
//! does per batch: training-mode forward, cross-entropy, backward, our PyTorch-style Adam. An
//! inference step is an eval-mode forward. `bench/torch_bench.py` does the same with torchvision
//! models and writes the same [`Suite`] JSON; [`report`] pairs the two into the printed table
//! and `bench/last.json`, with each throughput also as a share of the machine's GEMM peak
//! (convolution GFLOP per image from the architecture, [`flops`]).
//!
//! [`decode`] times something else: decoding the real sample's films as PNG and as DICOM
//! (`cxr-bench decode`, `just bench-decode`). [`split`] times reading a label table the size
//! of NIH ChestX-ray14's (written by [`nih_table`]) and splitting it by patient into folds
//! (`cxr-bench split`, `just bench-split`).
//!
//! It does not time data loading (the trainer's batches come from a prepared cache) and it is a
//! benchmark, not a test: nothing here asserts a speed.
//!
//! A new mode (the prefix-cache epoch timing) is a [`case::Mode`] variant, a branch in
//! [`measure::measure`] and a line in [`case::default_cases`]; the report and JSON need no
//! change.

pub mod case;
pub mod decode;
pub mod error;
pub mod flops;
pub mod measure;
pub mod nih_table;
pub mod report;
pub mod split;
pub mod suite;

pub use case::{Case, Mode};
pub use error::{BenchError, Result};
pub use measure::{measure, Budget, Measurement, Target};
pub use suite::Suite;
