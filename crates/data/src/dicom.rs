//! Reading DICOM radiographs (PS3.10 files: a 128-byte preamble, `DICM`, file meta, data set).
//!
//! A file is DICOM when it carries the `DICM` magic, whatever its name (`.dcm`, `.dicom`, or
//! none, as PACS exports often are). Only single-frame greyscale images are read: MONOCHROME1
//! or MONOCHROME2, one sample per pixel, 8 or 16 bits allocated, in any transfer syntax this
//! build decodes (uncompressed, deflated, RLE Lossless, JPEG baseline/extended/lossless,
//! JPEG 2000). Everything else is refused with a one-line reason naming what the file is:
//! multi-frame, colour, no pixel data (structured reports, presentation states...), a transfer
//! syntax without a decoder (JPEG-LS, JPEG XL, video), a Modality LUT Sequence.
//!
//! The pixel values then go through [`crate::voi`] (rescale, VOI, MONOCHROME1 inversion) to
//! 8-bit grey levels, the form every other image reaches the cache in.
//!
//! Privacy: this module reads image attributes only. No patient or study attribute (name, ID,
//! birth date, accession number...) is read, so none can reach a message, a log or a result;
//! files are referred to by path alone.

use std::path::Path;

use dicom_core::Tag;
use dicom_dictionary_std::{tags, StandardSopClassDictionary};
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_pixeldata::PixelDecoder;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use image::GrayImage;

use crate::error::{DataError, Result};
use crate::voi::{DicomWindow, GreyMapping, Voi, VoiChoice, WindowFunction};

/// Where the `DICM` magic sits in a PS3.10 file (after the preamble).
const PREAMBLE: usize = 128;

/// What a DICOM file is, as `cxr data inspect` reports it (image attributes only, never
/// patient ones).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DicomInfo {
    /// Modality (`DX`, `CR`, ...), empty when absent.
    pub modality: String,
    /// Photometric Interpretation (`MONOCHROME1`, `MONOCHROME2`, `RGB`, ...).
    pub photometric: String,
    /// Bits Stored.
    pub bits_stored: u16,
    /// The transfer syntax's name, or its UID when unknown.
    pub transfer_syntax: String,
}

/// True when `bytes` start like a DICOM file: `DICM` after the 128-byte preamble, or (a
/// preamble-less copy) at the start.
pub fn is_dicom(bytes: &[u8]) -> bool {
    bytes.get(PREAMBLE..PREAMBLE + 4) == Some(b"DICM") || bytes.starts_with(b"DICM")
}

/// True when the file at `path` starts with the DICOM magic (reads at most 132 bytes).
pub fn has_dicom_magic(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; PREAMBLE + 4];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    is_dicom(&head[..n])
}

/// The reason given when the pixel-data decoder gave up by panicking.
const CORRUPT_PIXEL_DATA: &str =
    "pixel data is corrupt (the decoder stopped inside its compressed segments)";

/// Runs `f`, turning a panic into `Err` without printing it: the DICOM decoders' panics on
/// corrupt input are reported as the file's decode error, so the default hook's message would
/// only be noise. Other panics keep the default report.
fn without_panics<T>(f: impl FnOnce() -> T) -> std::result::Result<T, ()> {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_dicom = info
                .location()
                .is_some_and(|l| l.file().contains("/dicom-"));
            if !in_dicom {
                default(info);
            }
        }));
    });
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| ())
}

