//! How a [`FindingLabel`] becomes a training target: CheXpert's uncertainty policies
//! ([`Uncertain`]) and the positive-class weighting of the multi-label loss ([`PosWeight`]).
//! Run settings (`[train] uncertain = ...`, `pos_weight = "balanced"`), defined here so the
//! experiment config and the trainer share them.

use crate::findings::FindingLabel;

/// What an uncertain label (CheXpert's `-1`) means to the loss and the metrics: the U-Ignore,
/// U-Zeros and U-Ones policies of Irvin et al. 2019. Written `"ignore" | "zeros" | "ones"`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Uncertain {
    /// U-Ignore: the label is left out, like a missing one.
    #[default]
    Ignore,
    /// U-Zeros: the label counts as negative.
    Zeros,
    /// U-Ones: the label counts as positive.
    Ones,
}

impl Uncertain {
    /// The target `label` trains towards under this policy: `Some(1.0)` positive,
    /// `Some(0.0)` negative, `None` when it is left out (missing, or uncertain under
    /// [`Uncertain::Ignore`]).
    pub fn target(self, label: FindingLabel) -> Option<f32> {
        self.positive(label).map(f32::from)
    }

    /// Whether `label` counts as positive under this policy; `None` when it does not count.
    pub fn positive(self, label: FindingLabel) -> Option<bool> {
        match (label, self) {
            (FindingLabel::Positive, _) | (FindingLabel::Uncertain, Self::Ones) => Some(true),
            (FindingLabel::Negative, _) | (FindingLabel::Uncertain, Self::Zeros) => Some(false),
            (FindingLabel::Missing, _) | (FindingLabel::Uncertain, Self::Ignore) => None,
        }
    }

    /// Whether this is the default, [`Uncertain::Ignore`] (for `skip_serializing_if`, so
    /// configs that never set it keep their run ids).
    pub fn is_ignore(&self) -> bool {
        *self == Self::Ignore
    }
}

/// How the multi-label loss weighs each finding's positive labels. Written `"balanced"`;
/// absent (or `"none"`) is [`PosWeight::None`]. A config field holding it takes
/// `#[serde(default, skip_serializing_if = "PosWeight::is_none")]`, so configs that never set it
/// keep their run ids.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PosWeight {
    /// Every label weighs 1.
    #[default]
    None,
    /// A finding's positives weigh `negatives / positives` of its training films (PyTorch's
    /// `BCEWithLogitsLoss(pos_weight=...)` as its documentation suggests setting it).
    Balanced,
}

impl PosWeight {
    /// Whether this is the default, [`PosWeight::None`].
    pub fn is_none(&self) -> bool {
        *self == Self::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingLabel::{Missing, Negative, Positive, Uncertain as U};

    #[test]
    fn each_policy_maps_the_four_states() {
        let t = |p: Uncertain| [Positive, Negative, U, Missing].map(|l| p.target(l));
        assert_eq!(t(Uncertain::Ignore), [Some(1.0), Some(0.0), None, None]);
        assert_eq!(t(Uncertain::Zeros), [Some(1.0), Some(0.0), Some(0.0), None]);
        assert_eq!(t(Uncertain::Ones), [Some(1.0), Some(0.0), Some(1.0), None]);
    }
}
