//! The calibration section of `report.md`: the test-split expected calibration error of every
//! classifier run with probabilities and, for runs trained with `train.calibrate`, the
//! temperature, each linked to its reliability diagram ([`crate::reliability`]).

use std::fmt::Write as _;

use crate::grid_results::{GridResults, RunResults};
use crate::run_figures::RunFigureKind;

/// The calibration section, computed: the ok classifier runs with a test calibration error.
#[derive(Debug, Clone)]
pub struct CalibrationSection<'a> {
    /// The runs, in run order (empty when none scored probabilities).
    pub runs: Vec<&'a RunResults>,
}

impl<'a> CalibrationSection<'a> {
    /// The runs of `results` with a test calibration error.
    pub fn of(results: &'a GridResults) -> Self {
        let runs = results
            .runs
            .iter()
            .filter(|r| r.ok_classifier() && r.summary.test_ece.is_some())
            .collect();
        Self { runs }
    }

    /// Appends the section to `md`; nothing when no run has a calibration error.
    pub fn render(&self, md: &mut String) {
        if self.runs.is_empty() {
            return;
        }
        let _ = writeln!(
            md,
            "## Calibration\n\n\
             Expected calibration error (ECE, 15 confidence bins) of each run's test probabilities: \
             the image-weighted gap between how sure the model was and how often it was right. \
             Runs trained with `train.calibrate = true` report probabilities scaled by the \
             temperature fitted on their validation split. Reliability diagrams: \
             `runs/<run-id>/reliability.png`.\n"
        );
        let _ = writeln!(
            md,
            "| run | test micro-recall | test ECE | temperature | test ECE before scaling | diagram |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|");
        for r in &self.runs {
            let s = &r.summary;
            let id = &s.run_id;
            let diagram = RunFigureKind::Reliability.file(id);
            let _ = writeln!(
                md,
                "| `{id}` | {} | {} | {} | {} | [reliability]({diagram}) |",
                s.test_micro_recall
                    .map_or_else(|| "-".into(), |v| format!("{v:.3}")),
                s.test_ece.map_or_else(|| "-".into(), |v| format!("{v:.3}")),
                s.temperature
                    .map_or_else(|| "-".into(), |v| format!("{v:.2}")),
                s.test_ece_uncalibrated
                    .map_or_else(|| "-".into(), |v| format!("{v:.3}")),
            );
        }
        md.push('\n');
    }
}
