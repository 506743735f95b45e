//! The published weights one process knows ([`Registry`]): torchvision's ([`PUBLISHED`]) and
//! those an index file lists (`$CXR_WEIGHTS_INDEX`, e.g. an institution's own backbones on its
//! mirror), and the names that select them.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use cxr_models::ModelKind;

use crate::error::{Result, WeightsError};
use crate::index::read_index;
use crate::published::{Published, DEFAULT_VARIANT, PUBLISHED};

/// The environment variable naming an index file of more published weights (TOML):
///
/// ```toml
/// [[weights]]
/// name = "hospital:CHEST_V1"      # what a grid's `weights = "..."` says
/// model = "resnet18"
/// url = "https://models.hospital.example/resnet18-chest.safetensors"
/// sha256 = "<the file's SHA-256, hex; at least its first 8 digits>"
/// ```
pub const INDEX_ENV: &str = "CXR_WEIGHTS_INDEX";

/// The published weights names are looked up in: torchvision's, then an index file's. The CLI
/// loads one ([`Registry::from_env`]) and hands it to everything that looks names up (the grid
/// resolver, the trainer, the cache listing); a library caller without an index uses
/// [`Registry::builtin`] (the [`Default`]).
///
/// An index file that cannot be read does not stop the load: a process that looks no name up
/// (a report, a grid without published weights) runs as it would without the index, and every
/// lookup reports the broken file ([`WeightsError::Index`]), since the names it would give are
/// unknown.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Torchvision's files, then the index file's.
    published: Cow<'static, [Published]>,
    /// The index file that could not be read, and why (one line).
    broken_index: Option<(PathBuf, String)>,
}

/// [`Registry::builtin`], for those that borrow a registry without being given one.
pub(crate) static BUILTIN: Registry = Registry::builtin();

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Registry {
    /// Torchvision's files only ([`PUBLISHED`]).
    pub const fn builtin() -> Self {
        Self {
            published: Cow::Borrowed(PUBLISHED),
            broken_index: None,
        }
    }

    /// Torchvision's files and those the index file at `path` lists (the format of
    /// [`INDEX_ENV`]). An unreadable index is kept as the error every lookup returns.
    pub fn with_index(path: &Path) -> Self {
        match read_index(path) {
            Ok(listed) => Self {
                published: PUBLISHED.iter().copied().chain(listed).collect(),
                broken_index: None,
            },
            Err(message) => Self {
                broken_index: Some((path.to_path_buf(), message)),
                ..Self::builtin()
            },
        }
    }

    /// The registry of the index file `$CXR_WEIGHTS_INDEX` names ([`Registry::with_index`]);
    /// torchvision's files only when it is unset or empty.
    pub fn from_env() -> Self {
        match std::env::var_os(INDEX_ENV).filter(|v| !v.is_empty()) {
            Some(path) => Self::with_index(Path::new(&path)),
            None => Self::builtin(),
        }
    }

    /// Every published file: torchvision's, then the index file's; the index file's error when
    /// it could not be read.
    pub fn published(&self) -> Result<&[Published]> {
        match &self.broken_index {
            None => Ok(&self.published),
            Some((path, message)) => Err(WeightsError::Index {
                path: path.clone(),
                message: message.clone(),
            }),
        }
    }

    /// Looks up `name` for `model`: `"imagenet"` (the default ImageNet variant,
    /// `IMAGENET1K_V1`), `"torchvision:<VARIANT>"` (`IMAGENET1K_V1`; `IMAGENET1K_V2` for
    /// resnet50 only), or a name from the index file. Case does not matter. The error lists the
    /// names `model` has (the CNN has none unless an index gives it some).
    pub fn lookup(&self, model: ModelKind, name: &str) -> Result<&Published> {
        let published = self.published()?;
        let wanted = name.trim();
        let (namespace, variant) = if wanted.eq_ignore_ascii_case("imagenet") {
            ("torchvision", DEFAULT_VARIANT)
        } else {
            wanted.split_once(':').unwrap_or(("", wanted))
        };
        published
            .iter()
            .find(|p| {
                p.model == model
                    && p.namespace.eq_ignore_ascii_case(namespace)
                    && p.variant.eq_ignore_ascii_case(variant)
            })
            .ok_or_else(|| WeightsError::UnknownName {
                model,
                name: name.to_string(),
                known: names_of(published, model),
            })
    }

    /// Whether a `weights = "..."` string is meant as a published name rather than a file
    /// path: `"imagenet"`, or `"<publisher>:<variant>"` for `torchvision` or a publisher of the
    /// index file (in any case; none of the index's when it could not be read).
    pub fn is_published_name(&self, name: &str) -> bool {
        let name = name.trim();
        if name.eq_ignore_ascii_case("imagenet") {
            return true;
        }
        let Some((namespace, _)) = name.split_once(':') else {
            return false;
        };
        let known = |ns: &str| ns.eq_ignore_ascii_case(namespace);
        known("torchvision")
            || self
                .published()
                .is_ok_and(|all| all.iter().any(|p| known(p.namespace)))
    }
}

