//! `cxr report` and `cxr check` as CI uses them: on a tiny grid trained here, then with the
//! baseline edited to simulate a regression, a missing run, and bad input.

use crate::support::{cxr_in, text, tiny_grid, transcript, TestResult};

/// A CNN and a ResNet18 head-only run on a tiny synthetic set (a few seconds each).
const TINY: &str = tiny_grid!("[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [4]\n");

#[test]
fn sweep_report_update_check_and_a_simulated_regression() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    std::fs::write(dir.join("g.toml"), TINY)?;
    let out = cxr_in(&["sweep", "g.toml", "--cache-dir", "cache", "--quiet"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));

    let out = cxr_in(&["report", "results/tiny"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("2 run(s) reported, 0 missing"),
        "{}",
        transcript(&out)
    );
    let report = dir.join("results/tiny/report");
    for figure in [
        "time_per_epoch",
        "trainable_params",
        "test_micro_recall",
        "epochs_to_converge",
    ] {
        assert!(report.join(format!("{figure}.png")).is_file(), "{figure}");
    }
    let md = std::fs::read_to_string(report.join("report.md"))?;
    assert!(
        md.contains("| cnn | 0 | 0 |") && md.contains("| resnet18 | 4 | 0 |"),
        "{md}"
    );

    // No baseline yet: a one-line error that says how to make one.
    let out = cxr_in(&["check", "results/tiny", "--baseline", "base.toml"], dir)?;
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--update"),
        "{}",
        transcript(&out)
    );

    let out = cxr_in(
        &[
            "check",
            "results/tiny",
            "--baseline",
            "base.toml",
            "--update",
        ],
        dir,
    )?;
    assert!(out.status.success(), "{}", transcript(&out));
    let out = cxr_in(&["check", "results/tiny", "--baseline", "base.toml"], dir)?;
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("check passed: 2 run(s)"),
        "{}",
        transcript(&out)
    );

    // Raise the CNN's expected recall by 0.1: the same results now count as a regression.
    let baseline = std::fs::read_to_string(dir.join("base.toml"))?;
    let raised = raise_first_micro(&baseline, 0.1).ok_or("no micro_recall in baseline")?;
    std::fs::write(dir.join("raised.toml"), raised)?;
    let out = cxr_in(&["check", "results/tiny", "--baseline", "raised.toml"], dir)?;
    assert_eq!(out.status.code(), Some(1), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("REGRESSED"),
        "{}",
        transcript(&out)
    );
    // ... unless the tolerance covers it.
    let out = cxr_in(
        &[
            "check",
            "results/tiny",
            "--baseline",
            "raised.toml",
            "--tolerance",
            "0.15",
        ],
        dir,
    )?;
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));

    // A baselined run that is not in the results: missing, exit 1.
    let extra = format!(
        "{baseline}\n[[run]]\nmodel = \"resnet34\"\nfreeze = 0\nseed = 0\nmicro_recall = 0.5\nmacro_recall = 0.5\n"
    );
    std::fs::write(dir.join("extra.toml"), extra)?;
    let out = cxr_in(&["check", "results/tiny", "--baseline", "extra.toml"], dir)?;
    assert_eq!(out.status.code(), Some(1), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("resnet34 freeze 0 seed 0")
            && transcript(&out).contains("MISSING")
    );
    Ok(())
}

