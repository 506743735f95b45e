//! Text on images with an 8x8 bitmap font (the public-domain `font8x8` glyphs), enough for the
//! overlay's title and colour-bar labels without a font file or a text-layout dependency.

use image::{Rgb, RgbImage};

/// Width and height of one glyph at scale 1.
pub const GLYPH: u32 = 8;

/// Pixel width of `text` at `scale`.
pub fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * GLYPH * scale
}

/// Draws `text` with its top-left corner at `(x, y)`, each font pixel a `scale x scale` square.
/// Characters outside ASCII are drawn as `?`; pixels outside the image are dropped.
pub fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32, colour: Rgb<u8>) {
    let scale = scale.max(1);
    for (i, ch) in text.chars().enumerate() {
        let code = if ch.is_ascii() {
            ch as usize
        } else {
            '?' as usize
        };
        let glyph = font8x8::legacy::BASIC_LEGACY[code];
        let left = x + i as u32 * GLYPH * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..GLYPH {
                // Bit 0 is the glyph's leftmost pixel.
                if bits >> col & 1 == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (left + col * scale + dx, y + row as u32 * scale + dy);
                        if px < img.width() && py < img.height() {
                            img.put_pixel(px, py, colour);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyphs_land_where_asked_and_scale() {
        let white = Rgb([255, 255, 255]);
        let black = Rgb([0, 0, 0]);
        let mut img = RgbImage::from_pixel(40, 20, white);
        draw_text(&mut img, 2, 3, "I", 2, black);
        let inked: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| **p == black)
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(!inked.is_empty());
        assert!(inked
            .iter()
            .all(|&(x, y)| (2..18).contains(&x) && (3..19).contains(&y)));
        assert_eq!(inked.len() % 4, 0, "each font pixel is a 2x2 square");
        assert_eq!(text_width("abc", 2), 48);
        // Off-image text is clipped, not a panic.
        draw_text(&mut img, 35, 15, "WW", 3, black);
    }
}
