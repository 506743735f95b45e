//! What a weights download shows on a terminal: the `cxr-weights` library's
//! [`DownloadObserver`], drawn as a bar with bytes, rate and ETA. Anywhere else (a batch job's
//! log) it shows nothing, and the library's log lines at the start and end say what happened,
//! since a log should not fill with redraws.

use std::io::IsTerminal;

use cxr_weights::{DownloadObserver, DownloadProgress};
use indicatif::{ProgressBar, ProgressStyle};

/// Draws each weights download as a progress bar when stderr is a terminal and info messages
/// are on.
#[derive(Debug, Clone, Copy, Default)]
pub struct DownloadBar;

impl DownloadObserver for DownloadBar {
    fn start(&self, url: &str, total: Option<u64>) -> Option<Box<dyn DownloadProgress>> {
        // Drawn like the log lines it replaces: not when the user silenced info (`--quiet`).
        let wanted = std::io::stderr().is_terminal() && tracing::enabled!(tracing::Level::INFO);
        if !wanted {
            return None;
        }
        let bar = ProgressBar::new(total.unwrap_or(0));
        let template = if total.is_some() {
            "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}, ETA {eta}"
        } else {
            "{msg} {spinner} {bytes} {bytes_per_sec}"
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("downloading {url}"));
        Some(Box::new(Bar(bar)))
    }
}

/// One download's bar, cleared when the download ends, done or failed.
struct Bar(ProgressBar);

impl DownloadProgress for Bar {
    fn advance(&mut self, bytes: u64) {
        self.0.inc(bytes);
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
