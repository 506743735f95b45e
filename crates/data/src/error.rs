//! The data crate's error type: every variant names the file or setting at fault and, where one
//! exists, the fix.

use std::path::PathBuf;

/// Errors from discovering, decoding, caching, splitting and sampling datasets.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A filesystem operation failed on `path`.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder being read or written.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The dataset root does not exist or is not a folder.
    #[error(
        "dataset folder {0} does not exist: pass the folder that holds one sub-folder per class"
    )]
    MissingRoot(PathBuf),
    /// The dataset root has no class folders.
    #[error(
        "no class folders in {0}: expected <root>/<Class>/images/*.png or <root>/<Class>/*.png"
    )]
    NoClasses(PathBuf),
    /// The folder given as a dataset root is a class folder, or holds a single class.
    #[error("{root} is not a dataset root: {reason}; pass {advice}")]
    NotADatasetRoot {
        /// The folder given.
        root: PathBuf,
        /// Why it is not a root.
        reason: String,
        /// The folder that is probably the root.
        likely_root: PathBuf,
        /// Where that folder is, in words (`the folder above, /data/covid`).
        advice: String,
    },
    /// A class folder holds no image.
    #[error(
        "class {class:?} has no images in {dir}: add PNG/JPEG/DICOM files or remove the folder"
    )]
    EmptyClass {
        /// Class name.
        class: String,
        /// The folder that was searched.
        dir: PathBuf,
    },
    /// A class named in the config has no folder under the root.
    #[error("class {class:?} listed in the config has no folder under {root}")]
    UnknownClass {
        /// Class name from the config.
        class: String,
        /// The dataset root.
        root: PathBuf,
    },
    /// An image could not be decoded.
    #[error("cannot read image {path}: {reason}")]
    Decode {
        /// The image file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Several images could not be decoded (the load lists them all).
    #[error("{} unreadable image(s) (fix or remove them, or set skip_unreadable = true in the grid's [data]):{}", .0.len(), unreadable_lines(.0))]
    Unreadable(Vec<crate::Unreadable>),
    /// `mask = true` but an image has no mask file.
    #[error("no lung mask for {image}: expected {expected} (set mask = false, or add the mask)")]
    MissingMask {
        /// The image.
        image: PathBuf,
        /// Where the mask was looked for.
        expected: PathBuf,
    },
    /// A setting is out of range.
    #[error("invalid setting {setting}: {message}")]
    InvalidSetting {
        /// The setting's name as written in config files.
        setting: &'static str,
        /// What is allowed.
        message: String,
    },
    /// A class is too small to appear in every split.
    #[error("class {class:?} has {count} image(s); at least 3 are needed to put one in each of train/val/test")]
    ClassTooSmall {
        /// Class name.
        class: String,
        /// Number of images it has.
        count: usize,
    },
    /// A class is too small for every fold to have it in test, validation and training.
    #[error("class {class:?} has {count} image(s), too few for {folds}-fold cross-validation (each fold needs one in test and two outside it): use fewer folds")]
    ClassTooSmallForFolds {
        /// Class name.
        class: String,
        /// Number of images it has.
        count: usize,
        /// Folds asked for.
        folds: usize,
    },
    /// A split by patient has fewer patients (groups with films) than the parts it must fill.
    #[error("{groups} patient(s) cannot fill the {parts} parts of {split}: each part needs one patient's films; use fewer folds, add patients, or set [split] group = \"film\"")]
    TooFewGroups {
        /// Patients with at least one film.
        groups: usize,
        /// Parts to fill.
        parts: usize,
        /// The split, in words (`train/val/test`, `5 folds`).
        split: String,
    },
    /// A split by patient left a part without films (too few patients outside a test fold).
    #[error("the split by patient left {part} without films ({groups} patient(s) to share): use fewer folds, add patients, or set [split] group = \"film\"")]
    EmptyPart {
        /// The part (`val`, `fold 2 train`).
        part: String,
        /// Patients that were shared out.
        groups: usize,
    },
    /// The patient of each film does not match the label table's films.
    #[error("the patient list does not match the label table: {0}; build both from the same rows")]
    GroupsMismatch(String),
    /// A PNG could not be written.
    #[error("cannot write image {path}: {reason}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A tensor operation failed.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// A label table is malformed or does not fit its settings (boxed: it is large and rare).
    #[error(transparent)]
    Table(Box<TableError>),
}

