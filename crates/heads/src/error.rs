//! The heads crate's error type. Every message is one line naming what is wrong and, where there
//! is one, the fix.

use crate::kind::HeadKind;
use crate::search::Hyper;

/// Errors from building feature matrices, validating a search and fitting heads.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HeadError {
    /// A matrix's data does not have `rows * cols` values.
    #[error("a {rows}x{cols} feature matrix needs {} values, got {len}", rows * cols)]
    DataLength {
        /// Rows asked for.
        rows: usize,
        /// Columns asked for.
        cols: usize,
        /// Values given.
        len: usize,
    },
    /// A split's feature rows and labels differ in number.
    #[error("{split} split has {rows} feature rows but {labels} labels; pass one label per row")]
    LabelCount {
        /// `train` or `validation`.
        split: &'static str,
        /// Feature rows.
        rows: usize,
        /// Labels.
        labels: usize,
    },
    /// A matrix has a different number of features than the training matrix.
    #[error(
        "{split} features have {found} columns but the training features have {expected}; \
         extract every split with the same backbone"
    )]
    ColumnMismatch {
        /// Which matrix: `validation`, `predict`, `standardize`.
        split: &'static str,
        /// Columns of the training features.
        expected: usize,
        /// Columns found.
        found: usize,
    },
    /// A split without rows.
    #[error("the {split} split is empty; a head needs training rows to fit and validation rows to choose its hyperparameters")]
    EmptySplit {
        /// `train` or `validation`.
        split: &'static str,
    },
    /// Feature vectors of length 0.
    #[error("the feature vectors have no columns; extract features before fitting a head")]
    NoFeatures,
    /// A NaN or infinite feature value (smartcore's trees and solvers assume finite input).
    #[error("{split} feature at row {row}, column {col} is {value}; features must be finite")]
    NonFinite {
        /// `train`, `validation` or `predict`.
        split: &'static str,
        /// Row of the value.
        row: usize,
        /// Column of the value.
        col: usize,
        /// The value.
        value: f32,
    },
    /// A label that is not a class index.
    #[error("{split} label {label} at row {row} is not a class index: labels must be < classes = {classes}")]
    LabelOutOfRange {
        /// `train` or `validation`.
        split: &'static str,
        /// Row of the label.
        row: usize,
        /// The label.
        label: u32,
        /// Number of classes.
        classes: usize,
    },
    /// The training labels hold fewer than two classes.
    #[error(
        "the training split holds {present} class(es) ({labels:?}); a classifier needs at least 2"
    )]
    TooFewClasses {
        /// How many distinct labels.
        present: usize,
        /// The distinct labels.
        labels: Vec<u32>,
    },
    /// A hyperparameter search that [`crate::HeadSearch::validate`] rejects.
    #[error("invalid {kind} search: {message}")]
    InvalidSearch {
        /// The head searched.
        kind: HeadKind,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A kNN `k` larger than the training split.
    #[error("knn k = {k} exceeds the {rows} training rows; use k <= {rows}")]
    KTooLarge {
        /// The `k` asked for.
        k: usize,
        /// Training rows.
        rows: usize,
    },
    /// smartcore failed to fit a candidate.
    #[error("fitting {kind} ({hyper}) failed: {message}")]
    Fit {
        /// The head.
        kind: HeadKind,
        /// The candidate setting.
        hyper: Hyper,
        /// smartcore's message, on one line.
        message: String,
    },
    /// smartcore failed to predict with a fitted head.
    #[error("predicting with {kind} ({hyper}) failed: {message}")]
    Predict {
        /// The head.
        kind: HeadKind,
        /// Its setting.
        hyper: Hyper,
        /// smartcore's message, on one line.
        message: String,
    },
    /// A one-vs-rest head of one finding could not be fitted.
    #[error("finding {finding}: {message}")]
    Finding {
        /// The finding.
        finding: String,
        /// Why, on one line.
        message: String,
    },
    /// Bytes that are not a head file this build reads ([`crate::FittedHead::from_bytes`]).
    #[error("{0}")]
    Format(String),
    /// A head name that is not one of [`HeadKind::ALL`].
    #[error(transparent)]
    UnknownHead(#[from] crate::kind::UnknownHead),
}

/// Shorthand for results of this crate.
pub type Result<T, E = HeadError> = std::result::Result<T, E>;

/// Puts an error's text on one line (smartcore's messages may span several).
pub(crate) fn one_line(text: impl std::fmt::Display) -> String {
    text.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
