//! `reconstructions.png`: what an autoencoder run's kept weights make of a few test images. One
//! row of originals (the first [`MAX_IMAGES`] test images, in split order) above one row of
//! their reconstructions, both as the network saw them but un-normalised back to [0, 1] gray
//! (values outside are clipped), tiles enlarged by a whole factor to at least
//! [`MIN_TILE_SIDE`] pixels, on a white background.

use std::io::Cursor;

use image::{GrayImage, ImageFormat, Luma};

use crate::atomic::write_atomic;
use crate::error::{Result, ResultsError};
use crate::layout::RunDir;

/// Most images shown.
pub const MAX_IMAGES: usize = 8;
/// Small images are enlarged (nearest neighbour, a whole factor) to at least this side.
pub const MIN_TILE_SIDE: usize = 128;
/// White space around and between tiles, in pixels.
const GAP: usize = 4;

/// Originals and their reconstructions, gray values in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Reconstructions {
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// Original images, `height * width` values each, row-major (at most [`MAX_IMAGES`] drawn).
    pub originals: Vec<Vec<f32>>,
    /// Their reconstructions, same layout and order.
    pub reconstructions: Vec<Vec<f32>>,
}

impl Reconstructions {
    /// The figure: originals on top, reconstructions below, one column per image.
    pub fn to_image(&self) -> GrayImage {
        let n = self
            .originals
            .len()
            .min(self.reconstructions.len())
            .min(MAX_IMAGES);
        let scale = MIN_TILE_SIDE.div_ceil(self.height.max(self.width).max(1));
        let (tile_h, tile_w) = (self.height * scale, self.width * scale);
        let width = GAP + n.max(1) * (tile_w + GAP);
        let height = GAP + 2 * (tile_h + GAP);
        let mut img = GrayImage::from_pixel(width as u32, height as u32, Luma([255]));
        let rows = [&self.originals, &self.reconstructions];
        for (row, images) in rows.iter().enumerate() {
            for (col, pixels) in images.iter().take(n).enumerate() {
                let (x0, y0) = (GAP + col * (tile_w + GAP), GAP + row * (tile_h + GAP));
                for y in 0..tile_h {
                    for x in 0..tile_w {
                        let v = pixels
                            .get((y / scale) * self.width + x / scale)
                            .copied()
                            .unwrap_or(0.0);
                        let gray = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                        img.put_pixel((x0 + x) as u32, (y0 + y) as u32, Luma([gray]));
                    }
                }
            }
        }
        img
    }
}

impl RunDir {
    /// Writes `reconstructions.png` (atomically).
    pub fn write_reconstructions(&self, figure: &Reconstructions) -> Result<()> {
        let path = self.reconstructions_path();
        let mut png = Cursor::new(Vec::new());
        figure
            .to_image()
            .write_to(&mut png, ImageFormat::Png)
            .map_err(|e| ResultsError::Image {
                path: path.clone(),
                message: e.to_string(),
            })?;
        write_atomic(&path, png.get_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn originals_sit_above_their_reconstructions(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        // Two 2x4 images: black originals, reconstructions at 0.5 and clipped 2.0.
        let figure = Reconstructions {
            height: 2,
            width: 4,
            originals: vec![vec![0.0; 8], vec![0.0; 8]],
            reconstructions: vec![vec![0.5; 8], vec![2.0; 8]],
        };
        let img = figure.to_image();
        // Scale 32: tiles 64 x 128, two columns.
        assert_eq!(img.dimensions(), (4 + 2 * 132, 4 + 2 * 68));
        let at = |x: usize, y: usize| img.get_pixel(x as u32, y as u32)[0];
        assert_eq!(at(0, 0), 255, "margin");
        assert_eq!(at(GAP + 5, GAP + 5), 0, "first original");
        assert_eq!(at(GAP + 5, GAP + 68 + 5), 128, "first reconstruction");
        assert_eq!(at(GAP + 132 + 5, GAP + 68 + 5), 255, "second, clipped");
        let dir = tempfile::tempdir()?;
        let run = RunDir::at(dir.path());
        run.write_reconstructions(&figure)?;
        let back = image::open(run.reconstructions_path())?.to_luma8();
        assert_eq!(back, img);
        Ok(())
    }
}
