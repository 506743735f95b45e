//! `report/comparisons.parquet`: every paired comparison the report makes, in one table. Two
//! kinds of row share it: recall comparisons ([`PairedComparison`]: McNemar's test and the
//! paired bootstrap of micro- and macro-recall) and, for multi-label runs, AUROC comparisons
//! ([`AurocComparison`]: DeLong's tests and the patient bootstrap). The file holds the columns
//! of both, recall columns first; a row leaves the other kind's columns null, and `metric`
//! (null on a recall row) tells them apart. The columns they share (`facet`, `kind`, the two
//! configurations, `pairs`, `images`) mean the same on both.

use std::io::Cursor;
use std::path::Path;

use cxr_results::table::Table;
use cxr_results::ResultsError;
use polars::prelude::*;

use crate::auroc_comparison::AurocComparison;
use crate::error::Result;
use crate::paired::PairedComparison;

/// Writes `recall` then `auroc` rows to `path` (atomically).
pub fn write_comparisons(
    path: &Path,
    recall: &[PairedComparison],
    auroc: &[AurocComparison],
) -> Result<()> {
    let frame = || -> PolarsResult<DataFrame> {
        let mut recall = PairedComparison::to_frame(recall)?;
        let mut auroc = AurocComparison::to_frame(auroc)?;
        let mut names: Vec<&str> = PairedComparison::COLUMNS.to_vec();
        names.extend(
            AurocComparison::COLUMNS
                .iter()
                .filter(|c| !PairedComparison::COLUMNS.contains(c)),
        );
        add_missing(&mut recall, &auroc, &names)?;
        add_missing(&mut auroc, &recall, &names)?;
        recall
            .select(names.iter().copied())?
            .vstack(&auroc.select(names.iter().copied())?)
    };
    let table_err = |e: PolarsError| ResultsError::Table {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut df = frame().map_err(table_err)?;
    let mut buf = Cursor::new(Vec::new());
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(table_err)?;
    cxr_results::write_atomic(path, buf.get_ref())?;
    Ok(())
}

/// Adds to `df` each of `names` it lacks, all null, typed as in `other`.
fn add_missing(df: &mut DataFrame, other: &DataFrame, names: &[&str]) -> PolarsResult<()> {
    for name in names {
        if df.column(name).is_err() {
            let dtype = other.column(name)?.dtype().clone();
            df.with_column(Column::full_null((*name).into(), df.height(), &dtype))?;
        }
    }
    Ok(())
}

/// Both kinds of row of `path`, each in file order.
fn read_both(path: &Path) -> Result<(Vec<PairedComparison>, Vec<AurocComparison>)> {
    let df = cxr_results::read_frame(path)?;
    if df.column("metric").is_err() {
        // Written before AUROC comparisons existed: recall rows only.
        let recall = PairedComparison::from_frame(&df).map_err(|e| ResultsError::Table {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        return Ok((recall, Vec::new()));
    }
    let parse = || -> PolarsResult<_> {
        Ok((
            PairedComparison::from_frame(&df)?,
            AurocComparison::from_frame(&df)?,
        ))
    };
    let (recall, auroc) = parse().map_err(|e| ResultsError::Table {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    // An empty `metric` is a recall row (the column is null there).
    let kinds: Vec<bool> = auroc.iter().map(|r| r.metric.is_empty()).collect();
    let recall = recall
        .into_iter()
        .zip(&kinds)
        .filter_map(|(r, &is_recall)| is_recall.then_some(r))
        .collect();
    let auroc = auroc
        .into_iter()
        .zip(&kinds)
        .filter_map(|(r, &is_recall)| (!is_recall).then_some(r))
        .collect();
    Ok((recall, auroc))
}

/// Reads the recall comparisons of `report/comparisons.parquet`.
pub fn read_comparisons(path: &Path) -> Result<Vec<PairedComparison>> {
    Ok(read_both(path)?.0)
}

/// Reads the AUROC comparisons of `report/comparisons.parquet`.
pub fn read_auroc_comparisons(path: &Path) -> Result<Vec<AurocComparison>> {
    Ok(read_both(path)?.1)
}