/// The names [`Registry::lookup`] accepts for `model`, `"imagenet"` first when torchvision has
/// some.
fn names_of(published: &[Published], model: ModelKind) -> Vec<String> {
    let ids: Vec<String> = published
        .iter()
        .filter(|p| p.model == model)
        .map(Published::id)
        .collect();
    let imagenet = PUBLISHED.iter().any(|p| p.model == model);
    imagenet
        .then(|| "imagenet".to_string())
        .into_iter()
        .chain(ids)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_resolves_every_accepted_name() -> Result<()> {
        let registry = Registry::builtin();
        let cases = [
            (ModelKind::Resnet18, "imagenet", "resnet18-f37072fd.pth"),
            (ModelKind::Resnet18, " ImageNet ", "resnet18-f37072fd.pth"),
            (ModelKind::Resnet34, "imagenet", "resnet34-b627a593.pth"),
            (ModelKind::Resnet50, "imagenet", "resnet50-0676ba61.pth"),
            (
                ModelKind::Resnet34,
                "torchvision:IMAGENET1K_V1",
                "resnet34-b627a593.pth",
            ),
            (
                ModelKind::Resnet50,
                "torchvision:imagenet1k_v2",
                "resnet50-11ad3fa6.pth",
            ),
            (
                ModelKind::Resnet50,
                "TorchVision:IMAGENET1K_V2",
                "resnet50-11ad3fa6.pth",
            ),
        ];
        for (model, name, file) in cases {
            assert_eq!(registry.lookup(model, name)?.file, file, "{model} {name:?}");
        }
        Ok(())
    }

    #[test]
    fn lookup_errors_list_the_models_names_on_one_line() {
        let registry = Registry::builtin();
        let msg = |model, name| {
            registry
                .lookup(model, name)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let v2 = msg(ModelKind::Resnet18, "torchvision:IMAGENET1K_V2");
        assert_eq!(
            v2,
            "no published weights \"torchvision:IMAGENET1K_V2\" for resnet18; resnet18 has: \
             imagenet, torchvision:IMAGENET1K_V1"
        );
        let r50 = msg(ModelKind::Resnet50, "imagenet21k");
        assert!(
            r50.ends_with("imagenet, torchvision:IMAGENET1K_V1, torchvision:IMAGENET1K_V2"),
            "{r50}"
        );
        let cnn = msg(ModelKind::Cnn, "imagenet");
        assert!(cnn.contains("the cnn has no published weights"), "{cnn}");
        for m in [v2, r50, cnn] {
            assert!(!m.contains('\n'), "{m}");
        }
    }

    #[test]
    fn published_names_are_told_from_paths() {
        let registry = Registry::builtin();
        for name in [
            "imagenet",
            "ImageNet",
            "torchvision:IMAGENET1K_V2",
            "torchvision:nope",
        ] {
            assert!(registry.is_published_name(name), "{name}");
        }
        for name in [
            "resnet18-f37072fd.pth",
            "weights/imagenet.pth",
            "",
            "torchvision",
        ] {
            assert!(!registry.is_published_name(name), "{name}");
        }
    }

    /// An index file listing `name` for resnet18, served from `host`.
    fn index(dir: &Path, file: &str, name: &str, host: &str) -> std::io::Result<PathBuf> {
        let path = dir.join(file);
        std::fs::write(
            &path,
            format!(
                "[[weights]]\nname = \"{name}\"\nmodel = \"resnet18\"\n\
                 url = \"https://{host}/w/resnet18-chest.safetensors\"\nsha256 = \"0123abcd\"\n"
            ),
        )?;
        Ok(path)
    }

    #[test]
    fn registries_of_different_index_files_coexist(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let a = Registry::with_index(&index(dir.path(), "a.toml", "a:CHEST_V1", "a.example")?);
        let b = Registry::with_index(&index(dir.path(), "b.toml", "b:CHEST_V1", "b.example")?);
        let builtin = Registry::builtin();

        let found = a.lookup(ModelKind::Resnet18, "A:chest_v1")?;
        assert_eq!(
            found.url(None),
            "https://a.example/w/resnet18-chest.safetensors"
        );
        assert_eq!(
            (found.id(), found.sha256_prefix),
            ("a:CHEST_V1".to_string(), "0123abcd")
        );
        assert!(a.is_published_name("a:CHEST_V1") && !a.is_published_name("b:CHEST_V1"));
        assert!(b.is_published_name("b:CHEST_V1") && !b.is_published_name("a:CHEST_V1"));
        assert!(!builtin.is_published_name("a:CHEST_V1"));
        let b_found = b.lookup(ModelKind::Resnet18, "b:CHEST_V1")?;
        assert_eq!(
            b_found.url(None),
            "https://b.example/w/resnet18-chest.safetensors"
        );

        let unknown = b
            .lookup(ModelKind::Resnet18, "a:CHEST_V1")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            unknown.as_deref(),
            Some(
                "no published weights \"a:CHEST_V1\" for resnet18; resnet18 has: imagenet, \
                 torchvision:IMAGENET1K_V1, b:CHEST_V1"
            )
        );
        // Each still has torchvision's files, and the built-in registry only those.
        for r in [&a, &b, &builtin] {
            assert_eq!(
                r.lookup(ModelKind::Resnet18, "imagenet")?.file,
                "resnet18-f37072fd.pth"
            );
        }
        assert_eq!(builtin.published()?.len(), PUBLISHED.len());
        assert_eq!(a.published()?.len(), PUBLISHED.len() + 1);
        Ok(())
    }

    #[test]
    fn a_broken_index_is_reported_by_lookups_only(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("index.toml");
        std::fs::write(&path, "[[weights]]\nname = \"no-colon\"\n")?;
        let broken = Registry::with_index(&path);
        let err = broken
            .lookup(ModelKind::Resnet18, "imagenet")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(&format!(
                "weights index {} (from $CXR_WEIGHTS_INDEX): ",
                path.display()
            )) && err.ends_with("; fix the file or unset the variable"),
            "{err}"
        );
        assert!(broken.published().is_err());
        assert!(broken.is_published_name("torchvision:IMAGENET1K_V1"));
        assert!(!broken.is_published_name("hospital:CHEST_V1"));
        Ok(())
    }
}
