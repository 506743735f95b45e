//! `[model]`: the architecture, how many of its stages are frozen, and the head on its
//! features. The weights it starts from are resolved in `weights.rs`, a classic head's
//! hyperparameters in `head.rs`.

use cxr_heads::HeadKind;
use cxr_models::ModelKind;

use super::Resolver;
use crate::config::{ModelSettings, LINEAR_HEAD};
use crate::error::Result;
use crate::raw::{RawFreeze, RawRun};
use crate::split::SplitSettings;

impl Resolver<'_> {
    /// The model of a run with `seed` and `split`; also whether a CNN cell's freeze depth was
    /// folded to 0 (`fold_cnn_freeze`: a grid axis pairs the CNN with depths).
    pub(super) fn model(
        &self,
        raw: &RawRun,
        seed: u64,
        split: &SplitSettings,
        fold_cnn_freeze: bool,
    ) -> Result<(ModelSettings, bool)> {
        let m = raw.model.clone().unwrap_or_default();
        let name = m.name.ok_or_else(|| {
            self.invalid(
                "model.name",
                "(missing)",
                "set [model] name = \"cnn\" or a grid axis model = [...]",
            )
        })?;
        let head = match m.head.as_deref() {
            None | Some(LINEAR_HEAD) => None,
            Some(text) => Some(text.parse::<HeadKind>().map_err(|_| {
                let names: Vec<&str> = HeadKind::ALL.iter().map(|k| k.name()).collect();
                self.invalid(
                    "model.head",
                    text,
                    format!("unknown head: use {LINEAR_HEAD}, {}", names.join(", ")),
                )
            })?),
        };
        let requested = match &m.freeze {
            None => None,
            Some(RawFreeze::Depth(depth)) => Some(*depth),
            Some(RawFreeze::Named(text)) if text == "all" => Some(name.full_freeze()),
            Some(RawFreeze::Named(text)) => {
                return Err(self.invalid(
                    "model.freeze",
                    text,
                    "use a number of frozen stages, or \"all\" for the whole backbone",
                ))
            }
        };
        let (freeze, folded) = match head {
            Some(kind) => (
                self.classic_freeze(name, kind, requested, fold_cnn_freeze)?,
                false,
            ),
            None => self.linear_freeze(name, requested.unwrap_or(0), fold_cnn_freeze)?,
        };
        let weights = self.weights(raw, name, seed, split)?;
        let head = head.map(|kind| self.head_search(raw, kind)).transpose()?;
        Ok((
            ModelSettings {
                name,
                freeze,
                weights,
                head,
            },
            folded,
        ))
    }

    /// The freeze depth of a linear-head run: 0..=4 for a ResNet, 0 for the CNN (a grid cell
    /// pairing the CNN with a depth is folded to 0 when `fold`).
    fn linear_freeze(&self, name: ModelKind, freeze: usize, fold: bool) -> Result<(usize, bool)> {
        if freeze <= name.max_freeze() {
            return Ok((freeze, false));
        }
        if name.is_resnet() {
            return Err(self.invalid(
                "model.freeze",
                freeze,
                format!(
                    "{name} has the stem and 4 stages: allowed range is 0..=4 (4 trains fc only)"
                ),
            ));
        }
        if fold {
            return Ok((0, true));
        }
        let message = if freeze == name.full_freeze() {
            "freezing all of the cnn's blocks is for classic heads (head = \"logistic\", ...), fitted on its frozen features: use 0 to train it, or set a classic head"
        } else {
            "the cnn has no stages to freeze: use 0"
        };
        Err(self.invalid("model.freeze", freeze, message))
    }

    /// The freeze depth of a classic-head run: the whole backbone, whatever the grid cell
    /// pairs it with for the CNN (which has no stages of its own to freeze).
    fn classic_freeze(
        &self,
        name: ModelKind,
        head: HeadKind,
        requested: Option<usize>,
        fold: bool,
    ) -> Result<usize> {
        let full = name.full_freeze();
        match requested {
            None => Ok(full),
            Some(depth) if depth == full => Ok(full),
            Some(_) if fold && !name.is_resnet() => Ok(full),
            Some(depth) => Err(self.invalid(
                "model.freeze",
                depth,
                format!(
                    "a {head} head is fitted on the features of a fully frozen backbone: set freeze = {full} (or \"all\") for the {name}, or head = \"{LINEAR_HEAD}\" to train stages"
                ),
            )),
        }
    }
}
