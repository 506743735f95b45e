//! What the grid tests share: expanding a grid's text and reading the error it gives.

use std::fmt::Display;
use std::path::Path;

use cxr_experiment::{ExperimentError, Grid, Overrides};

/// What a test returns: `?` on anything, the error printed on failure.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The start of a grid a test extends: `name = "<name>"`, 20 synthetic images per class, 3
/// epochs, as a `&'static str`.
macro_rules! base_grid {
    ($name:literal) => {
        concat!(
            "\nname = \"",
            $name,
            "\"\n[data.synthetic]\nper_class = 20\n[train]\nmax_epochs = 3\n"
        )
    };
}
pub(crate) use base_grid;

/// A grid's text expanded as if read from `path` (relative paths in it resolve from there),
/// without overrides.
pub fn expand_at(path: &str, text: &str) -> Result<Grid, ExperimentError> {
    Grid::from_toml(text, Path::new(path), &Overrides::default())
}

/// The error an expansion gave, or a line saying it did not fail.
pub fn error_of<E: Display>(expanded: Result<Grid, E>) -> String {
    match expanded {
        Ok(g) => format!("unexpected success with {} runs", g.runs.len()),
        Err(e) => e.to_string(),
    }
}

/// Checks that these folders of `../shared/data` (beside the checkout) exist, or says which is
/// absent. Tests that need them are `#[ignore = "needs ../shared/data ..."]` and sit in a module
/// named `shared_data`: `just test` runs them where the folder exists.
pub fn needs_shared_data(folders: &[&str]) -> Result<(), String> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    match folders.iter().map(|f| data.join(f)).find(|p| !p.is_dir()) {
        Some(absent) => Err(format!("needs {}: it is absent", absent.display())),
        None => Ok(()),
    }
}
