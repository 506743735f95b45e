//! [`fit`]: alternate [`train_one_epoch`] and [`evaluate`] under [`EarlyStopping`], keep the
//! best epoch's weights, then score the test split once with them.

use std::time::Instant;

use candle_core::{Device, Tensor};
use cxr_data::seed::{self, Stream};
use cxr_data::{Augment, BatchSpec, ImageSet, Sampler, Split};
use cxr_experiment::TrainSettings;
use cxr_models::{Model, Parameter};
use cxr_results::HistoryRow;

use crate::adam::Adam;
use crate::early_stopping::{EarlyStopping, EpochScore};
use crate::epoch::{evaluate, train_one_epoch, EpochPlan, Evaluation, Source};
use crate::error::Result;
use crate::observer::Observer;
use crate::prefix_cache::{self, PrefixCache, PrefixDecision};

/// What [`fit`] trains on: the images, their split, and how batches are built from them.
#[derive(Clone, Copy)]
pub struct FitData<'a> {
    /// All images.
    pub set: &'a ImageSet,
    /// Train/val/test indices into `set`.
    pub split: &'a Split,
    /// Channels and normalisation of every batch.
    pub spec: &'a BatchSpec,
    /// Seeded augmentation of training batches; `None` = off.
    pub augment: Option<&'a Augment>,
}

/// What [`fit`] produced.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    /// One record per epoch run; the kept epoch's `kept` is set.
    pub history: Vec<HistoryRow>,
    /// 1-based epoch whose weights were kept (the model holds them on return).
    pub best_epoch: usize,
    /// Validation evaluation of the kept weights.
    pub val: Evaluation,
    /// Test evaluation of the kept weights (run once, at the end).
    pub test: Evaluation,
    /// Wall time of the one-time frozen-prefix pass, when the cache was used.
    pub prefix_time_s: Option<f64>,
}

/// Trains until `train.max_epochs` or early stopping, keeps the best epoch's weights (restored
/// into `model` on return), then evaluates the test split once with them. `seed` is the run
/// seed: each epoch's sampling order and augmentation come from its streams.
pub fn fit(
    model: &Model,
    data: FitData<'_>,
    train: &TrainSettings,
    seed: u64,
    observer: &mut dyn Observer,
) -> Result<FitOutcome> {
    let cache = prefix_cache(model, data, train)?;
    let (train_source, eval_source) = match &cache {
        Some(cache) => (Source::Prefix(cache), Source::Prefix(cache)),
        None => (
            Source::Images {
                set: data.set,
                spec: data.spec,
                augment: data.augment,
            },
            Source::Images {
                set: data.set,
                spec: data.spec,
                augment: None,
            },
        ),
    };
    let classes = data.set.classes.len();
    let eval_batch = train.batch_size.max(64);
    let validate =
        |model: &Model| evaluate(model, &eval_source, classes, &data.split.val, eval_batch);

    let sampler = Sampler::new(train.sampler, &data.split.train, &data.set.labels)?;
    let mut opt = Adam::new(model.trainable_vars(), train.adam)?;
    let mut stopping = EarlyStopping::new(train.early_stopping, train.patience);
    let mut history: Vec<HistoryRow> = Vec::new();
    let mut best = (snapshot(model.parameters())?, None);
    for epoch in 1..=train.max_epochs {
        let start = Instant::now();
        let order = sampler.epoch(&mut seed::rng_at(seed, Stream::Sampler, epoch as u64));
        let plan = EpochPlan {
            epoch,
            order: &order,
            batch_size: train.batch_size,
        };
        observer.epoch_start(epoch, plan.batches());
        let mut rng = seed::rng_at(seed, Stream::Augment, epoch as u64);
        let train_loss = train_one_epoch(model, &mut opt, &train_source, plan, &mut rng, observer)?;
        let train_time_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let val = validate(model)?;
        let times = (train_time_s, start.elapsed().as_secs_f64());
        let record = epoch_record(epoch, train_loss, &val, times);
        let decision = stopping.observe(epoch, EpochScore::from(&record));
        if decision.improved {
            best = (snapshot(model.parameters())?, Some(val));
        }
        observer.epoch_done(&record);
        history.push(record);
        if decision.stop {
            break;
        }
    }
    restore(model.parameters(), &best.0)?;
    let best_epoch = stopping.best().map_or(0, |(e, _)| e);
    for record in &mut history {
        record.kept = record.epoch == best_epoch as i64;
    }
    // The first epoch always improves, so the kept validation exists whenever an epoch ran.
    let val = match best.1 {
        Some(val) => val,
        None => validate(model)?,
    };
    let test = evaluate(model, &eval_source, classes, &data.split.test, eval_batch)?;
    Ok(FitOutcome {
        history,
        best_epoch,
        val,
        test,
        prefix_time_s: cache.map(|c| c.build_time_s),
    })
}

/// The history row of an epoch: its training loss, its validation and the wall time of each
/// (`(train_time_s, eval_time_s)`).
fn epoch_record(
    epoch: usize,
    train_loss: f64,
    val: &Evaluation,
    (train_time_s, eval_time_s): (f64, f64),
) -> HistoryRow {
    HistoryRow {
        epoch: epoch as i64,
        train_loss,
        val_loss: val.loss,
        val_micro_recall: val.confusion.micro_recall(),
        val_macro_recall: val.confusion.macro_recall(),
        train_time_s,
        eval_time_s,
        kept: false,
    }
}

impl From<&HistoryRow> for EpochScore {
    fn from(r: &HistoryRow) -> Self {
        Self {
            val_loss: r.val_loss,
            val_micro_recall: r.val_micro_recall,
            val_macro_recall: r.val_macro_recall,
        }
    }
}

/// Builds the frozen-prefix cache when it is valid, saying in the log why not otherwise.
fn prefix_cache(
    model: &Model,
    data: FitData<'_>,
    train: &TrainSettings,
) -> Result<Option<PrefixCache>> {
    let bytes = if model.has_frozen_prefix() && train.prefix_cache {
        PrefixCache::estimate_bytes(model, data.set, data.spec)?
    } else {
        0
    };
    let decision = prefix_cache::decide(
        train.prefix_cache,
        model.has_frozen_prefix(),
        data.augment.is_some(),
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
            let batch = train.batch_size.max(64);
            let cache = PrefixCache::build(model, data.set, data.spec, batch)?;
            tracing::info!(
                "frozen-prefix cache on: {} images, {} MB, built in {:.1} s; training runs the \
                 unfrozen stages only",
                data.set.len(),
                cache.bytes() >> 20,
                cache.build_time_s
            );
            Ok(Some(cache))
        }
    }
}

/// Copies of every named tensor (weights and running statistics).
pub(crate) fn snapshot(params: &[Parameter]) -> Result<Vec<Tensor>> {
    Ok(params
        .iter()
        .map(|p| p.tensor().copy())
        .collect::<candle_core::Result<Vec<_>>>()?)
}

/// Sets every named tensor back to a [`snapshot`] of the same list.
pub(crate) fn restore(params: &[Parameter], saved: &[Tensor]) -> Result<()> {
    for (p, t) in params.iter().zip(saved) {
        p.var().set(t)?;
    }
    Ok(())
}

/// The device training runs on (CPU; candle's CUDA/Metal back-ends are not wired in yet).
pub fn device() -> Device {
    Device::Cpu
}
