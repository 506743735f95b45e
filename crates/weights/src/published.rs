//! One published weights file ([`Published`]) and torchvision's ImageNet ResNet files
//! ([`PUBLISHED`]), the ones cxr knows without an index file (`crate::registry`).

use cxr_models::ModelKind;

/// Where torchvision publishes its weights.
const TORCHVISION_BASE: &str = "https://download.pytorch.org/models";

/// The variant `"imagenet"` stands for.
pub(crate) const DEFAULT_VARIANT: &str = "IMAGENET1K_V1";

/// The environment variable naming a mirror to download from instead of torchvision's server
/// (read by the CLI, as its `--weights-mirror`).
pub const MIRROR_ENV: &str = "CXR_WEIGHTS_MIRROR";

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
    use crate::error::Result;
    use crate::registry::Registry;

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
        let registry = Registry::builtin();
        let p = registry.lookup(ModelKind::Resnet18, "imagenet")?;
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