#[test]
fn report_check_and_predict_on_a_grid_with_an_autoencoder_run() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let grid = "name = \"pre\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 12\n\
                size = 32\n[model]\nname = \"cnn\"\n[train]\nmax_epochs = 2\npatience = 2\n\
                batch_size = 8\n[grid]\n\"train.objective\" = [\"classify\", \"autoencoder\"]\n";
    std::fs::write(dir.join("g.toml"), grid)?;
    let out = cxr_in(&["sweep", "g.toml", "--cache-dir", "cache", "--quiet"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));

    let out = cxr_in(&["report", "results/pre"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    let report = dir.join("results/pre/report");
    let md = std::fs::read_to_string(report.join("report.md"))?;
    assert!(md.contains("## Pretraining (autoencoder)"), "{md}");
    let runs = std::fs::read_dir(dir.join("results/pre/runs"))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    let with_reconstructions: Vec<&String> = runs
        .iter()
        .filter(|id| {
            report
                .join("runs")
                .join(id.as_str())
                .join("reconstructions.png")
                .is_file()
        })
        .collect();
    assert_eq!(with_reconstructions.len(), 1, "{runs:?}");
    let ae = with_reconstructions[0];
    assert!(
        md.contains(&format!("(runs/{ae}/reconstructions.png)")),
        "{md}"
    );
    assert!(report.join("test_micro_recall.png").is_file());

    let update = ["check", "results/pre", "--baseline", "b.toml", "--update"];
    assert!(cxr_in(&update, dir)?.status.success());
    let out = cxr_in(&["check", "results/pre", "--baseline", "b.toml"], dir)?;
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("check passed: 1 run(s)")
            && transcript(&out).contains("not checked (1 autoencoder"),
        "{}",
        transcript(&out)
    );

    // Its weights have no classifier head: prediction says so in one line.
    let image = dir.join("film.png");
    image::GrayImage::new(32, 32).save(&image)?;
    let run_dir = format!("results/pre/runs/{ae}");
    let out = cxr_in(&["predict", "--run", &run_dir, "film.png"], dir)?;
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stderr.lines().count() == 1 && stderr.contains("is an autoencoder (pretraining) run"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn report_check_and_predict_on_a_grid_of_classic_heads() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let common = "[data]\nimage_size = 32\n[data.synthetic]\nper_class = 12\nsize = 32\n\
                  [train]\nmax_epochs = 2\npatience = 2\nbatch_size = 8\n";
    std::fs::write(
        dir.join("cnn.toml"),
        format!("name = \"cnn\"\n{common}[model]\nname = \"cnn\"\n"),
    )?;
    std::fs::write(
        dir.join("g.toml"),
        format!(
            "name = \"heads\"\n{common}[pretrained.trained]\ngrid = \"cnn.toml\"\n\
             [[grid]]\nmodel = \"cnn\"\nweights = \"trained\"\nhead = [\"logistic\", \"knn\"]\n\
             [[grid]]\nmodel = \"resnet18\"\nfreeze = 4\nhead = [\"linear\", \"svm_linear\"]\n"
        ),
    )?;
    let out = cxr_in(&["sweep", "g.toml", "--cache-dir", "cache", "--quiet"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));

    let out = cxr_in(&["report", "results/heads"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    let report = dir.join("results/heads/report");
    let md = std::fs::read_to_string(report.join("report.md"))?;
    assert!(md.contains("## Classic heads on frozen features"), "{md}");
    assert!(md.contains("On cnn (trained), "), "{md}");
    assert!(md.contains("| resnet18 | 4 | linear | 1 |"), "{md}");
    // Epochs mean nothing for a classic head: a dash in the run table, never a zero.
    let classic_row = md
        .lines()
        .find(|l| l.contains("cnn-f5-logistic") && l.contains("| logistic |"))
        .ok_or("no row for the logistic run")?;
    // Classic heads have probabilities: the calibration table lists them with a reliability
    // diagram.
    let calibration_row = md
        .lines()
        .find(|l| l.contains("cnn-f5-knn") && l.contains("[reliability]"))
        .ok_or("no calibration row for the knn run")?;
    assert!(
        !calibration_row.contains("| - | - | - |"),
        "{calibration_row}"
    );
    assert!(classic_row.contains("| logistic |"), "{classic_row}");
    assert!(classic_row.contains("| - | - |"), "{classic_row}");
    for backbone in ["cnn_trained", "resnet18"] {
        for method in ["pca", "tsne"] {
            for ext in ["png", "svg"] {
                let file = report.join(format!("features/{backbone}-{method}.{ext}"));
                assert!(file.is_file(), "{} missing", file.display());
            }
        }
    }

    let update = ["check", "results/heads", "--baseline", "b.toml", "--update"];
    assert!(cxr_in(&update, dir)?.status.success());
    let out = cxr_in(&["check", "results/heads", "--baseline", "b.toml"], dir)?;
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("check passed: 4 run(s)"),
        "{}",
        transcript(&out)
    );

    // `cxr features --run` on a classic run exports its backbone's features: on the run's own
    // data, exactly the features its head was fitted on.
    let id = std::fs::read_dir(dir.join("results/heads/runs"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|id| id.contains("-knn-"))
        .ok_or("no knn run")?;
    let run_dir = dir.join("results/heads/runs").join(&id);
    let data = cxr_data::synth::cached_root(12, 32, 0, &dir.join("cache"))?;
    let args = [
        "features",
        "--run",
        run_dir.to_str().ok_or("path")?,
        "--data",
        data.to_str().ok_or("path")?,
        "--out",
        "f.parquet",
        "--cache-dir",
        "cache",
    ];
    let out = cxr_in(&args, dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert_eq!(
        cxr_results::read_features(&dir.join("f.parquet"))?,
        cxr_results::read_features(&run_dir.join("features.parquet"))?
    );

    Ok(())
}

fn raise_first_micro(baseline: &str, by: f64) -> Option<String> {
    let line = baseline
        .lines()
        .find(|l| l.starts_with("micro_recall = "))?;
    let value: f64 = line.trim_start_matches("micro_recall = ").parse().ok()?;
    Some(baseline.replacen(line, &format!("micro_recall = {}", value + by), 1))
}

#[test]
fn report_on_an_empty_folder_is_a_one_line_error() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let out = cxr_in(&["report", "."], tmp.path())?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("no summary.parquet"),
        "{stderr}"
    );
    Ok(())
}

/// Issue 32: `check --tolerance -0.1` was parsed as an unknown flag `-0`; a negative value now
/// reaches the check and is refused as one.
#[test]
fn check_refuses_a_negative_tolerance_by_name() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let args = [
        "check",
        "results/tiny",
        "--baseline",
        "base.toml",
        "--tolerance",
    ];
    let out = cxr_in(&[&args[..], &["-0.1"]].concat(), tmp.path())?;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the tolerance must be 0 or more"),
        "{stderr}"
    );
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
    let out = cxr_in(&[&args[..], &["0"]].concat(), tmp.path())?;
    assert!(
        !text(&out.stderr).contains("tolerance"),
        "0 is a tolerance: {}",
        transcript(&out)
    );
    Ok(())
}
