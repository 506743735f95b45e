//! Classic classifiers on feature vectors: logistic regression, linear and RBF SVMs, a random
//! forest and k nearest neighbours, fitted on the frozen features of a backbone (the "classic
//! heads"), each with its hyperparameters chosen on a validation split.
//!
//! [`fit_search`] takes a [`HeadSearch`] (a [`HeadKind`] and the values to try), training and
//! validation [`Matrix`]es with their labels, the number of classes and a seed. It standardises
//! the features with a [`Standardizer`] fitted on the training split alone, fits every
//! candidate [`Hyper`] (in parallel), scores each on validation ([`Trial`]) and returns the
//! best as a [`FittedHead`] in a [`Selection`]: highest validation micro-recall, then
//! macro-recall, then the first declared. A [`FittedHead`] predicts from raw features, applying
//! the training statistics itself, gives class probabilities ([`FittedHead::probabilities`]:
//! softmax, Platt-scaled SVM pairs coupled as libsvm couples them, tree and neighbour vote
//! shares), reports its [`FittedHead::parameter_count`], and is saved and read back as a
//! `head.safetensors` file ([`FittedHead::to_bytes`], [`FittedHead::from_bytes`]; the format
//! and its version are documented in `head_file.rs`).
//!
//! The solvers come from smartcore (logistic regression, random forest, kNN) and linfa-svm (the
//! SVMs, and the Platt sigmoid's fit); this crate implements none, only standardisation,
//! one-vs-one voting, pairwise coupling, selection, and predicting from the fitted numbers
//! exactly as the library computes them (unit tests compare bit for bit). It
//! does not extract features, read or write files, or know about tensors: the caller hands in
//! `f32` rows and `u32` class indices and writes down what comes back. Every [`HeadError`] is
//! one line.
//!
//! # Default grids ([`HeadSearch::default_for`])
//!
//! | head            | values tried                                   | notes |
//! |-----------------|------------------------------------------------|-------|
//! | `logistic`      | `c` = 0.01, 0.1, 1, 10                         | multinomial, L2 on weights (not intercepts), L-BFGS; `c` is scikit-learn's `C` (smartcore `alpha = 1/c`) |
//! | `svm_linear`    | `c` = 0.01, 0.1, 1, 10                         | one-vs-one soft-margin SVMs, solved to libsvm's tolerance 1e-3 |
//! | `svm_rbf`       | `c` = 0.1, 1, 10 x `gamma_scale` = 0.1, 1, 10  | `gamma = gamma_scale / features`; 1 is scikit-learn's `gamma="scale"` on standardised features |
//! | `random_forest` | `trees` = 100, 300                             | Gini, sqrt(features) features per split, no depth limit (scikit-learn's defaults) |
//! | `knn`           | `k` = 1, 3, 5, 11, 21                          | Euclidean on standardised features, uniform votes |
//!
//! # What each head is, exactly
//!
//! - **logistic**: smartcore's `LogisticRegression` minimises the negative log-likelihood
//!   *summed* over samples plus `alpha/2 |W|^2`, against scikit-learn's `C * sum + 1/2 |W|^2`,
//!   so `alpha = 1/C` gives the same minimiser. Its L-BFGS (not configurable) runs until the
//!   gradient's largest component is below 1e-8, the objective stops changing, or 1000
//!   iterations; on 630 x 512 x 3 features the fitted gradient is below 1e-6 for every default
//!   `c` (scikit-learn stops at 1e-4, after at most 100 iterations). Two training classes give
//!   one sigmoid, more a softmax.
//! - **SVMs**: linfa-svm's C-SVC, a port of libsvm's SMO solver run until the largest KKT
//!   violation is below 1e-3 (libsvm's and scikit-learn's `tol`), one per pair of training
//!   classes, and a majority vote whose ties go to the lowest class, as scikit-learn's `SVC`.
//!   smartcore's SVC did not converge, panicked with more features than training rows and was
//!   slow; the `svm` module gives the numbers.
//! - **random forest**: smartcore's `RandomForestClassifier`; its bootstrap is stratified (each
//!   class resampled to its own size), otherwise scikit-learn's defaults. Tree `i` is seeded
//!   `seed + i`.
//! - **kNN**: smartcore's `KNNClassifier` with exhaustive search; vote ties go to the lowest
//!   class, distance ties to the earlier training row.
//!
//! ```
//! use cxr_heads::{fit_search, HeadKind, HeadSearch, Matrix};
//!
//! # fn main() -> cxr_heads::Result<()> {
//! // Two features; class 0 on the left, class 1 on the right.
//! let train = Matrix::new(4, 2, vec![-2.0, 0.0, -1.0, 1.0, 1.0, 0.0, 2.0, 1.0])?;
//! let val = Matrix::new(2, 2, vec![-1.5, 0.5, 1.5, 0.5])?;
//! let search = HeadSearch::Knn { k: vec![1, 3] };
//! let selection = fit_search(&search, &train, &[0, 0, 1, 1], &val, &[0, 1], 2, 42)?;
//! assert_eq!(selection.trials.len(), 2);
//! assert_eq!(selection.head.predict(&val)?, vec![0, 1]);
//! assert_eq!(HeadSearch::default_for(HeadKind::SvmRbf).candidates().len(), 9);
//! # Ok(())
//! # }
//! ```

mod coupling;
mod error;
mod fitted_head;
mod forest;
mod head_container;
mod head_file;
mod kind;
mod knn;
mod logistic;
mod matrix;
mod search;
mod selection;
mod standardizer;
mod svm;

pub use error::{HeadError, Result};
pub use fitted_head::FittedHead;
pub use head_file::{
    findings_from_bytes, findings_to_bytes, read_notes, HEAD_FORMAT, HEAD_FORMAT_VERSION,
};
pub use kind::{HeadKind, UnknownHead};
pub use matrix::Matrix;
pub use search::{
    HeadSearch, Hyper, DEFAULT_FOREST_TREES, DEFAULT_KNN_K, DEFAULT_LOGISTIC_C,
    DEFAULT_SVM_LINEAR_C, DEFAULT_SVM_RBF_C, DEFAULT_SVM_RBF_GAMMA_SCALE,
};
pub use selection::{fit_search, fit_search_by, Criterion, Selection, Splits, Trial};
pub use standardizer::Standardizer;
