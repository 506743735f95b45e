//! Grid axes: the short names a grid file may use for settings, and a run's value on each axis.
//! Defined here once, at the bottom of the stack: `cxr-experiment` expands a grid's axes with
//! these types (and re-exports them), the trainer records a run's axes in its summary and the
//! report reads them back to group runs.

use std::fmt;

/// Short axis names and the settings they stand for.
pub const AXIS_ALIASES: [(&str, &str); 6] = [
    ("model", "model.name"),
    ("freeze", "model.freeze"),
    ("seed", "seed"),
    ("weights", "model.weights"),
    ("head", "model.head"),
    ("fold", "split.fold"),
];

/// The setting of the cross-validation test-fold axis (alias `fold`), which a grid with
/// `[split] folds` varies fastest.
pub const FOLD_SETTING: &str = "split.fold";

/// The setting an axis name stands for: an alias's setting, or the name itself (a dotted path).
pub fn setting_of(axis: &str) -> &str {
    AXIS_ALIASES
        .iter()
        .find(|(alias, _)| *alias == axis)
        .map_or(axis, |(_, setting)| setting)
}

/// Whether every figure of a report already shows this setting (model, frozen stages, head,
/// weights), or pools runs over it as repetitions (seed, cross-validation fold), so it does not
/// set runs apart as a facet.
pub fn is_always_shown(setting: &str) -> bool {
    AXIS_ALIASES.iter().any(|(_, s)| *s == setting)
}

/// The name of the linear head (the network's `fc` trained by Adam), in grid files and results.
pub const LINEAR_HEAD: &str = "linear";

/// One run's value on one grid axis.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct AxisValue {
    /// The setting's dotted path (`model.name`, `train.lr`).
    pub setting: String,
    /// Its value in this run, as written in the grid file (strings unquoted).
    pub value: String,
}

impl AxisValue {
    /// `setting = value`.
    pub fn new(setting: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            setting: setting.into(),
            value: value.into(),
        }
    }
}

impl fmt::Display for AxisValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.setting, self.value)
    }
}

/// Axis values as one label, `setting=value` joined by `, ` (empty for none).
pub fn label<'a>(axes: impl IntoIterator<Item = &'a AxisValue>) -> String {
    axes.into_iter()
        .map(AxisValue::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a [`label`] back (the `axes` column of results written before it was structured).
pub fn parse_label(text: &str) -> Vec<AxisValue> {
    text.split(", ")
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => AxisValue::new(k, v),
            None => AxisValue::new(kv, ""),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip() {
        let axes = vec![
            AxisValue::new("model.name", "cnn"),
            AxisValue::new("train.lr", "0.001"),
        ];
        assert_eq!(label(&axes), "model.name=cnn, train.lr=0.001");
        assert_eq!(parse_label(&label(&axes)), axes);
        assert!(parse_label("").is_empty());
        assert_eq!(setting_of("freeze"), "model.freeze");
        assert_eq!(setting_of("train.lr"), "train.lr");
        assert!(is_always_shown("seed") && !is_always_shown("train.lr"));
    }
}
