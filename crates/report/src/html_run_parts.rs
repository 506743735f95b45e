//! A run's history, per-class table, confusion matrix, reliability bins and per-finding ROC
//! curves as `report.html` draws them: parts of a run's [`crate::html_data::RunData`]. Curves
//! are thinned (ROC curves to at most [`ROC_POINTS`] points) and rounded to 3 decimals: enough
//! for a chart, and a page of a hundred multi-label runs stays a few megabytes.

use serde::Serialize;
use serde_json::Value;

use crate::finding_scores::FindingScores;
use crate::grid_results::RunResults;
use crate::order::first_seen;
use crate::reliability::ReliabilityDiagram;

/// Most points of a ROC curve on the page; longer curves keep every n-th point and both ends.
pub const ROC_POINTS: usize = 51;

/// A run's per-epoch history, column by column.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// 1-based epochs.
    pub epoch: Vec<i64>,
    /// Mean training loss.
    pub train_loss: Vec<f64>,
    /// Validation loss.
    pub val_loss: Vec<f64>,
    /// Validation micro-recall.
    pub val_micro_recall: Vec<f64>,
    /// Validation macro-recall.
    pub val_macro_recall: Vec<f64>,
    /// Validation mean AUROC of a multi-label run (`None` elsewhere).
    pub val_mean_auroc: Option<Vec<f64>>,
    /// The epoch whose weights were kept.
    pub kept: Option<i64>,
}

/// One class's test metrics.
#[derive(Debug, Clone, Serialize)]
pub struct PerClass {
    /// Class name.
    pub class: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Test images of the class.
    pub support: i64,
}

/// A confusion matrix: `counts[true][predicted]`.
#[derive(Debug, Clone, Serialize)]
pub struct Confusion {
    /// The classes, in the run's order.
    pub classes: Vec<String>,
    /// Counts, row per true class.
    pub counts: Vec<Vec<i64>>,
}

/// A reliability diagram: per confidence bin `[low, high, images, mean confidence, accuracy]`
/// (confidence and accuracy `null` for an empty bin).
#[derive(Debug, Clone, Serialize)]
pub struct Reliability {
    /// The bins, low to high confidence.
    pub bins: Vec<[Value; 5]>,
    /// Expected calibration error.
    pub ece: f64,
    /// The temperature the probabilities were scaled by, when calibrated.
    pub temperature: Option<f64>,
}

/// One finding of a multi-label run.
#[derive(Debug, Clone, Serialize)]
pub struct FindingCurve {
    /// The finding.
    pub finding: String,
    /// Test AUROC (`per_finding.parquet`).
    pub auroc: Option<f64>,
    /// Its 95% interval.
    pub auroc_low: Option<f64>,
    /// Upper bound.
    pub auroc_high: Option<f64>,
    /// Positive and negative test films.
    pub positives: i64,
    /// Negative test films.
    pub negatives: i64,
    /// `[false positive rate, true positive rate]` points from `(0, 0)` to `(1, 1)` (empty
    /// without both classes among the test films).
    pub roc: Vec<[f64; 2]>,
}
impl History {
    /// `run`'s history; `None` without one (a failed run, a classic head).
    pub(crate) fn of(run: &RunResults) -> Option<Self> {
        let h = &run.history;
        if h.is_empty() {
            return None;
        }
        let auroc: Option<Vec<f64>> = h.iter().map(|r| r.val_mean_auroc).collect();
        Some(Self {
            epoch: h.iter().map(|r| r.epoch).collect(),
            train_loss: h.iter().map(|r| r.train_loss).collect(),
            val_loss: h.iter().map(|r| r.val_loss).collect(),
            val_micro_recall: h.iter().map(|r| r.val_micro_recall).collect(),
            val_macro_recall: h.iter().map(|r| r.val_macro_recall).collect(),
            val_mean_auroc: auroc,
            kept: h.iter().find(|r| r.kept).map(|r| r.epoch),
        })
    }
}

