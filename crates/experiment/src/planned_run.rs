//! [`PlannedRun`]: one run of an expanded grid.

use crate::axes::AxisValue;
use crate::config::RunConfig;

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
    /// The id an earlier cxr gave this run, before datasets were identified by content
    /// ([`RunConfig::legacy_run_id`]); `None` when it is the same as `id`. A sweep that finds
    /// this run finished under that id uses that folder instead of training it again.
    pub legacy_id: Option<String>,
    /// The grid asked for random init by name (`weights = "random"`): a deliberate arm of a
    /// transfer comparison, which the trainer does not warn about as it does about a ResNet
    /// given no weights at all.
    pub random_init_chosen: bool,
}
