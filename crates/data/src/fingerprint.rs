//! A dataset's identity by content: what a run computed from, whatever the folder is called.
//!
//! A run id must not depend on how the dataset's path is spelled (`../../data/x` or
//! `/mnt/lab/x`), where it is mounted, or whether it is a byte-identical copy: each of those
//! would retrain every run and make `cxr report` see two configurations. So the identity of a
//! folder dataset is a [`Fingerprint`]: a BLAKE3 hash over the class names and, for every image
//! in label order, its label, its path relative to the root, its size and the BLAKE3 of its
//! bytes (and its lung mask's, when masks are used). Moving, renaming or remounting the data
//! keeps the fingerprint; changing one pixel of one image changes it.
//!
//! Hashing every file costs a read of the dataset, so the result is remembered in the cache
//! folder under a key of what `stat` tells (the same relative paths, sizes and modification
//! times that key the image cache, [`crate::load`]): a warm sweep stats the files, as loading
//! does anyway, and reads one small file. A copy made without keeping modification times is
//! hashed once, then remembered too. The memo is only a shortcut: a missing or damaged one is
//! recomputed, never trusted.
//!
//! A label-table dataset ([`table_fingerprint`]) is identified the same way, over the table's
//! content and the settings that read it in place of the class names.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::dataset::hash_file_stat;
use crate::discover::{discover, mask_path_of, DatasetIndex};
use crate::error::{DataError, Result};
use crate::labels::{read_label_table, LabelSpec};

/// Bump when what the fingerprint covers changes.
const VERSION: &str = "cxr dataset fingerprint v1";
/// The same for label-table datasets.
const TABLE_VERSION: &str = "cxr label table fingerprint v1";
/// Hex digits kept: 64 bits are plenty to tell datasets apart, and short enough to read.
const HEX_DIGITS: usize = 16;

/// The content hash of a folder dataset (16 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parses a fingerprint as written by [`Fingerprint::as_str`]: 16 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == HEX_DIGITS
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(text.to_string()))
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What identifies a dataset's content for a run: the folder, the classes it reads, and whether
/// the lung masks are part of what it reads.
#[derive(Debug, Clone, Copy)]
pub struct FingerprintRequest<'a> {
    /// The dataset root.
    pub root: &'a Path,
    /// Explicit class list (label order); `None` = every class folder, sorted.
    pub classes: Option<&'a [String]>,
    /// Whether each image's lung mask is read too (`mask = true`).
    pub masks: bool,
}

/// The fingerprint of the dataset under `request.root`, from the memo in `cache_dir` when its
/// files are unchanged since it was last hashed (no memo without a cache folder).
pub fn fingerprint(
    request: FingerprintRequest<'_>,
    cache_dir: Option<&Path>,
) -> Result<Fingerprint> {
    let index = discover(request.root, request.classes)?;
    let files = files_of(&index, request.masks);
    let head = Head {
        version: VERSION,
        hash: &|h| hash_classes(h, &index),
    };
    memoised(&index.root, &head, &files, cache_dir)
}

/// The fingerprint of a label-table dataset: the table's content and what was read from it
/// ([`crate::labels::LabelTable::content_key`]: its bytes, films, findings, patients, views), the settings
/// that read it (columns, findings, filter; not the paths), and every image's content (and
/// its mask's, with `masks`). A folder dataset's fingerprint is untouched by this.
pub fn table_fingerprint(
    spec: &LabelSpec,
    masks: bool,
    cache_dir: Option<&Path>,
) -> Result<Fingerprint> {
    let table = read_label_table(spec)?;
    let paths: Vec<PathBuf> = table.files.iter().map(|f| table.root.join(f)).collect();
    let files: Vec<Entry<'_>> = paths
        .iter()
        .zip(table.class_labels())
        .map(|(image, label)| Entry {
            label,
            image,
            mask: masks
                .then(|| mask_path_of(image))
                .filter(|mask| mask.is_file()),
        })
        .collect();
    let head = Head {
        version: TABLE_VERSION,
        hash: &|h| {
            h.update(&table.content_key());
            h.update(spec.settings_key().as_bytes());
            h.update(&[0]);
        },
    };
    memoised(&table.root, &head, &files, cache_dir)
}

/// What is hashed before the files: a version string, then what names the labels.
struct Head<'a> {
    version: &'a str,
    hash: &'a dyn Fn(&mut blake3::Hasher),
}

impl Head<'_> {
    fn start(&self) -> blake3::Hasher {
        let mut h = blake3::Hasher::new();
        h.update(self.version.as_bytes());
        h.update(&[0]);
        (self.hash)(&mut h);
        h
    }
}

fn memoised(
    root: &Path,
    head: &Head<'_>,
    files: &[Entry<'_>],
    cache_dir: Option<&Path>,
) -> Result<Fingerprint> {
    let memo = match cache_dir {
        Some(dir) => Some(memo_path(dir, &stat_key(root, head, files)?)),
        None => None,
    };
    if let Some(found) = memo.as_deref().and_then(read_memo) {
        return Ok(found);
    }
    let found = hash_contents(root, head, files)?;
    if let Some(path) = &memo {
        if let Err(e) = write_memo(path, &found) {
            tracing::warn!(
                "could not remember the dataset fingerprint in {} ({e}); the next plan hashes the files again",
                path.display()
            );
        }
    }
    Ok(found)
}

/// One image of the dataset and what is hashed with it.
struct Entry<'a> {
    label: u32,
    image: &'a Path,
    mask: Option<PathBuf>,
}

