//! Colour maps, a value in [0, 1] to a colour, and the colour bar that is a map's legend.
//!
//! Every map interpolates linearly between evenly spaced stops, so a map is its table of stops.
//! Two are used: [`INFERNO`] for Grad-CAM heatmaps over films and [`BLUES`] for the shares of a
//! confusion matrix.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontResult;

use crate::canvas::DrawResult;
use crate::style::{font, text};

/// A colour map: colours at evenly spaced values from 0 to 1 (at least two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColourMap {
    stops: &'static [[u8; 3]],
}

/// matplotlib's `inferno` at 0.0, 0.1, ..., 1.0 (its table, rounded to 8 bits): perceptually
/// uniform, readable in gray print, dark at 0 so weak evidence does not draw the eye.
pub const INFERNO: ColourMap = ColourMap {
    stops: &[
        [0, 0, 4],
        [22, 11, 57],
        [66, 10, 104],
        [106, 23, 110],
        [147, 38, 103],
        [188, 55, 84],
        [221, 81, 58],
        [243, 120, 25],
        [252, 165, 10],
        [246, 215, 70],
        [252, 255, 164],
    ],
};

/// White to dark blue (the ends of ColorBrewer's `Blues`): a single hue that reads in grayscale.
pub const BLUES: ColourMap = ColourMap {
    stops: &[[247, 251, 255], [8, 48, 107]],
};

impl ColourMap {
    /// The colour of `v` in [0, 1] (clamped; NaN maps to 0).
    pub fn at(&self, v: f32) -> [u8; 3] {
        let stops = self.stops;
        let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        let x = v * (stops.len() - 1) as f32;
        let lo = (x.floor() as usize).min(stops.len() - 2);
        let f = x - lo as f32;
        let (a, b) = (stops[lo], stops[lo + 1]);
        std::array::from_fn(|c| (f32::from(a[c]) * (1.0 - f) + f32::from(b[c]) * f).round() as u8)
    }

    /// [`ColourMap::at`] as a plotters colour.
    pub fn color(&self, v: f32) -> RGBColor {
        let [r, g, b] = self.at(v);
        RGBColor(r, g, b)
    }
}

/// A map's legend: a vertical ramp, 1 at the top and 0 at the bottom, framed, with ticks and
/// labels on its right.
#[derive(Debug, Clone, Copy)]
pub struct ColourBar<'a> {
    /// The map shown.
    pub map: &'a ColourMap,
    /// Labelled values in [0, 1], e.g. `(0.5, "50%")`.
    pub ticks: &'a [(f32, &'a str)],
}

/// From the ramp's right edge to its labels, in pixels: a frame pixel, a 5-pixel tick, a gap.
const LABEL_OFFSET: i32 = 9;

impl ColourBar<'_> {
    /// Width of the labels right of the ramp (offset and widest label), in pixels, so a figure
    /// can leave room for them.
    pub fn label_width(&self) -> FontResult<u32> {
        let style = text(font::TICK);
        let mut widest = 0;
        for (_, label) in self.ticks {
            widest = widest.max(style.font.box_size(label)?.0);
        }
        Ok(LABEL_OFFSET as u32 + widest)
    }

    /// Draws the ramp with its top-left pixel at `at` and `size` pixels (width, height), the
    /// frame just outside it and the labels right of it. The ramp's top row is exactly the map
    /// at 1, its bottom row the map at 0.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        at: (i32, i32),
        size: (u32, u32),
    ) -> DrawResult<DB> {
        let (left, top) = at;
        let (right, bottom) = (left + size.0 as i32, top + size.1 as i32);
        let span = size.1.saturating_sub(1) as f32;
        for row in 0..size.1 {
            let y = top + row as i32;
            let colour = self.map.color(1.0 - row as f32 / span.max(1.0));
            area.draw(&Rectangle::new(
                [(left, y), (right, y + 1)],
                colour.filled(),
            ))?;
        }
        area.draw(&Rectangle::new(
            [(left - 1, top - 1), (right, bottom)],
            BLACK.stroke_width(1),
        ))?;
        let label = text(font::TICK).pos(Pos::new(HPos::Left, VPos::Center));
        for &(value, name) in self.ticks {
            let y = bottom - 1 - (value.clamp(0.0, 1.0) * span).round() as i32;
            area.draw(&PathElement::new(vec![(right, y), (right + 5, y)], BLACK))?;
            area.draw_text(name, &label, (right + LABEL_OFFSET, y))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_the_table_ends_and_brightness_rises() {
        let stops = INFERNO.stops;
        assert_eq!(INFERNO.at(0.0), stops[0]);
        assert_eq!(INFERNO.at(1.0), stops[10]);
        assert_eq!(INFERNO.at(-3.0), stops[0]);
        assert_eq!(INFERNO.at(f32::NAN), stops[0]);
        let luma = |c: [u8; 3]| {
            0.299 * f32::from(c[0]) + 0.587 * f32::from(c[1]) + 0.114 * f32::from(c[2])
        };
        let lumas = |map: ColourMap| -> Vec<f32> {
            (0..=100).map(|i| luma(map.at(i as f32 / 100.0))).collect()
        };
        assert!(
            lumas(INFERNO).windows(2).all(|w| w[1] >= w[0] - 0.5),
            "inferno brightens"
        );
        assert!(
            lumas(BLUES).windows(2).all(|w| w[1] <= w[0] + 0.5),
            "blues darkens"
        );
    }

    #[test]
    fn two_stops_interpolate_linearly() {
        // Halfway between (247, 251, 255) and (8, 48, 107): 127.5, 149.5, 181, halves
        // rounded away from zero.
        assert_eq!(BLUES.at(0.5), [128, 150, 181]);
        assert_eq!(BLUES.at(2.0), [8, 48, 107]);
    }
}
