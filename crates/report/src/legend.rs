//! The legend strip drawn above a figure's plot (so it never hides data): a sample line with
//! the series' marker and its name per entry, wrapping to new rows, and an optional line of
//! small print. Shared by the line charts and the ROC panels.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::canvas::DrawResult;
use crate::style::{draw_marker, font, text, SeriesStyle};

/// Left edge of the legend strip, aligned with the plot's y-axis labels.
const LEGEND_LEFT: i32 = 70;

/// A legend: its entries and a note.
#[derive(Debug, Clone, PartialEq)]
pub struct Legend<'a> {
    /// Each entry's style (`None`: a marked x value, drawn as a dotted vertical tick) and text.
    pub entries: Vec<(Option<SeriesStyle>, &'a str)>,
    /// A line of small print under the entries (e.g. what the error bars mean).
    pub note: Option<&'a str>,
}

impl Legend<'_> {
    fn entry_width(name: &str) -> u32 {
        // Sample line (44 px) + gap + text at ~0.58 em per character + spacing.
        44 + 8 + (name.chars().count() as f64 * font::LABEL as f64 * 0.58) as u32 + 26
    }

    /// Where each entry starts (its sample line's left end, centre height), wrapping to a new
    /// row of 28 px when the next entry would pass `width`.
    fn positions(&self, width: u32) -> Vec<(i32, i32)> {
        let (mut x, mut y) = (LEGEND_LEFT, 14i32);
        let mut positions = Vec::new();
        for (_, name) in &self.entries {
            let w = Self::entry_width(name) as i32;
            if x + w > width as i32 && x > LEGEND_LEFT {
                x = LEGEND_LEFT;
                y += 28;
            }
            positions.push((x, y));
            x += w;
        }
        positions
    }

    fn rows(&self, width: u32) -> usize {
        self.positions(width)
            .last()
            .map_or(1, |&(_, y)| (y - 14) as usize / 28 + 1)
    }

    /// The strip's height in pixels on a figure `width` wide.
    pub fn height(&self, width: u32) -> u32 {
        28 * self.rows(width) as u32 + if self.note.is_some() { 22 } else { 0 } + 6
    }

    /// Draws the legend into `area` (the strip, [`Legend::height`] high).
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (width, _) = area.dim_in_pixel();
        let positions = self.positions(width);
        for (&(style, name), &(x, y)) in self.entries.iter().zip(&positions) {
            match style {
                Some(style) => {
                    let line = style.color.stroke_width(if style.dashed { 2 } else { 3 });
                    if style.dashed {
                        area.draw(&PathElement::new(vec![(x, y), (x + 12, y)], line))?;
                        area.draw(&PathElement::new(vec![(x + 17, y), (x + 27, y)], line))?;
                        area.draw(&PathElement::new(vec![(x + 32, y), (x + 44, y)], line))?;
                    } else {
                        area.draw(&PathElement::new(vec![(x, y), (x + 44, y)], line))?;
                    }
                    draw_marker(area, &style, (x + 22, y), 5)?;
                }
                None => {
                    let gray = RGBColor(90, 90, 90).stroke_width(2);
                    area.draw(&PathElement::new(
                        vec![(x + 22, y - 9), (x + 22, y - 3)],
                        gray,
                    ))?;
                    area.draw(&PathElement::new(
                        vec![(x + 22, y + 3), (x + 22, y + 9)],
                        gray,
                    ))?;
                }
            }
            let label = text(font::LABEL).pos(Pos::new(HPos::Left, VPos::Center));
            area.draw_text(name, &label, (x + 52, y))?;
        }
        let y = positions.last().map_or(14, |&(_, y)| y);
        if let Some(note) = self.note {
            area.draw_text(
                note,
                &text(font::TICK).color(&RGBColor(70, 70, 70)),
                (LEGEND_LEFT, y + 18),
            )?;
        }
        Ok(())
    }
}
