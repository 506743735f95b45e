//! Autoencoder pretraining on tiny synthetic grids: the reconstruction loss falls, the run
//! folder holds what an autoencoder run writes, and a classifier fine-tuned from its weights
//! starts from its encoder and keeps the frozen stages bit for bit.

use std::path::Path;

use candle_core::Device;
use cxr_experiment::{Grid, Overrides};
use cxr_models::read_weights;
use cxr_results::{objective, read_history, read_summary, status, GridDir};
use cxr_trainer::{sweep, Silent};

use crate::support::{options, TestResult};

/// A grid named `name` on 40 synthetic 32 px images (28 train, 4 val, 8 test).
fn grid(dir: &Path, name: &str, extra: &str) -> Result<Grid, Box<dyn std::error::Error>> {
    let text = format!(
        "name = \"{name}\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 10\nsize = 32\n\
         {extra}"
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, &text)?;
    Ok(Grid::from_file(&path, &Overrides::default())?)
}

#[test]
fn an_autoencoder_run_learns_to_reconstruct_and_writes_its_folder() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = grid(
        tmp.path(),
        "ae",
        "[model]\nname = \"cnn\"\n[train]\nobjective = \"autoencoder\"\nmax_epochs = 6\n\
         patience = 6\nbatch_size = 7\nlr = 0.003\n",
    )?;
    let report = sweep(&grid, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!((report.ran.len(), report.failed()), (1, 0));
    let dir = GridDir::new(&tmp.path().join("results"), "ae").run(&grid.runs[0].id);

    let history = read_history(&dir.history_path())?;
    assert_eq!(history.len(), 6);
    let losses: Vec<(f64, f64)> = history.iter().map(|h| (h.train_loss, h.val_loss)).collect();
    eprintln!("(train, val) reconstruction MSE per epoch: {losses:?}");
    let (first, last) = (&history[0], &history[history.len() - 1]);
    assert!(
        last.train_loss < 0.5 * first.train_loss,
        "training loss did not fall: {losses:?}"
    );
    let best_val = history
        .iter()
        .map(|h| h.val_loss)
        .fold(f64::INFINITY, f64::min);
    assert!(
        best_val < first.val_loss,
        "validation loss did not fall: {losses:?}"
    );
    assert!(history.iter().all(|h| h.val_micro_recall.is_nan()));
    let kept: Vec<&cxr_results::HistoryRow> = history.iter().filter(|h| h.kept).collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].val_loss, best_val,
        "the best validation epoch is kept"
    );

    let rows = read_summary(&dir.summary_path())?;
    let s = &rows[0];
    assert_eq!(s.status, status::OK);
    assert_eq!(s.objective.as_deref(), Some(objective::AUTOENCODER));
    assert!(s.is_autoencoder());
    let test_loss = s.test_loss.ok_or("test_loss")?;
    assert!(
        test_loss.is_finite() && test_loss < first.val_loss,
        "{test_loss}"
    );
    assert_eq!(s.test_micro_recall, None);
    assert_eq!(s.val_micro_recall, None);
    assert_eq!(s.test_micro_recall_low, None);
    assert_eq!(s.epochs_run, Some(6));
    assert_eq!(s.epochs_to_converge, Some(kept[0].epoch));
    assert_eq!(s.test_images, Some(8));
    assert_eq!(s.sampler, "shuffled", "a uniform shuffle drew the epochs");
    assert!(s.trainable_params > 0 && s.trainable_params == s.total_params);
    assert!(s.epoch_time_s.is_some() && s.total_time_s.is_some());

    let png = image::open(dir.reconstructions_path())?.to_luma8();
    // 8 test images at 32 px, enlarged 4x, in 2 rows with 4 px gaps.
    assert_eq!(png.dimensions(), (4 + 8 * 132, 4 + 2 * 132));
    assert!(!dir.per_class_path().exists() && !dir.confusion_path().exists());
    let saved = read_weights(&dir.model_path(), &Device::Cpu)?;
    assert!(saved.contains_key("block1.conv.weight") && saved.contains_key("decoder.out.bias"));
    assert!(!saved.contains_key("fc.weight"));
    Ok(())
}

#[test]
fn fine_tuning_from_the_autoencoder_keeps_the_frozen_stages_bit_identical() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let train = "max_epochs = 2\npatience = 2\nbatch_size = 8\n";
    let pretrain = grid(
        tmp.path(),
        "pretrain",
        &format!("[model]\nname = \"resnet18\"\n[train]\nobjective = \"autoencoder\"\n{train}"),
    )?;
    // The classifier names the autoencoder grid as its source: the sweep trains it first.
    let finetune = grid(
        tmp.path(),
        "finetune",
        &format!(
            "[pretrained.ae]\ngrid = \"pretrain.toml\"\n[model]\nname = \"resnet18\"\n\
             freeze = 2\nweights = \"ae\"\n[train]\n{train}"
        ),
    )?;
    let report = sweep(&finetune, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!((report.ran.len(), report.failed()), (1, 0));
    assert_eq!(report.sources.len(), 1, "the autoencoder grid ran first");
    let results = tmp.path().join("results");
    let source = GridDir::new(&results, "pretrain").run(&pretrain.runs[0].id);
    let tuned_dir = GridDir::new(&results, "finetune").run(&finetune.runs[0].id);
    let (ae_weights, tuned) = (source.model_path(), tuned_dir.model_path());
    // Fed as the encoder was trained: the autoencoder run's normalisation statistics.
    assert_eq!(
        tuned_dir.read_preprocessing()?.stats,
        source.read_preprocessing()?.stats
    );

    let before = read_weights(&ae_weights, &Device::Cpu)?;
    let after = read_weights(&tuned, &Device::Cpu)?;
    let bits = |t: &candle_core::Tensor| -> candle_core::Result<Vec<u32>> {
        Ok(t.flatten_all()?
            .to_vec1::<f32>()?
            .iter()
            .map(|v| v.to_bits())
            .collect())
    };
    let mut frozen = 0;
    let mut moved = 0;
    for (name, tensor) in &after {
        if name.starts_with("fc.") {
            assert!(!before.contains_key(name));
            continue;
        }
        let start = before.get(name).ok_or(format!("{name} not pretrained"))?;
        let same = bits(start)? == bits(tensor)?;
        if cxr_models::freeze::is_frozen(name, 2) {
            assert!(same, "frozen {name} changed in fine-tuning");
            frozen += 1;
        } else {
            moved += usize::from(!same);
        }
    }
    // Stem (conv1 + 4 BatchNorm tensors), layer1 (2 blocks x 10), layer2 (2 x 10 + downsample 5).
    assert_eq!(frozen, 5 + 20 + 25);
    assert!(moved > 20, "only {moved} unfrozen tensors changed");
    Ok(())
}
