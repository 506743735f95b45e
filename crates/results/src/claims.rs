//! Run claims: several sweeps on one results folder (processes on one machine, or machines
//! sharing the folder over NFS) train each run once. Before training a run a sweep claims it
//! with a lease file, `<grid>/claims/<run-id>.json` ([`ClaimInfo`]: host, pid, start,
//! heartbeat); other sweeps skip a claimed run and take the next.
//!
//! - **Claiming** creates the file with `O_CREAT | O_EXCL` (`create_new`), atomic on local
//!   file systems and on NFSv3+ (where `O_EXCL` is part of the protocol), then writes its
//!   content into it. A reader that finds it empty or half-written treats it as held while
//!   the file is younger than the timeout (its creator was alive a moment ago).
//! - **Heartbeat**: the holder rewrites the file every `timeout / 5` (a temporary file renamed
//!   over it, so readers see a whole file), after checking it still holds the claim.
//! - **Stale claims**: a heartbeat older than the timeout, or a pid that no longer runs on
//!   this host, marks a claim stale. A sweep takes it over by renaming the stale file to a
//!   tombstone of its own (`rename` of one source succeeds for one caller only) and then
//!   claiming afresh, logging whose claim it took.
//! - **Release**: the holder removes the file when the run is finished (its summary written)
//!   or abandoned, and on drop.
//!
//! `flock` alone is not used: on NFS it depends on the lock daemon and is advisory per
//! client; the `O_EXCL` create and the single-winner `rename` need nothing but the server.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Result, ResultsError};
use crate::layout::GridDir;

/// How long a claim lives without a heartbeat, by default (`--claim-timeout`).
pub const DEFAULT_CLAIM_TIMEOUT: Duration = Duration::from_secs(300);

/// What a claim file holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClaimInfo {
    /// The claiming machine's host name.
    pub host: String,
    /// The claiming process.
    pub pid: u32,
    /// When the claim was made, seconds since the Unix epoch.
    pub started: u64,
    /// The holder's last sign of life, seconds since the Unix epoch.
    pub heartbeat: u64,
    /// Unique to this claim (host, pid, time and a counter), so a holder knows its own file.
    pub token: String,
}

impl ClaimInfo {
    fn new() -> Self {
        let now = now();
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let (host, pid) = (host_name(), std::process::id());
        Self {
            token: format!("{host}-{pid}-{now}-{n}"),
            host,
            pid,
            started: now,
            heartbeat: now,
        }
    }

    /// Seconds since the claim was made.
    pub fn age_s(&self) -> u64 {
        now().saturating_sub(self.started)
    }

    /// Seconds since the holder's last heartbeat.
    pub fn silent_s(&self) -> u64 {
        now().saturating_sub(self.heartbeat)
    }

    /// `host:pid`, the holder as logs name it.
    pub fn holder(&self) -> String {
        format!("{}:{}", self.host, self.pid)
    }

    /// Why the claim is stale after `timeout`, or `None` while its holder counts as alive:
    /// a heartbeat older than the timeout, or a pid that no longer runs on this host.
    pub fn stale(&self, timeout: Duration) -> Option<String> {
        let age = self.silent_s();
        if age > timeout.as_secs() {
            return Some(format!("no heartbeat for {age} s"));
        }
        if self.host == host_name() && !pid_alive(self.pid) {
            return Some(format!("process {} is gone", self.pid));
        }
        None
    }
}

/// The outcome of [`try_claim`].
#[derive(Debug)]
pub enum Claim {
    /// This process holds the run until the guard is dropped or released.
    Held(ClaimGuard),
    /// Another live process holds it.
    Busy(ClaimInfo),
}

/// A held claim: its heartbeat runs until [`ClaimGuard::release`] or drop, which remove the
/// claim file.
#[derive(Debug)]
pub struct ClaimGuard {
    path: PathBuf,
    token: String,
    stop: Arc<AtomicBool>,
    heartbeat: Option<std::thread::JoinHandle<()>>,
    /// Whose stale claim this one replaced, if any.
    pub took_over: Option<(ClaimInfo, String)>,
}

impl ClaimGuard {
    /// Stops the heartbeat and removes the claim file (when it is still this claim's).
    pub fn release(mut self) {
        self.stop_and_remove();
    }

    fn stop_and_remove(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.heartbeat.take() {
            handle.thread().unpark();
            let _ = handle.join();
        }
        if read_claim(&self.path).is_some_and(|c| c.token == self.token) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        self.stop_and_remove();
    }
}

/// The claim file of `run_id` in `grid`.
pub fn claim_path(grid: &GridDir, run_id: &str) -> PathBuf {
    grid.path().join("claims").join(format!("{run_id}.json"))
}

