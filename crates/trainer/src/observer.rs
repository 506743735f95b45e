//! Progress hooks: the trainer reports what it does and a caller (the CLI's progress bar, a
//! test) decides what to show. The trainer itself prints nothing.

use cxr_experiment::PlannedRun;
use cxr_results::HistoryRow;

/// Hooks for progress display; all default to doing nothing.
pub trait Observer {
    /// An epoch is starting, with this many training batches.
    fn epoch_start(&mut self, _epoch: usize, _batches: usize) {}
    /// A training batch finished with this loss.
    fn batch_done(&mut self, _loss: f32) {}
    /// An epoch finished (its `kept` flag is set only once training ends).
    fn epoch_done(&mut self, _record: &HistoryRow) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

impl Silent {
    /// The observer factory of a sweep that watches nothing: `sweep(.., &mut Silent::each)`.
    pub fn each(_label: &str, _run: &PlannedRun) -> Box<dyn Observer> {
        Box::new(Silent)
    }
}
