//! A grid's results as read from its Parquet files: finished runs with their per-run tables,
//! the planned runs that have not finished, and finished runs the current plan no longer has.

use std::collections::HashSet;
use std::path::Path;

use cxr_results::axes::{is_always_shown, label};
use cxr_results::{
    read_confusion, read_finding_predictions, read_history, read_per_class, read_per_finding,
    read_plan, read_predictions, read_summary, status, AxisValue, ConfusionRow,
    FindingPredictionRow, GridDir, HistoryRow, PerClassRow, PerFindingRow, PlanRow, PredictionRow,
    RunSummary,
};

use crate::error::{ReportError, Result};
use crate::order::first_seen;

/// Everything the report and the check read.
#[derive(Debug, Clone)]
pub struct GridResults {
    /// Grid name (the folder name).
    pub name: String,
    /// Finished runs (ok or failed) of the current plan, in summary order.
    pub runs: Vec<RunResults>,
    /// Planned runs without a finished run folder.
    pub missing: Vec<PlanRow>,
    /// Finished runs that the last sweep's plan does not list (an edited grid); ignored.
    pub stale: Vec<String>,
}

/// One finished run.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// Its summary row.
    pub summary: RunSummary,
    /// The values of grid axes other than model, freeze, seed and weights (`""` when there
    /// are none): runs of different facets get different figures.
    pub facet: String,
    /// The line it belongs to in a figure: the model, with its weights source when the grid
    /// varies it (`resnet18 (supervised-tb)`, `resnet18 (random init)`).
    pub line: String,
    /// Per-epoch history (empty for a failed run).
    pub history: Vec<HistoryRow>,
    /// Test metrics per class (empty for a failed run).
    pub per_class: Vec<PerClassRow>,
    /// Test confusion matrix, long format (empty for a failed run).
    pub confusion: Vec<ConfusionRow>,
    /// Every test image's prediction (`predictions.parquet`); `None` for a run without the
    /// file (an autoencoder run, or one trained before it existed), and for a multi-label run,
    /// whose file has another schema ([`RunResults::finding_predictions`]).
    pub predictions: Option<Vec<PredictionRow>>,
    /// A multi-label run's test AUROC, threshold and counts per finding (`per_finding.parquet`);
    /// empty for other runs and a failed one.
    pub per_finding: Vec<PerFindingRow>,
    /// A multi-label run's probability of every (test film, finding) (its `predictions.parquet`);
    /// `None` for other runs and a multi-label run without the file.
    pub finding_predictions: Option<Vec<FindingPredictionRow>>,
}

impl RunResults {
    /// A run with `summary`, its facet and line derived from the summary's axes, and no
    /// per-run tables yet.
    pub fn of_summary(summary: RunSummary) -> Self {
        Self {
            facet: facet_of(&summary.axes),
            line: line_of(&summary.model, &summary.axes),
            summary,
            history: Vec::new(),
            per_class: Vec::new(),
            confusion: Vec::new(),
            predictions: None,
            per_finding: Vec::new(),
            finding_predictions: None,
        }
    }

    /// Trained and evaluated.
    pub fn ok(&self) -> bool {
        self.summary.status == status::OK
    }

    /// An autoencoder (pretraining) run: no recall, listed apart from the classifiers and left
    /// out of their figures, comparison and regression check.
    pub fn is_autoencoder(&self) -> bool {
        self.summary.is_autoencoder()
    }

    /// An ok classifier run, with a linear or a classic head: what the regression check is
    /// about.
    pub fn ok_classifier(&self) -> bool {
        self.ok() && !self.is_autoencoder()
    }

    /// A classic head fitted on frozen features: no epochs, so it stays out of the per-epoch
    /// figures and the freeze comparison, and gets the classic-heads table instead.
    pub fn is_classic_head(&self) -> bool {
        self.summary.is_classic_head()
    }

    /// An ok run trained by epochs (a linear head): what the grid figures and the freeze
    /// comparison are about.
    pub fn ok_trained(&self) -> bool {
        self.ok_classifier() && !self.is_classic_head()
    }

    /// A run with a logit per finding (`task = "multilabel"`): mean AUROC is its headline,
    /// `per_finding.parquet` its per-class table; it has no confusion matrix.
    pub fn is_multilabel(&self) -> bool {
        self.summary.is_multilabel()
    }

    /// An ok multi-label run, a network or one-vs-rest classic heads: what the per-finding
    /// table, the ROC curves, the mean-AUROC figure, the DeLong comparisons and the table of
    /// split by patient against split by film are about.
    pub fn ok_multilabel(&self) -> bool {
        self.ok_classifier() && self.is_multilabel()
    }

    /// An ok classifier run that scored its test probabilities (a test calibration error) and
    /// kept its predictions: what its reliability diagram is drawn from.
    pub fn has_test_probabilities(&self) -> bool {
        self.ok_classifier() && self.summary.test_ece.is_some() && self.predictions.is_some()
    }
}

