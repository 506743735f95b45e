//! The frozen-prefix cache changes speed, not results: the same seed trains to the same numbers
//! with and without it, and augmentation turns it off.

use std::path::Path;

use cxr_experiment::{Grid, Overrides};
use cxr_results::{read_history, read_summary, AxisValue, GridDir, RunSummary};
use cxr_trainer::{sweep, Silent};

use crate::support::TestResult;

fn run_grid(dir: &Path, extra: &str) -> Result<(Grid, GridDir), Box<dyn std::error::Error>> {
    let text = format!(
        "name = \"prefix\"\n[data]\nimage_size = 32\n{extra}\n[data.synthetic]\nper_class = 10\n\
         size = 32\n[train]\nmax_epochs = 3\npatience = 3\nbatch_size = 8\n[model]\n\
         name = \"resnet18\"\n[grid]\nfreeze = [2]\n\"train.prefix_cache\" = [true, false]\n"
    );
    let path = dir.join("prefix.toml");
    std::fs::write(&path, text)?;
    let grid = Grid::from_file(&path, &Overrides::default())?;
    let options = crate::support::options(dir);
    sweep(&grid, &options, &mut Silent::each)?;
    Ok((grid, GridDir::new(&dir.join("results"), "prefix")))
}

fn summaries(grid: &Grid, dir: &GridDir) -> Result<Vec<RunSummary>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for run in &grid.runs {
        out.extend(read_summary(&dir.run(&run.id).summary_path())?);
    }
    Ok(out)
}

#[test]
fn same_seed_same_results_with_and_without_the_cache() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let (grid, dir) = run_grid(tmp.path(), "")?;
    let [cached, plain] =
        <[RunSummary; 2]>::try_from(summaries(&grid, &dir)?).map_err(|_| "expected two runs")?;
    assert!(
        cached
            .axes
            .contains(&AxisValue::new("train.prefix_cache", "true")),
        "{:?}",
        cached.axes
    );
    assert!(
        cached.prefix_time_s.is_some_and(|t| t > 0.0),
        "the prefix pass is timed"
    );
    assert_eq!(plain.prefix_time_s, None);

    // Same predictions; losses equal up to float summation order in the batched prefix pass.
    assert_eq!(cached.test_micro_recall, plain.test_micro_recall);
    assert_eq!(cached.test_macro_recall, plain.test_macro_recall);
    assert_eq!(cached.epochs_to_converge, plain.epochs_to_converge);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * a.abs().max(1.0);
    assert!(close(
        cached.test_loss.ok_or("loss")?,
        plain.test_loss.ok_or("loss")?
    ));
    let h1 = read_history(&dir.run(&cached.run_id).history_path())?;
    let h2 = read_history(&dir.run(&plain.run_id).history_path())?;
    assert_eq!(h1.len(), h2.len());
    for (a, b) in h1.iter().zip(&h2) {
        assert!(
            close(a.train_loss, b.train_loss),
            "epoch {}: {} vs {}",
            a.epoch,
            a.train_loss,
            b.train_loss
        );
        assert!(close(a.val_loss, b.val_loss), "epoch {}", a.epoch);
        assert_eq!(a.val_micro_recall, b.val_micro_recall, "epoch {}", a.epoch);
    }
    Ok(())
}

#[test]
fn augmentation_turns_the_cache_off() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let (grid, dir) = run_grid(tmp.path(), "[data.augment]\nenabled = true\n")?;
    for s in summaries(&grid, &dir)? {
        assert_eq!(s.prefix_time_s, None, "{}", s.run_id);
    }
    Ok(())
}
