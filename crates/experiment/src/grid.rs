//! A grid file expanded into runs: the cartesian product of its `[grid]` axes (or inline
//! `grid = { ... }`), each cell merged into the base settings, resolved, validated and given a
//! stable id. With `[split] folds = k` each cell becomes k runs, one per test fold: the
//! `split.fold` axis, which varies fastest (so a configuration's folds are neighbours in the
//! plan, `--cell` indices and Slurm array tasks) and is added when `[grid]` does not list it.
//!
//! The grids its runs take weights from are read and expanded first, each once and with its
//! own sources, and the runs are resolved against them (`sources.rs`).

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::{Spanned, Table, Value};

use crate::axes::{label, setting_of, unknown_axis, AxisValue, FOLD_SETTING};
use crate::cell::{cells, check_value, Axis, Cell};
use crate::config::Weights;
use crate::error::{ExperimentError, Result};
use crate::planned_run::PlannedRun;
use crate::raw::{RawGrid, RawRun};
use crate::resolve::{normalize, random_by_choice, source_grid, Overrides, Resolver};
use crate::sources::{Chain, SourceGrid, SourceGrids};
use crate::toml_error::{line_of, not_toml, one_line};

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
        Self::from_toml_in_chain(text, path, overrides, Chain::start(normalize(path)))
    }

    /// Reads a source grid: `chain` lists the grid files that led to it, to catch cycles.
    fn from_file_in_chain(path: &Path, overrides: &Overrides, chain: Chain) -> Result<Self> {
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
        chain: Chain,
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
        let cells = cells(&base, &blocks).map_err(|m| file.error(m))?;
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let sources = file.read_sources(&cells, base_dir, overrides, &chain)?;
        let lookup: SourceGrids<'_> = sources
            .iter()
            .map(|g| (g.path.as_path(), SourceGrid::new(&g.name, &g.runs)))
            .collect();
        let resolver = Resolver {
            file: path,
            base_dir,
            overrides,
            sources: &lookup,
        };
        let (runs, folded) = resolve_cells(cells, &resolver)?;
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
            sources,
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

    /// Reads and expands every grid that `cells` take weights from, once each, in first-use
    /// order, each with its own sources; `chain` leads to this file. A source grid trains on
    /// the data its own file names: `--data` does not apply to it.
    fn read_sources(
        &self,
        cells: &[Cell],
        base_dir: &Path,
        overrides: &Overrides,
        chain: &Chain,
    ) -> Result<Vec<Grid>> {
        let overrides = Overrides {
            allow_missing_data: overrides.allow_missing_data,
            device: overrides.device,
            registry: overrides.registry.clone(),
            cache_dir: overrides.cache_dir.clone(),
            ..Overrides::default()
        };
        let mut grids: Vec<Grid> = Vec::new();
        for (setting, file) in cells.iter().filter_map(|c| source_grid(&c.raw, base_dir)) {
            if grids.iter().any(|g| g.path == file) {
                continue;
            }
            let invalid = |message: String| ExperimentError::Invalid {
                path: self.path.to_path_buf(),
                setting: setting.clone(),
                value: file.display().to_string(),
                message,
            };
            let chain = chain.then(&file).map_err(invalid)?;
            if !file.is_file() {
                return Err(invalid(
                    "source grid file not found: give its path relative to this grid file".into(),
                ));
            }
            grids.push(Grid::from_file_in_chain(&file, &overrides, chain)?);
        }
        Ok(grids)
    }
}

/// Resolves every cell and names each run by its id, dropping cells that resolve to an earlier
/// run's settings. Also returns the cells where the CNN's freeze was folded to 0.
fn resolve_cells(
    cells: Vec<Cell>,
    resolver: &Resolver<'_>,
) -> Result<(Vec<PlannedRun>, Vec<String>)> {
    let mut runs: Vec<PlannedRun> = Vec::new();
    let mut folded = Vec::new();
    for Cell {
        raw,
        axes: mut cell_axes,
        fold_cnn,
    } in cells
    {
        let random_init_chosen = raw
            .model
            .as_ref()
            .and_then(|m| m.name)
            .is_some_and(|name| random_by_choice(&raw, name));
        let (config, was_folded) = resolver.resolve(raw, fold_cnn)?;
        let id = config.run_id()?;
        let source_legacy = match &config.model.weights {
            Some(Weights::Run { grid, run }) => resolver.sources.legacy_id_of(grid, run),
            _ => None,
        };
        let legacy_id = config.legacy_run_id(source_legacy)?;
        if !config.train.device.is_cpu() && !cell_axes.iter().any(|a| a.setting == DEVICE_SETTING) {
            // A GPU run is its own configuration wherever runs are grouped (report facets,
            // baseline keys), not only in its id.
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
                legacy_id,
                random_init_chosen,
            });
        }
    }
    Ok((runs, folded))
}

/// The setting a run on a GPU carries as an axis value (`train.device=cuda`), whether or not
/// the grid varies it.
pub const DEVICE_SETTING: &str = "train.device";

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
