//! Issue 29, item 1: several sweeps on one results folder train every run once. Each claims a
//! run before training it (`<grid>/claims/<run-id>.json`), skips runs another holds, and takes
//! over the claim of a sweep that died.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cxr_results::{read_summary, GridDir};

use crate::support::{cxr, cxr_in, text, transcript, TestResult};

/// `cxr` with its info log (which names every run trained, and every run left to another
/// sweep) on stderr.
fn logged(args: &[&str], dir: &Path) -> Command {
    let mut c = cxr();
    c.env("CXR_LOG", "info").args(args).current_dir(dir);
    c
}

/// Six tiny CNN runs (seconds each).
const SIX: &str =
    "name = \"tiny\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 12\nsize = 32\n\
                   [train]\nmax_epochs = 2\npatience = 2\nbatch_size = 8\n\
                   [[grid]]\nmodel = \"cnn\"\nseed = [0, 1, 2, 3, 4, 5]\n";

/// Each run id's count of "trained" log lines (`[n/m] <id> test micro-recall ...`) in `logs`.
fn trained_lines(logs: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in logs.iter().flat_map(|l| l.lines()) {
        if let Some((_, rest)) = line.split_once("] ") {
            if let Some((id, _)) = rest.split_once(" test micro-recall") {
                *counts.entry(id.to_string()).or_default() += 1;
            }
        }
    }
    counts
}

/// Writes the grid and fills the synthetic cache once, so the sweeps under test start together.
fn prepared(dir: &Path) -> TestResult {
    std::fs::write(dir.join("g.toml"), SIX)?;
    let out = cxr_in(
        &["sweep", "g.toml", "--cache-dir", "cache", "--prepare"],
        dir,
    )?;
    assert!(out.status.success(), "{}", transcript(&out));
    Ok(())
}

#[test]
fn three_sweeps_on_one_folder_train_every_run_once() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    prepared(dir)?;
    let children: Vec<_> = (0..3)
        .map(|_| {
            logged(
                &["sweep", "g.toml", "--cache-dir", "cache", "--threads", "1"],
                dir,
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        })
        .collect::<Result<_, _>>()?;
    // Watch the run folders while the sweeps train: a run trained twice would have its
    // folder recreated, and its config.toml a second inode.
    let runs_dir = dir.join("results/tiny/runs");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (runs_dir, done) = (runs_dir.clone(), std::sync::Arc::clone(&done));
        std::thread::spawn(move || {
            use std::os::unix::fs::MetadataExt as _;
            let mut inodes: BTreeMap<String, std::collections::BTreeSet<u64>> = BTreeMap::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                for entry in std::fs::read_dir(&runs_dir).into_iter().flatten().flatten() {
                    if let Ok(meta) = std::fs::metadata(entry.path().join("config.toml")) {
                        let id = entry.file_name().to_string_lossy().into_owned();
                        inodes.entry(id).or_default().insert(meta.ino());
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            inodes
        })
    };
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output())
        .collect::<Result<_, _>>()?;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let inodes = watcher.join().map_err(|_| "the watcher panicked")?;
    assert_eq!(inodes.len(), 6, "{inodes:?}");
    assert!(
        inodes.values().all(|seen| seen.len() == 1),
        "a run folder was created twice: {inodes:?}"
    );
    for out in &outputs {
        assert!(out.status.success(), "{}", transcript(out));
    }
    let logs: Vec<String> = outputs.iter().map(|o| text(&o.stderr)).collect();
    let counts = trained_lines(&logs);
    assert_eq!(counts.len(), 6, "every run trained: {counts:?}");
    assert!(counts.values().all(|&n| n == 1), "each once: {counts:?}");
    // Between them the three sweeps left the others' runs alone.
    let left: usize = logs.iter().map(|l| l.matches(": left to it").count()).sum();
    assert!(left > 0, "{logs:?}");
    let grid = GridDir::new(&dir.join("results"), "tiny");
    assert_eq!(read_summary(&grid.summary_path())?.len(), 6);
    assert!(
        cxr_results::read_claims(&grid).is_empty(),
        "claims released"
    );
    Ok(())
}

#[test]
fn workers_flag_starts_sweeps_that_share_the_grid() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    prepared(dir)?;
    let out = logged(
        &["sweep", "g.toml", "--cache-dir", "cache", "--workers", "3"],
        dir,
    )
    .output()?;
    assert!(out.status.success(), "{}", transcript(&out));
    let stdout = text(&out.stdout);
    let trained: usize = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("tiny: "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(stdout.lines().count(), 3, "one line per worker: {stdout}");
    assert_eq!(trained, 6, "{stdout}");
    let counts = trained_lines(&[text(&out.stderr)]);
    assert!(
        counts.len() == 6 && counts.values().all(|&n| n == 1),
        "{counts:?}"
    );
    assert!(text(&out.stderr).contains("starting 3 sweep workers"));
    Ok(())
}

#[test]
fn a_killed_sweeps_claim_is_shown_stale_and_taken_over() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    // One run long enough to be killed mid-way.
    let one = SIX
        .replace("seed = [0, 1, 2, 3, 4, 5]", "seed = 0")
        .replace(
            "max_epochs = 2\npatience = 2",
            "max_epochs = 40\npatience = 40",
        );
    std::fs::write(dir.join("g.toml"), one)?;
    let out = cxr_in(
        &["sweep", "g.toml", "--cache-dir", "cache", "--prepare"],
        dir,
    )?;
    assert!(out.status.success(), "{}", transcript(&out));
    let mut first: std::process::Child = cxr()
        .args(["sweep", "g.toml", "--cache-dir", "cache", "--quiet"])
        .current_dir(dir)
        .spawn()?;
    let claims = dir.join("results/tiny/claims");
    let started = Instant::now();
    while std::fs::read_dir(&claims).map_or(true, |mut d| d.next().is_none()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no claim appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = first.id();
    first.kill()?; // SIGKILL: no chance to release the claim
    first.wait()?;

    let out = cxr_in(&["sweep", "g.toml", "--dry-run"], dir)?;
    let plan = text(&out.stdout);
    assert!(
        plan.contains("claimed by running sweeps:")
            && plan.contains(&format!(":{pid} since"))
            && plan.contains(&format!("stale (process {pid} is gone)")),
        "{plan}"
    );
    let out = cxr_in(&["sweep", "g.toml", "--cache-dir", "cache"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    let log = text(&out.stderr);
    assert!(
        log.contains("taking over the stale claim of")
            && log.contains(&format!("(process {pid} is gone)")),
        "{log}"
    );
    assert!(
        text(&out.stdout).starts_with("tiny: 1 run(s) trained"),
        "{}",
        text(&out.stdout)
    );
    let grid = GridDir::new(&dir.join("results"), "tiny");
    assert_eq!(read_summary(&grid.summary_path())?.len(), 1);
    assert!(cxr_results::read_claims(&grid).is_empty());
    Ok(())
}
