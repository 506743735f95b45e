//! Chained grids: a grid whose runs start from another grid's kept weights.

use std::path::Path;

use candle_core::Device;
use cxr_experiment::{Grid, Overrides};
use cxr_models::{Model, ModelConfig};
use cxr_results::{read_summary, GridDir};
use cxr_trainer::{sweep, Silent, SweepOptions};

use crate::support::TestResult;

/// The source: resnet18 on phantoms of another generator seed, normalised with their own
/// statistics. The target: resnet18 at freeze 4 from random init and from the source.
fn grids(dir: &Path, source_epochs: usize) -> Result<Grid, Box<dyn std::error::Error>> {
    let common = "[data]\nimage_size = 32\n[train]\npatience = 2\nbatch_size = 8\n";
    std::fs::write(
        dir.join("source.toml"),
        format!(
            "name = \"source\"\n{common}max_epochs = {source_epochs}\n[data.synthetic]\nper_class = 10\nsize = 32\nseed = 5\n\
             [model]\nname = \"resnet18\"\n"
        ),
    )?;
    std::fs::write(
        dir.join("target.toml"),
        format!(
            "name = \"target\"\n{common}max_epochs = 2\n[data.synthetic]\nper_class = 10\nsize = 32\n\
             [pretrained.src]\ngrid = \"source.toml\"\n\
             [grid]\nmodel = \"resnet18\"\nfreeze = 4\nweights = [\"random\", \"src\"]\n"
        ),
    )?;
    Ok(Grid::from_file(
        &dir.join("target.toml"),
        &Overrides::default(),
    )?)
}

fn options(dir: &Path, cell: Option<usize>) -> SweepOptions {
    SweepOptions {
        cell,
        ..crate::support::options(dir)
    }
}

#[test]
fn the_source_trains_once_and_its_backbone_and_statistics_carry_over() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = grids(tmp.path(), 2)?;
    let report = sweep(&grid, &options(tmp.path(), None), &mut Silent::each)?;
    assert_eq!((report.ran.len(), report.failed()), (2, 0));

    let results = tmp.path().join("results");
    let source_dir = GridDir::new(&results, "source");
    let source_run = source_dir.run(&grid.sources[0].runs[0].id);
    assert_eq!(read_summary(&source_dir.summary_path())?.len(), 1);
    let target_dir = GridDir::new(&results, "target");
    let tuned = target_dir.run(&grid.runs[1].id);

    // Normalisation follows the backbone: the source run's statistics, not ImageNet's.
    let source_stats = source_run.read_preprocessing()?.stats;
    assert_eq!(tuned.read_preprocessing()?.stats, source_stats);
    let random = target_dir.run(&grid.runs[0].id).read_preprocessing()?.stats;
    assert_ne!(random, source_stats, "the two datasets differ");

    // Freeze 4: every tensor but the head is the source's, bit for bit, after fine-tuning.
    let device = Device::Cpu;
    let config = ModelConfig::new(cxr_models::ModelKind::Resnet18, 4);
    let source_model = Model::load(config, &source_run.model_path(), &device)?;
    let tuned_model = Model::load(config.with_freeze(4), &tuned.model_path(), &device)?;
    let mut compared = 0;
    for p in source_model.parameters() {
        if p.name().starts_with("fc.") {
            continue;
        }
        let q = tuned_model.parameter(p.name()).ok_or("missing tensor")?;
        let a = p.tensor().flatten_all()?.to_vec1::<f32>()?;
        let b = q.tensor().flatten_all()?.to_vec1::<f32>()?;
        assert!(a == b, "{} changed", p.name());
        compared += 1;
    }
    assert_eq!(
        compared, 100,
        "every resnet18 tensor but fc.weight and fc.bias"
    );

    // A second sweep trains nothing, the source stage included.
    let again = sweep(&grid, &options(tmp.path(), None), &mut Silent::each)?;
    assert_eq!((again.ran.len(), again.skipped), (0, 2));
    assert_eq!(read_summary(&source_dir.summary_path())?.len(), 1);
    Ok(())
}

#[test]
fn a_cell_whose_source_is_missing_stops_with_a_clear_error() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = grids(tmp.path(), 1)?;
    // Cell 1 starts from the source, which no one has trained: no random-init fallback.
    let err = sweep(&grid, &options(tmp.path(), Some(1)), &mut Silent::each)
        .err()
        .ok_or("expected an error")?;
    let msg = err.to_string();
    assert!(
        msg.contains("cannot load the starting weights source/resnet18-f0-s0-")
            && msg.contains("train its grid first"),
        "{msg}"
    );
    let target_dir = GridDir::new(&tmp.path().join("results"), "target");
    assert!(!target_dir.run(&grid.runs[1].id).path().exists());
    // A cell from random init needs no source.
    let random = sweep(&grid, &options(tmp.path(), Some(0)), &mut Silent::each)?;
    assert_eq!(random.ran.len(), 1);
    Ok(())
}
