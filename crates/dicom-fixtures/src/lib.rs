//! Writing 8-bit radiographs as DICOM objects: the DICOM data of cxr's own tests and
//! benchmarks, made from PNGs because no DICOM corpus may be downloaded. Its own crate, a
//! dev-dependency of the tests and a dependency of the benchmarks only: the encoders (RLE
//! Lossless, JPEG Lossless) are never built into the `cxr` binary, and no feature flag is
//! needed (one would make `cargo run -p cxr-cli` build `cxr-data` differently from `cargo
//! test --workspace`, and so rebuild it).
//!
//! Each [`DicomVariant`] stores grey level `p` as a 12-bit value in 16 bits allocated the way
//! a DX/CR modality might: `16 p` (MONOCHROME2) or `16 (255 - p)` (MONOCHROME1), optionally
//! behind a rescale (`stored = 8 p + 500`, slope 2, intercept -1000, so the modality value is
//! still `16 p`), optionally with the window that maps `16 p` back to `p` exactly
//! (centre 2040.5, width 4081, PS3.3 C.11.2.1.2.1), uncompressed, RLE Lossless or JPEG
//! Lossless. Read back with [`cxr_data::DicomWindow::File`], a variant with the window gives the
//! PNG's grey levels exactly; one without it gives the image's full range stretched to 0..=255
//! (the same when the PNG spans 0..=255).
//!
//! [`ErrorObject`] writes the objects cxr must refuse: multi-frame, colour, an image without
//! its pixel data, non-image objects (a structured report, a presentation state) and a codec
//! this build does not decode.
//!
//! Every object carries the patient attributes it is given, so that tests can check that none
//! of them ever reaches an output.

use std::path::Path;

use dicom_core::value::PixelFragmentSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use image::GrayImage;

use cxr_data::{DataError, Result};

mod error_objects;
mod lossless_jpeg;
mod rle;

pub use error_objects::ErrorObject;

/// MONOCHROME1 (inverted: low values white) or MONOCHROME2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Photometric {
    /// Low values are white.
    Monochrome1,
    /// Low values are black.
    Monochrome2,
}

/// How the pixel data is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Explicit VR Little Endian.
    Uncompressed,
    /// RLE Lossless.
    Rle,
    /// JPEG Lossless, Non-Hierarchical, First-Order Prediction (process 14, selection value 1).
    JpegLossless,
}

/// One way of storing a radiograph as DICOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DicomVariant {
    /// `DX` (Digital X-Ray) or `CR` (Computed Radiography).
    pub modality: &'static str,
    /// Photometric Interpretation.
    pub photometric: Photometric,
    /// Store behind Rescale Slope 2 / Intercept -1000.
    pub rescale: bool,
    /// Write the Window Center/Width that gives back the 8-bit grey levels exactly.
    pub window: bool,
    /// Pixel data encoding.
    pub encoding: Encoding,
}

impl DicomVariant {
    /// Every combination of photometric interpretation, rescale, window and encoding (DX and
    /// CR alternating): 24 variants.
    pub fn all() -> Vec<DicomVariant> {
        let mut out = Vec::new();
        for encoding in [
            Encoding::Uncompressed,
            Encoding::Rle,
            Encoding::JpegLossless,
        ] {
            for photometric in [Photometric::Monochrome2, Photometric::Monochrome1] {
                for rescale in [false, true] {
                    for window in [true, false] {
                        out.push(DicomVariant {
                            modality: if out.len() % 2 == 0 { "DX" } else { "CR" },
                            photometric,
                            rescale,
                            window,
                            encoding,
                        });
                    }
                }
            }
        }
        out
    }

    /// A short name, e.g. `dx-mono1-rescale-window-jpegll`.
    pub fn name(&self) -> String {
        let mut name = vec![self.modality.to_lowercase()];
        name.push(match self.photometric {
            Photometric::Monochrome1 => "mono1".into(),
            Photometric::Monochrome2 => "mono2".into(),
        });
        if self.rescale {
            name.push("rescale".into());
        }
        if self.window {
            name.push("window".into());
        }
        name.push(
            match self.encoding {
                Encoding::Uncompressed => "raw",
                Encoding::Rle => "rle",
                Encoding::JpegLossless => "jpegll",
            }
            .into(),
        );
        name.join("-")
    }
}

/// Patient attributes written into every object (and that must never come out again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    /// Patient's Name.
    pub name: String,
    /// Patient ID.
    pub id: String,
    /// Patient's Birth Date (`YYYYMMDD`).
    pub birth_date: String,
    /// Accession Number.
    pub accession: String,
}

impl Patient {
    /// Made-up values that appear nowhere else, for output scans.
    pub fn canary() -> Patient {
        Patient {
            name: "Canary^Priscilla^Q".into(),
            id: "PID-7Q3X9Z".into(),
            birth_date: "19230405".into(),
            accession: "ACC-58K2W1".into(),
        }
    }

    /// The values as written, for scanning outputs.
    pub fn values(&self) -> [&str; 4] {
        [&self.name, &self.id, &self.birth_date, &self.accession]
    }
}

