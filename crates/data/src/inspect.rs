//! A census of a dataset folder: what `cxr data inspect` prints. DICOM classes add what
//! matters before training on them: modality, photometric interpretation, bits stored and
//! transfer syntax (image attributes only: no patient attribute is read).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::decode::{read_luma, Unreadable};
use crate::discover::{discover, Layout};
use crate::error::Result;

/// One class as found on disk.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClassReport {
    /// Class name.
    pub name: String,
    /// The class folder.
    pub dir: PathBuf,
    /// How it stores images.
    pub layout: Layout,
    /// Number of image files.
    pub images: usize,
    /// Number of lung-mask files.
    pub masks: usize,
    /// Image sizes seen (`"WxH"`) and how often.
    pub sizes: BTreeMap<String, usize>,
    /// Pixel types seen (`"L8"`, `"Rgb8"`, `"L16"`, ...) and how often. Kept under its first
    /// name for scripts that read it; [`ClassReport::pixel_types`] is the same tally.
    pub formats: BTreeMap<String, usize>,
    /// Pixel types seen and how often (the same as `formats`).
    pub pixel_types: BTreeMap<String, usize>,
    /// File types by content (`"PNG"`, `"JPEG"`, `"DICOM"`, else the upper-case extension)
    /// and how often, unreadable files included: a class of JPEGs beside classes of PNGs is a
    /// shortcut a model can learn.
    pub file_types: BTreeMap<String, usize>,
    /// Bits per channel seen and how often (Bits Stored for DICOM).
    pub bit_depths: BTreeMap<u8, usize>,
    /// DICOM files among the images.
    pub dicom: usize,
    /// DICOM Modality (`DX`, `CR`, ...) and how often.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub modalities: BTreeMap<String, usize>,
    /// DICOM Photometric Interpretation (`MONOCHROME1`, `MONOCHROME2`) and how often.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub photometric: BTreeMap<String, usize>,
    /// DICOM Bits Stored and how often.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub bits_stored: BTreeMap<u16, usize>,
    /// DICOM transfer syntaxes (by name) and how often.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub transfer_syntaxes: BTreeMap<String, usize>,
    /// Files of this class that could not be decoded.
    pub unreadable: usize,
}

/// The census of a dataset folder.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    /// The dataset root.
    pub root: PathBuf,
    /// Classes in label order.
    pub classes: Vec<ClassReport>,
    /// Files that could not be decoded.
    pub unreadable: Vec<Unreadable>,
}

/// Decodes every image under `root` (in parallel) and tallies what it finds.
pub fn inspect(root: &Path, classes: Option<&[String]>) -> Result<Inspection> {
    let index = discover(root, classes)?;
    if classes.is_none() {
        index.check_is_root()?;
    }
    let mut unreadable = Vec::new();
    let mut reports = Vec::new();
    for class in &index.classes {
        let infos: Vec<_> = class
            .images
            .par_iter()
            .map(|p| read_luma(p).map(|(_, info)| info))
            .collect();
        let mut report = ClassReport {
            name: class.name.clone(),
            dir: class.dir.clone(),
            layout: class.layout,
            images: class.images.len(),
            masks: class.masks,
            sizes: BTreeMap::new(),
            formats: BTreeMap::new(),
            pixel_types: BTreeMap::new(),
            file_types: BTreeMap::new(),
            bit_depths: BTreeMap::new(),
            dicom: 0,
            modalities: BTreeMap::new(),
            photometric: BTreeMap::new(),
            bits_stored: BTreeMap::new(),
            transfer_syntaxes: BTreeMap::new(),
            unreadable: 0,
        };
        for path in &class.images {
            *report.file_types.entry(file_type(path)).or_default() += 1;
        }
        for info in infos {
            match info {
                Ok(info) => {
                    *report
                        .sizes
                        .entry(format!("{}x{}", info.width, info.height))
                        .or_default() += 1;
                    *report.pixel_types.entry(info.color.clone()).or_default() += 1;
                    *report.formats.entry(info.color).or_default() += 1;
                    *report.bit_depths.entry(info.bit_depth).or_default() += 1;
                    if let Some(d) = info.dicom {
                        report.dicom += 1;
                        *report.modalities.entry(d.modality).or_default() += 1;
                        *report.photometric.entry(d.photometric).or_default() += 1;
                        *report.bits_stored.entry(d.bits_stored).or_default() += 1;
                        *report
                            .transfer_syntaxes
                            .entry(d.transfer_syntax)
                            .or_default() += 1;
                    }
                }
                Err(crate::DataError::Decode { path, reason }) => {
                    report.unreadable += 1;
                    unreadable.push(Unreadable { path, reason })
                }
                Err(e) => return Err(e),
            }
        }
        reports.push(report);
    }
    Ok(Inspection {
        root: index.root,
        classes: reports,
        unreadable,
    })
}

/// The type of the file at `path` by its first bytes: `PNG`, `JPEG`, `DICOM`; else its
/// extension in upper case (`unknown` without one). Read errors count as the extension: the
/// decoder reports them.
pub fn file_type(path: &Path) -> String {
    use std::io::Read;
    let mut head = [0u8; 132];
    let mut n = 0;
    if let Ok(mut file) = std::fs::File::open(path) {
        while n < head.len() {
            match file.read(&mut head[n..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
    }
    let head = &head[..n];
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        "PNG".into()
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "JPEG".into()
    } else if head.len() == 132 && &head[128..] == b"DICM" {
        "DICOM".into()
    } else {
        path.extension()
            .map_or_else(|| "unknown".into(), |e| e.to_string_lossy().to_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_come_from_content_not_names(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let img = image::GrayImage::from_pixel(4, 4, image::Luma([9u8]));
        // A JPEG named .png, as exports sometimes are.
        let jpeg_named_png = dir.path().join("a.png");
        img.save_with_format(&jpeg_named_png, image::ImageFormat::Jpeg)?;
        let png = dir.path().join("b.jpg");
        img.save_with_format(&png, image::ImageFormat::Png)?;
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM");
        let dcm = dir.path().join("IM0001");
        std::fs::write(&dcm, &dicom)?;
        let txt = dir.path().join("x.tiff");
        std::fs::write(&txt, b"II*")?;
        assert_eq!(file_type(&jpeg_named_png), "JPEG");
        assert_eq!(file_type(&png), "PNG");
        assert_eq!(file_type(&dcm), "DICOM");
        assert_eq!(file_type(&txt), "TIFF");
        Ok(())
    }
}
