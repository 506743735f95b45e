//! A multi-label evaluation read finding by finding ([`FindingScores`]): AUROC per finding and
//! their mean (the headline), thresholds by Youden's J, recall at thresholds, and intervals
//! from a bootstrap that resamples patients.

use cxr_data::{FindingMatrix, Uncertain};
use cxr_metrics::{
    auroc, group_bootstrap, multilabel_recall, youden_threshold, GroupInterval, MultilabelRecall,
};
use rand::Rng;

use crate::multilabel::evaluation::MultiLabelEvaluation;

/// The threshold of a finding whose validation films lack a positive or a negative (Youden's J
/// is undefined there): the sigmoid's midpoint.
pub const FALLBACK_THRESHOLD: f64 = 0.5;

/// Each evaluated film's score and truth per finding, the truth `None` where the label does not
/// count (missing, or uncertain under [`Uncertain::Ignore`]).
#[derive(Debug, Clone)]
pub struct FindingScores {
    findings: usize,
    /// `films x findings` probabilities, row-major, in the order evaluated.
    scores: Vec<f64>,
    /// `films x findings` truths, row-major.
    truths: Vec<Option<bool>>,
}

impl FindingScores {
    /// The scores of `eval`, which evaluated `films` (indices into `labels`, in that order),
    /// against their labels under `uncertain`.
    ///
    /// # Panics
    /// When `films.len()` is not the number of films `eval` holds.
    pub fn of(
        eval: &MultiLabelEvaluation,
        labels: &FindingMatrix,
        films: &[usize],
        uncertain: Uncertain,
    ) -> Self {
        assert_eq!(
            films.len(),
            eval.films(),
            "one label row per evaluated film"
        );
        let truths = films
            .iter()
            .flat_map(|&film| labels.row(film).iter().map(|&l| uncertain.positive(l)))
            .collect();
        Self {
            findings: eval.findings,
            scores: eval.probabilities.iter().map(|&p| f64::from(p)).collect(),
            truths,
        }
    }

    /// Number of films.
    pub fn films(&self) -> usize {
        self.scores.len().checked_div(self.findings).unwrap_or(0)
    }

    /// Number of findings.
    pub fn findings(&self) -> usize {
        self.findings
    }

    /// Finding `k`'s scores and truths over the films (positions `rows`, repeats allowed) whose
    /// label for `k` counts.
    pub fn column_of(
        &self,
        k: usize,
        rows: impl IntoIterator<Item = usize>,
    ) -> (Vec<f64>, Vec<bool>) {
        rows.into_iter()
            .filter_map(|row| {
                let j = row * self.findings + k;
                self.truths[j].map(|t| (self.scores[j], t))
            })
            .unzip()
    }

    /// The truth of evaluated film `row` for finding `k`; `None` where its label does not count.
    pub fn truth(&self, row: usize, k: usize) -> Option<bool> {
        self.truths[row * self.findings + k]
    }

    /// Finding `k`'s scores and truths over every film whose label counts.
    pub fn column(&self, k: usize) -> (Vec<f64>, Vec<bool>) {
        self.column_of(k, 0..self.films())
    }

    /// Each finding's AUROC (`None` without a positive and a negative film).
    pub fn aurocs(&self) -> Vec<Option<f64>> {
        (0..self.findings)
            .map(|k| {
                let (s, t) = self.column(k);
                auroc(&s, &t)
            })
            .collect()
    }

    /// The mean of the AUROCs that are defined; `None` when none is.
    pub fn mean_auroc(&self) -> Option<f64> {
        mean_defined(&self.aurocs())
    }

    /// Per finding, the threshold maximising Youden's J on these films, or
    /// [`FALLBACK_THRESHOLD`] where J is undefined (no positive or no negative film).
    pub fn youden_thresholds(&self) -> Vec<f64> {
        (0..self.findings)
            .map(|k| {
                let (s, t) = self.column(k);
                youden_threshold(&s, &t).map_or(FALLBACK_THRESHOLD, |j| j.threshold)
            })
            .collect()
    }

    /// Micro-, macro- and per-finding recall when a film is called positive at `score >=
    /// thresholds[k]`; `None` when no finding has a positive film.
    pub fn recall_at(&self, thresholds: &[f64]) -> Option<MultilabelRecall> {
        multilabel_recall(&self.scores, &self.truths, thresholds)
    }

    /// 95% bootstrap interval of finding `k`'s AUROC, each replicate drawing whole groups
    /// (`groups[row]`: the patient of each evaluated film; give every film its own group to
    /// resample films).
    pub fn auroc_interval<R: Rng>(
        &self,
        k: usize,
        groups: &[u32],
        resamples: usize,
        rng: &mut R,
    ) -> Option<GroupInterval> {
        group_bootstrap(groups, resamples, rng, |rows| {
            let (s, t) = self.column_of(k, rows.iter().copied());
            auroc(&s, &t)
        })
    }

