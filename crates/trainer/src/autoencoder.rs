//! Self-supervised pretraining (`[train] objective = "autoencoder"`): the run's model is the
//! encoder of an [`Autoencoder`], a mirrored decoder reconstructs each image, and Adam minimises
//! the mean squared error between the reconstruction and the normalised input. No label is
//! read: the kept encoder is meant to initialise a classifier later (its `model.safetensors`
//! holds the encoder under the classifier's names plus `decoder.*`, and no `fc`).
//!
//! The loop is [`crate::fit`]'s own epoch loop: one epoch of training, then the validation
//! loss (here the reconstruction MSE, lower is better) under
//! [`EarlyStopping`](crate::early_stopping::EarlyStopping) with the run's
//! patience, the best epoch's weights kept in memory and restored, the test split scored once
//! at the end. What differs, and why:
//!
//! - Sampling is a seeded uniform shuffle of the training split every epoch (stream `sampler`,
//!   one draw per epoch), whatever `train.sampler` says ([`SAMPLER`]): the balanced sampler
//!   weighs images by their class, i.e. reads labels, which an autoencoder must not. The split itself is the
//!   run's stratified split, the same one a classify run of that seed and data uses, so a
//!   classifier fine-tuned from this encoder on the same data has never had its validation or
//!   test images in pretraining.
//! - Early stopping always follows the validation reconstruction MSE (`train.early_stopping`
//!   names classification metrics and is ignored).
//! - Batches are built by the classifier's functions ([`train_batch`], [`eval_batch`]: same
//!   channels, normalisation and, when on, augmentation, the target being the augmented input);
//!   the label tensor they also return is dropped unread.
//! - The encoder trains whole (the config refuses freeze > 0), so there is no frozen-prefix
//!   cache.
//!
//! Losses are per pixel and channel (`mean((x̂ - x)^2)`), averaged over images, so runs of
//! different image sizes and batch sizes compare. [`record`] writes the run's files:
//! `history.parquet` (`train_loss`/`val_loss` are the reconstruction MSE, the recall columns
//! NaN), `model.safetensors` and `reconstructions.png` (the first [`MAX_IMAGES`] test images
//! above their reconstructions), and returns the summary's numbers (`test_loss` = test MSE, no
//! recall).

use candle_core::{Device, Tensor};
use candle_nn::ModuleT;
use cxr_data::{eval_batch, train_batch, PixelStats, SamplerKind};
use cxr_experiment::{RunConfig, StopMetric, TrainSettings};
use cxr_models::Autoencoder;
use cxr_results::reconstructions::MAX_IMAGES;
use cxr_results::{HistoryRow, Reconstructions, RunDir};
use rand::seq::SliceRandom;

use crate::adam::Adam;
use crate::early_stopping::EpochScore;
use crate::epoch::{step_batches, EpochPlan};
use crate::error::Result;
use crate::fit::{Checkpointing, EpochLoop, FitData};
use crate::observer::Observer;
use crate::outcome::{AutoencoderOutcome, Epochs};

/// What [`fit_autoencoder`] produced.
#[derive(Debug, Clone)]
pub struct PretrainOutcome {
    /// One record per epoch run (reconstruction MSE as the losses, recall NaN); the kept
    /// epoch's `kept` is set.
    pub history: Vec<HistoryRow>,
    /// 1-based epoch whose weights were kept (the autoencoder holds them on return).
    pub best_epoch: usize,
    /// Test reconstruction MSE of the kept weights.
    pub test_loss: f64,
    /// Number of test images.
    pub test_images: usize,
}

/// The sampler an autoencoder's epochs are drawn with, whatever `train.sampler` says: a
/// seeded uniform shuffle (the balanced sampler would read labels).
pub const SAMPLER: SamplerKind = SamplerKind::Shuffled;

/// Pretrains `ae` (the run's model as its encoder) and records the run into `dir`: history,
/// weights and reconstructions. What `run_one` calls for an autoencoder run.
pub(crate) fn pretrain(
    ae: &Autoencoder,
    data: FitData<'_>,
    cfg: &RunConfig,
    dir: &RunDir,
    observer: &mut dyn Observer,
) -> Result<AutoencoderOutcome> {
    let outcome = fit_autoencoder(ae, data, &cfg.train, cfg.seed, observer)?;
    record(dir, ae, data, &outcome)
}

