//! One planned run, end to end: write its config, prepare data, build the model, fit (a
//! classifier, or an autoencoder for `objective = "autoencoder"`: [`crate::autoencoder`]), and
//! record every result file through the run folder's typed writers (`cxr-results`). The summary
//! is written last: its presence marks the run finished.

use std::path::Path;
use std::time::Instant;

use cxr_data::seed::{self, Stream};
use cxr_data::{BatchSpec, ImageSet};
use cxr_experiment::{Objective, PlannedRun, RunConfig};
use cxr_models::{Model, ModelConfig};
use cxr_results::{
    status, write_confusion, write_history, write_per_class, write_summary, CalibrationRecord,
    ConfusionRow, PerClassRow, PredictionRow, RunDir, RunSummary,
};

use crate::autoencoder;
use crate::classic::fit_classic;
use crate::error::{Result, TrainerError};
use crate::fit::{fit, FitData, FitOutcome};
use crate::observer::Observer;
use crate::prepare::DataMemo;
use crate::preprocessing;
use crate::weights::{self, StartingWeights};
use cxr_metrics::{
    calibration, fit_temperature, nll, recall_intervals, ConfusionMatrix, DEFAULT_BINS,
    DEFAULT_RESAMPLES,
};

/// Where a run reads its caches and its source runs from.
#[derive(Debug, Clone)]
pub struct RunEnv<'a> {
    /// Image caches, generated synthetic sets and downloaded weights.
    pub cache_dir: &'a Path,
    /// Results root, where runs of source grids are (`<results_dir>/<grid>/runs/<id>`).
    pub results_dir: &'a Path,
    /// Base URL that replaces the publisher's when downloading published weights.
    pub weights_mirror: Option<&'a str>,
    /// Source runs found finished under the id an earlier cxr gave them
    /// ([`crate::sweep::EarlierIds`]): where their weights are.
    pub earlier_ids: &'a crate::sweep::EarlierIds,
}

/// Trains and records `planned` into `dir`, returning its summary row. A training failure
/// (e.g. a diverging loss) is recorded as a `failed` summary, not returned as an error; errors
/// are reserved for what stops the whole sweep (unreadable data, unwritable results).
pub fn run_one(
    planned: &PlannedRun,
    dir: &RunDir,
    env: &RunEnv<'_>,
    memo: &mut DataMemo,
    observer: &mut dyn Observer,
) -> Result<RunSummary> {
    let start = Instant::now();
    let cfg = &planned.config;
    if dir.path().exists() {
        // A folder without a summary is a killed run: start it again from nothing.
        std::fs::remove_dir_all(dir.path()).map_err(|source| TrainerError::Io {
            path: dir.path().to_path_buf(),
            source,
        })?;
    }
    // Before anything is written: a missing source stops here, leaving no half-made folder.
    let start_from = weights::starting_weights(cfg, env)?;
    dir.write_config(cfg)?;
    let data = memo.prepare(cfg, env.cache_dir)?;
    if start_from.is_none() && cfg.model.head.is_some() {
        tracing::warn!(
            model = %cfg.model.name,
            "no pretrained weights given: the {} head is fitted on the features of a randomly initialised {} (a floor, not a backbone)",
            cfg.model.head_name(),
            cfg.model.name
        );
    } else if start_from.is_none()
        && cfg.model.name.is_resnet()
        && cfg.train.objective == Objective::Classify
    {
        tracing::warn!(
            model = %cfg.model.name,
            "no pretrained weights given: {} starts from random init, so this is not a transfer-learning run",
            cfg.model.name
        );
    }
    let (model, model_cfg) = build_model(cfg, data.set.classes.len(), start_from.as_ref())?;
    // Recorded before training so that inference feeds new images exactly as this run did.
    let source_stats = start_from.and_then(|w| w.source_stats);
    let record = preprocessing::derive(cfg, &data, model_cfg.in_channels, source_stats);
    dir.write_preprocessing(&record)?;
    let spec = BatchSpec {
        channels: model_cfg.in_channels,
        stats: record.stats,
    };
    let mut summary = base_summary(planned, cfg)?;
    let fit_data = FitData {
        set: &data.set,
        split: &data.split,
        spec: &spec,
        augment: cfg.data.augment.as_ref(),
    };
    let trained = match (&cfg.model.head, cfg.train.objective) {
        (Some(head), _) => fit_classic(&model, head, fit_data, cfg, dir, &mut summary),
        (None, Objective::Classify) => classify(&model, fit_data, cfg, dir, &mut summary, observer),
        (None, Objective::Autoencoder) => {
            autoencoder::pretrain(model, fit_data, cfg, dir, &mut summary, observer)
        }
    };
    match trained {
        Ok(()) => {}
        Err(err @ TrainerError::NonFiniteLoss { epoch, .. }) => {
            tracing::error!(run = %planned.id, "{err}");
            summary.status = status::FAILED.into();
            summary.error = err.to_string();
            summary.epochs_run = Some(epoch as i64);
        }
        Err(err @ TrainerError::Head(_)) => {
            tracing::error!(run = %planned.id, "{err}");
            summary.status = status::FAILED.into();
            summary.error = err.to_string();
        }
        Err(other) => return Err(other),
    }
    summary.total_time_s = Some(start.elapsed().as_secs_f64());
    write_summary(&dir.summary_path(), std::slice::from_ref(&summary))?;
    Ok(summary)
}

