//! End-to-end loading: decode once, cache, reuse, invalidate, fail clearly.

use std::path::{Path, PathBuf};

use cxr_data::{load, CacheStatus, DataError, LoadOptions};
use image::{GrayImage, Luma};

use crate::support::{real_sample, TestResult};

/// Writes `n` gray PNGs per class in the Kaggle layout, with masks covering the left half.
fn kaggle_fixture(
    root: &Path,
    classes: &[&str],
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    for (c, class) in classes.iter().enumerate() {
        std::fs::create_dir_all(root.join(class).join("images"))?;
        std::fs::create_dir_all(root.join(class).join("masks"))?;
        for i in 0..n {
            let name = format!("{class}-{i}.png");
            let img = GrayImage::from_fn(40, 30, |x, y| {
                Luma([(x * 3 + y + c as u32 * 50 + i as u32) as u8])
            });
            img.save(root.join(class).join("images").join(&name))?;
            let mask = GrayImage::from_fn(40, 30, |x, _| Luma([if x < 20 { 255 } else { 0 }]));
            mask.save(root.join(class).join("masks").join(&name))?;
        }
    }
    std::fs::write(root.join("COVID.metadata.xlsx"), b"not a class")?;
    Ok(())
}

fn opts(cache: &Path) -> LoadOptions {
    LoadOptions {
        image_size: 16,
        cache_dir: Some(cache.to_path_buf()),
        ..LoadOptions::default()
    }
}

#[test]
fn second_load_decodes_nothing_and_matches_the_first() -> TestResult {
    let data = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    kaggle_fixture(data.path(), &["COVID", "Normal"], 5)?;
    let (first, r1) = load(data.path(), &opts(cache.path()))?;
    assert_eq!((r1.decoded, r1.cache.clone()), (10, CacheStatus::Built));
    assert_eq!(first.classes, ["COVID", "Normal"]);
    assert_eq!(first.pixels.len(), 10 * 16 * 16);
    assert_eq!(first.class_counts(), [5, 5]);
    let (second, r2) = load(data.path(), &opts(cache.path()))?;
    assert_eq!((r2.decoded, r2.cache), (0, CacheStatus::Hit));
    assert_eq!(first, second);
    Ok(())
}

#[test]
fn a_changed_file_or_setting_invalidates_the_cache() -> TestResult {
    let data = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    kaggle_fixture(data.path(), &["a", "b"], 3)?;
    let (before, _) = load(data.path(), &opts(cache.path()))?;
    // Same size, different content and mtime.
    let target = data.path().join("a/images/a-1.png");
    GrayImage::from_pixel(40, 30, Luma([255])).save(&target)?;
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&target)?
        .set_modified(later)?;
    let (after, r) = load(data.path(), &opts(cache.path()))?;
    assert_eq!(
        r.decoded, 6,
        "a changed file must not be served from the cache"
    );
    assert_ne!(before.pixels, after.pixels);
    let (_, r) = load(
        data.path(),
        &LoadOptions {
            image_size: 8,
            ..opts(cache.path())
        },
    )?;
    assert_eq!(r.decoded, 6, "another image size is another cache");
    Ok(())
}

#[test]
fn a_corrupt_cache_is_rebuilt_not_used() -> TestResult {
    let data = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    kaggle_fixture(data.path(), &["a", "b"], 3)?;
    let (good, r) = load(data.path(), &opts(cache.path()))?;
    let path: PathBuf = r.cache_path.ok_or("cache path")?;
    let mut bytes = std::fs::read(&path)?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&path, &bytes)?;
    let (again, r) = load(data.path(), &opts(cache.path()))?;
    assert!(
        matches!(r.cache, CacheStatus::Rebuilt(ref why) if why == "checksum mismatch"),
        "{:?}",
        r.cache
    );
    assert_eq!(r.decoded, 6);
    assert_eq!(good, again);
    let (_, r) = load(data.path(), &opts(cache.path()))?;
    assert_eq!(
        r.cache,
        CacheStatus::Hit,
        "the rebuilt cache is used next time"
    );
    Ok(())
}

