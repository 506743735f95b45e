//! Label tables as a data source: one row per film naming its image, its patient, its view and
//! a value per finding, as NIH ChestX-ray14, CheXpert, MIMIC-CXR-JPG and hospital exports
//! describe their films.
//!
//! [`read_label_table`] reads a CSV or Parquet table (`read.rs` says how, NIH's header quirk
//! included), recognises its layout from the header ([`TableLayout`], no configuration needed),
//! keeps the rows `[data.filter]` selects, finds each row's image under the root, and states
//! the findings as a [`FindingMatrix`] with the patients as [`Groups`]. Every problem with the
//! table is one error naming its file and line. [`load_table`] then decodes the images through
//! the same cache as a folder dataset ([`crate::load`]); [`census`] is what
//! `cxr data inspect --labels` prints.
//!
//! ```no_run
//! use cxr_data::labels::{read_label_table, LabelSpec};
//! # fn main() -> cxr_data::Result<()> {
//! let spec = LabelSpec {
//!     root: "NIH_ChestXray14_sample".into(),
//!     labels: "Data_Entry_2017_v2020.csv".into(),
//!     filter: [("View Position".to_string(), vec!["PA".to_string()])].into(),
//!     ..Default::default()
//! };
//! let table = read_label_table(&spec)?;
//! println!("{} films of {:?} patients", table.len(), table.patients.map(|p| p.count()));
//! # Ok(()) }
//! ```

mod census;
mod chexpert;
mod files;
mod filter;
mod generic;
mod layout;
mod load;
mod nih;
mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use census::{census, FindingCensus, PatientCensus, TableCensus};
pub use chexpert::patient_from_path;
pub use generic::finding_state;
pub use layout::TableLayout;
pub use load::{load_table, TableSet};
pub use nih::NO_FINDING;

use crate::error::{DataError, Result, TableError};
use crate::findings::{FindingMatrix, Groups};

/// `[data.columns]`: the table's names for the roles, where they differ from the layout's.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnMap {
    /// The column naming each film's image.
    pub path: Option<String>,
    /// The column holding the patient id.
    pub patient: Option<String>,
    /// The column holding one class per film (generic layout).
    pub label: Option<String>,
    /// The column holding the view (`PA`, `AP`, `Lateral`).
    pub view: Option<String>,
}

/// Where a label table is and what to take from it (`[data]` of a grid: `labels`, `findings`,
/// `[data.columns]`, `[data.filter]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabelSpec {
    /// The dataset root: images are looked up under it and its `images/`.
    pub root: PathBuf,
    /// The table, relative to `root` (or absolute): `.csv`, `.parquet` or `.pq`.
    pub labels: PathBuf,
    /// Column names for the roles, where the table's differ from its layout's.
    pub columns: ColumnMap,
    /// The findings to read, in model order (NIH: names in `Finding Labels`; CheXpert and
    /// generic: columns; single-label generic: classes). `None`: every finding of the table.
    pub findings: Option<Vec<String>>,
    /// Keep only the rows whose value in each column is one of the listed ones.
    pub filter: BTreeMap<String, Vec<String>>,
    /// Skip (and count) rows naming missing images instead of failing.
    pub skip_missing: bool,
}

impl LabelSpec {
    /// The table file: `labels` under `root` unless absolute.
    pub fn table_path(&self) -> PathBuf {
        self.root.join(&self.labels)
    }

    /// What of the spec shapes the result, as text for hashing (no path: where the dataset
    /// lives is no part of what it is).
    pub(crate) fn settings_key(&self) -> String {
        format!(
            "columns {:?} findings {:?} filter {:?} skip_missing {}",
            self.columns, self.findings, self.filter, self.skip_missing
        )
    }
}

/// A label table read: one entry per kept film, in table order.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelTable {
    /// The dataset root the files are relative to.
    pub root: PathBuf,
    /// The table file.
    pub table: PathBuf,
    /// The layout recognised from its header.
    pub layout: TableLayout,
    /// Each film's image, relative to `root`.
    pub files: Vec<PathBuf>,
    /// Each film's findings (one-hot over the classes for a single-label table).
    pub findings: FindingMatrix,
    /// Each film's patient, when the table names patients.
    pub patients: Option<Groups>,
    /// Each film's view (blank when the table leaves it out), when the table has a view column.
    pub views: Option<Vec<String>>,
    /// Each film's line in the table (the header is line 1; Parquet: row number + 1).
    pub lines: Vec<usize>,
    /// A single-label generic table's classes (the findings' names then).
    pub single_label: Option<Vec<String>>,
    /// Rows skipped for naming a missing image (`skip_missing`): line, path as written.
    pub missing_files: Vec<(usize, PathBuf)>,
    /// BLAKE3 of the table file's bytes.
    pub table_hash: [u8; 32],
}

impl LabelTable {
    /// Number of films.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when there are no films.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// True when a film may have several findings: the table is not single-label, or some film
    /// has two or more positives.
    pub fn multi_label(&self) -> bool {
        self.single_label.is_none() || self.findings.positives().iter().any(|p| p.len() >= 2)
    }

    /// One class per film for what needs one (stratification, balanced sampling, the image
    /// cache): a single-label table's class index; otherwise 1 when the film has a positive
    /// finding, else 0 (see [`LabelTable::class_names`]).
    pub fn class_labels(&self) -> Vec<u32> {
        (0..self.len())
            .map(|i| {
                let row = self.findings.row(i);
                match &self.single_label {
                    Some(_) => row.iter().position(|v| v.is_positive()).unwrap_or(0) as u32,
                    None => u32::from(row.iter().any(|v| v.is_positive())),
                }
            })
            .collect()
    }

