//! The inference crate's error type: each variant names the run folder, image or dataset at
//! fault, on one line (the CLI prints it as the whole error message).

use std::path::PathBuf;

/// Errors from opening a run, predicting, evaluating and explaining.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    /// The folder has no `config.toml`.
    #[error("{dir} is not a run folder: it has no config.toml ({hint})")]
    NotARun {
        /// The folder given.
        dir: PathBuf,
        /// The runs that exist beside it (or in it, for a grid folder), else where runs are.
        hint: String,
    },
    /// The run folder has no weights file.
    #[error("{dir} has no weights ({file} is missing): the run is unfinished or failed; train it with `cxr sweep`")]
    NoWeights {
        /// The run folder.
        dir: PathBuf,
        /// The expected weights file.
        file: PathBuf,
    },
    /// The run pretrained an autoencoder: it has no classification head to predict with.
    #[error("{0} is an autoencoder (pretraining) run: it has no trained classifier head; fine-tune a classifier from its model.safetensors (model.weights) and use that run")]
    NotAClassifier(PathBuf),
    /// A classic-head run's `head.safetensors` is missing, unreadable or does not fit the run.
    #[error("{file}: {message}")]
    HeadFile {
        /// The head file.
        file: PathBuf,
        /// What is wrong and the fix.
        message: String,
    },
    /// Grad-CAM asked of a classic head that is not linear in the features.
    #[error("{dir}: cannot explain a {head} head with Grad-CAM, which needs a class score linear in the backbone's pooled features ({why}); explain a logistic-head run of the same backbone")]
    NotDifferentiable {
        /// The run folder.
        dir: PathBuf,
        /// The head.
        head: String,
        /// What the head's score is instead.
        why: &'static str,
    },
    /// Neither `preprocessing.json` nor the training data to recompute it.
    #[error("{dir} has no preprocessing.json, and recomputing it from the run's training data failed: {message}")]
    NoPreprocessing {
        /// The run folder.
        dir: PathBuf,
        /// Why recomputing failed.
        message: String,
    },
    /// A class name the model does not know.
    #[error("unknown class {name:?}: the model's classes are {known}")]
    UnknownClass {
        /// The name given.
        name: String,
        /// The model's classes, comma separated.
        known: String,
    },
    /// A path given on the command line does not exist.
    #[error("{0} does not exist")]
    Missing(PathBuf),
    /// A label table's findings share no name with a multi-label run's.
    #[error("{table}: no finding of the table matches a finding of the run ({known}): pass a table with some of them")]
    NoMatchingFinding {
        /// The table file.
        table: PathBuf,
        /// The run's findings, comma separated.
        known: String,
    },
    /// `--labels` given for a run with one class per image.
    #[error(
        "{0}: the run predicts one class per image: score it on class folders (leave out --labels)"
    )]
    NotMultiLabel(PathBuf),
    /// Class folders given for a multi-label run.
    #[error("{0}: the run predicts several findings per film: score it on a label table (--labels TABLE)")]
    NeedsLabelTable(PathBuf),
    /// Nothing to evaluate: no class folder of the dataset matches a class of the model.
    #[error("{root}: no class folder with images matches a class of the model ({known})")]
    NoMatchingClass {
        /// The dataset root.
        root: PathBuf,
        /// The model's classes, comma separated.
        known: String,
    },
    /// Two folders of the dataset match the same model class.
    #[error("{root}: folders {first:?} and {second:?} both match the model's class {class:?}")]
    AmbiguousClass {
        /// The dataset root.
        root: PathBuf,
        /// The model class.
        class: String,
        /// One folder.
        first: String,
        /// The other folder.
        second: String,
    },
    /// An output file could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Drawing the Grad-CAM figure's text or colour bar failed.
    #[error("cannot draw the Grad-CAM figure: {0}")]
    Draw(String),
    /// Reading images failed.
    #[error(transparent)]
    Data(#[from] cxr_data::DataError),
    /// The backbone's settings (`cxr features --model/--weights`) do not resolve.
    #[error(transparent)]
    Experiment(#[from] cxr_experiment::ExperimentError),
    /// The features do not form a matrix (a bug, reported rather than panicking).
    #[error(transparent)]
    Heads(#[from] cxr_heads::HeadError),
    /// Loading the model failed.
    #[error(transparent)]
    Model(#[from] cxr_models::ModelError),
    /// Evaluating or recomputing the run's preprocessing failed.
    #[error(transparent)]
    Trainer(#[from] cxr_trainer::TrainerError),
    /// Writing results failed.
    #[error(transparent)]
    Results(#[from] cxr_results::ResultsError),
    /// A tensor operation failed.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Result alias for the inference crate.
pub type Result<T, E = InferenceError> = std::result::Result<T, E>;
