//! Micro- and macro-recall over findings at fixed thresholds, by hand.

use cxr_metrics::multilabel_recall;

use crate::TestResult;

#[test]
fn micro_and_macro_recall_by_hand() -> TestResult {
    let (t, f, n) = (Some(true), Some(false), None);
    let thresholds = [0.5, 0.3, 0.9];
    #[rustfmt::skip]
    let scores = [
        0.6, 0.2, 0.95,
        0.4, 0.4, 0.1,
        0.7, 0.1, f64::NAN, // NaN where the label is missing: ignored with the film.
        0.55, 0.35, 0.92,
    ];
    #[rustfmt::skip]
    let labels = [
        t, t, f,
        t, n, t,
        f, t, n,
        t, f, t,
    ];
    // Finding 0: positives score 0.6, 0.4, 0.55 against 0.5: 2 of 3 found.
    // Finding 1: positives 0.2 and 0.1 against 0.3: 0 of 2 (film 1's 0.4 is unlabelled).
    // Finding 2: positives 0.1 and 0.92 against 0.9: 1 of 2.
    let r = multilabel_recall(&scores, &labels, &thresholds).ok_or("recall")?;
    assert_eq!(r.per_finding, [Some(2.0 / 3.0), Some(0.0), Some(0.5)]);
    assert_eq!(r.micro, 3.0 / 7.0);
    assert!((r.macro_ - 7.0 / 18.0).abs() < 1e-15, "{}", r.macro_);
    Ok(())
}

#[test]
fn findings_without_positives_leave_the_macro_mean() -> TestResult {
    let (t, f) = (Some(true), Some(false));
    // Finding 1 has no positive film: its recall is undefined, the macro mean is finding 0's.
    let r = multilabel_recall(&[0.9, 0.9, 0.2, 0.1], &[t, f, t, f], &[0.5, 0.5]).ok_or("recall")?;
    assert_eq!(r.per_finding, [Some(0.5), None]);
    assert_eq!((r.micro, r.macro_), (0.5, 0.5));
    Ok(())
}

#[test]
fn bad_shapes_nan_and_no_positives_are_none() {
    let (t, f) = (Some(true), Some(false));
    assert!(multilabel_recall(&[], &[], &[0.5]).is_none());
    assert!(multilabel_recall(&[0.9, 0.1], &[t, f], &[]).is_none());
    assert!(multilabel_recall(&[0.9, 0.1, 0.3], &[t, f, t], &[0.5, 0.5]).is_none());
    assert!(multilabel_recall(&[0.9], &[t, f], &[0.5, 0.5]).is_none());
    assert!(multilabel_recall(&[f64::NAN, 0.1], &[t, f], &[0.5, 0.5]).is_none());
    assert!(multilabel_recall(&[0.9, f64::NAN], &[t, f], &[0.5, 0.5]).is_none());
    assert!(multilabel_recall(&[0.9, 0.1], &[f, f], &[0.5, 0.5]).is_none());
    assert!(multilabel_recall(&[0.9, 0.1], &[t, f], &[f64::NAN, 0.5]).is_none());
}
