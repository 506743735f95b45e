//! What `report.html` draws from: every run's numbers, curves and tables as one JSON document
//! embedded in the page ([`PageData`]). The page's script builds the runs table, the run
//! details and the charts from it; nothing is fetched, so the page opens offline from disk.
//!
//! Every column of a run's `summary.parquet` row goes in as read (its `summary` object), so
//! the page shows the numbers of the file, not a copy computed again. A run's curves and tables
//! are [`crate::html_run_parts`].

use std::collections::BTreeMap;

use cxr_results::table::Table;
use cxr_results::RunSummary;
use polars::prelude::AnyValue;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::grid_results::RunResults;
use crate::html_run_parts::{
    finding_curves, finite, Confusion, FindingCurve, History, PerClass, Reliability,
};
use crate::input::ReportInput;
use crate::markdown::Document;
use crate::order::first_seen;
use crate::run_figures::RunFigures;

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
            reliability: figures.reliability.as_ref().map(Reliability::of),
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
