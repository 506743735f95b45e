//! `cxr sweep` as a user runs it: dry run, bad grids, and the kill-and-resume test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{cxr, cxr_in, TestResult, TINY};

fn write_grid(dir: &Path, body: &str) -> std::io::Result<PathBuf> {
    let path = dir.join("g.toml");
    std::fs::write(&path, body)?;
    Ok(path)
}

#[test]
fn dry_run_lists_cells_and_the_cnn_fold() -> TestResult {
    let tmp = tempfile::tempdir()?;
    write_grid(
        tmp.path(),
        &format!("{TINY}[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [0, 1, 2]\n"),
    )?;
    let out = cxr_in(&["sweep", "g.toml", "--dry-run"], tmp.path())?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    assert!(text.contains("tiny (g.toml): 4 run(s)"), "{text}");
    assert!(text.contains("note: cnn has no stages to freeze"), "{text}");
    let cells: Vec<&str> = text.lines().filter(|l| l.contains("-s0-")).collect();
    assert_eq!(cells.len(), 4, "{text}");
    assert!(
        cells[0].trim_start().starts_with("0  cnn-f0-s0-"),
        "{}",
        cells[0]
    );
    assert!(
        !tmp.path().join("results").exists(),
        "a dry run writes nothing"
    );
    Ok(())
}

#[test]
fn bad_grids_exit_2_with_one_line() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cases = [
        (
            format!("{TINY}[model]\nname = \"cnn\"\nfreez = 1\n"),
            "freez",
        ),
        (
            format!("{TINY}[grid]\nmodel = [\"densenet\"]\n"),
            "model.name = \"densenet\" is invalid",
        ),
        (
            format!("{TINY}[grid]\nmodel = [\"resnet18\"]\nfreeze = [5]\n"),
            "model.freeze = 5 is invalid",
        ),
        (
            format!("{TINY}[grid]\nmodel = []\n"),
            "grid axis `model` is empty",
        ),
        (
            "name = \"x\"\n[data]\nroot = \"missing-dir\"\n[model]\nname = \"cnn\"\n".to_string(),
            "missing-dir",
        ),
        (
            format!("{TINY}[model]\nname = \"cnn\"\n[grid]\n\"train.batch_size\" = [0]\n"),
            "train.batch_size = 0",
        ),
        ("name = [unclosed".to_string(), "g.toml: line 1"),
    ];
    for (body, needle) in cases {
        write_grid(tmp.path(), &body)?;
        let out = cxr_in(&["sweep", "g.toml"], tmp.path())?;
        let stderr = String::from_utf8(out.stderr)?;
        assert_eq!(out.status.code(), Some(2), "{body}\n{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("error: g.toml: ") && stderr.contains(needle),
            "{needle}: {stderr}"
        );
    }
    let out = cxr_in(&["sweep", "nope.toml"], tmp.path())?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)?.contains("nope.toml"));
    Ok(())
}

