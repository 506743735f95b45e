//! A reliability diagram: how often a model is right against how sure it was. Test images are
//! binned by confidence (the top class probability, 15 equal-width bins); each bin's bar is its
//! accuracy, its outline reaches the bin's mean confidence (the gap the expected calibration
//! error averages), and the diagonal is perfect calibration. A strip below shows how many
//! images fell in each bin, since a bar of three images says little.

use plotters::coord::Shift;
use plotters::prelude::*;

use cxr_metrics::{calibration, Calibration, DEFAULT_BINS};
use cxr_results::PredictionRow;

use crate::canvas::{DrawResult, Figure};
use crate::style::{font, series_style, text};

/// A reliability-diagram figure.
#[derive(Debug, Clone, PartialEq)]
pub struct ReliabilityDiagram {
    /// Title.
    pub title: String,
    /// The bins and the expected calibration error.
    pub calibration: Calibration,
    /// Images binned.
    pub images: usize,
    /// The temperature the probabilities were scaled by, when calibrated.
    pub temperature: Option<f64>,
}

impl ReliabilityDiagram {
    /// The diagram of `probabilities` (`truth.len() x classes`, row-major) against `truth`;
    /// `None` without images or with mismatched lengths.
    pub fn new(
        title: impl Into<String>,
        probabilities: &[f32],
        truth: &[u32],
        classes: usize,
        temperature: Option<f64>,
    ) -> Option<Self> {
        Some(Self {
            title: title.into(),
            calibration: calibration(probabilities, truth, classes, DEFAULT_BINS)?,
            images: truth.len(),
            temperature,
        })
    }

    /// The diagram of a run's `predictions.parquet` rows, whose probabilities are over
    /// `classes` (the run's class order); `None` when the rows carry no probabilities (a
    /// classic head) or name a class outside `classes`.
    pub fn of_predictions(
        title: impl Into<String>,
        rows: &[PredictionRow],
        classes: &[String],
        temperature: Option<f64>,
    ) -> Option<Self> {
        let mut probabilities = Vec::with_capacity(rows.len() * classes.len());
        let mut truth = Vec::with_capacity(rows.len());
        for row in rows {
            let p = row.probabilities.as_ref()?;
            if p.len() != classes.len() {
                return None;
            }
            probabilities.extend_from_slice(p);
            truth.push(classes.iter().position(|c| *c == row.true_class)? as u32);
        }
        Self::new(title, &probabilities, &truth, classes.len(), temperature)
    }
}

impl Figure for ReliabilityDiagram {
    fn size(&self) -> (u32, u32) {
        (760, 820)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = area
            .margin(10, 0, 0, 0)
            .titled(&self.title, text(font::TITLE))?;
        let (_, height) = area.dim_in_pixel();
        let (top, bottom) = area.split_vertically(height * 3 / 4);
        let bar = series_style(0).color;
        let gap = series_style(1).color;
        let mut chart = ChartBuilder::on(&top)
            .margin(12)
            .x_label_area_size(10)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(215, 215, 215))
            .y_desc("accuracy")
            .axis_desc_style(text(font::LABEL))
            .label_style(text(font::TICK))
            .x_label_formatter(&|_| String::new())
            .draw()?;
        let bins = &self.calibration.bins;
        chart.draw_series(bins.iter().filter(|b| b.count > 0).map(|b| {
            Rectangle::new([(b.low, 0.0), (b.high, b.accuracy)], bar.mix(0.75).filled())
        }))?;
        chart.draw_series(bins.iter().filter(|b| b.count > 0).map(|b| {
            let (lo, hi) = if b.accuracy < b.confidence {
                (b.accuracy, b.confidence)
            } else {
                (b.confidence, b.accuracy)
            };
            Rectangle::new([(b.low, lo), (b.high, hi)], gap.stroke_width(2))
        }))?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (1.0, 1.0)],
            BLACK.stroke_width(1),
        )))?;
        let mut note = format!(
            "ECE {:.3} over {} test images, {} bins",
            self.calibration.ece,
            self.images,
            bins.len()
        );
        if let Some(t) = self.temperature {
            note.push_str(&format!(" (temperature {t:.2})"));
        }
        let lines = [
            note,
            "bars: accuracy; outline: gap to mean confidence; diagonal: calibrated".to_string(),
        ];
        for (i, line) in lines.iter().enumerate() {
            top.draw_text(
                line,
                &text(font::TICK).color(&RGBColor(70, 70, 70)),
                (96, 26 + 20 * i as i32),
            )?;
        }

        let most = bins.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
        let mut strip = ChartBuilder::on(&bottom)
            .margin(12)
            .x_label_area_size(52)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, 0.0..most)?;
        strip
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(215, 215, 215))
            .x_desc("confidence (top class probability)")
            .y_desc("images")
            .y_labels(3)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style(text(font::LABEL))
            .label_style(text(font::TICK))
            .draw()?;
        strip.draw_series(bins.iter().filter(|b| b.count > 0).map(|b| {
            Rectangle::new(
                [(b.low, 0.0), (b.high, b.count as f64)],
                RGBColor(120, 120, 120).filled(),
            )
        }))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::save;

    fn row(truth: &str, p: Option<Vec<f32>>) -> PredictionRow {
        PredictionRow {
            path: format!("{truth}/x.png"),
            true_class: truth.into(),
            predicted_class: truth.into(),
            probabilities: p,
        }
    }

    #[test]
    fn diagram_of_predictions_bins_by_confidence_and_draws(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let classes = vec!["a".to_string(), "b".to_string()];
        // Confidence 0.9 on all four, right on three: one bin, accuracy 0.75, ECE 0.15.
        let rows = vec![
            row("a", Some(vec![0.9, 0.1])),
            row("a", Some(vec![0.9, 0.1])),
            row("b", Some(vec![0.1, 0.9])),
            row("b", Some(vec![0.9, 0.1])),
        ];
        let d = ReliabilityDiagram::of_predictions("t", &rows, &classes, Some(1.5))
            .ok_or("no diagram")?;
        assert!(
            (d.calibration.ece - 0.15).abs() < 1e-6,
            "{}",
            d.calibration.ece
        );
        assert_eq!(d.images, 4);
        let full: Vec<_> = d.calibration.bins.iter().filter(|b| b.count > 0).collect();
        assert_eq!(full.len(), 1);
        assert!((full[0].accuracy - 0.75).abs() < 1e-12);
        let dir = tempfile::tempdir()?;
        let written = save(&d, &dir.path().join("reliability"))?;
        assert_eq!(written.len(), 2);
        let svg = std::fs::read_to_string(dir.path().join("reliability.svg"))?;
        assert!(
            svg.contains("ECE 0.150 over 4 test images"),
            "svg lacks the note"
        );
        assert!(svg.contains("temperature 1.50"));

        // No probabilities (a classic head) or an unknown class: no diagram.
        assert!(
            ReliabilityDiagram::of_predictions("t", &[row("a", None)], &classes, None).is_none()
        );
        assert!(ReliabilityDiagram::of_predictions(
            "t",
            &[row("c", Some(vec![0.5, 0.5]))],
            &classes,
            None
        )
        .is_none());
        Ok(())
    }
}
