//! How a series looks. Colours are Okabe-Ito (colour-blind safe) at different lightness, and
//! every series also has its own marker and line pattern, so figures survive grayscale printing.

use plotters::coord::CoordTranslate;
use plotters::element::{Circle, EmptyElement, Polygon, Rectangle};
use plotters::prelude::*;

use crate::canvas::{register_font, DrawResult, FAMILY};

/// A marker shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Filled circle.
    Circle,
    /// Filled triangle.
    Triangle,
    /// Filled square.
    Square,
    /// Filled diamond.
    Diamond,
    /// Hollow circle.
    Ring,
}

/// Colour, marker and line pattern of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesStyle {
    /// Line and marker colour.
    pub color: RGBColor,
    /// Marker drawn at each point.
    pub marker: Marker,
    /// Dashed line (reference lines, validation curves).
    pub dashed: bool,
}

/// Black, dashed, hollow markers: the CNN reference and training curves.
pub const REFERENCE: SeriesStyle = SeriesStyle {
    color: RGBColor(0, 0, 0),
    marker: Marker::Ring,
    dashed: true,
};

const PALETTE: [SeriesStyle; 5] = [
    SeriesStyle {
        color: RGBColor(0, 114, 178),
        marker: Marker::Circle,
        dashed: false,
    },
    SeriesStyle {
        color: RGBColor(213, 94, 0),
        marker: Marker::Triangle,
        dashed: false,
    },
    SeriesStyle {
        color: RGBColor(0, 158, 115),
        marker: Marker::Square,
        dashed: true,
    },
    SeriesStyle {
        color: RGBColor(204, 121, 167),
        marker: Marker::Diamond,
        dashed: false,
    },
    SeriesStyle {
        color: RGBColor(86, 180, 233),
        marker: Marker::Circle,
        dashed: true,
    },
];

/// The `index`-th non-reference style (cycles).
pub fn series_style(index: usize) -> SeriesStyle {
    PALETTE[index % PALETTE.len()]
}

/// Font sizes, in pixels, chosen to read at 100% zoom on a 900 px wide figure.
pub mod font {
    /// Figure title.
    pub const TITLE: u32 = 24;
    /// Axis titles and legend.
    pub const LABEL: u32 = 18;
    /// Tick labels and cell text.
    pub const TICK: u32 = 15;
}

/// A text style in the embedded font (registered on first use).
pub fn text(size: u32) -> TextStyle<'static> {
    register_font();
    (FAMILY, size).into_font().color(&BLACK)
}

/// Draws the marker of `style` at `at` (in `area`'s coordinates; e.g. a chart's plotting area).
pub fn draw_marker<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    style: &SeriesStyle,
    at: CT::From,
    size: i32,
) -> DrawResult<DB>
where
    CT::From: Clone,
{
    let fill = style.color.filled();
    let base = EmptyElement::at(at);
    match style.marker {
        Marker::Circle => area.draw(&(base + Circle::new((0, 0), size, fill))),
        Marker::Ring => area.draw(&(base + Circle::new((0, 0), size, style.color.stroke_width(2)))),
        Marker::Triangle => area.draw(
            &(base
                + Polygon::new(
                    vec![(0, -size - 1), (size + 1, size), (-size - 1, size)],
                    fill,
                )),
        ),
        Marker::Square => area.draw(&(base + Rectangle::new([(-size, -size), (size, size)], fill))),
        Marker::Diamond => area.draw(
            &(base
                + Polygon::new(
                    vec![(0, -size - 2), (size + 2, 0), (0, size + 2), (-size - 2, 0)],
                    fill,
                )),
        ),
    }
}
