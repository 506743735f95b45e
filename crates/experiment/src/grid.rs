//! A grid file expanded into runs: the cartesian product of its `[grid]` axes (or inline
//! `grid = { ... }`), each cell merged into the base settings, resolved, validated and given a
//! stable id. With `[split] folds = k` each cell becomes k runs, one per test fold: the
//! `split.fold` axis, which varies fastest (so a configuration's folds are neighbours in the
//! plan, `--cell` indices and Slurm array tasks) and is added when `[grid]` does not list it.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::axes::{label, setting_of, unknown_axis, AxisValue, FOLD_SETTING};
use serde::Deserialize;
use toml::{Spanned, Table, Value};

use crate::config::RunConfig;
use crate::error::{ExperimentError, Result};
use crate::raw::{RawGrid, RawRun};
use crate::resolve::{normalize, Overrides, Resolver, Sources, MAX_FOLDS};
use crate::toml_error::{line_of, not_toml, one_line};

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
    /// The grids whose runs this grid's runs take their starting weights from (`weights =
    /// { grid = ... }` or `[pretrained.<label>]`), each expanded with its own sources: the
    /// stages a sweep runs first.
    pub sources: Vec<Grid>,
    /// The file's `weights_mirror`: where to download published weights from instead.
    pub weights_mirror: Option<String>,
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
        Self::from_toml_in_chain(text, path, overrides, vec![normalize(path)])
    }

    /// Reads a source grid: `chain` lists the grid files that led to it, to catch cycles.
    pub(crate) fn from_file_in_chain(
        path: &Path,
        overrides: &Overrides,
        chain: Vec<PathBuf>,
    ) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| ExperimentError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_in_chain(&text, path, overrides, chain)
    }

    fn from_toml_in_chain(
        text: &str,
        path: &Path,
        overrides: &Overrides,
        chain: Vec<PathBuf>,
    ) -> Result<Self> {
        let file = GridFile { text, path };
        let (base, grid) = file.parse()?;
        let weights_mirror = base
            .get("weights_mirror")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let mut blocks = grid
            .0
            .into_iter()
            .map(|block| {
                block
                    .0
                    .into_iter()
                    .map(|(key, values)| file.axis(&key, values))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        for block in &mut blocks {
            // Stable: every other axis keeps its file order, the fold goes last.
            block.sort_by_key(|axis| axis.setting == FOLD_SETTING);
        }
        if blocks.is_empty() {
            blocks.push(Vec::new()); // no [grid]: one run of the base settings
        }
        let sources = Sources::new(chain);
        let resolver = Resolver {
            file: path,
            base_dir: path.parent().unwrap_or(Path::new(".")),
            overrides,
            sources: &sources,
        };
        let (runs, folded) = file.expand(&base, &blocks, &resolver)?;
        let mut axes: Vec<String> = Vec::new();
        for axis in blocks.iter().flatten() {
            if !axes.contains(&axis.setting) {
                axes.push(axis.setting.clone());
            }
        }
        let folds_added = runs
            .iter()
            .any(|r| r.axes.iter().any(|a| a.setting == FOLD_SETTING));
        if folds_added && !axes.iter().any(|a| a == FOLD_SETTING) {
            axes.push(FOLD_SETTING.to_string());
        }
        let device_added = runs
            .iter()
            .any(|r| r.axes.iter().any(|a| a.setting == DEVICE_SETTING));
        if device_added && !axes.iter().any(|a| a == DEVICE_SETTING) {
            axes.push(DEVICE_SETTING.to_string());
        }
        Ok(Grid {
            name: runs
                .first()
                .map(|r| r.config.grid.clone())
                .unwrap_or_default(),
            path: path.to_path_buf(),
            axes,
            runs,
            notes: notes(&folded),
            sources: sources.into_grids(),
            weights_mirror,
        })
    }

    /// The grids this grid's runs take weights from and theirs, depth first, each grid once:
    /// what a sweep trains before this grid (a grid after every grid it takes weights from).
    pub fn source_stages(&self) -> Vec<&Grid> {
        let mut out: Vec<&Grid> = Vec::new();
        for source in &self.sources {
            for stage in source.stages() {
                if out.iter().all(|g| g.path != stage.path) {
                    out.push(stage);
                }
            }
        }
        out
    }

    /// [`Grid::source_stages`], then this grid: every stage of a sweep, in order.
    pub fn stages(&self) -> Vec<&Grid> {
        let mut out = self.source_stages();
        out.push(self);
        out
    }
}

/// One `[grid]` axis: the setting it varies and the values it takes, in file order.
struct Axis {
    setting: String,
    values: Vec<Value>,
}

/// The grid file being expanded: its text (for line numbers) and path (for messages).
struct GridFile<'a> {
    text: &'a str,
    path: &'a Path,
}

