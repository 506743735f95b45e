//! What every CLI test shares: running the `cxr` binary, reading its output, the tiny
//! synthetic grid, and the real sample beside the checkout.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What a test returns: `?` on anything, the error printed on failure.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The `cxr` binary of this build, logging warnings only.
pub fn cxr() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cxr"));
    c.env("CXR_LOG", "warn");
    c
}

/// Runs `cxr args` in `cwd`, to the end.
pub fn cxr_in(args: &[&str], cwd: &Path) -> std::io::Result<Output> {
    cxr().args(args).current_dir(cwd).output()
}

/// Bytes (stdout or stderr) as text, lossily.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What a user saw: stdout, then stderr.
pub fn transcript(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// A path as a command-line argument.
pub fn s(path: &Path) -> Result<&str, Box<dyn std::error::Error>> {
    Ok(path.to_str().ok_or("non-UTF-8 path")?)
}

/// The tiny grid, a `&'static str`: 4 x 12 synthetic images at 32 px, 2 epochs (seconds per
/// run), then the string literals given (a `[grid]` table, say).
macro_rules! tiny_grid {
    ($($more:literal),* $(,)?) => {
        concat!(
            "name = \"tiny\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 12\nsize = 32\n",
            "[train]\nmax_epochs = 2\npatience = 2\nbatch_size = 8\n",
            $($more),*
        )
    };
}
pub(crate) use tiny_grid;

/// [`tiny_grid!`] alone: no `[grid]`, so one CNN run.
pub const TINY: &str = tiny_grid!();

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
