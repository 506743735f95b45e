//! Typed access to a Parquet table's columns, so each reader states only which column goes
//! into which field.

use polars::prelude::*;

/// A read table's columns by name.
pub(crate) struct Columns<'a>(pub(crate) &'a DataFrame);

impl Columns<'_> {
    /// Rows in the table.
    pub(crate) fn height(&self) -> usize {
        self.0.height()
    }

    /// A string column; nulls read as empty strings.
    pub(crate) fn str(&self, name: &str) -> PolarsResult<Vec<String>> {
        Ok(self
            .0
            .column(name)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    }

    /// An integer column, nulls kept.
    pub(crate) fn i64_opt(&self, name: &str) -> PolarsResult<Vec<Option<i64>>> {
        Ok(self.0.column(name)?.i64()?.iter().collect())
    }

    /// An integer column; nulls read as 0.
    pub(crate) fn i64(&self, name: &str) -> PolarsResult<Vec<i64>> {
        Ok(self
            .i64_opt(name)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    }

    /// A float column, nulls kept.
    pub(crate) fn f64_opt(&self, name: &str) -> PolarsResult<Vec<Option<f64>>> {
        Ok(self.0.column(name)?.f64()?.iter().collect())
    }

    /// A float column added after the first release: a file without it reads as nulls.
    pub(crate) fn f64_added(&self, name: &str) -> PolarsResult<Vec<Option<f64>>> {
        match self.0.column(name) {
            Ok(_) => self.f64_opt(name),
            Err(_) => Ok(vec![None; self.height()]),
        }
    }

    /// A float column; nulls read as NaN.
    pub(crate) fn f64(&self, name: &str) -> PolarsResult<Vec<f64>> {
        Ok(self
            .f64_opt(name)?
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    }

    /// A boolean column; nulls read as false.
    pub(crate) fn bool(&self, name: &str) -> PolarsResult<Vec<bool>> {
        Ok(self
            .0
            .column(name)?
            .bool()?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect())
    }
}
