//! Two classifiers scored on the same test images are paired data: each image is one draw that
//! both models answer. Comparing their separate bootstrap intervals throws the pairing away
//! (two overlapping intervals can hide a difference that every resample agrees on), so this
//! module tests the difference itself:
//!
//! - [`paired_bootstrap`] resamples the images once per resample, scores both models on the
//!   same resample, and takes the 2.5th and 97.5th percentiles of the differences in micro- and
//!   macro-recall (model `a` minus model `b`).
//! - [`mcnemar`] counts the discordant images (one model right, the other wrong) and gives the
//!   exact two-sided binomial p-value of McNemar's test: under "equally accurate", each
//!   discordant image is a fair coin. Exact at every count, so a handful of discordant pairs
//!   needs no chi-square approximation.

use rand::Rng;
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::bootstrap::{percentile_interval, Interval};
use crate::confusion::ConfusionMatrix;

/// Model `a`'s recall minus model `b`'s on the same images, with paired-bootstrap intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedDifference {
    /// Micro-recall difference on the images as given.
    pub micro: f64,
    /// Macro-recall difference on the images as given.
    pub macro_: f64,
    /// 95% paired-bootstrap interval of the micro-recall difference.
    pub micro_interval: Interval,
    /// 95% paired-bootstrap interval of the macro-recall difference.
    pub macro_interval: Interval,
}

/// Paired bootstrap of `a`'s recall minus `b`'s against `truth` (`classes` classes): each of
/// `resamples` resamples draws `truth.len()` image indices with replacement and scores both
/// models on them. `None` for no images, no resamples, or inputs of different lengths.
pub fn paired_bootstrap<R: Rng>(
    truth: &[u32],
    a: &[u32],
    b: &[u32],
    classes: usize,
    resamples: usize,
    rng: &mut R,
) -> Option<PairedDifference> {
    let n = truth.len();
    if n == 0 || resamples == 0 || a.len() != n || b.len() != n {
        return None;
    }
    let difference = |t: &[u32], pa: &[u32], pb: &[u32]| {
        let ma = ConfusionMatrix::new(t, pa, classes);
        let mb = ConfusionMatrix::new(t, pb, classes);
        (
            ma.micro_recall() - mb.micro_recall(),
            ma.macro_recall() - mb.macro_recall(),
        )
    };
    let (micro, macro_) = difference(truth, a, b);
    let mut micros = Vec::with_capacity(resamples);
    let mut macros = Vec::with_capacity(resamples);
    let (mut t, mut pa, mut pb) = (vec![0u32; n], vec![0u32; n], vec![0u32; n]);
    for _ in 0..resamples {
        for i in 0..n {
            let j = rng.random_range(0..n);
            t[i] = truth[j];
            pa[i] = a[j];
            pb[i] = b[j];
        }
        let (d_micro, d_macro) = difference(&t, &pa, &pb);
        micros.push(d_micro);
        macros.push(d_macro);
    }
    Some(PairedDifference {
        micro,
        macro_,
        micro_interval: percentile_interval(&mut micros),
        macro_interval: percentile_interval(&mut macros),
    })
}

/// McNemar's test of two models on the same images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct McNemar {
    /// Images model `a` gets right and model `b` wrong.
    pub a_only: u64,
    /// Images model `b` gets right and model `a` wrong.
    pub b_only: u64,
    /// Exact two-sided p-value: `min(1, 2 P(X <= min(a_only, b_only)))` for `X ~ Binomial(a_only
    /// + b_only, 1/2)`; 1 when there is no discordant image.
    pub p_value: f64,
}

