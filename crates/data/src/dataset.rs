//! Loading a dataset into memory: discover, decode + resize once (in parallel), cache, reuse.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use rayon::prelude::*;

use crate::cache::{self, CacheKey, CacheMiss, CachedImages};
use crate::decode::{read_luma, read_luma_with, resize_square, to_u8, LumaF32, Unreadable};
use crate::decode_progress::DecodeProgress;
use crate::discover::{discover, DatasetIndex};
use crate::error::{DataError, Result};
use crate::voi::DicomWindow;

/// Default side length of the square training images.
pub const DEFAULT_IMAGE_SIZE: u32 = 128;

/// How to turn the files of a dataset into cached 8-bit images.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Side length of the resized, square images.
    pub image_size: u32,
    /// Multiply each image by its lung mask from `<Class>/masks/` (same file name).
    pub mask: bool,
    /// Leave out unreadable files with a warning instead of failing.
    pub skip_unreadable: bool,
    /// Explicit class list (label order); `None` = every class folder, sorted.
    pub classes: Option<Vec<String>>,
    /// Folder for cache files; `None` decodes every time.
    pub cache_dir: Option<PathBuf>,
    /// How DICOM images are windowed to 8 bits (PNG/JPEG ignore it).
    pub dicom_window: DicomWindow,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            image_size: DEFAULT_IMAGE_SIZE,
            mask: false,
            skip_unreadable: false,
            classes: None,
            cache_dir: None,
            dicom_window: DicomWindow::File,
        }
    }
}

impl LoadOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(8..=1024).contains(&self.image_size) {
            return Err(DataError::InvalidSetting {
                setting: "image_size",
                message: format!("{} is outside 8..=1024", self.image_size),
            });
        }
        self.dicom_window.validate()
    }
}

/// The cache folder used when none is configured: `$CXR_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/cxr`, else `$HOME/.cache/cxr`, else `.cxr-cache` in the working directory.
pub fn default_cache_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("CXR_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|p| p.join("cxr")))
        .or_else(|| env("HOME").map(|p| p.join(".cache").join("cxr")))
        .unwrap_or_else(|| PathBuf::from(".cxr-cache"))
}

/// A dataset in memory: square 8-bit single-channel images and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// Class names in label order.
    pub classes: Vec<String>,
    /// Side length of every image.
    pub size: u32,
    /// One label per image.
    pub labels: Vec<u32>,
    /// `len() * size * size` bytes, image after image, row-major.
    pub pixels: Vec<u8>,
    /// Each image's path relative to the dataset root.
    pub files: Vec<PathBuf>,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `i` (`size * size` bytes, row-major).
    pub fn image(&self, i: usize) -> &[u8] {
        let n = (self.size * self.size) as usize;
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Number of images per class, in label order.
    pub fn class_counts(&self) -> Vec<usize> {
        count_labels(&self.labels, self.classes.len())
    }
}

/// Where the images of a load came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheStatus {
    /// Read from an intact cache file; nothing was decoded.
    Hit,
    /// No cache existed; decoded and written.
    Built,
    /// A cache existed but was damaged or stale (the reason); decoded and rewritten.
    Rebuilt(String),
    /// No cache folder configured.
    Disabled,
}

/// What a load did.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Number of image files decoded by this load (0 on a cache hit).
    pub decoded: usize,
    /// Cache outcome.
    pub cache: CacheStatus,
    /// The cache file, when caching is on.
    pub cache_path: Option<PathBuf>,
    /// Files left out as unreadable (`skip_unreadable`).
    pub skipped: Vec<Unreadable>,
}

/// Loads the dataset under `root`, from the cache when an intact one matches.
pub fn load(root: &Path, opts: &LoadOptions) -> Result<(ImageSet, LoadReport)> {
    opts.validate()?;
    let index = discover(root, opts.classes.as_deref())?;
    if opts.classes.is_none() {
        index.check_is_root()?;
    }
    let key = cache_key(&index, opts)?;
    let (cached, report) = through_cache(key, opts, || {
        let items: Vec<DecodeItem<'_>> = index
            .items()
            .map(|(path, label, class)| DecodeItem {
                path,
                label,
                mask: opts.mask.then(|| class.mask_path(path)),
            })
            .collect();
        let (cached, decoded) = decode_all(&index.root, &items, opts)?;
        for (class, count) in index
            .class_names()
            .iter()
            .zip(count_labels(&cached.labels, index.classes.len()))
        {
            if count == 0 {
                let dir = index.root.join(class);
                return Err(DataError::EmptyClass {
                    class: class.clone(),
                    dir,
                });
            }
        }
        Ok((cached, decoded))
    })?;
    Ok((into_set(index.class_names(), cached), report))
}

