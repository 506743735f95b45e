//! Pretrained weights by name: torchvision's published ResNet files, downloaded once, verified
//! and cached, so a config can say `weights = "imagenet"` instead of a path.
//!
//! [`PUBLISHED`] lists every file cxr knows ([`Published`]: model, torchvision variant, file
//! name, SHA-256 prefix); [`lookup`] turns a name (`"imagenet"`, `"torchvision:IMAGENET1K_V2"`)
//! into one of them, and [`is_published_name`] tells such a name from a file path. A [`Cache`]
//! (`<cache_dir>/weights/`) hands out the local file: [`Cache::ensure`] downloads it when absent
//! (or present but not verifying), [`Cache::list`] reports what is there ([`CachedFile`]).
//!
//! A download streams into a temporary file beside its destination, hashing as it goes, checks
//! the body against `Content-Length`, checks that the SHA-256 starts with the 8 hex digits in
//! the file name (torch.hub's `check_hash`), and only then renames it into place: a failure
//! leaves nothing in the cache, and concurrent processes cannot corrupt it. Every
//! [`WeightsError`] is one line; a failed download names the URL, what went wrong and the manual
//! way out (download the URL by hand and point `weights` at the file, or set
//! [`MIRROR_ENV`] to a reachable mirror, which replaces the base URL).
//!
//! This crate does not read the files (that is `cxr-models`' `weights` module), does not decide
//! where the cache lives or whether to use a mirror, and draws nothing: the caller passes the
//! cache folder and the mirror (the CLI's `--cache-dir` and `--weights-mirror`, the latter also
//! read from [`MIRROR_ENV`]), and a [`DownloadObserver`] that shows each download's progress
//! (the CLI's bar; without one, [`NoProgress`]: log lines only).
//!
//! ```no_run
//! use cxr_models::ModelKind;
//! use cxr_weights::{lookup, Cache};
//!
//! # fn main() -> Result<(), cxr_weights::WeightsError> {
//! let published = lookup(ModelKind::Resnet18, "imagenet")?;
//! let cache = Cache::new("/home/me/.cache/cxr".as_ref());
//! let path = cache.ensure(published, Some("http://mirror.lan/weights"))?;
//! assert!(path.ends_with("weights/resnet18-f37072fd.pth"));
//! # Ok(())
//! # }
//! ```

mod cache;
mod download;
mod error;
mod progress;
mod published;

pub use cache::{Cache, CachedFile};
pub use error::{Failure, Result, WeightsError};
pub use progress::{DownloadObserver, DownloadProgress, NoProgress};
pub use published::{
    is_published_name, lookup, registry, Published, INDEX_ENV, MIRROR_ENV, PUBLISHED,
};
