//! [`fit`]: alternate [`train_one_epoch`] and [`evaluate`] under [`EarlyStopping`], keep the
//! best epoch's weights, then score the test split once with them.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Instant;

use candle_core::Tensor;
use cxr_data::seed::{self, Stream};
use cxr_data::{Augment, BatchSpec, ImageSet, Sampler, Split};
use cxr_experiment::{StopMetric, TrainSettings};
use cxr_models::{Model, Parameter};
use cxr_results::HistoryRow;
use rand_chacha::ChaCha8Rng;

use crate::adam::Adam;
use crate::checkpoint::EpochState;
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
    /// Where the epoch loop keeps its state after each epoch and resumes from
    /// ([`crate::checkpoint`]); `None` = no checkpoints.
    pub checkpoint: Option<&'a std::path::Path>,
}

/// What [`fit`] produced (and, with `E` a [`crate::multilabel::MultiLabelEvaluation`],
/// [`crate::multilabel::fit_multilabel`]).
#[derive(Debug, Clone)]
pub struct FitOutcome<E = Evaluation> {
    /// One record per epoch run; the kept epoch's `kept` is set.
    pub history: Vec<HistoryRow>,
    /// 1-based epoch whose weights were kept (the model holds them on return).
    pub best_epoch: usize,
    /// Validation evaluation of the kept weights.
    pub val: E,
    /// Test evaluation of the kept weights (run once, at the end).
    pub test: E,
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
    let classes = data.set.classes.len();
    let eval_batch = train.eval_batch_size();
    fit_with(
        model,
        data,
        train,
        seed,
        observer,
        Objective::new(
            |source, opt, plan, rng, observer| {
                train_one_epoch(model, opt, source, plan, rng, observer)
            },
            |source, films| evaluate(model, source, classes, films, eval_batch),
            score_of,
        ),
    )
}

/// How one objective trains and scores within [`fit_with`]: `train_epoch` trains one epoch plan
/// from the training source and returns its mean loss; `evaluate` scores films of the
/// evaluation source; `score` reads a validation as early stopping does.
pub(crate) struct Objective<T, V, S> {
    train_epoch: T,
    evaluate: V,
    score: S,
}

