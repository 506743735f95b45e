//! Results written before datasets were identified by content (issue 32) keep working: a run
//! finished under the id of its dataset's path is found, not trained again, listed in the plan
//! under that id and merged into the grid's summary, and a run that starts from such a source
//! run finds its weights.

use std::path::Path;

use cxr_data::synth::{write_synthetic, SynthConfig};
use cxr_experiment::{Grid, Overrides};
use cxr_results::{read_plan, read_summary, GridDir};
use cxr_trainer::{sweep, Silent, SweepOptions};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn grid(dir: &Path, name: &str, body: &str) -> Result<Grid, Box<dyn std::error::Error>> {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = \"{name}\"\nseed = 0\n[data]\nroot = \"data\"\nimage_size = 32\n\
             [train]\nmax_epochs = 1\npatience = 1\nbatch_size = 8\n{body}"
        ),
    )?;
    let overrides = Overrides {
        cache_dir: Some(dir.join("cache")),
        ..Overrides::default()
    };
    Ok(Grid::from_file(&path, &overrides)?)
}

/// Makes a finished run look as an earlier cxr left it: its folder named by its earlier id,
/// and its summary row carrying that id; the grid's merged summary gone.
fn as_earlier(
    grid_dir: &GridDir,
    id: &str,
    earlier: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::rename(grid_dir.run(id).path(), grid_dir.run(earlier).path())?;
    let run = grid_dir.run(earlier);
    for mut row in read_summary(&run.summary_path())? {
        row.run_id = earlier.to_string();
        run.write_summary(&row)?;
    }
    std::fs::remove_file(grid_dir.summary_path())?;
    Ok(())
}

#[test]
fn runs_finished_under_their_path_ids_are_resumed_and_reported() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cfg = SynthConfig {
        per_class: 6,
        size: 32,
        seed: 5,
        ..SynthConfig::default()
    };
    write_synthetic(&tmp.path().join("data"), &cfg)?;
    let options = SweepOptions::new(tmp.path().join("results"), tmp.path().join("cache"));
    let source = grid(tmp.path(), "source", "[model]\nname = \"resnet18\"\n")?;
    sweep(&source, &options, &mut Silent::each)?;
    let source_dir = GridDir::new(&options.results_dir, "source");
    let run = &source.runs[0];
    let earlier = run
        .legacy_id
        .clone()
        .ok_or("a folder dataset's run has a path id too")?;
    as_earlier(&source_dir, &run.id, &earlier)?;

    // The source grid again: nothing trained, the earlier folder is the run's.
    let again = sweep(&source, &options, &mut Silent::each)?;
    assert_eq!((again.ran.len(), again.skipped, again.merged), (0, 1, 1));
    let plan = read_plan(&source_dir.plan_path())?;
    assert_eq!(plan[0].run_id, earlier);
    assert_eq!(read_summary(&source_dir.summary_path())?[0].run_id, earlier);

    // A grid that starts from it trains, taking the weights from the earlier folder.
    let target = grid(
        tmp.path(),
        "target",
        "[pretrained.src]\ngrid = \"source.toml\"\n[model]\nname = \"resnet18\"\nweights = \"src\"\nfreeze = 2\n",
    )?;
    let report = sweep(&target, &options, &mut Silent::each)?;
    assert_eq!((report.ran.len(), report.failed()), (1, 0));
    assert_eq!(report.sources[0].1.skipped, 1);
    Ok(())
}
