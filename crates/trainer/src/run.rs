//! One planned run, end to end: write its config, prepare data, build the model, train it
//! along the path its config names (a linear classifier: [`crate::classify`]; a logit per
//! finding for `task = "multilabel"`: [`crate::multilabel`]; a classic head:
//! [`crate::classic`]; an autoencoder for `objective = "autoencoder"`: [`crate::autoencoder`]),
//! each path recording its files through the run folder's typed writers (`cxr-results`) and
//! returning its outcome, from which [`crate::summary_row`] builds the summary row. The summary
//! is written last: its presence marks the run finished.

use std::time::Instant;

use cxr_data::seed::{self, Stream};
use cxr_data::BatchSpec;
use cxr_experiment::{Objective, PlannedRun, RunConfig, RunConfigFile, Task};
use cxr_models::{Autoencoder, Model, ModelConfig};
use cxr_results::{RunDir, RunSummary};

use crate::autoencoder;
use crate::classic::fit_classic;
use crate::classic_findings::fit_classic_findings;
use crate::classify::classify;
use crate::env::RunEnv;
use crate::error::{Result, TrainerError};
use crate::fit::FitData;
use crate::multilabel::train_findings;
use crate::observer::Observer;
use crate::outcome::{Failure, Trained};
use crate::prepare::DataMemo;
use crate::preprocessing;
use crate::summary_row::summarize;
use crate::weights::{self, StartingWeights};

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
    let multilabel =
        cfg.train.task == Task::Multilabel && cfg.train.objective == Objective::Classify;
    if dir.path().exists() && (dir.is_finished() || !dir.checkpoint_path().is_file()) {
        // A folder without a summary is a killed run: start it again from nothing, unless it
        // kept an epoch checkpoint, from which its epoch loop resumes. A finished run trained
        // again (--force) starts from nothing, whatever checkpoint it kept.
        std::fs::remove_dir_all(dir.path()).map_err(|source| TrainerError::Io {
            path: dir.path().to_path_buf(),
            source,
        })?;
    }
    // Before anything is written: a missing source or data that cannot be loaded stops here,
    // leaving no run folder that holds only its config.
    let start_from = weights::starting_weights(cfg, env)?;
    let data = memo.prepare(cfg, env.cache_dir)?;
    dir.write_config(cfg)?;
    if start_from.is_none() && cfg.model.head.is_some() {
        tracing::warn!(
            model = %cfg.model.name,
            "no pretrained weights given: the {} head is fitted on the features of a randomly initialised {} (a floor, not a backbone)",
            cfg.model.head_name(),
            cfg.model.name
        );
    } else if start_from.is_none()
        && !planned.random_init_chosen
        && cfg.model.name.is_resnet()
        && cfg.train.objective == Objective::Classify
    {
        tracing::warn!(
            model = %cfg.model.name,
            "no pretrained weights given: {} starts from random init, so this is not a transfer-learning run",
            cfg.model.name
        );
    }
    // A multi-label run has one output per finding of its table (resolution checked that a
    // multi-label run reads a table).
    let table = match (multilabel, data.table.as_deref()) {
        (true, Some(table)) => Some(table),
        (true, None) => {
            return Err(TrainerError::Config {
                run_id: planned.id.clone(),
                message: "a multi-label run needs a label table (data.labels)".into(),
            })
        }
        (false, _) => None,
    };
    let outputs = table.map_or(data.set.classes.len(), |t| t.findings.findings.len());
    let (model, model_cfg) = build_model(cfg, outputs, start_from.as_ref())?;
    // Recorded before training so that inference feeds new images exactly as this run did.
    let source_stats = start_from.as_ref().and_then(|w| w.source_stats);
    let mut record = preprocessing::derive(cfg, &data, model_cfg.in_channels, source_stats);
    if let Some(table) = table {
        record.classes = table.findings.findings.clone();
        record.multilabel = true;
    }
    dir.write_preprocessing(&record)?;
    let spec = BatchSpec {
        channels: model_cfg.in_channels,
        stats: preprocessing::recorded_stats(record.stats),
    };
    let checkpoint = dir.checkpoint_path();
    let fit_data = FitData {
        checkpoint: Some(&checkpoint),
        set: &data.set,
        split: &data.split,
        spec: &spec,
        augment: cfg.data.augment.as_ref(),
    };
    let run_id = planned.id.as_str();
    // `network`: the size of what the optimiser trains, recorded even if training fails.
    let (network, trained) = match (&cfg.model.head, cfg.train.objective) {
        (Some(head), _) => match table {
            Some(table) => {
                let outcome = fit_classic_findings(
                    &model,
                    head,
                    start_from.as_ref(),
                    fit_data,
                    table,
                    cfg,
                    dir,
                );
                if let Ok(outcome) = &outcome {
                    record.thresholds = outcome.thresholds.clone();
                    dir.write_preprocessing(&record)?;
                }
                (None, outcome.map(Trained::MultiLabel))
            }
            None => (
                None,
                fit_classic(&model, head, start_from.as_ref(), fit_data, cfg, dir)
                    .map(Trained::Head),
            ),
        },
        (None, Objective::Classify) => match table {
            Some(table) => {
                let outcome = train_findings(&model, fit_data, table, cfg, dir, observer);
                if let Ok(outcome) = &outcome {
                    // Inference calls each finding at the threshold chosen on validation.
                    record.thresholds = outcome.thresholds.clone();
                    record.temperatures = outcome.temperatures.clone();
                    dir.write_preprocessing(&record)?;
                }
                (Some(model.param_count()), outcome.map(Trained::MultiLabel))
            }
            None => (
                Some(model.param_count()),
                classify(&model, fit_data, cfg, dir, run_id, observer).map(Trained::Classifier),
            ),
        },
        (None, Objective::Autoencoder) => {
            // The decoder's init is drawn from the run's decoder stream.
            let ae = Autoencoder::new(model, &mut seed::decoder_rng(cfg.seed))?;
            let network = ae.param_count();
            let outcome = autoencoder::pretrain(&ae, fit_data, cfg, dir, observer);
            (Some(network), outcome.map(Trained::Autoencoder))
        }
    };
    let trained = trained.or_else(|err| Failure::recorded(run_id, err).map(Trained::Failed))?;
    // Patients per part, for a table that names them.
    let patients = data
        .table
        .as_ref()
        .and_then(|t| t.patients.as_ref())
        .map(|p| {
            [&data.split.train, &data.split.val, &data.split.test].map(|part| p.count_in(part))
        });
    let summary = summarize(
        planned,
        network,
        &trained,
        patients,
        start.elapsed().as_secs_f64(),
    )?;
    dir.write_summary(&summary)?;
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
    build_model_on(cfg, classes, start_from, &cfg.train.device.open()?)
}

/// [`build_model`] on `device` instead of the run's own: how inference rebuilds a classic-head
/// run's backbone on its device.
pub fn build_model_on(
    cfg: &RunConfig,
    classes: usize,
    start_from: Option<&StartingWeights>,
    device: &candle_core::Device,
) -> Result<(Model, ModelConfig)> {
    // A classic head's CNN is frozen whole (freeze 5), which the network itself need not
    // know: it only ever runs in eval mode.
    let model_cfg = ModelConfig::new(cfg.model.name, classes)
        .with_freeze(cfg.model.freeze.min(cfg.model.name.max_freeze()));
    let model = model_cfg.build(
        start_from.map(|w| w.file.as_path()),
        device,
        seed::sub_seed(cfg.seed, Stream::Init),
    )?;
    Ok((model, model_cfg))
}
