//! Reading a label table the size of NIH's and splitting it by patient (`cxr-bench split`,
//! `just bench-split`): issue 26's speed line, "reading NIH's full 112,120-row table format
//! and building a grouped, stratified 5-fold split under 2 s".
//!
//! The table is written first ([`crate::nih_table`], not timed); then three timed steps, each
//! on one thread: reading the rows, building [`Groups`] and a [`FindingMatrix`] from them, and
//! [`cxr_data::grouped_folds`]. The reading step is a placeholder (split on commas) until the
//! label-table reader is merged; the lead replaces [`read_nih_rows`] with it.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use cxr_data::{FindingLabel, FindingMatrix, Groups};

use crate::error::{BenchError, Result};
use crate::nih_table::{read_nih_rows, NihRow, NIH_FINDINGS};

/// Seconds of each step (the fastest of the repeats) and what the split made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SplitTiming {
    /// Films in the table.
    pub films: usize,
    /// Patients in the table.
    pub patients: usize,
    /// Folds.
    pub folds: usize,
    /// Reading the table into rows (the placeholder reader).
    pub read_s: f64,
    /// Groups and finding matrix from the rows.
    pub build_s: f64,
    /// The grouped, stratified folds.
    pub folds_s: f64,
    /// Films in the smallest and largest test fold.
    pub test_films: (usize, usize),
}

impl SplitTiming {
    /// The three steps and their sum, one line each.
    pub fn table(&self) -> String {
        let total = self.read_s + self.build_s + self.folds_s;
        format!(
            "{} films of {} patients, {} folds (test folds of {}..{} films)\n\
             read the table (placeholder reader)  {:>7.3} s\n\
             groups + finding matrix              {:>7.3} s\n\
             grouped stratified folds             {:>7.3} s\n\
             total                                {total:>7.3} s\n",
            self.films,
            self.patients,
            self.folds,
            self.test_films.0,
            self.test_films.1,
            self.read_s,
            self.build_s,
            self.folds_s
        )
    }
}

/// Groups by `Patient ID` and the 14 NIH findings of each row (`No Finding`: all negative).
pub fn build(rows: &[NihRow]) -> Result<(Groups, FindingMatrix)> {
    let column: HashMap<&str, usize> = NIH_FINDINGS
        .iter()
        .enumerate()
        .map(|(l, &(name, _))| (name, l))
        .collect();
    let mut labels = FindingMatrix::new(NIH_FINDINGS.iter().map(|(n, _)| n.to_string()).collect());
    labels.values.reserve(rows.len() * NIH_FINDINGS.len());
    let mut row = [FindingLabel::Negative; NIH_FINDINGS.len()];
    for r in rows {
        row.fill(FindingLabel::Negative);
        if r.findings != "No Finding" {
            for name in r.findings.split('|') {
                let l = column.get(name).ok_or_else(|| {
                    BenchError::Unsupported(format!("{}: unknown finding {name:?}", r.image))
                })?;
                row[*l] = FindingLabel::Positive;
            }
        }
        labels.push(&row);
    }
    Ok((Groups::from_names(rows.iter().map(|r| &r.patient)), labels))
}

/// Times reading `table`, building its groups and findings, and `folds` grouped folds (10%
/// validation, seed 0), `repeats` times; keeps the fastest of each step.
pub fn time_split(table: &Path, folds: usize, repeats: usize) -> Result<SplitTiming> {
    let data = |e: cxr_data::DataError| BenchError::Unsupported(format!("split benchmark: {e}"));
    let mut best: Option<SplitTiming> = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let rows = read_nih_rows(table)?;
        let read_s = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let (groups, labels) = build(&rows)?;
        let build_s = start.elapsed().as_secs_f64();
        let mut rng = cxr_data::seed::rng(0, cxr_data::seed::Stream::Split);
        let start = Instant::now();
        let split =
            cxr_data::grouped_folds(&groups, &labels, folds, 0.1, &mut rng).map_err(data)?;
        let folds_s = start.elapsed().as_secs_f64();
        let sizes = split.iter().map(|f| f.test.len());
        let t = SplitTiming {
            films: labels.len(),
            patients: groups.count(),
            folds,
            read_s,
            build_s,
            folds_s,
            test_films: (sizes.clone().min().unwrap_or(0), sizes.max().unwrap_or(0)),
        };
        best = Some(match best {
            None => t,
            Some(b) => SplitTiming {
                read_s: b.read_s.min(t.read_s),
                build_s: b.build_s.min(t.build_s),
                folds_s: b.folds_s.min(t.folds_s),
                ..t
            },
        });
    }
    best.ok_or_else(|| BenchError::Unsupported("split benchmark: no repeat ran".into()))
}
