//! The architectures this crate builds, by the names configs and the CLI use.

use std::fmt;
use std::str::FromStr;

use crate::error::ModelError;

/// A model architecture. Serialised as its [`ModelKind::name`]; deserialised from any spelling
/// [`FromStr`] accepts (`ResNet18` too), an unknown name listing the known ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// The reference study's handcrafted five-layer CNN (never pretrained, cannot be frozen).
    Cnn,
    /// torchvision's ResNet18 (BasicBlocks, stages of 2, 2, 2, 2).
    Resnet18,
    /// torchvision's ResNet34 (BasicBlocks, stages of 3, 4, 6, 3).
    Resnet34,
    /// torchvision's ResNet50 (Bottlenecks, stages of 3, 4, 6, 3).
    Resnet50,
}

impl ModelKind {
    /// Every kind, in the order they are listed to users.
    pub const ALL: [ModelKind; 4] = [Self::Cnn, Self::Resnet18, Self::Resnet34, Self::Resnet50];

    /// Every kind's name, in [`ModelKind::ALL`]'s order.
    pub const NAMES: [&'static str; 4] = {
        let mut names = [""; 4];
        let mut i = 0;
        while i < names.len() {
            names[i] = Self::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The lowercase name used in configs and run ids (`"resnet18"`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Cnn => "cnn",
            Self::Resnet18 => "resnet18",
            Self::Resnet34 => "resnet34",
            Self::Resnet50 => "resnet50",
        }
    }

    /// Whether this is a ResNet, i.e. can load ImageNet weights and be frozen.
    pub fn is_resnet(self) -> bool {
        !matches!(self, Self::Cnn)
    }

    /// The deepest freeze this architecture accepts: 4 for ResNets (stem and all four stages),
    /// 0 for the CNN.
    pub fn max_freeze(self) -> usize {
        if self.is_resnet() {
            4
        } else {
            0
        }
    }

    /// The freeze depth that fixes the whole backbone: 4 for ResNets (the same as
    /// [`ModelKind::max_freeze`]), 5 for the CNN (its five blocks). Only classic heads, fitted
    /// on the frozen backbone's pooled features, take the CNN's: a CNN trained end to end has
    /// no stages to freeze.
    pub fn full_freeze(self) -> usize {
        if self.is_resnet() {
            4
        } else {
            5
        }
    }

    /// Length of the pooled feature vector `fc` reads: 2048 for ResNet50, 512 otherwise.
    pub fn feature_dim(self) -> usize {
        match self {
            Self::Resnet50 => 2048,
            _ => 512,
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == wanted)
            .ok_or_else(|| ModelError::UnknownKind(s.to_string()))
    }
}

impl<'de> serde::Deserialize<'de> for ModelKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        text.parse()
            .map_err(|_| serde::de::Error::unknown_variant(&text, &Self::NAMES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() -> crate::Result<()> {
        for kind in ModelKind::ALL {
            assert_eq!(kind.to_string().parse::<ModelKind>()?, kind);
        }
        assert_eq!("ResNet18".parse::<ModelKind>()?, ModelKind::Resnet18);
        Ok(())
    }

    #[test]
    fn serde_uses_the_same_names() -> Result<(), serde::de::value::Error> {
        use serde::de::IntoDeserializer;
        use serde::Deserialize;
        let kind = ModelKind::deserialize("resnet34".into_deserializer())?;
        assert_eq!(kind, ModelKind::Resnet34);
        let kind = ModelKind::deserialize("ResNet34".into_deserializer())?;
        assert_eq!(kind, ModelKind::Resnet34, "any case, as FromStr");
        Ok(())
    }

    #[test]
    fn serde_lists_the_names_for_an_unknown_one() {
        use serde::de::IntoDeserializer;
        use serde::Deserialize;
        let err: Result<ModelKind, serde::de::value::Error> =
            ModelKind::deserialize("vgg16".into_deserializer());
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg,
            "unknown variant `vgg16`, expected one of `cnn`, `resnet18`, `resnet34`, `resnet50`"
        );
    }

    #[test]
    fn unknown_name_is_an_error() {
        let err = "resnet19".parse::<ModelKind>().err();
        assert!(matches!(err, Some(ModelError::UnknownKind(name)) if name == "resnet19"));
    }
}