/// Claims `run_id` of `grid` for this process, taking over a claim that is stale after
/// `timeout` ([`ClaimInfo::stale`]).
pub fn try_claim(grid: &GridDir, run_id: &str, timeout: Duration) -> Result<Claim> {
    let path = claim_path(grid, run_id);
    let folder = path.parent().unwrap_or(grid.path()).to_path_buf();
    std::fs::create_dir_all(&folder).map_err(ResultsError::io(&folder))?;
    let mut took_over = None;
    // At most a few rounds: create, or find a live holder, or move a stale claim aside.
    for _ in 0..4 {
        let info = ClaimInfo::new();
        match create_claim(&path, &info) {
            Ok(()) => {
                return Ok(Claim::Held(guard(path, info, timeout, took_over)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(ResultsError::Io {
                    path: path.clone(),
                    source: e,
                })
            }
        }
        let Some(held) = read_claim(&path) else {
            // Being written this instant, or removed just now: either way not ours yet.
            match std::fs::metadata(&path) {
                Ok(meta) if fresh_file(&meta, timeout) => {
                    return Ok(Claim::Busy(unknown_holder()));
                }
                Ok(_) => {}
                Err(_) => continue,
            }
            // An unreadable claim older than the timeout: stale.
            if move_aside(&path, &info.token) {
                took_over = Some((unknown_holder(), "unreadable and old".to_string()));
            }
            continue;
        };
        let Some(why) = held.stale(timeout) else {
            return Ok(Claim::Busy(held));
        };
        // One taker wins the rename; the others find the next claim (the winner's) live.
        if move_aside(&path, &info.token) {
            took_over = Some((held, why));
        }
    }
    match read_claim(&path) {
        Some(held) => Ok(Claim::Busy(held)),
        None => Ok(Claim::Busy(unknown_holder())),
    }
}

/// The claim on `run_id` of `grid`, when there is a readable one.
pub fn claim_of(grid: &GridDir, run_id: &str) -> Option<ClaimInfo> {
    read_claim(&claim_path(grid, run_id))
}

/// Every claim of `grid`, by run id, in run-id order.
pub fn read_claims(grid: &GridDir) -> Vec<(String, ClaimInfo)> {
    let folder = grid.path().join("claims");
    let mut claims: Vec<(String, ClaimInfo)> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .filter_map(std::result::Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let id = name.strip_suffix(".json")?.to_string();
                    read_claim(&e.path()).map(|c| (id, c))
                })
                .collect()
        })
        .unwrap_or_default();
    claims.sort_by(|a, b| a.0.cmp(&b.0));
    claims
}

fn unknown_holder() -> ClaimInfo {
    ClaimInfo {
        host: "unknown".into(),
        pid: 0,
        started: now(),
        heartbeat: now(),
        token: String::new(),
    }
}

fn fresh_file(meta: &std::fs::Metadata, timeout: Duration) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| m.elapsed().ok())
        .is_none_or(|age| age <= timeout)
}

/// Renames the claim at `path` to a tombstone named after `token`; `true` when this call moved
/// it (exactly one of several concurrent callers does), after which the tombstone is removed.
fn move_aside(path: &Path, token: &str) -> bool {
    let tombstone = path.with_extension(format!("stale-{token}"));
    if std::fs::rename(path, &tombstone).is_ok() {
        let _ = std::fs::remove_file(&tombstone);
        true
    } else {
        false
    }
}

fn create_claim(path: &Path, info: &ClaimInfo) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let text = serde_json::to_vec(info).map_err(std::io::Error::other)?;
    file.write_all(&text)?;
    file.sync_all()
}

fn read_claim(path: &Path) -> Option<ClaimInfo> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Rewrites the claim with a new heartbeat: a temporary file renamed over it.
fn beat(path: &Path, info: &mut ClaimInfo) -> bool {
    if read_claim(path).is_none_or(|c| c.token != info.token) {
        return false;
    }
    info.heartbeat = now();
    let tmp = path.with_extension(format!("beat-{}", info.token));
    let ok = serde_json::to_vec(&*info)
        .ok()
        .is_some_and(|bytes| std::fs::write(&tmp, bytes).is_ok())
        && std::fs::rename(&tmp, path).is_ok();
    if !ok {
        let _ = std::fs::remove_file(&tmp);
    }
    ok
}