    /// The names of [`LabelTable::class_labels`]: the classes, or `["no finding", "finding"]`.
    pub fn class_names(&self) -> Vec<String> {
        match &self.single_label {
            Some(classes) => classes.clone(),
            None => vec!["no finding".into(), "finding".into()],
        }
    }

    /// A hash of what the table says: the file's bytes, and the films, findings, patients and
    /// views read from it (so the settings that shaped them are covered too).
    pub fn content_key(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(b"cxr label table v1\0");
        h.update(&self.table_hash);
        h.update(self.layout.describe().as_bytes());
        let text = |h: &mut blake3::Hasher, s: &str| {
            h.update(s.as_bytes());
            h.update(&[0]);
        };
        for name in &self.findings.findings {
            text(&mut h, name);
        }
        h.update(&[u8::from(self.single_label.is_some())]);
        for (i, file) in self.files.iter().enumerate() {
            text(&mut h, &file.to_string_lossy());
            for v in self.findings.row(i) {
                h.update(&[*v as u8]);
            }
            if let Some(p) = &self.patients {
                text(&mut h, &p.names[p.of[i] as usize]);
            }
            if let Some(v) = &self.views {
                text(&mut h, &v[i]);
            }
        }
        *h.finalize().as_bytes()
    }

    /// The films `films`, in that order (patients renumbered in first-seen order).
    pub fn select(&self, films: &[usize]) -> Self {
        Self {
            files: films.iter().map(|&i| self.files[i].clone()).collect(),
            findings: self.findings.select(films),
            patients: self.patients.as_ref().map(|p| p.select(films)),
            views: self
                .views
                .as_ref()
                .map(|v| films.iter().map(|&i| v[i].clone()).collect()),
            lines: films.iter().map(|&i| self.lines[i]).collect(),
            ..self.clone()
        }
    }
}

/// Reads the label table `spec` describes: layout, filter, files, findings, patients, views.
pub fn read_label_table(spec: &LabelSpec) -> Result<LabelTable> {
    let table = spec.table_path();
    if !spec.root.is_dir() {
        return Err(DataError::MissingRoot(spec.root.clone()));
    }
    let raw = read::read_raw(&table)?;
    let (layout, roles) = layout::recognise(&raw, spec, &table)?;
    let kept = filter::keep(&raw, &spec.filter, &table)?;
    let located = files::locate(
        &raw,
        &kept,
        roles.path,
        &spec.root,
        spec.skip_missing,
        &table,
    )?;
    if located.rows.is_empty() {
        return Err(DataError::from(TableError::Empty {
            table,
            reason: format!(
                "with an image: all {} row(s) kept by {} name missing files",
                located.missing.len(),
                filter::describe(&spec.filter)
            ),
        }));
    }
    let rows = &located.rows;
    let wanted = spec.findings.as_deref();
    let (findings, single_label) = match (layout, roles.label) {
        (TableLayout::Nih, Some(col)) => (nih::findings(&raw, rows, col, wanted, &table)?, None),
        (_, Some(col)) => {
            let (classes, matrix) = generic::single_label(&raw, rows, col, wanted, &table)?;
            (matrix, Some(classes))
        }
        (_, None) => (
            generic::column_findings(&raw, rows, &roles.findings, &table)?,
            None,
        ),
    };
    let patients = patients(&raw, rows, layout, roles.patient, roles.path, &table)?;
    let views = (!roles.views.is_empty()).then(|| {
        rows.iter()
            .map(|&r| {
                let mut cells = roles.views.iter().map(|&c| raw.cell(r, c));
                cells.find(|v| !v.is_empty()).unwrap_or("").to_string()
            })
            .collect()
    });
    Ok(LabelTable {
        root: spec.root.clone(),
        table,
        layout,
        files: located.files,
        findings,
        patients,
        views,
        lines: rows.iter().map(|&r| raw.lines[r]).collect(),
        single_label,
        missing_files: located.missing,
        table_hash: raw.digest,
    })
}

/// Each row's patient: from its patient column, else (CheXpert) from its path; `None` when the
/// table names no patients.
fn patients(
    raw: &read::RawTable,
    rows: &[usize],
    layout: TableLayout,
    patient: Option<usize>,
    path: usize,
    table: &Path,
) -> Result<Option<Groups>> {
    let (col, from_path) = match (patient, layout) {
        (Some(col), _) => (col, false),
        (None, TableLayout::CheXpert)
            if rows
                .iter()
                .any(|&r| patient_from_path(raw.cell(r, path)).is_some()) =>
        {
            (path, true)
        }
        _ => return Ok(None),
    };
    let mut names = Vec::with_capacity(rows.len());
    for &r in rows {
        let cell = raw.cell(r, col);
        let name = if from_path {
            patient_from_path(cell)
        } else {
            Some(cell)
        };
        match name.filter(|n| !n.is_empty()) {
            Some(n) => names.push(n),
            None => {
                let message = if from_path {
                    format!("{cell:?} names no patientNNNNN folder, as the other rows' paths do: add a subject_id column, or map one with [data.columns] patient")
                } else {
                    format!("{} is blank: every film needs its patient", raw.header[col])
                };
                return Err(DataError::from(TableError::Row {
                    table: table.to_path_buf(),
                    line: raw.lines[r],
                    message,
                }));
            }
        }
    }
    Ok(Some(Groups::from_names(names)))
}
