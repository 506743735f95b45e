//! Sweeps on tiny synthetic grids: files written, resume, determinism, failures recorded.

use std::path::Path;

use cxr_experiment::{Grid, Overrides};
use cxr_results::{read_frame, read_summary, status, summary_columns, GridDir};
use cxr_trainer::{preprocessing, sweep, Silent, SweepOptions};

use crate::support::{options, TestResult};

fn tiny_grid(dir: &Path, extra: &str) -> Result<Grid, Box<dyn std::error::Error>> {
    let text = format!(
        "name = \"tiny\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 10\nsize = 32\n\
         [train]\nmax_epochs = 2\npatience = 2\nbatch_size = 8\n{extra}"
    );
    let path = dir.join("tiny.toml");
    std::fs::write(&path, &text)?;
    Ok(Grid::from_file(&path, &Overrides::default())?)
}

#[test]
fn a_sweep_writes_every_file_and_a_rerun_skips_it() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = tiny_grid(
        tmp.path(),
        "[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [0, 4]\n",
    )?;
    assert_eq!(grid.runs.len(), 3);
    let report = sweep(&grid, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!(
        (
            report.ran.len(),
            report.skipped,
            report.failed(),
            report.merged
        ),
        (3, 0, 0, 3)
    );

    let grid_dir = GridDir::new(&tmp.path().join("results"), "tiny");
    for run in &grid.runs {
        let dir = grid_dir.run(&run.id);
        for file in [
            dir.config_path(),
            dir.history_path(),
            dir.summary_path(),
            dir.per_class_path(),
            dir.confusion_path(),
            dir.model_path(),
            dir.preprocessing_path(),
            dir.predictions_path(),
        ] {
            assert!(file.is_file(), "{} missing", file.display());
        }
        // Uncalibrated: no calibration.json, the plain softmax, an ECE in the summary.
        assert!(dir.read_calibration()?.is_none());
        let predictions = dir.read_predictions()?;
        let own = cxr_results::read_summary(&dir.summary_path())?;
        assert_eq!(Some(predictions.len() as i64), own[0].test_images);
        assert!(own[0].test_ece.is_some() && own[0].temperature.is_none());
        assert!(predictions
            .iter()
            .all(|p| p.probabilities.as_ref().is_some_and(|p| p.len() == 4)));
        let history = read_frame(&dir.history_path())?;
        assert_eq!(history.height(), 2);
        let confusion = read_frame(&dir.confusion_path())?;
        assert_eq!(confusion.height(), 16, "4 x 4 classes");
        // Run folders from before preprocessing.json get the same record by recomputing it.
        let recorded = dir.read_preprocessing()?;
        assert_eq!(recorded.classes.len(), 4);
        let recomputed = preprocessing::recompute(&run.config, &tmp.path().join("cache"))?;
        assert_eq!(recomputed, recorded);
    }
    let merged = read_frame(&grid_dir.summary_path())?;
    let columns: Vec<String> = merged
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(columns, summary_columns());
    let rows = read_summary(&grid_dir.summary_path())?;
    let r18f4 = rows
        .iter()
        .find(|r| r.model == "resnet18" && r.freeze == 4)
        .ok_or("resnet18 f4 row")?;
    assert_eq!(r18f4.trainable_params, 2_052, "fc only: 512 x 4 + 4");
    for r in &rows {
        assert_eq!(r.status, status::OK);
        let micro = r.test_micro_recall.ok_or("micro")?;
        assert!((0.0..=1.0).contains(&micro));
        assert!(r.epochs_to_converge.is_some_and(|e| (1..=2).contains(&e)));
        assert_eq!(r.test_images, Some(8), "20% of 10 per class x 4 classes");
    }

    let again = sweep(&grid, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!((again.ran.len(), again.skipped, again.merged), (0, 3, 3));
    let forced = sweep(
        &grid,
        &SweepOptions {
            force: true,
            cell: Some(0),
            ..options(tmp.path())
        },
        &mut Silent::each,
    )?;
    assert_eq!((forced.ran.len(), forced.merged), (1, 3));
    Ok(())
}

#[test]
fn the_same_config_gives_the_same_numbers() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = tiny_grid(tmp.path(), "[model]\nname = \"cnn\"\n")?;
    let first = sweep(&grid, &options(tmp.path()), &mut Silent::each)?
        .ran
        .remove(0);
    let second = sweep(
        &grid,
        &SweepOptions {
            force: true,
            ..options(tmp.path())
        },
        &mut Silent::each,
    )?
    .ran
    .remove(0);
    assert_eq!(first.test_micro_recall, second.test_micro_recall);
    assert_eq!(first.test_loss, second.test_loss);
    assert_eq!(first.val_micro_recall, second.val_micro_recall);
    let grid7 = tiny_grid(tmp.path(), "[model]\nname = \"cnn\"\n[grid]\nseed = [7]\n")?;
    let other = sweep(&grid7, &options(tmp.path()), &mut Silent::each)?
        .ran
        .remove(0);
    assert_ne!(first.run_id, other.run_id);
    assert_ne!(
        first.test_loss, other.test_loss,
        "another seed, another split and init"
    );
    Ok(())
}

#[test]
fn a_diverging_run_is_recorded_as_failed_and_the_sweep_goes_on() -> TestResult {
    let tmp = tempfile::tempdir()?;
    // Pretrained weights with a NaN head: every logit, hence every loss, is NaN. (A NaN deeper
    // in the network can be squashed by ReLU, which maps NaN to 0 in candle.)
    let weights = tmp.path().join("nan.safetensors");
    let model = cxr_models::ModelConfig::new(cxr_models::ModelKind::Resnet18, 4)
        .init(&candle_core::Device::Cpu, 0)?;
    let p = model.parameter("fc.bias").ok_or("param")?;
    p.var().set(&(p.tensor() * f64::NAN)?)?;
    model.save(&weights)?;
    let grid = tiny_grid(
        tmp.path(),
        "[models.resnet18]\nweights = \"nan.safetensors\"\n[grid]\nmodel = [\"resnet18\", \"cnn\"]\n",
    )?;
    let report = sweep(&grid, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!((report.ran.len(), report.failed()), (2, 1));
    let failed = &report.ran[0];
    assert_eq!(failed.status, status::FAILED);
    assert!(
        failed.error.contains("loss is NaN at epoch 1, batch 1"),
        "{}",
        failed.error
    );
    assert_eq!(report.ran[1].status, status::OK);
    let rows = read_summary(&report.summary_path)?;
    assert_eq!(rows.len(), 2, "the failed run is recorded too");
    Ok(())
}
