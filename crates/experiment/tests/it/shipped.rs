//! Every grid shipped in `experiments/` expands to runs, as `cxr sweep --dry-run` expands it:
//! source grids first, dataset folders that are absent here allowed (nothing is trained).

use std::path::Path;

use cxr_experiment::{Grid, Overrides};

use crate::support::TestResult;

#[test]
fn every_shipped_grid_expands_to_runs() -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let overrides = Overrides {
        allow_missing_data: true,
        ..Overrides::default()
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    // 11 grids when this test was written: fewer means the folder was not read.
    assert!(files.len() >= 11, "{files:?}");
    for path in &files {
        let grid =
            Grid::from_file(path, &overrides).map_err(|e| format!("{}: {e}", path.display()))?;
        for stage in grid.stages() {
            assert!(
                !stage.runs.is_empty(),
                "{}: stage {} has no runs",
                path.display(),
                stage.name
            );
        }
    }
    Ok(())
}
