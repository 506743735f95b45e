//! What each training path reports back to [`crate::run`]: one typed outcome per path (the
//! linear classifier, a classic head, the autoencoder), or the failure the sweep records and
//! goes past. The paths write their own files (history, weights, predictions, ...) and return
//! these facts; [`crate::summary_row`] alone turns them into the `summary.parquet` row.

use cxr_metrics::{Interval, RecallIntervals};
use cxr_models::ParamCount;
use cxr_results::{CalibrationRecord, HistoryRow};

use crate::error::{Result, TrainerError};

/// What a run's training path ended with.
#[derive(Debug, Clone)]
pub(crate) enum Trained {
    /// The network's `fc` trained by Adam ([`crate::classify`]).
    Classifier(ClassifierOutcome),
    /// A logit per finding, trained by Adam ([`crate::multilabel`]).
    MultiLabel(MultiLabelOutcome),
    /// A classic head fitted on the frozen backbone's features ([`crate::classic`]).
    Head(HeadOutcome),
    /// Autoencoder pretraining ([`crate::autoencoder`]).
    Autoencoder(AutoencoderOutcome),
    /// Training stopped by a failure of the run itself.
    Failed(Failure),
}

/// A run that could not be trained, as its summary row records it.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// Why (the error's message).
    pub error: String,
    /// The epoch the loss diverged in; `None` for failures outside the epoch loop.
    pub epochs_run: Option<usize>,
}

impl Failure {
    /// `err` as a failed run's record when it is a failure of the run's training (a diverging
    /// loss, a head that could not be fitted), which the sweep records and goes past; any
    /// other error back, for the sweep to stop on (unreadable data, unwritable results).
    pub fn recorded(run_id: &str, err: TrainerError) -> Result<Failure> {
        let epochs_run = match &err {
            TrainerError::NonFiniteLoss { epoch, .. } => Some(*epoch),
            TrainerError::Head(_) => None,
            _ => return Err(err),
        };
        tracing::error!(run = %run_id, "{err}");
        Ok(Failure {
            error: err.to_string(),
            epochs_run,
        })
    }
}

/// The epoch loop's record, shared by the classifier and the autoencoder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epochs {
    /// Epochs trained.
    pub run: usize,
    /// 1-based epoch of the kept weights.
    pub best: usize,
    /// Mean training wall time per epoch, seconds.
    pub mean_train_time_s: f64,
    /// Mean validation wall time per epoch, seconds.
    pub mean_eval_time_s: f64,
}

impl Epochs {
    /// The record of a loop that ran `history` and kept `best_epoch`.
    pub fn of(history: &[HistoryRow], best_epoch: usize) -> Epochs {
        let n = history.len().max(1) as f64;
        Epochs {
            run: history.len(),
            best: best_epoch,
            mean_train_time_s: history.iter().map(|e| e.train_time_s).sum::<f64>() / n,
            mean_eval_time_s: history.iter().map(|e| e.eval_time_s).sum::<f64>() / n,
        }
    }
}

/// What every classifier, linear or classic head, records about its test split
/// ([`crate::test_results::record_test`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TestOutcome {
    /// Micro-recall (accuracy).
    pub micro_recall: f64,
    /// Macro-recall.
    pub macro_recall: f64,
    /// 95% bootstrap intervals of both; `None` for an empty test split.
    pub intervals: Option<RecallIntervals>,
    /// Expected calibration error, when the classifier gives probabilities.
    pub ece: Option<f64>,
    /// Number of test images.
    pub images: u64,
}

/// A linear classifier's run: its epochs, validation and test results, and its temperature
/// scaling when calibrated.
#[derive(Debug, Clone)]
pub(crate) struct ClassifierOutcome {
    /// The epoch loop.
    pub epochs: Epochs,
    /// Wall time of the one-time frozen-prefix pass, when the cache was used.
    pub prefix_time_s: Option<f64>,
    /// Validation micro-recall of the kept weights.
    pub val_micro_recall: f64,
    /// Validation macro-recall of the kept weights.
    pub val_macro_recall: f64,
    /// Mean test cross-entropy of the kept weights.
    pub test_loss: f64,
    /// The temperature scaling (`train.calibrate`), when fitted.
    pub calibration: Option<CalibrationRecord>,
    /// The test split's results.
    pub test: TestOutcome,
}

