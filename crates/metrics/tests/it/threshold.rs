//! The Youden threshold and the counts at a threshold, by hand and against pROC's best
//! threshold on its `aSAH` data.

use cxr_metrics::{youden_threshold, ThresholdStats};

use crate::asah::{POOR, S100B};
use crate::TestResult;

const SCORES: [f64; 6] = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
const POSITIVE: [bool; 6] = [true, false, true, true, false, false];

#[test]
fn counts_and_rates_at_a_threshold_by_hand() -> TestResult {
    // Called positive (>= 0.65): 0.9 (pos), 0.8 (neg), 0.7 (pos); negative: 0.6 (pos), 0.5,
    // 0.4 (neg).
    let s = ThresholdStats::at(&SCORES, &POSITIVE, 0.65).ok_or("stats")?;
    assert_eq!((s.tp, s.fp, s.tn, s.fn_), (2, 1, 2, 1));
    assert_eq!(s.sensitivity(), Some(2.0 / 3.0));
    assert_eq!(s.specificity(), Some(2.0 / 3.0));
    assert_eq!(s.precision(), Some(2.0 / 3.0));
    // A threshold equal to a score calls that film positive.
    let s = ThresholdStats::at(&SCORES, &POSITIVE, 0.6).ok_or("stats")?;
    assert_eq!((s.tp, s.fp, s.tn, s.fn_), (3, 1, 2, 0));
    // Nothing called positive: precision undefined; no negatives: specificity undefined.
    let s = ThresholdStats::at(&SCORES, &POSITIVE, 1.0).ok_or("stats")?;
    assert_eq!((s.precision(), s.sensitivity()), (None, Some(0.0)));
    let s = ThresholdStats::at(&[0.3], &[true], 0.5).ok_or("stats")?;
    assert_eq!((s.specificity(), s.youden_j()), (None, None));
    assert_eq!(ThresholdStats::at(&[], &[], 0.5), None);
    assert_eq!(ThresholdStats::at(&[f64::NAN], &[true], 0.5), None);
    assert_eq!(ThresholdStats::at(&[0.3], &[true], f64::NAN), None);
    Ok(())
}

#[test]
fn youden_picks_the_largest_j_by_hand() -> TestResult {
    // m = n = 3. J at each threshold: 0.9: 1/3, 0.8: 0, 0.7: 1/3, 0.6: 2/3, 0.5: 1/3, 0.4: 0.
    let s = youden_threshold(&SCORES, &POSITIVE).ok_or("youden")?;
    assert_eq!(s.threshold, 0.6);
    assert_eq!((s.tp, s.fp, s.tn, s.fn_), (3, 1, 2, 0));
    let j = s.youden_j().ok_or("j")?;
    assert!((j - 2.0 / 3.0).abs() < 1e-15, "{j}");
    assert_eq!(ThresholdStats::at(&SCORES, &POSITIVE, s.threshold), Some(s));
    Ok(())
}

#[test]
fn youden_ties_go_to_the_highest_threshold_whatever_the_order() -> TestResult {
    // J: 0.9: 1/2, 0.8: 0, 0.7: 1/2, 0.6: 0. Equal at 0.9 and 0.7: the higher wins.
    let scores = [0.9, 0.8, 0.7, 0.6];
    let positive = [true, false, true, false];
    assert_eq!(
        youden_threshold(&scores, &positive)
            .ok_or("youden")?
            .threshold,
        0.9
    );
    let reversed: Vec<f64> = scores.iter().rev().copied().collect();
    let positive_reversed: Vec<bool> = positive.iter().rev().copied().collect();
    let s = youden_threshold(&reversed, &positive_reversed).ok_or("youden")?;
    assert_eq!((s.threshold, s.tp, s.fp), (0.9, 1, 0));
    Ok(())
}

#[test]
fn youden_on_asah_s100b_is_procs_best_threshold() -> TestResult {
    // pROC's test-coords.R, "coords with best threshold works": coords(r.s100b, "best") is the
    // row of threshold 0.205, pROC's midpoint between the scores 0.19 and 0.22. Here thresholds
    // are scores, so the same cut is ">= 0.22": 26 of 41 poor outcomes, 14 of 72 good ones.
    let s = youden_threshold(&S100B, &POOR).ok_or("youden")?;
    assert_eq!(s.threshold, 0.22);
    assert!(!S100B.iter().any(|&v| v > 0.19 && v < 0.22));
    assert_eq!((s.tp, s.fp, s.tn, s.fn_), (26, 14, 58, 15));
    assert_eq!(s.sensitivity(), Some(26.0 / 41.0));
    assert_eq!(s.specificity(), Some(58.0 / 72.0));
    assert_eq!(s.precision(), Some(26.0 / 40.0));
    Ok(())
}

#[test]
fn youden_is_none_without_both_classes_or_with_nan() {
    assert_eq!(youden_threshold(&[], &[]), None);
    assert_eq!(youden_threshold(&[0.2, 0.4], &[true, true]), None);
    assert_eq!(youden_threshold(&[0.2, f64::NAN], &[true, false]), None);
}