/// The network run `cfg` starts from: its architecture with `classes` outputs and its frozen
/// stages, loaded from `start_from` or drawn from the run seed's init stream. What a sweep
/// trains, and what `cxr features` rebuilds a classic-head run's backbone with.
pub fn build_model(
    cfg: &RunConfig,
    classes: usize,
    start_from: Option<&StartingWeights>,
) -> Result<(Model, ModelConfig)> {
    // A classic head's CNN is frozen whole (freeze 5), which the network itself need not
    // know: it only ever runs in eval mode.
    let model_cfg = ModelConfig::new(cfg.model.name, classes)
        .with_freeze(cfg.model.freeze.min(cfg.model.name.max_freeze()));
    let model = model_cfg.build(
        start_from.map(|w| w.file.as_path()),
        &cfg.train.device.open()?,
        seed::sub_seed(cfg.seed, Stream::Init),
    )?;
    Ok((model, model_cfg))
}

/// Fits a classifier and records its weights, tables and summary numbers.
fn classify(
    model: &Model,
    data: FitData<'_>,
    cfg: &RunConfig,
    dir: &RunDir,
    summary: &mut RunSummary,
    observer: &mut dyn Observer,
) -> Result<()> {
    let counts = model.param_count();
    summary.trainable_params = counts.trainable as i64;
    summary.total_params = counts.total as i64;
    let mut outcome = fit(model, data, &cfg.train, cfg.seed, observer)?;
    dir.write_model(model)?;
    if cfg.train.calibrate {
        calibrate(&mut outcome, dir, summary)?;
    }
    let run_id = summary.run_id.clone();
    record_outcome(dir, &run_id, data, &outcome, cfg.seed, summary)
}

/// Temperature scaling: fits the temperature on the validation logits, rescales the test
/// probabilities with it and keeps it with the run (`calibration.json`, `temperature`).
fn calibrate(outcome: &mut FitOutcome, dir: &RunDir, summary: &mut RunSummary) -> Result<()> {
    let val = &outcome.val;
    let classes = val.confusion.matrix.len();
    let Some(temperature) = fit_temperature(&val.logits, &val.labels, classes) else {
        tracing::warn!(run = %summary.run_id, "no validation images: not calibrated");
        return Ok(());
    };
    let ece = |probabilities: &[f32], labels: &[u32]| {
        calibration(probabilities, labels, classes, DEFAULT_BINS).map_or(f64::NAN, |c| c.ece)
    };
    let val_nll_uncalibrated = nll(&val.logits, &val.labels, classes, 1.0);
    let val_nll = nll(&val.logits, &val.labels, classes, temperature);
    let test_ece_uncalibrated = ece(&outcome.test.probabilities, &outcome.test.labels);
    outcome.val.scale(temperature);
    outcome.test.scale(temperature);
    let record = CalibrationRecord {
        temperature,
        val_nll_uncalibrated,
        val_nll,
        test_ece_uncalibrated,
        test_ece: ece(&outcome.test.probabilities, &outcome.test.labels),
    };
    tracing::info!(
        run = %summary.run_id,
        "temperature {temperature:.3}: validation NLL {:.4} -> {:.4}, test ECE {:.4} -> {:.4}",
        record.val_nll_uncalibrated,
        record.val_nll,
        record.test_ece_uncalibrated,
        record.test_ece
    );
    dir.write_calibration(&record)?;
    summary.temperature = Some(temperature);
    summary.test_ece_uncalibrated = Some(record.test_ece_uncalibrated);
    Ok(())
}

fn base_summary(planned: &PlannedRun, cfg: &RunConfig) -> Result<RunSummary> {
    let config_json = cfg.to_json()?;
    let fold = cfg.split.fold();
    Ok(RunSummary {
        run_id: planned.id.clone(),
        grid: cfg.grid.clone(),
        model: cfg.model.name.to_string(),
        freeze: cfg.model.freeze as i64,
        seed: cfg.seed as i64,
        fold: fold.map(|f| f.fold as i64),
        folds: fold.map(|f| f.folds as i64),
        image_size: i64::from(cfg.data.image_size),
        axes: planned.axes.clone(),
        lr: cfg.train.adam.lr,
        batch_size: cfg.train.batch_size as i64,
        sampler: cfg.train.sampler.name().to_string(),
        device: Some(cfg.train.device.to_string()),
        pretrained: cfg.pretrained(),
        objective: Some(cfg.train.objective.name().to_string()),
        head: Some(cfg.model.head_name().to_string()),
        status: status::OK.into(),
        config_json,
        ..RunSummary::default()
    })
}

