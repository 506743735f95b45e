//! [`fit_search`]: fit every candidate of a [`HeadSearch`], keep the best on validation.

use std::time::Instant;

use cxr_metrics::ConfusionMatrix;
use rayon::prelude::*;

use crate::error::{HeadError, Result};
use crate::fitted_head::{FittedHead, Training};
use crate::matrix::Matrix;
use crate::search::{HeadSearch, Hyper};

/// One tried setting and how it scored on the validation split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The setting.
    pub hyper: Hyper,
    /// Validation micro-recall (accuracy).
    pub val_micro_recall: f64,
    /// Validation macro-recall (mean recall over the classes present in validation).
    pub val_macro_recall: f64,
    /// Validation AUROC of class 1 ([`FittedHead::scores`]) under [`Criterion::Auroc`];
    /// `None` otherwise, or when validation lacks one of the two classes.
    pub val_auroc: Option<f64>,
    /// Wall seconds fitting it (without predicting the validation split).
    pub fit_time_s: f64,
}

/// How [`fit_search_by`] ranks candidates on the validation split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Criterion {
    /// Highest micro-recall, then macro-recall ([`fit_search`]'s rule).
    Recall,
    /// Highest AUROC of class 1 against class 0 (two classes only; a candidate whose AUROC is
    /// undefined ranks last), then micro-recall: how a finding's one-vs-rest head is chosen,
    /// where a rare finding would make recall reward always answering "absent".
    Auroc,
}

/// The chosen head and everything that was tried, in declared order.
#[derive(Debug)]
pub struct Selection {
    /// The best candidate, fitted on the training split.
    pub head: FittedHead,
    /// Every candidate, in [`HeadSearch::candidates`] order.
    pub trials: Vec<Trial>,
    /// Wall seconds of the whole search: standardising, every fit and validation prediction.
    pub fit_time_s: f64,
}

impl Selection {
    /// The trial of the chosen head.
    pub fn chosen(&self) -> Option<&Trial> {
        self.trials.iter().find(|t| t.hyper == self.head.hyper())
    }
}

/// Fits every candidate of `search` on the training features and keeps the best on the
/// validation split.
///
/// - Features are standardised with the statistics of `train` only; `val` is never looked at
///   for statistics.
/// - Labels are class indices `0..classes`; at least two classes must occur in training.
/// - The best candidate has the highest validation micro-recall, then the highest
///   macro-recall; remaining ties go to the earlier candidate in declared order.
/// - `seed` drives everything random (the forest's bootstrap and feature draws; the other
///   heads have no randomness): same inputs and seed, same predictions. Candidates are fitted in parallel (rayon),
///   each independently of the others, so the thread count changes nothing but the time.
/// - The chosen head is calibrated on the validation split ([`FittedHead::calibrate`]), so
///   every chosen head has [`FittedHead::probabilities`].
pub fn fit_search(
    search: &HeadSearch,
    train: &Matrix,
    train_labels: &[u32],
    val: &Matrix,
    val_labels: &[u32],
    classes: usize,
    seed: u64,
) -> Result<Selection> {
    let data = Splits {
        train,
        train_labels,
        val,
        val_labels,
    };
    fit_search_by(search, &data, classes, seed, Criterion::Recall)
}

/// The training and validation features with their labels.
#[derive(Debug, Clone, Copy)]
pub struct Splits<'a> {
    /// Training features (raw).
    pub train: &'a Matrix,
    /// One class index per training row.
    pub train_labels: &'a [u32],
    /// Validation features (raw).
    pub val: &'a Matrix,
    /// One class index per validation row.
    pub val_labels: &'a [u32],
}

