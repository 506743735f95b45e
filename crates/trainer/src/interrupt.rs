//! Stopping a sweep cleanly on SIGTERM or SIGINT: the signal handler (the CLI's) raises
//! [`STOP`]; the training loop checks it before every batch and abandons the epoch
//! ([`crate::TrainerError::Interrupted`]), so the run's last epoch checkpoint stays the state a
//! rerun resumes from, and the sweep starts no further run. The claims of the sweep are
//! released as its guards are dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::sync::LazyLock;

/// Raised by a signal handler: stop before the next batch.
pub static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// Whether a stop was asked for.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Asks the sweep to stop before its next batch (what the signal handler does).
pub fn request_stop() {
    STOP.store(true, Ordering::Relaxed);
}
