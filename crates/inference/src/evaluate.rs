//! External validation: a trained model scored on a dataset it never saw (another hospital's
//! radiographs), laid out in class folders.
//!
//! The dataset's folders are matched to the model's classes by name ([`crate::class_name`]);
//! folders the model does not know are reported and left out, and model classes without images
//! are listed (they count in precision, being predictable, but not in macro-recall, having no
//! support). Images go through the run's own preprocessing and the trainer's own
//! [`cxr_trainer::evaluate_images`], so given the run's test images the numbers equal the run's test
//! metrics. On top: one-vs-rest ROC AUC per class and 95% bootstrap intervals of micro- and
//! macro-recall, resampled with the run seed's `bootstrap` stream (reproducible).

use std::path::{Path, PathBuf};
use std::time::Instant;

use cxr_data::seed::{self, Stream};
use cxr_data::{discover, DataError, LoadOptions, Unreadable};
use cxr_metrics::{
    calibration, one_vs_rest, recall_intervals, Calibration, ClassMetrics, RecallIntervals,
    DEFAULT_BINS, DEFAULT_RESAMPLES,
};
use cxr_trainer::Evaluation;

use crate::class_name::find_class;
use crate::error::{InferenceError, Result};
use crate::trained::TrainedModel;

/// Images per evaluation batch, as predict's [`crate::predict::PREDICT_BATCH`] and the
/// benchmark's. At 64, a 128-px CNN evaluation peaked at 765 MB (439 MB at 32), spent 1.5-2.6 s
/// in the kernel faulting pages in (0.1 s at 32) and took 13% longer (BENCHMARKS.md, "Where
/// `cxr evaluate`'s time goes"). The logits do not depend on it
/// (crates/trainer/tests/it/batching.rs).
const EVAL_BATCH: usize = 32;

/// How the dataset's class folders met the model's classes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassMatching {
    /// `(folder name, model class index)` of every folder evaluated.
    pub matched: Vec<(String, usize)>,
    /// Folders whose name is no class of the model: left out.
    pub unknown: Vec<String>,
    /// Model classes with no images in the dataset (no folder, or an empty one).
    pub without_images: Vec<String>,
}

/// The scores of a model on an outside dataset. Labels and predictions are model class
/// indices; a model class absent from the dataset has support 0.
#[derive(Debug, Clone)]
pub struct ExternalEvaluation {
    /// The run folder's id.
    pub run_id: String,
    /// The dataset root.
    pub data: PathBuf,
    /// The model's classes, in output order.
    pub classes: Vec<String>,
    /// How folders were matched to classes.
    pub matching: ClassMatching,
    /// Files that could not be read, left out.
    pub skipped: Vec<Unreadable>,
    /// Predictions, probabilities and the confusion matrix (rows = true class).
    pub evaluation: Evaluation,
    /// One-vs-rest ROC AUC per model class; `None` without both positives and negatives.
    pub roc_auc: Vec<Option<f64>>,
    /// 95% bootstrap intervals of micro- and macro-recall.
    pub intervals: Option<RecallIntervals>,
    /// Expected calibration error and reliability bins of the probabilities (15 bins).
    pub calibration: Option<Calibration>,
    /// The run's temperature, by which the probabilities were scaled; `None` when uncalibrated.
    pub temperature: Option<f64>,
    /// Each image's path relative to the dataset root, in evaluation order.
    pub files: Vec<PathBuf>,
}

impl ExternalEvaluation {
    /// Micro-recall (accuracy).
    pub fn micro_recall(&self) -> f64 {
        self.evaluation.confusion.micro_recall()
    }

    /// Macro-recall over the classes with images.
    pub fn macro_recall(&self) -> f64 {
        self.evaluation.confusion.macro_recall()
    }

    /// Precision, recall, F1 and support per model class.
    pub fn per_class(&self) -> Vec<ClassMetrics> {
        self.evaluation.confusion.per_class()
    }

    /// Number of images evaluated.
    pub fn images(&self) -> usize {
        self.evaluation.labels.len()
    }
}