/// Decodes a DICOM file's image to 8-bit grey levels (bone bright), windowed as `window` says.
pub fn decode_dicom(
    bytes: &[u8],
    path: &Path,
    window: &DicomWindow,
) -> Result<(GrayImage, DicomInfo)> {
    let fail = |reason: String| DataError::Decode {
        path: path.to_path_buf(),
        reason: crate::decode::one_line(&reason),
    };
    let body = if bytes.get(PREAMBLE..PREAMBLE + 4) == Some(b"DICM") {
        &bytes[PREAMBLE..]
    } else if bytes.starts_with(b"DICM") {
        bytes
    } else {
        return Err(fail(
            "no DICM magic after the 128-byte preamble: not a DICOM (PS3.10) file".into(),
        ));
    };
    let obj = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Never)
        .from_reader(body)
        .map_err(|e| fail(format!("unreadable DICOM data set ({})", chain(&e))))?;
    let info = info(&obj);
    check_image(&obj, &info).map_err(fail)?;
    let mapping = grey_mapping(&obj, window).map_err(fail)?;
    // dicom-rs 0.10's RLE decoder indexes past corrupt segments and panics (found by
    // crates/cli/tests/it/fuzz.rs): a panic inside it is this file's decode error.
    let decoded = without_panics(|| obj.decode_pixel_data())
        .map_err(|_| fail(CORRUPT_PIXEL_DATA.into()))?
        .map_err(|e| fail(format!("pixel data cannot be decoded ({})", chain(&e))))?;
    let (rows, columns) = (decoded.rows(), decoded.columns());
    let frame = without_panics(|| decoded.frame_data(0).map(<[u8]>::to_vec))
        .map_err(|_| fail(CORRUPT_PIXEL_DATA.into()))?
        .map_err(|e| fail(format!("pixel data cannot be decoded ({})", chain(&e))))?;
    let frame = &frame[..];
    let stored = stored_values(
        frame,
        decoded.bits_allocated(),
        decoded.bits_stored(),
        decoded.high_bit(),
        decoded.pixel_representation() == dicom_pixeldata::PixelRepresentation::Signed,
        rows as usize * columns as usize,
    )
    .map_err(fail)?;
    let grey = mapping.apply(&stored);
    let image = GrayImage::from_raw(columns, rows, grey)
        .ok_or_else(|| fail(format!("{columns}x{rows} image has no pixels")))?;
    Ok((image, info))
}

