//! What `report.html` draws from: every run's numbers, curves and tables as one JSON document
//! embedded in the page ([`PageData`]). The page's script builds the runs table, the run
//! details and the charts from it; nothing is fetched, so the page opens offline from disk.
//!
//! Every column of a run's `summary.parquet` row goes in as read (its `summary` object), so
//! the page shows the numbers of the file, not a copy computed again. Curves are thinned
//! (ROC curves to at most [`ROC_POINTS`] points) and rounded to 3 decimals: enough for a chart,
//! and a page of a hundred multi-label runs stays a few megabytes.

use std::collections::BTreeMap;

use cxr_results::table::Table;
use cxr_results::RunSummary;
use polars::prelude::AnyValue;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::finding_scores::FindingScores;
use crate::grid_results::RunResults;
use crate::input::ReportInput;
use crate::markdown::Document;
use crate::order::first_seen;
use crate::run_figures::RunFigures;

/// Most points of a ROC curve on the page; longer curves keep every n-th point and both ends.
pub const ROC_POINTS: usize = 51;

/// The summary columns the page leaves out of a run's numbers: shown apart (the axes as
/// columns of their own, the config as its TOML file).
const SUMMARY_SHOWN_APART: [&str; 2] = ["axes", "config_json"];

/// The page's data.
#[derive(Debug, Clone, Serialize)]
pub struct PageData {
    /// The grid's name.
    pub grid: String,
    /// The settings the runs' axes name, in first-seen order (`model.name`, `seed`, ...).
    pub axes: Vec<String>,
    /// The columns of `summary.parquet` in a run's `summary`, in file order.
    pub summary_columns: Vec<String>,
    /// Every finished run, in summary order.
    pub runs: Vec<RunData>,
    /// Planned runs not finished yet.
    pub missing: Vec<String>,
}

/// One run on the page.
#[derive(Debug, Clone, Serialize)]
pub struct RunData {
    /// Run id.
    pub id: String,
    /// Its line in the figures (the model, with its weights source when the grid varies it).
    pub line: String,
    /// The axes other than model, freeze, seed and weights, as one label (`""` when none).
    pub facet: String,
    /// `network` (trained by epochs), `head` (a classic head on frozen features) or
    /// `autoencoder`.
    pub kind: &'static str,
    /// A logit per finding.
    pub multilabel: bool,
    /// Its value on each axis, by setting.
    pub axes: BTreeMap<String, String>,
    /// Every column of its `summary.parquet` row but the axes and the config, by column.
    pub summary: Map<String, Value>,
    /// Per epoch (absent for a run without a history).
    pub history: Option<History>,
    /// Test metrics per class.
    pub per_class: Vec<PerClass>,
    /// Test confusion matrix (absent for multi-label and failed runs).
    pub confusion: Option<Confusion>,
    /// Test reliability diagram (absent without test probabilities).
    pub reliability: Option<Reliability>,
    /// Per finding, a multi-label run's test AUROC and ROC curve.
    pub findings: Vec<FindingCurve>,
    /// Its `config.toml` as written (empty when absent).
    pub config: String,
    /// Its run folder's files, relative to the report folder (`../runs/<id>/<file>`).
    pub files: Vec<String>,
    /// The report's figures of it: `(what, path relative to the report folder)`.
    pub figures: Vec<(String, String)>,
}

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

impl PageData {
    /// The data of every run `input` read, with the figures `document` draws.
    pub fn of(input: &ReportInput, document: &Document<'_>) -> Self {
        let results = &input.results;
        let axes = first_seen(
            results
                .runs
                .iter()
                .flat_map(|r| r.summary.axes.iter().map(|a| a.setting.clone())),
        );
        let summary_columns = RunSummary::COLUMNS
            .iter()
            .filter(|c| !SUMMARY_SHOWN_APART.contains(c))
            .map(|c| c.to_string())
            .collect();
        let runs = results
            .runs
            .iter()
            .zip(&document.run_figures)
            .map(|(run, figures)| RunData::of(run, figures, input))
            .collect();
        Self {
            grid: results.name.clone(),
            axes,
            summary_columns,
            runs,
            missing: results.missing.iter().map(|m| m.run_id.clone()).collect(),
        }
    }

    /// The JSON, safe inside a `<script>` element: every `<` is escaped, so no `</script>`
    /// in a run's config or error can end the element early.
    pub fn to_script_json(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        json.replace('<', "\\u003c")
    }
}

