//! `check` verdicts and the `--update` round trip, on hand-written results.

use cxr_report::{check, Baseline, GridResults, Verdict, DEFAULT_TOLERANCE};

use crate::fixture::{autoencoder, ok, standard, write_grid, Run, TestResult};

fn verdicts(results: &GridResults, baseline: &Baseline, allow_new: bool) -> Vec<(String, Verdict)> {
    check(results, baseline, DEFAULT_TOLERANCE, allow_new)
        .rows
        .iter()
        .map(|r| (r.key.to_string(), r.verdict))
        .collect()
}

fn baseline_of(runs: &[Run]) -> Result<Baseline, Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    let grid = write_grid(tmp.path(), "base", runs, &[])?;
    Ok(Baseline::from_results(&GridResults::load(&grid)?))
}

#[test]
fn passes_within_tolerance_and_fails_on_a_larger_drop() -> TestResult {
    let baseline = baseline_of(&standard())?;
    let tmp = tempfile::tempdir()?;
    let mut now = standard();
    now[0].micro -= 0.02; // exactly the tolerance: passes
    now[1].micro += 0.05; // improved: passes, with a hint
    let results = GridResults::load(&write_grid(tmp.path(), "a", &now, &[])?)?;
    let report = check(&results, &baseline, DEFAULT_TOLERANCE, false);
    assert!(report.passed(), "{}", report.table());
    assert_eq!(report.rows[0].verdict, Verdict::Ok);
    assert!((report.rows[0].delta().ok_or("delta")? + 0.02).abs() < 1e-9);
    assert!(report.rows.iter().any(|r| r.verdict == Verdict::Improved));

    let mut now = standard();
    now[3].micro -= 0.021;
    let results = GridResults::load(&write_grid(tmp.path(), "b", &now, &[])?)?;
    let report = check(&results, &baseline, DEFAULT_TOLERANCE, false);
    assert!(!report.passed());
    assert_eq!(report.failures(), 1);
    let regressed: Vec<_> = verdicts(&results, &baseline, false)
        .into_iter()
        .filter(|(_, v)| *v == Verdict::Regressed)
        .collect();
    assert_eq!(
        regressed,
        [("resnet18 freeze 4 seed 0".to_string(), Verdict::Regressed)]
    );
    assert!(report.table().contains("REGRESSED"));
    Ok(())
}

#[test]
fn fails_on_missing_failed_and_unbaselined_runs() -> TestResult {
    let baseline = baseline_of(&standard()[..3])?;
    let tmp = tempfile::tempdir()?;
    let mut now = standard();
    now[2].failed = true;
    now.remove(1); // resnet18 freeze 0 never finished
    let results = GridResults::load(&write_grid(
        tmp.path(),
        "a",
        &now,
        &[ok("resnet18", 0, 0.0, 0.0, 0)],
    )?)?;
    let v = verdicts(&results, &baseline, false);
    let find = |key: &str| v.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
    assert_eq!(find("cnn freeze 0 seed 0"), Some(Verdict::Ok));
    assert_eq!(find("resnet18 freeze 0 seed 0"), Some(Verdict::Missing));
    assert_eq!(find("resnet18 freeze 2 seed 0"), Some(Verdict::Failed));
    assert_eq!(find("resnet18 freeze 4 seed 0"), Some(Verdict::New));
    let v = verdicts(&results, &baseline, true);
    assert!(v.contains(&("resnet18 freeze 4 seed 0".into(), Verdict::NewAllowed)));
    Ok(())
}

#[test]
fn update_round_trip_then_check_passes() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = write_grid(tmp.path(), "a", &standard(), &[])?;
    let results = GridResults::load(&grid)?;
    let path = tmp.path().join("baselines/a.toml");
    Baseline::from_results(&results).write(&path, &grid)?;
    let text = std::fs::read_to_string(&path)?;
    assert!(text.starts_with("# Expected test recall"), "{text}");
    assert!(text.contains("[[run]]\nmodel = \"cnn\"\nfreeze = 0\nseed = 0\nmicro_recall = 0.825\nmacro_recall = 0.825\n"), "{text}");
    let read = Baseline::read(&path)?;
    assert_eq!(read, Baseline::from_results(&results));
    assert_eq!(read.runs.len(), 4);
    assert!(check(&results, &read, DEFAULT_TOLERANCE, false).passed());
    Ok(())
}

#[test]
fn malformed_baseline_is_a_one_line_error_naming_the_file() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("bad.toml");
    std::fs::write(&path, "[[run]]\nmodel = \"cnn\"\nfrezee = 0\n")?;
    let err = Baseline::read(&path).err().ok_or("accepted")?.to_string();
    assert!(err.contains("bad.toml") && err.contains("frezee"), "{err}");
    assert!(!err.contains('\n'), "{err}");
    let err = Baseline::read(&tmp.path().join("none.toml"))
        .err()
        .ok_or("accepted")?
        .to_string();
    assert!(err.contains("--update"), "{err}");
    Ok(())
}

#[test]
fn autoencoder_runs_are_neither_baselined_nor_checked() -> TestResult {
    let mut runs = standard();
    runs.push(autoencoder("resnet18", 0.05));
    let baseline = baseline_of(&runs)?;
    assert_eq!(baseline.runs.len(), 4, "classifiers only");
    let tmp = tempfile::tempdir()?;
    let results = GridResults::load(&write_grid(tmp.path(), "a", &runs, &[])?)?;
    let report = check(&results, &baseline, DEFAULT_TOLERANCE, false);
    assert!(report.passed(), "{}", report.table());
    assert_eq!(report.rows.len(), 4);
    assert_eq!(report.not_checked.len(), 1);
    assert!(
        report.table().contains(
            "not checked (1 autoencoder pretraining run(s), no recall): resnet18 freeze 0 seed 0"
        ),
        "{}",
        report.table()
    );
    Ok(())
}
