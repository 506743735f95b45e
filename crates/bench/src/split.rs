//! Reading a label table the size of NIH's and splitting it by patient (`cxr-bench split`,
//! `just bench-split`): issue 26's speed line, "reading NIH's full 112,120-row table format
//! and building a grouped, stratified 5-fold split under 2 s".
//!
//! The table is written first ([`crate::nih_table`], with an empty file for each film's image
//! under `images/`; not timed); then two timed steps, each on one thread: reading it with
//! cxr's own reader ([`cxr_data::read_label_table`]: parsing, NIH's header quirk, the
//! findings, the patients, and a check that every image exists), and
//! [`cxr_data::grouped_folds`]. ([`build`] turns rows into the same [`Groups`] and
//! [`FindingMatrix`] independently; the tests compare the two.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cxr_data::{FindingLabel, FindingMatrix, Groups};

use crate::error::{BenchError, Result};
use crate::nih_table::{NihRow, NIH_FINDINGS};

/// Seconds of each step (the fastest of the repeats) and what the split made.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SplitTiming {
    /// Films in the table.
    pub films: usize,
    /// Patients in the table.
    pub patients: usize,
    /// Folds.
    pub folds: usize,
    /// Reading the table: its findings, patients and image files
    /// ([`cxr_data::read_label_table`]).
    pub read_s: f64,
    /// The grouped, stratified folds.
    pub folds_s: f64,
    /// Films in the smallest and largest test fold.
    pub test_films: (usize, usize),
    /// Patients in the smallest and largest test fold.
    pub test_patients: (usize, usize),
    /// The finding whose positive share in some test fold is furthest from its share of the
    /// table, and that distance relative to the table's share.
    pub worst_finding: (String, f64),
}

impl SplitTiming {
    /// The three steps and their sum, one line each.
    pub fn table(&self) -> String {
        let total = self.read_s + self.folds_s;
        format!(
            "{} films of {} patients, {} folds (test folds of {}..{} films, {}..{} patients; \
             worst finding share off by {:.1}% in a test fold: {})\n\
             read the table (read_label_table)    {:>7.3} s\n\
             grouped stratified folds             {:>7.3} s\n\
             total                                {total:>7.3} s\n",
            self.films,
            self.patients,
            self.folds,
            self.test_films.0,
            self.test_films.1,
            self.test_patients.0,
            self.test_patients.1,
            100.0 * self.worst_finding.1,
            self.worst_finding.0,
            self.read_s,
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

/// The finding and test fold whose positive share is relatively furthest from the table's.
fn worst_finding(labels: &FindingMatrix, folds: &[cxr_data::Split]) -> (String, f64) {
    let share = |films: &mut dyn Iterator<Item = usize>, l: usize| {
        let (mut n, mut pos) = (0usize, 0usize);
        for i in films {
            n += 1;
            pos += usize::from(labels.row(i)[l].is_positive());
        }
        pos as f64 / n.max(1) as f64
    };
    let mut worst = (String::new(), 0.0);
    for (l, name) in labels.findings.iter().enumerate() {
        let whole = share(&mut (0..labels.len()), l);
        for fold in folds {
            let off = (share(&mut fold.test.iter().copied(), l) / whole - 1.0).abs();
            if whole > 0.0 && off > worst.1 {
                worst = (name.clone(), off);
            }
        }
    }
    worst
}

/// Times reading `table`, building its groups and findings, and `folds` grouped folds (10%
/// validation, seed 0), `repeats` times; keeps the fastest of each step.
pub fn time_split(table: &Path, folds: usize, repeats: usize) -> Result<SplitTiming> {
    let data = |e: cxr_data::DataError| BenchError::Unsupported(format!("split benchmark: {e}"));
    let spec = cxr_data::LabelSpec {
        root: table.parent().unwrap_or(Path::new(".")).to_path_buf(),
        labels: table.file_name().map(PathBuf::from).unwrap_or_default(),
        ..Default::default()
    };
    let mut best: Option<SplitTiming> = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let read = cxr_data::read_label_table(&spec).map_err(data)?;
        let read_s = start.elapsed().as_secs_f64();
        let labels = read.findings;
        let groups = read.patients.ok_or_else(|| {
            BenchError::Unsupported(format!("{}: no patients read", table.display()))
        })?;
        let mut rng = cxr_data::seed::rng(0, cxr_data::seed::Stream::Split);
        let start = Instant::now();
        let split =
            cxr_data::grouped_folds(&groups, &labels, folds, 0.1, &mut rng).map_err(data)?;
        let folds_s = start.elapsed().as_secs_f64();
        let sizes = split.iter().map(|f| f.test.len());
        let patients = split.iter().map(|f| groups.count_in(&f.test));
        let t = SplitTiming {
            films: labels.len(),
            patients: groups.count(),
            folds,
            read_s,
            folds_s,
            test_films: (sizes.clone().min().unwrap_or(0), sizes.max().unwrap_or(0)),
            test_patients: (
                patients.clone().min().unwrap_or(0),
                patients.max().unwrap_or(0),
            ),
            worst_finding: worst_finding(&labels, &split),
        };
        best = Some(match best {
            None => t,
            Some(b) => SplitTiming {
                read_s: b.read_s.min(t.read_s),
                folds_s: b.folds_s.min(t.folds_s),
                ..t
            },
        });
    }
    best.ok_or_else(|| BenchError::Unsupported("split benchmark: no repeat ran".into()))
}
