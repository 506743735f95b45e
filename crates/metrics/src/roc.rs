//! One-vs-rest ROC AUC: how well one class's probability ranks its images above all others.
//!
//! The AUC is the probability that a random positive scores above a random negative (ties count
//! one half), computed from the Mann-Whitney rank sum with average ranks for ties, which is what
//! `sklearn.metrics.roc_auc_score` returns for the same input. It is undefined when the images
//! are all positives or all negatives.

/// AUC of `scores` for the images marked `positive`; `None` without both kinds of images.
pub fn roc_auc(scores: &[f32], positive: &[bool]) -> Option<f64> {
    let n = scores.len().min(positive.len());
    let positives = positive[..n].iter().filter(|&&p| p).count();
    let negatives = n - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Average 1-based ranks over runs of equal scores.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += average_rank * order[i..=j].iter().filter(|&&k| positive[k]).count() as f64;
        i = j + 1;
    }
    let (p, q) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * q))
}

/// One-vs-rest AUC of every class: `probabilities` is `labels.len() x classes`, row-major.
pub fn one_vs_rest(probabilities: &[f32], labels: &[u32], classes: usize) -> Vec<Option<f64>> {
    (0..classes)
        .map(|c| {
            let scores: Vec<f32> = probabilities
                .chunks(classes)
                .map(|row| row.get(c).copied().unwrap_or(0.0))
                .collect();
            let positive: Vec<bool> = labels.iter().map(|&l| l as usize == c).collect();
            roc_auc(&scores, &positive)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_table() {
        // Expected values from sklearn.metrics.roc_auc_score(positive, scores).
        let cases: [(&[f32], &[bool], Option<f64>); 6] = [
            (
                &[0.1, 0.4, 0.35, 0.8],
                &[false, false, true, true],
                Some(0.75),
            ),
            (
                &[0.9, 0.8, 0.2, 0.1],
                &[true, true, false, false],
                Some(1.0),
            ),
            (
                &[0.9, 0.8, 0.2, 0.1],
                &[false, false, true, true],
                Some(0.0),
            ),
            // All tied: 0.5 whatever the labels.
            (&[0.5, 0.5, 0.5], &[true, false, false], Some(0.5)),
            // One tie across the classes: (1 + 0.5) / 2.
            (&[0.3, 0.7, 0.7], &[false, false, true], Some(0.75)),
            (&[0.3, 0.7], &[true, true], None),
        ];
        for (scores, positive, expected) in cases {
            let auc = roc_auc(scores, positive);
            match (auc, expected) {
                (Some(a), Some(e)) => assert!((a - e).abs() < 1e-12, "{scores:?}: {a} vs {e}"),
                (a, e) => assert_eq!(a, e, "{scores:?}"),
            }
        }
    }

    #[test]
    fn one_vs_rest_reads_each_column() {
        let probabilities = [0.8, 0.2, 0.3, 0.7, 0.6, 0.4];
        let auc = one_vs_rest(&probabilities, &[0, 1, 1], 2);
        // Class 0: positive scores 0.8, negatives 0.3 and 0.6 -> 1.0; class 1 likewise.
        assert_eq!(auc, [Some(1.0), Some(1.0)]);
        assert_eq!(one_vs_rest(&probabilities, &[0, 0, 0], 2), [None, None]);
    }
}