impl GridFile<'_> {
    fn error(&self, message: String) -> ExperimentError {
        ExperimentError::Parse {
            path: self.path.to_path_buf(),
            message,
        }
    }

    fn error_at(&self, span: Range<usize>, message: String) -> ExperimentError {
        self.error(format!(
            "line {}: {message}",
            line_of(self.text, span.start)
        ))
    }

    /// The file parsed once, unknown keys and bad values rejected with their line: the base
    /// settings as a table (each cell is merged into a copy), and the grid's axes.
    fn parse(&self) -> Result<(Table, RawGrid)> {
        let mut raw: RawRun =
            toml::from_str(self.text).map_err(|e| {
                let message = one_line(&e, self.text);
                self.error(match not_toml(self.text, self.path) {
                    Some(format) => format!("{message} (grid files are TOML, and this looks like {format}: write `key = value` lines under `[section]` headers, as in experiments/*.toml)"),
                    None => message,
                })
            })?;
        let grid = raw.grid.take().unwrap_or_default();
        let base = Table::try_from(&raw)
            .map_err(|e| self.error(format!("cannot merge grid cells into the settings: {e}")))?;
        Ok((base, grid))
    }

    /// Validates one axis: its name stands for a setting, it lists at least one value, and
    /// each value is a scalar the setting accepts (checked alone, so that a bad one is named
    /// once, at its line, rather than by the first grid cell that holds it).
    fn axis(&self, key: &str, values: Spanned<Value>) -> Result<Axis> {
        let span = values.span();
        let setting = setting_of(key).to_string();
        let values = match values.into_inner() {
            Value::Array(v) if v.is_empty() => {
                return Err(self.error_at(
                    span,
                    format!("grid axis `{key}` is empty: list at least one value"),
                ))
            }
            Value::Array(v) => v,
            scalar => vec![scalar],
        };
        for value in &values {
            if matches!(value, Value::Array(_) | Value::Table(_)) {
                return Err(self.error_at(
                    span,
                    format!("grid axis `{key}`: values must be scalars, found {value}"),
                ));
            }
            check_value(&setting, value).map_err(|message| {
                let message = unknown_axis(key, &setting, &message)
                    .unwrap_or_else(|| format!("{setting} = {value} is invalid: {message}"));
                self.error_at(span.clone(), message)
            })?;
        }
        Ok(Axis { setting, values })
    }

    /// Every cell of the cartesian product merged into `base` and resolved; cells that resolve
    /// to an earlier run's settings are dropped. Also returns the cells where the CNN's freeze
    /// was folded to 0.
    fn expand(
        &self,
        base: &Table,
        blocks: &[Vec<Axis>],
        resolver: &Resolver<'_>,
    ) -> Result<(Vec<PlannedRun>, Vec<String>)> {
        let mut runs: Vec<PlannedRun> = Vec::new();
        let mut folded = Vec::new();
        for axes in blocks {
            self.expand_block(base, axes, resolver, &mut runs, &mut folded)?;
        }
        Ok((runs, folded))
    }

    /// Appends one block's cells to `runs` (those not already there).
    fn expand_block(
        &self,
        base: &Table,
        axes: &[Axis],
        resolver: &Resolver<'_>,
        runs: &mut Vec<PlannedRun>,
        folded: &mut Vec<String>,
    ) -> Result<()> {
        // Only a grid axis folds: a fixed `[model] name = "cnn"` with `freeze = 1` is an error.
        let fold_cnn = axes
            .iter()
            .any(|a| a.setting == "model.name" || a.setting == "model.freeze");
        for cell in cartesian(axes) {
            let mut table = base.clone();
            let mut cell_axes = Vec::new();
            for (axis, value) in axes.iter().zip(cell) {
                set_path(&mut table, &axis.setting)
                    .map_err(|m| self.error(format!("grid axis `{}`: {m}", axis.setting)))?
                    .clone_from(&value);
                cell_axes.push(AxisValue {
                    setting: axis.setting.clone(),
                    value: display(&value),
                });
            }
            for (table, cell_axes) in with_folds(table, cell_axes) {
                let raw = RawRun::deserialize(Value::Table(table)).map_err(|e| {
                    self.error(format!("grid cell {}: {}", label(&cell_axes), e.message()))
                })?;
                let (config, was_folded) = resolver.resolve(raw, fold_cnn)?;
                let id = config.run_id()?;
                let mut cell_axes = cell_axes;
                if !config.train.device.is_cpu()
                    && !cell_axes.iter().any(|a| a.setting == DEVICE_SETTING)
                {
                    // A GPU run is its own configuration wherever runs are grouped (report
                    // facets, baseline keys), not only in its id.
                    cell_axes.push(AxisValue {
                        setting: DEVICE_SETTING.to_string(),
                        value: config.train.device.identity().to_string(),
                    });
                }
                // Named once per cell, not once per fold.
                let cell = label(cell_axes.iter().filter(|a| a.setting != FOLD_SETTING));
                if was_folded && !folded.contains(&cell) {
                    folded.push(cell);
                }
                if runs.iter().all(|r| r.id != id) {
                    runs.push(PlannedRun {
                        index: runs.len(),
                        id,
                        config,
                        axes: cell_axes,
                    });
                }
            }
        }
        Ok(())
    }
}

/// The setting a run on a GPU carries as an axis value (`train.device=cuda`), whether or not
/// the grid varies it.
pub const DEVICE_SETTING: &str = "train.device";

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

/// What the expansion decided that the user should hear about.
fn notes(folded: &[String]) -> Vec<String> {
    if folded.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "cnn has no stages to freeze: {} run as freeze = 0 (once per other setting)",
        folded.join("; ")
    )]
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
