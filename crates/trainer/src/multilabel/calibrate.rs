//! Temperature scaling per finding (`[train] calibrate = true` on a multi-label run): each
//! finding's probability becomes `sigmoid(logit / T_k)`, `T_k` fitted on the validation films
//! labelled for it, and the calibration error of each finding's probabilities.
//!
//! A sigmoid is a two-class softmax over `(0, z)`: `sigmoid(z / T) = softmax((0, z) / T)[1]`,
//! so each finding's temperature and error are those of `cxr-metrics`' multi-class
//! [`fit_temperature`] and [`calibration`] on the pairs `(0, z)` and `(1 - p, p)`: one
//! implementation, not a binary copy.

use cxr_metrics::{calibration, fit_temperature, DEFAULT_BINS};

use crate::multilabel::evaluation::MultiLabelEvaluation;
use crate::multilabel::scores::FindingScores;

/// Each finding's temperature fitted on `eval` (scored against `scores`, the same films),
/// `None` for a finding without a labelled film.
pub fn finding_temperatures(
    eval: &MultiLabelEvaluation,
    scores: &FindingScores,
) -> Vec<Option<f64>> {
    (0..eval.findings)
        .map(|k| {
            let (logits, truths) = finding_logits(eval, scores, k);
            let pairs: Vec<f32> = logits.iter().flat_map(|&z| [0.0, z]).collect();
            let labels: Vec<u32> = truths.iter().map(|&t| u32::from(t)).collect();
            fit_temperature(&pairs, &labels, 2)
        })
        .collect()
}

/// Expected calibration error (15 bins, confidence of the more probable answer) of finding
/// `k`'s probabilities over its labelled films; `None` without one.
pub fn finding_ece(scores: &FindingScores, k: usize) -> Option<f64> {
    let (p, truths) = scores.column(k);
    let pairs: Vec<f32> = p
        .iter()
        .flat_map(|&p| [(1.0 - p) as f32, p as f32])
        .collect();
    let labels: Vec<u32> = truths.iter().map(|&t| u32::from(t)).collect();
    calibration(&pairs, &labels, 2, DEFAULT_BINS).map(|c| c.ece)
}

/// Finding `k`'s logits and truths over the films labelled for it.
fn finding_logits(
    eval: &MultiLabelEvaluation,
    scores: &FindingScores,
    k: usize,
) -> (Vec<f32>, Vec<bool>) {
    (0..scores.films())
        .filter_map(|row| {
            let truth = scores.truth(row, k)?;
            Some((eval.logits[row * eval.findings + k], truth))
        })
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_data::FindingLabel::{Missing as M, Negative as N, Positive as P};
    use cxr_data::{FindingMatrix, Uncertain};

    #[test]
    fn overconfident_logits_get_a_temperature_above_one_and_a_smaller_error() {
        // Finding A: logits of +-4 that are right only 3 times in 4 (overconfident); B has no
        // labelled film.
        let mut labels = FindingMatrix::new(vec!["A".into(), "B".into()]);
        let mut logits = Vec::new();
        for i in 0..40 {
            let positive = i % 2 == 0;
            let right = i % 8 < 6;
            labels.push(&[if positive { P } else { N }, M]);
            let z: f32 = if positive == right { 4.0 } else { -4.0 };
            logits.extend([z, 0.0]);
        }
        let mut eval = MultiLabelEvaluation {
            findings: 2,
            probabilities: logits.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect(),
            logits,
            ..Default::default()
        };
        let films: Vec<usize> = (0..40).collect();
        let before = FindingScores::of(&eval, &labels, &films, Uncertain::Ignore);
        let t = finding_temperatures(&eval, &before);
        assert_eq!(t[1], None);
        let ta = t[0].expect("A is labelled");
        assert!(ta > 1.0, "{ta}");
        let ece_before = finding_ece(&before, 0).expect("defined");
        eval.scale(&[ta, 1.0]);
        let after = FindingScores::of(&eval, &labels, &films, Uncertain::Ignore);
        let ece_after = finding_ece(&after, 0).expect("defined");
        assert!(ece_after < ece_before, "{ece_after} vs {ece_before}");
        // Scaling never reorders films: AUROC is unchanged.
        assert_eq!(after.aurocs()[0], before.aurocs()[0]);
        // 3 of 4 right at +-4 / T: the fitted probability of the right answer is near 0.75.
        let p = 1.0 / (1.0 + (-4.0 / ta).exp());
        assert!((p - 0.75).abs() < 0.01, "{p}");
    }
}
