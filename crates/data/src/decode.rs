//! Decoding radiographs of any common PNG/JPEG flavour, or DICOM, into one luminance channel.
//!
//! DICOM files (recognised by their `DICM` magic, not their name) go through [`crate::dicom`]:
//! rescale, VOI window and MONOCHROME1 inversion to 8-bit grey levels, which then continue
//! exactly as an 8-bit gray PNG would.
//!
//! Radiographs arrive as 8- or 16-bit gray, gray+alpha, RGB(A) copies whose three channels are
//! equal, palette PNGs, or the odd real-colour export. All reduce to one channel in [0, 1]:
//! gray stays as it is, R=G=B takes the shared value exactly, real colour uses ITU-R BT.601 luma
//! (PIL's `convert("L")`), and alpha is dropped (a radiograph has no meaningful transparency).

use std::path::{Path, PathBuf};

use image::{DynamicImage, GrayImage, ImageBuffer, Luma};

use crate::dicom::{decode_dicom, is_dicom, DicomInfo};
use crate::error::{DataError, Result};
use crate::voi::DicomWindow;

/// One channel, f32 in [0, 1].
pub type LumaF32 = ImageBuffer<Luma<f32>, Vec<f32>>;

/// A file that could not be decoded, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unreadable {
    /// The file.
    pub path: PathBuf,
    /// The decoder's reason.
    pub reason: String,
}

/// What a file holds, as stored (before reduction to luminance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bits per channel (8 or 16; 32 for float images).
    pub bit_depth: u8,
    /// Colour type as the decoder saw it, e.g. `L8`, `Rgb8`, `La16`; for DICOM the
    /// Photometric Interpretation (`MONOCHROME1`, `MONOCHROME2`).
    pub color: String,
    /// The DICOM attributes `cxr data inspect` reports; `None` for PNG/JPEG.
    pub dicom: Option<DicomInfo>,
}

/// Decodes `bytes` (read from `path`, used in errors) into one luminance channel, DICOM
/// windowed as the file says ([`DicomWindow::File`]).
pub fn decode_luma(bytes: &[u8], path: &Path) -> Result<(LumaF32, ImageInfo)> {
    decode_luma_with(bytes, path, &DicomWindow::File)
}

/// [`decode_luma`] with the DICOM window chosen by `window` (PNG/JPEG ignore it).
pub fn decode_luma_with(
    bytes: &[u8],
    path: &Path,
    window: &DicomWindow,
) -> Result<(LumaF32, ImageInfo)> {
    if is_dicom(bytes) || has_dicom_extension(path) {
        let (grey, dicom) = decode_dicom(bytes, path, window)?;
        let info = ImageInfo {
            width: grey.width(),
            height: grey.height(),
            bit_depth: dicom.bits_stored.min(255) as u8,
            color: dicom.photometric.clone(),
            dicom: Some(dicom),
        };
        // The same conversion an 8-bit gray PNG takes, so equal grey levels give equal images.
        return Ok((DynamicImage::ImageLuma8(grey).to_luma32f(), info));
    }
    let img = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| decode_error(path, e.to_string()))?
        .decode()
        .map_err(|e| decode_error(path, e.to_string()))?;
    let color = img.color();
    let info = ImageInfo {
        width: img.width(),
        height: img.height(),
        bit_depth: (color.bits_per_pixel() / u16::from(color.channel_count())) as u8,
        color: format!("{color:?}"),
        dicom: None,
    };
    Ok((to_luma(img), info))
}

/// Reads and decodes the image at `path` (DICOM windowed as the file says).
pub fn read_luma(path: &Path) -> Result<(LumaF32, ImageInfo)> {
    read_luma_with(path, &DicomWindow::File)
}

/// Reads and decodes the image at `path`, DICOM windowed as `window` says.
pub fn read_luma_with(path: &Path, window: &DicomWindow) -> Result<(LumaF32, ImageInfo)> {
    let bytes = std::fs::read(path).map_err(|e| decode_error(path, e.to_string()))?;
    decode_luma_with(&bytes, path, window)
}

