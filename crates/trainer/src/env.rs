//! [`RunEnv`]: where a run reads what lies outside its config (caches, source runs, a weights
//! mirror). Its own module so that the data and weights steps can take it without depending
//! on the run that calls them.

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
    /// Source runs found finished under the id an earlier cxr gave them
    /// ([`crate::sweep::EarlierIds`]): where their weights are.
    pub earlier_ids: &'a crate::sweep::EarlierIds,
}