/// Scores `model` on the class folders under `data` (decoded images cached in `cache_dir`).
pub fn evaluate_external(
    model: &TrainedModel,
    data: &Path,
    cache_dir: &Path,
) -> Result<ExternalEvaluation> {
    if model.is_multilabel() {
        return Err(InferenceError::NeedsLabelTable(
            model.run.path().to_path_buf(),
        ));
    }
    let matching = match_classes(model.classes(), data)?;
    if matching.matched.is_empty() {
        return Err(InferenceError::NoMatchingClass {
            root: data.to_path_buf(),
            known: model.classes().join(", "),
        });
    }
    let folders: Vec<String> = matching.matched.iter().map(|(f, _)| f.clone()).collect();
    let opts = LoadOptions {
        image_size: model.image_size(),
        mask: model.config.data.mask,
        skip_unreadable: true,
        classes: Some(folders),
        cache_dir: Some(cache_dir.to_path_buf()),
        dicom_window: model.config.data.dicom_window,
    };
    // Phase times at debug level (`cxr -v evaluate`): where an evaluation's wall time goes.
    let start = Instant::now();
    let (mut set, report) = cxr_data::load(data, &opts)?;
    tracing::debug!(
        images = set.len(),
        decoded = report.decoded,
        cache = ?report.cache,
        seconds = start.elapsed().as_secs_f64(),
        "evaluate: images loaded"
    );
    // Relabel from folder order to the model's output order.
    for label in &mut set.labels {
        *label = matching.matched[*label as usize].1 as u32;
    }
    set.classes = model.classes().to_vec();
    let indices: Vec<usize> = (0..set.len()).collect();
    let start = Instant::now();
    let mut evaluation = model.evaluate(&set, &indices, EVAL_BATCH)?;
    tracing::debug!(
        seconds = start.elapsed().as_secs_f64(),
        batch = EVAL_BATCH,
        "evaluate: inference"
    );
    let start = Instant::now();
    if let Some(t) = model.temperature {
        evaluation.scale(t);
    }
    let classes = set.classes.len();
    let calibration = calibration(
        &evaluation.probabilities,
        &evaluation.labels,
        classes,
        DEFAULT_BINS,
    );
    let roc_auc = one_vs_rest(&evaluation.probabilities, &evaluation.labels, classes);
    let intervals = recall_intervals(
        &evaluation.labels,
        &evaluation.predictions,
        classes,
        DEFAULT_RESAMPLES,
        &mut seed::rng(model.config.seed, Stream::Bootstrap),
    );
    tracing::debug!(seconds = start.elapsed().as_secs_f64(), "evaluate: metrics");
    Ok(ExternalEvaluation {
        run_id: model.run.id(),
        data: data.to_path_buf(),
        classes: set.classes,
        matching,
        skipped: report.skipped,
        evaluation,
        roc_auc,
        intervals,
        calibration,
        temperature: model.temperature,
        files: set.files,
    })
}

/// Matches the class folders under `root` to `classes`.
pub fn match_classes(classes: &[String], root: &Path) -> Result<ClassMatching> {
    if !root.is_dir() {
        return Err(DataError::MissingRoot(root.to_path_buf()).into());
    }
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(root).map_err(DataError::io(root))? {
        let entry = entry.map_err(DataError::io(root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !name.starts_with('.') {
            folders.push(name);
        }
    }
    folders.sort();
    let mut matching = ClassMatching::default();
    let mut has_images = vec![false; classes.len()];
    for folder in folders {
        let Some(index) = find_class(classes, &folder) else {
            matching.unknown.push(folder);
            continue;
        };
        if let Some((first, _)) = matching.matched.iter().find(|(_, i)| *i == index) {
            return Err(InferenceError::AmbiguousClass {
                root: root.to_path_buf(),
                class: classes[index].clone(),
                first: first.clone(),
                second: folder,
            });
        }
        match discover(root, Some(std::slice::from_ref(&folder))) {
            Ok(_) => {
                has_images[index] = true;
                matching.matched.push((folder, index));
            }
            Err(DataError::EmptyClass { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    matching.without_images = classes
        .iter()
        .zip(&has_images)
        .filter(|(_, &has)| !has)
        .map(|(c, _)| c.clone())
        .collect();
    Ok(matching)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_match_by_name_and_the_rest_is_reported(
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let r = tmp.path();
        for f in [
            "viral_pneumonia/1.png",
            "covid/images/2.png",
            "Fracture/3.png",
        ] {
            std::fs::create_dir_all(r.join(f).parent().ok_or("parent")?)?;
            std::fs::write(r.join(f), b"x")?;
        }
        std::fs::create_dir_all(r.join("Normal"))?; // no images
        let classes: Vec<String> = ["COVID", "Normal", "Viral Pneumonia", "Lung_Opacity"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let m = match_classes(&classes, r)?;
        assert_eq!(
            m.matched,
            [("covid".to_string(), 0), ("viral_pneumonia".to_string(), 2)]
        );
        assert_eq!(m.unknown, ["Fracture"]);
        assert_eq!(m.without_images, ["Normal", "Lung_Opacity"]);

        std::fs::create_dir_all(r.join("Viral Pneumonia"))?;
        std::fs::write(r.join("Viral Pneumonia/4.png"), b"x")?;
        let err = match_classes(&classes, r).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("both match")),
            "{err:?}"
        );
        Ok(())
    }
}