/// [`fit_search`] with the candidates ranked by `criterion`.
pub fn fit_search_by(
    search: &HeadSearch,
    data: &Splits<'_>,
    classes: usize,
    seed: u64,
    criterion: Criterion,
) -> Result<Selection> {
    let Splits {
        train,
        train_labels,
        val,
        val_labels,
    } = *data;
    if criterion == Criterion::Auroc && classes != 2 {
        return Err(HeadError::InvalidSearch {
            kind: search.kind(),
            message: format!("choosing by AUROC needs two classes, got {classes}"),
        });
    }
    let started = Instant::now();
    let kind = search.kind();
    search
        .validate()
        .map_err(|message| HeadError::InvalidSearch { kind, message })?;
    check_split("train", train, train_labels, classes, train.cols())?;
    check_split("validation", val, val_labels, classes, train.cols())?;
    let mut present = train_labels.to_vec();
    present.sort_unstable();
    present.dedup();
    if present.len() < 2 {
        return Err(HeadError::TooFewClasses {
            present: present.len(),
            labels: present,
        });
    }
    let candidates = search.candidates();
    if let Some(k) = candidates.iter().find_map(|h| match *h {
        Hyper::Knn { k } if k > train.rows() => Some(k),
        _ => None,
    }) {
        return Err(HeadError::KTooLarge {
            k,
            rows: train.rows(),
        });
    }

    let training = Training::new(train, train_labels, classes)?;
    let fitted: Vec<Result<(Trial, FittedHead)>> = candidates
        .par_iter()
        .map(|&hyper| {
            let fit_started = Instant::now();
            let head = FittedHead::fit(&training, hyper, seed)?;
            let fit_time_s = fit_started.elapsed().as_secs_f64();
            let predicted = head.predict(val)?;
            let confusion = ConfusionMatrix::new(val_labels, &predicted, classes);
            let val_auroc = match criterion {
                Criterion::Recall => None,
                Criterion::Auroc => {
                    let truths: Vec<bool> = val_labels.iter().map(|&l| l == 1).collect();
                    cxr_metrics::auroc(&head.scores(val)?, &truths)
                }
            };
            let trial = Trial {
                hyper,
                val_micro_recall: confusion.micro_recall(),
                val_macro_recall: confusion.macro_recall(),
                val_auroc,
                fit_time_s,
            };
            Ok((trial, head))
        })
        .collect();

    let mut trials = Vec::with_capacity(fitted.len());
    let mut best: Option<(Trial, FittedHead)> = None;
    for result in fitted {
        let (trial, head) = result?;
        trials.push(trial);
        let better = best.as_ref().is_none_or(|(b, _)| match criterion {
            Criterion::Recall => {
                (trial.val_micro_recall, trial.val_macro_recall)
                    > (b.val_micro_recall, b.val_macro_recall)
            }
            Criterion::Auroc => {
                let key =
                    |t: &Trial| (t.val_auroc.unwrap_or(f64::NEG_INFINITY), t.val_micro_recall);
                key(&trial) > key(b)
            }
        });
        if better {
            best = Some((trial, head));
        }
    }
    let (_, mut head) = best.ok_or(HeadError::InvalidSearch {
        kind,
        message: "no candidates".to_string(),
    })?;
    // The chosen SVM's probabilities: Platt sigmoids on its validation decision values.
    head.calibrate(val, val_labels)?;
    Ok(Selection {
        head,
        trials,
        fit_time_s: started.elapsed().as_secs_f64(),
    })
}

/// Checks one split: non-empty, one label per row, the training width, finite values, labels
/// below `classes`.
fn check_split(
    split: &'static str,
    features: &Matrix,
    labels: &[u32],
    classes: usize,
    cols: usize,
) -> Result<()> {
    if features.rows() == 0 {
        return Err(HeadError::EmptySplit { split });
    }
    if cols == 0 {
        return Err(HeadError::NoFeatures);
    }
    if labels.len() != features.rows() {
        return Err(HeadError::LabelCount {
            split,
            rows: features.rows(),
            labels: labels.len(),
        });
    }
    if features.cols() != cols {
        return Err(HeadError::ColumnMismatch {
            split,
            expected: cols,
            found: features.cols(),
        });
    }
    if let Some((row, col, value)) = features.first_non_finite() {
        return Err(HeadError::NonFinite {
            split,
            row,
            col,
            value,
        });
    }
    if let Some((row, &label)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= classes)
    {
        return Err(HeadError::LabelOutOfRange {
            split,
            row,
            label,
            classes,
        });
    }
    Ok(())
}
