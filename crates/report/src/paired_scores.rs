//! Two configurations' multi-label scores on the films both answered ([`PairedScores`]),
//! pooled over run pairs: what the DeLong comparisons and the split-leak table are computed
//! from.

use std::collections::HashMap;

use cxr_metrics::auroc;

use crate::finding_scores::FindingScores;
use crate::order::first_seen;

/// Two configurations' scores on the films both answered, pooled over run pairs: the input of
/// DeLong's tests and of the patient bootstrap of their difference.
#[derive(Debug, Clone, PartialEq)]
pub struct PairedScores {
    /// The findings (configuration `a`'s, in its order).
    pub findings: Vec<String>,
    /// `films x findings` probabilities of `a`, row-major.
    pub a: Vec<f64>,
    /// `films x findings` probabilities of `b`.
    pub b: Vec<f64>,
    /// `films x findings` truths (`a`'s labels), `None` where the label does not count or
    /// either side lacks the cell, or the two sides disagree on it.
    pub labels: Vec<Option<bool>>,
    /// Each film's patient as a group index for the bootstrap (a film whose table names no
    /// patient is its own group); a patient met in several pairs (seeds) is one group.
    pub groups: Vec<u32>,
    /// Run pairs (or pools of fold runs) that contributed films.
    pub pairs: usize,
}

impl PairedScores {
    /// The films of each `(a, b)` pair matched by path, then stacked over the pairs. `None`
    /// when no pair shares a film.
    pub fn of(pairs: &[(FindingScores, FindingScores)]) -> Option<Self> {
        let findings = first_seen(pairs.iter().flat_map(|(a, _)| a.findings.iter().cloned()));
        let n = findings.len();
        let (mut a, mut b, mut labels, mut groups) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut group_of: HashMap<String, u32> = HashMap::new();
        let mut used = 0;
        for (sa, sb) in pairs {
            let film_b: HashMap<&str, usize> = sb
                .paths
                .iter()
                .enumerate()
                .map(|(i, p)| (p.as_str(), i))
                .collect();
            let col_a = columns(&findings, &sa.findings);
            let col_b = columns(&findings, &sb.findings);
            let start = groups.len();
            for (fa, path) in sa.paths.iter().enumerate() {
                let Some(&fb) = film_b.get(path.as_str()) else {
                    continue;
                };
                for k in 0..n {
                    let cell = |s: &FindingScores, film: usize, col: Option<usize>| {
                        col.map(|c| s.cell(film, c))
                    };
                    match (cell(sa, fa, col_a[k]), cell(sb, fb, col_b[k])) {
                        (Some((x, ta)), Some((y, tb))) if ta == tb => {
                            a.push(x);
                            b.push(y);
                            labels.push(ta);
                        }
                        _ => {
                            a.push(f64::NAN);
                            b.push(f64::NAN);
                            labels.push(None);
                        }
                    }
                }
                let patient = &sa.patients[fa];
                let key = if patient.is_empty() {
                    format!("film:{path}")
                } else {
                    format!("patient:{patient}")
                };
                let next = group_of.len() as u32;
                groups.push(*group_of.entry(key).or_insert(next));
            }
            if groups.len() > start {
                used += 1;
            }
        }
        (!groups.is_empty()).then_some(Self {
            findings,
            a,
            b,
            labels,
            groups,
            pairs: used,
        })
    }

    /// Number of films.
    pub fn films(&self) -> usize {
        self.groups.len()
    }

    /// Number of distinct groups (patients).
    pub fn patients(&self) -> usize {
        first_seen(self.groups.iter().copied()).len()
    }

    /// Finding `k`'s scores of `a` and `b` and truths over `films` (repeats allowed) whose label
    /// counts.
    pub fn column(&self, k: usize, films: impl IntoIterator<Item = usize>) -> Column {
        let n = self.findings.len();
        let mut column = Column::default();
        for film in films {
            let j = film * n + k;
            if let Some(t) = self.labels[j] {
                column.a.push(self.a[j]);
                column.b.push(self.b[j]);
                column.truth.push(t);
            }
        }
        column
    }

    /// The mean over `findings` of one side's AUROC on `films` (repeats allowed); `None` when
    /// one of them is undefined there (no positive or no negative film), so that a bootstrap
    /// replicate is the same statistic as the estimate, never a mean over fewer findings (a
    /// replicate that lost a rare finding is skipped and counted). Both sides share the films'
    /// labels, so they are defined together.
    pub fn mean_auroc(&self, side: PairSide, findings: &[usize], films: &[usize]) -> Option<f64> {
        let n = self.findings.len();
        let scores = match side {
            PairSide::A => &self.a,
            PairSide::B => &self.b,
        };
        let (mut sum, mut count) = (0.0, 0usize);
        let (mut s, mut t) = (
            Vec::with_capacity(films.len()),
            Vec::with_capacity(films.len()),
        );
        for &k in findings {
            s.clear();
            t.clear();
            for &film in films {
                let j = film * n + k;
                if let Some(truth) = self.labels[j] {
                    s.push(scores[j]);
                    t.push(truth);
                }
            }
            sum += auroc(&s, &t)?;
            count += 1;
        }
        (count > 0).then(|| sum / count as f64)
    }
}

/// Which configuration of a [`PairedScores`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairSide {
    /// Configuration `a`.
    A,
    /// Configuration `b`.
    B,
}

/// One finding's paired scores ([`PairedScores::column`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Column {
    /// `a`'s probabilities.
    pub a: Vec<f64>,
    /// `b`'s probabilities.
    pub b: Vec<f64>,
    /// The truths.
    pub truth: Vec<bool>,
}

/// Where each of `findings` sits among `of` (`None` where `of` lacks it).
fn columns(findings: &[String], of: &[String]) -> Vec<Option<usize>> {
    findings
        .iter()
        .map(|f| of.iter().position(|o| o == f))
        .collect()
}
