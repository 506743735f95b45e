//! A classifier's answers on its test split and [`record_test`], which writes what every
//! classifier run, linear or classic head, records about them: `predictions.parquet`, the
//! per-class table and the confusion matrix, and returns their recalls (with bootstrap
//! intervals), calibration error and size as a [`TestOutcome`].

use cxr_data::seed::{self, Stream};
use cxr_data::ImageSet;
use cxr_metrics::{
    calibration, recall_intervals, ConfusionMatrix, DEFAULT_BINS, DEFAULT_RESAMPLES,
};
use cxr_results::{ConfusionRow, PerClassRow, PredictionRow, RunDir};

use crate::error::Result;
use crate::outcome::TestOutcome;

/// A classifier's answers on its test split, in split order.
pub(crate) struct TestResults<'a> {
    /// The dataset (class names, file paths).
    pub set: &'a ImageSet,
    /// The test images' indices into `set`.
    pub indices: &'a [usize],
    /// Their true labels.
    pub labels: &'a [u32],
    /// The predicted labels.
    pub predictions: &'a [u32],
    /// Class probabilities, `indices.len() x classes` row-major, when the classifier has them.
    pub probabilities: Option<&'a [f32]>,
}

/// Writes the test split's predictions, per-class table and confusion matrix, and returns its
/// recalls (with bootstrap intervals from the run seed's stream), calibration error and size.
pub(crate) fn record_test(
    dir: &RunDir,
    results: &TestResults<'_>,
    seed: u64,
) -> Result<TestOutcome> {
    let TestResults {
        set,
        labels,
        predictions,
        ..
    } = *results;
    let classes = &set.classes;
    dir.write_predictions(&prediction_rows(results))?;
    let ece = results
        .probabilities
        .and_then(|p| calibration(p, labels, classes.len(), DEFAULT_BINS))
        .map(|c| c.ece);
    let test = ConfusionMatrix::new(labels, predictions, classes.len());
    let per_class: Vec<PerClassRow> = test
        .per_class()
        .iter()
        .zip(classes)
        .map(|(m, class)| PerClassRow {
            class: class.clone(),
            precision: m.precision,
            recall: m.recall,
            f1: m.f1,
            support: m.support as i64,
        })
        .collect();
    dir.write_per_class(&per_class)?;
    let confusion = ConfusionRow::from_matrix(classes, &test.matrix);
    dir.write_confusion(&confusion)?;
    let mut rng = seed::rng(seed, Stream::Bootstrap);
    let intervals = recall_intervals(
        labels,
        predictions,
        classes.len(),
        DEFAULT_RESAMPLES,
        &mut rng,
    );
    Ok(TestOutcome {
        micro_recall: test.micro_recall(),
        macro_recall: test.macro_recall(),
        intervals,
        ece,
        images: test.total(),
    })
}

/// `predictions.parquet`'s rows: one per test image, in split order.
fn prediction_rows(results: &TestResults<'_>) -> Vec<PredictionRow> {
    let classes = &results.set.classes;
    let mut probabilities = results.probabilities.map(|p| p.chunks_exact(classes.len()));
    results
        .indices
        .iter()
        .zip(results.labels.iter().zip(results.predictions))
        .map(|(&i, (&label, &predicted))| PredictionRow {
            path: results.set.files[i].to_string_lossy().into_owned(),
            true_class: classes[label as usize].clone(),
            predicted_class: classes[predicted as usize].clone(),
            probabilities: probabilities
                .as_mut()
                .and_then(|rows| rows.next())
                .map(<[f32]>::to_vec),
        })
        .collect()
}
