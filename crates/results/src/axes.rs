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

/// The message for a grid axis that names no setting, from the message the settings' parser
/// gave (`unknown field `lrr`, expected one of `lr`, ...`): the axes that exist, and the closest
/// one when it is a likely typo. `None` when the parser's message is about something else.
pub fn unknown_axis(key: &str, setting: &str, parser_message: &str) -> Option<String> {
    let unknown = parser_message
        .strip_prefix("unknown field `")?
        .split('`')
        .next()?;
    let (section, _) = setting.rsplit_once('.').unwrap_or(("", setting));
    let first = setting.split('.').next().unwrap_or(setting);
    if section.is_empty() || unknown == first {
        // Not a setting of any section: the short names, and how dotted settings look.
        let names: Vec<String> = AXIS_ALIASES.iter().map(|(a, _)| a.to_string()).collect();
        let nearest = closest(key, &names);
        return Some(format!(
            "grid axis `{key}` is not a setting: axes are {}, or a dotted setting such as \
             `train.lr` or `data.image_size`{}",
            names.join(", "),
            nearest.map_or(String::new(), |c| format!("; did you mean `{c}`?"))
        ));
    }
    let candidates: Vec<String> = expected_fields(parser_message)
        .into_iter()
        .map(|f| format!("{section}.{f}"))
        .collect();
    let nearest = closest(setting, &candidates);
    Some(format!(
        "grid axis `{key}` is not a setting: the axes of `{section}` are {}{}",
        candidates.join(", "),
        nearest.map_or(String::new(), |c| format!("; did you mean `{c}`?"))
    ))
}

/// The field names of serde's "expected one of `a`, `b`" (or "expected `a`").
fn expected_fields(message: &str) -> Vec<String> {
    let Some((_, list)) = message.split_once("expected ") else {
        return Vec::new();
    };
    list.split(", ")
        .filter_map(|f| f.split('`').nth(1))
        .map(str::to_string)
        .collect()
}

/// The candidate within two edits of `typed` (the nearest), if any.
fn closest<'a>(typed: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(typed, c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance between `a` and `b`, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelled_axis_is_told_the_axes() {
        let top = "unknown field `modle`, expected one of `name`, `data`, `model`, `train`";
        let msg = unknown_axis("modle", "modle", top).unwrap_or_default();
        assert!(msg.contains("axes are model, freeze"), "{msg}");
        assert!(msg.ends_with("did you mean `model`?"), "{msg}");
        assert!(!msg.contains("`name`"), "not the top-level keys: {msg}");
        let section = "unknown field `lrr`, expected one of `lr`, `batch_size`, `max_epochs`";
        let msg = unknown_axis("train.lrr", "train.lrr", section).unwrap_or_default();
        assert!(
            msg.contains("the axes of `train` are train.lr, train.batch_size, train.max_epochs"),
            "{msg}"
        );
        assert!(msg.ends_with("did you mean `train.lr`?"), "{msg}");
        let msg = unknown_axis(
            "trian.lr",
            "trian.lr",
            "unknown field `trian`, expected `x`",
        )
        .unwrap_or_default();
        assert!(msg.contains("axes are model"), "{msg}");
        assert_eq!(unknown_axis("train.lr", "train.lr", "invalid type"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

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