/// McNemar's exact test of `a` against `b` on `truth` (inputs of the same length; extra
/// entries of a longer one are ignored).
pub fn mcnemar(truth: &[u32], a: &[u32], b: &[u32]) -> McNemar {
    let (mut a_only, mut b_only) = (0u64, 0u64);
    for ((t, pa), pb) in truth.iter().zip(a).zip(b) {
        match (pa == t, pb == t) {
            (true, false) => a_only += 1,
            (false, true) => b_only += 1,
            _ => {}
        }
    }
    let discordant = a_only + b_only;
    let p_value = match Binomial::new(0.5, discordant) {
        Ok(binomial) if discordant > 0 => (2.0 * binomial.cdf(a_only.min(b_only))).min(1.0),
        _ => 1.0,
    };
    McNemar {
        a_only,
        b_only,
        p_value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn mcnemar_exact_p_values_by_hand() {
        // (a right & b wrong, b right & a wrong) -> p, each computed by hand:
        // 1 vs 4: 2 * (C(5,0) + C(5,1)) / 2^5 = 2 * 6 / 32 = 0.375.
        // 0 vs 6: 2 * C(6,0) / 2^6 = 2 / 64 = 0.03125.
        // 2 vs 10: 2 * (1 + 12 + 66) / 4096 = 158 / 4096 = 0.03857421875.
        // 3 vs 3: 2 * P(X <= 3 | n = 6) = 2 * 42 / 64 > 1, so 1.
        // 0 vs 0: no discordant pair, p = 1.
        for (a_only, b_only, expected) in [
            (1u64, 4u64, 0.375),
            (0, 6, 0.03125),
            (2, 10, 158.0 / 4096.0),
            (3, 3, 1.0),
            (0, 0, 1.0),
        ] {
            // Build predictions with that many discordant images plus 5 both-right and 2
            // both-wrong, which McNemar ignores.
            let mut truth = Vec::new();
            let mut a = Vec::new();
            let mut b = Vec::new();
            let mut push = |ra: bool, rb: bool| {
                truth.push(0u32);
                a.push(u32::from(!ra));
                b.push(u32::from(!rb));
            };
            for _ in 0..a_only {
                push(true, false);
            }
            for _ in 0..b_only {
                push(false, true);
            }
            for _ in 0..5 {
                push(true, true);
            }
            for _ in 0..2 {
                push(false, false);
            }
            let test = mcnemar(&truth, &a, &b);
            assert_eq!((test.a_only, test.b_only), (a_only, b_only));
            assert!(
                (test.p_value - expected).abs() < 1e-12,
                "{a_only} vs {b_only}: {} != {expected}",
                test.p_value
            );
        }
    }

    #[test]
    fn paired_bootstrap_of_identical_models_is_exactly_zero() {
        let truth: Vec<u32> = (0..60).map(|i| i % 3).collect();
        let a: Vec<u32> = (0..60).map(|i| (i * 7 % 3) as u32).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let d = paired_bootstrap(&truth, &a, &a, 3, 500, &mut rng).expect("non-empty");
        let zero = Interval {
            low: 0.0,
            high: 0.0,
        };
        assert_eq!((d.micro, d.macro_), (0.0, 0.0));
        assert_eq!((d.micro_interval, d.macro_interval), (zero, zero));
    }

    #[test]
    fn paired_bootstrap_sees_a_difference_the_separate_intervals_miss() {
        // 100 images, 2 balanced classes. `b` is wrong on 30 images; `a` is right on 6 of
        // those and on every other image: a micro difference of 6/100 = 0.06, by hand.
        let truth: Vec<u32> = (0..100).map(|i| (i % 2) as u32).collect();
        let b: Vec<u32> = truth
            .iter()
            .enumerate()
            .map(|(i, &t)| if i < 30 { 1 - t } else { t })
            .collect();
        let a: Vec<u32> = truth
            .iter()
            .enumerate()
            .map(|(i, &t)| if i < 24 { 1 - t } else { t })
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let d = paired_bootstrap(&truth, &a, &b, 2, 2000, &mut rng).expect("non-empty");
        assert!((d.micro - 0.06).abs() < 1e-12);
        // `a` is right wherever `b` is, so no resample can favour `b`: the interval excludes
        // zero from below ...
        assert!(d.micro_interval.low > 0.0, "{:?}", d.micro_interval);
        assert!(d.micro_interval.low <= 0.06 && 0.06 <= d.micro_interval.high);
        // ... while each model's own bootstrap interval overlaps the other's.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let ia = crate::recall_intervals(&truth, &a, 2, 2000, &mut rng).expect("non-empty");
        let ib = crate::recall_intervals(&truth, &b, 2, 2000, &mut rng).expect("non-empty");
        assert!(ia.micro.low < ib.micro.high, "{ia:?} {ib:?}");
        // McNemar agrees: 6 discordant images, all for `a`: p = 2 / 2^6.
        assert!((mcnemar(&truth, &a, &b).p_value - 2.0 / 64.0).abs() < 1e-12);
    }

    #[test]
    fn paired_bootstrap_refuses_mismatched_or_empty_inputs() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!(paired_bootstrap(&[], &[], &[], 2, 10, &mut rng).is_none());
        assert!(paired_bootstrap(&[0, 1], &[0], &[0, 1], 2, 10, &mut rng).is_none());
        assert!(paired_bootstrap(&[0, 1], &[0, 1], &[0, 1], 2, 0, &mut rng).is_none());
    }
}