/// What is wrong with a label table: each names the table file and, where there is one, the
/// line (1 = the header; Parquet: row number + 1), and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// A label table could not be read as CSV or Parquet.
    #[error("{}: cannot read the label table: {reason} (write it as CSV with a header line, or as Parquet)", .table.display())]
    Read {
        /// The table file.
        table: PathBuf,
        /// What went wrong (with the line where one is known).
        reason: String,
    },
    /// No layout recognised from the table's header.
    #[error("{}:1: unrecognised label table header ({found}): NIH needs `Image Index` and `Finding Labels`; CheXpert/MIMIC needs `Path` and one column per finding; generic needs `path` and `label` or one 0/1 column per finding; [data.columns] maps other names onto path, patient, label and view", .table.display())]
    Header {
        /// The table file.
        table: PathBuf,
        /// The header's column names, comma separated.
        found: String,
    },
    /// A column named by the settings (`[data.columns]`, `[data.filter]`, `findings`) is not in the table.
    #[error("{}:1: {setting} names column {column:?}, which the table does not have (its columns: {available})", .table.display())]
    Column {
        /// The table file.
        table: PathBuf,
        /// The setting that names it (`data.columns.path`, `data.filter`, `data.findings`).
        setting: String,
        /// The column asked for.
        column: String,
        /// The table's columns (or findings), comma separated.
        available: String,
    },
    /// `findings = [...]` names a finding that no row of an NIH table lists.
    #[error("{}: data.findings names {finding:?}, which no row of the table lists (its findings: {available}): fix the spelling or remove it", .table.display())]
    Finding {
        /// The table file.
        table: PathBuf,
        /// The finding asked for.
        finding: String,
        /// The findings the table lists, comma separated.
        available: String,
    },
    /// A row of a label table is malformed or holds a value the layout does not allow.
    #[error("{}:{line}: {message}", .table.display())]
    Row {
        /// The table file.
        table: PathBuf,
        /// The line (1 = the header).
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A row names an image file that does not exist.
    #[error("{}:{line}: image {} not found under {} (nor its images/ folder): fix the path, add the file, or set skip_missing = true to skip such rows", .table.display(), .path.display(), .root.display())]
    MissingFile {
        /// The table file.
        table: PathBuf,
        /// The row's line.
        line: usize,
        /// The path as the table writes it.
        path: PathBuf,
        /// The dataset root the path was looked up under.
        root: PathBuf,
    },
    /// Two rows name the same image.
    #[error("{}:{line}: image {} is listed twice, on lines {first} and {line}: keep one row per film", .table.display(), .path.display())]
    Duplicate {
        /// The table file.
        table: PathBuf,
        /// The earlier row's line.
        first: usize,
        /// The later row's line.
        line: usize,
        /// The path, as the table writes it.
        path: PathBuf,
    },
    /// No rows are left to train on.
    #[error("{}: no rows left {reason}: loosen [data.filter] or check the table", .table.display())]
    Empty {
        /// The table file.
        table: PathBuf,
        /// Why (`after the filter "View Position" = ["PA"] (798 rows read)`).
        reason: String,
    },
}

impl From<TableError> for DataError {
    fn from(e: TableError) -> Self {
        DataError::Table(Box::new(e))
    }
}

/// Every file with its reason, each on a new indented line: how a failed load lists its
/// unreadable images (all of them, not the first).
pub fn unreadable_lines(files: &[crate::Unreadable]) -> String {
    let mut out = String::new();
    for f in files {
        out.push_str(&format!("\n  {}: {}", f.path.display(), f.reason));
    }
    out
}

/// Result alias for the data crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| DataError::Io { path, source }
    }
}
