//! An external evaluation as rows of the evaluation table (`cxr evaluate --out`); the table's
//! columns, writer and reader are `cxr-results`' ([`cxr_results::evaluation`]).

use std::path::Path;

use cxr_results::{ConfusionRow, MetricRow};

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
