//! [`RunEnv`]: where a run reads what lies outside its config (caches, source runs, a weights
//! mirror). Its own module so that the data and weights steps can take it without depending
//! on the run that calls them.

use std::collections::BTreeMap;
use std::path::Path;

/// Where a run reads its caches and its source runs from.
#[derive(Debug, Clone)]
pub struct RunEnv<'a> {
    /// Image caches, generated synthetic sets and downloaded weights.
    pub cache_dir: &'a Path,
    /// Results root, where runs of source grids are (`<results_dir>/<grid>/runs/<id>`).
    pub results_dir: &'a Path,
    /// Base URL that replaces the publisher's when downloading published weights.
    pub weights_mirror: Option<&'a str>,
    /// What shows the progress of those downloads.
    pub downloads: &'a dyn cxr_weights::DownloadObserver,
    /// The published weights that a run's weights name is looked up in.
    pub registry: &'a cxr_weights::Registry,
    /// Source runs found finished under the id an earlier cxr gave them
    /// ([`EarlierIds`]): where their weights are.
    pub earlier_ids: &'a EarlierIds,
}

impl<'a> RunEnv<'a> {
    /// An environment with no download mirror, silent downloads and no runs of an earlier cxr:
    /// what inference and tests open runs with.
    pub fn new(
        cache_dir: &'a Path,
        results_dir: &'a Path,
        registry: &'a cxr_weights::Registry,
    ) -> Self {
        Self {
            cache_dir,
            results_dir,
            weights_mirror: None,
            downloads: &cxr_weights::NoProgress,
            registry,
            earlier_ids: &NO_EARLIER_IDS,
        }
    }
}

/// Runs finished under the id an earlier cxr gave them ([`cxr_experiment::PlannedRun::legacy_id`]: before
/// datasets were identified by content, ids hashed the dataset's path), by (grid, id): their
/// folder's name. Empty when there are none, as for results written by this cxr.
pub type EarlierIds = BTreeMap<(String, String), String>;

/// No run of an earlier cxr.
pub static NO_EARLIER_IDS: EarlierIds = BTreeMap::new();