/// The images under `key` from the cache when an intact file holds them, else from `decode`
/// (written to the cache for next time).
pub(crate) fn through_cache(
    key: CacheKey,
    opts: &LoadOptions,
    decode: impl FnOnce() -> Result<(CachedImages, usize)>,
) -> Result<(CachedImages, LoadReport)> {
    let cache_path = opts
        .cache_dir
        .as_ref()
        .map(|d| d.join(format!("{}.bin", key.hex())));
    let mut status = CacheStatus::Disabled;
    if let Some(path) = &cache_path {
        match cache::read(path, key) {
            Ok(cached) => {
                let report = LoadReport {
                    decoded: 0,
                    cache: CacheStatus::Hit,
                    cache_path,
                    skipped: cached.skipped.clone(),
                };
                return Ok((cached, report));
            }
            Err(CacheMiss::Absent) => status = CacheStatus::Built,
            Err(CacheMiss::Invalid(why)) => {
                tracing::warn!("cache {} is unusable ({why}); rebuilding", path.display());
                status = CacheStatus::Rebuilt(why);
            }
        }
    }
    let (cached, decoded) = decode()?;
    if let Some(path) = &cache_path {
        if let Err(e) = cache::write(path, key, &cached) {
            tracing::warn!("could not write the image cache ({e}); the next load decodes again");
        }
    }
    let report = LoadReport {
        decoded,
        cache: status,
        cache_path,
        skipped: cached.skipped.clone(),
    };
    Ok((cached, report))
}

pub(crate) fn into_set(classes: Vec<String>, cached: CachedImages) -> ImageSet {
    ImageSet {
        classes,
        size: cached.size,
        labels: cached.labels,
        pixels: cached.pixels,
        files: cached.files,
    }
}

/// Hash of the file list (relative path, size, mtime), the labels, the masks used and the
/// preprocessing settings. The DICOM window enters only when it is not the default, so the
/// caches of datasets loaded before it existed keep their keys.
fn cache_key(index: &DatasetIndex, opts: &LoadOptions) -> Result<CacheKey> {
    let mut h = blake3::Hasher::new();
    h.update(&cache::FORMAT_VERSION.to_le_bytes());
    h.update(&opts.image_size.to_le_bytes());
    h.update(&[u8::from(opts.mask), u8::from(opts.skip_unreadable)]);
    if !opts.dicom_window.is_file() {
        h.update(b"dicom_window ");
        h.update(opts.dicom_window.key().as_bytes());
        h.update(&[0]);
    }
    for name in index.class_names() {
        h.update(name.as_bytes());
        h.update(&[0]);
    }
    for (path, label, class) in index.items() {
        h.update(&label.to_le_bytes());
        hash_file_stat(&mut h, &index.root, path)?;
        if opts.mask {
            let mask = class.mask_path(path);
            if mask.is_file() {
                hash_file_stat(&mut h, &index.root, &mask)?;
            }
        }
    }
    Ok(CacheKey(*h.finalize().as_bytes()))
}

/// Hashes what `stat` says of `path`: its path relative to `root`, size and modification
/// time (the image cache's key, and the fingerprint memo's).
pub(crate) fn hash_file_stat(h: &mut blake3::Hasher, root: &Path, path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(DataError::io(path))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    h.update(relative(root, path).to_string_lossy().as_bytes());
    h.update(&[0]);
    h.update(&meta.len().to_le_bytes());
    h.update(&mtime.to_le_bytes());
    Ok(())
}

fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// One image to decode: its file, its label, and (with `mask = true`) where its mask must be.
pub(crate) struct DecodeItem<'a> {
    /// The image file.
    pub path: &'a Path,
    /// Its label.
    pub label: u32,
    /// Its lung mask's expected path, when masks are applied.
    pub mask: Option<PathBuf>,
}