    /// 95% bootstrap interval of the mean AUROC, resampling groups as
    /// [`FindingScores::auroc_interval`]. The mean runs over the findings whose AUROC is
    /// defined on all films; a replicate where one of them lacks a positive or a negative is
    /// skipped (and counted), so every replicate is the same statistic as the estimate: a mean
    /// over fewer findings would shift the interval away from it (rare findings, a patient or
    /// two of positives, drop out of many replicates).
    pub fn mean_auroc_interval<R: Rng>(
        &self,
        groups: &[u32],
        resamples: usize,
        rng: &mut R,
    ) -> Option<GroupInterval> {
        let defined: Vec<usize> = self
            .aurocs()
            .iter()
            .enumerate()
            .filter_map(|(k, a)| a.map(|_| k))
            .collect();
        group_bootstrap(groups, resamples, rng, |rows| {
            let values = defined
                .iter()
                .map(|&k| {
                    let (s, t) = self.column_of(k, rows.iter().copied());
                    auroc(&s, &t)
                })
                .collect::<Option<Vec<f64>>>()?;
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        })
    }
}

/// The mean of the values that are `Some`; `None` when none is.
pub fn mean_defined(values: &[Option<f64>]) -> Option<f64> {
    let defined: Vec<f64> = values.iter().flatten().copied().collect();
    (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_data::FindingLabel::{Missing as M, Negative as N, Positive as P, Uncertain as U};
    use rand::SeedableRng;

    /// Four films, two findings: A is ranked perfectly, B has one inverted pair of two, and a
    /// missing and an uncertain label.
    fn scores(uncertain: Uncertain) -> FindingScores {
        let mut labels = FindingMatrix::new(vec!["A".into(), "B".into()]);
        labels.push(&[P, P]);
        labels.push(&[N, N]);
        labels.push(&[P, M]);
        labels.push(&[N, U]);
        let eval = MultiLabelEvaluation {
            probabilities: vec![0.9, 0.3, 0.2, 0.6, 0.8, 0.99, 0.1, 0.5],
            findings: 2,
            ..Default::default()
        };
        FindingScores::of(&eval, &labels, &[0, 1, 2, 3], uncertain)
    }

    #[test]
    fn aurocs_and_their_mean_leave_out_labels_that_do_not_count() {
        // B under Ignore: films 0 (P, 0.3) and 1 (N, 0.6): the pair is inverted, AUROC 0.
        let s = scores(Uncertain::Ignore);
        assert_eq!(s.aurocs(), [Some(1.0), Some(0.0)]);
        assert_eq!(s.mean_auroc(), Some(0.5));
        // Film 3 (0.5) is a second positive of B under Ones (0.3 and 0.5 both below the
        // negative's 0.6) and a second negative under Zeros (both above the positive's 0.3):
        // no pair ordered right either way.
        assert_eq!(scores(Uncertain::Ones).aurocs()[1], Some(0.0));
        assert_eq!(scores(Uncertain::Zeros).aurocs()[1], Some(0.0));
    }

    #[test]
    fn thresholds_fall_back_where_youden_is_undefined_and_recall_uses_them() {
        let mut labels = FindingMatrix::new(vec!["A".into(), "B".into()]);
        labels.push(&[P, N]);
        labels.push(&[N, N]);
        let eval = MultiLabelEvaluation {
            probabilities: vec![0.75, 0.25, 0.375, 0.875],
            findings: 2,
            ..Default::default()
        };
        let s = FindingScores::of(&eval, &labels, &[0, 1], Uncertain::Ignore);
        // A: the positive's score 0.75 separates perfectly; B has no positive.
        assert_eq!(s.youden_thresholds(), [0.75, FALLBACK_THRESHOLD]);
        let recall = s.recall_at(&[0.875, 0.5]).expect("A has a positive");
        assert_eq!((recall.micro, recall.macro_), (0.0, 0.0));
        assert_eq!(recall.per_finding, [Some(0.0), None]);
    }

    #[test]
    fn intervals_resample_groups_and_cover_the_estimate() {
        let s = scores(Uncertain::Ignore);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // Films 0 and 1 are one patient, 2 and 3 another: a replicate holds both films of a
        // drawn patient, so A always has a positive and a negative and stays at 1.
        let ci = s
            .auroc_interval(0, &[0, 0, 1, 1], 200, &mut rng)
            .expect("defined");
        assert_eq!(
            (ci.estimate, ci.interval.low, ci.interval.high),
            (Some(1.0), 1.0, 1.0)
        );
        assert_eq!(ci.skipped, 0);
        let mean = s
            .mean_auroc_interval(&[0, 0, 1, 1], 200, &mut rng)
            .expect("defined");
        assert_eq!(mean.estimate, Some(0.5));
        // B is defined only in replicates holding patient 0, where the mean is 0.5; the others
        // (patient 1 drawn twice: a quarter of them) are skipped, not averaged over A alone.
        assert_eq!((mean.interval.low, mean.interval.high), (0.5, 0.5));
        assert!(mean.skipped > 0 && mean.skipped < 100, "{}", mean.skipped);
    }
}
