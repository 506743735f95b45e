//! The image file of each row: looked up under the dataset root, then its `images/` folder (NIH),
//! then the root without the path's first folder when that folder is the root's own name
//! (CheXpert's `CheXpert-v1.0-small/train/...` paths, with the table inside that folder).
//! Two rows naming one file are an error naming both lines.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::read::RawTable;
use crate::error::{DataError, Result, TableError};

/// The located rows: which rows kept, their files (relative to the root), the rows skipped.
pub(crate) struct Located {
    /// Rows whose file exists, in table order.
    pub rows: Vec<usize>,
    /// Each kept row's file, relative to the root (absolute when outside it).
    pub files: Vec<PathBuf>,
    /// Rows skipped for a missing file (`skip_missing`): line and path as written.
    pub missing: Vec<(usize, PathBuf)>,
}

/// Finds the file of every row in `rows` (paths in column `col`).
pub(crate) fn locate(
    raw: &RawTable,
    rows: &[usize],
    col: usize,
    root: &Path,
    skip_missing: bool,
    table: &Path,
) -> Result<Located> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    let mut seen_files: HashMap<PathBuf, usize> = HashMap::with_capacity(rows.len());
    let mut out = Located {
        rows: Vec::with_capacity(rows.len()),
        files: Vec::with_capacity(rows.len()),
        missing: Vec::new(),
    };
    let duplicate = |first: usize, line: usize, path: &str| {
        DataError::from(TableError::Duplicate {
            table: table.to_path_buf(),
            first,
            line,
            path: PathBuf::from(path),
        })
    };
    for &row in rows {
        let (written, line) = (raw.cell(row, col), raw.lines[row]);
        if written.is_empty() {
            return Err(DataError::from(TableError::Row {
                table: table.to_path_buf(),
                line,
                message: format!("{} is blank: every row names its image", raw.header[col]),
            }));
        }
        if let Some(&first) = seen.get(written) {
            return Err(duplicate(first, line, written));
        }
        seen.insert(written, line);
        let Some(file) = find(root, Path::new(written)) else {
            if !skip_missing {
                return Err(DataError::from(TableError::MissingFile {
                    table: table.to_path_buf(),
                    line,
                    path: PathBuf::from(written),
                    root: root.to_path_buf(),
                }));
            }
            out.missing.push((line, PathBuf::from(written)));
            continue;
        };
        if let Some(first) = seen_files.insert(file.clone(), line) {
            return Err(duplicate(first, line, written));
        }
        out.rows.push(row);
        out.files.push(file);
    }
    if !out.missing.is_empty() {
        tracing::warn!(
            "{}: skipped {} row(s) naming missing images (skip_missing = true), first on line {}: {}",
            table.display(),
            out.missing.len(),
            out.missing[0].0,
            out.missing[0].1.display()
        );
    }
    Ok(out)
}

/// Where `written` is, relative to `root` (see the module doc), or `None`.
fn find(root: &Path, written: &Path) -> Option<PathBuf> {
    if written.is_absolute() {
        return written
            .is_file()
            .then(|| written.strip_prefix(root).unwrap_or(written).to_path_buf());
    }
    let mut candidates = vec![written.to_path_buf(), Path::new("images").join(written)];
    let mut parts = written.components();
    if let (Some(Component::Normal(first)), Some(name)) = (parts.next(), root.file_name()) {
        if first == name {
            candidates.push(parts.as_path().to_path_buf());
        }
    }
    candidates.into_iter().find(|c| root.join(c).is_file())
}