/// Trains `ae` until `train.max_epochs` or early stopping on the validation reconstruction MSE,
/// keeps the best epoch's weights (restored into `ae` on return), then scores the test split
/// once with them. `seed` is the run seed (epoch order and augmentation streams).
pub fn fit_autoencoder(
    ae: &Autoencoder,
    data: FitData<'_>,
    train: &TrainSettings,
    seed: u64,
    observer: &mut dyn Observer,
) -> Result<PretrainOutcome> {
    let eval_batch_size = train.eval_batch_size();
    let opt = std::cell::RefCell::new(Adam::new(ae.trainable_vars(), train.adam)?);
    let epochs = EpochLoop {
        train,
        stop: StopMetric::ValLoss,
        seed,
        params: ae.parameters(),
        checkpoint: Checkpointing::of(data.checkpoint, &opt),
    }
    .run(
        observer,
        |rng| {
            let mut order = data.split.train.clone();
            order.shuffle(rng);
            order
        },
        |plan, rng, observer| train_one_epoch(ae, &mut opt.borrow_mut(), data, plan, rng, observer),
        || {
            let val_loss = evaluate(ae, data, &data.split.val, eval_batch_size)?;
            let score = EpochScore {
                val_loss,
                val_micro_recall: f64::NAN,
                val_macro_recall: f64::NAN,
                val_mean_auroc: f64::NAN,
            };
            Ok(((), score))
        },
    )?;
    let test_loss = evaluate(ae, data, &data.split.test, eval_batch_size)?;
    Ok(PretrainOutcome {
        history: epochs.history,
        best_epoch: epochs.best_epoch,
        test_loss,
        test_images: data.split.test.len(),
    })
}

/// Trains `ae` for one epoch on reconstruction MSE; returns the mean loss per image. Fails with
/// [`crate::TrainerError::NonFiniteLoss`] as soon as a batch loss is NaN or infinite.
pub fn train_one_epoch(
    ae: &Autoencoder,
    opt: &mut Adam,
    data: FitData<'_>,
    plan: EpochPlan<'_>,
    rng: &mut impl rand::Rng,
    observer: &mut dyn Observer,
) -> Result<f64> {
    let device = ae.device();
    step_batches(plan, opt, observer, |chunk| {
        let (x, _labels) = train_batch(data.set, chunk, data.spec, data.augment, rng, device)?;
        Ok(candle_nn::loss::mse(&ae.forward_t(&x, true)?, &x)?)
    })
}

/// Mean reconstruction MSE of `ae` (eval mode, unaugmented) over images `indices`.
pub fn evaluate(
    ae: &Autoencoder,
    data: FitData<'_>,
    indices: &[usize],
    batch_size: usize,
) -> Result<f64> {
    let mut sum = 0.0;
    for chunk in indices.chunks(batch_size.max(1)) {
        let (x, _labels) = eval_batch(data.set, chunk, data.spec, ae.device())?;
        let reconstruction = ae.forward_t(&x, false)?.detach();
        let loss = candle_nn::loss::mse(&reconstruction, &x)?.to_scalar::<f32>()?;
        sum += f64::from(loss) * chunk.len() as f64;
    }
    Ok(sum / indices.len().max(1) as f64)
}

/// The first [`MAX_IMAGES`] test images and their reconstructions by `ae` (eval mode), back in
/// [0, 1] gray: each channel un-normalised with its statistics, then the channels averaged
/// (gray input is replicated, so the originals come back exactly).
pub fn reconstructions(ae: &Autoencoder, data: FitData<'_>) -> Result<Reconstructions> {
    let indices = &data.split.test[..data.split.test.len().min(MAX_IMAGES)];
    let (x, _labels) = eval_batch(data.set, indices, data.spec, ae.device())?;
    let reconstruction = ae.forward_t(&x, false)?.detach();
    let (_, _, height, width) = x.dims4()?;
    let stats = &data.spec.stats;
    Ok(Reconstructions {
        height,
        width,
        originals: to_gray(&x, stats)?,
        reconstructions: to_gray(&reconstruction, stats)?,
    })
}

/// `(n, C, H, W)` normalised -> `n` gray images of `H * W` values, un-normalised, channel mean.
fn to_gray(xs: &Tensor, stats: &PixelStats) -> Result<Vec<Vec<f32>>> {
    let (n, channels, _, _) = xs.dims4()?;
    let device: &Device = xs.device();
    let mean = Tensor::from_slice(&stats.mean[..channels], (1, channels, 1, 1), device)?;
    let std = Tensor::from_slice(&stats.std[..channels], (1, channels, 1, 1), device)?;
    let pixels = xs.broadcast_mul(&std)?.broadcast_add(&mean)?.mean(1)?;
    Ok((0..n)
        .map(|i| pixels.get(i)?.flatten_all()?.to_vec1::<f32>())
        .collect::<candle_core::Result<_>>()?)
}

/// Writes an autoencoder run's history, kept weights and reconstructions, and returns its
/// epochs and test reconstruction error (no recall).
fn record(
    dir: &RunDir,
    ae: &Autoencoder,
    data: FitData<'_>,
    outcome: &PretrainOutcome,
) -> Result<AutoencoderOutcome> {
    dir.write_history(&outcome.history)?;
    ae.save(&dir.model_path())?;
    dir.write_reconstructions(&reconstructions(ae, data)?)?;
    Ok(AutoencoderOutcome {
        epochs: Epochs::of(&outcome.history, outcome.best_epoch),
        test_loss: outcome.test_loss,
        test_images: outcome.test_images,
    })
}
