//! A multi-label run's test predictions as numbers per finding: each film's probability and
//! truth for every finding ([`FindingScores`], from `predictions.parquet` in its multi-label
//! form), and two configurations' scores on the films both answered ([`PairedScores`]), which
//! the ROC curves, the DeLong comparisons and the split-leak table are computed from.
//!
//! A label counts as the run counted it: `positive` and `negative` always, `uncertain` as the
//! run's `train.uncertain` policy says (read from its `config_json`; left out by default, as
//! `cxr_data::Uncertain` does), `missing` never. The report does not link `cxr-data`, so the
//! policy's three values are read here by name.

use std::collections::HashMap;

use cxr_metrics::auroc;

use crate::grid_results::RunResults;
use crate::order::first_seen;

/// What an uncertain label counts as (a run's `train.uncertain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UncertainPolicy {
    /// Left out, like a missing label (the default).
    #[default]
    Ignore,
    /// Negative.
    Zeros,
    /// Positive.
    Ones,
}

impl UncertainPolicy {
    /// The policy of a run from its summary's `config_json` (`{"train": {"uncertain": ...}}`);
    /// the default where the key is absent, as a config that never set it serialises.
    pub fn of_config(config_json: &str) -> Self {
        let value: Option<serde_json::Value> = serde_json::from_str(config_json).ok();
        match value
            .as_ref()
            .and_then(|v| v.get("train")?.get("uncertain")?.as_str())
        {
            Some("zeros") => Self::Zeros,
            Some("ones") => Self::Ones,
            _ => Self::Ignore,
        }
    }

    /// Whether `label` (as `predictions.parquet` writes it) counts as positive; `None` when it
    /// does not count.
    pub fn truth(self, label: &str) -> Option<bool> {
        match (label, self) {
            ("positive", _) | ("uncertain", Self::Ones) => Some(true),
            ("negative", _) | ("uncertain", Self::Zeros) => Some(false),
            _ => None,
        }
    }
}

/// Test films by findings: each film's probability and truth per finding.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingScores {
    /// The findings, in the runs' output order (first seen).
    pub findings: Vec<String>,
    /// Each film's path, in the order first seen.
    pub paths: Vec<String>,
    /// Each film's patient (empty when the table names none).
    pub patients: Vec<String>,
    /// `films x findings` probabilities, row-major; NaN where a film has no row for a finding.
    scores: Vec<f64>,
    /// `films x findings` truths, row-major; `None` where the label does not count.
    truths: Vec<Option<bool>>,
}

impl FindingScores {
    /// The pooled test predictions of `runs` (one run, or a configuration's fold runs of one
    /// seed, whose test films are disjoint): a film is keyed by its path, the first run that
    /// answered it wins. `None` when no run has multi-label predictions.
    pub fn of_runs(runs: &[&RunResults]) -> Option<Self> {
        let with: Vec<&RunResults> = runs
            .iter()
            .copied()
            .filter(|r| r.finding_predictions.is_some())
            .collect();
        let rows = || {
            with.iter().flat_map(|r| {
                let policy = UncertainPolicy::of_config(&r.summary.config_json);
                r.finding_predictions
                    .iter()
                    .flatten()
                    .map(move |row| (row, policy))
            })
        };
        let findings: Vec<String> = first_seen(rows().map(|(row, _)| row.finding.clone()));
        if findings.is_empty() {
            return None;
        }
        let column: HashMap<&str, usize> = findings
            .iter()
            .enumerate()
            .map(|(k, f)| (f.as_str(), k))
            .collect();
        let k = findings.len();
        let mut film_of: HashMap<String, (usize, usize)> = HashMap::new(); // path -> (film, run)
        let (mut paths, mut patients) = (Vec::new(), Vec::new());
        let (mut scores, mut truths) = (Vec::new(), Vec::new());
        for (run, r) in with.iter().enumerate() {
            let policy = UncertainPolicy::of_config(&r.summary.config_json);
            for row in r.finding_predictions.iter().flatten() {
                let film = match film_of.get(&row.path) {
                    Some(&(film, owner)) if owner == run => film,
                    Some(_) => continue, // an earlier run answered this film
                    None => {
                        film_of.insert(row.path.clone(), (paths.len(), run));
                        paths.push(row.path.clone());
                        patients.push(row.patient.clone());
                        scores.extend(std::iter::repeat_n(f64::NAN, k));
                        truths.extend(std::iter::repeat_n(None, k));
                        paths.len() - 1
                    }
                };
                let j = film * k + column[row.finding.as_str()];
                scores[j] = row.probability;
                truths[j] = policy.truth(&row.label);
            }
        }
        Some(Self {
            findings,
            paths,
            patients,
            scores,
            truths,
        })
    }

