//! A grid file expanded into runs: the cartesian product of its `[grid]` axes, each cell merged
//! into the base settings, resolved, validated and given a stable id.

use std::path::{Path, PathBuf};

use cxr_results::axes::{setting_of, AxisValue};
use serde::Deserialize;
use toml::{Table, Value};

use crate::config::RunConfig;
use crate::error::{ExperimentError, Result};
use crate::raw::RawRun;
use crate::resolve::{Overrides, Resolver};
use crate::toml_error::one_line;

/// One expanded run.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// Position in the expansion (0-based; `cxr sweep --cell N`).
    pub index: usize,
    /// Stable run id ([`RunConfig::run_id`]).
    pub id: String,
    /// The resolved settings.
    pub config: RunConfig,
    /// This run's value on each axis, in axis order.
    pub axes: Vec<AxisValue>,
}

/// A grid file, expanded.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The grid's name (its results folder).
    pub name: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// Axis names (setting paths) in file order.
    pub axes: Vec<String>,
    /// Distinct runs, in expansion order (last axis varies fastest).
    pub runs: Vec<PlannedRun>,
    /// Things the expansion decided that a user should see (e.g. CNN freeze cells folded).
    pub notes: Vec<String>,
}

impl Grid {
    /// Reads and expands the grid file at `path`.
    pub fn from_file(path: &Path, overrides: &Overrides) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path, overrides)
    }

    /// Expands grid `text` as if read from `path` (relative paths resolve against its folder).
    pub fn from_toml(text: &str, path: &Path, overrides: &Overrides) -> Result<Self> {
        let parse_err = |message: String| ExperimentError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let mut doc: Table = toml::from_str(text).map_err(|e| parse_err(one_line(&e, text)))?;
        let axes = match doc.remove("grid") {
            None => Vec::new(),
            Some(Value::Table(t)) => t.into_iter().collect::<Vec<_>>(),
            Some(_) => {
                return Err(parse_err(
                    "`grid` must be a table of axes: [grid] model = [...]".into(),
                ))
            }
        };
        // The base document alone must already be free of unknown keys, with file positions.
        toml::from_str::<RawRun>(text_without_grid(text).as_str())
            .map_err(|e| parse_err(one_line(&e, text)))?;

        let mut axis_names = Vec::new();
        let mut axis_values = Vec::new();
        for (key, value) in axes {
            let setting = setting_of(&key).to_string();
            let values = match value {
                Value::Array(v) if v.is_empty() => {
                    return Err(parse_err(format!(
                        "grid axis `{key}` is empty: list at least one value"
                    )))
                }
                Value::Array(v) => v,
                scalar => vec![scalar],
            };
            if let Some(bad) = values
                .iter()
                .find(|v| matches!(v, Value::Array(_) | Value::Table(_)))
            {
                return Err(parse_err(format!(
                    "grid axis `{key}`: values must be scalars, found {bad}"
                )));
            }
            for value in &values {
                check_value(&setting, value).map_err(|message| ExperimentError::Invalid {
                    path: path.to_path_buf(),
                    setting: setting.clone(),
                    value: value.to_string(),
                    message,
                })?;
            }
            axis_names.push(setting);
            axis_values.push(values);
        }

        let base_dir = path.parent().unwrap_or(Path::new("."));
        let resolver = Resolver {
            file: path,
            base_dir,
            overrides,
        };
        let fold = axis_names
            .iter()
            .any(|a| a == "model.name" || a == "model.freeze");
        let mut runs: Vec<PlannedRun> = Vec::new();
        let mut folded: Vec<String> = Vec::new();
        for cell in cartesian(&axis_values) {
            let mut table = doc.clone();
            let mut axes = Vec::new();
            for (name, value) in axis_names.iter().zip(&cell) {
                set_path(&mut table, name)
                    .map_err(|m| parse_err(format!("grid axis `{name}`: {m}")))?
                    .clone_from(value);
                axes.push(AxisValue {
                    setting: name.clone(),
                    value: display(value),
                });
            }
            let raw = RawRun::deserialize(Value::Table(table)).map_err(|e| {
                parse_err(format!("grid cell {}: {}", show_cell(&axes), e.message()))
            })?;
            let (config, was_folded) = resolver.resolve(raw, fold)?;
            let id = config.run_id()?;
            if was_folded {
                folded.push(show_cell(&axes));
            }
            if runs.iter().any(|r| r.id == id) {
                continue;
            }
            runs.push(PlannedRun {
                index: runs.len(),
                id,
                config,
                axes,
            });
        }
        let mut notes = Vec::new();
        if !folded.is_empty() {
            notes.push(format!(
                "cnn has no stages to freeze: {} run as freeze = 0 (once per other setting)",
                folded.join("; ")
            ));
        }
        let name = runs
            .first()
            .map(|r| r.config.grid.clone())
            .unwrap_or_default();
        Ok(Grid {
            name,
            path: path.to_path_buf(),
            axes: axis_names,
            runs,
            notes,
        })
    }
}

/// The grid file's text with its `[grid]` table removed, to validate the base with positions.
fn text_without_grid(text: &str) -> String {
    let mut out = String::new();
    let mut in_grid = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            in_grid = t.starts_with("[grid]") || t.starts_with("[grid.");
        }
        if in_grid {
            out.push('\n'); // keep line numbers
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn show_cell(axes: &[AxisValue]) -> String {
    axes.iter()
        .map(|a| format!("{}={}", a.setting, a.value))
        .collect::<Vec<_>>()
        .join(", ")
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Checks one axis value alone against the raw schema, so that an unknown setting or a bad
/// value is reported once, naming the axis, rather than as the first grid cell that fails.
fn check_value(setting: &str, value: &Value) -> std::result::Result<(), String> {
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
fn cartesian(axes: &[Vec<Value>]) -> Vec<Vec<Value>> {
    axes.iter().fold(vec![Vec::new()], |acc, values| {
        acc.iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect()
    })
}