/// Starts `cxr sweep g.toml` in `dir`, waits until `happened` (polling every 20 ms, at most 5
/// minutes), then SIGKILLs it.
fn kill_sweep_when(dir: &Path, cache: &str, what: &str, happened: impl Fn() -> bool) -> TestResult {
    let mut child = cxr()
        .args(["sweep", "g.toml", "--quiet", "--cache-dir", cache])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(300);
    while !happened() {
        if let Some(status) = child.try_wait()? {
            return Err(format!("sweep exited ({status}) before {what}").into());
        }
        if Instant::now() > deadline {
            child.kill()?;
            return Err(format!("never saw {what}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill()?; // SIGKILL on Unix
    child.wait()?;
    Ok(())
}

/// Runs `cxr sweep g.toml` in `dir` again, asserts it succeeded, and returns its stdout.
fn sweep_to_the_end(dir: &Path, cache: &str) -> Result<String, Box<dyn std::error::Error>> {
    let out = cxr_in(&["sweep", "g.toml", "--quiet", "--cache-dir", cache], dir)?;
    let stdout = String::from_utf8(out.stdout)?;
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

/// The run ids of a merged summary, sorted.
fn run_ids(summary: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let ids: Vec<String> = cxr_results::read_summary(summary)?
        .into_iter()
        .map(|r| r.run_id)
        .collect();
    Ok(sorted(&ids))
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

/// Start a sweep, SIGKILL it while the second run trains, run it again: the first run is
/// skipped, the killed run is redone from scratch, and the summary has every run once.
#[test]
fn a_killed_sweep_resumes_where_it_stopped() -> TestResult {
    let tmp = tempfile::tempdir()?;
    // Enough epochs that the second run is still training when it is killed.
    let body = TINY.replace(
        "max_epochs = 2\npatience = 2",
        "max_epochs = 40\npatience = 40",
    ) + "[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [4]\n";
    write_grid(tmp.path(), &body)?;
    let plan = String::from_utf8(cxr_in(&["sweep", "g.toml", "--dry-run"], tmp.path())?.stdout)?;
    let ids: Vec<String> = plan
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .nth(1)
                .filter(|w| w.contains("-s0-"))
                .map(str::to_string)
        })
        .collect();
    assert_eq!(ids.len(), 2, "{plan}");
    let runs = tmp.path().join("results/tiny/runs");
    let cache = tmp.path().join("cache");
    let cache_arg = cache.to_str().ok_or("path")?;

    kill_sweep_when(tmp.path(), cache_arg, "the second run started", || {
        runs.join(&ids[1]).join("config.toml").is_file()
    })?;
    assert!(
        runs.join(&ids[0]).join("summary.parquet").is_file(),
        "first run finished"
    );
    assert!(
        !runs.join(&ids[1]).join("summary.parquet").is_file(),
        "killed run is not finished"
    );

    let stdout = sweep_to_the_end(tmp.path(), cache_arg)?;
    assert!(
        stdout.contains("1 run(s) trained, 1 skipped as finished, 0 failed; 2 run(s)"),
        "{stdout}"
    );
    let got = run_ids(&tmp.path().join("results/tiny/summary.parquet"))?;
    assert_eq!(got, sorted(&ids), "every run exactly once");
    Ok(())
}

/// A chained grid killed during its source stage: the rerun finishes the source stage, then
/// the grid, and every run of both exists exactly once.
#[test]
fn a_sweep_killed_in_its_source_stage_resumes_and_runs_everything_once() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let source = TINY
        .replace("name = \"tiny\"", "name = \"source\"")
        .replace(
            "max_epochs = 2\npatience = 2",
            "max_epochs = 40\npatience = 40",
        )
        + "[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [4]\n";
    std::fs::write(tmp.path().join("source.toml"), source)?;
    let target = TINY.to_string()
        + "[model]\nname = \"resnet18\"\nfreeze = 4\nweights = { grid = \"source.toml\" }\n";
    write_grid(tmp.path(), &target)?;
    let plan = String::from_utf8(cxr_in(&["sweep", "g.toml", "--dry-run"], tmp.path())?.stdout)?;
    assert!(
        plan.starts_with("source stage 1 of 1:\nsource (source.toml): 2 run(s)"),
        "{plan}"
    );
    let ids: Vec<String> = plan
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).filter(|w| w.contains("-s0-")))
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 3, "two source runs, then one: {plan}");
    assert!(
        plan.contains(&format!("starts from source/{}", ids[1])),
        "{plan}"
    );
    let source_runs = tmp.path().join("results/source/runs");
    let cache = tmp.path().join("cache");
    let cache_arg = cache.to_str().ok_or("path")?;

    kill_sweep_when(
        tmp.path(),
        cache_arg,
        "the second source run started",
        || source_runs.join(&ids[1]).join("config.toml").is_file(),
    )?;
    assert!(!source_runs.join(&ids[1]).join("summary.parquet").is_file());
    assert!(
        !tmp.path().join("results/tiny").exists(),
        "the grid waits for its source"
    );

    let stdout = sweep_to_the_end(tmp.path(), cache_arg)?;
    assert!(
        stdout.contains("source stage source: 1 run(s) trained, 1 skipped as finished, 0 failed")
            && stdout.contains("tiny: 1 run(s) trained, 0 skipped as finished, 0 failed; 1 run(s)"),
        "{stdout}"
    );
    for (grid, want) in [("source", &ids[..2]), ("tiny", &ids[2..])] {
        let got = run_ids(
            &tmp.path()
                .join("results")
                .join(grid)
                .join("summary.parquet"),
        )?;
        assert_eq!(got, sorted(want), "every run of {grid} exactly once");
        let folders =
            std::fs::read_dir(tmp.path().join("results").join(grid).join("runs"))?.count();
        assert_eq!(folders, want.len(), "{grid}: one folder per run");
    }
    Ok(())
}

