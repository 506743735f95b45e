//! DeLong's test of the mean AUROC over findings: equal to DeLong's own test for one finding
//! (and so to pROC's published numbers), additive over findings that share no film, and equal to
//! an independent pure-Python computation with cross-finding covariances (`delong_mean.py`).

use cxr_metrics::{delong_mean_test, delong_test};

use crate::asah::{NDKA, POOR, S100B, WFNS};
use crate::{assert_close, TestResult, P_TOL};

const TOL: f64 = 1e-12;

/// Row-major `films x findings` from one column per finding.
fn rows<T: Copy>(columns: &[&[T]]) -> Vec<T> {
    let films = columns[0].len();
    (0..films)
        .flat_map(|i| columns.iter().map(move |c| c[i]))
        .collect()
}

#[test]
fn one_finding_is_delong_test() -> TestResult {
    let labels: Vec<Option<bool>> = POOR.iter().map(|&p| Some(p)).collect();
    let mean = delong_mean_test(&WFNS, &S100B, &labels, 1).ok_or("mean")?;
    assert_eq!(mean.findings, [0]);
    // roc.test(r.wfns, r.s100b) in pROC's test-roc.test.R.
    assert_close(mean.test.z, 2.20898359144091, TOL);
    assert_close(mean.test.p_value, 0.0271757822291882, P_TOL);
    let single = delong_test(&WFNS, &S100B, &POOR).ok_or("single")?;
    assert_close(mean.test.variance_a, single.variance_a, TOL);
    assert_close(mean.test.covariance, single.covariance, TOL);
    Ok(())
}

#[test]
fn a_duplicated_finding_changes_nothing() -> TestResult {
    let labels: Vec<Option<bool>> = POOR.iter().map(|&p| Some(p)).collect();
    let a = rows(&[&WFNS, &WFNS]);
    let b = rows(&[&NDKA, &NDKA]);
    let mean = delong_mean_test(&a, &b, &rows(&[&labels, &labels]), 2).ok_or("mean")?;
    // roc.test(r.wfns, r.ndka): the mean of two copies is the one finding.
    assert_close(mean.test.z, 2.79777591868904, TOL);
    assert_close(mean.test.p_value, 0.00514557970691098, P_TOL);
    Ok(())
}

#[test]
fn findings_on_disjoint_films_add_their_variances() -> TestResult {
    // Finding 0 labelled on the first 57 patients only, finding 1 on the other 56: no film
    // links them, so Var(mean) = (Var(D_0) + Var(D_1)) / 4, from DeLong's test on each half.
    let half = 57;
    let label = |keep: bool, p: bool| keep.then_some(p);
    let first: Vec<Option<bool>> = POOR
        .iter()
        .enumerate()
        .map(|(i, &p)| label(i < half, p))
        .collect();
    let second: Vec<Option<bool>> = POOR
        .iter()
        .enumerate()
        .map(|(i, &p)| label(i >= half, p))
        .collect();
    // The unlabelled half of each column holds NaN: a missing label's score is never read.
    let hide = |scores: &[f64], keep: &[Option<bool>]| -> Vec<f64> {
        scores
            .iter()
            .zip(keep)
            .map(|(&s, k)| if k.is_some() { s } else { f64::NAN })
            .collect()
    };
    let a = rows(&[&hide(&WFNS, &first), &hide(&NDKA, &second)]);
    let b = rows(&[&hide(&S100B, &first), &hide(&S100B, &second)]);
    let mean = delong_mean_test(&a, &b, &rows(&[&first, &second]), 2).ok_or("mean")?;

    let d0 = delong_test(&WFNS[..half], &S100B[..half], &POOR[..half]).ok_or("first")?;
    let d1 = delong_test(&NDKA[half..], &S100B[half..], &POOR[half..]).ok_or("second")?;
    let var_diff = |d: &cxr_metrics::DeLong| d.variance_a + d.variance_b - 2.0 * d.covariance;
    assert_eq!(mean.findings, [0, 1]);
    assert_close(mean.test.auroc_a, (d0.auroc_a + d1.auroc_a) / 2.0, TOL);
    assert_close(mean.test.auroc_b, (d0.auroc_b + d1.auroc_b) / 2.0, TOL);
    assert_close(
        mean.test.variance_a,
        (d0.variance_a + d1.variance_a) / 4.0,
        TOL,
    );
    assert_close(
        mean.test.covariance,
        (d0.covariance + d1.covariance) / 4.0,
        TOL,
    );
    let z = mean.test.difference() / ((var_diff(&d0) + var_diff(&d1)) / 4.0).sqrt();
    assert_close(mean.test.z, z, 1e-10);
    Ok(())
}

