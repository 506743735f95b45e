//! How a download's progress reaches the user: through the caller's [`DownloadObserver`]. This
//! crate draws nothing itself; the CLI draws a bar on a terminal.

use std::fmt::Debug;

/// Shown each download as it runs. The log lines at its start (when no display is shown) and
/// at its end are the library's; everything drawn is the observer's.
pub trait DownloadObserver: Debug + Send + Sync {
    /// A download of `url` begins, `total` bytes long when the server said. Returns the display
    /// of its progress, or `None` to show none (the library then logs a line instead).
    fn start(&self, url: &str, total: Option<u64>) -> Option<Box<dyn DownloadProgress>>;
}

/// One download's display. It is dropped when the download ends, completed or failed, and
/// must then clear itself (a failed download must not leave a half-drawn bar above its error).
pub trait DownloadProgress {
    /// `bytes` more arrived.
    fn advance(&mut self, bytes: u64);
}

/// Shows no download: each one is a log line at its start and one at its end.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl DownloadObserver for NoProgress {
    fn start(&self, _url: &str, _total: Option<u64>) -> Option<Box<dyn DownloadProgress>> {
        None
    }
}