impl RunData {
    fn of(run: &RunResults, figures: &RunFigures<'_>, input: &ReportInput) -> Self {
        let s = &run.summary;
        let id = s.run_id.clone();
        let kind = if run.is_autoencoder() {
            "autoencoder"
        } else if run.is_classic_head() {
            "head"
        } else {
            "network"
        };
        Self {
            line: run.line.clone(),
            facet: run.facet.clone(),
            kind,
            multilabel: run.is_multilabel(),
            axes: s
                .axes
                .iter()
                .map(|a| (a.setting.clone(), a.value.clone()))
                .collect(),
            summary: summary_values(s),
            history: History::of(run),
            per_class: run
                .per_class
                .iter()
                .map(|c| PerClass {
                    class: c.class.clone(),
                    precision: c.precision,
                    recall: c.recall,
                    f1: c.f1,
                    support: c.support,
                })
                .collect(),
            confusion: Confusion::of(run, input.classes.get(&id)),
            reliability: figures.reliability.as_ref().map(|d| Reliability {
                bins: d
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
                ece: d.calibration.ece,
                temperature: d.temperature,
            }),
            findings: finding_curves(run),
            config: input.configs.get(&id).cloned().unwrap_or_default(),
            files: input
                .files
                .get(&id)
                .into_iter()
                .flatten()
                .map(|f| format!("../runs/{id}/{f}"))
                .collect(),
            figures: figures
                .kinds()
                .into_iter()
                .map(|k| (k.link_text().to_string(), k.file(&id)))
                .collect(),
            id,
        }
    }
}

impl History {
    fn of(run: &RunResults) -> Option<Self> {
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
    fn of(run: &RunResults, classes: Option<&Vec<String>>) -> Option<Self> {
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
fn finding_curves(run: &RunResults) -> Vec<FindingCurve> {
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
fn finite(x: f64) -> Value {
    if x.is_finite() {
        Value::from(x)
    } else {
        Value::Null
    }
}

/// Every column of `summary`'s row as written to `summary.parquet` (read back through the
/// table's own column encoding), but the axes and the config.
fn summary_values(summary: &RunSummary) -> Map<String, Value> {
    let mut values = Map::new();
    let Ok(frame) = RunSummary::to_frame(std::slice::from_ref(summary)) else {
        return values;
    };
    for column in frame.columns() {
        let name = column.name().to_string();
        if SUMMARY_SHOWN_APART.contains(&name.as_str()) {
            continue;
        }
        let value = match column.get(0) {
            Ok(AnyValue::Null) | Err(_) => Value::Null,
            Ok(AnyValue::Boolean(b)) => Value::from(b),
            Ok(AnyValue::Int64(i)) => Value::from(i),
            Ok(AnyValue::Int32(i)) => Value::from(i),
            Ok(AnyValue::UInt32(i)) => Value::from(i),
            Ok(AnyValue::UInt64(i)) => Value::from(i),
            Ok(AnyValue::Float64(x)) => finite(x),
            Ok(AnyValue::Float32(x)) => finite(f64::from(x)),
            Ok(AnyValue::String(s)) => Value::from(s),
            Ok(AnyValue::StringOwned(s)) => Value::from(s.as_str()),
            Ok(other) => Value::from(other.to_string()),
        };
        values.insert(name, value);
    }
    values
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

    #[test]
    fn summary_values_hold_every_column_but_the_axes_and_the_config() {
        let summary = RunSummary {
            run_id: "cnn-f0-s0-x".into(),
            test_micro_recall: Some(0.625),
            test_ece: None,
            trainable_params: 42,
            config_json: "{}".into(),
            ..RunSummary::default()
        };
        let values = summary_values(&summary);
        assert_eq!(values.len(), RunSummary::COLUMNS.len() - 2);
        assert_eq!(values["run_id"], "cnn-f0-s0-x");
        assert_eq!(values["test_micro_recall"], 0.625);
        assert_eq!(values["test_ece"], Value::Null);
        assert_eq!(values["trainable_params"], 42);
        assert!(!values.contains_key("config_json"));
    }

    #[test]
    fn script_json_cannot_close_its_element() -> serde_json::Result<()> {
        let data = PageData {
            grid: "</script><script>alert(1)</script>".into(),
            axes: vec![],
            summary_columns: vec![],
            runs: vec![],
            missing: vec![],
        };
        let json = data.to_script_json();
        assert!(!json.contains("</"), "{json}");
        let back: Value = serde_json::from_str(&json)?;
        assert_eq!(back["grid"], "</script><script>alert(1)</script>");
        Ok(())
    }
}
