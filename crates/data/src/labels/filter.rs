//! `[data.filter]`: keep the rows whose value in each named column is one of the listed ones
//! (`"View Position" = ["PA", "AP"]`). Every condition must hold; values compare as trimmed text.

use std::collections::BTreeMap;
use std::path::Path;

use super::layout::missing_column;
use super::read::RawTable;
use crate::error::{DataError, Result, TableError};

/// The rows of `raw` that pass `filter`, in table order; an error when none do.
pub(crate) fn keep(
    raw: &RawTable,
    filter: &BTreeMap<String, Vec<String>>,
    table: &Path,
) -> Result<Vec<usize>> {
    let conditions = filter
        .iter()
        .map(|(column, values)| {
            raw.column(column)
                .map(|i| (i, values))
                .ok_or_else(|| missing_column(table, "data.filter", column, &raw.header))
        })
        .collect::<Result<Vec<_>>>()?;
    let kept: Vec<usize> = (0..raw.rows.len())
        .filter(|&row| {
            conditions
                .iter()
                .all(|(col, values)| values.iter().any(|v| v.trim() == raw.cell(row, *col)))
        })
        .collect();
    if kept.is_empty() {
        let reason = if raw.rows.is_empty() {
            "(the table has a header and no rows)".to_string()
        } else {
            format!(
                "after {} ({} row(s) read)",
                describe(filter),
                raw.rows.len()
            )
        };
        return Err(DataError::from(TableError::Empty {
            table: table.to_path_buf(),
            reason,
        }));
    }
    Ok(kept)
}

/// The filter as TOML would write it: `"View Position" = ["PA"], "Sex" = ["F"]`.
pub(crate) fn describe(filter: &BTreeMap<String, Vec<String>>) -> String {
    if filter.is_empty() {
        return "no filter".into();
    }
    let conditions: Vec<String> = filter
        .iter()
        .map(|(column, values)| format!("{column:?} = {values:?}"))
        .collect();
    format!("the filter {}", conditions.join(", "))
}