/// `.dcm` / `.dicom`: read as DICOM even without the magic, so the error says what is wrong.
fn has_dicom_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("dcm") || e.eq_ignore_ascii_case("dicom"))
}

fn decode_error(path: &Path, reason: String) -> DataError {
    DataError::Decode {
        path: path.to_path_buf(),
        reason: one_line(&reason),
    }
}

/// A decoder's message on one line (the `image` crate's JPEG errors end in a newline).
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn to_luma(img: DynamicImage) -> LumaF32 {
    if !img.color().has_color() {
        return img.to_luma32f();
    }
    let rgb = img.into_rgb32f();
    let (w, h) = rgb.dimensions();
    let data = rgb
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0;
            if r == g && g == b {
                r
            } else {
                0.299 * r + 0.587 * g + 0.114 * b
            }
        })
        .collect();
    ImageBuffer::from_raw(w, h, data).unwrap_or_else(|| ImageBuffer::new(w, h))
}

/// Resizes to `size` x `size` with an antialiasing (triangle) filter whose support widens with the
/// downscale factor, as torchvision's `Resize(antialias=True)` does.
pub fn resize_square(img: &LumaF32, size: u32) -> LumaF32 {
    if img.width() == size && img.height() == size {
        return img.clone();
    }
    image::imageops::resize(img, size, size, image::imageops::FilterType::Triangle)
}

