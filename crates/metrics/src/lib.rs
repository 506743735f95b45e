//! Classification metrics: pure functions of labels, predictions and scores, shared by training
//! (validation and test splits) and inference (`cxr evaluate` on an outside dataset), so both
//! report the same numbers computed by the same code.
//!
//! - [`ConfusionMatrix`] tallies true against predicted classes; micro- and macro-recall and the
//!   per-class [`ClassMetrics`] (precision, recall, F1, support) are read from it ([`confusion`]).
//! - [`recall_intervals`] resamples the images to give 95% percentile-bootstrap [`Interval`]s of
//!   micro- and macro-recall, from an RNG the caller seeds ([`bootstrap`]).
//! - [`roc_auc`] and [`one_vs_rest`] rank class probabilities ([`roc`]).
//! - [`paired_bootstrap`] and [`mcnemar`] compare two models on the same images ([`paired`]).
//! - Per finding of a multi-label model ([`auroc`](mod@auroc), [`delong`], [`delong_mean`],
//!   [`threshold`], [`group_bootstrap`](mod@group_bootstrap),
//!   [`multilabel_recall`](mod@multilabel_recall)): [`auroc`](fn@auroc) and [`roc_curve`] from
//!   `f64` scores, DeLong's variance, interval and test for two correlated AUROCs ([`delong_test`])
//!   and for the mean AUROC over findings ([`delong_mean_test`]), the Youden threshold and
//!   [`ThresholdStats`] at it, the bootstrap that resamples patients rather than films
//!   ([`group_bootstrap`](fn@group_bootstrap), [`paired_group_bootstrap`]), and micro- and
//!   macro-recall over findings ([`multilabel_recall`](fn@multilabel_recall)).
//! - [`calibration`](fn@calibration) bins confidences into a reliability diagram with its
//!   expected calibration error, and [`fit_temperature`] fits temperature scaling on validation
//!   logits ([`calibration`](mod@calibration)).
//!
//! This crate knows nothing of tensors, models or files: it takes class indices (`u32`, 0-based)
//! and probabilities (`f32`), or per-finding scores (`f64`) with labels (`bool`, or
//! `Option<bool>` where a film's label may be missing), and returns `f64`s. Writing the numbers
//! down is the caller's job.
//!
//! ```
//! use cxr_metrics::ConfusionMatrix;
//! let truth = [0, 0, 0, 0, 1];
//! let predicted = [0, 0, 0, 0, 0];
//! let m = ConfusionMatrix::new(&truth, &predicted, 2);
//! assert_eq!(m.micro_recall(), 0.8); // 4 of 5 images right
//! assert_eq!(m.macro_recall(), 0.5); // but the rare class never
//! ```

pub mod auroc;
pub mod bootstrap;
pub mod calibration;
pub mod confusion;
pub mod delong;
pub mod delong_mean;
pub mod group_bootstrap;
pub mod multilabel_recall;
pub mod paired;
mod ranked;
pub mod roc;
pub mod threshold;

pub use auroc::{auroc, roc_curve};

pub use bootstrap::{recall_intervals, Interval, RecallIntervals, DEFAULT_RESAMPLES};
pub use calibration::{
    calibration, fit_temperature, nll, softmax_with_temperature, Calibration, ReliabilityBin,
    DEFAULT_BINS,
};
pub use confusion::{accuracy, ClassMetrics, ConfusionMatrix};
pub use delong::{auroc_interval, auroc_variance, delong_test, DeLong, Placements};
pub use delong_mean::{delong_mean_test, DeLongMean};
pub use group_bootstrap::{group_bootstrap, paired_group_bootstrap, GroupInterval, GroupResampler};
pub use multilabel_recall::{multilabel_recall, MultilabelRecall};
pub use paired::{mcnemar, paired_bootstrap, McNemar, PairedDifference};
pub use roc::{one_vs_rest, roc_auc};
pub use threshold::{youden_threshold, ThresholdStats};
