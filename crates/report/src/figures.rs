//! The grid's four figures (one line per model against the number of frozen stages, the CNN as
//! a horizontal reference) and each run's learning curves.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::canvas::{DrawResult, Figure};
use crate::grid_results::RunResults;
use crate::line_chart::{LineChart, Point, Scale, Series, Shape};
use crate::order::first_seen;
use crate::stats::{ConfigStats, Spread};
use crate::style::{series_style, SeriesStyle, REFERENCE};

impl Figure for LineChart {
    fn size(&self) -> (u32, u32) {
        (900, 600)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        LineChart::draw(self, area)
    }
}

/// Which number a grid figure plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Mean training time per epoch.
    EpochTime,
    /// Trainable parameters (log scale).
    TrainableParams,
    /// Test micro-recall with its interval.
    MicroRecall,
    /// Epoch of the kept weights.
    EpochsToConverge,
    /// A multi-label configuration's test mean AUROC with its interval.
    MeanAuroc,
}

impl Metric {
    /// All four, in the reference study's order.
    pub const ALL: [Metric; 4] = [
        Metric::EpochTime,
        Metric::TrainableParams,
        Metric::MicroRecall,
        Metric::EpochsToConverge,
    ];

    /// The figures of a facet: [`Metric::ALL`], with the mean AUROC before micro-recall when
    /// the facet's runs are multi-label (their headline; their recall is at thresholds chosen
    /// on validation).
    pub fn of_facet(multilabel: bool) -> Vec<Metric> {
        let mut all = Metric::ALL.to_vec();
        if multilabel {
            all.insert(2, Metric::MeanAuroc);
        }
        all
    }

    /// File stem of the figure.
    pub fn stem(self) -> &'static str {
        match self {
            Metric::EpochTime => "time_per_epoch",
            Metric::TrainableParams => "trainable_params",
            Metric::MicroRecall => "test_micro_recall",
            Metric::EpochsToConverge => "epochs_to_converge",
            Metric::MeanAuroc => "test_mean_auroc",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Metric::EpochTime => "Training time per epoch",
            Metric::TrainableParams => "Trainable parameters",
            Metric::MicroRecall => "Test micro-recall",
            Metric::EpochsToConverge => "Epochs to converge",
            Metric::MeanAuroc => "Test mean AUROC over findings",
        }
    }

    fn y_label(self) -> &'static str {
        match self {
            Metric::EpochTime => "time per epoch (s)",
            Metric::TrainableParams => "trainable parameters (count, log scale)",
            Metric::MicroRecall => "test micro-recall (fraction)",
            Metric::EpochsToConverge => "epoch of the kept weights (epochs)",
            Metric::MeanAuroc => "test mean AUROC (area, 0.5 = chance)",
        }
    }

    fn value(self, s: &ConfigStats) -> f64 {
        match self {
            Metric::EpochTime => s.epoch_time_s,
            Metric::TrainableParams => s.trainable_params as f64,
            Metric::MicroRecall => s.micro,
            Metric::EpochsToConverge => s.epochs_to_converge,
            Metric::MeanAuroc => s.mean_auroc.unwrap_or(f64::NAN),
        }
    }

    fn interval(self, s: &ConfigStats) -> Option<(f64, f64)> {
        match self {
            Metric::MicroRecall => s.micro_low.zip(s.micro_high),
            Metric::MeanAuroc => s.mean_auroc_low.zip(s.mean_auroc_high),
            _ => None,
        }
    }
}

/// Each figure line of `stats` (in first-seen order) with its look: the reference (the CNN)
/// black and dashed, the others through the palette in turn. Every figure of a facet draws a
/// line the same way.
pub fn line_styles(stats: &[ConfigStats]) -> Vec<(&str, SeriesStyle)> {
    let mut index = 0;
    first_seen(stats.iter().map(|s| s.line.as_str()))
        .into_iter()
        .map(|line| {
            let reference = stats.iter().any(|s| s.line == line && s.is_reference());
            let style = if reference {
                REFERENCE
            } else {
                index += 1;
                series_style(index - 1)
            };
            (line, style)
        })
        .collect()
}

/// The figure of `metric` for the configurations of one facet (`facet` names it in the title).
pub fn grid_figure(metric: Metric, stats: &[ConfigStats], facet: &str) -> LineChart {
    let max_freeze = stats
        .iter()
        .filter(|s| !s.is_reference())
        .map(|s| s.freeze)
        .max()
        .unwrap_or(0)
        .max(1);
    let styles = line_styles(stats);
    let mut series = Vec::new();
    for (line, style) in styles {
        let rows: Vec<&ConfigStats> = stats.iter().filter(|s| s.line == line).collect();
        let s = rows[0];
        if s.is_reference() {
            series.push(Series {
                name: format!("{line} (no stages: reference)"),
                style,
                shape: Shape::Reference {
                    y: metric.value(s),
                    band: metric.interval(s),
                },
            });
        } else {
            series.push(Series {
                name: line.to_string(),
                style,
                shape: Shape::Line(
                    rows.iter()
                        .map(|s| Point {
                            x: s.freeze,
                            y: metric.value(s),
                            interval: metric.interval(s),
                        })
                        .collect(),
                ),
            });
        }
    }
    let title = if facet.is_empty() {
        metric.title().to_string()
    } else {
        format!("{} ({facet})", metric.title())
    };
    let note = match metric {
        Metric::MicroRecall => Some(interval_note(stats, metric, "test images")),
        Metric::MeanAuroc => Some(interval_note(stats, metric, "patients")),
        _ => None,
    };
    LineChart {
        title,
        x_label: "frozen residual stages (count)".into(),
        y_label: metric.y_label().into(),
        x_range: (0, max_freeze),
        scale: if metric == Metric::TrainableParams {
            Scale::Log10
        } else {
            Scale::Linear
        },
        y_range: None,
        series,
        mark: None,
        note,
    }
}