/// Quantises [0, 1] floats to 8 bits (round to nearest).
pub fn to_u8(img: &LumaF32) -> GrayImage {
    let data = img
        .as_raw()
        .iter()
        .map(|v| (v * 255.0).round().clamp(0.0, 255.0) as u8)
        .collect();
    GrayImage::from_raw(img.width(), img.height(), data)
        .unwrap_or_else(|| GrayImage::new(img.width(), img.height()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, Rgb, Rgba};

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn png(img: &DynamicImage) -> std::result::Result<Vec<u8>, image::ImageError> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)?;
        Ok(out.into_inner())
    }

    fn decode(bytes: &[u8]) -> Result<(LumaF32, ImageInfo)> {
        decode_luma(bytes, Path::new("fixture.png"))
    }

    #[test]
    fn gray8_and_gray16_keep_their_values() -> TestResult {
        let g8 =
            DynamicImage::ImageLuma8(GrayImage::from_fn(4, 3, |x, y| Luma([(x * 60 + y) as u8])));
        let (l, info) = decode(&png(&g8)?)?;
        assert_eq!((info.width, info.height, info.bit_depth), (4, 3, 8));
        assert_eq!(l.get_pixel(2, 1).0[0], 121.0 / 255.0);
        let g16 =
            DynamicImage::ImageLuma16(ImageBuffer::from_fn(2, 2, |x, _| Luma([x as u16 * 65535])));
        let (l, info) = decode(&png(&g16)?)?;
        assert_eq!((info.bit_depth, info.color.as_str()), (16, "L16"));
        assert_eq!(l.get_pixel(1, 0).0[0], 1.0);
        assert_eq!(l.get_pixel(0, 0).0[0], 0.0);
        Ok(())
    }

    #[test]
    fn gray_alpha_drops_alpha() -> TestResult {
        let la =
            DynamicImage::ImageLumaA8(ImageBuffer::from_pixel(2, 2, image::LumaA([200u8, 10])));
        let (l, info) = decode(&png(&la)?)?;
        assert_eq!(info.color, "La8");
        assert_eq!(l.get_pixel(0, 0).0[0], 200.0 / 255.0);
        Ok(())
    }

    #[test]
    fn rgb_that_is_gray_is_exact_and_colour_uses_bt601() -> TestResult {
        let gray_rgb = DynamicImage::ImageRgb8(ImageBuffer::from_pixel(2, 2, Rgb([77u8, 77, 77])));
        let (l, _) = decode(&png(&gray_rgb)?)?;
        assert_eq!(l.get_pixel(1, 1).0[0], 77.0 / 255.0);
        let colour =
            DynamicImage::ImageRgba8(ImageBuffer::from_pixel(1, 1, Rgba([255u8, 0, 0, 255])));
        let (l, info) = decode(&png(&colour)?)?;
        assert_eq!(info.color, "Rgba8");
        assert!((l.get_pixel(0, 0).0[0] - 0.299).abs() < 1e-6);
        let rgb16 = DynamicImage::ImageRgb16(ImageBuffer::from_pixel(1, 1, Rgb([0u16, 65535, 0])));
        let (l, info) = decode(&png(&rgb16)?)?;
        assert_eq!(info.bit_depth, 16);
        assert!((l.get_pixel(0, 0).0[0] - 0.587).abs() < 1e-6);
        Ok(())
    }

    #[test]
    fn palette_png_decodes_to_its_colours() -> TestResult {
        // `image` never writes indexed PNGs, so build one with the `png` crate directly.
        let data = palette_png(&[[10, 10, 10], [250, 0, 0]], &[0, 1], 2, 1)?;
        let (l, info) = decode(&data)?;
        assert_eq!(info.width, 2);
        assert_eq!(l.get_pixel(0, 0).0[0], 10.0 / 255.0);
        assert!((l.get_pixel(1, 0).0[0] - 0.299 * 250.0 / 255.0).abs() < 1e-6);
        Ok(())
    }

    fn palette_png(
        palette: &[[u8; 3]],
        indices: &[u8],
        w: u32,
        h: u32,
    ) -> std::result::Result<Vec<u8>, png::EncodingError> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Indexed);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_palette(palette.iter().flatten().copied().collect::<Vec<u8>>());
            let mut writer = enc.write_header()?;
            writer.write_image_data(indices)?;
        }
        Ok(out)
    }

    #[test]
    fn jpeg_gray_and_rgb() -> TestResult {
        let g = GrayImage::from_pixel(8, 8, Luma([128u8]));
        let mut buf = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 95).write_image(
            g.as_raw(),
            8,
            8,
            image::ExtendedColorType::L8,
        )?;
        let (l, info) = decode(&buf)?;
        assert_eq!(info.color, "L8");
        assert!((l.get_pixel(3, 3).0[0] - 128.0 / 255.0).abs() < 2.0 / 255.0);
        let rgb = image::RgbImage::from_pixel(8, 8, Rgb([90u8, 90, 90]));
        let mut buf = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 95).write_image(
            rgb.as_raw(),
            8,
            8,
            image::ExtendedColorType::Rgb8,
        )?;
        let (l, _) = decode(&buf)?;
        assert!((l.get_pixel(3, 3).0[0] - 90.0 / 255.0).abs() < 3.0 / 255.0);
        Ok(())
    }

    #[test]
    fn truncated_png_names_the_file() -> TestResult {
        let g = DynamicImage::ImageLuma8(GrayImage::from_fn(64, 64, |x, y| Luma([(x ^ y) as u8])));
        let bytes = png(&g)?;
        let err = decode_luma(&bytes[..bytes.len() / 2], Path::new("/data/COVID/x.png"));
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.starts_with("cannot read image /data/COVID/x.png: "),
            "{msg}"
        );
        let garbage = decode_luma(b"not an image", Path::new("y.png"));
        assert!(matches!(garbage, Err(DataError::Decode { .. })));
        Ok(())
    }

    #[test]
    fn resize_is_antialiased() {
        // A 1-pixel checkerboard averages to mid-gray when downscaled 4x with antialiasing;
        // point sampling would keep 0/1 values.
        let img = LumaF32::from_fn(64, 64, |x, y| Luma([((x + y) % 2) as f32]));
        let small = resize_square(&img, 16);
        assert_eq!(small.dimensions(), (16, 16));
        for p in small.pixels().skip(17).take(10) {
            assert!((p.0[0] - 0.5).abs() < 0.1, "{}", p.0[0]);
        }
    }
}
