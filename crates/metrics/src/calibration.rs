//! Calibration: does a model's confidence match how often it is right?
//!
//! - [`calibration`] bins test predictions by their confidence (the top class probability) into
//!   equal-width bins over (0, 1] and compares each bin's mean confidence with its accuracy:
//!   the reliability diagram's bars. The expected calibration error (ECE) is the mean gap,
//!   weighted by the share of images in each bin (Guo et al. 2017, 15 bins by default).
//! - [`fit_temperature`] finds the temperature `T` that minimises the mean negative
//!   log-likelihood of `softmax(logits / T)` on a validation split (temperature scaling): one
//!   number, so it changes confidences, never which class is predicted. NLL as a function of
//!   `ln T` is convex, so a golden-section search over `ln T` in [ln 0.05, ln 20] finds it.

/// Reliability bins of [`calibration`] by default, as in Guo et al. (2017).
pub const DEFAULT_BINS: usize = 15;

/// One confidence bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBin {
    /// Lower edge (exclusive, except 0 for the first bin).
    pub low: f64,
    /// Upper edge (inclusive).
    pub high: f64,
    /// Images whose confidence falls in the bin.
    pub count: usize,
    /// Their mean confidence (NaN for an empty bin).
    pub confidence: f64,
    /// The fraction of them predicted right (NaN for an empty bin).
    pub accuracy: f64,
}

/// A reliability diagram and its expected calibration error.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// `sum over bins of count / n * |accuracy - confidence|`.
    pub ece: f64,
    /// Every bin, empty ones included, from low to high confidence.
    pub bins: Vec<ReliabilityBin>,
}

/// Calibration of `probabilities` (`truth.len() x classes`, row-major, each row summing to 1)
/// against `truth`, in `bins` equal-width confidence bins. The prediction is the most probable
/// class (the first on ties). `None` for no images, no bins or a length mismatch.
pub fn calibration(
    probabilities: &[f32],
    truth: &[u32],
    classes: usize,
    bins: usize,
) -> Option<Calibration> {
    let n = truth.len();
    if n == 0 || bins == 0 || classes == 0 || probabilities.len() != n * classes {
        return None;
    }
    let mut count = vec![0usize; bins];
    let mut confidence = vec![0.0f64; bins];
    let mut correct = vec![0usize; bins];
    for (row, &label) in probabilities.chunks_exact(classes).zip(truth) {
        let (predicted, top) = argmax(row);
        let top = f64::from(top);
        // Bin i holds confidences in (i/B, (i+1)/B]; 0 goes to the first bin.
        let bin = ((top * bins as f64).ceil() as usize).clamp(1, bins) - 1;
        count[bin] += 1;
        confidence[bin] += top;
        correct[bin] += usize::from(predicted == label as usize);
    }
    let mut ece = 0.0;
    let bins: Vec<ReliabilityBin> = (0..bins)
        .map(|i| {
            let (mean_confidence, accuracy) = if count[i] == 0 {
                (f64::NAN, f64::NAN)
            } else {
                let c = count[i] as f64;
                (confidence[i] / c, correct[i] as f64 / c)
            };
            if count[i] > 0 {
                ece += count[i] as f64 / n as f64 * (accuracy - mean_confidence).abs();
            }
            ReliabilityBin {
                low: i as f64 / bins as f64,
                high: (i + 1) as f64 / bins as f64,
                count: count[i],
                confidence: mean_confidence,
                accuracy,
            }
        })
        .collect();
    Some(Calibration { ece, bins })
}

/// The index and value of the largest entry (the first on ties).
fn argmax(row: &[f32]) -> (usize, f32) {
    row.iter()
        .copied()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, p)| {
            if p > best.1 {
                (i, p)
            } else {
                best
            }
        })
}

/// Mean negative log-likelihood of `softmax(logits / temperature)` (`truth.len() x classes`
/// logits, row-major) at the true classes.
pub fn nll(logits: &[f32], truth: &[u32], classes: usize, temperature: f64) -> f64 {
    let mut total = 0.0;
    for (row, &label) in logits.chunks_exact(classes).zip(truth) {
        let scaled: Vec<f64> = row.iter().map(|&z| f64::from(z) / temperature).collect();
        let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log_sum = max + scaled.iter().map(|z| (z - max).exp()).sum::<f64>().ln();
        total += log_sum - scaled[label as usize];
    }
    total / truth.len().max(1) as f64
}

