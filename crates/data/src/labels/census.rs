//! What a label table holds, for `cxr data inspect --labels`: per finding the positives,
//! negatives, uncertain and missing; the patients and their films; the views.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{LabelTable, TableLayout};
use crate::findings::FindingLabel;

/// One finding's counts over the films.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FindingCensus {
    /// The finding.
    pub name: String,
    /// Films with the finding.
    pub positive: usize,
    /// Films without it.
    pub negative: usize,
    /// Films whose report was uncertain.
    pub uncertain: usize,
    /// Films whose report did not mention it.
    pub missing: usize,
}

/// How the films fall on patients.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PatientCensus {
    /// Number of patients.
    pub count: usize,
    /// Fewest films of one patient.
    pub min_films: usize,
    /// Median films per patient (the mean of the middle two for an even count).
    pub median_films: f64,
    /// Most films of one patient.
    pub max_films: usize,
}

/// The census of a label table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableCensus {
    /// The table file.
    pub table: PathBuf,
    /// Its layout.
    pub layout: TableLayout,
    /// Films read (after the filter, without rows naming missing files).
    pub films: usize,
    /// Films with two or more positive findings.
    pub multi_finding_films: usize,
    /// Whether the table is single-label (one class per film).
    pub single_label: bool,
    /// Per finding, in model order.
    pub findings: Vec<FindingCensus>,
    /// Patients, when the table names them.
    pub patients: Option<PatientCensus>,
    /// Views and how many films each (blank as `""`), when the table has a view column.
    pub views: Option<BTreeMap<String, usize>>,
    /// Rows skipped for naming missing images: line, path as written.
    pub missing_files: Vec<(usize, PathBuf)>,
}

/// Counts what `table` holds.
pub fn census(table: &LabelTable) -> TableCensus {
    let matrix = &table.findings;
    let mut findings: Vec<FindingCensus> = matrix
        .findings
        .iter()
        .map(|name| FindingCensus {
            name: name.clone(),
            positive: 0,
            negative: 0,
            uncertain: 0,
            missing: 0,
        })
        .collect();
    for i in 0..matrix.len() {
        for (count, value) in findings.iter_mut().zip(matrix.row(i)) {
            match value {
                FindingLabel::Positive => count.positive += 1,
                FindingLabel::Negative => count.negative += 1,
                FindingLabel::Uncertain => count.uncertain += 1,
                FindingLabel::Missing => count.missing += 1,
            }
        }
    }
    let patients = table.patients.as_ref().map(|groups| {
        let mut sizes = groups.sizes();
        sizes.sort_unstable();
        let n = sizes.len();
        let median = match n {
            0 => 0.0,
            _ if n % 2 == 1 => sizes[n / 2] as f64,
            _ => (sizes[n / 2 - 1] + sizes[n / 2]) as f64 / 2.0,
        };
        PatientCensus {
            count: n,
            min_films: sizes.first().copied().unwrap_or(0),
            median_films: median,
            max_films: sizes.last().copied().unwrap_or(0),
        }
    });
    let views = table.views.as_ref().map(|views| {
        let mut counts = BTreeMap::new();
        for v in views {
            *counts.entry(v.clone()).or_insert(0) += 1;
        }
        counts
    });
    TableCensus {
        table: table.table.clone(),
        layout: table.layout,
        films: table.len(),
        multi_finding_films: matrix.positives().iter().filter(|p| p.len() >= 2).count(),
        single_label: table.single_label.is_some(),
        findings,
        patients,
        views,
        missing_files: table.missing_files.clone(),
    }
}
