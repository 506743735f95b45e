//! Classic heads on several findings per film (`[train] task = "multilabel"` with a classic
//! `head`): one-vs-rest. The fully frozen backbone embeds every image once; for each finding,
//! the head's candidates are fitted on the training films whose label counts (missing labels,
//! and uncertain ones under `uncertain = "ignore"`, are left out; `"zeros"` and `"ones"` map
//! them), and the candidate with the highest validation AUROC is kept (recall would reward
//! always answering "absent" for a rare finding). Each finding's probability is its head's
//! probability of the finding, from which the run records what a multi-label network's run
//! records ([`crate::multilabel::record_findings`]: thresholds chosen on validation,
//! `per_finding.parquet`, `predictions.parquet`, mean AUROC with a patient bootstrap), plus
//! every image's features and the heads, `head.safetensors` (one head per finding,
//! `cxr_heads::findings_to_bytes`).

use std::time::Instant;

use cxr_data::seed::{self, Stream};
use cxr_data::{FindingMatrix, LabelTable, Uncertain};
use cxr_experiment::{HeadSearch, RunConfig};
use cxr_heads::{
    findings_to_bytes, fit_search_by, Criterion, FittedHead, HeadError, Matrix, Splits,
};
use cxr_models::{Model, ParamCount};
use cxr_results::RunDir;

use crate::classic::{backbone_notes, EMBED_BATCH};
use crate::embed::{embed_set, feature_table};
use crate::error::Result;
use crate::fit::FitData;
use crate::multilabel::{record_findings, MultiLabelEvaluation};
use crate::outcome::{FindingHeads, MultiLabelOutcome};
use crate::weights::StartingWeights;

/// Probabilities are kept inside `[FLOOR, 1 - FLOOR]` for the loss and the logits.
const FLOOR: f32 = 1e-7;

/// Embeds every image with the frozen `model`, fits `search` one-vs-rest per finding of
/// `table`, and records the heads, the features and the test results.
pub(crate) fn fit_classic_findings(
    model: &Model,
    search: &HeadSearch,
    start_from: Option<&StartingWeights>,
    data: FitData<'_>,
    table: &LabelTable,
    cfg: &RunConfig,
    dir: &RunDir,
) -> Result<MultiLabelOutcome> {
    let embeddings = embed_set(model, data.set, data.spec, EMBED_BATCH)?;
    let all = Matrix::new(data.set.len(), embeddings.dim, embeddings.values)?;
    let labels = &table.findings;
    let uncertain = cfg.train.uncertain;
    let split = data.split;
    let started = Instant::now();
    let mut heads: Vec<(String, FittedHead)> = Vec::with_capacity(labels.findings.len());
    for (k, finding) in labels.findings.iter().enumerate() {
        // The films of `part` whose label of this finding counts, and that label.
        let counted = |part: &[usize]| -> (Vec<usize>, Vec<u32>) {
            part.iter()
                .filter_map(|&film| {
                    uncertain
                        .positive(labels.row(film)[k])
                        .map(|positive| (film, u32::from(positive)))
                })
                .unzip()
        };
        let (train, train_labels) = counted(&split.train);
        let (val, val_labels) = counted(&split.val);
        let splits = Splits {
            train: &all.select(&train),
            train_labels: &train_labels,
            val: &all.select(&val),
            val_labels: &val_labels,
        };
        let seed = seed::sub_seed(cfg.seed, Stream::Head);
        let selection = fit_search_by(search, &splits, 2, seed, Criterion::Auroc).map_err(|e| {
            // A finding too rare for this split: say how to leave it out.
            let hint = match e {
                HeadError::TooFewClasses { .. } | HeadError::EmptySplit { .. } => {
                    "; list the findings to fit without it in data.findings, or use head = \"linear\""
                }
                _ => "",
            };
            HeadError::Finding {
                finding: finding.clone(),
                message: format!("{e}{hint}"),
            }
        })?;
        let auroc = selection.chosen().and_then(|t| t.val_auroc);
        let head = selection.head;
        tracing::info!(
            head = %search.kind(),
            %finding,
            "chose {} on validation AUROC {}",
            head.hyper(),
            auroc.map_or("undefined".to_string(), |a| format!("{a:.4}"))
        );
        heads.push((finding.clone(), head));
    }
    let fit_time_s = started.elapsed().as_secs_f64();
    dir.write_features(&feature_table(data.set, split, &all))?;
    let bytes = findings_to_bytes(&heads, &backbone_notes(cfg, start_from)?)?;
    cxr_results::write_atomic(&dir.head_path(), &bytes)?;

    let val = evaluation(
        &heads,
        &all.select(&split.val),
        labels,
        &split.val,
        uncertain,
    )?;
    let test = evaluation(
        &heads,
        &all.select(&split.test),
        labels,
        &split.test,
        uncertain,
    )?;
    let recorded = record_findings(&val, &test, table, split, cfg, dir, &[], None)?;
    let fitted: usize = heads.iter().map(|(_, h)| h.parameter_count()).sum();
    let hyper = heads
        .iter()
        .map(|(finding, head)| format!("{finding}: {}", head.hyper()))
        .collect::<Vec<_>>()
        .join("; ");
    Ok(MultiLabelOutcome {
        prefix_time_s: Some(embeddings.time_s),
        heads: Some(FindingHeads {
            params: ParamCount {
                trainable: fitted,
                total: model.param_count().total + fitted,
            },
            hyper,
            fit_time_s,
        }),
        ..recorded
    })
}

/// Each finding's probability from its head for the `films` (features `x`, in that order),
/// as a [`MultiLabelEvaluation`]: the logits are the probabilities' log-odds and the loss the
/// binary cross-entropy over the labels that count, probabilities floored at 1e-7.
/// `labels` holds every film's labels, `uncertain` says which count. What `cxr evaluate
/// --labels` scores per-finding heads with.
pub fn evaluation(
    heads: &[(String, FittedHead)],
    x: &Matrix,
    labels: &FindingMatrix,
    films: &[usize],
    uncertain: Uncertain,
) -> Result<MultiLabelEvaluation> {
    let k = heads.len();
    let mut probabilities = vec![0.0f32; films.len() * k];
    for (f, (_, head)) in heads.iter().enumerate() {
        let p = head
            .probabilities(x)?
            .ok_or_else(|| HeadError::Format("a head without probabilities".to_string()))?;
        for (row, pair) in p.chunks_exact(2).enumerate() {
            probabilities[row * k + f] = pair[1];
        }
    }
    let (mut loss, mut counted) = (0.0f64, 0usize);
    for (row, &film) in films.iter().enumerate() {
        for (f, &label) in labels.row(film).iter().enumerate() {
            if let Some(positive) = uncertain.positive(label) {
                let p = f64::from(probabilities[row * k + f].clamp(FLOOR, 1.0 - FLOOR));
                loss -= if positive { p.ln() } else { (1.0 - p).ln() };
                counted += 1;
            }
        }
    }
    let logits = probabilities
        .iter()
        .map(|p| {
            let p = p.clamp(FLOOR, 1.0 - FLOOR);
            (p / (1.0 - p)).ln()
        })
        .collect();
    Ok(MultiLabelEvaluation {
        loss: loss / counted.max(1) as f64,
        probabilities,
        logits,
        findings: k,
        counted,
    })
}
