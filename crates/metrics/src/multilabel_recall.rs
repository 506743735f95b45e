//! Micro- and macro-recall of a multi-label model at chosen thresholds, one per finding.
//!
//! Film `i` is called positive for finding `k` when `score[i][k] >= threshold[k]` (the
//! thresholds chosen on validation, [`crate::youden_threshold`]). Over the findings `k` and the
//! films labelled for each (a film whose label for `k` is missing is left out of `k` only):
//!
//! ```text
//! micro-recall = sum_k TP_k / sum_k (TP_k + FN_k)     every positive label weighs the same
//! macro-recall = 1/K' sum_k TP_k / (TP_k + FN_k)      every finding weighs the same
//! ```
//!
//! where the macro mean runs over the `K'` findings with at least one positive film (recall is
//! undefined on the others). Micro-recall, the fraction of all positive labels found, is the
//! multi-label reading of the design card's micro-recall. A NaN score on a labelled film gives
//! `None`; on a film whose label is missing it is ignored with the film.

/// Recall over findings at fixed thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct MultilabelRecall {
    /// Positive labels found over all positive labels.
    pub micro: f64,
    /// Mean over findings with a positive film of each finding's recall.
    pub macro_: f64,
    /// Each finding's recall, `None` for a finding without a positive film.
    pub per_finding: Vec<Option<f64>>,
}

/// Micro-, macro- and per-finding recall of `scores` at `thresholds` (one per finding) against
/// `labels` (`None` where missing); both row-major `films x findings`. `None` when the shapes
/// disagree, a labelled film's score or a threshold is NaN, or no finding has a positive film.
pub fn multilabel_recall(
    scores: &[f64],
    labels: &[Option<bool>],
    thresholds: &[f64],
) -> Option<MultilabelRecall> {
    let findings = thresholds.len();
    if findings == 0 || labels.is_empty() || !labels.len().is_multiple_of(findings) {
        return None;
    }
    if scores.len() != labels.len() || thresholds.iter().any(|t| t.is_nan()) {
        return None;
    }
    let (mut tp, mut positives) = (vec![0u64; findings], vec![0u64; findings]);
    for (j, (&score, &label)) in scores.iter().zip(labels).enumerate() {
        if label != Some(true) {
            // Negatives do not enter recall; missing labels do not enter at all.
            if label.is_some() && score.is_nan() {
                return None;
            }
            continue;
        }
        if score.is_nan() {
            return None;
        }
        let k = j % findings;
        positives[k] += 1;
        tp[k] += u64::from(score >= thresholds[k]);
    }
    let per_finding: Vec<Option<f64>> = tp
        .iter()
        .zip(&positives)
        .map(|(&t, &p)| (p > 0).then(|| t as f64 / p as f64))
        .collect();
    let total: u64 = positives.iter().sum();
    if total == 0 {
        return None;
    }
    let defined: Vec<f64> = per_finding.iter().flatten().copied().collect();
    Some(MultilabelRecall {
        micro: tp.iter().sum::<u64>() as f64 / total as f64,
        macro_: defined.iter().sum::<f64>() / defined.len() as f64,
        per_finding,
    })
}
