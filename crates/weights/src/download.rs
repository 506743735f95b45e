//! One verified download: stream a URL into a temporary file beside its destination, hashing as
//! it arrives, check its length and SHA-256 prefix, then rename it into place.
//!
//! The rename is the only step that makes the file visible, so a failure at any point leaves
//! nothing behind (the temporary file is deleted when dropped), and two processes fetching the
//! same file at once each rename a complete, verified copy over the other.

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::{one_line, Failure, Result, WeightsError};
use crate::progress::{DownloadObserver, DownloadProgress};

/// How long to wait for a connection. A login node without a route out should fail fast.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the response headers, and for each read of the body: a stalled
/// transfer fails, a slow but moving one (a 100 MB file on a thin link) never does.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Downloads `url` to `dest` if its SHA-256 (hex) starts with `sha256_prefix`; `label` names the
/// file in errors and logs, `observer` shows its progress. `dest`'s folder must exist.
pub(crate) fn download_verified(
    url: &str,
    sha256_prefix: &str,
    dest: &Path,
    label: &str,
    observer: &dyn DownloadObserver,
) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WeightsError::Io { path, source }
    };
    let fail = |failure| WeightsError::Download {
        what: label.to_string(),
        url: url.to_string(),
        failure,
    };
    let mut tmp = shared_builder()
        .prefix(".download-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;

    let (mut body, expected) = open_body(url).map_err(fail)?;

    let mut progress = Progress::start(url, expected, observer);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut received = 0u64;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // ureq reports a connection closed before Content-Length as an error.
            Err(e) => {
                return Err(fail(match expected {
                    Some(expected) if received < expected => {
                        Failure::Truncated { received, expected }
                    }
                    _ => Failure::Read {
                        received,
                        detail: one_line(e),
                    },
                }))
            }
        };
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n]).map_err(io_err(tmp.path()))?;
        received += n as u64;
        progress.advance(n as u64);
    }
    if let Some(expected) = expected.filter(|&expected| received != expected) {
        return Err(fail(Failure::Truncated { received, expected }));
    }
    let actual = hex(&hasher.finalize());
    if !actual.starts_with(sha256_prefix) {
        return Err(fail(Failure::Checksum {
            expected_prefix: sha256_prefix.to_string(),
            actual,
        }));
    }
    tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
    tmp.persist(dest).map_err(|e| WeightsError::Io {
        path: dest.to_path_buf(),
        source: e.error,
    })?;
    progress.finish(received);
    Ok(())
}

/// A temporary-file builder whose file is created with mode 0666 less the umask, as
/// `std::fs::File::create` would: tempfile's default 0600 would survive the rename and keep
/// every result file (and a cache shared by a lab group) unreadable to anyone else.
fn shared_builder<'a>() -> tempfile::Builder<'a, 'a> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
}

/// The body at `url` and its length when known: an HTTP(S) response, or the file of a local
/// mirror, `file:///srv/weights/<file>` or a plain path (`/srv/weights/<file>`), which the
/// README offers as a mirror (a copy of download.pytorch.org's folder on a shared disk).
fn open_body(url: &str) -> std::result::Result<(Box<dyn Read>, Option<u64>), Failure> {
    if let Some(path) = local_path(url) {
        let file = std::fs::File::open(path).map_err(|e| {
            Failure::Request(format!("cannot open {}: {}", path.display(), one_line(e)))
        })?;
        let len = file.metadata().ok().map(|m| m.len());
        return Ok((Box::new(file), len));
    }
    let response = agent()
        .get(url)
        .call()
        .map_err(|e| Failure::Request(request_failure(e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(Failure::Status {
            code: status.as_u16(),
            reason: status.canonical_reason().unwrap_or_default().to_string(),
        });
    }
    let expected = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    Ok((Box::new(response.into_body().into_reader()), expected))
}

/// The local file `url` names: the path of a `file://` URL, or `url` itself when it has no
/// scheme (`/srv/weights/x.pth`, `mirror/x.pth`); `None` for a URL with any other scheme.
fn local_path(url: &str) -> Option<&Path> {
    match url.strip_prefix("file://") {
        // `file://localhost/srv/x` names the same file as `file:///srv/x`.
        Some(rest) => Some(Path::new(rest.strip_prefix("localhost").unwrap_or(rest))),
        None if url.contains("://") => None,
        None => Some(Path::new(url)),
    }
}

/// The HTTP client: short connect and stall timeouts, none on the whole body; error statuses
/// come back as responses so their code can be reported. Proxies come from the usual
/// environment variables (`HTTPS_PROXY`, `NO_PROXY`, ...), as clusters set them.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(STALL_TIMEOUT))
        .timeout_per_read(Some(STALL_TIMEOUT))
        .http_status_as_error(false)
        .user_agent(concat!("cxr/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// A request that got no response, in words.
fn request_failure(e: ureq::Error) -> String {
    match e {
        ureq::Error::Io(e) => format!("cannot connect: {}", one_line(e)),
        ureq::Error::HostNotFound => "cannot connect: host not found".to_string(),
        e => one_line(e),
    }
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A download's progress: the observer's display when it shows one (the CLI's bar), otherwise
/// one log line at the start; one log line at the end either way.
struct Progress {
    display: Option<Box<dyn DownloadProgress>>,
    url: String,
    start: Instant,
}

impl Progress {
    fn start(url: &str, total: Option<u64>, observer: &dyn DownloadObserver) -> Self {
        let display = observer.start(url, total);
        if display.is_none() {
            match total {
                Some(bytes) => tracing::info!(url, bytes, "downloading weights"),
                None => tracing::info!(url, "downloading weights"),
            }
        }
        Self {
            display,
            url: url.to_string(),
            start: Instant::now(),
        }
    }

    fn advance(&mut self, bytes: u64) {
        if let Some(display) = &mut self.display {
            display.advance(bytes);
        }
    }

    fn finish(mut self, bytes: u64) {
        // The display clears itself when dropped, before the line that replaces it.
        self.display = None;
        let seconds = (self.start.elapsed().as_secs_f64() * 10.0).round() / 10.0;
        tracing::info!(url = %self.url, bytes, seconds, "downloaded and verified weights");
    }
}
