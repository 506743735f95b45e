//! The training loop, split the way torchvision's reference `train.py` is: [`train_one_epoch`],
//! [`evaluate`], and [`fit`] which alternates them under early stopping and keeps the best
//! epoch's weights.

use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_nn::ModuleT;
use cxr_data::{make_batch, seed, BatchSpec, ImageSet, Sampler, SamplerKind, Split};
use cxr_metrics::ConfusionMatrix;
use cxr_models::Model;

use crate::adam::{Adam, AdamConfig};
use crate::early_stopping::{EarlyStopping, EpochScore, StopMetric};
use crate::error::{Result, TrainerError};
use crate::prefix_cache::{self, PrefixCache, PrefixDecision};

/// Everything [`fit`] needs besides the model and the data.
#[derive(Debug, Clone)]
pub struct FitSettings {
    /// Optimiser.
    pub adam: AdamConfig,
    /// Epoch sampler.
    pub sampler: SamplerKind,
    /// Upper bound on epochs.
    pub max_epochs: usize,
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Training batch size.
    pub batch_size: usize,
    /// What early stopping follows.
    pub stop_metric: StopMetric,
    /// Run seed: the `sampler` and `augment` streams derive from it.
    pub seed: u64,
    /// Use the frozen-prefix cache when it is valid ([`crate::prefix_cache`]).
    pub prefix_cache: bool,
}

/// One epoch of history.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training cross-entropy over the epoch's batches.
    pub train_loss: f64,
    /// Mean validation cross-entropy.
    pub val_loss: f64,
    /// Validation micro-recall (accuracy).
    pub val_micro_recall: f64,
    /// Validation macro-recall.
    pub val_macro_recall: f64,
    /// Wall time of the training part, seconds.
    pub train_time_s: f64,
    /// Wall time of the validation part, seconds.
    pub eval_time_s: f64,
    /// This epoch became the kept one (at the time it ran).
    pub improved: bool,
}

/// A model's predictions on a set of images.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f64,
    /// True labels, in the order evaluated.
    pub labels: Vec<u32>,
    /// Predicted labels.
    pub predictions: Vec<u32>,
    /// Softmax probabilities, `labels.len() x classes`, row-major.
    pub probabilities: Vec<f32>,
    /// Confusion matrix of labels vs predictions.
    pub confusion: ConfusionMatrix,
}

/// What [`fit`] produced.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// One record per epoch run.
    pub history: Vec<EpochRecord>,
    /// 1-based epoch whose weights were kept (the model holds them on return).
    pub best_epoch: usize,
    /// Validation evaluation of the kept weights.
    pub val: Evaluation,
    /// Test evaluation of the kept weights (run once, at the end).
    pub test: Evaluation,
    /// Wall time of the one-time frozen-prefix pass, when the cache was used.
    pub prefix_time_s: Option<f64>,
}

/// Where a batch's network input comes from.
enum Source<'a> {
    /// Images through the batch spec, into the whole network.
    Images(&'a ImageSet, &'a BatchSpec),
    /// Cached frozen-prefix outputs, into the rest of the network.
    Prefix(&'a PrefixCache),
}

impl Source<'_> {
    fn batch(
        &self,
        indices: &[usize],
        rng: &mut impl rand::Rng,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        match self {
            Source::Images(set, spec) => Ok(make_batch(set, indices, spec, rng, device)?),
            Source::Prefix(cache) => cache.batch(indices),
        }
    }

    fn forward(&self, model: &Model, x: &Tensor, train: bool) -> Result<Tensor> {
        match self {
            Source::Images(..) => Ok(model.forward_t(x, train)?),
            Source::Prefix(_) => Ok(model.forward_from_prefix_t(x, train)?),
        }
    }
}

