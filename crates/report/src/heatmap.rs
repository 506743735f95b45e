//! A confusion matrix as a heatmap with counts: rows are true classes, columns predictions,
//! shaded by the row fraction (so classes of different sizes compare) in a single-hue ramp that
//! reads in grayscale.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::canvas::{DrawResult, Figure};
use crate::colormap::{ColourBar, BLUES};
use crate::grid_results::RunResults;
use crate::order::first_seen;
use crate::style::{font, text};

/// A confusion-matrix figure.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfusionHeatmap {
    /// Title.
    pub title: String,
    /// Class names, in matrix order.
    pub classes: Vec<String>,
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<i64>>,
}

impl ConfusionHeatmap {
    /// The test confusion matrix of `run`, or `None` for a failed run.
    pub fn of(run: &RunResults) -> Option<Self> {
        if run.confusion.is_empty() {
            return None;
        }
        let classes = first_seen(run.confusion.iter().map(|row| row.true_class.clone()));
        let n = classes.len();
        let index = |c: &str| classes.iter().position(|k| k == c);
        let mut counts = vec![vec![0i64; n]; n];
        for row in &run.confusion {
            if let (Some(t), Some(p)) = (index(&row.true_class), index(&row.predicted_class)) {
                counts[t][p] += row.count;
            }
        }
        Some(Self {
            title: format!("Test confusion matrix: {}", run.summary.run_id),
            classes,
            counts,
        })
    }
}

impl Figure for ConfusionHeatmap {
    fn size(&self) -> (u32, u32) {
        let n = self.classes.len() as u32;
        let side = (n * 130).clamp(420, 1100);
        (side + 300, side + 190)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let n = self.classes.len() as i32;
        let area = area
            .margin(10, 0, 0, 0)
            .titled(&self.title, text(font::TITLE))?;
        let (width, height) = area.dim_in_pixel();
        let (main, footer) = area.split_vertically(height - 34);
        let (plot, bar) = main.split_horizontally(width - 120);
        draw_colour_bar(&bar)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(16)
            .x_label_area_size(70)
            .y_label_area_size(170)
            .build_cartesian_2d((0..n - 1).into_segmented(), (0..n - 1).into_segmented())?;
        // Row 0 (the first true class) at the top: y category k shows true class n-1-k.
        let classes = &self.classes;
        let x_name = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => classes.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        };
        let y_name = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => classes
                .get((n - 1 - *i) as usize)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n as usize)
            .y_labels(n as usize)
            .x_label_formatter(&x_name)
            .y_label_formatter(&y_name)
            .x_desc("predicted class")
            .y_desc("true class")
            .axis_desc_style(text(font::LABEL))
            .label_style(text(font::TICK))
            .draw()?;
        for (t, row) in self.counts.iter().enumerate() {
            let total: i64 = row.iter().sum();
            for (p, &count) in row.iter().enumerate() {
                let frac = if total > 0 {
                    count as f64 / total as f64
                } else {
                    0.0
                };
                let y = n - 1 - t as i32;
                let x = p as i32;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                    ],
                    BLUES.color(frac as f32).filled(),
                )))?;
                let color = if frac > 0.5 { WHITE } else { BLACK };
                let style = text(font::LABEL)
                    .color(&color)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart.draw_series(std::iter::once(Text::new(
                    count.to_string(),
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    style,
                )))?;
            }
        }
        let note = "cells: image counts; shade: fraction of the true class's images";
        footer.draw_text(
            note,
            &text(font::TICK).color(&RGBColor(70, 70, 70)),
            (20, 6),
        )?;
        Ok(())
    }
}

/// The legend of the shading: a vertical ramp from 0% to 100% of the true class's images.
fn draw_colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    let (_, height) = area.dim_in_pixel();
    let (left, top) = (14, 70);
    let bar = ColourBar {
        map: &BLUES,
        ticks: &[(0.0, "0%"), (0.5, "50%"), (1.0, "100%")],
    };
    bar.draw(area, (left, top), (26, height.saturating_sub(156)))?;
    area.draw_text("share of", &text(font::TICK), (left - 6, top - 34))?;
    area.draw_text("true class", &text(font::TICK), (left - 6, top - 18))?;
    Ok(())
}
