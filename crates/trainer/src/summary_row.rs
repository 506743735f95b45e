//! [`summarize`]: a run's `summary.parquet` row, built in this one place from its planned
//! config and what its training path reported ([`Trained`]). Which columns each kind of run
//! fills, and which it leaves null, is read here, not gathered from the paths.

use cxr_data::SamplerKind;
use cxr_experiment::{Objective, PlannedRun, Task};
use cxr_models::ParamCount;
use cxr_results::{status, task, RunSummary};

use crate::autoencoder;
use crate::error::Result;
use crate::outcome::Trained;

/// The summary row of `planned`, trained as `trained` in `total_time_s` seconds. `network` is
/// the size of the network its training updated, known before training began (so a failed run
/// records it too); a classic head's size comes with its outcome instead.
pub(crate) fn summarize(
    planned: &PlannedRun,
    network: Option<ParamCount>,
    trained: &Trained,
    patients: Option<[usize; 3]>,
    total_time_s: f64,
) -> Result<RunSummary> {
    let cfg = &planned.config;
    let fold = cfg.split.fold();
    let (classifier, head, ae, failure) = match trained {
        Trained::Classifier(c) => (Some(c), None, None, None),
        Trained::Head(h) => (None, Some(h), None, None),
        Trained::Autoencoder(a) => (None, None, Some(a), None),
        Trained::Failed(f) => (None, None, None, Some(f)),
        Trained::MultiLabel(_) => (None, None, None, None),
    };
    let multi = match trained {
        Trained::MultiLabel(m) => Some(m),
        _ => None,
    };
    let finding_heads = multi.and_then(|m| m.heads.as_ref());
    let params = head
        .map(|h| h.params)
        .or(finding_heads.map(|h| h.params))
        .or(network);
    let epochs = classifier
        .map(|c| c.epochs)
        .or(ae.map(|a| a.epochs))
        .or(multi.and_then(|m| m.epochs));
    let test = classifier.map(|c| c.test).or(head.map(|h| h.test));
    let intervals = test.and_then(|t| t.intervals);
    let calibration = classifier.and_then(|c| c.calibration);
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
        sampler: sampler(planned).name().to_string(),
        device: Some(cfg.train.device.to_string()),
        pretrained: cfg.pretrained(),
        objective: Some(cfg.train.objective.name().to_string()),
        head: Some(cfg.model.head_name().to_string()),
        head_params: head
            .map(|h| h.hyper.clone())
            .or(finding_heads.map(|h| h.hyper.clone())),
        status: failure.map_or(status::OK, |_| status::FAILED).into(),
        error: failure.map_or_else(String::new, |f| f.error.clone()),
        epochs_run: failure
            .map_or(epochs.map(|e| e.run), |f| f.epochs_run)
            .map(|n| n as i64),
        epochs_to_converge: epochs.map(|e| e.best as i64),
        epoch_time_s: epochs.map(|e| e.mean_train_time_s),
        eval_time_s: epochs.map(|e| e.mean_eval_time_s),
        total_time_s: Some(total_time_s),
        prefix_time_s: classifier
            .and_then(|c| c.prefix_time_s)
            .or(multi.and_then(|m| m.prefix_time_s))
            .or(head.map(|h| h.embed_time_s)),
        fit_time_s: head
            .map(|h| h.fit_time_s)
            .or(finding_heads.map(|h| h.fit_time_s)),
        trainable_params: params.map_or(0, |p| p.trainable as i64),
        total_params: params.map_or(0, |p| p.total as i64),
        test_micro_recall: test
            .map(|t| t.micro_recall)
            .or(multi.and_then(|m| m.test_micro_recall)),
        test_macro_recall: test
            .map(|t| t.macro_recall)
            .or(multi.and_then(|m| m.test_macro_recall)),
        test_micro_recall_low: intervals.map(|i| i.micro.low),
        test_micro_recall_high: intervals.map(|i| i.micro.high),
        test_macro_recall_low: intervals.map(|i| i.macro_.low),
        test_macro_recall_high: intervals.map(|i| i.macro_.high),
        test_loss: classifier
            .map(|c| c.test_loss)
            .or(ae.map(|a| a.test_loss))
            .or(multi.map(|m| m.test_loss)),
        test_ece: test.and_then(|t| t.ece).or(multi.and_then(|m| m.test_ece)),
        temperature: calibration.map(|c| c.temperature),
        test_ece_uncalibrated: calibration
            .map(|c| c.test_ece_uncalibrated)
            .or(multi.and_then(|m| m.test_ece_uncalibrated)),
        val_micro_recall: classifier
            .map(|c| c.val_micro_recall)
            .or(head.and_then(|h| h.val_micro_recall))
            .or(multi.and_then(|m| m.val_micro_recall)),
        val_macro_recall: classifier
            .map(|c| c.val_macro_recall)
            .or(head.and_then(|h| h.val_macro_recall))
            .or(multi.and_then(|m| m.val_macro_recall)),
        test_images: test
            .map(|t| t.images as i64)
            .or(ae.map(|a| a.test_images as i64))
            .or(multi.map(|m| m.test_images as i64)),
        task: (cfg.train.task == Task::Multilabel && cfg.train.objective == Objective::Classify)
            .then(|| task::MULTILABEL.to_string()),
        test_mean_auroc: multi.and_then(|m| m.test_mean_auroc),
        test_mean_auroc_low: multi.and_then(|m| m.test_mean_auroc_interval.map(|i| i.low)),
        test_mean_auroc_high: multi.and_then(|m| m.test_mean_auroc_interval.map(|i| i.high)),
        val_mean_auroc: multi.and_then(|m| m.val_mean_auroc),
        train_patients: patients.map(|p| p[0] as i64),
        val_patients: patients.map(|p| p[1] as i64),
        test_patients: patients.map(|p| p[2] as i64),
        config_json: cfg.to_json()?,
    })
}

/// The sampler that drew the run's epochs: the config's, except for an autoencoder, which
/// shuffles whatever the config says.
fn sampler(planned: &PlannedRun) -> SamplerKind {
    let cfg = &planned.config;
    match (&cfg.model.head, cfg.train.objective) {
        (None, Objective::Autoencoder) => autoencoder::SAMPLER,
        _ => cfg.train.sampler,
    }
}
