//! The grids whose runs a grid's runs start from, as the resolver sees them.
//!
//! Expanding a grid reads and expands every source grid its runs name first (each once, with
//! its own sources, [`crate::grid`]), then resolves its runs against the plain lookup
//! [`SourceGrids`]. [`Chain`] is the line of grid files being expanded: a source grid already
//! on it would be expanded inside itself, and is refused as a cycle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::RunConfig;
use crate::planned_run::PlannedRun;

/// One expanded source grid: its name (its results folder) and its runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SourceGrid<'a> {
    pub name: &'a str,
    pub runs: &'a [PlannedRun],
}

/// The expanded source grids of one grid, by normalised file path.
#[derive(Debug)]
pub(crate) struct SourceGrids<'a> {
    by_file: BTreeMap<&'a Path, SourceGrid<'a>>,
}

impl<'a> SourceGrid<'a> {
    /// The grid named `name` (its results folder), of runs `runs`.
    pub fn new(name: &'a str, runs: &'a [PlannedRun]) -> Self {
        Self { name, runs }
    }
}

impl<'a> FromIterator<(&'a Path, SourceGrid<'a>)> for SourceGrids<'a> {
    /// The lookup of source grids by the (normalised) file each was read from.
    fn from_iter<I: IntoIterator<Item = (&'a Path, SourceGrid<'a>)>>(grids: I) -> Self {
        Self {
            by_file: grids.into_iter().collect(),
        }
    }
}

impl<'a> SourceGrids<'a> {
    /// The source grid read from `file` (normalised).
    pub fn get(&self, file: &Path) -> Option<SourceGrid<'a>> {
        self.by_file.get(file).copied()
    }

    /// The resolved config of run `run` of the source grid named `grid`.
    pub fn config_of(&self, grid: &str, run: &str) -> Option<&'a RunConfig> {
        self.by_file
            .values()
            .filter(|g| g.name == grid)
            .flat_map(|g| g.runs)
            .find(|r| r.id == run)
            .map(|r| &r.config)
    }

    /// The earlier id ([`PlannedRun::legacy_id`]) of run `run` of the source grid named
    /// `grid`, when it has one.
    pub fn legacy_id_of(&self, grid: &str, run: &str) -> Option<&'a str> {
        self.by_file
            .values()
            .filter(|g| g.name == grid)
            .flat_map(|g| g.runs)
            .find(|r| r.id == run)
            .and_then(|r| r.legacy_id.as_deref())
    }
}

/// The grid files being expanded, outermost first, the current one last.
#[derive(Debug, Clone)]
pub(crate) struct Chain(Vec<PathBuf>);

impl Chain {
    /// The chain of a grid expanded for itself (not as another's source).
    pub fn start(file: PathBuf) -> Self {
        Self(vec![file])
    }

    /// The chain for expanding source grid `file` (normalised) next; or, when `file` is already
    /// being expanded, the message that names the cycle.
    pub fn then(&self, file: &Path) -> Result<Self, String> {
        let mut chain = self.0.clone();
        chain.push(file.to_path_buf());
        if self.0.iter().any(|p| p == file) {
            let cycle: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
            return Err(format!(
                "grids take weights from each other in a cycle ({}): a source grid must not depend on this one",
                cycle.join(" -> ")
            ));
        }
        Ok(Self(chain))
    }
}