/// Writes `image` to `path` as `variant`, carrying `patient`.
pub fn write_radiograph(
    path: &Path,
    image: &GrayImage,
    variant: &DicomVariant,
    patient: &Patient,
) -> Result<()> {
    let (w, h) = image.dimensions();
    let stored: Vec<u16> = image
        .as_raw()
        .iter()
        .map(|&p| {
            let p = match variant.photometric {
                Photometric::Monochrome1 => 255 - u16::from(p),
                Photometric::Monochrome2 => u16::from(p),
            };
            if variant.rescale {
                8 * p + 500
            } else {
                16 * p
            }
        })
        .collect();
    let mut obj = base_object(variant.modality, patient, w, h);
    let photometric = match variant.photometric {
        Photometric::Monochrome1 => "MONOCHROME1",
        Photometric::Monochrome2 => "MONOCHROME2",
    };
    put_str(
        &mut obj,
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        photometric,
    );
    put_u16(&mut obj, tags::SAMPLES_PER_PIXEL, 1);
    put_u16(&mut obj, tags::BITS_ALLOCATED, 16);
    put_u16(&mut obj, tags::BITS_STORED, 12);
    put_u16(&mut obj, tags::HIGH_BIT, 11);
    put_u16(&mut obj, tags::PIXEL_REPRESENTATION, 0);
    if variant.rescale {
        put_str(&mut obj, tags::RESCALE_INTERCEPT, VR::DS, "-1000");
        put_str(&mut obj, tags::RESCALE_SLOPE, VR::DS, "2");
        put_str(&mut obj, tags::RESCALE_TYPE, VR::LO, "US");
    }
    if variant.window {
        put_str(&mut obj, tags::WINDOW_CENTER, VR::DS, "2040.5");
        put_str(&mut obj, tags::WINDOW_WIDTH, VR::DS, "4081");
    }
    let ts = match variant.encoding {
        Encoding::Uncompressed => {
            let bytes: Vec<u8> = stored.iter().flat_map(|s| s.to_le_bytes()).collect();
            obj.put(DataElement::new(
                tags::PIXEL_DATA,
                VR::OW,
                PrimitiveValue::from(bytes),
            ));
            uids::EXPLICIT_VR_LITTLE_ENDIAN
        }
        Encoding::Rle => {
            put_fragment(&mut obj, crate::rle::encode(&stored, w as usize, 2));
            uids::RLE_LOSSLESS
        }
        Encoding::JpegLossless => {
            let (w16, h16) = (side(w, path)?, side(h, path)?);
            put_fragment(
                &mut obj,
                crate::lossless_jpeg::encode(&stored, w16, h16, 12),
            );
            uids::JPEG_LOSSLESS_SV1
        }
    };
    write(
        path,
        obj,
        uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION,
        ts,
    )
}

/// Patient, study, series and image-size attributes shared by every object.
pub(crate) fn base_object(
    modality: &str,
    patient: &Patient,
    width: u32,
    height: u32,
) -> InMemDicomObject {
    let mut obj = InMemDicomObject::new_empty();
    put_str(&mut obj, tags::PATIENT_NAME, VR::PN, &patient.name);
    put_str(&mut obj, tags::PATIENT_ID, VR::LO, &patient.id);
    put_str(
        &mut obj,
        tags::PATIENT_BIRTH_DATE,
        VR::DA,
        &patient.birth_date,
    );
    put_str(&mut obj, tags::ACCESSION_NUMBER, VR::SH, &patient.accession);
    put_str(&mut obj, tags::STUDY_INSTANCE_UID, VR::UI, "2.25.1017");
    put_str(&mut obj, tags::SERIES_INSTANCE_UID, VR::UI, "2.25.1017.1");
    put_str(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, "2.25.1017.1.1");
    put_str(&mut obj, tags::MODALITY, VR::CS, modality);
    put_u16(&mut obj, tags::ROWS, height.min(u32::from(u16::MAX)) as u16);
    put_u16(
        &mut obj,
        tags::COLUMNS,
        width.min(u32::from(u16::MAX)) as u16,
    );
    obj
}

pub(crate) fn write(
    path: &Path,
    mut obj: InMemDicomObject,
    sop_class: &str,
    ts: &str,
) -> Result<()> {
    put_str(&mut obj, tags::SOP_CLASS_UID, VR::UI, sop_class);
    let fail = |reason: String| DataError::Encode {
        path: path.to_path_buf(),
        reason,
    };
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(ts)
                .media_storage_sop_class_uid(sop_class),
        )
        .map_err(|e| fail(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(DataError::io(dir))?;
    }
    file.write_to_file(path).map_err(|e| fail(e.to_string()))
}

fn side(n: u32, path: &Path) -> Result<u16> {
    u16::try_from(n).map_err(|_| DataError::Encode {
        path: path.to_path_buf(),
        reason: format!("{n} pixels is too wide for JPEG (at most 65535)"),
    })
}

pub(crate) fn put_str(obj: &mut InMemDicomObject, tag: dicom_core::Tag, vr: VR, value: &str) {
    obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
}

pub(crate) fn put_u16(obj: &mut InMemDicomObject, tag: dicom_core::Tag, value: u16) {
    obj.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
}

pub(crate) fn put_pixels(obj: &mut InMemDicomObject, bytes: Vec<u8>) {
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(bytes),
    ));
}

/// Encapsulated pixel data: an empty basic offset table and one fragment (padded to even).
pub(crate) fn put_fragment(obj: &mut InMemDicomObject, mut fragment: Vec<u8>) {
    if fragment.len() % 2 == 1 {
        fragment.push(0);
    }
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PixelFragmentSequence::new_fragments(vec![fragment]),
    ));
}
