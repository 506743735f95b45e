//! What `cxr sweep` shows while a run trains, the trainer's [`Observer`] of that run: on a
//! terminal, one progress bar over the run's training batches; anywhere else (a Slurm task's log,
//! `nohup cxr sweep ... 2>log`), one log line per epoch, since a bar drawn there shows nothing.

use std::io::IsTerminal;

use cxr_experiment::PlannedRun;
use cxr_results::HistoryRow;
use cxr_trainer::Observer;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How a run's progress reaches the user.
enum Display {
    /// `--quiet`: nothing.
    Nothing,
    /// A bar over the training batches, with the epoch and the last validation numbers in its
    /// message. Its length assumes every epoch runs, so its ETA is an upper bound when early
    /// stopping ends the run sooner.
    Bar(ProgressBar),
    /// One `info` line per epoch ([`epoch_line`]).
    Lines,
}

/// The progress display of one run. Dropping it clears the bar.
pub struct RunProgress {
    display: Display,
    label: String,
    max_epochs: usize,
    last: String,
}

impl RunProgress {
    /// The display of `planned`, labelled `label` (`[n/total] run-id`): a bar when stderr is a
    /// terminal, epoch lines otherwise, nothing when `quiet`.
    pub fn new(label: &str, planned: &PlannedRun, quiet: bool) -> Self {
        let display = if quiet {
            Display::Nothing
        } else if std::io::stderr().is_terminal() {
            // Hidden until the first epoch, so that the log lines of data loading (cache
            // building, weights download) are not torn by a bar.
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} {bar:30} {pos}/{len} batches, ETA {eta} | {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_prefix(label.to_string());
            Display::Bar(bar)
        } else {
            Display::Lines
        };
        Self {
            display,
            label: label.to_string(),
            max_epochs: planned.config.train.max_epochs,
            last: String::new(),
        }
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        if let Display::Bar(bar) = &self.display {
            bar.finish_and_clear();
        }
    }
}

impl Observer for RunProgress {
    fn epoch_start(&mut self, epoch: usize, batches: usize) {
        if let Display::Bar(bar) = &self.display {
            if epoch == 1 {
                bar.set_length((batches * self.max_epochs) as u64);
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
            bar.set_message(format!("epoch {epoch}/{} {}", self.max_epochs, self.last));
        }
    }

    fn batch_done(&mut self, _loss: f32) {
        if let Display::Bar(bar) = &self.display {
            bar.inc(1);
        }
    }

    fn epoch_done(&mut self, r: &HistoryRow) {
        match &self.display {
            Display::Nothing => {}
            Display::Bar(_) => {
                self.last = format!("| loss {:.3}/{:.3}", r.train_loss, r.val_loss);
                // Autoencoder runs have no recall (NaN); multi-label runs show mean AUROC.
                if let Some(auroc) = r.val_mean_auroc {
                    self.last += &format!(" val mean AUROC {auroc:.3}");
                } else if r.val_micro_recall.is_finite() {
                    self.last += &format!(" val recall {:.1}%", r.val_micro_recall * 100.0);
                }
                tracing::debug!("{}", epoch_line(&self.label, self.max_epochs, r));
            }
            Display::Lines => tracing::info!("{}", epoch_line(&self.label, self.max_epochs, r)),
        }
    }
}

/// The log line of one finished epoch: `<label> epoch 3/100: train loss 0.4123, val loss
/// 0.5012, val recall 81.3%, 12.4 s` (recall left out for autoencoders, which have none; a
/// multi-label run's validation mean AUROC instead of recall; the time is training plus
/// validation).
pub fn epoch_line(label: &str, max_epochs: usize, r: &HistoryRow) -> String {
    let mut line = format!(
        "{label} epoch {}/{max_epochs}: train loss {:.4}, val loss {:.4}",
        r.epoch, r.train_loss, r.val_loss
    );
    if let Some(auroc) = r.val_mean_auroc {
        line += &format!(", val mean AUROC {auroc:.3}");
    } else if r.val_micro_recall.is_finite() {
        line += &format!(", val recall {:.1}%", r.val_micro_recall * 100.0);
    }
    line + &format!(", {:.1} s", r.train_time_s + r.eval_time_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(val_micro_recall: f64) -> HistoryRow {
        HistoryRow {
            epoch: 3,
            train_loss: 0.41234,
            val_loss: 0.50119,
            val_micro_recall,
            val_macro_recall: val_micro_recall,
            val_mean_auroc: None,
            train_time_s: 10.0,
            eval_time_s: 2.44,
            kept: false,
        }
    }

    #[test]
    fn epoch_lines_name_the_run_and_every_number() {
        assert_eq!(
            epoch_line("[1/2] cnn-f0-s0-abc", 100, &row(0.8131)),
            "[1/2] cnn-f0-s0-abc epoch 3/100: train loss 0.4123, val loss 0.5012, val recall 81.3%, 12.4 s"
        );
        assert_eq!(
            epoch_line("ae", 5, &row(f64::NAN)),
            "ae epoch 3/5: train loss 0.4123, val loss 0.5012, 12.4 s"
        );
        let multi = HistoryRow {
            val_mean_auroc: Some(0.7126),
            ..row(0.5)
        };
        assert_eq!(
            epoch_line("nih", 5, &multi),
            "nih epoch 3/5: train loss 0.4123, val loss 0.5012, val mean AUROC 0.713, 12.4 s"
        );
    }
}
