//! The published weights cxr knows: torchvision's ImageNet ResNet files, their names and URLs,
//! and any more listed in an index file (`$CXR_WEIGHTS_INDEX`), e.g. an institution's own
//! backbones on its mirror.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cxr_models::ModelKind;

use crate::error::{Result, WeightsError};

/// Where torchvision publishes its weights.
const TORCHVISION_BASE: &str = "https://download.pytorch.org/models";

/// The variant `"imagenet"` stands for.
const DEFAULT_VARIANT: &str = "IMAGENET1K_V1";

/// The environment variable naming a mirror to download from instead of torchvision's server
/// (read by the CLI, as its `--weights-mirror`).
pub const MIRROR_ENV: &str = "CXR_WEIGHTS_MIRROR";

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

/// One published weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// The architecture these weights are for.
    pub model: ModelKind,
    /// Who publishes them: `torchvision`, or an index file's name prefix.
    pub namespace: &'static str,
    /// The publisher's name of the weights, e.g. `IMAGENET1K_V1`.
    pub variant: &'static str,
    /// The file name on the server and in the cache, e.g. `resnet18-f37072fd.pth`.
    pub file: &'static str,
    /// The start of the file's SHA-256 (hex), as carried in its name, e.g. `f37072fd` (or
    /// the whole digest, as an index may give it).
    pub sha256_prefix: &'static str,
    /// Where the publisher serves the file (a mirror replaces it).
    pub base_url: &'static str,
}

/// Every published file cxr knows (from torchvision's `models/resnet.py`, `ResNet*_Weights`).
pub const PUBLISHED: &[Published] = &[
    Published {
        model: ModelKind::Resnet18,
        namespace: "torchvision",
        variant: "IMAGENET1K_V1",
        file: "resnet18-f37072fd.pth",
        sha256_prefix: "f37072fd",
        base_url: TORCHVISION_BASE,
    },
    Published {
        model: ModelKind::Resnet34,
        namespace: "torchvision",
        variant: "IMAGENET1K_V1",
        file: "resnet34-b627a593.pth",
        sha256_prefix: "b627a593",
        base_url: TORCHVISION_BASE,
    },
    Published {
        model: ModelKind::Resnet50,
        namespace: "torchvision",
        variant: "IMAGENET1K_V1",
        file: "resnet50-0676ba61.pth",
        sha256_prefix: "0676ba61",
        base_url: TORCHVISION_BASE,
    },
    Published {
        model: ModelKind::Resnet50,
        namespace: "torchvision",
        variant: "IMAGENET1K_V2",
        file: "resnet50-11ad3fa6.pth",
        sha256_prefix: "11ad3fa6",
        base_url: TORCHVISION_BASE,
    },
];

impl Published {
    /// The name that selects exactly this file, e.g. `torchvision:IMAGENET1K_V1`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.namespace, self.variant)
    }

    /// The URL to download from: `<mirror>/<file>`, or the publisher's server without a
    /// mirror. A trailing `/` on the mirror is ignored.
    pub fn url(&self, mirror: Option<&str>) -> String {
        let base = mirror.unwrap_or(self.base_url).trim_end_matches('/');
        format!("{base}/{}", self.file)
    }

    /// How error messages and logs name this file, e.g.
    /// `resnet18 ImageNet weights (torchvision:IMAGENET1K_V1)`.
    pub(crate) fn label(&self) -> String {
        let kind = if self.variant.starts_with("IMAGENET") {
            "ImageNet weights"
        } else {
            "weights"
        };
        format!("{} {kind} ({})", self.model, self.id())
    }
}

/// Looks up `name` for `model`: `"imagenet"` (the default ImageNet variant, `IMAGENET1K_V1`),
/// `"torchvision:<VARIANT>"` (`IMAGENET1K_V1`; `IMAGENET1K_V2` for resnet50 only), or a name
/// from the index file (`$CXR_WEIGHTS_INDEX`). Case does not matter. The error lists the names
/// `model` has (the CNN has none unless an index gives it some).
pub fn lookup(model: ModelKind, name: &str) -> Result<&'static Published> {
    let registry = registry()?;
    let wanted = name.trim();
    let (namespace, variant) = if wanted.eq_ignore_ascii_case("imagenet") {
        ("torchvision", DEFAULT_VARIANT)
    } else {
        wanted.split_once(':').unwrap_or(("", wanted))
    };
    registry
        .iter()
        .find(|p| {
            p.model == model
                && p.namespace.eq_ignore_ascii_case(namespace)
                && p.variant.eq_ignore_ascii_case(variant)
        })
        .ok_or_else(|| WeightsError::UnknownName {
            model,
            name: name.to_string(),
            known: names_of(registry, model),
        })
}

