//! What the trainer's tests share.

use std::path::Path;

use cxr_trainer::SweepOptions;

/// What a test returns: `?` on anything, the error printed on failure.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A sweep's default options with its results and cache under `dir`.
pub fn options(dir: &Path) -> SweepOptions {
    SweepOptions::new(dir.join("results"), dir.join("cache"))
}
