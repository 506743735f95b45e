//! The published weights cxr knows: torchvision's ImageNet ResNet files, their names and URLs.

use cxr_models::ModelKind;

use crate::error::{Result, WeightsError};

/// Where torchvision publishes its weights.
const TORCHVISION_BASE: &str = "https://download.pytorch.org/models";

/// The variant `"imagenet"` stands for.
const DEFAULT_VARIANT: &str = "IMAGENET1K_V1";

/// The environment variable naming a mirror to download from instead of torchvision's server.
pub const MIRROR_ENV: &str = "CXR_WEIGHTS_MIRROR";

/// One published weights file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// The architecture these weights are for.
    pub model: ModelKind,
    /// torchvision's name of the weights, e.g. `IMAGENET1K_V1`.
    pub variant: &'static str,
    /// The file name on the server and in the cache, e.g. `resnet18-f37072fd.pth`.
    pub file: &'static str,
    /// The start of the file's SHA-256 (hex), as carried in its name, e.g. `f37072fd`.
    pub sha256_prefix: &'static str,
}

/// Every published file cxr knows (from torchvision's `models/resnet.py`, `ResNet*_Weights`).
pub const PUBLISHED: &[Published] = &[
    Published {
        model: ModelKind::Resnet18,
        variant: "IMAGENET1K_V1",
        file: "resnet18-f37072fd.pth",
        sha256_prefix: "f37072fd",
    },
    Published {
        model: ModelKind::Resnet34,
        variant: "IMAGENET1K_V1",
        file: "resnet34-b627a593.pth",
        sha256_prefix: "b627a593",
    },
    Published {
        model: ModelKind::Resnet50,
        variant: "IMAGENET1K_V1",
        file: "resnet50-0676ba61.pth",
        sha256_prefix: "0676ba61",
    },
    Published {
        model: ModelKind::Resnet50,
        variant: "IMAGENET1K_V2",
        file: "resnet50-11ad3fa6.pth",
        sha256_prefix: "11ad3fa6",
    },
];

impl Published {
    /// The name that selects exactly this file, e.g. `torchvision:IMAGENET1K_V1`.
    pub fn id(&self) -> String {
        format!("torchvision:{}", self.variant)
    }

    /// The URL to download from: `<mirror>/<file>`, or torchvision's server without a mirror.
    /// A trailing `/` on the mirror is ignored.
    pub fn url(&self, mirror: Option<&str>) -> String {
        let base = mirror.unwrap_or(TORCHVISION_BASE).trim_end_matches('/');
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

/// Looks up `name` for `model`: `"imagenet"` (the default ImageNet variant, `IMAGENET1K_V1`) or
/// `"torchvision:<VARIANT>"` (`IMAGENET1K_V1`; `IMAGENET1K_V2` for resnet50 only). Case does not
/// matter. The error lists the names `model` has (the CNN has none).
pub fn lookup(model: ModelKind, name: &str) -> Result<&'static Published> {
    let wanted = name.trim();
    let variant = if wanted.eq_ignore_ascii_case("imagenet") {
        Some(DEFAULT_VARIANT)
    } else {
        strip_prefix_ignore_case(wanted, "torchvision:")
    };
    variant
        .and_then(|variant| {
            PUBLISHED
                .iter()
                .find(|p| p.model == model && p.variant.eq_ignore_ascii_case(variant))
        })
        .ok_or_else(|| WeightsError::UnknownName {
            model,
            name: name.to_string(),
            known: names_of(model),
        })
}

/// The names [`lookup`] accepts for `model`, `"imagenet"` first.
fn names_of(model: ModelKind) -> Vec<String> {
    let ids = PUBLISHED
        .iter()
        .filter(|p| p.model == model)
        .map(Published::id);
    let ids: Vec<String> = ids.collect();
    if ids.is_empty() {
        return ids;
    }
    std::iter::once("imagenet".to_string()).chain(ids).collect()
}

/// Whether a `weights = "..."` string is meant as a published name rather than a file path:
/// `"imagenet"` or anything starting with `"torchvision:"` (either in any case).
pub fn is_published_name(name: &str) -> bool {
    let name = name.trim();
    name.eq_ignore_ascii_case("imagenet")
        || strip_prefix_ignore_case(name, "torchvision:").is_some()
}

/// The mirror named by `$CXR_WEIGHTS_MIRROR`, when set and not blank.
pub fn mirror_from_env() -> Option<String> {
    std::env::var(MIRROR_ENV)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
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

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
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