#[test]
fn emit_slurm_writes_a_preparation_job_and_an_array() -> TestResult {
    let tmp = tempfile::tempdir()?;
    write_grid(
        tmp.path(),
        &format!("{TINY}[grid]\nmodel = [\"cnn\", \"resnet18\"]\nfreeze = [0, 4]\n"),
    )?;
    let out = cxr_in(
        &[
            "sweep",
            "g.toml",
            "--emit-slurm",
            "job.sh",
            "--results",
            "res",
            "--cpus-per-task",
            "4",
            "--max-parallel",
            "2",
            "--partition",
            "short",
            "--mem",
            "8G",
            "--gres",
            "gpu:1",
            "--time",
            "1:00:00",
        ],
        tmp.path(),
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = std::fs::read_to_string(tmp.path().join("job.sh"))?;
    for line in [
        "#SBATCH --job-name=cxr-tiny-prepare\n",
        "#SBATCH --output=res/tiny/logs/prepare-%j.out\n",
        "#SBATCH --array=0-2%2\n",
        "#SBATCH --cpus-per-task=4\n",
        "#SBATCH --partition=short\n",
        "#SBATCH --mem=8G\n",
        "#SBATCH --gres=gpu:1\n",
        "#SBATCH --time=1:00:00\n",
        "--dependency=afterok:$SLURM_JOB_ID",
        "export CXR_THREADS=\"${SLURM_CPUS_PER_TASK:-4}\"\n",
        " sweep g.toml --results res --cell \"$SLURM_ARRAY_TASK_ID\" --expect-run \"$run\" >>\"$log\" 2>&1 &\n",
        "#SBATCH --signal=B:USR1@120\n#SBATCH --requeue\n",
        " sweep g.toml --results res --prepare\n",
    ] {
        assert!(script.contains(line), "{line}\n{script}");
    }
    assert!(
        tmp.path().join("res/tiny/logs").is_dir(),
        "Slurm needs the preparation job's log folder before the job starts"
    );
    assert!(
        !tmp.path().join("res/tiny/runs").exists()
            && !tmp.path().join("res/tiny/plan.parquet").exists(),
        "emitting a script trains nothing"
    );
    let bad = cxr_in(
        &["sweep", "g.toml", "--emit-slurm", "j.sh", "--mem", "8 G"],
        tmp.path(),
    )?;
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a blank would break the #SBATCH line"
    );
    let stray = cxr_in(
        &["sweep", "g.toml", "--dry-run", "--max-parallel", "2"],
        tmp.path(),
    )?;
    assert_eq!(
        stray.status.code(),
        Some(2),
        "Slurm options need --emit-slurm"
    );
    Ok(())
}

