//! The Grad-CAM figure: the radiograph with the colour-mapped heatmap blended over it, a colour
//! bar with its scale on the right, and a title (class, probability) and subtitle above.

use cxr_report::canvas::draw_over;
use cxr_report::colormap::{ColourBar, INFERNO};
use cxr_report::style::{font, text};
use image::imageops::{resize, FilterType};
use image::{GrayImage, Rgb, RgbImage};

use crate::error::{InferenceError, Result};
use crate::gradcam::GradCam;

/// Long side of the radiograph in the figure: small inputs are enlarged so the title fits and
/// the map is visible, huge ones reduced so the PNG stays small.
const MIN_SIDE: u32 = 448;
const MAX_SIDE: u32 = 1024;
/// Short side of the radiograph at least, so a sliver of a film still shows its colours.
const MIN_SHORT_SIDE: u32 = 8;
/// Opacity of the heatmap over the radiograph.
const ALPHA: f32 = 0.45;
const MARGIN: u32 = 12;
/// Between the title's line and the subtitle's.
const LINE_GAP: u32 = 6;
const BAR_WIDTH: u32 = 20;
const BAR_TICKS: [(f32, &str); 3] = [(1.0, "1.0"), (0.5, "0.5"), (0.0, "0.0")];
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);

/// Renders the figure of `cam` over `radiograph` (any size; the map is stretched to it, as the
/// model's square input was squeezed from it). Text and colour bar are in the report's style.
pub fn render_overlay(
    radiograph: &GrayImage,
    cam: &GradCam,
    title: &str,
    subtitle: &str,
) -> Result<RgbImage> {
    let (w, h) = display_size(radiograph.width(), radiograph.height());
    let base = resize(radiograph, w, h, FilterType::CatmullRom);
    let heat = cam.upsample(w as usize, h as usize);

    let (title_style, subtitle_style) = (text(font::TITLE), text(font::TICK));
    let bar = ColourBar {
        map: &INFERNO,
        ticks: &BAR_TICKS,
    };
    // A long title widens the figure rather than shrinking, so figures of one film compare.
    let header = MARGIN + font::TITLE + LINE_GAP + font::TICK + MARGIN;
    let bar_x = MARGIN + w + MARGIN;
    let title_width = title_style.font.box_size(title).map_err(drawing)?.0;
    let subtitle_width = subtitle_style.font.box_size(subtitle).map_err(drawing)?.0;
    let width = (bar_x + BAR_WIDTH + bar.label_width().map_err(drawing)? + MARGIN)
        .max(title_width + 2 * MARGIN)
        .max(subtitle_width + 2 * MARGIN);
    let height = header + h + MARGIN;
    let mut fig = RgbImage::from_pixel(width, height, WHITE);

    for (x, y, p) in base.enumerate_pixels() {
        let g = f32::from(p.0[0]);
        let c = INFERNO.at(heat[(y * w + x) as usize]);
        let mix = |k: usize| ((1.0 - ALPHA) * g + ALPHA * f32::from(c[k])).round() as u8;
        fig.put_pixel(MARGIN + x, header + y, Rgb([mix(0), mix(1), mix(2)]));
    }
    let at = |x: u32, y: u32| (x as i32, y as i32);
    draw_over(&mut fig, |area| {
        bar.draw(area, at(bar_x, header), (BAR_WIDTH, h))?;
        area.draw_text(title, &title_style, at(MARGIN, MARGIN))?;
        let subtitle_y = MARGIN + font::TITLE + LINE_GAP;
        area.draw_text(subtitle, &subtitle_style, at(MARGIN, subtitle_y))
    })
    .map_err(drawing)?;
    Ok(fig)
}

fn drawing(e: impl std::fmt::Display) -> InferenceError {
    InferenceError::Draw(e.to_string())
}

/// The radiograph's size in the figure: aspect kept, long side in `MIN_SIDE..=MAX_SIDE`.
fn display_size(w: u32, h: u32) -> (u32, u32) {
    let long = w.max(h).max(1);
    let target = long.clamp(MIN_SIDE, MAX_SIDE);
    let scale =
        |v: u32| ((u64::from(v) * u64::from(target) / u64::from(long)) as u32).max(MIN_SHORT_SIDE);
    (scale(w), scale(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_holds_image_bar_and_title() -> Result<()> {
        let radiograph = GrayImage::from_pixel(64, 48, image::Luma([128]));
        let cam = GradCam {
            class: 0,
            probabilities: vec![0.9, 0.1],
            logits: vec![1.1, -1.1],
            map: vec![0.0, 0.0, 0.0, 1.0],
            height: 2,
            width: 2,
        };
        let fig = render_overlay(
            &radiograph,
            &cam,
            "Grad-CAM: COVID p=0.90",
            "predicted COVID",
        )?;
        let (w, h) = display_size(64, 48);
        assert_eq!((w, h), (448, 336));
        assert!(fig.width() > w + BAR_WIDTH && fig.height() > h);
        let header = fig.height() - h - MARGIN;
        // On a uniform film, the hot corner (bottom right) is redder than the cold one.
        let hot = fig.get_pixel(MARGIN + w - 2, header + h - 2).0;
        let cold = fig.get_pixel(MARGIN + 1, header + 1).0;
        assert!(hot[0] > cold[0] + 100, "{hot:?} vs {cold:?}");
        // The bar runs from inferno(1) at the top to inferno(0) at the bottom.
        let bar_x = MARGIN + w + MARGIN;
        assert_eq!(fig.get_pixel(bar_x + 1, header).0, INFERNO.at(1.0));
        assert_eq!(fig.get_pixel(bar_x + 1, header + h - 1).0, INFERNO.at(0.0));
        // Something dark is written across the title's line, and beside the bar.
        let dark = |x: u32, y: u32| fig.get_pixel(x, y).0.iter().all(|&c| c < 100);
        let title_row = MARGIN + font::TITLE / 2;
        assert!((MARGIN..fig.width()).any(|x| dark(x, title_row)));
        let labels = bar_x + BAR_WIDTH + 7..fig.width();
        assert!((header..header + h).any(|y| labels.clone().any(|x| dark(x, y))));
        Ok(())
    }
}
