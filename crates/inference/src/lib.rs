//! Using a trained run: predict new radiographs, score the model on an outside dataset, and
//! show where it looked.
//!
//! Everything starts from a finished run folder (`results/<grid>/runs/<run-id>/`), opened as a
//! [`TrainedModel`]: its `config.toml` (image size, masking), its `preprocessing.json` (class
//! order, input channels, the normalisation statistics the run trained with; recomputed from the
//! training data for runs that predate it) and its `model.safetensors`; a classic-head run's
//! backbone (rebuilt from its starting weights, checked against the hash its head recorded)
//! and its `head.safetensors` ([`cxr_heads::FittedHead`]), so every trained run predicts. New images go through
//! the same code as training images ([`cxr_data::preprocess_file`], then
//! [`cxr_data::input_tensor`]), so a model sees an outside image exactly as it saw its own.
//!
//! - [`predict()`]: files and folders in, one [`Prediction`] per image (probabilities of every
//!   class; a multi-label run's probability and call per finding), in batches; unreadable files are handed back to the caller, not fatal.
//! - [`evaluate_external`]: class folders of another dataset, matched to the model's classes by
//!   name ([`class_name`]), scored with the trainer's own [`cxr_trainer::evaluate_images`] and
//!   metrics ([`cxr_metrics`]), plus one-vs-rest ROC AUC and bootstrap intervals;
//!   [`write_evaluation`] stores it all in one long Parquet table ([`cxr_results::evaluation`]
//!   lists the columns).
//! - [`evaluate_table`]: a multi-label run on another labelled table (NIH, CheXpert, generic),
//!   findings matched by name: per-finding AUROC with intervals that resample patients, and
//!   sensitivity, specificity and precision at the run's thresholds.
//! - [`explain()`]: Grad-CAM ([`gradcam`]) on the last convolutional stage (through a logistic
//!   head folded into one linear layer; the other classic heads are refused), drawn over the film
//!   with a colour bar and title ([`overlay`]), drawn in the report's style (its font, sizes
//!   and colour maps: [`cxr_report::style`], [`cxr_report::colormap`]).
//!
//! - [`features`]: every image's pooled features from a run or from named weights, as the
//!   `features.parquet` table (`cxr features`).
//!
//! This crate trains nothing and writes nothing into run folders.
//!
//! ```no_run
//! use cxr_inference::{collect_images, predict, TrainedModel};
//! # fn main() -> cxr_inference::Result<()> {
//! let cache = cxr_data::default_cache_dir();
//! let registry = cxr_weights::Registry::from_env();
//! let env = cxr_trainer::RunEnv::new(&cache, "results".as_ref(), &registry);
//! let model = TrainedModel::open("results/sample/runs/cnn-f0-s0-0123456789ab".as_ref(),
//!                                &env, &candle_core::Device::Cpu)?;
//! let images = collect_images(&["new-films/".into()])?;
//! predict(&model, &images, |outcome| {
//!     match outcome {
//!         Ok(p) => println!("{}: {}", p.path.display(), p.predicted),
//!         Err(bad) => eprintln!("skipped {}: {}", bad.path.display(), bad.reason),
//!     }
//!     std::ops::ControlFlow::Continue(())
//! })?;
//! # Ok(()) }
//! ```

pub mod class_name;
pub mod classic_head;
pub mod error;
pub mod evaluate;
pub mod evaluate_table;
pub mod explain;
pub mod features;
pub mod gradcam;
pub mod overlay;
pub mod predict;
pub mod table;
pub mod trained;

pub use classic_head::ClassicHead;
pub use cxr_results::MetricRow;
pub use error::{InferenceError, Result};
pub use evaluate::{evaluate_external, ClassMatching, ExternalEvaluation};
pub use evaluate_table::{evaluate_table, FindingResult, TableEvaluation};
pub use explain::{explain, Explanation};
pub use features::{named_features, run_features, NamedBackbone};
pub use gradcam::{grad_cam, grad_cam_through, GradCam};
pub use predict::{collect_images, predict, Prediction};
pub use table::{metric_rows, prediction_rows, write_evaluation, write_predictions};
pub use trained::TrainedModel;