/// `cxr sweep experiments/paper.toml --dry-run` on a machine without the dataset lists the plan
/// and warns, and so does --emit-slurm; training still refuses.
#[test]
fn a_missing_dataset_folder_only_stops_training() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let body = "name = \"far\"\n[data]\nroot = \"../elsewhere/covid\"\n[grid]\nmodel = [\"cnn\", \"resnet18\"]\n";
    write_grid(tmp.path(), body)?;
    let mut listed = cxr();
    let out = listed
        .env("CXR_LOG", "warn")
        .args(["sweep", "g.toml", "--dry-run"])
        .current_dir(tmp.path())
        .output()?;
    let (stdout, stderr) = (
        String::from_utf8(out.stdout)?,
        String::from_utf8(out.stderr)?,
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("far (g.toml): 2 run(s)"), "{stdout}");
    assert!(
        stderr.contains("dataset folder ../elsewhere/covid does not exist on this machine"),
        "{stderr}"
    );
    let out = cxr_in(&["sweep", "g.toml", "--emit-slurm", "far.sh"], tmp.path())?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("far.sh").is_file());
    let out = cxr_in(&["sweep", "g.toml"], tmp.path())?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)?.contains("dataset folder not found"));
    Ok(())
}

/// Under `nohup cxr sweep ... 2>log` no bar can be drawn: the log gets one timestamped line per
/// epoch with the run id and its numbers, and no terminal colour codes.
#[test]
fn a_sweep_logging_to_a_file_writes_one_line_per_epoch() -> TestResult {
    let tmp = tempfile::tempdir()?;
    write_grid(
        tmp.path(),
        &(TINY.replace(
            "max_epochs = 2\npatience = 2",
            "max_epochs = 3\npatience = 3",
        ) + "[model]\nname = \"cnn\"\n"),
    )?;
    let id = String::from_utf8(cxr_in(&["sweep", "g.toml", "--dry-run"], tmp.path())?.stdout)?
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .nth(1)
                .filter(|w| w.contains("-s0-"))
                .map(str::to_string)
        })
        .ok_or("no run in the plan")?;
    let log_path = tmp.path().join("log");
    let status = cxr()
        .env_remove("CXR_LOG")
        .args(["sweep", "g.toml", "--cache-dir", "cache"])
        .current_dir(tmp.path())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path)?)
        .status()?;
    let log = std::fs::read_to_string(&log_path)?;
    assert!(status.success(), "{log}");
    for epoch in 1..=3 {
        let line = log
            .lines()
            .find(|l| l.contains(&format!("[1/1] {id} epoch {epoch}/3: train loss ")))
            .ok_or_else(|| format!("no line for epoch {epoch}:\n{log}"))?;
        assert!(
            line.contains(", val loss ") && line.contains(", val recall ") && line.ends_with(" s"),
            "{line}"
        );
        // A timestamp first: 2025-01-31T12:00:00.000000Z
        assert!(line.as_bytes().get(10) == Some(&b'T'), "{line}");
    }
    assert!(log.contains("decoding 48 images of "), "cache build: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a file: {log:?}"
    );
    Ok(())
}

#[test]
fn prepare_builds_the_cache_once_and_cells_check_their_run() -> TestResult {
    let tmp = tempfile::tempdir()?;
    write_grid(
        tmp.path(),
        &format!("{TINY}[grid]\nmodel = [\"cnn\", \"resnet18\"]\n"),
    )?;
    let prepare = |want: &str| -> TestResult {
        let out = cxr_in(
            &["sweep", "g.toml", "--prepare", "--cache-dir", "cache"],
            tmp.path(),
        )?;
        let stdout = String::from_utf8(out.stdout)?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stdout.lines().count(),
            1,
            "one dataset for both runs: {stdout}"
        );
        assert!(
            stdout
                .starts_with("data: synthetic (12 per class, 32 px, seed 0) at 32 px: 48 images, ")
                && stdout.contains(want),
            "{stdout}"
        );
        Ok(())
    };
    prepare("cache built")?;
    prepare("cache intact")?;
    assert!(
        !tmp.path().join("results").exists(),
        "preparing trains nothing"
    );
    let out = cxr_in(
        &[
            "sweep",
            "g.toml",
            "--cache-dir",
            "cache",
            "--cell",
            "1",
            "--expect-run",
            "cnn-f0-s0-000000000000",
        ],
        tmp.path(),
    )?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cell 1 of g.toml is resnet18-f0-s0-"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not cnn-f0-s0-000000000000: the grid changed"),
        "{stderr}"
    );
    Ok(())
}

