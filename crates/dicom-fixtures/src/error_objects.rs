//! [`ErrorObject`]: the DICOM objects cxr must refuse (multi-frame, colour, no pixel data,
//! non-image objects, an undecodable codec), one per reason.

use std::path::Path;

use dicom_core::VR;
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;

use cxr_data::Result;

use crate::{base_object, put_fragment, put_pixels, put_str, put_u16, write, Patient};

/// Objects that cxr must refuse, one per reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorObject {
    /// Two 8-bit MONOCHROME2 frames.
    MultiFrame,
    /// An 8-bit RGB image (3 samples per pixel).
    Rgb,
    /// A Basic Text Structured Report: no pixel data.
    StructuredReport,
    /// A Grayscale Softcopy Presentation State: no pixel data.
    PresentationState,
    /// A greyscale image in JPEG-LS Lossless, which this build does not decode.
    JpegLs,
    /// A DX image with every image attribute but no Pixel Data element.
    MissingPixelData,
}

impl ErrorObject {
    /// Every kind.
    pub const ALL: [ErrorObject; 6] = [
        ErrorObject::MultiFrame,
        ErrorObject::Rgb,
        ErrorObject::StructuredReport,
        ErrorObject::PresentationState,
        ErrorObject::JpegLs,
        ErrorObject::MissingPixelData,
    ];

    /// A file name for it.
    pub fn file_name(&self) -> &'static str {
        match self {
            ErrorObject::MultiFrame => "multi-frame.dcm",
            ErrorObject::Rgb => "rgb.dcm",
            ErrorObject::StructuredReport => "report.dcm",
            ErrorObject::PresentationState => "presentation-state.dcm",
            ErrorObject::JpegLs => "jpeg-ls.dcm",
            ErrorObject::MissingPixelData => "no-pixel-data.dcm",
        }
    }

    /// Writes the object (8x8 where it has pixels) to `path`, carrying `patient`.
    pub fn write(&self, path: &Path, patient: &Patient) -> Result<()> {
        let mut obj = base_object("DX", patient, 8, 8);
        let mono8 = |obj: &mut InMemDicomObject| {
            put_str(obj, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2");
            put_u16(obj, tags::SAMPLES_PER_PIXEL, 1);
            put_u16(obj, tags::BITS_ALLOCATED, 8);
            put_u16(obj, tags::BITS_STORED, 8);
            put_u16(obj, tags::HIGH_BIT, 7);
            put_u16(obj, tags::PIXEL_REPRESENTATION, 0);
        };
        let image = uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION;
        let (sop, ts) = match self {
            ErrorObject::MultiFrame => {
                mono8(&mut obj);
                put_str(&mut obj, tags::NUMBER_OF_FRAMES, VR::IS, "2");
                put_pixels(&mut obj, vec![128; 2 * 64]);
                (image, uids::EXPLICIT_VR_LITTLE_ENDIAN)
            }
            ErrorObject::Rgb => {
                put_str(&mut obj, tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "RGB");
                put_u16(&mut obj, tags::SAMPLES_PER_PIXEL, 3);
                put_u16(&mut obj, tags::PLANAR_CONFIGURATION, 0);
                put_u16(&mut obj, tags::BITS_ALLOCATED, 8);
                put_u16(&mut obj, tags::BITS_STORED, 8);
                put_u16(&mut obj, tags::HIGH_BIT, 7);
                put_u16(&mut obj, tags::PIXEL_REPRESENTATION, 0);
                put_pixels(&mut obj, vec![200; 3 * 64]);
                (image, uids::EXPLICIT_VR_LITTLE_ENDIAN)
            }
            ErrorObject::StructuredReport => {
                obj.remove_element(tags::ROWS);
                obj.remove_element(tags::COLUMNS);
                put_str(&mut obj, tags::MODALITY, VR::CS, "SR");
                put_str(&mut obj, tags::VALUE_TYPE, VR::CS, "CONTAINER");
                (uids::BASIC_TEXT_SR_STORAGE, uids::EXPLICIT_VR_LITTLE_ENDIAN)
            }
            ErrorObject::PresentationState => {
                obj.remove_element(tags::ROWS);
                obj.remove_element(tags::COLUMNS);
                put_str(&mut obj, tags::MODALITY, VR::CS, "PR");
                put_str(&mut obj, tags::PRESENTATION_LUT_SHAPE, VR::CS, "IDENTITY");
                (
                    uids::GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
                    uids::EXPLICIT_VR_LITTLE_ENDIAN,
                )
            }
            ErrorObject::JpegLs => {
                mono8(&mut obj);
                // Not a real JPEG-LS stream: the transfer syntax is refused before decoding.
                put_fragment(&mut obj, vec![0xFF, 0xD8, 0xFF, 0xF7, 0xFF, 0xD9, 0, 0]);
                (image, uids::JPEGLS_LOSSLESS)
            }
            ErrorObject::MissingPixelData => {
                mono8(&mut obj);
                (image, uids::EXPLICIT_VR_LITTLE_ENDIAN)
            }
        };
        write(path, obj, sop, ts)
    }
}
