//! Decode throughput of PNG against DICOM (`cxr-bench decode`): the same films of the real
//! sample read as their PNGs and as 12-bit DICOM (uncompressed, RLE Lossless, JPEG Lossless)
//! written by [`cxr_dicom_fixtures`].
//!
//! One step decodes every film of one format once from memory-cached files with
//! [`cxr_data::decode::read_luma`] (read, decode, rescale/window to 8 bits, to f32 luminance:
//! everything the cache build does before resizing), on one thread, so the numbers are per
//! core; `cxr data prepare` decodes files in parallel on all cores.

use std::path::Path;
use std::time::{Duration, Instant};

use cxr_dicom_fixtures::{write_radiograph, DicomVariant, Encoding, Patient, Photometric};

use crate::error::{BenchError, Result};

/// One format's throughput.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DecodeRow {
    /// `png`, `dicom-raw`, `dicom-rle`, `dicom-jpegll`.
    pub format: String,
    /// Films decoded per step.
    pub images: usize,
    /// Mean bytes per file.
    pub mean_bytes: f64,
    /// Films per second (one thread).
    pub img_s: f64,
    /// Decoded megapixels per second (one thread).
    pub mpix_s: f64,
}

/// Writes the first `per_class` films of each class of `sample` as PNG and as each DICOM
/// encoding under `work`, then times decoding each format for at least `min_time`.
pub fn decode_throughput(
    sample: &Path,
    per_class: usize,
    work: &Path,
    min_time: Duration,
) -> Result<Vec<DecodeRow>> {
    let data = |e: cxr_data::DataError| BenchError::Unsupported(format!("decode benchmark: {e}"));
    let index = cxr_data::discover(sample, None).map_err(data)?;
    let films: Vec<&Path> = index
        .classes
        .iter()
        .flat_map(|c| c.images.iter().take(per_class).map(|p| p.as_path()))
        .collect();
    let encodings = [
        ("dicom-raw", Encoding::Uncompressed),
        ("dicom-rle", Encoding::Rle),
        ("dicom-jpegll", Encoding::JpegLossless),
    ];
    let mut formats: Vec<(String, Vec<std::path::PathBuf>)> = vec![(
        "png".into(),
        films.iter().map(|p| p.to_path_buf()).collect(),
    )];
    for (name, encoding) in encodings {
        let variant = DicomVariant {
            modality: "DX",
            photometric: Photometric::Monochrome2,
            rescale: false,
            window: true,
            encoding,
        };
        let mut paths = Vec::new();
        for (i, film) in films.iter().enumerate() {
            let grey = cxr_data::decode::to_u8(&cxr_data::decode::read_luma(film).map_err(data)?.0);
            let path = work.join(name).join(format!("{i}.dcm"));
            write_radiograph(&path, &grey, &variant, &Patient::canary()).map_err(data)?;
            paths.push(path);
        }
        formats.push((name.into(), paths));
    }
    let mut rows = Vec::new();
    for (format, paths) in formats {
        let bytes: u64 = paths
            .iter()
            .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        let mut pixels = 0u64;
        let mut decoded = 0usize;
        // One untimed pass warms the page cache.
        for p in &paths {
            cxr_data::decode::read_luma(p).map_err(data)?;
        }
        let start = Instant::now();
        while start.elapsed() < min_time || decoded == 0 {
            for p in &paths {
                let (luma, _) = cxr_data::decode::read_luma(p).map_err(data)?;
                pixels += u64::from(luma.width()) * u64::from(luma.height());
                decoded += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        rows.push(DecodeRow {
            format,
            images: paths.len(),
            mean_bytes: bytes as f64 / paths.len().max(1) as f64,
            img_s: decoded as f64 / secs,
            mpix_s: pixels as f64 / secs / 1e6,
        });
    }
    Ok(rows)
}

/// The rows as a table, with each format's speed relative to PNG.
pub fn table(rows: &[DecodeRow]) -> String {
    let png = rows
        .iter()
        .find(|r| r.format == "png")
        .map_or(1.0, |r| r.img_s);
    let mut out = format!(
        "{:<14} {:>7} {:>11} {:>9} {:>8} {:>7}\n",
        "format", "images", "bytes/file", "img/s", "Mpix/s", "vs png"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<14} {:>7} {:>11.0} {:>9.1} {:>8.1} {:>6.2}x\n",
            r.format,
            r.images,
            r.mean_bytes,
            r.img_s,
            r.mpix_s,
            r.img_s / png
        ));
    }
    out
}
