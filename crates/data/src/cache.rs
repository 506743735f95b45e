//! The preprocessed-image cache: one binary file per (file list, preprocessing) key.
//!
//! Decoding and resizing a dataset happens once; every later load of the same files with the
//! same settings reads this file instead. Layout (little endian):
//!
//! ```text
//! magic "CXRCACHE" | format version u32 | key [32] | payload length u64 | payload | blake3(payload) [32]
//! payload: n u64 | size u32 | labels n x u32 | pixels n x size x size u8
//!          | file count u64 | (len u32, utf-8 relative path) x n
//!          | skipped count u64 | (len u32 path, len u32 reason) x skipped
//! ```
//!
//! A file whose magic, version, key, length or checksum does not match is never used: the caller
//! rebuilds it. Writes go to a temporary file renamed into place, so a killed process leaves
//! either the old cache or the new one, never half of one.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::decode::Unreadable;
use crate::error::{DataError, Result};

/// Bump when the payload layout or the preprocessing code changes what a cache holds.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"CXRCACHE";
const HEADER: usize = 8 + 4 + 32 + 8;

/// Hash of everything that determines a cache's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheKey(pub [u8; 32]);

impl CacheKey {
    /// Hex form, used as the cache file name.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Decoded, resized, 8-bit single-channel images with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedImages {
    /// Side length of every (square) image.
    pub size: u32,
    /// One label per image.
    pub labels: Vec<u32>,
    /// `labels.len() * size * size` bytes, image after image, row-major.
    pub pixels: Vec<u8>,
    /// Each image's path relative to the dataset root.
    pub files: Vec<PathBuf>,
    /// Files left out because they could not be decoded (`skip_unreadable`).
    pub skipped: Vec<Unreadable>,
}

/// Why a cache file was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheMiss {
    /// No file at that path.
    Absent,
    /// The file exists but is damaged or was written for other inputs.
    Invalid(String),
}

