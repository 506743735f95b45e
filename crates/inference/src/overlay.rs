//! The Grad-CAM figure: the radiograph with the colour-mapped heatmap blended over it, a colour
//! bar with its scale on the right, and a title (class, probability) and subtitle above.

use image::imageops::{resize, FilterType};
use image::{GrayImage, Rgb, RgbImage};

use crate::colormap::inferno;
use crate::gradcam::GradCam;
use crate::text::{draw_text, text_width, GLYPH};

/// Long side of the radiograph in the figure: small inputs are enlarged so the title fits and
/// the map is visible, huge ones reduced so the PNG stays small.
const MIN_SIDE: u32 = 448;
const MAX_SIDE: u32 = 1024;
/// Opacity of the heatmap over the radiograph.
const ALPHA: f32 = 0.45;
const MARGIN: u32 = 12;
const BAR_WIDTH: u32 = 20;
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([20, 20, 20]);

/// Renders the figure of `cam` over `radiograph` (any size; the map is stretched to it, as the
/// model's square input was squeezed from it).
pub fn render_overlay(
    radiograph: &GrayImage,
    cam: &GradCam,
    title: &str,
    subtitle: &str,
) -> RgbImage {
    let (w, h) = display_size(radiograph.width(), radiograph.height());
    let base = resize(radiograph, w, h, FilterType::CatmullRom);
    let heat = cam.upsample(w as usize, h as usize);

    // A long title widens the figure rather than shrinking, so figures of one film compare.
    let title_scale = 2;
    let header = MARGIN + GLYPH * title_scale + 6 + GLYPH + MARGIN;
    let bar_x = MARGIN + w + MARGIN;
    let label_x = bar_x + BAR_WIDTH + 6;
    let width = (label_x + text_width("0.5", 1) + MARGIN)
        .max(text_width(title, title_scale) + 2 * MARGIN)
        .max(text_width(subtitle, 1) + 2 * MARGIN);
    let height = header + h + MARGIN;
    let mut fig = RgbImage::from_pixel(width, height, WHITE);

    for (x, y, p) in base.enumerate_pixels() {
        let g = f32::from(p.0[0]);
        let c = inferno(heat[(y * w + x) as usize]);
        let mix = |k: usize| ((1.0 - ALPHA) * g + ALPHA * f32::from(c[k])).round() as u8;
        fig.put_pixel(MARGIN + x, header + y, Rgb([mix(0), mix(1), mix(2)]));
    }
    for y in 0..h {
        // Top of the bar is 1 (strongest evidence), bottom 0.
        let v = 1.0 - y as f32 / (h - 1).max(1) as f32;
        for x in 0..BAR_WIDTH {
            fig.put_pixel(bar_x + x, header + y, Rgb(inferno(v)));
        }
    }
    for (label, at) in [("1.0", 0.0), ("0.5", 0.5), ("0.0", 1.0)] {
        let y = header + ((h - GLYPH) as f32 * at) as u32;
        draw_text(&mut fig, label_x, y, label, 1, INK);
    }
    draw_text(&mut fig, MARGIN, MARGIN, title, title_scale, INK);
    draw_text(
        &mut fig,
        MARGIN,
        MARGIN + GLYPH * title_scale + 6,
        subtitle,
        1,
        INK,
    );
    fig
}

/// The radiograph's size in the figure: aspect kept, long side in `MIN_SIDE..=MAX_SIDE`.
fn display_size(w: u32, h: u32) -> (u32, u32) {
    let long = w.max(h).max(1);
    let target = long.clamp(MIN_SIDE, MAX_SIDE);
    let scale = |v: u32| ((u64::from(v) * u64::from(target) / u64::from(long)) as u32).max(GLYPH);
    (scale(w), scale(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_holds_image_bar_and_title() {
        let radiograph = GrayImage::from_pixel(64, 48, image::Luma([128]));
        let cam = GradCam {
            class: 0,
            probabilities: vec![0.9, 0.1],
            map: vec![0.0, 0.0, 0.0, 1.0],
            height: 2,
            width: 2,
        };
        let fig = render_overlay(
            &radiograph,
            &cam,
            "Grad-CAM: COVID p=0.90",
            "predicted COVID",
        );
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
        assert_eq!(fig.get_pixel(bar_x + 1, header).0, inferno(1.0));
        assert_eq!(fig.get_pixel(bar_x + 1, header + h - 1).0, inferno(0.0));
        // Something is written in the title band.
        assert!((0..fig.width()).any(|x| *fig.get_pixel(x, MARGIN + 6) == INK));
    }
}
