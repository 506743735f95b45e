//! The progress bar of `cxr sweep`: one bar per run over its training batches, the trainer's
//! [`Observer`] of that run.

use cxr_experiment::PlannedRun;
use cxr_results::HistoryRow;
use cxr_trainer::Observer;
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar over a run's training batches, with the epoch and the last validation
/// numbers in its message. Its length assumes every epoch runs, so its ETA is an upper bound
/// when early stopping ends the run sooner. Dropping it clears the bar.
pub struct RunProgress {
    bar: ProgressBar,
    max_epochs: usize,
    last: String,
}

impl RunProgress {
    /// A bar labelled `label` for `planned`; hidden when `quiet`.
    pub fn new(label: &str, planned: &PlannedRun, quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} {bar:30} {pos}/{len} batches, ETA {eta} | {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(label.to_string());
        Self {
            bar,
            max_epochs: planned.config.train.max_epochs,
            last: String::new(),
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for RunProgress {
    fn epoch_start(&mut self, epoch: usize, batches: usize) {
        if epoch == 1 {
            self.bar.set_length((batches * self.max_epochs) as u64);
        }
        self.bar
            .set_message(format!("epoch {epoch}/{} {}", self.max_epochs, self.last));
    }

    fn batch_done(&mut self, _loss: f32) {
        self.bar.inc(1);
    }

    fn epoch_done(&mut self, r: &HistoryRow) {
        self.last = format!("| loss {:.3}/{:.3}", r.train_loss, r.val_loss);
        // Autoencoder runs have no recall (NaN).
        if r.val_micro_recall.is_finite() {
            self.last += &format!(" val recall {:.1}%", r.val_micro_recall * 100.0);
        }
        tracing::debug!(
            epoch = r.epoch,
            train_loss = r.train_loss,
            val_loss = r.val_loss,
            val_micro_recall = r.val_micro_recall,
            train_time_s = r.train_time_s,
            "epoch done"
        );
    }
}
