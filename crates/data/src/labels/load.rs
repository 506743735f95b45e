//! A label table's images in memory: decoded through the same cache as a folder dataset, keyed
//! by the table's content, the settings that read it, and every image's `stat`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{read_label_table, LabelSpec, LabelTable};
use crate::cache::{self, CacheKey};
use crate::dataset::{decode_all, hash_file_stat, into_set, through_cache, DecodeItem};
use crate::dataset::{ImageSet, LoadOptions, LoadReport};
use crate::discover::mask_path_of;
use crate::error::Result;

/// A label table's films in memory: the images, and the table's rows aligned with them (film
/// `i` of `images` is film `i` of `table`; rows whose image was unreadable and skipped are gone
/// from both).
#[derive(Debug, Clone, PartialEq)]
pub struct TableSet {
    /// The pixels. `classes`/`labels` are [`LabelTable::class_names`] and
    /// [`LabelTable::class_labels`]: a single-label table's classes, otherwise whether each film
    /// has a finding (what stratification and balanced sampling can use).
    pub images: ImageSet,
    /// The films' findings, patients, views and table lines.
    pub table: LabelTable,
}

/// Reads the label table `spec` describes and loads its images, from the cache when an intact
/// one matches. `opts.classes` is ignored (`spec.findings` chooses); `opts.mask` looks for each
/// image's mask in `masks/` beside it (or beside its `images/` folder).
pub fn load_table(spec: &LabelSpec, opts: &LoadOptions) -> Result<(TableSet, LoadReport)> {
    opts.validate()?;
    let table = read_label_table(spec)?;
    let key = cache_key(&table, spec, opts)?;
    let paths: Vec<PathBuf> = table.files.iter().map(|f| table.root.join(f)).collect();
    let labels = table.class_labels();
    let (cached, report) = through_cache(key, opts, || {
        let items: Vec<DecodeItem<'_>> = paths
            .iter()
            .zip(&labels)
            .map(|(path, &label)| DecodeItem {
                path,
                label,
                mask: opts.mask.then(|| mask_path_of(path)),
            })
            .collect();
        decode_all(&table.root, &items, opts)
    })?;
    let row_of: HashMap<&Path, usize> = table
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_path(), i))
        .collect();
    // The cache holds the films it decoded; the table's rows follow them.
    let films: Vec<usize> = cached
        .files
        .iter()
        .filter_map(|f| row_of.get(f.as_path()).copied())
        .collect();
    let table = if films.len() == table.len() {
        table
    } else {
        table.select(&films)
    };
    let images = into_set(table.class_names(), cached);
    Ok((TableSet { images, table }, report))
}

/// The image cache's key for a table: the cache format, the preprocessing settings (all of
/// them: a table's key has no older form to keep), the table's content and the settings that
/// read it, then every image's (and mask's) path, size and modification time.
fn cache_key(table: &LabelTable, spec: &LabelSpec, opts: &LoadOptions) -> Result<CacheKey> {
    let mut h = blake3::Hasher::new();
    h.update(&cache::FORMAT_VERSION.to_le_bytes());
    h.update(b"label table\0");
    h.update(&opts.image_size.to_le_bytes());
    h.update(&[u8::from(opts.mask), u8::from(opts.skip_unreadable)]);
    h.update(opts.dicom_window.key().as_bytes());
    h.update(&[0]);
    h.update(&table.content_key());
    h.update(spec.settings_key().as_bytes());
    h.update(&[0]);
    for file in &table.files {
        let path = table.root.join(file);
        hash_file_stat(&mut h, &table.root, &path)?;
        if opts.mask {
            let mask = mask_path_of(&path);
            if mask.is_file() {
                hash_file_stat(&mut h, &table.root, &mask)?;
            }
        }
    }
    Ok(CacheKey(*h.finalize().as_bytes()))
}
