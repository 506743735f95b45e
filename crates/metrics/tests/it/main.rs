//! cxr-metrics' integration tests, one binary for the crate: the per-finding metrics of
//! multi-label models (AUROC and its curve, DeLong's test, the Youden threshold, the patient
//! bootstrap, recall over findings), against hand computations and published values.

mod asah;

mod auroc;
mod delong;
mod delong_mean;
mod group_bootstrap;
mod multilabel_recall;
mod threshold;

/// What every test returns: `Err` names the call that gave `None`.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Tolerance of p-values: they go through statrs' `erfc`, which agrees with R's `pnorm` (and
/// Python's `math.erfc`) to about 5e-11 relative on these tests, not to the last digit.
pub const P_TOL: f64 = 1e-9;

/// `|a - b| <= tol * max(1, |b|)`, with both numbers in the message.
#[track_caller]
pub fn assert_close(a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{a} != {b} (tol {tol})"
    );
}

/// Scores rounded to one decimal, so that ties are common, and labels, from a seeded RNG.
pub fn tied_scores(seed: u64, films: usize) -> (Vec<f64>, Vec<bool>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let positive: Vec<bool> = (0..films).map(|_| rng.random_bool(0.4)).collect();
    let scores = positive
        .iter()
        .map(|&p| ((rng.random::<f64>() + if p { 0.3 } else { 0.0 }) * 10.0).round() / 10.0)
        .collect();
    (scores, positive)
}

/// The Mann-Whitney AUROC straight from its definition, `O(m n)`: the reference the sorted
/// implementations are checked against.
pub fn brute_force_auroc(scores: &[f64], positive: &[bool]) -> f64 {
    let of = |class: bool| -> Vec<f64> {
        (0..scores.len())
            .filter(|&i| positive[i] == class)
            .map(|i| scores[i])
            .collect()
    };
    let (xs, ys) = (of(true), of(false));
    let sum: f64 = xs
        .iter()
        .flat_map(|&x| ys.iter().map(move |&y| psi(x, y)))
        .sum();
    sum / (xs.len() * ys.len()) as f64
}

/// 1 when the positive's score `x` is above the negative's `y`, 1/2 on a tie, else 0.
pub fn psi(x: f64, y: f64) -> f64 {
    if x > y {
        1.0
    } else if x == y {
        0.5
    } else {
        0.0
    }
}