    /// Number of films.
    pub fn films(&self) -> usize {
        self.paths.len()
    }

    /// Finding `k`'s scores and truths over the films whose label for it counts.
    pub fn column(&self, k: usize) -> (Vec<f64>, Vec<bool>) {
        let n = self.findings.len();
        (0..self.films())
            .filter_map(|film| {
                let j = film * n + k;
                self.truths[j].map(|t| (self.scores[j], t))
            })
            .unzip()
    }

    /// `(positives, negatives)` of finding `k`.
    pub fn counts(&self, k: usize) -> (usize, usize) {
        let (_, truths) = self.column(k);
        let positives = truths.iter().filter(|&&t| t).count();
        (positives, truths.len() - positives)
    }
}

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
                        col.map(|c| {
                            let j = film * s.findings.len() + c;
                            (s.scores[j], s.truths[j])
                        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_results::{FindingPredictionRow, RunSummary};

    fn run(id: &str, config_json: &str, rows: &[(&str, &str, &str, &str, f64)]) -> RunResults {
        let mut run = RunResults::of_summary(RunSummary {
            run_id: id.into(),
            config_json: config_json.into(),
            ..RunSummary::default()
        });
        run.finding_predictions = Some(
            rows.iter()
                .map(
                    |&(path, patient, finding, label, probability)| FindingPredictionRow {
                        path: path.into(),
                        patient: patient.into(),
                        finding: finding.into(),
                        label: label.into(),
                        probability,
                        called: probability >= 0.5,
                    },
                )
                .collect(),
        );
        run
    }

    #[test]
    fn labels_count_as_the_run_counted_them() {
        assert_eq!(UncertainPolicy::of_config("{}"), UncertainPolicy::Ignore);
        assert_eq!(
            UncertainPolicy::of_config(r#"{"train":{"uncertain":"ones","lr":0.1}}"#),
            UncertainPolicy::Ones
        );
        let truths = |p: UncertainPolicy| {
            ["positive", "negative", "uncertain", "missing"].map(|l| p.truth(l))
        };
        assert_eq!(
            truths(UncertainPolicy::Ignore),
            [Some(true), Some(false), None, None]
        );
        assert_eq!(
            truths(UncertainPolicy::Zeros),
            [Some(true), Some(false), Some(false), None]
        );
    }

    #[test]
    fn folds_pool_by_path_and_pairs_match_films() {
        let zeros = r#"{"train":{"uncertain":"zeros"}}"#;
        let fold0 = run(
            "a0",
            zeros,
            &[
                ("x.png", "p1", "E", "positive", 0.9),
                ("x.png", "p1", "H", "uncertain", 0.2),
                ("y.png", "p1", "E", "negative", 0.1),
                ("y.png", "p1", "H", "missing", 0.3),
            ],
        );
        let fold1 = run("a1", zeros, &[("z.png", "", "E", "negative", 0.4)]);
        let a = FindingScores::of_runs(&[&fold0, &fold1]).expect("predictions");
        assert_eq!(a.findings, ["E", "H"]);
        assert_eq!(a.paths, ["x.png", "y.png", "z.png"]);
        assert_eq!(a.column(0), (vec![0.9, 0.1, 0.4], vec![true, false, false]));
        // The uncertain H of x counts as negative under U-Zeros; y's is missing; z has no H.
        assert_eq!(a.column(1), (vec![0.2], vec![false]));
        assert_eq!(a.counts(0), (1, 2));

        let other = run(
            "b",
            zeros,
            &[
                ("z.png", "", "E", "negative", 0.7),
                ("x.png", "p1", "E", "positive", 0.6),
                ("w.png", "p2", "E", "positive", 0.6),
            ],
        );
        let b = FindingScores::of_runs(&[&other]).expect("predictions");
        let paired = PairedScores::of(&[(a, b)]).expect("shared films");
        // x and z are shared; y and w are not.
        assert_eq!((paired.films(), paired.pairs), (2, 1));
        // b has no H: those cells do not count.
        assert_eq!(paired.labels, [Some(true), None, Some(false), None]);
        let e = paired.column(0, 0..2);
        assert_eq!(
            (e.a, e.b, e.truth),
            (vec![0.9, 0.4], vec![0.6, 0.7], vec![true, false])
        );
        // x's patient p1 is one group, z (no patient) its own.
        assert_eq!(paired.groups, [0, 1]);
        assert_eq!(paired.mean_auroc(PairSide::A, &[0], &[0, 1]), Some(1.0));
        assert_eq!(paired.mean_auroc(PairSide::B, &[0], &[0, 0, 1]), Some(0.0));
        // H is undefined here: a mean over it is no mean over fewer findings.
        assert_eq!(paired.mean_auroc(PairSide::A, &[0, 1], &[0, 1]), None);
    }
}
