//! What every rank statistic shares: the check before ranking films (AUROC, DeLong's
//! placements, Youden's threshold) and the walk down the distinct scores (the ROC curve,
//! Youden's threshold).

/// `(positives, negatives)` when the inputs can be ranked: equal lengths, no NaN score, both
/// classes present.
pub(crate) fn checked_counts(scores: &[f64], positive: &[bool]) -> Option<(usize, usize)> {
    if scores.len() != positive.len() || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let m = positive.iter().filter(|&&p| p).count();
    let n = positive.len() - m;
    (m > 0 && n > 0).then_some((m, n))
}

/// One distinct score of a descending walk: films scoring at or above `threshold` are called
/// positive, `tp` of them positive and `fp` negative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Step {
    pub threshold: f64,
    pub tp: u64,
    pub fp: u64,
}

/// The cumulative counts at each distinct score, from the highest down (films with tied scores
/// enter together). The caller has checked the inputs ([`checked_counts`]).
pub(crate) fn steps(scores: &[f64], positive: &[bool]) -> Vec<Step> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut out = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let threshold = scores[order[i]];
        while i < order.len() && scores[order[i]] == threshold {
            if positive[order[i]] {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        out.push(Step { threshold, tp, fp });
    }
    out
}
