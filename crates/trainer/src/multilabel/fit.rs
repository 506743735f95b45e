//! [`fit_multilabel`]: the shared epoch loop with a logit per finding, the masked binary
//! cross-entropy as the loss, and validation mean AUROC as the default stopping score.

use candle_core::Tensor;
use cxr_data::{FindingMatrix, Uncertain};
use cxr_experiment::TrainSettings;
use cxr_models::Model;

use crate::early_stopping::EpochScore;
use crate::epoch::{step_batches, Source};
use crate::error::Result;
use crate::fit::{fit_with, FitData, FitOutcome, Objective};
use crate::multilabel::evaluation::MultiLabelEvaluation;
use crate::multilabel::loss::masked_bce_with_logits;
use crate::multilabel::scores::FindingScores;
use crate::multilabel::targets::{pos_weight_tensor, target_tensors};
use crate::observer::Observer;

/// What [`fit_multilabel`] produced: the kept epoch's per-finding evaluations.
pub type MultiLabelFit = FitOutcome<MultiLabelEvaluation>;

/// Trains `model` (one output per finding of `labels`, whose rows align with `data.set`) until
/// `train.max_epochs` or early stopping, keeps the best epoch's weights, then evaluates the
/// test split once with them. Missing labels, and uncertain ones as `train.uncertain` says,
/// are masked out of the loss; `train.pos_weight = "balanced"` weighs each finding's positives
/// by its training split's negatives over positives. The sampler draws from `data.set.labels`
/// (for a multi-label table: whether a film has any finding).
pub fn fit_multilabel(
    model: &Model,
    data: FitData<'_>,
    labels: &FindingMatrix,
    train: &TrainSettings,
    seed: u64,
    observer: &mut dyn Observer,
) -> Result<MultiLabelFit> {
    let device = model.device();
    let uncertain = train.uncertain;
    let pos_weight = pos_weight_tensor(
        train.pos_weight,
        labels,
        &data.split.train,
        uncertain,
        device,
    )?;
    let pos_weight = pos_weight.as_ref();
    let eval_batch = train.eval_batch_size();
    fit_with(
        model,
        data,
        train,
        seed,
        observer,
        Objective::new(
            |source, opt, plan, rng, observer| {
                step_batches(plan, opt, observer, |chunk| {
                    let (x, _) = source.train_batch(chunk, rng, device)?;
                    let logits = source.forward(model, &x, true)?;
                    let (targets, mask) = target_tensors(labels, chunk, uncertain, device)?;
                    masked_bce_with_logits(&logits, &targets, &mask, pos_weight)
                })
            },
            |source, films| {
                evaluate_findings(
                    model, source, labels, films, uncertain, pos_weight, eval_batch,
                )
            },
            |val| score_of(val, labels, &data.split.val, uncertain),
        ),
    )
}

/// A multi-label epoch's validation numbers: the masked loss, mean AUROC, and micro-/macro-
/// recall at thresholds chosen on these same films (Youden's J per finding).
fn score_of(
    val: &MultiLabelEvaluation,
    labels: &FindingMatrix,
    films: &[usize],
    uncertain: Uncertain,
) -> EpochScore {
    let scores = FindingScores::of(val, labels, films, uncertain);
    let recall = scores.recall_at(&scores.youden_thresholds());
    EpochScore {
        val_loss: val.loss,
        val_micro_recall: recall.as_ref().map_or(f64::NAN, |r| r.micro),
        val_macro_recall: recall.as_ref().map_or(f64::NAN, |r| r.macro_),
        val_mean_auroc: scores.mean_auroc().unwrap_or(f64::NAN),
    }
}

/// Evaluates `model` (eval mode, no gradients kept) on `films` of `source`: each film's
/// per-finding probabilities and the masked loss against `labels`.
pub fn evaluate_findings(
    model: &Model,
    source: &Source<'_>,
    labels: &FindingMatrix,
    films: &[usize],
    uncertain: Uncertain,
    pos_weight: Option<&Tensor>,
    batch_size: usize,
) -> Result<MultiLabelEvaluation> {
    let device = model.device();
    let mut out = MultiLabelEvaluation::new(labels.findings.len());
    for chunk in films.chunks(batch_size.max(1)) {
        let (x, _) = source.eval_batch(chunk, device)?;
        let logits = source.forward(model, &x, false)?;
        let (targets, mask) = target_tensors(labels, chunk, uncertain, device)?;
        out.add_batch(&logits, &targets, &mask, pos_weight)?;
    }
    Ok(out)
}
