//! Issue 29, item 2: a run killed mid-way resumes at its next epoch from its checkpoint and
//! ends bit-identical to the same run trained without interruption.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cxr_results::{read_frame, GridDir};

use crate::support::{cxr, transcript, TestResult};

/// A CNN trained end to end and a ResNet18 with three frozen stages (its frozen-prefix cache
/// on), 8 epochs each on the tiny synthetic set.
const GRID: &str =
    "name = \"ck\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 12\nsize = 32\n\
                    [train]\nmax_epochs = 8\npatience = 8\nbatch_size = 8\n\
                    [[grid]]\nmodel = \"cnn\"\n\
                    [[grid]]\nmodel = \"resnet18\"\nfreeze = 3\n";

/// The last finished epoch in the checkpoint of a run whose id starts with `prefix`, from the
/// file's safetensors header (0 while there is none).
fn checkpoint_epoch(results: &Path, prefix: &str) -> usize {
    let Ok(runs) = std::fs::read_dir(results.join("ck/runs")) else {
        return 0;
    };
    for run in runs.filter_map(Result::ok) {
        if !run.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let Ok(bytes) = std::fs::read(run.path().join("checkpoint.safetensors")) else {
            continue;
        };
        let header = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .and_then(|n| bytes.get(8..8 + n as usize));
        let epoch = header
            .and_then(|h| serde_json::from_slice::<serde_json::Value>(h).ok())
            .and_then(|v| v["__metadata__"]["epoch"].as_str()?.parse().ok());
        return epoch.unwrap_or(0);
    }
    0
}

/// `cxr sweep g.toml --cache-dir cache --results <results> <extra>` in `dir`, to run.
fn sweep(dir: &Path, results: &str, extra: &[&str]) -> Command {
    let mut command = cxr();
    command
        .args([
            "sweep",
            "g.toml",
            "--cache-dir",
            "cache",
            "--results",
            results,
        ])
        .args(extra)
        .current_dir(dir);
    command
}

/// Starts a sweep into `results` and kills it (SIGKILL) once the run `prefix` has checkpointed
/// epoch `epoch`.
fn kill_after(dir: &Path, results: &str, prefix: &str, epoch: usize) -> TestResult {
    let mut child = sweep(dir, results, &["--quiet"]).spawn()?;
    let started = Instant::now();
    while checkpoint_epoch(&dir.join(results), prefix) < epoch {
        if child.try_wait()?.is_some() {
            return Err(format!("the sweep ended before {prefix} reached epoch {epoch}").into());
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint of epoch {epoch}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill()?;
    child.wait()?;
    Ok(())
}

#[test]
fn runs_killed_at_several_epochs_resume_bit_identical() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    std::fs::write(dir.join("g.toml"), GRID)?;
    let out = sweep(dir, "whole", &[]).output()?;
    assert!(out.status.success(), "{}", transcript(&out));

    // Killed at epochs 2 and 5 of the CNN and 3 of the ResNet, resumed each time.
    for (prefix, epoch) in [("cnn", 2), ("cnn", 5), ("resnet18", 3)] {
        kill_after(dir, "killed", prefix, epoch)?;
    }
    let out = sweep(dir, "killed", &[]).env("CXR_LOG", "info").output()?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("resuming after epoch 3"),
        "{}",
        transcript(&out)
    );

    let (whole, killed) = (
        GridDir::new(&dir.join("whole"), "ck"),
        GridDir::new(&dir.join("killed"), "ck"),
    );
    let runs = whole.runs()?;
    assert_eq!(runs.len(), 2);
    for run in runs {
        let other = killed.run(&run.id());
        assert!(
            !other.checkpoint_path().exists(),
            "checkpoint removed when done"
        );
        for file in [
            run.model_path(),
            run.predictions_path(),
            run.per_class_path(),
            run.confusion_path(),
            run.preprocessing_path(),
            run.config_path(),
        ] {
            let name = file.file_name().ok_or("name")?;
            assert_eq!(
                std::fs::read(&file)?,
                std::fs::read(other.path().join(name))?,
                "{} {}",
                run.id(),
                name.to_string_lossy()
            );
        }
        // The history and summary equal too, but for their wall-time columns.
        for (a, b) in [
            (run.history_path(), other.history_path()),
            (run.summary_path(), other.summary_path()),
        ] {
            let (a, b) = (read_frame(&a)?, read_frame(&b)?);
            let columns: Vec<String> = a
                .get_column_names()
                .iter()
                .map(|c| c.to_string())
                .filter(|c| !c.ends_with("time_s"))
                .collect();
            assert!(
                a.select(&columns)?.equals_missing(&b.select(&columns)?),
                "{}",
                run.id()
            );
        }
    }
    Ok(())
}

/// Item 3: SIGTERM mid-run stops the sweep before its next batch with exit code 3 and one
/// line saying how to resume, its claim released; the rerun resumes and ends as the run
/// trained without interruption.
#[test]
fn sigterm_mid_run_stops_cleanly_and_the_rerun_gives_the_same_result() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let cnn_only = GRID.replace("[[grid]]\nmodel = \"resnet18\"\nfreeze = 3\n", "");
    std::fs::write(dir.join("g.toml"), cnn_only)?;
    let out = sweep(dir, "whole", &[]).output()?;
    assert!(out.status.success(), "{}", transcript(&out));

    let child = sweep(dir, "stopped", &["--quiet"])
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let started = Instant::now();
    while checkpoint_epoch(&dir.join("stopped"), "cnn") < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no checkpoint"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(kill.success());
    let out = child.wait_with_output()?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("interrupted: ") && stderr.contains("rerun the same command to resume"),
        "{stderr}"
    );
    let stopped = GridDir::new(&dir.join("stopped"), "ck");
    assert!(
        cxr_results::read_claims(&stopped).is_empty(),
        "claim released"
    );

    let out = sweep(dir, "stopped", &["--keep-checkpoints"])
        .env("CXR_LOG", "info")
        .output()?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("resuming after epoch"),
        "{}",
        transcript(&out)
    );
    let whole = GridDir::new(&dir.join("whole"), "ck");
    // --keep-checkpoints leaves the last one.
    let kept = stopped.runs()?.first().ok_or("a run")?.checkpoint_path();
    assert!(kept.is_file(), "kept");
    for run in whole.runs()? {
        let other = stopped.run(&run.id());
        for file in [
            run.model_path(),
            run.predictions_path(),
            run.per_class_path(),
        ] {
            let name = file.file_name().ok_or("name")?;
            assert_eq!(
                std::fs::read(&file)?,
                std::fs::read(other.path().join(name))?,
                "{}",
                name.to_string_lossy()
            );
        }
    }
    // --force then trains the run again from its first epoch, not from the kept checkpoint.
    let out = sweep(dir, "stopped", &["--force"])
        .env("CXR_LOG", "info")
        .output()?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert!(
        !transcript(&out).contains("resuming"),
        "{}",
        transcript(&out)
    );
    assert!(!kept.exists(), "removed by the forced run");
    Ok(())
}
