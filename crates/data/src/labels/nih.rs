//! NIH ChestX-ray14's findings: one `Finding Labels` cell per film, the findings joined by `|`,
//! or `No Finding` (every finding negative). NIH states no uncertain or missing labels.

use std::collections::BTreeSet;
use std::path::Path;

use super::read::RawTable;
use crate::error::{DataError, Result, TableError};
use crate::findings::{FindingLabel, FindingMatrix};

/// NIH's label for a film without findings.
pub const NO_FINDING: &str = "No Finding";

/// The findings of `rows` from column `col`: over `wanted` (in its order) or, without it, every
/// finding the rows list, sorted by name.
pub(crate) fn findings(
    raw: &RawTable,
    rows: &[usize],
    col: usize,
    wanted: Option<&[String]>,
    table: &Path,
) -> Result<FindingMatrix> {
    let lists = rows
        .iter()
        .map(|&row| {
            parse(raw.cell(row, col)).map_err(|message| {
                DataError::from(TableError::Row {
                    table: table.to_path_buf(),
                    line: raw.lines[row],
                    message,
                })
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let names: Vec<String> = match wanted {
        Some(wanted) => {
            // Any row counts, filtered out or not: a finding the table lists is not a typo.
            let listed: BTreeSet<&str> = (0..raw.rows.len())
                .flat_map(|row| raw.cell(row, col).split('|').map(str::trim))
                .filter(|name| *name != NO_FINDING)
                .collect();
            for name in wanted {
                if !listed.contains(name.as_str()) {
                    return Err(DataError::from(TableError::Finding {
                        table: table.to_path_buf(),
                        finding: name.clone(),
                        available: listed.into_iter().collect::<Vec<_>>().join(", "),
                    }));
                }
            }
            wanted.to_vec()
        }
        None => lists
            .iter()
            .flatten()
            .copied()
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .map(String::from)
            .collect(),
    };
    let mut matrix = FindingMatrix::new(names);
    let mut row = vec![FindingLabel::Negative; matrix.findings.len()];
    for list in lists {
        for (k, name) in matrix.findings.iter().enumerate() {
            row[k] = if list.contains(&name.as_str()) {
                FindingLabel::Positive
            } else {
                FindingLabel::Negative
            };
        }
        matrix.push(&row);
    }
    Ok(matrix)
}

/// The findings a `Finding Labels` cell lists (none for `No Finding`), or why it is malformed.
fn parse(cell: &str) -> std::result::Result<Vec<&str>, String> {
    if cell == NO_FINDING {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = cell.split('|').map(str::trim).collect();
    if names.iter().any(|n| n.is_empty()) {
        return Err(format!(
            "Finding Labels {cell:?} has an empty finding: write findings joined by `|`, or {NO_FINDING:?}"
        ));
    }
    if names.contains(&NO_FINDING) {
        return Err(format!(
            "Finding Labels {cell:?} lists {NO_FINDING:?} with findings: keep one or the other"
        ));
    }
    Ok(names)
}
