//! One grid cell: a combination of one value per axis of a `[grid]` block, merged into the
//! base settings and parsed into a [`RawRun`], with the axis values that name it.

use serde::Deserialize;
use toml::{Table, Value};

use crate::axes::{label, AxisValue, FOLD_SETTING};
use crate::raw::RawRun;
use crate::resolve::MAX_FOLDS;

/// One `[grid]` axis: the setting it varies and the values it takes, in file order.
pub(crate) struct Axis {
    pub setting: String,
    pub values: Vec<Value>,
}

/// One cell's settings, before resolving.
pub(crate) struct Cell {
    /// The base settings with the cell's axis values (and test fold) merged in.
    pub raw: RawRun,
    /// The cell's value on each axis, in axis order (the fold last).
    pub axes: Vec<AxisValue>,
    /// Whether a CNN cell's freeze depth folds to 0: only a grid axis folds (a fixed
    /// `[model] name = "cnn"` with `freeze = 1` is an error).
    pub fold_cnn: bool,
}

/// Every cell of every block, in order (the last axis varies fastest), merged into `base`: a
/// cross-validated cell once per test fold. An error is a message about the grid file.
pub(crate) fn cells(base: &Table, blocks: &[Vec<Axis>]) -> Result<Vec<Cell>, String> {
    let mut out = Vec::new();
    for axes in blocks {
        let fold_cnn = axes
            .iter()
            .any(|a| a.setting == "model.name" || a.setting == "model.freeze");
        for values in cartesian(axes) {
            let mut table = base.clone();
            let mut cell_axes = Vec::new();
            for (axis, value) in axes.iter().zip(values) {
                set_path(&mut table, &axis.setting)
                    .map_err(|m| format!("grid axis `{}`: {m}", axis.setting))?
                    .clone_from(&value);
                cell_axes.push(AxisValue {
                    setting: axis.setting.clone(),
                    value: display(&value),
                });
            }
            for (table, axes) in with_folds(table, cell_axes) {
                let raw = RawRun::deserialize(Value::Table(table))
                    .map_err(|e| format!("grid cell {}: {}", label(&axes), e.message()))?;
                out.push(Cell {
                    raw,
                    axes,
                    fold_cnn,
                });
            }
        }
    }
    Ok(out)
}

/// A merged cell with `split.folds = k` and no `split.fold` as k cells, one per test fold
/// (its axis value appended); any other cell as itself. A fold count outside 2..=MAX_FOLDS is
/// left for the resolver to reject.
fn with_folds(table: Table, axes: Vec<AxisValue>) -> Vec<(Table, Vec<AxisValue>)> {
    let split = table.get("split").and_then(Value::as_table);
    let folds = split
        .and_then(|s| s.get("folds"))
        .and_then(Value::as_integer)
        .and_then(|k| usize::try_from(k).ok())
        .filter(|k| (2..=MAX_FOLDS).contains(k));
    let has_fold = split.is_some_and(|s| s.contains_key("fold"));
    match folds {
        Some(k) if !has_fold => (0..k)
            .map(|fold| {
                let mut table = table.clone();
                if let Some(Value::Table(split)) = table.get_mut("split") {
                    split.insert("fold".into(), Value::Integer(fold as i64));
                }
                let mut axes = axes.clone();
                axes.push(AxisValue::new(FOLD_SETTING, fold.to_string()));
                (table, axes)
            })
            .collect(),
        _ => vec![(table, axes)],
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks one axis value alone against the raw schema, so that an unknown setting or a bad
/// value is reported once, naming the axis, rather than as the first grid cell that fails.
pub(crate) fn check_value(setting: &str, value: &Value) -> std::result::Result<(), String> {
    let mut table = Table::new();
    *set_path(&mut table, setting)? = value.clone();
    RawRun::deserialize(Value::Table(table))
        .map(drop)
        .map_err(|e| e.message().to_string())
}

/// The slot for dotted `path` in `table`, creating intermediate tables.
fn set_path<'a>(table: &'a mut Table, path: &str) -> std::result::Result<&'a mut Value, String> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().ok_or("empty setting name")?;
    let mut t = table;
    for part in parts {
        let entry = t
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        t = match entry {
            Value::Table(inner) => inner,
            _ => return Err(format!("`{part}` is not a table")),
        };
    }
    Ok(t.entry(last.to_string()).or_insert(Value::Boolean(false)))
}

/// Every combination of one value per axis; the last axis varies fastest.
fn cartesian(axes: &[Axis]) -> Vec<Vec<Value>> {
    axes.iter().fold(vec![Vec::new()], |acc, axis| {
        acc.iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect()
    })
}