/// `--device cuda` in a build without the `cuda` feature stops before any run with one line
/// that names the fix; `--device cpu` overrides a grid's `device = "cuda"`, and the summary
/// records where each run trained.
#[test]
fn a_gpu_sweep_needs_the_cuda_feature_and_the_summary_names_the_device() -> TestResult {
    if cxr_models::DeviceSpec::cuda_compiled() {
        eprintln!("skipping: this build has the cuda feature");
        return Ok(());
    }
    let tmp = tempfile::tempdir()?;
    let body = TINY.replace("[train]\n", "[train]\ndevice = \"cuda\"\n");
    write_grid(tmp.path(), &format!("{body}[model]\nname = \"cnn\"\n"))?;
    let cache = tmp.path().join("cache");
    let cache = cache.to_string_lossy();
    for args in [
        vec!["sweep", "g.toml", "--quiet", "--cache-dir", &cache],
        vec![
            "sweep",
            "g.toml",
            "--quiet",
            "--cache-dir",
            &cache,
            "--device",
            "cuda:0",
        ],
    ] {
        let out = cxr_in(&args, tmp.path())?;
        assert!(!out.status.success());
        let stderr = String::from_utf8(out.stderr)?;
        let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
        assert_eq!(errors.len(), 1, "{stderr}");
        assert!(
            errors[0].contains("built without the `cuda` feature")
                && errors[0].contains("just build-cuda")
                && errors[0].contains("--device cpu"),
            "{stderr}"
        );
        assert!(
            !tmp.path().join("results/tiny/runs").exists(),
            "no run started"
        );
    }
    let out = cxr_in(
        &[
            "sweep",
            "g.toml",
            "--quiet",
            "--cache-dir",
            &cache,
            "--device",
            "cpu",
        ],
        tmp.path(),
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = cxr_results::read_summary(&tmp.path().join("results/tiny/summary.parquet"))?;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].device.as_deref(), Some("cpu"));
    assert!(!rows[0].axes.iter().any(|a| a.setting == "train.device"));
    Ok(())
}

/// Issue 32: `cxr sweep --dry-run | head -1` panicked ("failed printing to stdout: Broken
/// pipe", exit 101). The plan here is longer than a pipe's buffer (64 KiB), so after the
/// reader takes one line and closes, the sweep's next write must meet the closed pipe.
#[test]
fn a_dry_run_into_a_pipe_closed_early_exits_0_without_a_panic() -> TestResult {
    use std::io::BufRead;
    let tmp = tempfile::tempdir()?;
    let seeds: Vec<String> = (0..1500).map(|s| s.to_string()).collect();
    write_grid(
        tmp.path(),
        &format!(
            "{TINY}[model]\nname = \"cnn\"\n[grid]\nseed = [{}]\n",
            seeds.join(", ")
        ),
    )?;
    let mut child = cxr()
        .args(["sweep", "g.toml", "--dry-run"])
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout")?;
    let mut first = String::new();
    std::io::BufReader::new(stdout).read_line(&mut first)?;
    // The reader (and with it the pipe's read end) is dropped here, as `head -1` exits.
    let out = child.wait_with_output()?;
    let stderr = String::from_utf8(out.stderr)?;
    assert!(first.contains("tiny (g.toml): 1500 run(s)"), "{first}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "quiet: {stderr}");
    Ok(())
}

/// Issue 32: every file cxr wrote was mode 0600 whatever the umask, so a lab group could not
/// read the results nor share a cache. Under umask 022 a sweep, its report and its caches
/// write 0644 files (and 0755 folders).
#[cfg(unix)]
#[test]
fn written_files_honour_the_umask() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir()?;
    write_grid(tmp.path(), &format!("{TINY}[model]\nname = \"cnn\"\n"))?;
    let exe = env!("CARGO_BIN_EXE_cxr");
    let script = format!(
        "umask 022 && '{exe}' sweep g.toml --quiet --cache-dir cache && '{exe}' report results/tiny"
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .env("CXR_LOG", "warn")
        .current_dir(tmp.path())
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files = 0;
    for top in ["results", "cache"] {
        let mut stack = vec![tmp.path().join(top)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
                if path.is_dir() {
                    assert_eq!(mode, 0o755, "{}", path.display());
                    stack.push(path);
                } else {
                    assert_eq!(mode, 0o644, "{}", path.display());
                    files += 1;
                }
            }
        }
    }
    // Parquet tables, the model, config, report and figures, image cache, synthetic set.
    assert!(files > 20, "only {files} files written");
    assert!(tmp.path().join("results/tiny/report/report.md").is_file());
    Ok(())
}

