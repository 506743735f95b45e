//! Autoencoder (pretraining) runs: they have no recall, so they stay out of the classifier
//! figures, comparison and tables, and get their own section of `report.md` with their
//! reconstruction errors and reconstructions.

use std::fmt::Write as _;

use crate::grid_results::{GridResults, RunResults};
use crate::numbers::{opt, seconds};
use crate::run_figures::RunFigureKind;

/// One autoencoder run's line.
#[derive(Debug, Clone)]
pub struct PretrainingRow<'a> {
    /// The run.
    pub run: &'a RunResults,
    /// Validation loss (reconstruction error) at the kept epoch.
    pub kept_val_loss: Option<f64>,
    /// Whether the report shows its reconstructions (it wrote `reconstructions.png`).
    pub reconstructions: bool,
}

/// The pretraining section, computed: one row per autoencoder run, in run order.
#[derive(Debug, Clone)]
pub struct PretrainingSection<'a> {
    /// The autoencoder runs (empty when the grid has none).
    pub rows: Vec<PretrainingRow<'a>>,
}

impl<'a> PretrainingSection<'a> {
    /// The autoencoder runs of `results`; `has_reconstructions` says which run ids have
    /// their reconstructions shown.
    pub fn of(results: &'a GridResults, has_reconstructions: impl Fn(&str) -> bool) -> Self {
        let rows = results
            .runs
            .iter()
            .filter(|r| r.is_autoencoder())
            .map(|run| PretrainingRow {
                run,
                kept_val_loss: run.history.iter().find(|h| h.kept).map(|h| h.val_loss),
                reconstructions: has_reconstructions(&run.summary.run_id),
            })
            .collect();
        Self { rows }
    }

    /// Appends the section to `md`: the reconstruction errors in a table, then each run's
    /// reconstructions figure. Nothing without autoencoder runs.
    pub fn render(&self, md: &mut String) {
        if self.rows.is_empty() {
            return;
        }
        let _ = writeln!(
            md,
            "## Pretraining (autoencoder)\n\n\
             These runs trained the model's backbone to reconstruct its input image, reading no \
             labels; their kept weights (`runs/<run-id>/model.safetensors` in the grid folder: the \
             encoder under the classifier's names, plus the decoder) are meant to initialise \
             classifiers. The error is the mean squared difference per pixel between the \
             reconstruction and the normalised input (lower is better). They have no recall, so the \
             figures, comparison and tables above leave them out.\n"
        );
        let facets = self.rows.iter().any(|r| !r.run.facet.is_empty());
        let mut header = String::from("| run | model | seed |");
        if facets {
            header.push_str(" other axes |");
        }
        header.push_str(
            " status | test reconstruction MSE | validation MSE (kept epoch) | epochs to converge | \
             epochs run | s/epoch | trainable params |",
        );
        let _ = writeln!(md, "{header}");
        let _ = writeln!(md, "|{}", "---|".repeat(header.matches('|').count() - 1));
        for row in &self.rows {
            let (r, s) = (row.run, &row.run.summary);
            let mut line = format!("| `{}` | {} | {} |", s.run_id, s.model, s.seed);
            if facets {
                let _ = write!(line, " {} |", r.facet);
            }
            let _ = writeln!(
                md,
                "{line} {} | {} | {} | {} | {} | {} | {} |",
                s.status,
                opt(s.test_loss, 4),
                opt(row.kept_val_loss, 4),
                s.epochs_to_converge.map_or("-".into(), |e| e.to_string()),
                s.epochs_run.map_or("-".into(), |e| e.to_string()),
                s.epoch_time_s.map_or_else(|| "-".into(), seconds),
                s.trainable_params
            );
        }
        md.push('\n');
        for row in self.rows.iter().filter(|r| r.reconstructions) {
            let id = &row.run.summary.run_id;
            let file = RunFigureKind::Reconstructions.file(id);
            let _ = writeln!(
                md,
                "![Reconstructions: {id}]({file})\n\n*`{id}`: the first test images (top) and \
                 their reconstructions by the kept weights (bottom), un-normalised to gray.*\n"
            );
        }
    }
}
