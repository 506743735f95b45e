//! One line chart over an integer x axis (frozen stages, epochs): titled, with a legend strip
//! above the plot (so it never hides data; [`Legend`]), optional error bars, horizontal reference lines and
//! a marked x value. Used for the grid figures and each run's learning curves.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::canvas::DrawResult;
use crate::legend::Legend;
use crate::style::{draw_marker, font, text, SeriesStyle};

/// A point with an optional interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// x (integer category).
    pub x: i64,
    /// y.
    pub y: f64,
    /// Interval `(low, high)` drawn as an error bar.
    pub interval: Option<(f64, f64)>,
}

/// How a series is drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Points joined by a line.
    Line(Vec<Point>),
    /// A horizontal line across the whole x range at `y`, with an optional band.
    Reference {
        /// Height.
        y: f64,
        /// Band `(low, high)`, drawn as two dotted lines.
        band: Option<(f64, f64)>,
    },
}

/// One legend entry and what it draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Look.
    pub style: SeriesStyle,
    /// Data.
    pub shape: Shape,
}

/// y-axis scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// Base-10 logarithmic (all values must be positive).
    Log10,
}

/// A complete chart description.
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    /// Title above the legend.
    pub title: String,
    /// x-axis title, with unit.
    pub x_label: String,
    /// y-axis title, with unit.
    pub y_label: String,
    /// Smallest and largest x category shown.
    pub x_range: (i64, i64),
    /// y-axis scale.
    pub scale: Scale,
    /// Fixed y range (e.g. recall in [0, 1]); else fitted to the data.
    pub y_range: Option<(f64, f64)>,
    /// Series, drawn in order.
    pub series: Vec<Series>,
    /// An x value marked by a vertical dotted line, with its legend text.
    pub mark: Option<(i64, String)>,
    /// A line of small print under the legend (e.g. what the error bars mean).
    pub note: Option<String>,
}

impl LineChart {
    fn y_values(&self) -> Vec<f64> {
        let mut v = Vec::new();
        for s in &self.series {
            match &s.shape {
                Shape::Line(points) => {
                    for p in points {
                        v.push(p.y);
                        if let Some((lo, hi)) = p.interval {
                            v.extend([lo, hi]);
                        }
                    }
                }
                Shape::Reference { y, band } => {
                    v.push(*y);
                    if let Some((lo, hi)) = band {
                        v.extend([*lo, *hi]);
                    }
                }
            }
        }
        v.retain(|y| y.is_finite() && (self.scale == Scale::Linear || *y > 0.0));
        v
    }

    fn to_axis(&self, y: f64) -> f64 {
        match self.scale {
            Scale::Linear => y,
            Scale::Log10 => y.log10(),
        }
    }