/// Issue 32: a data error left a run folder holding only `config.toml` per run tried.
#[test]
fn a_data_error_leaves_no_run_folder() -> TestResult {
    let tmp = tempfile::tempdir()?;
    for (class, n) in [("a", 3), ("b", 3)] {
        std::fs::create_dir_all(tmp.path().join("data").join(class))?;
        for i in 0..n {
            std::fs::write(
                tmp.path().join(format!("data/{class}/{i}.png")),
                b"not a png",
            )?;
        }
    }
    write_grid(
        tmp.path(),
        "name = \"bad\"\n[data]\nroot = \"data\"\nimage_size = 32\n[grid]\nmodel = [\"cnn\"]\nseed = [0, 1]\n",
    )?;
    let out = cxr_in(&["sweep", "g.toml", "--cache-dir", "cache"], tmp.path())?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("6 unreadable image(s)"), "{stderr}");
    let runs = tmp.path().join("results/bad/runs");
    let left: Vec<_> = match std::fs::read_dir(&runs) {
        Ok(entries) => entries.collect::<Result<_, _>>()?,
        Err(_) => Vec::new(),
    };
    assert!(left.is_empty(), "run folders left: {left:?}");
    Ok(())
}

/// Issue 32: `sweep` printed only the first unreadable file; every one is listed, each on its
/// own line, with the grid key that skips them.
#[test]
fn a_sweep_lists_every_unreadable_file() -> TestResult {
    let tmp = tempfile::tempdir()?;
    for class in ["a", "b"] {
        std::fs::create_dir_all(tmp.path().join("data").join(class))?;
        std::fs::write(tmp.path().join(format!("data/{class}/broken.png")), b"x")?;
    }
    write_grid(
        tmp.path(),
        "name = \"bad\"\n[data]\nroot = \"data\"\nimage_size = 32\n[model]\nname = \"cnn\"\n",
    )?;
    let out = cxr_in(&["sweep", "g.toml", "--cache-dir", "cache"], tmp.path())?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("2 unreadable image(s)"), "{stderr}");
    assert!(stderr.contains("set skip_unreadable = true"), "{stderr}");
    for class in ["a", "b"] {
        let file = Path::new("data").join(class).join("broken.png");
        let line = stderr
            .lines()
            .find(|l| l.contains(&*file.to_string_lossy()));
        assert!(line.is_some_and(|l| l.starts_with("  ")), "{stderr}");
    }
    Ok(())
}

