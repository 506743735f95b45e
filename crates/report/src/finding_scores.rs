//! A multi-label run's test predictions as numbers per finding: each film's probability and
//! truth for every finding ([`FindingScores`], from `predictions.parquet` in its multi-label
//! form), which the ROC curves and the per-finding table are computed from, and two
//! configurations' scores on the same films are paired from
//! ([`crate::paired_scores::PairedScores`]).
//!
//! A label counts as the run counted it: `positive` and `negative` always, `uncertain` as the
//! run's `train.uncertain` policy says (read from its `config_json`; left out by default, as
//! `cxr_data::Uncertain` does), `missing` never. The report does not link `cxr-data`, so the
//! policy's three values are read here by name.

use std::collections::HashMap;

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

    /// Film `film`'s probability and truth for finding column `k` (NaN and `None` where it
    /// has none).
    pub(crate) fn cell(&self, film: usize, k: usize) -> (f64, Option<bool>) {
        let j = film * self.findings.len() + k;
        (self.scores[j], self.truths[j])
    }

    /// `(positives, negatives)` of finding `k`.
    pub fn counts(&self, k: usize) -> (usize, usize) {
        let (_, truths) = self.column(k);
        let positives = truths.iter().filter(|&&t| t).count();
        (positives, truths.len() - positives)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paired_scores::{PairSide, PairedScores};
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
