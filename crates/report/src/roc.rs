//! ROC curves of several model lines, one panel per finding: sensitivity against 1 -
//! specificity from each line's test probabilities ([`cxr_metrics::roc_curve`]), the chance
//! diagonal dotted, each line's AUROC printed in its colour in the panel's corner, one legend
//! strip above all panels. A grid of small panels rather than one figure per finding: the
//! findings are read side by side, and the lines keep one look across them.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::canvas::{DrawResult, Figure};
use crate::legend::Legend;
use crate::style::{font, text, SeriesStyle};

/// Side of one panel, pixels.
const PANEL: u32 = 320;
/// Most panels per row.
const COLUMNS: usize = 4;
/// Figure width below which the legend wraps as if the figure were this wide.
const MIN_WIDTH: u32 = 900;

/// One line's curve on one finding.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// `(false positive rate, true positive rate)` points, from `(0, 0)` to `(1, 1)`.
    pub points: Vec<(f64, f64)>,
    /// The area under them.
    pub auroc: f64,
}

/// One finding's panel: a curve per line (`None` where the line's run has no curve for it: no
/// positive or no negative test film).
#[derive(Debug, Clone, PartialEq)]
pub struct RocPanel {
    /// The finding.
    pub finding: String,
    /// The curves, in the order of [`RocPanels::lines`].
    pub curves: Vec<Option<RocCurve>>,
}

/// The whole figure.
#[derive(Debug, Clone, PartialEq)]
pub struct RocPanels {
    /// Title above the legend.
    pub title: String,
    /// Each line's legend text and look.
    pub lines: Vec<(String, SeriesStyle)>,
    /// One panel per finding.
    pub panels: Vec<RocPanel>,
    /// Small print under the legend.
    pub note: Option<String>,
}

impl RocPanels {
    fn columns(&self) -> usize {
        self.panels.len().clamp(1, COLUMNS)
    }

    fn rows(&self) -> usize {
        self.panels.len().div_ceil(self.columns()).max(1)
    }

    fn legend(&self) -> Legend<'_> {
        Legend {
            entries: self
                .lines
                .iter()
                .map(|(name, style)| (Some(*style), name.as_str()))
                .collect(),
            note: self.note.as_deref(),
        }
    }

    fn header(&self) -> u32 {
        let width = (PANEL * self.columns() as u32).max(MIN_WIDTH);
        // Title (with its top margin) and the legend strip.
        46 + self.legend().height(width)
    }
}

impl Figure for RocPanels {
    fn size(&self) -> (u32, u32) {
        let width = (PANEL * self.columns() as u32).max(MIN_WIDTH);
        (width, self.header() + PANEL * self.rows() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = area
            .margin(10, 0, 0, 0)
            .titled(&self.title, text(font::TITLE))?;
        let (width, _) = area.dim_in_pixel();
        let legend = self.legend();
        let (strip, grid) = area.split_vertically(legend.height(width));
        legend.draw(&strip)?;
        let (grid, _) = grid.split_horizontally(PANEL * self.columns() as u32);
        let cells = grid.split_evenly((self.rows(), self.columns()));
        for (panel, cell) in self.panels.iter().zip(&cells) {
            self.draw_panel(panel, cell)?;
        }
        Ok(())
    }
}

impl RocPanels {
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &RocPanel,
        area: &DrawingArea<DB, Shift>,
    ) -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.finding, text(font::LABEL))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(225, 225, 225))
            .x_labels(3)
            .y_labels(3)
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .x_desc("1 - specificity")
            .y_desc("sensitivity")
            .axis_desc_style(text(font::TICK))
            .label_style(text(font::TICK))
            .draw()?;
        chart.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            2,
            5,
            RGBColor(150, 150, 150).stroke_width(1),
        ))?;
        let mut labels = Vec::new();
        for ((_, style), curve) in self.lines.iter().zip(&panel.curves) {
            let Some(curve) = curve else {
                continue;
            };
            let line = style.color.stroke_width(2);
            if style.dashed {
                chart.draw_series(DashedLineSeries::new(curve.points.clone(), 7, 4, line))?;
            } else {
                chart.draw_series(LineSeries::new(curve.points.clone(), line))?;
            }
            labels.push((format!("{:.3}", curve.auroc), style.color));
        }
        let plot = chart.plotting_area();
        if labels.is_empty() {
            let style = text(font::TICK).pos(Pos::new(HPos::Center, VPos::Center));
            plot.draw(&Text::new(
                "no positive and negative film",
                (0.5, 0.5),
                style,
            ))?;
        }
        // AUROCs stacked in the lower right, where a useful curve never runs.
        for (i, (label, color)) in labels.iter().rev().enumerate() {
            let style = text(font::TICK)
                .color(color)
                .pos(Pos::new(HPos::Right, VPos::Bottom));
            plot.draw(&Text::new(
                label.clone(),
                (0.97, 0.03 + 0.09 * i as f64),
                style,
            ))?;
        }
        Ok(())
    }
}