/// Writes `images` under `key` to `path` atomically. The pixels are written from `images`
/// itself, never copied into a payload buffer: a 21,000-film dataset is not held twice.
pub fn write(path: &Path, key: CacheKey, images: &CachedImages) -> Result<()> {
    let (head, tail) = encode_around_pixels(images);
    let parts = [&head[..], &images.pixels[..], &tail[..]];
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut hash = blake3::Hasher::new();
    for part in parts {
        hash.update(part);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(DataError::io(dir))?;
    let mut tmp = shared_builder()
        .tempfile_in(dir)
        .map_err(DataError::io(dir))?;
    let mut w = std::io::BufWriter::new(tmp.as_file_mut());
    let io = DataError::io(path);
    let write_all = |w: &mut std::io::BufWriter<&mut std::fs::File>| -> std::io::Result<()> {
        w.write_all(MAGIC)?;
        w.write_all(&FORMAT_VERSION.to_le_bytes())?;
        w.write_all(&key.0)?;
        w.write_all(&(len as u64).to_le_bytes())?;
        for part in parts {
            w.write_all(part)?;
        }
        w.write_all(hash.finalize().as_bytes())?;
        w.flush()
    };
    write_all(&mut w).map_err(io)?;
    drop(w);
    tmp.persist(path).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Reads the cache at `path` if it is intact and was written under `key`. The file is read once
/// into memory and its pixel bytes become the returned `pixels` in place (peak memory: the
/// file's size, not twice the dataset).
pub fn read(path: &Path, key: CacheKey) -> std::result::Result<CachedImages, CacheMiss> {
    let mut bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(CacheMiss::Absent),
        Err(e) => return Err(CacheMiss::Invalid(e.to_string())),
    };
    let invalid = |why: &str| CacheMiss::Invalid(why.to_string());
    if bytes.len() < HEADER + 32 || &bytes[..8] != MAGIC {
        return Err(invalid("not a cxr cache file"));
    }
    let mut r = Reader { bytes: &bytes[8..] };
    if r.u32() != Some(FORMAT_VERSION) {
        return Err(invalid("written by another cache format version"));
    }
    if r.take(32) != Some(&key.0[..]) {
        return Err(invalid("written for other files or settings"));
    }
    let len = r.u64().ok_or_else(|| invalid("truncated header"))? as usize;
    if bytes.len() != HEADER.saturating_add(len).saturating_add(32) {
        return Err(invalid("truncated or padded"));
    }
    let payload = &bytes[HEADER..HEADER + len];
    if blake3::hash(payload).as_bytes() != &bytes[HEADER + len..] {
        return Err(invalid("checksum mismatch"));
    }
    let (mut images, pixels) =
        decode_around_pixels(payload).ok_or_else(|| invalid("malformed payload"))?;
    bytes.truncate(HEADER + pixels.end);
    bytes.drain(..HEADER + pixels.start);
    images.pixels = bytes;
    Ok(images)
}

/// The payload without its pixels: what precedes them (`n`, `size`, labels) and what follows
/// (file names, skipped files).
fn encode_around_pixels(images: &CachedImages) -> (Vec<u8>, Vec<u8>) {
    let mut head = Vec::with_capacity(12 + images.labels.len() * 4);
    head.extend((images.labels.len() as u64).to_le_bytes());
    head.extend(images.size.to_le_bytes());
    for l in &images.labels {
        head.extend(l.to_le_bytes());
    }
    let mut tail = Vec::with_capacity(images.files.len() * 48 + 16);
    tail.extend((images.files.len() as u64).to_le_bytes());
    for f in &images.files {
        put_str(&mut tail, &f.to_string_lossy());
    }
    tail.extend((images.skipped.len() as u64).to_le_bytes());
    for s in &images.skipped {
        put_str(&mut tail, &s.path.to_string_lossy());
        put_str(&mut tail, &s.reason);
    }
    (head, tail)
}

fn put_str(p: &mut Vec<u8>, s: &str) {
    p.extend((s.len() as u32).to_le_bytes());
    p.extend(s.as_bytes());
}

/// Everything of a payload but its pixels (left empty), and where the pixels are in it.
fn decode_around_pixels(payload: &[u8]) -> Option<(CachedImages, Range<usize>)> {
    let mut r = Reader { bytes: payload };
    let n = usize::try_from(r.u64()?).ok()?;
    let size = r.u32()?;
    let labels = (0..n).map(|_| r.u32()).collect::<Option<Vec<_>>>()?;
    let npix = n.checked_mul(size as usize)?.checked_mul(size as usize)?;
    let start = payload.len() - r.bytes.len();
    r.take(npix)?;
    let nfiles = usize::try_from(r.u64()?).ok()?;
    let files = (0..nfiles)
        .map(|_| r.string().map(PathBuf::from))
        .collect::<Option<Vec<_>>>()?;
    let nskipped = usize::try_from(r.u64()?).ok()?;
    let skipped = (0..nskipped)
        .map(|_| {
            Some(Unreadable {
                path: PathBuf::from(r.string()?),
                reason: r.string()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let images = CachedImages {
        size,
        labels,
        pixels: Vec::new(),
        files,
        skipped,
    };
    (r.bytes.is_empty() && images.files.len() == n).then_some((images, start..start + npix))
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.bytes.len() < n {
            return None;
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(head)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

/// A temporary-file builder whose file is created with mode 0666 less the umask, as
/// `std::fs::File::create` would: tempfile's default 0600 would survive the rename and keep
/// every result file (and a cache shared by a lab group) unreadable to anyone else.
pub(crate) fn shared_builder<'a>() -> tempfile::Builder<'a, 'a> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CachedImages {
        CachedImages {
            size: 2,
            labels: vec![0, 1],
            pixels: vec![1, 2, 3, 4, 5, 6, 7, 8],
            files: vec!["a/x.png".into(), "b/y.png".into()],
            skipped: vec![Unreadable {
                path: "b/bad.png".into(),
                reason: "truncated".into(),
            }],
        }
    }

    #[test]
    fn round_trip_and_every_kind_of_damage_is_a_miss() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.bin");
        let key = CacheKey([7; 32]);
        assert_eq!(read(&path, key), Err(CacheMiss::Absent));
        write(&path, key, &sample())?;
        assert_eq!(read(&path, key), Ok(sample()));
        assert!(matches!(
            read(&path, CacheKey([8; 32])),
            Err(CacheMiss::Invalid(_))
        ));

        let good = std::fs::read(&path)?;
        let mut flipped = good.clone();
        flipped[HEADER + 13] ^= 0xff; // a pixel byte
        std::fs::write(&path, &flipped)?;
        assert_eq!(
            read(&path, key),
            Err(CacheMiss::Invalid("checksum mismatch".into()))
        );
        std::fs::write(&path, &good[..good.len() - 5])?;
        assert!(matches!(read(&path, key), Err(CacheMiss::Invalid(_))));
        std::fs::write(&path, b"garbage")?;
        assert!(matches!(read(&path, key), Err(CacheMiss::Invalid(_))));
        Ok(())
    }

    /// Issue 32: a cache file was mode 0600, so a cache folder shared by a lab group failed for
    /// all but its writer. It gets the mode `File::create` gives beside it.
    #[cfg(unix)]
    #[test]
    fn a_cache_file_gets_the_mode_the_umask_allows() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("c.bin");
        write(&path, CacheKey([7; 32]), &sample())?;
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe)?;
        let mode = |p: &Path| -> std::io::Result<u32> {
            Ok(std::fs::metadata(p)?.permissions().mode() & 0o777)
        };
        assert_eq!(mode(&path)?, mode(&probe)?);
        Ok(())
    }
}