fn info(obj: &DefaultDicomObject) -> DicomInfo {
    let uid = obj.meta().transfer_syntax().trim_end_matches(['\0', ' ']);
    DicomInfo {
        modality: text(obj, tags::MODALITY).unwrap_or_default(),
        photometric: text(obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default(),
        bits_stored: int(obj, tags::BITS_STORED).unwrap_or(0) as u16,
        transfer_syntax: TransferSyntaxRegistry
            .get(uid)
            .map_or_else(|| uid.to_string(), |ts| ts.name().to_string()),
    }
}

/// Refuses what is not a single-frame greyscale image this build can decode.
fn check_image(obj: &DefaultDicomObject, info: &DicomInfo) -> std::result::Result<(), String> {
    if obj.get(tags::PIXEL_DATA).is_none() {
        let uid = obj
            .meta()
            .media_storage_sop_class_uid()
            .trim_end_matches(['\0', ' ']);
        let what = dicom_core::dictionary::UidDictionary::by_uid(&StandardSopClassDictionary, uid)
            .map_or_else(|| format!("SOP class {uid}"), |e| e.name.to_string());
        return Err(if what.contains("Image Storage") {
            format!("no pixel data: this {what} object lacks its Pixel Data element")
        } else {
            format!(
                "no pixel data: a {what} object is not an image (structured reports, presentation states and other non-image objects cannot be classified)"
            )
        });
    }
    let frames = int(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1);
    if frames > 1 {
        return Err(format!(
            "multi-frame image ({frames} frames): cxr reads single-frame radiographs; export the frame to classify as its own file"
        ));
    }
    let samples = int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
    if samples != 1 || !matches!(info.photometric.as_str(), "MONOCHROME1" | "MONOCHROME2") {
        return Err(format!(
            "colour image ({}, {samples} samples per pixel): cxr reads greyscale (MONOCHROME1/MONOCHROME2) radiographs",
            info.photometric
        ));
    }
    let uid = obj.meta().transfer_syntax().trim_end_matches(['\0', ' ']);
    match TransferSyntaxRegistry.get(uid) {
        None => {
            return Err(format!(
                "unknown transfer syntax {uid}: convert the file to Explicit VR Little Endian (dcmdjpeg, gdcmconv --raw)"
            ))
        }
        Some(ts) if !ts.can_decode_all() => {
            return Err(format!(
                "transfer syntax {} ({uid}) cannot be decoded by this build (it reads uncompressed, deflated, RLE, JPEG and JPEG 2000): convert the file to Explicit VR Little Endian (gdcmconv --raw)",
                ts.name()
            ))
        }
        Some(_) => {}
    }
    if obj.get(tags::MODALITY_LUT_SEQUENCE).is_some() {
        return Err(
            "Modality LUT Sequence is not supported (only Rescale Slope/Intercept): convert the file with the LUT applied".into(),
        );
    }
    Ok(())
}

/// The rescale, VOI and inversion of this file under `window` ([`crate::voi`] step by step).
fn grey_mapping(
    obj: &DefaultDicomObject,
    window: &DicomWindow,
) -> std::result::Result<GreyMapping, String> {
    let slope = first_float(obj, tags::RESCALE_SLOPE).unwrap_or(1.0);
    let intercept = first_float(obj, tags::RESCALE_INTERCEPT).unwrap_or(0.0);
    if slope == 0.0 || !slope.is_finite() || !intercept.is_finite() {
        return Err(format!(
            "Rescale Slope {slope} / Intercept {intercept} cannot map stored values"
        ));
    }
    let voi = match window {
        DicomWindow::File => file_voi(obj)?.map_or(VoiChoice::Full, VoiChoice::File),
        DicomWindow::Full => VoiChoice::Full,
        DicomWindow::Percentiles(p) => VoiChoice::Percentiles(*p),
    };
    Ok(GreyMapping {
        slope,
        intercept,
        voi,
        invert: text(obj, tags::PHOTOMETRIC_INTERPRETATION).as_deref() == Some("MONOCHROME1"),
    })
}

/// The file's own VOI: its VOI LUT Sequence (first item), else its first Window Center/Width.
fn file_voi(obj: &DefaultDicomObject) -> std::result::Result<Option<Voi>, String> {
    if let Some(item) = obj
        .get(tags::VOILUT_SEQUENCE)
        .and_then(|e| e.items())
        .and_then(|items| items.first())
    {
        let descriptor = item
            .get(tags::LUT_DESCRIPTOR)
            .and_then(|e| e.to_multi_int::<i32>().ok())
            .filter(|d| d.len() == 3)
            .ok_or("VOI LUT Sequence without a valid LUT Descriptor")?;
        let data: Vec<u16> = item
            .get(tags::LUT_DATA)
            .and_then(|e| e.to_multi_int::<u16>().ok())
            .filter(|d| !d.is_empty())
            .ok_or("VOI LUT Sequence without LUT Data")?;
        // Devices declare 16 bits for entries that span 12 (Agfa CR, as dicom-rs notes): take
        // the bits the entries actually use when fewer.
        let used = 16 - data.iter().max().map_or(0, |m| m.leading_zeros()) as i32;
        let bits = descriptor[2].clamp(1, 16).min(used.max(1)) as u8;
        return Ok(Some(Voi::Lut {
            first: descriptor[1],
            bits,
            data,
        }));
    }
    let centre = first_float(obj, tags::WINDOW_CENTER);
    let width = first_float(obj, tags::WINDOW_WIDTH);
    let (Some(center), Some(width)) = (centre, width) else {
        return Ok(None);
    };
    let function = match text(obj, tags::VOILUT_FUNCTION).as_deref() {
        None | Some("") | Some("LINEAR") => WindowFunction::Linear,
        Some("LINEAR_EXACT") => WindowFunction::LinearExact,
        Some("SIGMOID") => WindowFunction::Sigmoid,
        Some(other) => return Err(format!("unknown VOI LUT Function {other:?}")),
    };
    Ok(Some(Voi::Window {
        center,
        width,
        function,
    }))
}

/// The stored values of one frame as integers: `bits_stored` bits ending at `high_bit`, sign
/// extended when `signed`.
fn stored_values(
    frame: &[u8],
    bits_allocated: u16,
    bits_stored: u16,
    high_bit: u16,
    signed: bool,
    pixels: usize,
) -> std::result::Result<Vec<i32>, String> {
    if bits_stored == 0 || bits_stored > bits_allocated || high_bit + 1 < bits_stored {
        return Err(format!(
            "Bits Stored {bits_stored} / High Bit {high_bit} do not fit Bits Allocated {bits_allocated}"
        ));
    }
    let bytes = match bits_allocated {
        8 => 1,
        16 => 2,
        other => return Err(format!("Bits Allocated {other} is not supported (8 or 16)")),
    };
    if frame.len() < pixels * bytes {
        return Err(format!(
            "pixel data holds {} bytes, fewer than rows x columns x {bytes} = {}",
            frame.len(),
            pixels * bytes
        ));
    }
    let shift = u32::from(high_bit + 1 - bits_stored);
    let bits = u32::from(bits_stored);
    let mask = (1u32 << bits) - 1;
    let value = |raw: u32| -> i32 {
        let v = (raw >> shift) & mask;
        if signed && v >> (bits - 1) == 1 {
            v as i32 - (1i32 << bits)
        } else {
            v as i32
        }
    };
    Ok(match bytes {
        1 => frame[..pixels]
            .iter()
            .map(|&b| value(u32::from(b)))
            .collect(),
        _ => frame[..pixels * 2]
            .chunks_exact(2)
            .map(|c| value(u32::from(u16::from_le_bytes([c[0], c[1]]))))
            .collect(),
    })
}

fn text(obj: &DefaultDicomObject, tag: Tag) -> Option<String> {
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches(['\0', ' ']).to_string())
}