/// Hooks for progress display; all default to doing nothing.
pub trait Observer {
    /// An epoch is starting, with this many training batches.
    fn epoch_start(&mut self, _epoch: usize, _batches: usize) {}
    /// A training batch finished with this loss.
    fn batch_done(&mut self, _loss: f32) {}
    /// An epoch finished.
    fn epoch_done(&mut self, _record: &EpochRecord) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Trains `model` for one epoch over `order` (indices into `set`); returns the mean loss.
/// Fails with [`TrainerError::NonFiniteLoss`] as soon as a batch loss is NaN or infinite.
#[allow(clippy::too_many_arguments)]
pub fn train_one_epoch(
    model: &Model,
    opt: &mut Adam,
    set: &ImageSet,
    order: &[usize],
    spec: &BatchSpec,
    batch_size: usize,
    epoch: usize,
    rng: &mut impl rand::Rng,
    observer: &mut dyn Observer,
) -> Result<f64> {
    let source = Source::Images(set, spec);
    train_epoch_from(model, opt, &source, order, batch_size, epoch, rng, observer)
}

#[allow(clippy::too_many_arguments)]
fn train_epoch_from(
    model: &Model,
    opt: &mut Adam,
    source: &Source<'_>,
    order: &[usize],
    batch_size: usize,
    epoch: usize,
    rng: &mut impl rand::Rng,
    observer: &mut dyn Observer,
) -> Result<f64> {
    let device = model.device();
    let mut total = 0.0;
    let mut seen = 0usize;
    for (b, chunk) in order.chunks(batch_size).enumerate() {
        let (x, y) = source.batch(chunk, rng, device)?;
        let logits = source.forward(model, &x, true)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        let value = loss.to_scalar::<f32>()?;
        if !value.is_finite() {
            return Err(TrainerError::NonFiniteLoss {
                epoch,
                batch: b + 1,
                loss: value,
            });
        }
        opt.backward_step(&loss)?;
        total += f64::from(value) * chunk.len() as f64;
        seen += chunk.len();
        observer.batch_done(value);
    }
    Ok(total / seen.max(1) as f64)
}

/// Evaluates `model` (eval mode, no gradients kept) on `indices` of `set`.
pub fn evaluate(
    model: &Model,
    set: &ImageSet,
    indices: &[usize],
    spec: &BatchSpec,
    batch_size: usize,
) -> Result<Evaluation> {
    evaluate_from(
        model,
        &Source::Images(set, spec),
        set.classes.len(),
        indices,
        batch_size,
    )
}

fn evaluate_from(
    model: &Model,
    source: &Source<'_>,
    classes: usize,
    indices: &[usize],
    batch_size: usize,
) -> Result<Evaluation> {
    let device = model.device();
    let mut loss_sum = 0.0;
    let mut labels = Vec::with_capacity(indices.len());
    let mut predictions = Vec::with_capacity(indices.len());
    let mut probabilities = Vec::with_capacity(indices.len() * classes);
    // Evaluation batches are never augmented, so the RNG is never drawn from.
    let mut unused = seed::rng(0, "unused");
    for chunk in indices.chunks(batch_size.max(1)) {
        let (x, y) = source.batch(chunk, &mut unused, device)?;
        let logits = source.forward(model, &x, false)?.detach();
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?.to_scalar::<f32>()?;
        loss_sum += f64::from(loss) * chunk.len() as f64;
        predictions.extend(logits.argmax(1)?.to_vec1::<u32>()?);
        probabilities.extend(
            candle_nn::ops::softmax(&logits, 1)?
                .flatten_all()?
                .to_vec1::<f32>()?,
        );
        labels.extend(y.to_vec1::<u32>()?);
    }
    let confusion = ConfusionMatrix::new(&labels, &predictions, classes);
    Ok(Evaluation {
        loss: loss_sum / indices.len().max(1) as f64,
        labels,
        predictions,
        probabilities,
        confusion,
    })
}

/// Trains until `max_epochs` or early stopping, keeps the best epoch's weights (restored into
/// `model` on return), then evaluates the test split once with them.
pub fn fit(
    model: &Model,
    set: &ImageSet,
    split: &Split,
    train_spec: &BatchSpec,
    eval_spec: &BatchSpec,
    settings: &FitSettings,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    let sampler = Sampler::new(settings.sampler, &split.train, &set.labels)?;
    let mut opt = Adam::new(model.trainable_vars(), settings.adam)?;
    let mut stopping = EarlyStopping::new(settings.stop_metric, settings.patience);
    let eval_batch = settings.batch_size.max(64);
    let batches = sampler.epoch_len().div_ceil(settings.batch_size);
    let mut history = Vec::new();
    let mut best = snapshot(model)?;
    let mut best_val = None;
    let classes = set.classes.len();
    let cache = prefix_cache(model, set, train_spec, eval_spec, settings)?;
    let source = match &cache {
        Some(cache) => Source::Prefix(cache),
        None => Source::Images(set, train_spec),
    };
    let eval_source = match &cache {
        Some(cache) => Source::Prefix(cache),
        None => Source::Images(set, eval_spec),
    };
    for epoch in 1..=settings.max_epochs {
        observer.epoch_start(epoch, batches);
        let start = Instant::now();
        let order = sampler.epoch(&mut seed::rng_at(settings.seed, "sampler", epoch as u64));
        let mut aug_rng = seed::rng_at(settings.seed, "augment", epoch as u64);
        let train_loss = train_epoch_from(
            model,
            &mut opt,
            &source,
            &order,
            settings.batch_size,
            epoch,
            &mut aug_rng,
            observer,
        )?;
        let train_time_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let val = evaluate_from(model, &eval_source, classes, &split.val, eval_batch)?;
        let eval_time_s = start.elapsed().as_secs_f64();
        let score = EpochScore {
            val_loss: val.loss,
            val_micro_recall: val.confusion.micro_recall(),
            val_macro_recall: val.confusion.macro_recall(),
        };
        let decision = stopping.observe(epoch, score);
        if decision.improved {
            best = snapshot(model)?;
            best_val = Some(val);
        }
        let record = EpochRecord {
            epoch,
            train_loss,
            val_loss: score.val_loss,
            val_micro_recall: score.val_micro_recall,
            val_macro_recall: score.val_macro_recall,
            train_time_s,
            eval_time_s,
            improved: decision.improved,
        };
        observer.epoch_done(&record);
        history.push(record);
        if decision.stop {
            break;
        }
    }
    restore(model, &best)?;
    let best_epoch = stopping.best().map_or(0, |(e, _)| e);
    // The first epoch always improves, so `best_val` is set whenever an epoch ran.
    let val = match best_val {
        Some(val) => val,
        None => evaluate_from(model, &eval_source, classes, &split.val, eval_batch)?,
    };
    let test = evaluate_from(model, &eval_source, classes, &split.test, eval_batch)?;
    Ok(FitOutcome {
        history,
        best_epoch,
        val,
        test,
        prefix_time_s: cache.map(|c| c.build_time_s),
    })
}

/// Builds the frozen-prefix cache when it is valid, saying in the log why not otherwise.
fn prefix_cache(
    model: &Model,
    set: &ImageSet,
    train_spec: &BatchSpec,
    eval_spec: &BatchSpec,
    settings: &FitSettings,
) -> Result<Option<PrefixCache>> {
    let bytes = if model.has_frozen_prefix() && settings.prefix_cache {
        PrefixCache::estimate_bytes(model, set, eval_spec)?
    } else {
        0
    };
    let decision = prefix_cache::decide(
        settings.prefix_cache,
        model.has_frozen_prefix(),
        train_spec.augment.is_some(),
        bytes,
        prefix_cache::MAX_BYTES,
    );
    match decision {
        PrefixDecision::Off(why) => {
            if model.has_frozen_prefix() {
                tracing::info!("frozen-prefix cache off: {why}");
            }
            Ok(None)
        }
        PrefixDecision::Use => {
            let cache = PrefixCache::build(model, set, eval_spec, settings.batch_size.max(64))?;
            tracing::info!(
                "frozen-prefix cache on: {} images, {} MB, built in {:.1} s; training runs the \
                 unfrozen stages only",
                set.len(),
                cache.bytes() >> 20,
                cache.build_time_s
            );
            Ok(Some(cache))
        }
    }
}

/// Copies of every named tensor (weights and running statistics).
fn snapshot(model: &Model) -> Result<Vec<Tensor>> {
    Ok(model
        .parameters()
        .iter()
        .map(|p| p.tensor().copy())
        .collect::<candle_core::Result<Vec<_>>>()?)
}

fn restore(model: &Model, saved: &[Tensor]) -> Result<()> {
    for (p, t) in model.parameters().iter().zip(saved) {
        p.var().set(t)?;
    }
    Ok(())
}

/// The device training runs on (CPU; candle's CUDA/Metal back-ends are not wired in yet).
pub fn device() -> Device {
    Device::Cpu
}