#[test]
fn cross_finding_covariances_match_the_python_check() -> TestResult {
    // Data and expected numbers: crates/metrics/tests/it/delong_mean.py (pure Python, brute-force
    // placements and the covariance matrix of the findings' AUROCs, cell by cell).
    let a = [
        0.2, 0.0, 0.0, 0.7, 0.3, 0.7, 0.2, 0.6, 0.9, 0.2, 0.0, 0.4, 0.3, 0.9, 0.3, 0.3, 0.8, 0.5,
        0.1, 0.6, 0.4, 0.2, 0.7, 0.6, 0.5, 0.5, 0.4, 0.5, 0.7, 0.0, 0.6, 0.3, 0.0, 0.3, 1.0, 0.5,
        0.3, 0.4, 0.9, 0.7, 0.0, 0.3, 0.4, 0.7, 0.2, 0.6, 0.5, 0.7,
    ];
    let b = [
        0.2, 0.7, 0.6, 1.0, 0.7, 0.0, 0.1, 0.8, 0.2, 0.5, 0.0, 0.7, 0.7, 0.4, 0.4, 0.2, 0.2, 0.8,
        0.5, 0.8, 0.0, 0.1, 0.3, 0.7, 0.3, 0.2, 0.4, 0.7, 0.8, 0.4, 0.2, 0.7, 0.6, 0.9, 0.7, 0.2,
        0.3, 0.8, 0.7, 0.8, 0.1, 0.4, 0.6, 0.6, 0.6, 0.0, 0.5, 0.8,
    ];
    let (t, f, n) = (Some(true), Some(false), None);
    let labels = [
        f, f, f, t, f, f, f, f, t, f, n, f, f, t, f, t, t, t, f, n, f, n, n, f, f, t, n, f, t, n,
        t, t, n, t, t, t, f, n, t, t, f, t, t, n, n, n, f, f,
    ];
    let mean = delong_mean_test(&a, &b, &labels, 3).ok_or("mean")?;
    assert_eq!(mean.findings, [0, 1, 2]);
    assert_close(mean.test.auroc_a, 0.7904761904761907, TOL);
    assert_close(mean.test.auroc_b, 0.5505952380952381, TOL);
    assert_close(mean.test.variance_a, 0.004888441743949089, TOL);
    assert_close(mean.test.variance_b, 0.007942016504035006, TOL);
    assert_close(mean.test.covariance, -0.0003328881590651288, TOL);
    assert_close(mean.test.z, 2.0648545049623555, 1e-11);
    assert_close(mean.test.p_value, 0.038936768862846756, P_TOL);
    Ok(())
}

#[test]
fn findings_without_two_films_of_each_class_are_left_out() -> TestResult {
    // Finding 1 has a single positive: DeLong's variance is undefined there, so the mean runs
    // over finding 0 alone (and equals its single test).
    let a = [0.9, 0.1, 0.8, 0.2, 0.4, 0.7, 0.3, 0.6, 0.6, 0.5];
    let b = [0.5, 0.3, 0.6, 0.2, 0.5, 0.1, 0.4, 0.3, 0.2, 0.9];
    let (t, f) = (Some(true), Some(false));
    let labels = [t, t, t, f, f, f, f, f, t, f];
    let mean = delong_mean_test(&a, &b, &labels, 2).ok_or("mean")?;
    assert_eq!(mean.findings, [0]);
    let col = |v: &[f64]| -> Vec<f64> { v.iter().step_by(2).copied().collect() };
    let single =
        delong_test(&col(&a), &col(&b), &[true, true, false, false, true]).ok_or("single")?;
    assert_close(mean.test.z, single.z, TOL);
    // Shapes, NaN on a labelled film, and nothing usable: None.
    assert!(delong_mean_test(&a, &b, &labels, 3).is_none());
    assert!(delong_mean_test(&a, &b[..8], &labels, 2).is_none());
    assert!(delong_mean_test(&[], &[], &[], 2).is_none());
    let mut nan = a;
    nan[0] = f64::NAN;
    assert!(delong_mean_test(&nan, &b, &labels, 2).is_none());
    assert!(delong_mean_test(&a, &b, &[None::<bool>; 10], 2).is_none());
    Ok(())
}