/// Issue 32: a YAML or JSON grid got a TOML parse error that never said grids are TOML.
#[test]
fn a_yaml_or_json_grid_is_told_grids_are_toml() -> TestResult {
    let tmp = tempfile::tempdir()?;
    for (file, body, format) in [
        ("g.yaml", "name: demo\nmodel:\n  name: cnn\n", "YAML"),
        ("g.toml", "name: demo\n", "YAML"),
        ("g.json", "{\"name\": \"demo\"}\n", "JSON"),
    ] {
        std::fs::write(tmp.path().join(file), body)?;
        let out = cxr_in(&["sweep", file, "--dry-run"], tmp.path())?;
        let stderr = String::from_utf8(out.stderr)?;
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "grid files are TOML, and this looks like {format}"
            )),
            "{file}: {stderr}"
        );
    }
    Ok(())
}

/// Issue 32: a misspelled axis was answered with the top-level keys (`name`, `data`, ...),
/// not the axes.
#[test]
fn a_misspelled_axis_lists_the_axes() -> TestResult {
    let tmp = tempfile::tempdir()?;
    write_grid(tmp.path(), &format!("{TINY}[grid]\nmodle = [\"cnn\"]\n"))?;
    let out = cxr_in(&["sweep", "g.toml", "--dry-run"], tmp.path())?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("grid axis `modle` is not a setting: axes are model, freeze, seed"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `model`?"), "{stderr}");
    assert!(!stderr.contains("`name`"), "{stderr}");
    write_grid(
        tmp.path(),
        &format!("{TINY}[grid]\n\"train.lrr\" = [0.1]\n"),
    )?;
    let out = cxr_in(&["sweep", "g.toml", "--dry-run"], tmp.path())?;
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stderr.contains("the axes of `train` are train."),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `train.lr`?"), "{stderr}");
    Ok(())
}

/// Issue 32: a missing grid file printed its cause twice ("No such file ...: No such file").
#[test]
fn a_missing_grid_prints_its_cause_once() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let out = cxr_in(&["sweep", "nope.toml"], tmp.path())?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot read grid file nope.toml: "),
        "{stderr}"
    );
    Ok(())
}

/// Issue 32: `--time banana` and `--mem 32` (32 MB to Slurm) went into the script unchecked.
#[test]
fn emit_slurm_refuses_a_bad_time_or_a_memory_without_unit() -> TestResult {
    let tmp = tempfile::tempdir()?;
    write_grid(tmp.path(), &format!("{TINY}[model]\nname = \"cnn\"\n"))?;
    for (flag, value, says) in [
        ("--time", "banana", "expected a Slurm time"),
        ("--mem", "32", "Slurm would read it as 32 MB"),
    ] {
        let out = cxr_in(
            &["sweep", "g.toml", "--emit-slurm", "job.sh", flag, value],
            tmp.path(),
        )?;
        let stderr = String::from_utf8(out.stderr)?;
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(!tmp.path().join("job.sh").exists());
    }
    let out = cxr_in(
        &[
            "sweep",
            "g.toml",
            "--emit-slurm",
            "job.sh",
            "--time",
            "2-00:00:00",
            "--mem",
            "16G",
        ],
        tmp.path(),
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = std::fs::read_to_string(tmp.path().join("job.sh"))?;
    assert!(script.contains("#SBATCH --time=2-00:00:00") && script.contains("#SBATCH --mem=16G"));
    Ok(())
}

/// Issue 32: `sweep --help` filed `--device` and `--weights-mirror` under "Slurm".
#[test]
fn sweep_help_files_only_the_slurm_options_under_slurm() -> TestResult {
    let out = cxr_in(&["sweep", "--help"], Path::new("."))?;
    let help = String::from_utf8(out.stdout)?;
    let (general, slurm) = help
        .split_once("Slurm (with --emit-slurm):")
        .ok_or("no Slurm heading")?;
    for flag in [
        "--device",
        "--weights-mirror",
        "--cache-dir",
        "--emit-slurm",
    ] {
        assert!(general.contains(flag), "{flag}: {help}");
        assert!(!slurm.contains(flag), "{flag} under Slurm: {help}");
    }
    for flag in ["--partition", "--time", "--mem", "--gres", "--max-parallel"] {
        assert!(slurm.contains(flag), "{flag}: {help}");
    }
    Ok(())
}
