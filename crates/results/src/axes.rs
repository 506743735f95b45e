//! Grid axes as results record them: the setting a run varies and its value. The short axis
//! names a grid file may use (`model`, `freeze`, `seed`) are defined here, once, beside the
//! settings every figure already shows, so the grid expansion and the report agree.

/// A run's value on one grid axis, e.g. `train.lr` = `0.001`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AxisValue {
    /// Dotted setting path (`model.name`, `train.lr`); never an alias.
    pub setting: String,
    /// The value as written in the grid file (strings unquoted).
    pub value: String,
}

/// Short axis names a grid file may use, and the settings they stand for.
pub const AXIS_ALIASES: [(&str, &str); 3] = [
    ("model", "model.name"),
    ("freeze", "model.freeze"),
    ("seed", "seed"),
];

/// The setting an axis name stands for: its alias's setting, or the name itself (a dotted path).
pub fn setting_of(axis: &str) -> &str {
    AXIS_ALIASES
        .iter()
        .find(|(alias, _)| *alias == axis)
        .map_or(axis, |(_, setting)| setting)
}

/// Whether every figure already shows `setting`, so it is left out of the facet that tells runs
/// apart: the settings with a short axis name (model, frozen stages, seed).
pub fn is_always_shown(setting: &str) -> bool {
    AXIS_ALIASES.iter().any(|(_, shown)| *shown == setting)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_settings_and_paths_to_themselves() {
        assert_eq!(setting_of("model"), "model.name");
        assert_eq!(setting_of("freeze"), "model.freeze");
        assert_eq!(setting_of("seed"), "seed");
        assert_eq!(setting_of("train.lr"), "train.lr");
    }

    #[test]
    fn only_model_freeze_and_seed_are_always_shown() {
        for setting in ["model.name", "model.freeze", "seed"] {
            assert!(is_always_shown(setting), "{setting}");
        }
        for setting in ["model", "train.lr", "data.image_size", ""] {
            assert!(!is_always_shown(setting), "{setting}");
        }
    }
}
