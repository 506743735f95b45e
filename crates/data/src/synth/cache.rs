//! The built-in synthetic set, generated once per settings into the cache folder and reused by
//! every run (and every process) that asks for the same settings.

use std::path::{Path, PathBuf};

use super::{write_synthetic, SynthConfig, GENERATOR_VERSION};
use crate::error::{DataError, Result};

/// The synthetic set for these settings under `cache_dir/synthetic/`, generated if absent.
/// Generation writes to a temporary folder renamed into place, so an interrupted generation is
/// never mistaken for a complete one.
pub fn cached_root(per_class: usize, size: u32, seed: u64, cache_dir: &Path) -> Result<PathBuf> {
    let name = format!("v{GENERATOR_VERSION}-{per_class}x{size}-seed{seed}");
    let dir = cache_dir.join("synthetic").join(name);
    if dir.join("README.md").is_file() {
        return Ok(dir);
    }
    let parent = cache_dir.join("synthetic");
    std::fs::create_dir_all(&parent).map_err(DataError::io(&parent))?;
    // 0777 less the umask, as `create_dir` would: tempfile's 0700 would survive the rename and
    // keep the set from the other users of a shared cache.
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o777));
    }
    let tmp = builder
        .prefix(".tmp-")
        .tempdir_in(&parent)
        .map_err(DataError::io(&parent))?;
    let cfg = SynthConfig {
        per_class,
        size,
        seed,
        ..SynthConfig::default()
    };
    write_synthetic(tmp.path(), &cfg)?;
    let staged = tmp.keep();
    match std::fs::rename(&staged, &dir) {
        Ok(()) => Ok(dir),
        // Another process generated the same set meanwhile: theirs is identical, use it.
        Err(_) if dir.join("README.md").is_file() => {
            let _ = std::fs::remove_dir_all(&staged);
            Ok(dir)
        }
        Err(source) => Err(DataError::Io { path: dir, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_then_reuses_and_leaves_no_staging_folder() -> Result<(), Box<dyn std::error::Error>>
    {
        let cache = tempfile::tempdir()?;
        let root = cached_root(1, 32, 5, cache.path())?;
        assert_eq!(
            root,
            cache
                .path()
                .join("synthetic")
                .join(format!("v{GENERATOR_VERSION}-1x32-seed5"))
        );
        assert!(root.join("README.md").is_file());
        assert_eq!(cached_root(1, 32, 5, cache.path())?, root);
        let entries: Vec<_> = std::fs::read_dir(cache.path().join("synthetic"))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(entries, [root.file_name().unwrap_or_default().to_owned()]);
        Ok(())
    }

    #[test]
    fn a_bad_setting_is_a_data_error_and_caches_nothing() -> Result<(), Box<dyn std::error::Error>>
    {
        let cache = tempfile::tempdir()?;
        let err = cached_root(1, 8, 0, cache.path()).err();
        assert!(
            matches!(
                err,
                Some(DataError::InvalidSetting {
                    setting: "size",
                    ..
                })
            ),
            "{err:?}"
        );
        assert_eq!(
            std::fs::read_dir(cache.path().join("synthetic"))?.count(),
            0
        );
        Ok(())
    }
}
