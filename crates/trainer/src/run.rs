//! One planned run, end to end: write its config, prepare data, build the model, fit, and
//! record every result file. The summary is written last: its presence marks the run finished.

use std::path::Path;
use std::time::Instant;

use cxr_data::{seed, BatchSpec};
use cxr_experiment::{PlannedRun, RunConfig};
use cxr_models::ModelConfig;
use cxr_results::{
    status, write_atomic, write_confusion, write_history, write_per_class, write_summary,
    ConfusionRow, HistoryRow, PerClassRow, RunDir, RunSummary,
};

use crate::adam::AdamConfig;
use crate::bootstrap::{recall_intervals, DEFAULT_RESAMPLES};
use crate::error::{Result, TrainerError};
use crate::fit::{fit, FitOutcome, FitSettings, Observer};
use crate::prepare::DataMemo;
use crate::preprocessing::Preprocessing;

/// Where a run reads its caches from.
#[derive(Debug, Clone)]
pub struct RunEnv<'a> {
    /// Image caches and generated synthetic sets.
    pub cache_dir: &'a Path,
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
    write_atomic(&dir.config_path(), cfg.to_toml()?.as_bytes())?;
    let data = memo.prepare(cfg, env.cache_dir)?;
    let model_cfg =
        ModelConfig::new(cfg.model.name, data.set.classes.len()).with_freeze(cfg.model.freeze);
    let model = model_cfg.build(
        cfg.model.weights.as_deref(),
        &crate::fit::device(),
        seed::sub_seed(cfg.seed, "init"),
    )?;
    // Recorded before training so that inference feeds new images exactly as this run did.
    let preprocessing = Preprocessing::derive(cfg, &data, model_cfg.in_channels);
    preprocessing.write(&dir.preprocessing_path())?;
    let train_spec = BatchSpec {
        channels: model_cfg.in_channels,
        stats: preprocessing.stats,
        augment: cfg.data.augment,
    };
    let eval_spec = BatchSpec {
        augment: None,
        ..train_spec.clone()
    };
    let counts = model.param_count();
    let mut summary = base_summary(planned, cfg);
    summary.trainable_params = counts.trainable as i64;
    summary.total_params = counts.total as i64;

    match fit(
        &model,
        &data.set,
        &data.split,
        &train_spec,
        &eval_spec,
        &fit_settings(cfg),
        observer,
    ) {
        Ok(outcome) => {
            model.save(&dir.model_path())?;
            let classes = &data.set.classes;
            record_outcome(dir, &planned.id, classes, &outcome, cfg.seed, &mut summary)?;
        }
        Err(TrainerError::NonFiniteLoss { epoch, batch, loss }) => {
            let err = TrainerError::NonFiniteLoss { epoch, batch, loss };
            tracing::error!(run = %planned.id, "{err}");
            summary.status = status::FAILED.into();
            summary.error = err.to_string();
            summary.epochs_run = Some(epoch as i64);
        }
        Err(other) => return Err(other),
    }
    summary.total_time_s = Some(start.elapsed().as_secs_f64());
    write_summary(&dir.summary_path(), std::slice::from_ref(&summary))?;
    Ok(summary)
}

fn fit_settings(cfg: &RunConfig) -> FitSettings {
    let t = &cfg.train;
    FitSettings {
        adam: AdamConfig {
            lr: t.adam.lr,
            beta1: t.adam.beta1,
            beta2: t.adam.beta2,
            eps: t.adam.eps,
            weight_decay: t.adam.weight_decay,
        },
        sampler: t.sampler,
        max_epochs: t.max_epochs,
        patience: t.patience,
        batch_size: t.batch_size,
        stop_metric: t.early_stopping,
        seed: cfg.seed,
        prefix_cache: t.prefix_cache,
    }
}

/// The `axes` column: the run's grid-axis values as `setting=value` joined by `, `.
pub(crate) fn axes_label(planned: &PlannedRun) -> String {
    planned
        .axes
        .iter()
        .map(|a| format!("{}={}", a.setting, a.value))
        .collect::<Vec<_>>()
        .join(", ")
}

fn base_summary(planned: &PlannedRun, cfg: &RunConfig) -> RunSummary {
    RunSummary {
        run_id: planned.id.clone(),
        grid: cfg.grid.clone(),
        model: cfg.model.name.to_string(),
        freeze: cfg.model.freeze as i64,
        seed: cfg.seed as i64,
        image_size: i64::from(cfg.data.image_size),
        axes: axes_label(planned),
        lr: cfg.train.adam.lr,
        batch_size: cfg.train.batch_size as i64,
        sampler: serde_json::to_value(cfg.train.sampler)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        pretrained: cfg.pretrained(),
        status: status::OK.into(),
        config_json: serde_json::to_string(cfg).unwrap_or_default(),
        ..RunSummary::default()
    }
}

fn record_outcome(
    dir: &RunDir,
    run_id: &str,
    classes: &[String],
    outcome: &FitOutcome,
    seed: u64,
    summary: &mut RunSummary,
) -> Result<()> {
    let history: Vec<HistoryRow> = outcome
        .history
        .iter()
        .map(|e| HistoryRow {
            epoch: e.epoch as i64,
            train_loss: e.train_loss,
            val_loss: e.val_loss,
            val_micro_recall: e.val_micro_recall,
            val_macro_recall: e.val_macro_recall,
            train_time_s: e.train_time_s,
            eval_time_s: e.eval_time_s,
            kept: e.epoch == outcome.best_epoch,
        })
        .collect();
    write_history(&dir.history_path(), run_id, &history)?;
    let test = &outcome.test.confusion;
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
    let mut confusion = Vec::new();
    for (t, row) in test.matrix.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            confusion.push(ConfusionRow {
                true_class: classes[t].clone(),
                predicted_class: classes[p].clone(),
                count: count as i64,
            });
        }
    }
    write_confusion(&dir.confusion_path(), run_id, &confusion)?;

    let n = outcome.history.len().max(1) as f64;
    summary.epochs_run = Some(outcome.history.len() as i64);
    summary.epochs_to_converge = Some(outcome.best_epoch as i64);
    summary.epoch_time_s = Some(outcome.history.iter().map(|e| e.train_time_s).sum::<f64>() / n);
    summary.eval_time_s = Some(outcome.history.iter().map(|e| e.eval_time_s).sum::<f64>() / n);
    summary.test_micro_recall = Some(test.micro_recall());
    summary.test_macro_recall = Some(test.macro_recall());
    let mut rng = seed::rng(seed, "bootstrap");
    if let Some(ci) = recall_intervals(
        &outcome.test.labels,
        &outcome.test.predictions,
        classes.len(),
        DEFAULT_RESAMPLES,
        &mut rng,
    ) {
        summary.test_micro_recall_low = Some(ci.micro.low);
        summary.test_micro_recall_high = Some(ci.micro.high);
        summary.test_macro_recall_low = Some(ci.macro_.low);
        summary.test_macro_recall_high = Some(ci.macro_.high);
    }
    summary.test_loss = Some(outcome.test.loss);
    summary.prefix_time_s = outcome.prefix_time_s;
    summary.test_images = Some(test.total() as i64);
    summary.val_micro_recall = Some(outcome.val.confusion.micro_recall());
    summary.val_macro_recall = Some(outcome.val.confusion.macro_recall());
    Ok(())
}
