//! The multi-label path of a run (`[train] task = "multilabel"`): [`fit_multilabel`] the
//! network, keep its weights and history, scale each finding's probabilities by a temperature
//! fitted on validation when the run asks (`train.calibrate`), choose each finding's threshold
//! on validation, and
//! record the test split per finding (`per_finding.parquet`, with intervals that resample
//! patients) and per film (`predictions.parquet`). Returns a [`MultiLabelOutcome`].

use cxr_data::seed::{self, Stream};
use cxr_data::{FindingLabel, LabelTable, Split};
use cxr_experiment::RunConfig;
use cxr_metrics::{ThresholdStats, DEFAULT_RESAMPLES};
use cxr_models::Model;
use cxr_results::{FindingPredictionRow, PerFindingRow, RunDir};

use crate::error::Result;
use crate::fit::FitData;
use crate::multilabel::calibrate::{finding_ece, finding_temperatures};
use crate::multilabel::evaluation::MultiLabelEvaluation;
use crate::multilabel::fit::fit_multilabel;
use crate::multilabel::scores::{mean_defined, FindingScores};
use crate::observer::Observer;
use crate::outcome::{Epochs, MultiLabelOutcome};

/// Fits a multi-label network on `table`'s findings and records its weights, history,
/// thresholds and test tables.
pub(crate) fn train_findings(
    model: &Model,
    data: FitData<'_>,
    table: &LabelTable,
    cfg: &RunConfig,
    dir: &RunDir,
    observer: &mut dyn Observer,
) -> Result<MultiLabelOutcome> {
    let labels = &table.findings;
    let uncertain = cfg.train.uncertain;
    let mut fit = fit_multilabel(model, data, labels, &cfg.train, cfg.seed, observer)?;
    model.save(&dir.model_path())?;
    dir.write_history(&fit.history)?;

    let split = data.split;
    let findings = labels.findings.len();
    // Temperature scaling per finding, fitted on validation; thresholds, intervals and
    // predictions then read the scaled probabilities (AUROC is unchanged by it).
    let (temperatures, ece_uncalibrated) = if cfg.train.calibrate {
        let val = FindingScores::of(&fit.val, labels, &split.val, uncertain);
        let test = FindingScores::of(&fit.test, labels, &split.test, uncertain);
        let fitted = finding_temperatures(&fit.val, &val);
        let temperatures: Vec<f64> = fitted.iter().map(|t| t.unwrap_or(1.0)).collect();
        let before: Vec<Option<f64>> = (0..findings).map(|k| finding_ece(&test, k)).collect();
        fit.val.scale(&temperatures);
        fit.test.scale(&temperatures);
        (temperatures, Some(before))
    } else {
        (Vec::new(), None)
    };
    let recorded = record_findings(
        &fit.val,
        &fit.test,
        table,
        split,
        cfg,
        dir,
        &temperatures,
        ece_uncalibrated.as_deref(),
    )?;
    Ok(MultiLabelOutcome {
        epochs: Some(Epochs::of(&fit.history, fit.best_epoch)),
        prefix_time_s: fit.prefix_time_s,
        ..recorded
    })
}

