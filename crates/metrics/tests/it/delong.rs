//! DeLong's variance, interval and test against the published values of the pROC R package on
//! its `aSAH` data (Robin et al. 2011, "pROC: an open-source package for R and S+ to analyze
//! and compare ROC curves", BMC Bioinformatics 12:77), as its own test suite states them
//! (github.com/xrobin/pROC, commit ee2877e): `tests/testthat/test-var.R` ("var with delong
//! works"), `test-ci.auc.R` (`expected.ci.auc`) and `test-roc.test.R` ("roc.test statistic and
//! p are as expected with defaults", whose default method is DeLong's paired test); the curves
//! are `roc(aSAH$outcome, aSAH$<column>)` (`helper-rocs.R`). pROC states its numbers to 15
//! significant digits and compares them at R's `all.equal` tolerance, 1.5e-8.

use cxr_metrics::{auroc, auroc_interval, auroc_variance, delong_test, Placements};

use crate::asah::{NDKA, POOR, S100B, WFNS};
use crate::{assert_close, brute_force_auroc, psi, tied_scores, TestResult, P_TOL};

const TOL: f64 = 1e-12;

#[test]
fn auroc_variance_matches_proc_var() -> TestResult {
    // test-var.R: var(r.wfns), var(r.ndka), var(r.s100b).
    for (scores, expected) in [
        (&WFNS, 0.00146991470882363),
        (&NDKA, 0.0031908105493913),
        (&S100B, 0.00266868245717244),
    ] {
        assert_close(
            auroc_variance(scores, &POOR).ok_or("variance")?,
            expected,
            TOL,
        );
    }
    Ok(())
}

#[test]
fn auroc_interval_matches_proc_ci_auc() -> TestResult {
    // test-ci.auc.R: ci.auc(r.ndka) = (0.501244999271703, 0.611957994579946, 0.722670989888189).
    assert_close(auroc(&NDKA, &POOR).ok_or("auroc")?, 0.611957994579946, TOL);
    let ci = auroc_interval(&NDKA, &POOR).ok_or("interval")?;
    assert_close(ci.low, 0.501244999271703, TOL);
    assert_close(ci.high, 0.722670989888189, TOL);
    Ok(())
}

#[test]
fn delong_test_matches_proc_roc_test() -> TestResult {
    // test-roc.test.R: t1 = roc.test(r.wfns, r.s100b), t2 = (r.wfns, r.ndka), t3 = (r.ndka,
    // r.s100b), each Z, p and the 95% interval of the difference (difference -/+ 1.96 sd).
    let cases = [
        (&WFNS, &S100B, 2.20898359144091, 0.0271757822291882),
        (&WFNS, &NDKA, 2.79777591868904, 0.00514557970691098),
        (&NDKA, &S100B, -1.39077002573558, 0.164295175223054),
    ];
    let intervals = [
        (0.0104061769564846, 0.174214419249478),
        (0.0634011709339876, 0.3600405634833566),
        (-0.2876917446341914, 0.0488706064228094),
    ];
    for ((a, b, z, p), (low, high)) in cases.into_iter().zip(intervals) {
        let t = delong_test(a, b, &POOR).ok_or("delong")?;
        assert_close(t.z, z, TOL);
        assert_close(t.p_value, p, P_TOL);
        let sd = (t.variance_a + t.variance_b - 2.0 * t.covariance).sqrt();
        let half = 1.959963984540054 * sd;
        assert_close(t.difference() - half, low, 1e-10);
        assert_close(t.difference() + half, high, 1e-10);
        // The variances are the single-curve ones; reversing the pair flips z, keeps p.
        assert_close(t.variance_a, auroc_variance(a, &POOR).ok_or("var")?, TOL);
        let r = delong_test(b, a, &POOR).ok_or("reversed")?;
        assert_close(r.z, -z, TOL);
        assert_close(r.p_value, p, P_TOL);
    }
    // "DeLong roc.test works when curves are identical": Z = 0, p = 1.
    let same = delong_test(&WFNS, &WFNS, &POOR).ok_or("identical")?;
    assert_eq!((same.z, same.p_value), (0.0, 1.0));
    Ok(())
}

#[test]
fn placements_match_their_definition() -> TestResult {
    for seed in 0..10 {
        let (scores, positive) = tied_scores(seed, 37);
        let p = Placements::new(&scores, &positive).ok_or("placements")?;
        let xs: Vec<f64> = scores
            .iter()
            .zip(&positive)
            .filter(|t| *t.1)
            .map(|t| *t.0)
            .collect();
        let ys: Vec<f64> = scores
            .iter()
            .zip(&positive)
            .filter(|t| !*t.1)
            .map(|t| *t.0)
            .collect();
        for (v, &x) in p.v10.iter().zip(&xs) {
            assert_close(
                *v,
                ys.iter().map(|&y| psi(x, y)).sum::<f64>() / ys.len() as f64,
                TOL,
            );
        }
        for (v, &y) in p.v01.iter().zip(&ys) {
            assert_close(
                *v,
                xs.iter().map(|&x| psi(x, y)).sum::<f64>() / xs.len() as f64,
                TOL,
            );
        }
        assert_close(p.auroc, brute_force_auroc(&scores, &positive), TOL);
        // Var(A) = S10/m + S01/n with the (m - 1), (n - 1) sample variances.
        let sample_var = |v: &[f64]| {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64
        };
        let expected = sample_var(&p.v10) / xs.len() as f64 + sample_var(&p.v01) / ys.len() as f64;
        assert_close(
            auroc_variance(&scores, &positive).ok_or("var")?,
            expected,
            TOL,
        );
    }
    Ok(())
}

#[test]
fn delong_needs_two_films_of_each_class() {
    let positive = [true, false, false];
    assert_eq!(auroc(&[0.9, 0.1, 0.2], &positive), Some(1.0));
    assert_eq!(auroc_variance(&[0.9, 0.1, 0.2], &positive), None);
    assert_eq!(auroc_interval(&[0.9, 0.1, 0.2], &positive), None);
    assert_eq!(
        delong_test(&[0.9, 0.1, 0.2], &[0.5, 0.1, 0.2], &positive),
        None
    );
    assert_eq!(delong_test(&[], &[], &[]), None);
    assert_eq!(
        delong_test(&[0.9, f64::NAN], &[0.5, 0.1], &[true, false]),
        None
    );
}

#[test]
fn zero_variance_edge_cases() -> TestResult {
    let positive = [true, true, false, false];
    // `a` separates perfectly (every placement 1), `b` ties everything (every placement 1/2):
    // no placement varies, so the difference 1/2 has variance 0 and z is infinite.
    let t = delong_test(&[4.0, 3.0, 2.0, 1.0], &[1.0; 4], &positive).ok_or("delong")?;
    assert_eq!((t.variance_a, t.variance_b, t.covariance), (0.0, 0.0, 0.0));
    assert_eq!((t.difference(), t.z, t.p_value), (0.5, f64::INFINITY, 0.0));
    // Two perfect but different rankings: difference 0, variance 0, z = 0, p = 1 (as pROC).
    let t = delong_test(&[4.0, 3.0, 2.0, 1.0], &[3.0, 4.0, 1.0, 2.0], &positive).ok_or("delong")?;
    assert_eq!((t.difference(), t.z, t.p_value), (0.0, 0.0, 1.0));
    Ok(())
}
