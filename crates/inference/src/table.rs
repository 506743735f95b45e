//! An external evaluation as rows of the evaluation table (`cxr evaluate --out`) and of a
//! predictions table (`cxr evaluate --predictions`); the tables' columns, writers and readers
//! are `cxr-results`' ([`cxr_results::evaluation`], [`cxr_results::predictions`]).

use std::path::Path;

use cxr_results::{ConfusionRow, MetricRow, PredictionRow};

use crate::error::Result;
use crate::evaluate::ExternalEvaluation;

/// The rows of `eval`, overall first, then per class, then the confusion matrix.
pub fn metric_rows(eval: &ExternalEvaluation) -> Vec<MetricRow> {
    let ci = eval.intervals;
    let mut rows = vec![
        MetricRow::overall("images", Some(eval.images() as f64)),
        MetricRow::overall("micro_recall", Some(eval.micro_recall())),
        MetricRow::overall("micro_recall_low", ci.map(|c| c.micro.low)),
        MetricRow::overall("micro_recall_high", ci.map(|c| c.micro.high)),
        MetricRow::overall("macro_recall", Some(eval.macro_recall())),
        MetricRow::overall("macro_recall_low", ci.map(|c| c.macro_.low)),
        MetricRow::overall("macro_recall_high", ci.map(|c| c.macro_.high)),
        MetricRow::overall("ece", eval.calibration.as_ref().map(|c| c.ece)),
        MetricRow::overall("temperature", eval.temperature),
    ];
    for ((class, m), auc) in eval.classes.iter().zip(eval.per_class()).zip(&eval.roc_auc) {
        rows.push(MetricRow::of_class("precision", class, Some(m.precision)));
        rows.push(MetricRow::of_class("recall", class, Some(m.recall)));
        rows.push(MetricRow::of_class("f1", class, Some(m.f1)));
        rows.push(MetricRow::of_class(
            "support",
            class,
            Some(m.support as f64),
        ));
        rows.push(MetricRow::of_class("roc_auc", class, *auc));
    }
    let matrix = &eval.evaluation.confusion.matrix;
    rows.extend(
        ConfusionRow::from_matrix(&eval.classes, matrix)
            .into_iter()
            .map(MetricRow::from),
    );
    rows
}

/// Writes `eval` to `path` as Parquet (atomically).
pub fn write_evaluation(path: &Path, eval: &ExternalEvaluation) -> Result<()> {
    let rows = metric_rows(eval);
    cxr_results::write_evaluation(path, &eval.run_id, &eval.data, &rows)?;
    Ok(())
}

/// One row per image of `eval`, as a run's `predictions.parquet` has them (path relative to
/// the dataset root, true and predicted class, probabilities in the model's class order).
pub fn prediction_rows(eval: &ExternalEvaluation) -> Vec<PredictionRow> {
    let e = &eval.evaluation;
    let classes = &eval.classes;
    eval.files
        .iter()
        .zip(e.labels.iter().zip(&e.predictions))
        .zip(e.probabilities.chunks_exact(classes.len().max(1)))
        .map(|((file, (&label, &predicted)), p)| PredictionRow {
            path: file.to_string_lossy().into_owned(),
            true_class: classes[label as usize].clone(),
            predicted_class: classes[predicted as usize].clone(),
            probabilities: Some(p.to_vec()),
        })
        .collect()
}

/// Writes `eval`'s per-image predictions to `path` in `predictions.parquet`'s format.
pub fn write_predictions(path: &Path, eval: &ExternalEvaluation) -> Result<()> {
    cxr_results::write_predictions(path, &eval.run_id, &prediction_rows(eval))?;
    Ok(())
}