/// The names [`lookup`] accepts for `model`, `"imagenet"` first when torchvision has some.
fn names_of(registry: &[Published], model: ModelKind) -> Vec<String> {
    let ids: Vec<String> = registry
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

/// Whether a `weights = "..."` string is meant as a published name rather than a file path:
/// `"imagenet"`, or `"<publisher>:<variant>"` for `torchvision` or a publisher of the index
/// file (in any case).
pub fn is_published_name(name: &str) -> bool {
    let name = name.trim();
    if name.eq_ignore_ascii_case("imagenet") {
        return true;
    }
    let Some((namespace, _)) = name.split_once(':') else {
        return false;
    };
    let known = |ns: &str| ns.eq_ignore_ascii_case(namespace);
    known("torchvision") || registry().is_ok_and(|r| r.iter().any(|p| known(p.namespace)))
}

/// Every published file: torchvision's, then the index file's (read once per process).
pub fn registry() -> Result<&'static [Published]> {
    static REGISTRY: OnceLock<std::result::Result<Vec<Published>, (PathBuf, String)>> =
        OnceLock::new();
    let loaded = REGISTRY.get_or_init(|| {
        let mut all = PUBLISHED.to_vec();
        if let Some(path) = std::env::var_os(INDEX_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            all.extend(read_index(&path).map_err(|message| (path, message))?);
        }
        Ok(all)
    });
    match loaded {
        Ok(all) => Ok(all),
        Err((path, message)) => Err(WeightsError::Index {
            path: path.clone(),
            message: message.clone(),
        }),
    }
}

/// One `[[weights]]` entry of an index file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexEntry {
    name: String,
    model: ModelKind,
    url: String,
    sha256: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    weights: Vec<IndexEntry>,
}

/// The published files an index file lists (strings leaked: read once per process).
fn read_index(path: &Path) -> std::result::Result<Vec<Published>, String> {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let index: IndexFile = toml::from_str(&text).map_err(|e| e.message().to_string())?;
    index
        .weights
        .iter()
        .map(|e| {
            let (namespace, variant) = e
                .name
                .split_once(':')
                .filter(|(ns, v)| !ns.is_empty() && !v.is_empty())
                .ok_or_else(|| {
                    format!("name {:?}: write it as \"<publisher>:<variant>\"", e.name)
                })?;
            let (base, file) = e
                .url
                .rsplit_once('/')
                .filter(|(_, file)| !file.is_empty())
                .ok_or_else(|| {
                    format!("{}: url {:?} does not end in a file name", e.name, e.url)
                })?;
            let sha = e.sha256.trim().to_ascii_lowercase();
            if sha.len() < 8 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "{}: sha256 must be the file's SHA-256 in hex (at least 8 digits)",
                    e.name
                ));
            }
            Ok(Published {
                model: e.model,
                namespace: leak(namespace),
                variant: leak(variant),
                file: leak(file),
                sha256_prefix: leak(&sha),
                base_url: leak(base),
            })
        })
        .collect()
}

/// The hash prefix a torchvision-style file name carries (`resnet18-f37072fd.pth` ->
/// `f37072fd`): the lowercase hex between the last `-` and the first `.` after it, as torch.hub's
/// `HASH_REGEX` finds it. `None` when the name has no such part.
pub(crate) fn hash_prefix_in_name(file: &str) -> Option<&str> {
    let (_, tail) = file.rsplit_once('-')?;
    let (hash, _) = tail.split_once('.')?;
    let is_hex = hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (!hash.is_empty() && is_hex).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_name_carries_its_prefix_and_model() {
        for p in PUBLISHED {
            assert_eq!(hash_prefix_in_name(p.file), Some(p.sha256_prefix), "{p:?}");
            assert!(p.file.starts_with(&format!("{}-", p.model)), "{p:?}");
            assert_eq!(p.sha256_prefix.len(), 8, "{p:?}");
        }
    }

    #[test]
    fn urls_are_torchvisions_or_the_mirrors() -> Result<()> {
        let p = lookup(ModelKind::Resnet18, "imagenet")?;
        assert_eq!(
            p.url(None),
            "https://download.pytorch.org/models/resnet18-f37072fd.pth"
        );
        assert_eq!(
            p.url(Some("http://mirror.lan/w/")),
            "http://mirror.lan/w/resnet18-f37072fd.pth"
        );
        assert_eq!(
            p.url(Some("http://mirror.lan/w")),
            "http://mirror.lan/w/resnet18-f37072fd.pth"
        );
        assert_eq!(p.id(), "torchvision:IMAGENET1K_V1");
        Ok(())
    }

    #[test]
    fn lookup_resolves_every_accepted_name() -> Result<()> {
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
            assert_eq!(lookup(model, name)?.file, file, "{model} {name:?}");
        }
        Ok(())
    }

    #[test]
    fn lookup_errors_list_the_models_names_on_one_line() {
        let msg = |model, name| {
            lookup(model, name)
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
        for name in [
            "imagenet",
            "ImageNet",
            "torchvision:IMAGENET1K_V2",
            "torchvision:nope",
        ] {
            assert!(is_published_name(name), "{name}");
        }
        for name in [
            "resnet18-f37072fd.pth",
            "weights/imagenet.pth",
            "",
            "torchvision",
        ] {
            assert!(!is_published_name(name), "{name}");
        }
    }

    #[test]
    fn hash_prefixes_are_found_as_torch_hub_finds_them() {
        assert_eq!(
            hash_prefix_in_name("resnet50-0676ba61.pth"),
            Some("0676ba61")
        );
        assert_eq!(hash_prefix_in_name("my-net-00ff.safetensors"), Some("00ff"));
        assert_eq!(hash_prefix_in_name("resnet18.pth"), None);
        assert_eq!(hash_prefix_in_name("resnet18-final.pth"), None);
        assert_eq!(hash_prefix_in_name("resnet18-F37072FD.pth"), None);
        assert_eq!(hash_prefix_in_name("resnet18-.pth"), None);
    }
}
