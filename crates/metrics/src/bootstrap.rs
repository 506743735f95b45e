//! Percentile-bootstrap confidence intervals for micro- and macro-recall over test images.
//!
//! With one seed per configuration the spread between runs is unknown; resampling the test
//! images (with replacement, the same number as there are) shows how much the recall would move
//! on another draw of the same size. The 2.5th and 97.5th percentiles of the resampled recalls
//! give a 95% interval. Resampling draws from a caller-supplied RNG so the bounds are
//! reproducible.

use rand::Rng;

use crate::confusion::ConfusionMatrix;

/// Number of resamples used by the sweep and `cxr evaluate`.
pub const DEFAULT_RESAMPLES: usize = 1000;

/// A two-sided interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// 95% percentile-bootstrap intervals of micro- and macro-recall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecallIntervals {
    /// Micro-recall (accuracy) interval.
    pub micro: Interval,
    /// Macro-recall interval (recall averaged over classes present in each resample).
    pub macro_: Interval,
}

/// Bootstraps micro- and macro-recall of `predicted` against `truth` (`classes` classes) with
/// `resamples` resamples of `truth.len()` images each. Returns `None` for an empty test set or
/// zero resamples.
pub fn recall_intervals<R: Rng>(
    truth: &[u32],
    predicted: &[u32],
    classes: usize,
    resamples: usize,
    rng: &mut R,
) -> Option<RecallIntervals> {
    let n = truth.len().min(predicted.len());
    if n == 0 || resamples == 0 {
        return None;
    }
    let mut micro = Vec::with_capacity(resamples);
    let mut macro_ = Vec::with_capacity(resamples);
    let mut t = vec![0u32; n];
    let mut p = vec![0u32; n];
    for _ in 0..resamples {
        for i in 0..n {
            let j = rng.random_range(0..n);
            t[i] = truth[j];
            p[i] = predicted[j];
        }
        let confusion = ConfusionMatrix::new(&t, &p, classes);
        micro.push(confusion.micro_recall());
        macro_.push(confusion.macro_recall());
    }
    Some(RecallIntervals {
        micro: percentile_interval(&mut micro),
        macro_: percentile_interval(&mut macro_),
    })
}

/// The 2.5th and 97.5th percentiles (nearest rank) of `values`.
pub(crate) fn percentile_interval(values: &mut [f64]) -> Interval {
    values.sort_by(f64::total_cmp);
    let last = values.len() - 1;
    let at = |q: f64| values[((q * last as f64).round() as usize).min(last)];
    Interval {
        low: at(0.025),
        high: at(0.975),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn perfect_predictions_give_a_point_interval() {
        let truth = [0, 1, 2, 0, 1, 2];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let ci = recall_intervals(&truth, &truth, 3, 200, &mut rng).expect("non-empty");
        assert_eq!(
            ci.micro,
            Interval {
                low: 1.0,
                high: 1.0
            }
        );
        assert_eq!(
            ci.macro_,
            Interval {
                low: 1.0,
                high: 1.0
            }
        );
    }

    #[test]
    fn interval_brackets_the_point_estimate_and_narrows_with_more_images() {
        // 70% accuracy on 2 classes, at two test-set sizes.
        let make = |n: usize| {
            let truth: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
            let predicted: Vec<u32> = truth
                .iter()
                .enumerate()
                .map(|(i, &t)| if i % 10 < 7 { t } else { 1 - t })
                .collect();
            (truth, predicted)
        };
        let mut widths = Vec::new();
        for n in [100, 1000] {
            let (truth, predicted) = make(n);
            let point = ConfusionMatrix::new(&truth, &predicted, 2).micro_recall();
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let ci = recall_intervals(&truth, &predicted, 2, 1000, &mut rng).expect("non-empty");
            assert!(
                ci.micro.low < point && point < ci.micro.high,
                "{ci:?} vs {point}"
            );
            assert!(ci.macro_.low < point && point < ci.macro_.high, "{ci:?}");
            widths.push(ci.micro.high - ci.micro.low);
        }
        // Binomial standard error shrinks with sqrt(n): about 0.18 wide at n=100, 0.057 at 1000.
        assert!(widths[0] > 0.12 && widths[0] < 0.24, "{widths:?}");
        assert!(widths[1] > 0.04 && widths[1] < 0.075, "{widths:?}");
    }

    #[test]
    fn same_seed_same_interval_and_empty_input_is_none() {
        let truth = [0, 1, 1, 0, 1];
        let predicted = [0, 1, 0, 0, 0];
        let a = recall_intervals(
            &truth,
            &predicted,
            2,
            300,
            &mut ChaCha8Rng::seed_from_u64(3),
        );
        let b = recall_intervals(
            &truth,
            &predicted,
            2,
            300,
            &mut ChaCha8Rng::seed_from_u64(3),
        );
        assert_eq!(a, b);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        assert_eq!(recall_intervals(&[], &[], 2, 300, &mut rng), None);
    }
}