fn record_outcome(
    dir: &RunDir,
    run_id: &str,
    data: FitData<'_>,
    outcome: &FitOutcome,
    seed: u64,
    summary: &mut RunSummary,
) -> Result<()> {
    write_history(&dir.history_path(), run_id, &outcome.history)?;
    let n = outcome.history.len().max(1) as f64;
    summary.epochs_run = Some(outcome.history.len() as i64);
    summary.epochs_to_converge = Some(outcome.best_epoch as i64);
    summary.epoch_time_s = Some(outcome.history.iter().map(|e| e.train_time_s).sum::<f64>() / n);
    summary.eval_time_s = Some(outcome.history.iter().map(|e| e.eval_time_s).sum::<f64>() / n);
    summary.test_loss = Some(outcome.test.loss);
    summary.prefix_time_s = outcome.prefix_time_s;
    summary.val_micro_recall = Some(outcome.val.confusion.micro_recall());
    summary.val_macro_recall = Some(outcome.val.confusion.macro_recall());
    let test = &outcome.test;
    let results = TestResults {
        set: data.set,
        indices: &data.split.test,
        labels: &test.labels,
        predictions: &test.predictions,
        probabilities: Some(&test.probabilities),
    };
    record_test(dir, run_id, &results, seed, summary)
}

/// A classifier's answers on its test split, in split order.
pub(crate) struct TestResults<'a> {
    /// The dataset (class names, file paths).
    pub set: &'a ImageSet,
    /// The test images' indices into `set`.
    pub indices: &'a [usize],
    /// Their true labels.
    pub labels: &'a [u32],
    /// The predicted labels.
    pub predictions: &'a [u32],
    /// Class probabilities, `indices.len() x classes` row-major, when the classifier has them.
    pub probabilities: Option<&'a [f32]>,
}

/// Writes the test split's predictions, per-class table and confusion matrix, and puts its
/// recalls (with bootstrap intervals from the run seed's stream), calibration error and size
/// into `summary`: what every classifier run, linear or classic head, records about its test
/// split.
pub(crate) fn record_test(
    dir: &RunDir,
    run_id: &str,
    results: &TestResults<'_>,
    seed: u64,
    summary: &mut RunSummary,
) -> Result<()> {
    let TestResults {
        set,
        labels,
        predictions,
        ..
    } = *results;
    let classes = &set.classes;
    dir.write_predictions(&prediction_rows(results))?;
    summary.test_ece = results
        .probabilities
        .and_then(|p| calibration(p, labels, classes.len(), DEFAULT_BINS))
        .map(|c| c.ece);
    let test = ConfusionMatrix::new(labels, predictions, classes.len());
    let per_class: Vec<PerClassRow> = test
        .per_class()
        .iter()
        .zip(classes)
        .map(|(m, class)| PerClassRow {
            class: class.clone(),
            precision: m.precision,
            recall: m.recall,
            f1: m.f1,
            support: m.support as i64,
        })
        .collect();
    write_per_class(&dir.per_class_path(), run_id, &per_class)?;
    let confusion = ConfusionRow::from_matrix(classes, &test.matrix);
    write_confusion(&dir.confusion_path(), run_id, &confusion)?;
    summary.test_micro_recall = Some(test.micro_recall());
    summary.test_macro_recall = Some(test.macro_recall());
    let mut rng = seed::rng(seed, Stream::Bootstrap);
    if let Some(ci) = recall_intervals(
        labels,
        predictions,
        classes.len(),
        DEFAULT_RESAMPLES,
        &mut rng,
    ) {
        summary.test_micro_recall_low = Some(ci.micro.low);
        summary.test_micro_recall_high = Some(ci.micro.high);
        summary.test_macro_recall_low = Some(ci.macro_.low);
        summary.test_macro_recall_high = Some(ci.macro_.high);
    }
    summary.test_images = Some(test.total() as i64);
    Ok(())
}

/// `predictions.parquet`'s rows: one per test image, in split order.
fn prediction_rows(results: &TestResults<'_>) -> Vec<PredictionRow> {
    let classes = &results.set.classes;
    let mut probabilities = results.probabilities.map(|p| p.chunks_exact(classes.len()));
    results
        .indices
        .iter()
        .zip(results.labels.iter().zip(results.predictions))
        .map(|(&i, (&label, &predicted))| PredictionRow {
            path: results.set.files[i].to_string_lossy().into_owned(),
            true_class: classes[label as usize].clone(),
            predicted_class: classes[predicted as usize].clone(),
            probabilities: probabilities
                .as_mut()
                .and_then(|rows| rows.next())
                .map(<[f32]>::to_vec),
        })
        .collect()
}
