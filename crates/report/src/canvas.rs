//! Writing a figure twice, as PNG and SVG, from one drawing function, with the embedded font;
//! and drawing in the same style over an image whose pixels were computed elsewhere.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{ReportError, Result};

/// DejaVu Sans (Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`), embedded so figures
/// render the same on a machine without system fonts.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name figures ask for.
pub const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Makes the embedded font available to plotters as [`FAMILY`]; [`crate::style::text`] calls it,
/// so text in the report's style never falls back to a missing system font.
pub(crate) fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is a valid TrueType file; a failure here would be a build mistake
        // and would show as missing text, not a crash.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// The error type of a drawing on backend `DB`.
pub type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Something that can draw itself onto any plotters backend.
pub trait Figure {
    /// Width and height in pixels (PNG) or user units (SVG).
    fn size(&self) -> (u32, u32);
    /// Draws onto `area`, which is already filled white.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Writes `<stem>.png` and `<stem>.svg`; returns both paths.
pub fn save(figure: &impl Figure, stem: &Path) -> Result<Vec<PathBuf>> {
    let (w, h) = figure.size();
    // Appended, not `with_extension`: a stem may contain dots (`train.lr_0.001`).
    let with = |ext: &str| {
        let mut name = stem.as_os_str().to_os_string();
        name.push(ext);
        PathBuf::from(name)
    };
    let (png, svg) = (with(".png"), with(".svg"));
    if let Some(dir) = stem.parent() {
        std::fs::create_dir_all(dir).map_err(ReportError::io(dir))?;
    }
    let draw_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: &dyn std::fmt::Display| ReportError::Draw {
            path,
            message: e.to_string(),
        }
    };

    let mut svg_text = String::new();
    {
        let area = SVGBackend::with_string(&mut svg_text, (w, h)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| draw_err(&svg)(&e))?;
        figure.draw(&area).map_err(|e| draw_err(&svg)(&e))?;
        area.present().map_err(|e| draw_err(&svg)(&e))?;
    }
    cxr_results::write_atomic(&svg, svg_text.as_bytes())?;

    let mut pixels = vec![255u8; w as usize * h as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| draw_err(&png)(&e))?;
        figure.draw(&area).map_err(|e| draw_err(&png)(&e))?;
        area.present().map_err(|e| draw_err(&png)(&e))?;
    }
    let image = image::RgbImage::from_raw(w, h, pixels).ok_or_else(|| ReportError::Draw {
        path: png.clone(),
        message: "pixel buffer has the wrong size".into(),
    })?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| draw_err(&png)(&e))?;
    cxr_results::write_atomic(&png, bytes.get_ref())?;
    Ok(vec![png, svg])
}

/// Draws with `draw` over `image` (a figure whose pixels were computed elsewhere, like a heatmap
/// blended over a film): its text and colour bar then look like the report's figures.
pub fn draw_over<F>(image: &mut image::RgbImage, draw: F) -> DrawResult<BitMapBackend<'_>>
where
    F: for<'b> FnOnce(&DrawingArea<BitMapBackend<'b>, Shift>) -> DrawResult<BitMapBackend<'b>>,
{
    let size = image.dimensions();
    let area = BitMapBackend::with_buffer(image, size).into_drawing_area();
    draw(&area)?;
    area.present()
}

/// A file-name-safe version of `text` (facet values in figure names).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keeps_names_readable() {
        assert_eq!(
            slug("train.lr=0.001, data.image_size=64"),
            "train.lr_0.001_data.image_size_64"
        );
    }
}
