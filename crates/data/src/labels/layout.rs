//! Which of the three layouts a table is, recognised from its header, and which column plays
//! which role (path, patient, label, view, findings).
//!
//! - [`TableLayout::Nih`]: the header has `Image Index` and `Finding Labels`.
//! - [`TableLayout::CheXpert`]: the header has `Path`, and `[data.columns]` maps neither the
//!   path nor the label onto another column.
//! - [`TableLayout::Generic`]: otherwise, when a path column is found: `[data.columns] path`,
//!   else `path` (else `Path`).
//!
//! `[data.columns]` overrides the role columns in every layout. The findings of CheXpert and of
//! a generic table without a `label` column are its other columns: all but the role columns,
//! the `[data.filter]` columns and, for CheXpert, its metadata (`Sex`, `Age`, ...), unless
//! `findings = [...]` names them.

use std::path::Path;

use super::read::RawTable;
use super::LabelSpec;
use crate::error::{DataError, Result, TableError};

/// The label table layouts cxr recognises from a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableLayout {
    /// NIH ChestX-ray14's `Data_Entry_2017*.csv`: findings joined by `|` in one column.
    Nih,
    /// CheXpert / MIMIC-CXR-JPG (CheXpert labeller): one 1 / 0 / -1 / blank column per finding.
    CheXpert,
    /// `path`, optional `patient`, then `label` or one 0/1 column per finding.
    Generic,
}

impl TableLayout {
    /// The layout's name in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Nih => "NIH ChestX-ray14",
            Self::CheXpert => "CheXpert / MIMIC-CXR",
            Self::Generic => "generic",
        }
    }
}

/// CheXpert and MIMIC-CXR columns that describe the film, not a finding.
const CHEXPERT_METADATA: [&str; 10] = [
    "Sex",
    "Age",
    "Frontal/Lateral",
    "AP/PA",
    "subject_id",
    "study_id",
    "dicom_id",
    "ViewPosition",
    "Unnamed: 0",
    "",
];

/// The column of each role, by index into the header.
#[derive(Debug, Clone)]
pub(crate) struct Roles {
    /// The image path (NIH: `Image Index`).
    pub path: usize,
    /// The patient id, when a column holds it.
    pub patient: Option<usize>,
    /// NIH's `Finding Labels`, or a generic table's one class per film.
    pub label: Option<usize>,
    /// The view: the first non-blank of these columns.
    pub views: Vec<usize>,
    /// The finding columns of CheXpert and multi-label generic tables, in model order.
    pub findings: Vec<(String, usize)>,
}

/// Recognises the layout of `raw` and finds each role's column.
pub(crate) fn recognise(
    raw: &RawTable,
    spec: &LabelSpec,
    table: &Path,
) -> Result<(TableLayout, Roles)> {
    let columns = &spec.columns;
    let mapped = |setting: &str, name: &Option<String>| -> Result<Option<usize>> {
        name.as_deref()
            .map(|n| {
                raw.column(n)
                    .ok_or_else(|| missing_column(table, setting, n, &raw.header))
            })
            .transpose()
    };
    let path = mapped("data.columns.path", &columns.path)?;
    let patient = mapped("data.columns.patient", &columns.patient)?;
    let label = mapped("data.columns.label", &columns.label)?;
    let view = mapped("data.columns.view", &columns.view)?;
    let col = |name: &str| raw.column(name);
    let views = |defaults: &[&str]| match view {
        Some(v) => vec![v],
        None => defaults.iter().filter_map(|&d| col(d)).collect(),
    };
    let (layout, mut roles) = match (col("Image Index"), col("Finding Labels")) {
        (Some(index), Some(labels)) => (
            TableLayout::Nih,
            Roles {
                path: path.unwrap_or(index),
                patient: patient.or(col("Patient ID")),
                label: label.or(Some(labels)),
                views: views(&["View Position"]),
                findings: Vec::new(),
            },
        ),
        _ => match (col("Path"), path, label) {
            (Some(p), None, None) => (
                TableLayout::CheXpert,
                Roles {
                    path: p,
                    patient: patient.or(col("subject_id")),
                    label: None,
                    views: views(&["AP/PA", "Frontal/Lateral"]),
                    findings: Vec::new(),
                },
            ),
            _ => match path.or(col("path")).or(col("Path")) {
                Some(p) => (
                    TableLayout::Generic,
                    Roles {
                        path: p,
                        patient: patient.or(col("patient")),
                        label: label.or(col("label")),
                        views: views(&["view"]),
                        findings: Vec::new(),
                    },
                ),
                None => {
                    return Err(DataError::from(TableError::Header {
                        table: table.to_path_buf(),
                        found: header_text(&raw.header),
                    }))
                }
            },
        },
    };
    if layout != TableLayout::Nih && roles.label.is_none() {
        roles.findings = finding_columns(raw, spec, layout, &roles, table)?;
    }
    Ok((layout, roles))
}

/// The finding columns: `findings = [...]` in its order, else every column that is not a role,
/// a filter or (CheXpert) metadata column, in header order.
fn finding_columns(
    raw: &RawTable,
    spec: &LabelSpec,
    layout: TableLayout,
    roles: &Roles,
    table: &Path,
) -> Result<Vec<(String, usize)>> {
    let role_columns: Vec<usize> = [Some(roles.path), roles.patient]
        .into_iter()
        .flatten()
        .chain(roles.views.iter().copied())
        .collect();
    let candidate = |i: usize, name: &str| {
        let metadata = layout == TableLayout::CheXpert && CHEXPERT_METADATA.contains(&name);
        !(role_columns.contains(&i) || name.is_empty() || metadata)
    };
    let found: Vec<(String, usize)> = match &spec.findings {
        Some(wanted) => wanted
            .iter()
            .map(
                |name| match raw.column(name).filter(|&i| candidate(i, name.as_str())) {
                    Some(i) => Ok((name.clone(), i)),
                    None => Err(missing_column(table, "data.findings", name, &raw.header)),
                },
            )
            .collect::<Result<_>>()?,
        None => raw
            .header
            .iter()
            .enumerate()
            .filter(|(i, name)| candidate(*i, name.as_str()) && !spec.filter.contains_key(*name))
            .map(|(i, name)| (name.clone(), i))
            .collect(),
    };
    if found.is_empty() {
        return Err(DataError::from(TableError::Header {
            table: table.to_path_buf(),
            found: header_text(&raw.header),
        }));
    }
    Ok(found)
}

/// A setting names a column that the table does not have.
pub(crate) fn missing_column(
    table: &Path,
    setting: &str,
    column: &str,
    available: &[String],
) -> DataError {
    DataError::from(TableError::Column {
        table: table.to_path_buf(),
        setting: setting.to_string(),
        column: column.to_string(),
        available: available.join(", "),
    })
}

/// The header's column names for an error message, comma separated, on one line: a quoted
/// name may hold a line break (a stray quote in the table), shown as `\n`.
fn header_text(header: &[String]) -> String {
    header
        .iter()
        .map(|h| h.replace('\r', "\\r").replace('\n', "\\n"))
        .collect::<Vec<_>>()
        .join(", ")
}