impl<E, T, V, S> Objective<T, V, S>
where
    T: FnMut(
        &Source<'_>,
        &mut Adam,
        EpochPlan<'_>,
        &mut ChaCha8Rng,
        &mut dyn Observer,
    ) -> Result<f64>,
    V: Fn(&Source<'_>, &[usize]) -> Result<E>,
    S: Fn(&E) -> EpochScore,
{
    /// The three steps, their signatures fixed here so that closures passed in infer them.
    pub fn new(train_epoch: T, evaluate: V, score: S) -> Self {
        Self {
            train_epoch,
            evaluate,
            score,
        }
    }
}

/// The frame every network objective with labels shares: the frozen-prefix cache when it is
/// valid, the epoch sampler and Adam, the [`EpochLoop`] under early stopping, the kept epoch's
/// validation and one test evaluation with the kept weights, trained and scored as
/// `objective` says.
pub(crate) fn fit_with<E, T, V, S>(
    model: &Model,
    data: FitData<'_>,
    train: &TrainSettings,
    seed: u64,
    observer: &mut dyn Observer,
    objective: Objective<T, V, S>,
) -> Result<FitOutcome<E>>
where
    T: FnMut(
        &Source<'_>,
        &mut Adam,
        EpochPlan<'_>,
        &mut ChaCha8Rng,
        &mut dyn Observer,
    ) -> Result<f64>,
    V: Fn(&Source<'_>, &[usize]) -> Result<E>,
    S: Fn(&E) -> EpochScore,
{
    let Objective {
        mut train_epoch,
        evaluate,
        score,
    } = objective;
    let cache = prefix_cache(model, data, train)?;
    let (train_source, eval_source) = sources(data, cache.as_ref());
    let sampler = Sampler::new(train.sampler, &data.split.train, &data.set.labels)?;
    let opt = RefCell::new(Adam::new(model.trainable_vars(), train.adam)?);
    let epochs = EpochLoop {
        train,
        stop: train.early_stopping,
        seed,
        params: model.parameters(),
        checkpoint: Checkpointing::of(data.checkpoint, &opt),
    }
    .run(
        observer,
        |rng| sampler.epoch(rng),
        |plan, rng, observer| {
            train_epoch(&train_source, &mut opt.borrow_mut(), plan, rng, observer)
        },
        || {
            let val = evaluate(&eval_source, &data.split.val)?;
            let score = score(&val);
            Ok((val, score))
        },
    )?;
    // The first epoch always improves, so the kept validation exists whenever an epoch ran.
    let val = match epochs.best_val {
        Some(val) => val,
        None => evaluate(&eval_source, &data.split.val)?,
    };
    let test = evaluate(&eval_source, &data.split.test)?;
    Ok(FitOutcome {
        history: epochs.history,
        best_epoch: epochs.best_epoch,
        val,
        test,
        prefix_time_s: cache.map(|c| c.build_time_s),
    })
}

/// Where training and evaluation batches come from: the frozen-prefix cache when there is
/// one, otherwise the images (augmented for training only).
pub(crate) fn sources<'a>(
    data: FitData<'a>,
    cache: Option<&'a PrefixCache>,
) -> (Source<'a>, Source<'a>) {
    match cache {
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
    }
}

/// A classifier epoch's validation numbers, as early stopping reads them.
fn score_of(val: &Evaluation) -> EpochScore {
    EpochScore {
        val_loss: val.loss,
        val_micro_recall: val.confusion.micro_recall(),
        val_macro_recall: val.confusion.macro_recall(),
        val_mean_auroc: f64::NAN,
    }
}

/// The epoch loop every objective shares: each epoch's order and augmentation come from the
/// run seed's streams, each epoch is trained then validated, early stopping follows `stop`,
/// and the best epoch's weights are kept.
pub(crate) struct EpochLoop<'a> {
    /// Epoch limit, patience and batch size.
    pub train: &'a TrainSettings,
    /// What early stopping follows.
    pub stop: StopMetric,
    /// The run seed.
    pub seed: u64,
    /// Every named tensor of what trains: snapshotted at the best epoch, restored at the end.
    pub params: &'a [Parameter],
    /// Where to keep the state after each epoch and resume from; `None` = no checkpoints.
    pub checkpoint: Option<Checkpointing<'a>>,
}

/// An epoch loop's checkpoint: its file, and the optimiser whose state it holds.
pub(crate) struct Checkpointing<'a> {
    /// `checkpoint.safetensors` of the run.
    pub path: PathBuf,
    /// The optimiser the epochs step (borrowed by the epoch closure between checkpoints).
    pub adam: &'a RefCell<Adam>,
}

impl<'a> Checkpointing<'a> {
    /// The checkpoint at `path` of the loop stepping `adam`; `None` without a path.
    pub fn of(path: Option<&std::path::Path>, adam: &'a RefCell<Adam>) -> Option<Self> {
        path.map(|path| Self {
            path: path.to_path_buf(),
            adam,
        })
    }
}

/// What [`EpochLoop::run`] produced.
pub(crate) struct Epochs<V> {
    /// One record per epoch run; the kept epoch's `kept` is set.
    pub history: Vec<HistoryRow>,
    /// 1-based epoch whose weights were kept (0 when no epoch ran).
    pub best_epoch: usize,
    /// The kept epoch's validation (`None` when no epoch ran).
    pub best_val: Option<V>,
}

