//! `check` on multi-label runs (test mean AUROC against the baseline), and the committed CI
//! baseline still reading and writing as before.

use cxr_report::{check, Baseline, GridResults, Verdict, DEFAULT_TOLERANCE};

use crate::fixture::TestResult;
use crate::multilabel_fixture::{set_mean_auroc, standard_ml, write_ml_grid};

#[test]
fn a_mean_auroc_drop_beyond_the_tolerance_regresses_and_within_it_passes() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = write_ml_grid(tmp.path(), "nih", &standard_ml(), &[])?;
    let baseline = Baseline::from_results(&GridResults::load(&grid)?);
    // The CNN's test mean AUROC is (0.75 + 2/3 + 5/6) / 3 = 0.75.
    assert_eq!(baseline.runs[0].mean_auroc, Some(0.75));
    assert!(baseline.runs.iter().all(|r| r.mean_auroc.is_some()));
    let path = tmp.path().join("nih.toml");
    baseline.write(&path, &grid)?;
    let text = std::fs::read_to_string(&path)?;
    assert!(
        text.contains("micro_recall = 0.6\nmacro_recall = 0.55\nmean_auroc = 0.75\n"),
        "{text}"
    );
    assert_eq!(Baseline::read(&path)?, baseline);
    let cnn = standard_ml()[0].id();

    // A drop of 0.015 (micro-recall unchanged): within the tolerance.
    set_mean_auroc(&grid, &cnn, 0.735)?;
    let report = check(
        &GridResults::load(&grid)?,
        &baseline,
        DEFAULT_TOLERANCE,
        false,
    );
    assert!(report.passed(), "{}", report.table());
    assert_eq!(report.rows[0].verdict, Verdict::Ok);
    let delta = report.rows[0].auroc_delta().ok_or("no delta")?;
    assert!((delta + 0.015).abs() < 1e-9, "{delta}");

    // A drop of 0.03: the run regressed although its micro-recall did not move.
    set_mean_auroc(&grid, &cnn, 0.72)?;
    let report = check(
        &GridResults::load(&grid)?,
        &baseline,
        DEFAULT_TOLERANCE,
        false,
    );
    assert!(!report.passed());
    assert_eq!(report.failures(), 1);
    assert_eq!(report.rows[0].verdict, Verdict::Regressed);
    assert_eq!(report.rows[0].delta(), Some(0.0));
    let table = report.table();
    assert!(table.contains("base AUROC"), "{table}");
    assert!(
        table.contains("0.7500     0.7200   -0.0300  REGRESSED"),
        "{table}"
    );

    // A rise beyond the tolerance is an improvement, as for recall.
    set_mean_auroc(&grid, &cnn, 0.8)?;
    let report = check(
        &GridResults::load(&grid)?,
        &baseline,
        DEFAULT_TOLERANCE,
        false,
    );
    assert_eq!(report.rows[0].verdict, Verdict::Improved);
    Ok(())
}

#[test]
fn the_committed_ci_baseline_reads_and_writes_unchanged() -> TestResult {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments/baselines/ci.toml");
    let text = std::fs::read_to_string(&path)?;
    let baseline = Baseline::read(&path)?;
    assert!(!baseline.runs.is_empty());
    assert!(baseline.runs.iter().all(|r| r.mean_auroc.is_none()));
    // No `mean_auroc` key appears for single-label runs: the body is byte for byte the same.
    assert!(text.ends_with(&toml::to_string(&baseline)?), "{text}");
    Ok(())
}