fn int(obj: &DefaultDicomObject, tag: Tag) -> Option<i64> {
    obj.get(tag).and_then(|e| e.to_int::<i64>().ok())
}

fn first_float(obj: &DefaultDicomObject, tag: Tag) -> Option<f64> {
    obj.get(tag)
        .and_then(|e| e.to_multi_float64().ok())
        .and_then(|v| v.first().copied())
}

/// An error and its causes on one line, `outer: inner: ...`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        source = s.source();
    }
    out.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_mask_shift_and_sign_extend() {
        // 12 bits in 16 with garbage in the top nibble (overlay bits): masked away.
        let frame = [0xFF, 0xFF, 0x00, 0xF8];
        assert_eq!(
            stored_values(&frame, 16, 12, 11, false, 2),
            Ok(vec![4095, 2048])
        );
        assert_eq!(
            stored_values(&frame, 16, 12, 11, true, 2),
            Ok(vec![-1, -2048])
        );
        // High bit 15 with 12 bits stored: the values sit in the top bits.
        assert_eq!(
            stored_values(&[0xF0, 0xFF], 16, 12, 15, false, 1),
            Ok(vec![4095])
        );
        assert_eq!(
            stored_values(&[200, 7], 8, 8, 7, false, 2),
            Ok(vec![200, 7])
        );
        let short = stored_values(&[0, 0], 16, 12, 11, false, 2);
        assert!(short.is_err_and(|e| e.contains("fewer than rows x columns")));
        let odd = stored_values(&[0; 4], 32, 32, 31, false, 1);
        assert!(odd.is_err_and(|e| e.contains("Bits Allocated 32")));
    }

    #[test]
    fn magic_is_found_with_and_without_preamble() {
        let mut file = vec![0u8; 128];
        file.extend(b"DICM");
        assert!(is_dicom(&file));
        assert!(is_dicom(b"DICM\x02\x00"));
        assert!(!is_dicom(b"\x89PNG\r\n\x1a\n"));
        let err = decode_dicom(b"\x89PNG", Path::new("x.dcm"), &DicomWindow::File);
        assert!(err.is_err_and(|e| e
            .to_string()
            .starts_with("cannot read image x.dcm: no DICM")));
    }
}