impl Confusion {
    /// The matrix of `run`'s confusion rows, classes in the run's order (`classes`, from its
    /// `preprocessing.json`) or as first named.
    pub(crate) fn of(run: &RunResults, classes: Option<&Vec<String>>) -> Option<Self> {
        if run.confusion.is_empty() {
            return None;
        }
        let classes = classes.cloned().unwrap_or_else(|| {
            first_seen(
                run.confusion
                    .iter()
                    .flat_map(|c| [c.true_class.clone(), c.predicted_class.clone()]),
            )
        });
        let index = |name: &str| classes.iter().position(|c| c == name);
        let mut counts = vec![vec![0; classes.len()]; classes.len()];
        for row in &run.confusion {
            if let (Some(t), Some(p)) = (index(&row.true_class), index(&row.predicted_class)) {
                counts[t][p] += row.count;
            }
        }
        Some(Self { classes, counts })
    }
}

/// A multi-label run's findings: its `per_finding.parquet` rows, each with the ROC curve of
/// its test predictions.
pub(crate) fn finding_curves(run: &RunResults) -> Vec<FindingCurve> {
    let scores = FindingScores::of_runs(&[run]);
    run.per_finding
        .iter()
        .map(|row| {
            let roc = scores
                .as_ref()
                .and_then(|s| {
                    let k = s.findings.iter().position(|f| *f == row.finding)?;
                    let (scores, truths) = s.column(k);
                    Some(thin(&cxr_metrics::roc_curve(&scores, &truths)))
                })
                .unwrap_or_default();
            FindingCurve {
                finding: row.finding.clone(),
                auroc: row.test_auroc,
                auroc_low: row.test_auroc_low,
                auroc_high: row.test_auroc_high,
                positives: row.test_positives,
                negatives: row.test_negatives,
                roc,
            }
        })
        .collect()
}

/// At most [`ROC_POINTS`] (and the last) of `curve`'s `(fpr, tpr)` points, both ends kept, rounded.
fn thin(curve: &[(f64, f64, f64)]) -> Vec<[f64; 2]> {
    let step = curve.len().div_ceil(ROC_POINTS - 1).max(1);
    let mut points: Vec<[f64; 2]> = curve
        .iter()
        .step_by(step)
        .map(|&(x, y, _)| [round3(x), round3(y)])
        .collect();
    if let Some(&(x, y, _)) = curve.last() {
        if curve.len() > 1 && !(curve.len() - 1).is_multiple_of(step) {
            points.push([round3(x), round3(y)]);
        }
    }
    points
}

/// `x` to 3 decimals: a thousandth of a chart's side is below a pixel.
fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// `x` as JSON, `null` when NaN or infinite.
pub(crate) fn finite(x: f64) -> Value {
    if x.is_finite() {
        Value::from(x)
    } else {
        Value::Null
    }
}

impl Reliability {
    /// The bins of a run's reliability diagram.
    pub(crate) fn of(diagram: &ReliabilityDiagram) -> Self {
        Self {
            bins: diagram
                .calibration
                .bins
                .iter()
                .map(|b| {
                    [
                        Value::from(b.low),
                        Value::from(b.high),
                        Value::from(b.count),
                        finite(b.confidence),
                        finite(b.accuracy),
                    ]
                })
                .collect(),
            ece: diagram.calibration.ece,
            temperature: diagram.temperature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_both_ends_and_at_most_the_cap() {
        let curve: Vec<(f64, f64, f64)> = (0..=1000)
            .map(|i| (i as f64 / 1000.0, i as f64 / 1000.0, 0.0))
            .collect();
        let thin = thin(&curve);
        assert!(thin.len() <= ROC_POINTS + 1, "{}", thin.len());
        assert_eq!(thin[0], [0.0, 0.0]);
        assert_eq!(thin.last(), Some(&[1.0, 1.0]));
        let short = [(0.0, 0.0, 1.0), (0.5, 1.0, 0.5), (1.0, 1.0, 0.1)];
        assert_eq!(
            super::thin(&short),
            [[0.0, 0.0], [0.5, 1.0], [1.0, 1.0]],
            "a short curve is kept whole"
        );
    }
}