impl EpochLoop<'_> {
    /// Runs epochs until `train.max_epochs` or early stopping: `order_of` draws the epoch's
    /// training order from its sampler stream, `train_epoch` trains one epoch plan (with the
    /// epoch's augmentation stream) and returns its mean loss, `validate` returns the
    /// validation and its score. The best epoch's weights are in `params` on return.
    pub fn run<V>(
        &self,
        observer: &mut dyn Observer,
        mut order_of: impl FnMut(&mut ChaCha8Rng) -> Vec<usize>,
        mut train_epoch: impl FnMut(EpochPlan<'_>, &mut ChaCha8Rng, &mut dyn Observer) -> Result<f64>,
        mut validate: impl FnMut() -> Result<(V, EpochScore)>,
    ) -> Result<Epochs<V>> {
        let mut stopping = EarlyStopping::new(self.stop, self.train.patience);
        let mut history: Vec<HistoryRow> = Vec::new();
        let mut best = (snapshot(self.params)?, None);
        let (mut first, mut stopped) = (1, false);
        if let Some(state) = self.resume()? {
            tracing::info!(
                "resuming after epoch {} from {}",
                state.epoch,
                self.checkpoint
                    .as_ref()
                    .map_or(String::new(), |c| c.path.display().to_string())
            );
            if let Some(ck) = &self.checkpoint {
                ck.adam
                    .borrow_mut()
                    .restore_state(state.adam_step, &state.moments)?;
            }
            restore(self.params, &state.params)?;
            best = (state.best, None);
            stopping.restore(state.best_score, state.since_best);
            history = state.history;
            (first, stopped) = (state.epoch + 1, state.stopped);
        }
        let last = if stopped { 0 } else { self.train.max_epochs };
        for epoch in first..=last {
            let start = Instant::now();
            let order = order_of(&mut seed::rng_at(self.seed, Stream::Sampler, epoch as u64));
            let plan = EpochPlan {
                epoch,
                order: &order,
                batch_size: self.train.batch_size,
            };
            observer.epoch_start(epoch, plan.batches());
            let mut rng = seed::rng_at(self.seed, Stream::Augment, epoch as u64);
            let train_loss = train_epoch(plan, &mut rng, observer)?;
            let train_time_s = start.elapsed().as_secs_f64();
            let start = Instant::now();
            let (val, score) = validate()?;
            let record = HistoryRow {
                epoch: epoch as i64,
                train_loss,
                val_loss: score.val_loss,
                val_micro_recall: score.val_micro_recall,
                val_macro_recall: score.val_macro_recall,
                val_mean_auroc: Some(score.val_mean_auroc).filter(|a| !a.is_nan()),
                train_time_s,
                eval_time_s: start.elapsed().as_secs_f64(),
                kept: false,
            };
            let decision = stopping.observe(epoch, score);
            if decision.improved {
                best = (snapshot(self.params)?, Some(val));
            }
            observer.epoch_done(&record);
            history.push(record);
            let stop = decision.stop || epoch == self.train.max_epochs;
            self.keep(epoch, stop, &best.0, &stopping, &history)?;
            if decision.stop {
                break;
            }
        }
        restore(self.params, &best.0)?;
        let best_epoch = stopping.best().map_or(0, |(e, _)| e);
        for record in &mut history {
            record.kept = record.epoch == best_epoch as i64;
        }
        Ok(Epochs {
            history,
            best_epoch,
            best_val: best.1,
        })
    }
}

/// Builds the frozen-prefix cache when it is valid, saying in the log why not otherwise.
impl EpochLoop<'_> {
    /// The state to resume from: the checkpoint's, when there is a readable one for these
    /// parameters. An unreadable or foreign checkpoint is reported and the run starts over.
    fn resume(&self) -> Result<Option<EpochState>> {
        let Some(ck) = &self.checkpoint else {
            return Ok(None);
        };
        if !ck.path.is_file() {
            return Ok(None);
        }
        match EpochState::load(&ck.path, self.params) {
            Ok(state) => Ok(Some(state)),
            Err(e) => {
                tracing::warn!("{e}: starting the run from its first epoch");
                Ok(None)
            }
        }
    }

    /// Writes the state after `epoch` to the checkpoint, when the loop keeps one.
    fn keep(
        &self,
        epoch: usize,
        stopped: bool,
        best: &[Tensor],
        stopping: &EarlyStopping,
        history: &[HistoryRow],
    ) -> Result<()> {
        let Some(ck) = &self.checkpoint else {
            return Ok(());
        };
        let started = Instant::now();
        let (adam_step, moments) = ck.adam.borrow().state();
        EpochState {
            epoch,
            stopped,
            params: snapshot(self.params)?,
            best: best.to_vec(),
            adam_step,
            moments,
            best_score: stopping.best(),
            since_best: stopping.since_best(),
            history: history.to_vec(),
        }
        .save(&ck.path)?;
        tracing::debug!(
            epoch,
            seconds = started.elapsed().as_secs_f64(),
            "epoch checkpoint written"
        );
        Ok(())
    }
}

pub(crate) fn prefix_cache(
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
            let batch = train.eval_batch_size();
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