/// A multi-label run: its epochs, thresholds, and validation and test results. Recall is at
/// the thresholds chosen on validation; AUROC needs none.
#[derive(Debug, Clone)]
pub(crate) struct MultiLabelOutcome {
    /// The epoch loop; `None` for one-vs-rest classic heads, which have no epochs.
    pub epochs: Option<Epochs>,
    /// Wall time of the one-time frozen-prefix pass, when the cache was used (for classic
    /// heads, the pass embedding every image).
    pub prefix_time_s: Option<f64>,
    /// One-vs-rest classic heads: what they hold and how long they took to fit.
    pub heads: Option<FindingHeads>,
    /// Each finding's decision threshold (Youden's J on validation).
    pub thresholds: Vec<f64>,
    /// Each finding's temperature (`train.calibrate`); empty when not calibrated.
    pub temperatures: Vec<f64>,
    /// Mean over findings of the test ECE of the recorded probabilities.
    pub test_ece: Option<f64>,
    /// Mean over findings of the test ECE before temperature scaling (calibrated runs).
    pub test_ece_uncalibrated: Option<f64>,
    /// Validation mean AUROC of the kept weights.
    pub val_mean_auroc: Option<f64>,
    /// Validation micro-recall at the thresholds.
    pub val_micro_recall: Option<f64>,
    /// Validation macro-recall at the thresholds.
    pub val_macro_recall: Option<f64>,
    /// Test mean AUROC over the findings it is defined for.
    pub test_mean_auroc: Option<f64>,
    /// Its 95% bootstrap interval (patients resampled when the table names them).
    pub test_mean_auroc_interval: Option<Interval>,
    /// Test micro-recall at the thresholds (all positive labels found / all positive labels).
    pub test_micro_recall: Option<f64>,
    /// Test macro-recall at the thresholds (mean over findings with a positive).
    pub test_macro_recall: Option<f64>,
    /// Mean masked binary cross-entropy on the test split.
    pub test_loss: f64,
    /// Number of test films.
    pub test_images: usize,
}

/// A classic head's run: the chosen hyperparameters, the timings of embedding and fitting,
/// and its validation and test results. No epochs.
/// One classic head per finding (one-vs-rest), each chosen on validation AUROC.
#[derive(Debug, Clone)]
pub(crate) struct FindingHeads {
    /// The numbers all heads hold (`trainable`), and those plus the backbone's.
    pub params: ParamCount,
    /// Each finding's chosen values, `finding: values; ...`.
    pub hyper: String,
    /// Wall seconds fitting every candidate of every finding.
    pub fit_time_s: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct HeadOutcome {
    /// The numbers the fitted head holds (`trainable`), and those plus the backbone's
    /// parameters (`total`).
    pub params: ParamCount,
    /// The chosen hyperparameters (`c=0.1`, `trees=300`, ...).
    pub hyper: String,
    /// Wall time of embedding every image with the frozen backbone, seconds.
    pub embed_time_s: f64,
    /// Wall time of the hyperparameter search, seconds.
    pub fit_time_s: f64,
    /// Validation micro-recall of the chosen head, as the search scored it.
    pub val_micro_recall: Option<f64>,
    /// Validation macro-recall of the chosen head.
    pub val_macro_recall: Option<f64>,
    /// The test split's results.
    pub test: TestOutcome,
}

/// An autoencoder run: its epochs and test reconstruction error (no recall).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AutoencoderOutcome {
    /// The epoch loop.
    pub epochs: Epochs,
    /// Test reconstruction MSE of the kept weights.
    pub test_loss: f64,
    /// Number of test images.
    pub test_images: usize,
}