/// What the bars of `metric` mean; `unit` is what a single run's bootstrap resampled.
fn interval_note(stats: &[ConfigStats], metric: Metric, unit: &str) -> String {
    let seeds = stats
        .iter()
        .any(|s| matches!(s.spread, Spread::Seeds | Spread::Folds));
    let boot = stats
        .iter()
        .any(|s| s.runs == 1 && metric.interval(s).is_some());
    // Cross-validation folds are pooled as repeated measurements, as seeds are.
    let over = if stats.iter().any(|s| s.spread == Spread::Folds) {
        "folds and seeds"
    } else {
        "seeds"
    };
    match (seeds, boot) {
        (true, true) => {
            format!("bars: mean +/- std over {over}; single-seed points: 95% bootstrap over {unit}")
        }
        (true, false) => format!("bars: mean +/- std over {over}"),
        (false, true) => {
            format!("bars (dotted band for the reference): 95% bootstrap interval over {unit}")
        }
        (false, false) => "no intervals recorded".into(),
    }
}

/// A run's learning curves: losses on the left, validation recall on the right (with the
/// validation mean AUROC for a multi-label run), the kept epoch marked on both. An autoencoder
/// run has its reconstruction loss only.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCurves {
    /// Train and validation loss per epoch.
    pub loss: LineChart,
    /// Validation micro- and macro-recall per epoch, and a multi-label run's mean AUROC
    /// (`None` for an autoencoder run).
    pub recall: Option<LineChart>,
}

impl RunCurves {
    /// The curves of `run`, or `None` when it has no history (a failed run).
    pub fn of(run: &RunResults) -> Option<Self> {
        let h = &run.history;
        if h.is_empty() {
            return None;
        }
        let last = h.iter().map(|r| r.epoch).max().unwrap_or(1);
        let kept = h.iter().find(|r| r.kept).map(|r| r.epoch);
        let line = |values: &dyn Fn(&cxr_results::HistoryRow) -> f64| -> Shape {
            Shape::Line(
                h.iter()
                    .map(|r| Point {
                        x: r.epoch,
                        y: values(r),
                        interval: None,
                    })
                    .collect(),
            )
        };
        let mark = kept.map(|k| (k, format!("kept epoch ({k})")));
        let id = &run.summary.run_id;
        let chart = |title: String, y_label: &str, series: Vec<Series>| LineChart {
            title,
            x_label: "epoch".into(),
            y_label: y_label.into(),
            x_range: (1, last),
            scale: Scale::Linear,
            y_range: None,
            series,
            mark: mark.clone(),
            note: None,
        };
        let (loss_title, loss_label) = if run.is_autoencoder() {
            (
                format!("Reconstruction loss: {id}"),
                "mean squared error (normalised pixels, log scale)",
            )
        } else if run.is_multilabel() {
            (
                format!("Loss: {id}"),
                "mean binary cross-entropy per label (nats)",
            )
        } else {
            (format!("Loss: {id}"), "mean cross-entropy (nats)")
        };
        let recall = (!run.is_autoencoder()).then(|| {
            let mut series = Vec::new();
            let mut title = format!("Validation recall: {id}");
            if run.is_multilabel() {
                // The headline of a multi-label run, and what early stopping follows by default.
                series.push(Series {
                    name: "mean AUROC".into(),
                    style: REFERENCE,
                    shape: line(&|r| r.val_mean_auroc.unwrap_or(f64::NAN)),
                });
                title = format!("Validation mean AUROC and recall: {id}");
            }
            series.push(Series {
                name: "micro-recall".into(),
                style: series_style(0),
                shape: line(&|r| r.val_micro_recall),
            });
            series.push(Series {
                name: "macro-recall".into(),
                style: series_style(1),
                shape: line(&|r| r.val_macro_recall),
            });
            let y_label = if run.is_multilabel() {
                "validation AUROC and recall (fraction)"
            } else {
                "validation recall (fraction)"
            };
            chart(title, y_label, series)
        });
        // Reconstruction errors shrink by orders of magnitude (and an early validation error,
        // taken with BatchNorm running statistics that have barely moved, can be far above the
        // rest): a log scale keeps the whole curve readable.
        let loss_scale = if run.is_autoencoder() {
            Scale::Log10
        } else {
            Scale::Linear
        };
        Some(Self {
            loss: LineChart {
                scale: loss_scale,
                ..chart(
                    loss_title,
                    loss_label,
                    vec![
                        Series {
                            name: "train loss".into(),
                            style: REFERENCE,
                            shape: line(&|r| r.train_loss),
                        },
                        Series {
                            name: "validation loss".into(),
                            style: series_style(0),
                            shape: line(&|r| r.val_loss),
                        },
                    ],
                )
            },
            recall,
        })
    }
}

impl Figure for RunCurves {
    fn size(&self) -> (u32, u32) {
        match self.recall {
            Some(_) => (1500, 560),
            None => (750, 560),
        }
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        match &self.recall {
            Some(recall) => {
                let (left, right) = area.split_horizontally(750);
                self.loss.draw(&left)?;
                recall.draw(&right)
            }
            None => self.loss.draw(area),
        }
    }
}