fn files_of(index: &DatasetIndex, masks: bool) -> Vec<Entry<'_>> {
    index
        .items()
        .map(|(image, label, class)| Entry {
            label,
            image,
            mask: masks
                .then(|| class.mask_path(image))
                .filter(|mask| mask.is_file()),
        })
        .collect()
}

/// What `stat` says of every file: the memo's key.
fn stat_key(root: &Path, head: &Head<'_>, files: &[Entry<'_>]) -> Result<String> {
    let mut h = head.start();
    for entry in files {
        h.update(&entry.label.to_le_bytes());
        for path in std::iter::once(entry.image).chain(entry.mask.as_deref()) {
            hash_file_stat(&mut h, root, path)?;
        }
    }
    Ok(h.finalize().to_hex().to_string())
}

fn hash_classes(h: &mut blake3::Hasher, index: &DatasetIndex) {
    for name in index.class_names() {
        h.update(name.as_bytes());
        h.update(&[0]);
    }
    h.update(&[0]);
}

/// The fingerprint proper: every file read and hashed, in parallel, combined in label order.
fn hash_contents(root: &Path, head: &Head<'_>, files: &[Entry<'_>]) -> Result<Fingerprint> {
    let digests = files
        .par_iter()
        .map(|entry| {
            let image = file_digest(entry.image)?;
            let mask = entry.mask.as_deref().map(file_digest).transpose()?;
            Ok((image, mask))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut h = head.start();
    for (entry, (image, mask)) in files.iter().zip(digests) {
        h.update(&entry.label.to_le_bytes());
        for (path, digest) in
            std::iter::once((entry.image, image)).chain(entry.mask.as_deref().zip(mask))
        {
            h.update(relative(root, path).as_bytes());
            h.update(&[0]);
            h.update(&digest.0.to_le_bytes());
            h.update(digest.1.as_bytes());
        }
    }
    let hex = h.finalize().to_hex();
    Ok(Fingerprint(hex[..HEX_DIGITS].to_string()))
}

/// A file's size and the BLAKE3 of its bytes, read in chunks (no whole-file buffer).
fn file_digest(path: &Path) -> Result<(u64, blake3::Hash)> {
    let mut file = std::fs::File::open(path).map_err(DataError::io(path))?;
    let mut h = blake3::Hasher::new();
    let size = std::io::copy(&mut file, &mut h).map_err(DataError::io(path))?;
    Ok((size, h.finalize()))
}

fn relative(root: &Path, path: &Path) -> String {
    // Forward slashes on every platform, so a dataset copied between systems keeps its identity.
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn memo_path(cache_dir: &Path, key: &str) -> PathBuf {
    cache_dir.join("fingerprints").join(format!("{key}.txt"))
}

fn read_memo(path: &Path) -> Option<Fingerprint> {
    let text = std::fs::read_to_string(path).ok()?;
    Fingerprint::parse(text.trim())
}

fn write_memo(path: &Path, found: &Fingerprint) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = crate::cache::shared_builder().tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, format!("{found}\n").as_bytes())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(path: &Path, value: u8) {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).expect("mkdir");
        image::GrayImage::from_pixel(8, 8, image::Luma([value]))
            .save(path)
            .expect("png");
    }

    fn dataset(root: &Path) {
        for (class, value) in [("A", 10), ("B", 200)] {
            for i in 0..3 {
                png(&root.join(class).join(format!("{i}.png")), value + i);
            }
        }
    }

    fn of(root: &Path, cache: Option<&Path>) -> Fingerprint {
        let request = FingerprintRequest {
            root,
            classes: None,
            masks: false,
        };
        fingerprint(request, cache).expect("fingerprint")
    }

    #[test]
    fn a_copy_and_another_spelling_are_the_same_dataset() {
        let tmp = tempfile::tempdir().expect("tmp");
        let a = tmp.path().join("a");
        let b = tmp.path().join("elsewhere/b");
        dataset(&a);
        dataset(&b);
        let cache = tmp.path().join("cache");
        let first = of(&a, Some(&cache));
        assert_eq!(of(&b, Some(&cache)), first);
        assert_eq!(of(&a.join("../a"), None), first);
        assert_eq!(first.as_str().len(), HEX_DIGITS);
    }

    #[test]
    fn one_changed_image_changes_it_even_with_a_memo() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("d");
        dataset(&root);
        let cache = tmp.path().join("cache");
        let before = of(&root, Some(&cache));
        png(&root.join("B/1.png"), 7);
        assert_ne!(of(&root, Some(&cache)), before);
        assert_ne!(of(&root, None), before);
    }

    #[test]
    fn a_damaged_memo_is_recomputed() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("d");
        dataset(&root);
        let cache = tmp.path().join("cache");
        let right = of(&root, Some(&cache));
        let memo = std::fs::read_dir(cache.join("fingerprints"))
            .expect("memo folder")
            .next()
            .expect("one memo")
            .expect("entry")
            .path();
        std::fs::write(&memo, "not a fingerprint").expect("damage");
        assert_eq!(of(&root, Some(&cache)), right);
    }

    #[test]
    fn the_class_list_is_part_of_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path().join("d");
        dataset(&root);
        let reversed = ["B".to_string(), "A".to_string()];
        let request = FingerprintRequest {
            root: &root,
            classes: Some(&reversed),
            masks: false,
        };
        assert_ne!(fingerprint(request, None).expect("fp"), of(&root, None));
    }
}
