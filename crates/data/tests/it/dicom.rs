//! DICOM input end to end: real PNGs of the sample written as every DICOM variant decode back
//! to the same grey levels, a DICOM copy of part of the sample loads into the same cache
//! contents as the PNGs, refused objects fail with one line, and no patient attribute is ever
//! echoed.

use std::path::{Path, PathBuf};

use cxr_data::{decode, discover, inspect, load, DataError, DicomWindow, LoadOptions};
use cxr_dicom_fixtures::{write_radiograph, DicomVariant, Encoding, ErrorObject, Patient};
use image::GrayImage;

use crate::support::{real_sample, TestResult};

/// The first `n` PNGs of each class of the real sample, sorted.
fn sample_pngs(root: &Path, n: usize) -> Result<Vec<(String, PathBuf)>, DataError> {
    let index = discover(root, None)?;
    Ok(index
        .classes
        .iter()
        .flat_map(|c| c.images.iter().take(n).map(|p| (c.name.clone(), p.clone())))
        .collect())
}

fn png_grey(path: &Path) -> Result<GrayImage, DataError> {
    Ok(decode::to_u8(&decode::read_luma(path)?.0))
}

/// What a variant without a window must decode to: the PNG stretched from its own minimum
/// (black) to its maximum (white), `round((p - min) / (max - min) * 255)`.
fn full_range(png: &GrayImage) -> GrayImage {
    let (lo, hi) = png
        .as_raw()
        .iter()
        .fold((255u8, 0u8), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    let mut out = png.clone();
    for p in out.pixels_mut() {
        let v = f64::from(p.0[0] - lo) / f64::from(hi - lo) * 255.0;
        p.0[0] = v.round() as u8;
    }
    out
}

#[test]
fn windows_of_the_setting_and_of_the_file_apply_in_order() -> TestResult {
    let dir = tempfile::tempdir()?;
    // A ramp 0..=199 inside a 200x1 image: with a file window the ramp comes back as is; "full"
    // stretches it to 0..=255; percentiles [10, 90] clip the ends.
    let ramp = GrayImage::from_fn(200, 1, |x, _| image::Luma([x as u8]));
    let path = dir.path().join("ramp.dcm");
    let variant = DicomVariant {
        modality: "CR",
        photometric: cxr_dicom_fixtures::Photometric::Monochrome1,
        rescale: true,
        window: true,
        encoding: Encoding::Uncompressed,
    };
    write_radiograph(&path, &ramp, &variant, &Patient::canary())?;
    let grey = |w: DicomWindow| -> Result<Vec<u8>, DataError> {
        Ok(decode::to_u8(&decode::read_luma_with(&path, &w)?.0).into_raw())
    };
    assert_eq!(grey(DicomWindow::File)?, ramp.as_raw().clone());
    let full = grey(DicomWindow::Full)?;
    assert_eq!((full[0], full[199]), (0, 255));
    // round(100 / 199 * 255) = 128
    assert_eq!(full[100], 128);
    let pct = grey(DicomWindow::Percentiles([10.0, 90.0]))?;
    // numpy.percentile(np.arange(200), [10, 90]) = [19.9, 179.1] (in grey levels; the window
    // is taken on the rescaled MONOCHROME1 values, then inverted): 20 rounds to black, 179 to
    // white, 21 is round(255 - 255 * 158.1 / 159.2) = 2, 100 is 255 - round(126.70) = 128.
    assert_eq!(
        (pct[19], pct[20], pct[21], pct[100], pct[179]),
        (0, 0, 2, 128, 255)
    );
    assert!(
        pct.windows(2).all(|w| w[0] <= w[1]),
        "monotonic: MONOCHROME1 was inverted once"
    );
    Ok(())
}

#[test]
fn extensionless_files_with_the_magic_are_images_and_dicomdir_is_not() -> TestResult {
    let dir = tempfile::tempdir()?;
    let r = dir.path();
    let img = GrayImage::from_fn(16, 16, |x, y| image::Luma([(x * 16 + y) as u8]));
    let v = DicomVariant::all()[0];
    write_radiograph(&r.join("a/1.2.840.99.1"), &img, &v, &Patient::canary())?;
    write_radiograph(&r.join("a/DICOMDIR"), &img, &v, &Patient::canary())?;
    write_radiograph(&r.join("b/IMG0001"), &img, &v, &Patient::canary())?;
    std::fs::write(r.join("b/NOTES"), b"plain text, no magic")?;
    let index = discover(r, None)?;
    let names: Vec<Vec<String>> = index
        .classes
        .iter()
        .map(|c| {
            c.images
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect()
        })
        .collect();
    assert_eq!(names, [vec!["1.2.840.99.1"], vec!["IMG0001"]]);
    Ok(())
}

#[test]
fn refused_objects_fail_with_one_line_naming_file_and_reason() -> TestResult {
    let dir = tempfile::tempdir()?;
    let patient = Patient::canary();
    let expected = [
        (ErrorObject::MultiFrame, "multi-frame image (2 frames)"),
        (ErrorObject::Rgb, "colour image (RGB, 3 samples per pixel)"),
        (
            ErrorObject::StructuredReport,
            "no pixel data: a Basic Text SR Storage object is not an image",
        ),
        (
            ErrorObject::PresentationState,
            "no pixel data: a Grayscale Softcopy Presentation State Storage object",
        ),
        (ErrorObject::JpegLs, "cannot be decoded by this build"),
        (
            ErrorObject::MissingPixelData,
            "no pixel data: this Digital X-Ray Image Storage - For Presentation object lacks its Pixel Data",
        ),
    ];
    for (kind, reason) in expected {
        let path = dir.path().join(kind.file_name());
        kind.write(&path, &patient)?;
        let msg = decode::read_luma(&path).err().ok_or("decoded")?.to_string();
        let prefix = format!("cannot read image {}: ", path.display());
        assert!(msg.starts_with(&prefix), "{msg}");
        assert!(msg.contains(reason), "{msg}");
        assert_eq!(msg.lines().count(), 1, "{msg}");
        for value in patient.values() {
            assert!(!msg.contains(value), "{msg} leaks {value}");
        }
    }
    // A file cut short, and a .dcm that is not DICOM at all.
    let whole = dir.path().join("whole.dcm");
    let img = GrayImage::from_pixel(64, 64, image::Luma([90]));
    write_radiograph(&whole, &img, &DicomVariant::all()[0], &patient)?;
    let bytes = std::fs::read(&whole)?;
    let cut = dir.path().join("cut.dcm");
    std::fs::write(&cut, &bytes[..bytes.len() - 3000])?;
    let msg = decode::read_luma(&cut).err().ok_or("decoded")?.to_string();
    assert!(
        msg.starts_with(&format!("cannot read image {}: ", cut.display())),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1, "{msg}");
    let fake = dir.path().join("fake.dcm");
    std::fs::write(&fake, b"hello")?;
    let msg = decode::read_luma(&fake).err().ok_or("decoded")?.to_string();
    assert!(msg.contains("not a DICOM (PS3.10) file"), "{msg}");
    Ok(())
}

/// A class-folder copy of `n` images per class of the real sample: PNG in `png/`, DICOM (all
/// variants with a window, in turn) in `dcm/`, same relative names bar the extension.
fn png_and_dicom_copies(
    root: &Path,
    out: &Path,
    n: usize,
) -> Result<(PathBuf, PathBuf), Box<dyn std::error::Error>> {
    let windowed: Vec<DicomVariant> = DicomVariant::all()
        .into_iter()
        .filter(|v| v.window)
        .collect();
    let (png_root, dcm_root) = (out.join("png"), out.join("dcm"));
    for (i, (class, path)) in sample_pngs(root, n)?.iter().enumerate() {
        let stem = path
            .file_stem()
            .ok_or("stem")?
            .to_string_lossy()
            .into_owned();
        std::fs::create_dir_all(png_root.join(class))?;
        std::fs::copy(path, png_root.join(class).join(format!("{stem}.png")))?;
        let grey = png_grey(path)?;
        let v = &windowed[i % windowed.len()];
        write_radiograph(
            &dcm_root.join(class).join(format!("{stem}.dcm")),
            &grey,
            v,
            &Patient::canary(),
        )?;
    }
    Ok((png_root, dcm_root))
}

#[test]
fn unreadable_dicom_is_skipped_and_counted_or_fails_the_load() -> TestResult {
    let dir = tempfile::tempdir()?;
    let r = dir.path();
    let patient = Patient::canary();
    for class in ["a", "b"] {
        for i in 0..3u8 {
            let img = GrayImage::from_fn(24, 24, |x, y| {
                image::Luma([(x * 10 + y + u32::from(i)) as u8])
            });
            write_radiograph(
                &r.join(class).join(format!("{i}.dcm")),
                &img,
                &DicomVariant::all()[usize::from(i) * 7],
                &patient,
            )?;
        }
    }
    for kind in ErrorObject::ALL {
        kind.write(&r.join("b").join(kind.file_name()), &patient)?;
    }
    let strict = load(
        r,
        &LoadOptions {
            image_size: 16,
            ..LoadOptions::default()
        },
    );
    let msg = strict.err().ok_or("loaded")?.to_string();
    assert!(msg.starts_with("6 unreadable image(s) ("), "{msg}");
    assert!(msg.contains("set skip_unreadable = true"), "{msg}");
    // Every unreadable file is named, each on its own line (issue 32: only the first was).
    for kind in ErrorObject::ALL {
        assert!(msg.contains(kind.file_name()), "{msg}");
    }
    assert_eq!(msg.lines().count(), 7, "{msg}");
    let (set, report) = load(
        r,
        &LoadOptions {
            image_size: 16,
            skip_unreadable: true,
            ..LoadOptions::default()
        },
    )?;
    assert_eq!((set.len(), report.skipped.len()), (6, 6));

    let census = inspect(r, None)?;
    let b = &census.classes[1];
    assert_eq!((b.images, b.dicom, b.unreadable), (9, 3, 6));
    assert_eq!(b.bits_stored.get(&12), Some(&3));
    assert_eq!(census.unreadable.len(), 6);
    let json = serde_json_like(&census);
    for value in patient.values() {
        assert!(!json.contains(value), "inspect leaks {value}");
    }
    Ok(())
}

/// The census as `cxr data inspect` would print it (Debug covers every field).
fn serde_json_like(census: &cxr_data::Inspection) -> String {
    format!("{census:?}")
}

/// Files written by pydicom (scripts/dicom_fixtures.py), not by our writer: a JPEG 2000
/// MONOCHROME1 CR behind a rescale and a window, and an RLE DX whose VOI LUT Sequence must win
/// over its (clipping) window. Both hold a 64x64 crop of a real film and must give it back.
#[test]
fn fixtures_written_by_pydicom_decode_to_their_png() -> TestResult {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dicom");
    let crop = png_grey(&dir.join("crop.png"))?;
    for (file, ts) in [
        (
            "j2k-mono1-rescale.dcm",
            "JPEG 2000 Image Compression (Lossless Only)",
        ),
        ("rle-mono2-voilut.dcm", "RLE Lossless"),
    ] {
        let (luma, info) = decode::read_luma(&dir.join(file))?;
        assert!(decode::to_u8(&luma) == crop, "{file} differs from crop.png");
        assert_eq!(info.dicom.map(|d| d.transfer_syntax).as_deref(), Some(ts));
    }
    // With the file's window ignored, the RLE film is stretched over its own range instead.
    let full = decode::read_luma_with(&dir.join("rle-mono2-voilut.dcm"), &DicomWindow::Full)?;
    assert!(decode::to_u8(&full.0) == full_range(&crop));
    Ok(())
}

/// On the data in `../shared/data`: ignored by a plain `cargo test`, run by `just test` where the
/// folder exists (`cargo test -- --ignored shared_data::`).
mod shared_data {
    use super::*;

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn every_variant_of_a_real_png_decodes_to_its_grey_levels() -> TestResult {
        let root = real_sample()?;
        let dir = tempfile::tempdir()?;
        let patient = Patient::canary();
        let pngs = sample_pngs(&root, 1)?;
        let mut checked = 0;
        for (class, png_path) in &pngs {
            let png = png_grey(png_path)?;
            let stretched = full_range(&png);
            for variant in DicomVariant::all() {
                let path = dir.path().join(format!("{class}-{}.dcm", variant.name()));
                write_radiograph(&path, &png, &variant, &patient)?;
                let (luma, info) = decode::read_luma(&path)?;
                let grey = decode::to_u8(&luma);
                let expected = if variant.window { &png } else { &stretched };
                assert_eq!(grey.dimensions(), png.dimensions());
                assert!(
                    grey.as_raw() == expected.as_raw(),
                    "{} of {}: {} pixels differ",
                    variant.name(),
                    png_path.display(),
                    grey.as_raw()
                        .iter()
                        .zip(expected.as_raw())
                        .filter(|(a, b)| a != b)
                        .count()
                );
                let dicom = info.dicom.ok_or("no DICOM info")?;
                assert_eq!(dicom.bits_stored, 12);
                assert_eq!(dicom.modality, variant.modality);
                let mono1 = variant.photometric == cxr_dicom_fixtures::Photometric::Monochrome1;
                assert_eq!(
                    dicom.photometric,
                    if mono1 { "MONOCHROME1" } else { "MONOCHROME2" }
                );
                let ts = match variant.encoding {
                    Encoding::Uncompressed => "Explicit VR Little Endian",
                    Encoding::Rle => "RLE Lossless",
                    Encoding::JpegLossless => {
                        "JPEG Lossless, Non-Hierarchical, First-Order Prediction"
                    }
                };
                assert!(
                    dicom.transfer_syntax.starts_with(ts),
                    "{}",
                    dicom.transfer_syntax
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 3 * 24);
        Ok(())
    }

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn a_dicom_copy_of_the_sample_loads_into_the_same_cache_contents() -> TestResult {
        let root = real_sample()?;
        let dir = tempfile::tempdir()?;
        let (png_root, dcm_root) = png_and_dicom_copies(&root, dir.path(), 8)?;
        let cache = dir.path().join("cache");
        let opts = LoadOptions {
            image_size: 64,
            cache_dir: Some(cache.clone()),
            ..LoadOptions::default()
        };
        let (png, _) = load(&png_root, &opts)?;
        let (dcm, report) = load(&dcm_root, &opts)?;
        assert_eq!(report.decoded, 24);
        assert_eq!((&png.classes, &png.labels), (&dcm.classes, &dcm.labels));
        assert!(png.pixels == dcm.pixels, "cached pixels differ");
        let strip = |files: &[PathBuf]| -> Vec<PathBuf> {
            files.iter().map(|f| f.with_extension("")).collect()
        };
        assert_eq!(strip(&png.files), strip(&dcm.files));

        // The window setting is part of the cache key and changes the pixels.
        let pct = LoadOptions {
            dicom_window: DicomWindow::Percentiles([2.0, 98.0]),
            ..opts.clone()
        };
        let (clipped, r) = load(&dcm_root, &pct)?;
        assert_eq!(
            r.decoded, 24,
            "another window must not be served from the cache"
        );
        assert_ne!(clipped.pixels, dcm.pixels);
        assert_ne!(r.cache_path, report.cache_path);
        let (_, again) = load(&dcm_root, &opts)?;
        assert_eq!(again.decoded, 0);
        Ok(())
    }
}