/// Decodes `items` in parallel into one buffer; unreadable files fail the load unless
/// `skip_unreadable`, then they are left out and listed. Returns the images and the count tried.
pub(crate) fn decode_all(
    root: &Path,
    items: &[DecodeItem<'_>],
    opts: &LoadOptions,
) -> Result<(CachedImages, usize)> {
    let size = opts.image_size;
    let image_bytes = (size * size) as usize;
    // Each image is decoded straight into its slot of the one buffer the dataset lives in, so
    // the dataset is never held twice (a `Vec` per image, then their concatenation, would be).
    let mut pixels = vec![0u8; items.len() * image_bytes];
    let progress = DecodeProgress::start(root, items.len(), size);
    let unreadable = pixels
        .par_chunks_mut(image_bytes.max(1))
        .zip(items.par_iter())
        .map(|(slot, item)| {
            let outcome = preprocess_into(item.path, item.mask.as_deref(), opts, slot);
            progress.one_done();
            outcome
        })
        .collect::<Result<Vec<Option<Unreadable>>>>()?;
    progress.finish();
    let mut cached = CachedImages {
        size,
        labels: Vec::with_capacity(items.len()),
        pixels,
        files: Vec::with_capacity(items.len()),
        skipped: Vec::new(),
    };
    // Close the gaps unreadable images left, in place.
    let mut kept = 0;
    for (i, (item, failed)) in items.iter().zip(unreadable).enumerate() {
        match failed {
            None => {
                if kept != i {
                    let from = i * image_bytes;
                    cached
                        .pixels
                        .copy_within(from..from + image_bytes, kept * image_bytes);
                }
                kept += 1;
                cached.labels.push(item.label);
                cached.files.push(relative(root, item.path));
            }
            Some(u) => cached.skipped.push(u),
        }
    }
    cached.pixels.truncate(kept * image_bytes);
    if !cached.skipped.is_empty() {
        if !opts.skip_unreadable {
            return Err(DataError::Unreadable(cached.skipped));
        }
        tracing::warn!(
            "skipped {} unreadable image(s) (skip_unreadable = true), first: {}: {}",
            cached.skipped.len(),
            cached.skipped[0].path.display(),
            cached.skipped[0].reason
        );
    }
    Ok((cached, items.len()))
}

/// Number of labels equal to each class index in `0..classes`.
pub fn count_labels(labels: &[u32], classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    for &l in labels {
        counts[l as usize] += 1;
    }
    counts
}

/// Decode, resize, mask and quantise one image into `slot`. A missing mask is a hard error (the
/// setting is wrong for this dataset); an undecodable image or mask is returned as unreadable.
fn preprocess_into(
    path: &Path,
    mask: Option<&Path>,
    opts: &LoadOptions,
    slot: &mut [u8],
) -> Result<Option<Unreadable>> {
    if let Some(mask_path) = mask {
        if !mask_path.is_file() {
            return Err(DataError::MissingMask {
                image: path.to_path_buf(),
                expected: mask_path.to_path_buf(),
            });
        }
    }
    match preprocess_file(path, mask, opts.image_size, &opts.dicom_window) {
        Ok(pixels) => {
            slot.copy_from_slice(&pixels);
            Ok(None)
        }
        Err(DataError::Decode { path, reason }) => Ok(Some(Unreadable { path, reason })),
        Err(other) => Err(other),
    }
}

/// The 8-bit pixels [`load`] caches for `image`: decoded to luminance (DICOM windowed by
/// `dicom_window`), resized to `image_size` square, zeroed outside `mask` when one is given,
/// quantised. Inference calls this so that a new image reaches a model exactly as the training
/// images did.
pub fn preprocess_file(
    image: &Path,
    mask: Option<&Path>,
    image_size: u32,
    dicom_window: &DicomWindow,
) -> Result<Vec<u8>> {
    let img = resize_square(&read_luma_with(image, dicom_window)?.0, image_size);
    let img = match mask {
        Some(mask) => apply_mask(img, &resize_square(&read_luma(mask)?.0, image_size)),
        None => img,
    };
    Ok(to_u8(&img).into_raw())
}

/// Zeroes every pixel outside the lung mask (mask >= 0.5 after resizing).
fn apply_mask(mut img: LumaF32, mask: &LumaF32) -> LumaF32 {
    for (p, m) in img.pixels_mut().zip(mask.pixels()) {
        if m.0[0] < 0.5 {
            p.0[0] = 0.0;
        }
    }
    img
}