/// `softmax(logits / temperature)`, row by row (`rows x classes`, row-major).
pub fn softmax_with_temperature(logits: &[f32], classes: usize, temperature: f64) -> Vec<f32> {
    let mut out = Vec::with_capacity(logits.len());
    for row in logits.chunks_exact(classes) {
        let scaled: Vec<f64> = row.iter().map(|&z| f64::from(z) / temperature).collect();
        let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = scaled.iter().map(|z| (z - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        out.extend(exp.iter().map(|e| (e / sum) as f32));
    }
    out
}

/// The temperature in [0.05, 20] minimising [`nll`] of `logits` against `truth` (a
/// validation split), found by golden-section search over `ln T` to a relative precision of
/// about 1e-6. `None` for no images or a length mismatch.
pub fn fit_temperature(logits: &[f32], truth: &[u32], classes: usize) -> Option<f64> {
    if truth.is_empty() || classes == 0 || logits.len() != truth.len() * classes {
        return None;
    }
    let loss = |log_t: f64| nll(logits, truth, classes, log_t.exp());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = (0.05f64.ln(), 20f64.ln());
    let mut x1 = hi - ratio * (hi - lo);
    let mut x2 = lo + ratio * (hi - lo);
    let (mut f1, mut f2) = (loss(x1), loss(x2));
    while hi - lo > 1e-6 {
        if f1 <= f2 {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - ratio * (hi - lo);
            f1 = loss(x1);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + ratio * (hi - lo);
            f2 = loss(x2);
        }
    }
    Some(((lo + hi) / 2.0).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Two-class probabilities whose top class has confidence `p`, predicting class 0.
    fn row(p: f32) -> [f32; 2] {
        [p, 1.0 - p]
    }

    #[test]
    fn a_perfectly_calibrated_predictor_has_an_ece_near_zero() {
        // Confidence uniform in [0.5, 1], right with exactly that probability.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 200_000;
        let mut probabilities = Vec::with_capacity(2 * n);
        let mut truth = Vec::with_capacity(n);
        for _ in 0..n {
            let p: f32 = rng.random_range(0.5..1.0);
            probabilities.extend(row(p));
            truth.push(u32::from(rng.random::<f32>() >= p));
        }
        let c = calibration(&probabilities, &truth, 2, DEFAULT_BINS).expect("non-empty");
        assert!(c.ece < 0.01, "ECE {}", c.ece);
        assert_eq!(c.bins.len(), 15);
        assert_eq!(c.bins.iter().map(|b| b.count).sum::<usize>(), n);
    }

    #[test]
    fn an_over_confident_predictor_has_its_computed_ece() {
        // Every image at confidence 0.9, right on exactly 6 of 10: ECE = |0.6 - 0.9| = 0.3.
        let probabilities: Vec<f32> = (0..10).flat_map(|_| row(0.9)).collect();
        let truth: Vec<u32> = (0..10).map(|i| u32::from(i >= 6)).collect();
        let c = calibration(&probabilities, &truth, 2, DEFAULT_BINS).expect("non-empty");
        assert!((c.ece - 0.3).abs() < 1e-6, "ECE {}", c.ece);
        // 0.9 lies in (13/15, 14/15]: bin 13.
        let full: Vec<usize> = (0..15).filter(|&i| c.bins[i].count > 0).collect();
        assert_eq!(full, [13]);
        assert!((c.bins[13].accuracy - 0.6).abs() < 1e-12);
        // Two bins, half the images each: 0.5 * |1 - 0.7| + 0.5 * |0.5 - 0.95| = 0.375.
        let mut probabilities: Vec<f32> = (0..4).flat_map(|_| row(0.7)).collect();
        probabilities.extend((0..4).flat_map(|_| row(0.95)));
        let truth = [0, 0, 0, 0, 0, 0, 1, 1];
        let c = calibration(&probabilities, &truth, 2, 10).expect("non-empty");
        assert!((c.ece - 0.375).abs() < 1e-6, "ECE {}", c.ece);
    }

    #[test]
    fn temperature_scaling_lowers_the_nll_of_an_over_confident_model() {
        // Logits of a calibrated model (true logits z, labels drawn from softmax(z)), then
        // made over-confident by multiplying by 4: the fitted temperature should undo it.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (n, classes) = (4000, 3);
        let mut logits = Vec::with_capacity(n * classes);
        let mut truth = Vec::with_capacity(n);
        for _ in 0..n {
            let z: Vec<f32> = (0..classes).map(|_| rng.random_range(-2.0..2.0)).collect();
            let p = softmax_with_temperature(&z, classes, 1.0);
            let u: f32 = rng.random();
            let mut acc = 0.0;
            let label = p
                .iter()
                .position(|&q| {
                    acc += q;
                    u < acc
                })
                .unwrap_or(classes - 1);
            truth.push(label as u32);
            logits.extend(z.iter().map(|v| v * 4.0));
        }
        let t = fit_temperature(&logits, &truth, classes).expect("non-empty");
        assert!((t - 4.0).abs() < 0.4, "temperature {t}");
        let before = nll(&logits, &truth, classes, 1.0);
        let after = nll(&logits, &truth, classes, t);
        assert!(after < before - 0.1, "NLL {before} -> {after}");
        // Scaling never changes the predicted class.
        let a = softmax_with_temperature(&logits, classes, 1.0);
        let b = softmax_with_temperature(&logits, classes, t);
        for (ra, rb) in a.chunks(classes).zip(b.chunks(classes)) {
            assert_eq!(argmax(ra).0, argmax(rb).0);
        }
        // And it makes the confidences honest.
        let ece = |p: &[f32]| calibration(p, &truth, classes, DEFAULT_BINS).map(|c| c.ece);
        assert!(ece(&b) < ece(&a));
    }

    #[test]
    fn bad_inputs_give_none() {
        assert!(calibration(&[], &[], 2, 15).is_none());
        assert!(calibration(&[0.5, 0.5], &[0, 1], 2, 15).is_none());
        assert!(calibration(&[0.5, 0.5], &[0], 2, 0).is_none());
        assert!(fit_temperature(&[], &[], 2).is_none());
    }
}