impl GridResults {
    /// Reads `<results>/<grid>/`: `summary.parquet`, `plan.parquet` when present, and each
    /// finished run's history, per-class, confusion and predictions tables (a multi-label
    /// run's `per_finding.parquet` and per-finding predictions instead).
    pub fn load(dir: &Path) -> Result<Self> {
        let grid = GridDir::at(dir);
        if !dir.is_dir() {
            return Err(ReportError::NoResults {
                path: dir.to_path_buf(),
                why: "no such folder: pass a grid's results folder, e.g. results/demo".into(),
            });
        }
        let summary_path = grid.summary_path();
        if !summary_path.is_file() {
            return Err(ReportError::NoResults {
                path: dir.to_path_buf(),
                why: "no summary.parquet: run `cxr sweep <GRID.toml>` first, or pass a grid's \
                      folder (results/<grid>), not the results root"
                    .into(),
            });
        }
        let rows = read_summary(&summary_path)?;
        let plan = if grid.plan_path().is_file() {
            Some(read_plan(&grid.plan_path())?)
        } else {
            None
        };
        let planned: Option<HashSet<&str>> = plan
            .as_ref()
            .map(|p| p.iter().map(|r| r.run_id.as_str()).collect());
        let mut runs = Vec::new();
        let mut stale = Vec::new();
        for summary in rows {
            if planned
                .as_ref()
                .is_some_and(|p| !p.contains(summary.run_id.as_str()))
            {
                stale.push(summary.run_id);
                continue;
            }
            runs.push(read_run(&grid, summary)?);
        }
        if runs.is_empty() {
            return Err(ReportError::NoResults {
                path: dir.to_path_buf(),
                why: "no finished runs yet: run `cxr sweep <GRID.toml>` and report again".into(),
            });
        }
        let finished: HashSet<&str> = runs.iter().map(|r| r.summary.run_id.as_str()).collect();
        let missing = plan
            .unwrap_or_default()
            .into_iter()
            .filter(|p| !finished.contains(p.run_id.as_str()))
            .collect();
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self {
            name,
            runs,
            missing,
            stale,
        })
    }

    /// The distinct facets of the classifier runs, in first-seen order.
    pub fn facets(&self) -> Vec<String> {
        first_seen(
            self.runs
                .iter()
                .filter(|run| !run.is_autoencoder() && !run.is_classic_head())
                .map(|run| run.facet.clone()),
        )
    }
}

fn read_run(grid: &GridDir, summary: RunSummary) -> Result<RunResults> {
    let dir = grid.run(&summary.run_id);
    let optional = |path: std::path::PathBuf| path.is_file().then_some(path);
    let mut run = RunResults::of_summary(summary);
    if let Some(p) = optional(dir.history_path()) {
        run.history = read_history(&p)?;
    }
    if let Some(p) = optional(dir.per_class_path()) {
        run.per_class = read_per_class(&p)?;
    }
    if let Some(p) = optional(dir.confusion_path()) {
        run.confusion = read_confusion(&p)?;
    }
    if let Some(p) = optional(dir.per_finding_path()) {
        run.per_finding = read_per_finding(&p)?;
    }
    // One file name, two schemas: a multi-label run writes a row per (film, finding).
    if let Some(p) = optional(dir.predictions_path()) {
        if run.is_multilabel() {
            run.finding_predictions = Some(read_finding_predictions(&p)?);
        } else {
            run.predictions = Some(read_predictions(&p)?);
        }
    }
    Ok(run)
}

/// The objective's setting. It is no facet: it already sets autoencoder runs apart from the
/// classifiers (their own table), so a grid varying it keeps one set of classifier figures.
const OBJECTIVE_SETTING: &str = "train.objective";

/// The axes other than model, freeze, seed, weights and the objective, as one label, e.g.
/// `train.lr=0.001`.
pub fn facet_of(axes: &[AxisValue]) -> String {
    label(
        axes.iter()
            .filter(|a| !is_always_shown(&a.setting) && a.setting != OBJECTIVE_SETTING),
    )
}

/// How a line names random init when the grid varies the weights.
pub const RANDOM_INIT: &str = "random init";

/// The figure line of a `model` run with `axes`: the model, followed by its weights source
/// (or `random init`) when the grid varies it.
pub fn line_of(model: &str, axes: &[AxisValue]) -> String {
    match axes.iter().find(|a| a.setting == "model.weights") {
        Some(w) if w.value == "random" || w.value == "none" => format!("{model} ({RANDOM_INIT})"),
        Some(w) => format!("{model} ({})", w.value),
        None => model.to_string(),
    }
}

/// The axes that tell apart runs of one model, freeze and seed (every other axis, weights
/// included), as one label: a baseline's run key.
pub fn identity_of(axes: &[AxisValue]) -> String {
    label(
        axes.iter()
            .filter(|a| !matches!(a.setting.as_str(), "model.name" | "model.freeze" | "seed")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facet_drops_the_axes_every_figure_shows() {
        use cxr_results::axes::parse_label as axes;
        assert_eq!(
            facet_of(&axes("model.name=cnn, model.freeze=0, seed=1")),
            ""
        );
        assert_eq!(
            facet_of(&axes("model.name=cnn, train.lr=0.001, data.image_size=64")),
            "train.lr=0.001, data.image_size=64"
        );
        assert_eq!(facet_of(&axes("")), "");
        assert_eq!(
            facet_of(&axes("train.objective=autoencoder, train.lr=0.01")),
            "train.lr=0.01"
        );
    }
}
