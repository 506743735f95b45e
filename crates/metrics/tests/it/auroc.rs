//! AUROC with ties against hand values and the `O(m n)` definition; the ROC curve's points.

use cxr_metrics::{auroc, roc_auc, roc_curve};

use crate::{assert_close, brute_force_auroc, tied_scores, TestResult};

#[test]
fn auroc_with_ties_by_hand() -> TestResult {
    let cases: [(&[f64], &[bool], f64); 5] = [
        // Pairs (positive, negative): (0.35, 0.1) (0.35, 0.4)x (0.8, 0.1) (0.8, 0.4): 3/4.
        (&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true], 0.75),
        // All tied: every pair counts one half.
        (&[0.5, 0.5, 0.5], &[true, false, false], 0.5),
        // (0.3, 0.7) 0, (0.3, 0.2) 1, (0.7, 0.7) 1/2, (0.7, 0.2) 1: 2.5 / 4.
        (&[0.3, 0.7, 0.7, 0.2], &[true, true, false, false], 0.625),
        // Positives 3, 2, 2 against negatives 2, 1, 1, 3: 3.5 + 2.5 + 2.5 = 8.5 of 12 pairs.
        (
            &[3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 3.0],
            &[true, true, true, false, false, false, false],
            8.5 / 12.0,
        ),
        // Infinities are ordinary scores.
        (&[f64::INFINITY, f64::NEG_INFINITY], &[true, false], 1.0),
    ];
    for (scores, positive, expected) in cases {
        let a = auroc(scores, positive).ok_or("auroc of two classes")?;
        assert_close(a, expected, 1e-15);
    }
    Ok(())
}

#[test]
fn auroc_is_none_without_both_classes_or_with_nan() {
    assert_eq!(auroc(&[], &[]), None);
    assert_eq!(auroc(&[0.3, 0.7], &[true, true]), None);
    assert_eq!(auroc(&[0.3, 0.7], &[false, false]), None);
    assert_eq!(auroc(&[0.3, f64::NAN], &[true, false]), None);
    assert_eq!(auroc(&[0.3, 0.7], &[true]), None);
}

#[test]
fn auroc_matches_the_definition_and_the_f32_roc_auc() -> TestResult {
    for seed in 0..20 {
        let (scores, positive) = tied_scores(seed, 57);
        let a = auroc(&scores, &positive).ok_or("two classes")?;
        assert_close(a, brute_force_auroc(&scores, &positive), 1e-12);
        let narrow: Vec<f32> = scores.iter().map(|&s| s as f32).collect();
        assert_close(a, roc_auc(&narrow, &positive).ok_or("f32")?, 1e-12);
    }
    Ok(())
}

#[test]
fn roc_curve_points_by_hand() {
    // Positives 0.9 and 0.8, negatives 0.8 and 0.3: the tie at 0.8 moves the curve diagonally.
    let points = roc_curve(&[0.9, 0.8, 0.8, 0.3], &[true, true, false, false]);
    assert_eq!(
        points,
        [
            (0.0, 0.0, f64::INFINITY),
            (0.0, 0.5, 0.9),
            (0.5, 1.0, 0.8),
            (1.0, 1.0, 0.3),
        ]
    );
    assert!(roc_curve(&[0.9, f64::NAN], &[true, false]).is_empty());
    assert!(roc_curve(&[0.9, 0.1], &[true, true]).is_empty());
    assert!(roc_curve(&[], &[]).is_empty());
}

#[test]
fn trapezoids_under_the_curve_are_the_auroc() -> TestResult {
    for seed in 0..20 {
        let (scores, positive) = tied_scores(seed, 41);
        let points = roc_curve(&scores, &positive);
        let distinct = {
            let mut s = scores.clone();
            s.sort_by(f64::total_cmp);
            s.dedup();
            s.len()
        };
        assert_eq!(points.len(), distinct + 1);
        assert_eq!((points[0].0, points[0].1), (0.0, 0.0));
        assert_eq!(points.last().map(|p| (p.0, p.1)), Some((1.0, 1.0)));
        assert!(
            points.windows(2).all(|w| w[1].2 < w[0].2),
            "thresholds decrease"
        );
        let area: f64 = points
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
            .sum();
        assert_close(area, auroc(&scores, &positive).ok_or("two classes")?, 1e-12);
    }
    Ok(())
}