    /// The y range on the axis (log10 units for a log scale).
    fn axis_range(&self) -> (f64, f64) {
        if let Some((lo, hi)) = self.y_range {
            return (self.to_axis(lo), self.to_axis(hi));
        }
        let ys: Vec<f64> = self.y_values().iter().map(|&y| self.to_axis(y)).collect();
        let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            return (0.0, 1.0);
        }
        match self.scale {
            Scale::Log10 => (lo.floor(), hi.ceil().max(lo.floor() + 1.0)),
            Scale::Linear => {
                let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.05).max(1e-3);
                let low = if lo >= 0.0 && lo - pad < 0.0 {
                    0.0
                } else {
                    lo - pad
                };
                (low, hi + pad)
            }
        }
    }

    /// Draws the chart into `area`.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = area
            .margin(10, 0, 0, 0)
            .titled(&self.title, text(font::TITLE))?;
        let (width, _) = area.dim_in_pixel();
        let legend = self.legend();
        let (strip, plot) = area.split_vertically(legend.height(width));
        legend.draw(&strip)?;

        let (x0, x1) = self.x_range;
        let (y0, y1) = self.axis_range();
        let scale = self.scale;
        let mut chart = ChartBuilder::on(&plot)
            .margin(12)
            .x_label_area_size(52)
            .y_label_area_size(78)
            .build_cartesian_2d((x0..x1).into_segmented(), y0..y1)?;
        let tick_font = text(font::TICK);
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(215, 215, 215))
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .axis_desc_style(text(font::LABEL))
            .label_style(tick_font)
            .x_labels(((x1 - x0 + 1) as usize).min(12))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(x) => x.to_string(),
                _ => String::new(),
            })
            .y_labels(if scale == Scale::Log10 {
                ((y1 - y0).round() as usize + 1).max(2)
            } else {
                8
            })
            .y_label_formatter(&|v| match scale {
                Scale::Linear => format_linear(*v),
                Scale::Log10 => format_count(10f64.powf(*v)),
            })
            .draw()?;

        let start = SegmentValue::Exact(x0);
        let end = SegmentValue::Exact(x1 + 1);
        if let Some((x, _)) = &self.mark {
            let at = SegmentValue::CenterOf(*x);
            chart.draw_series(DashedLineSeries::new(
                [(at.clone(), y0), (at, y1)],
                4,
                4,
                RGBColor(90, 90, 90).stroke_width(2),
            ))?;
        }
        for series in &self.series {
            let style = series.style;
            let line = style.color.stroke_width(if style.dashed { 2 } else { 3 });
            match &series.shape {
                Shape::Reference { y, band } => {
                    let y = self.to_axis(*y);
                    chart.draw_series(DashedLineSeries::new(
                        [(start.clone(), y), (end.clone(), y)],
                        10,
                        6,
                        line,
                    ))?;
                    if let Some((lo, hi)) = band {
                        for b in [*lo, *hi] {
                            let b = self.to_axis(b);
                            chart.draw_series(DashedLineSeries::new(
                                [(start.clone(), b), (end.clone(), b)],
                                2,
                                5,
                                style.color.stroke_width(1),
                            ))?;
                        }
                    }
                }
                Shape::Line(points) => {
                    let xy: Vec<(SegmentValue<i64>, f64)> = points
                        .iter()
                        .filter(|p| p.y.is_finite())
                        .map(|p| (SegmentValue::CenterOf(p.x), self.to_axis(p.y)))
                        .collect();
                    if style.dashed {
                        chart.draw_series(DashedLineSeries::new(xy.clone(), 9, 5, line))?;
                    } else {
                        chart.draw_series(LineSeries::new(xy.clone(), line))?;
                    }
                    for p in points {
                        if let Some((lo, hi)) = p.interval {
                            let at = SegmentValue::CenterOf(p.x);
                            let (lo, hi) = (self.to_axis(lo), self.to_axis(hi));
                            chart.draw_series(std::iter::once(PathElement::new(
                                vec![(at.clone(), lo), (at.clone(), hi)],
                                style.color.stroke_width(2),
                            )))?;
                            for cap in [lo, hi] {
                                chart.draw_series(std::iter::once(
                                    EmptyElement::at((at.clone(), cap))
                                        + PathElement::new(
                                            vec![(-7, 0), (7, 0)],
                                            style.color.stroke_width(2),
                                        ),
                                ))?;
                            }
                        }
                    }
                    for at in xy {
                        draw_marker(chart.plotting_area(), &style, at, 5)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The legend: each series, then the marked x value.
    fn legend(&self) -> Legend<'_> {
        let mut entries: Vec<(Option<SeriesStyle>, &str)> = self
            .series
            .iter()
            .map(|s| (Some(s.style), s.name.as_str()))
            .collect();
        if let Some((_, label)) = &self.mark {
            entries.push((None, label.as_str()));
        }
        Legend {
            entries,
            note: self.note.as_deref(),
        }
    }
}

/// Tick text for a linear axis: as few digits as the value needs.
fn format_linear(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Parameter counts as `2k`, `1.6M`; values below 1 with the decimals their first digit needs
/// (`0.01`), for log axes of small numbers.
pub fn format_count(v: f64) -> String {
    let a = v.abs();
    if a > 0.0 && a < 1.0 {
        // A log axis below 1 (reconstruction errors): enough decimals for the first digit.
        let digits = (-a.log10()).ceil() as usize;
        return format!("{v:.digits$}");
    }
    let (x, unit) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let digits = if x.fract().abs() < 1e-9 || x.abs() >= 100.0 {
        0
    } else {
        1
    };
    format!("{x:.digits$}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_like_people_write_them() {
        assert_eq!(format_count(1000.0), "1k");
        assert_eq!(format_count(0.01), "0.01");
        assert_eq!(format_count(0.1), "0.1");
        assert_eq!(format_count(1_606_916.0), "1.6M");
        assert_eq!(format_count(11_178_564.0), "11.2M");
        assert_eq!(format_count(100.0), "100");
    }
}
