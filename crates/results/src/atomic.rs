//! Writing a file so that no reader ever sees part of it: a temporary file in the same folder,
//! readable as the umask allows, then a rename. Every file of a run or grid folder goes through
//! here; the small JSON records too ([`write_json`], [`read_json`]).

use std::path::Path;

use crate::error::{Result, ResultsError};

/// Writes `record` to `path` as pretty-printed JSON, atomically: the run folder's small JSON
/// files (`preprocessing.json`, `calibration.json`).
pub(crate) fn write_json<T: serde::Serialize>(path: &Path, record: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(record).map_err(|e| ResultsError::Record {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, text.as_bytes())
}

/// Reads a JSON record written by [`write_json`]; a file that does not parse as one is an error
/// naming the file and `what` it should be (`a preprocessing record`).
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(ResultsError::io(path))?;
    serde_json::from_str(&text).map_err(|e| ResultsError::Record {
        path: path.to_path_buf(),
        message: format!("not {what}: {e}"),
    })
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    write_atomic_with(path, |tmp| {
        let mut file = std::fs::File::create(tmp).map_err(ResultsError::io(tmp))?;
        file.write_all(bytes).map_err(ResultsError::io(path))?;
        file.sync_all().map_err(ResultsError::io(path))
    })
}

/// Lets `write` fill a temporary file in `path`'s folder, then renames it to `path`: a reader
/// sees the old file or the whole new one, never a partial one, and a failed `write` leaves
/// nothing behind.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(ResultsError::io(dir))?;
    let tmp = shared_builder()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(ResultsError::io(dir))?
        .into_temp_path();
    // A writer that replaces the file instead of filling it (safetensors' save does) would
    // leave its own mode: the one the umask allowed is put back before the rename.
    let created = std::fs::metadata(&tmp).map(|m| m.permissions());
    write(&tmp)?;
    if let Ok(permissions) = created {
        std::fs::set_permissions(&tmp, permissions).map_err(ResultsError::io(&tmp))?;
    }
    tmp.persist(path)
        .map_err(|e| ResultsError::io(path)(e.error))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_partial_file_is_ever_visible_under_the_final_name(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("model.safetensors");
        std::fs::write(&path, b"old")?;
        let put = |p: &Path, bytes: &[u8]| std::fs::write(p, bytes).map_err(ResultsError::io(p));
        write_atomic_with(&path, |tmp| {
            put(tmp, b"half")?;
            let visible = std::fs::read(&path).map_err(ResultsError::io(&path))?;
            assert_eq!(visible, b"old", "final name changed mid-write");
            put(tmp, b"half and the rest")
        })?;
        assert_eq!(std::fs::read(&path)?, b"half and the rest");

        let failed = write_atomic_with(&path, |tmp| {
            put(tmp, b"partial")?;
            Err(ResultsError::io(tmp)(std::io::Error::other("disk full")))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path)?, b"half and the rest");
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::result::Result<_, _>>()?;
        assert_eq!(names, ["model.safetensors"], "temporary files left behind");
        Ok(())
    }

    /// Issue 32: results were mode 0600 whatever the umask. A file written here gets the mode
    /// `File::create` gives beside it (0644 under umask 022).
    #[cfg(unix)]
    #[test]
    fn written_files_get_the_mode_the_umask_allows(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("summary.parquet");
        write_atomic(&path, b"rows")?;
        let probe = dir.path().join("probe");
        std::fs::File::create(&probe)?;
        let mode = |p: &Path| -> std::io::Result<u32> {
            Ok(std::fs::metadata(p)?.permissions().mode() & 0o777)
        };
        assert_eq!(mode(&path)?, mode(&probe)?);
        Ok(())
    }
}