fn guard(
    path: PathBuf,
    info: ClaimInfo,
    timeout: Duration,
    took_over: Option<(ClaimInfo, String)>,
) -> ClaimGuard {
    let stop = Arc::new(AtomicBool::new(false));
    let token = info.token.clone();
    let every = (timeout / 5).max(Duration::from_millis(200));
    let heartbeat = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        let mut info = info;
        std::thread::Builder::new()
            .name("claim-heartbeat".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::park_timeout(every);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if !beat(&path, &mut info) {
                        tracing::warn!(
                            claim = %path.display(),
                            "this sweep's claim was taken over or removed; its run may be trained twice"
                        );
                        break;
                    }
                }
            })
            .ok()
    };
    ClaimGuard {
        path,
        token,
        stop,
        heartbeat,
        took_over,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// This machine's host name (Linux's `/proc/sys/kernel/hostname`, else `$HOSTNAME`).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Whether process `pid` runs on this machine (`/proc/<pid>` exists; without `/proc`, assumed
/// alive, so only the heartbeat can make its claim stale).
fn pid_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn grid() -> std::result::Result<(tempfile::TempDir, GridDir), std::io::Error> {
        let tmp = tempfile::tempdir()?;
        let grid = GridDir::new(tmp.path(), "g");
        Ok((tmp, grid))
    }

    #[test]
    fn a_claim_is_held_once_and_released_on_drop() -> TestResult {
        let (_tmp, grid) = grid()?;
        let Claim::Held(guard) = try_claim(&grid, "r1", DEFAULT_CLAIM_TIMEOUT)? else {
            return Err("the first claim is held".into());
        };
        assert!(guard.took_over.is_none());
        match try_claim(&grid, "r1", DEFAULT_CLAIM_TIMEOUT)? {
            Claim::Busy(holder) => {
                assert_eq!(holder.pid, std::process::id());
                assert_eq!(holder.host, host_name());
            }
            Claim::Held(_) => return Err("a live claim is not taken twice".into()),
        }
        // Another run is free.
        assert!(matches!(
            try_claim(&grid, "r2", DEFAULT_CLAIM_TIMEOUT)?,
            Claim::Held(_)
        ));
        assert_eq!(read_claims(&grid).len(), 1, "r2's guard was dropped");
        drop(guard);
        assert!(!claim_path(&grid, "r1").exists());
        assert!(read_claims(&grid).is_empty());
        Ok(())
    }

    #[test]
    fn a_claim_of_a_dead_process_or_without_heartbeat_is_taken_over() -> TestResult {
        let (_tmp, grid) = grid()?;
        std::fs::create_dir_all(grid.path().join("claims"))?;
        // A pid that is not running here (pid_max on Linux is at most 2^22).
        let dead = ClaimInfo {
            pid: 4_194_304 + 7,
            ..ClaimInfo::new()
        };
        std::fs::write(claim_path(&grid, "r1"), serde_json::to_vec(&dead)?)?;
        let Claim::Held(guard) = try_claim(&grid, "r1", DEFAULT_CLAIM_TIMEOUT)? else {
            return Err("a dead process's claim is taken over".into());
        };
        let (before, why) = guard.took_over.clone().ok_or("took over")?;
        assert_eq!(before.pid, dead.pid);
        assert!(why.contains("is gone"), "{why}");
        drop(guard);

        // Another host, alive as far as we know, but silent for longer than the timeout.
        let silent = ClaimInfo {
            host: "elsewhere".into(),
            heartbeat: now() - 10,
            ..ClaimInfo::new()
        };
        std::fs::write(claim_path(&grid, "r2"), serde_json::to_vec(&silent)?)?;
        assert!(matches!(
            try_claim(&grid, "r2", Duration::from_secs(60))?,
            Claim::Busy(_)
        ));
        let Claim::Held(guard) = try_claim(&grid, "r2", Duration::from_secs(5))? else {
            return Err("a silent claim is taken over after the timeout".into());
        };
        assert!(guard
            .took_over
            .as_ref()
            .is_some_and(|(_, why)| why.contains("no heartbeat")));
        Ok(())
    }

    #[test]
    fn the_holder_keeps_its_claim_fresh() -> TestResult {
        let (_tmp, grid) = grid()?;
        let Claim::Held(guard) = try_claim(&grid, "r1", Duration::from_secs(1))? else {
            return Err("held".into());
        };
        let first = read_claim(&claim_path(&grid, "r1")).ok_or("claim file")?;
        std::thread::sleep(Duration::from_millis(2500));
        let later = read_claim(&claim_path(&grid, "r1")).ok_or("claim file")?;
        assert_eq!(later.token, first.token);
        assert!(later.heartbeat > first.heartbeat, "{later:?} vs {first:?}");
        // Still live for a 1 s timeout, so another sweep skips it.
        assert!(matches!(
            try_claim(&grid, "r1", Duration::from_secs(1))?,
            Claim::Busy(_)
        ));
        guard.release();
        assert!(!claim_path(&grid, "r1").exists());
        Ok(())
    }
}
