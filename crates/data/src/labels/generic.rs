//! Findings stated one column each (CheXpert, MIMIC-CXR-JPG and multi-label generic tables:
//! 1 / 0 / -1 / blank), or one class per film in a `label` column (single-label generic tables,
//! stored one-hot).

use std::collections::BTreeSet;
use std::path::Path;

use super::read::RawTable;
use crate::error::{DataError, Result, TableError};
use crate::findings::{FindingLabel, FindingMatrix};

/// A finding cell's state: `1` positive, `0` negative, `-1` uncertain, blank missing (also
/// `1.0`, `0.0`, `-1.0` as pandas writes floats, and `true` / `false`); `None` for anything else.
pub fn finding_state(cell: &str) -> Option<FindingLabel> {
    Some(match cell {
        "1" | "1.0" | "true" | "True" => FindingLabel::Positive,
        "0" | "0.0" | "-0.0" | "false" | "False" => FindingLabel::Negative,
        "-1" | "-1.0" => FindingLabel::Uncertain,
        "" => FindingLabel::Missing,
        _ => return None,
    })
}

/// The findings of `rows`, one column each.
pub(crate) fn column_findings(
    raw: &RawTable,
    rows: &[usize],
    columns: &[(String, usize)],
    table: &Path,
) -> Result<FindingMatrix> {
    let mut matrix = FindingMatrix::new(columns.iter().map(|(name, _)| name.clone()).collect());
    let mut values = vec![FindingLabel::Missing; columns.len()];
    for &row in rows {
        for (slot, (name, col)) in values.iter_mut().zip(columns) {
            let cell = raw.cell(row, *col);
            *slot = finding_state(cell).ok_or_else(|| DataError::from(TableError::Row {
                table: table.to_path_buf(),
                line: raw.lines[row],
                message: format!(
                    "{name} is {cell:?}: a finding column holds 1 (positive), 0 (negative), -1 (uncertain) or nothing (not mentioned); if {name:?} is not a finding, list the findings with findings = [...]"
                ),
            }))?;
        }
        matrix.push(&values);
    }
    Ok(matrix)
}

/// One class per film from column `col`: the classes (`wanted` in its order, else every value,
/// sorted) and the one-hot matrix over them.
pub(crate) fn single_label(
    raw: &RawTable,
    rows: &[usize],
    col: usize,
    wanted: Option<&[String]>,
    table: &Path,
) -> Result<(Vec<String>, FindingMatrix)> {
    let classes: Vec<String> = match wanted {
        Some(wanted) => {
            let listed: BTreeSet<&str> = (0..raw.rows.len()).map(|r| raw.cell(r, col)).collect();
            if let Some(absent) = wanted.iter().find(|w| !listed.contains(w.as_str())) {
                return Err(DataError::from(TableError::Finding {
                    table: table.to_path_buf(),
                    finding: absent.clone(),
                    available: listed.into_iter().collect::<Vec<_>>().join(", "),
                }));
            }
            wanted.to_vec()
        }
        None => rows
            .iter()
            .map(|&r| raw.cell(r, col))
            .filter(|c| !c.is_empty())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(String::from)
            .collect(),
    };
    let column = &raw.header[col];
    let mut matrix = FindingMatrix::new(classes.clone());
    let mut values = vec![FindingLabel::Negative; classes.len()];
    for &row in rows {
        let cell = raw.cell(row, col);
        let Some(class) = classes.iter().position(|c| c == cell) else {
            let message = if cell.is_empty() {
                format!("{column} is blank: every film needs a class")
            } else {
                format!(
                    "{column} {cell:?} is not one of findings = {classes:?}: add it there, or leave such rows out with [data.filter]"
                )
            };
            return Err(DataError::from(TableError::Row {
                table: table.to_path_buf(),
                line: raw.lines[row],
                message,
            }));
        };
        values.fill(FindingLabel::Negative);
        values[class] = FindingLabel::Positive;
        matrix.push(&values);
    }
    Ok((classes, matrix))
}