#[test]
fn truncated_png_fails_the_load_or_is_skipped_when_asked() -> TestResult {
    let data = tempfile::tempdir()?;
    kaggle_fixture(data.path(), &["a", "b"], 4)?;
    let bad = data.path().join("b/images/b-2.png");
    let bytes = std::fs::read(&bad)?;
    std::fs::write(&bad, &bytes[..bytes.len() / 2])?;
    std::fs::write(data.path().join("a/images/zz.png"), b"")?;
    let err = load(data.path(), &LoadOptions::default())
        .err()
        .ok_or("expected an error")?;
    match &err {
        DataError::Unreadable(list) => {
            let paths: Vec<&Path> = list.iter().map(|u| u.path.as_path()).collect();
            assert_eq!(paths, [data.path().join("a/images/zz.png"), bad.clone()]);
        }
        other => return Err(format!("wrong error: {other}").into()),
    }
    assert!(err.to_string().contains("skip_unreadable = true"), "{err}");

    let cache = tempfile::tempdir()?;
    let skip = LoadOptions {
        skip_unreadable: true,
        ..opts(cache.path())
    };
    let (set, r) = load(data.path(), &skip)?;
    assert_eq!((set.len(), r.skipped.len()), (7, 2));
    // The images after a skipped one moved up into its slot: each is still its own file's.
    for (i, file) in set.files.iter().enumerate() {
        let expected = cxr_data::preprocess_file(
            &data.path().join(file),
            None,
            set.size,
            &cxr_data::DicomWindow::default(),
        )?;
        assert_eq!(set.image(i), &expected[..], "{}", file.display());
    }
    let (cached, r) = load(data.path(), &skip)?;
    assert_eq!(
        (r.decoded, r.skipped.len()),
        (0, 2),
        "the cache remembers what it skipped"
    );
    assert_eq!(cached, set, "the cache gives back what was decoded");
    Ok(())
}

#[test]
fn masks_zero_the_outside_and_a_missing_mask_is_an_error() -> TestResult {
    let data = tempfile::tempdir()?;
    kaggle_fixture(data.path(), &["a", "b"], 3)?;
    let masked = LoadOptions {
        image_size: 16,
        mask: true,
        ..LoadOptions::default()
    };
    let (set, _) = load(data.path(), &masked)?;
    let img = set.image(0);
    assert!(
        img[..16].iter().skip(9).all(|&p| p == 0),
        "right half is outside the mask"
    );
    assert!(img[16 * 8 + 2] > 0, "left half is kept");
    std::fs::remove_file(data.path().join("b/masks/b-1.png"))?;
    let err = load(data.path(), &masked)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("b-1.png") && err.contains("masks") && err.contains("mask = false"),
        "{err}"
    );
    Ok(())
}

#[test]
fn empty_class_and_missing_root_are_clear_errors() -> TestResult {
    let data = tempfile::tempdir()?;
    kaggle_fixture(data.path(), &["a"], 3)?;
    std::fs::create_dir_all(data.path().join("b"))?;
    let err = load(data.path(), &LoadOptions::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("class \"b\" has no images in"), "{err}");
    let err = load(&data.path().join("missing"), &LoadOptions::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("missing") && err.contains("does not exist"),
        "{err}"
    );
    Ok(())
}

/// On the data in `../shared/data`: ignored by a plain `cargo test`, run by `just test` where the
/// folder exists (`cargo test -- --ignored shared_data::`).
mod shared_data {
    use super::*;

    /// The real sample beside the checkout: 3 x 300 RGB PNGs (R=G=B), 256x256.
    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn real_sample_loads_when_present() -> TestResult {
        let root = real_sample()?;
        let cache = tempfile::tempdir()?;
        let (set, r) = load(&root, &opts(cache.path()))?;
        assert_eq!(r.decoded, 900);
        assert_eq!(set.classes, ["COVID", "Normal", "Viral Pneumonia"]);
        assert_eq!(set.class_counts(), [300, 300, 300]);
        let mean = set.pixels.iter().map(|&p| f64::from(p)).sum::<f64>() / set.pixels.len() as f64;
        assert!(
            (60.0..200.0).contains(&mean),
            "radiographs are neither black nor white: {mean}"
        );
        Ok(())
    }
}
