//! What the data tests share.

use std::path::{Path, PathBuf};

/// What a test returns: `?` on anything, the error printed on failure.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The real sample beside the checkout (3 x 300 PNGs), or an error naming where it should be.
/// Tests that need it are `#[ignore = "needs ../shared/data ..."]` and sit in a module named
/// `shared_data`: `just test` runs them where the folder exists.
pub fn real_sample() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/COVID-19_Radiography_Dataset");
    if root.is_dir() {
        Ok(root)
    } else {
        Err(format!(
            "needs the real sample: {} is absent",
            root.display()
        ))
    }
}

/// The NIH ChestX-ray14 sample beside the checkout (798 films, 212 patients, NIH's table), or
/// an error naming where it should be.
pub fn nih_sample() -> Result<PathBuf, String> {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/NIH_ChestXray14_sample");
    if root.is_dir() {
        Ok(root)
    } else {
        Err(format!(
            "needs the NIH sample: {} is absent",
            root.display()
        ))
    }
}