/// Records a multi-label model's validation and test predictions (`val`, `test`, each over
/// the split's films in order, `temperatures` already applied): chooses each finding's
/// threshold on validation, writes `per_finding.parquet` and `predictions.parquet`, and
/// returns the outcome without epochs or timings, which the caller fills in.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_findings(
    val: &MultiLabelEvaluation,
    test: &MultiLabelEvaluation,
    table: &LabelTable,
    split: &Split,
    cfg: &RunConfig,
    dir: &RunDir,
    temperatures: &[f64],
    ece_uncalibrated: Option<&[Option<f64>]>,
) -> Result<MultiLabelOutcome> {
    let labels = &table.findings;
    let uncertain = cfg.train.uncertain;
    let findings = labels.findings.len();
    let test_eval = test;
    let val = FindingScores::of(val, labels, &split.val, uncertain);
    let test = FindingScores::of(test, labels, &split.test, uncertain);
    let ece: Vec<Option<f64>> = (0..findings).map(|k| finding_ece(&test, k)).collect();
    let thresholds = val.youden_thresholds();
    let val_aurocs = val.aurocs();
    let test_aurocs = test.aurocs();
    // Intervals resample patients when the table names them, films otherwise.
    let groups: Vec<u32> = match &table.patients {
        Some(p) => split.test.iter().map(|&film| p.of[film]).collect(),
        None => (0..split.test.len() as u32).collect(),
    };
    let mut rng = seed::rng(cfg.seed, Stream::Bootstrap);
    let mut rows = Vec::with_capacity(labels.findings.len());
    for (k, finding) in labels.findings.iter().enumerate() {
        let (scores, truths) = test.column(k);
        let interval = test_aurocs[k]
            .and_then(|_| test.auroc_interval(k, &groups, DEFAULT_RESAMPLES, &mut rng));
        let at = ThresholdStats::at(&scores, &truths, thresholds[k]);
        let positives = truths.iter().filter(|&&t| t).count();
        rows.push(PerFindingRow {
            finding: finding.clone(),
            test_auroc: test_aurocs[k],
            test_auroc_low: interval.map(|i| i.interval.low),
            test_auroc_high: interval.map(|i| i.interval.high),
            val_auroc: val_aurocs[k],
            threshold: Some(thresholds[k]),
            sensitivity: at.and_then(|s| s.sensitivity()),
            specificity: at.and_then(|s| s.specificity()),
            precision: at.and_then(|s| s.precision()),
            test_positives: positives as i64,
            test_negatives: (truths.len() - positives) as i64,
            test_ece: ece[k],
            temperature: temperatures.get(k).copied(),
            test_ece_uncalibrated: ece_uncalibrated.and_then(|e| e[k]),
        });
    }
    dir.write_per_finding(&rows)?;
    dir.write_finding_predictions(&prediction_rows(
        table,
        &split.test,
        &test_eval.probabilities,
        &thresholds,
    ))?;

    let mean = test.mean_auroc_interval(&groups, DEFAULT_RESAMPLES, &mut rng);
    let test_recall = test.recall_at(&thresholds);
    let val_recall = val.recall_at(&thresholds);
    Ok(MultiLabelOutcome {
        epochs: None,
        prefix_time_s: None,
        heads: None,
        thresholds,
        temperatures: temperatures.to_vec(),
        test_ece: mean_defined(&ece),
        test_ece_uncalibrated: ece_uncalibrated.and_then(mean_defined),
        val_mean_auroc: val.mean_auroc(),
        val_micro_recall: val_recall.as_ref().map(|r| r.micro),
        val_macro_recall: val_recall.as_ref().map(|r| r.macro_),
        test_mean_auroc: test.mean_auroc(),
        test_mean_auroc_interval: mean.map(|m| m.interval),
        test_micro_recall: test_recall.as_ref().map(|r| r.micro),
        test_macro_recall: test_recall.as_ref().map(|r| r.macro_),
        test_loss: test_eval.loss,
        test_images: split.test.len(),
    })
}

/// `predictions.parquet`'s rows: one per (test film, finding), films in split order.
fn prediction_rows(
    table: &LabelTable,
    films: &[usize],
    probabilities: &[f32],
    thresholds: &[f64],
) -> Vec<FindingPredictionRow> {
    let labels = &table.findings;
    let k = labels.findings.len();
    let mut rows = Vec::with_capacity(films.len() * k);
    for (row, &film) in films.iter().enumerate() {
        let path = table.files[film].to_string_lossy().into_owned();
        let patient = table
            .patients
            .as_ref()
            .map_or_else(String::new, |p| p.names[p.of[film] as usize].clone());
        for (f, (finding, &label)) in labels.findings.iter().zip(labels.row(film)).enumerate() {
            let probability = f64::from(probabilities[row * k + f]);
            rows.push(FindingPredictionRow {
                path: path.clone(),
                patient: patient.clone(),
                finding: finding.clone(),
                label: label_name(label).into(),
                probability,
                called: probability >= thresholds[f],
            });
        }
    }
    rows
}

/// How `predictions.parquet` writes a table's label.
fn label_name(label: FindingLabel) -> &'static str {
    match label {
        FindingLabel::Positive => "positive",
        FindingLabel::Negative => "negative",
        FindingLabel::Uncertain => "uncertain",
        FindingLabel::Missing => "missing",
    }
}
