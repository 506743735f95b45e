//! Each run's own figures (`report/runs/<run-id>/`): learning curves, confusion heatmap,
//! reliability diagram and an autoencoder's reconstructions, each with its kind, and the
//! "Per-run figures" section of `report.md` that links them.

use std::fmt::Write as _;
use std::path::PathBuf;

use cxr_results::{GridDir, ReportFigure};

use crate::canvas::save;
use crate::error::{ReportError, Result};
use crate::figures::RunCurves;
use crate::grid_results::RunResults;
use crate::heatmap::ConfusionHeatmap;
use crate::input::ReportInput;
use crate::reliability::ReliabilityDiagram;

/// What a run's figure shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFigureKind {
    /// Loss and validation recall per epoch ([`RunCurves`]).
    Curves,
    /// The test confusion matrix ([`ConfusionHeatmap`]).
    Confusion,
    /// Test confidence against accuracy ([`ReliabilityDiagram`]).
    Reliability,
    /// An autoencoder's reconstructions, copied from its run folder.
    Reconstructions,
}

impl RunFigureKind {
    /// Run `id`'s figure of this kind, as the results layout names it.
    pub fn figure(self, id: &str) -> ReportFigure<'_> {
        match self {
            Self::Curves => ReportFigure::Curves(id),
            Self::Confusion => ReportFigure::Confusion(id),
            Self::Reliability => ReportFigure::Reliability(id),
            Self::Reconstructions => ReportFigure::Reconstructions(id),
        }
    }

    /// How `report.md` names the link.
    pub fn link_text(self) -> &'static str {
        match self {
            Self::Curves => "learning curves",
            Self::Confusion => "confusion matrix",
            Self::Reliability => "reliability diagram",
            Self::Reconstructions => "reconstructions",
        }
    }

    /// The PNG of run `id`, relative to the report folder: `runs/<id>/<kind>.png`.
    pub fn file(self, id: &str) -> String {
        self.figure(id).png()
    }
}

/// One run's figures, computed from what the report read.
#[derive(Debug, Clone)]
pub struct RunFigures<'a> {
    /// The run.
    pub run_id: String,
    /// Its learning curves (`None` without a history: a failed run).
    pub curves: Option<RunCurves>,
    /// Its confusion heatmap (`None` without a confusion table).
    pub confusion: Option<ConfusionHeatmap>,
    /// Its reliability diagram (`None` without test probabilities and their class order).
    pub reliability: Option<ReliabilityDiagram>,
    /// An autoencoder's `reconstructions.png`, as read.
    pub reconstructions: Option<&'a [u8]>,
}

impl<'a> RunFigures<'a> {
    /// The figures of `run`.
    pub fn of(run: &RunResults, input: &'a ReportInput) -> Self {
        let id = &run.summary.run_id;
        Self {
            run_id: id.clone(),
            curves: RunCurves::of(run),
            confusion: ConfusionHeatmap::of(run),
            reliability: reliability_of(run, input.classes.get(id)),
            reconstructions: input.reconstructions.get(id).map(Vec::as_slice),
        }
    }

    /// The kinds it has, in the order they are drawn and linked.
    pub fn kinds(&self) -> Vec<RunFigureKind> {
        [
            (self.curves.is_some(), RunFigureKind::Curves),
            (self.confusion.is_some(), RunFigureKind::Confusion),
            (self.reliability.is_some(), RunFigureKind::Reliability),
            (
                self.reconstructions.is_some(),
                RunFigureKind::Reconstructions,
            ),
        ]
        .into_iter()
        .filter_map(|(has, kind)| has.then_some(kind))
        .collect()
    }

    /// Writes them into the grid's report folder (`runs/<id>/<kind>.{png,svg}`; the
    /// reconstructions as PNG only). Returns the written paths.
    pub fn draw(&self, grid: &GridDir) -> Result<Vec<PathBuf>> {
        let stem = |kind: RunFigureKind| grid.report_figure(&kind.figure(&self.run_id));
        let mut written = Vec::new();
        if let Some(curves) = &self.curves {
            written.extend(save(curves, &stem(RunFigureKind::Curves))?);
        }
        if let Some(heatmap) = &self.confusion {
            written.extend(save(heatmap, &stem(RunFigureKind::Confusion))?);
        }
        if let Some(diagram) = &self.reliability {
            written.extend(save(diagram, &stem(RunFigureKind::Reliability))?);
        }
        if let Some(bytes) = self.reconstructions {
            // Copied, not linked: the report folder stays whole when moved or archived.
            let target = grid
                .report_dir()
                .join(RunFigureKind::Reconstructions.file(&self.run_id));
            if let Some(folder) = target.parent() {
                std::fs::create_dir_all(folder).map_err(ReportError::io(folder))?;
            }
            std::fs::write(&target, bytes).map_err(ReportError::io(&target))?;
            written.push(target);
        }
        Ok(written)
    }
}

/// The reliability diagram of a run's test predictions, when it has them
/// ([`RunResults::has_test_probabilities`]) and its class order (`classes`, from its
/// `preprocessing.json`).
fn reliability_of(run: &RunResults, classes: Option<&Vec<String>>) -> Option<ReliabilityDiagram> {
    if !run.has_test_probabilities() {
        return None;
    }
    ReliabilityDiagram::of_predictions(
        format!("Test reliability: {}", run.summary.run_id),
        run.predictions.as_deref()?,
        classes?,
        run.summary.temperature,
    )
}

/// The "Per-run figures" section: a line per run with figures, linking each.
pub fn render_section(md: &mut String, runs: &[RunFigures<'_>]) {
    let _ = writeln!(md, "## Per-run figures\n");
    for run in runs {
        let kinds = run.kinds();
        if kinds.is_empty() {
            continue;
        }
        let links: Vec<String> = kinds
            .iter()
            .map(|kind| format!("[{}]({})", kind.link_text(), kind.file(&run.run_id)))
            .collect();
        let _ = writeln!(md, "- `{}`: {}", run.run_id, links.join(", "));
    }
}
