//! The weights cache: `<cache_dir>/weights/<file>`, one verified file per published name.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::download::{download_verified, hex};
use crate::error::{Result, WeightsError};
use crate::progress::{DownloadObserver, NoProgress};
use crate::published::{hash_prefix_in_name, registry, Published};

/// The weights cache: `<cache_dir>/weights/`, beside the decoded-image cache, with the observer
/// its downloads report to.
#[derive(Debug, Clone)]
pub struct Cache<'a> {
    dir: PathBuf,
    observer: &'a dyn DownloadObserver,
}

/// One file in the cache, as [`Cache::list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedFile {
    /// The file.
    pub path: PathBuf,
    /// The published file of this name, if it is one cxr knows.
    pub published: Option<&'static Published>,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its full SHA-256 (lowercase hex).
    pub sha256: String,
    /// Whether the SHA-256 starts with the hash prefix its name carries (`-<hex>.` as in
    /// `resnet18-f37072fd.pth`); false for a name without one.
    pub verified: bool,
}

impl<'a> Cache<'a> {
    /// The cache under `cache_dir` (the folder holding cxr's other caches); nothing is created
    /// until a download. Its downloads are shown by nothing but log lines ([`NoProgress`]).
    pub fn new(cache_dir: &Path) -> Self {
        Self {
            dir: cache_dir.join("weights"),
            observer: &NoProgress,
        }
    }

    /// This cache, its downloads shown by `observer` (e.g. the CLI's progress bar).
    pub fn with_observer(self, observer: &'a dyn DownloadObserver) -> Self {
        Self { observer, ..self }
    }

    /// The folder holding the weights files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `p` is (or would be) cached: `<dir>/<file>`.
    pub fn path_of(&self, p: &Published) -> PathBuf {
        self.dir.join(p.file)
    }

    /// Returns the cached file of `p`, downloading it first (from `mirror`, else torchvision's
    /// server) when absent. A present file is hashed (a fraction of a second) and returned
    /// without a request when it verifies; one that does not (copied in by hand, damaged) is
    /// downloaded again over it. A failed download leaves nothing new in the cache.
    pub fn ensure(&self, p: &Published, mirror: Option<&str>) -> Result<PathBuf> {
        let path = self.path_of(p);
        if path.is_file() {
            let (_, sha256) = hash_file(&path).map_err(|source| WeightsError::Io {
                path: path.clone(),
                source,
            })?;
            if sha256.starts_with(p.sha256_prefix) {
                tracing::debug!(path = %path.display(), "weights already cached");
                return Ok(path);
            }
            tracing::warn!(
                path = %path.display(),
                sha256,
                expected_prefix = p.sha256_prefix,
                "cached weights do not verify; downloading them again"
            );
        }
        fs::create_dir_all(&self.dir).map_err(|source| WeightsError::Io {
            path: self.dir.clone(),
            source,
        })?;
        download_verified(
            &p.url(mirror),
            p.sha256_prefix,
            &path,
            &p.label(),
            self.observer,
        )?;
        Ok(path)
    }

    /// Every file in the cache, sorted by name, hashed now. Hidden files (downloads in
    /// progress) are skipped; a missing cache folder lists nothing.
    pub fn list(&self) -> Result<Vec<CachedFile>> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WeightsError::Io { path, source }
        };
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&self.dir)(e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err(&self.dir))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !path.is_file() {
                continue;
            }
            let (bytes, sha256) = hash_file(&path).map_err(io_err(&path))?;
            let published = registry()?.iter().find(|p| p.file == name);
            let verified = match published {
                Some(p) => sha256.starts_with(p.sha256_prefix),
                None => hash_prefix_in_name(&name).is_some_and(|p| sha256.starts_with(p)),
            };
            files.push(CachedFile {
                published,
                path,
                bytes,
                sha256,
                verified,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

/// A file's size and SHA-256 (hex).
fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        match file.read(&mut buf)? {
            0 => break,
            n => {
                hasher.update(&buf[..n]);
                bytes += n as u64;
            }
        }
    }
    Ok((bytes, hex(&hasher.finalize())))
}
