//! The linear classifier's path (`objective = "classify"`, no classic head): [`fit`] the
//! network, keep its weights, scale its probabilities by a temperature when the run asks
//! (`train.calibrate`), and record history and test results. Returns a
//! [`ClassifierOutcome`].

use cxr_experiment::RunConfig;
use cxr_metrics::{calibration, fit_temperature, nll, DEFAULT_BINS};
use cxr_models::Model;
use cxr_results::{CalibrationRecord, RunDir};

use crate::error::Result;
use crate::fit::{fit, FitData, FitOutcome};
use crate::observer::Observer;
use crate::outcome::{ClassifierOutcome, Epochs};
use crate::test_results::{record_test, TestResults};

/// Fits a classifier and records its weights, calibration, history and test tables.
pub(crate) fn classify(
    model: &Model,
    data: FitData<'_>,
    cfg: &RunConfig,
    dir: &RunDir,
    run_id: &str,
    observer: &mut dyn Observer,
) -> Result<ClassifierOutcome> {
    let mut outcome = fit(model, data, &cfg.train, cfg.seed, observer)?;
    model.save(&dir.model_path())?;
    let calibration = if cfg.train.calibrate {
        calibrate(&mut outcome, dir, run_id)?
    } else {
        None
    };
    dir.write_history(&outcome.history)?;
    let test = &outcome.test;
    let results = TestResults {
        set: data.set,
        indices: &data.split.test,
        labels: &test.labels,
        predictions: &test.predictions,
        probabilities: Some(&test.probabilities),
    };
    Ok(ClassifierOutcome {
        epochs: Epochs::of(&outcome.history, outcome.best_epoch),
        prefix_time_s: outcome.prefix_time_s,
        val_micro_recall: outcome.val.confusion.micro_recall(),
        val_macro_recall: outcome.val.confusion.macro_recall(),
        test_loss: test.loss,
        calibration,
        test: record_test(dir, &results, cfg.seed)?,
    })
}

/// Temperature scaling: fits the temperature on the validation logits, rescales the test
/// probabilities with it and keeps it with the run (`calibration.json`). `None` when there
/// are no validation images to fit it on.
fn calibrate(
    outcome: &mut FitOutcome,
    dir: &RunDir,
    run_id: &str,
) -> Result<Option<CalibrationRecord>> {
    let val = &outcome.val;
    let classes = val.confusion.matrix.len();
    let Some(temperature) = fit_temperature(&val.logits, &val.labels, classes) else {
        tracing::warn!(run = %run_id, "no validation images: not calibrated");
        return Ok(None);
    };
    let ece = |probabilities: &[f32], labels: &[u32]| {
        calibration(probabilities, labels, classes, DEFAULT_BINS).map_or(f64::NAN, |c| c.ece)
    };
    let val_nll_uncalibrated = nll(&val.logits, &val.labels, classes, 1.0);
    let val_nll = nll(&val.logits, &val.labels, classes, temperature);
    let test_ece_uncalibrated = ece(&outcome.test.probabilities, &outcome.test.labels);
    outcome.val.scale(temperature);
    outcome.test.scale(temperature);
    let record = CalibrationRecord {
        temperature,
        val_nll_uncalibrated,
        val_nll,
        test_ece_uncalibrated,
        test_ece: ece(&outcome.test.probabilities, &outcome.test.labels),
    };
    tracing::info!(
        run = %run_id,
        "temperature {temperature:.3}: validation NLL {:.4} -> {:.4}, test ECE {:.4} -> {:.4}",
        record.val_nll_uncalibrated,
        record.val_nll,
        record.test_ece_uncalibrated,
        record.test_ece
    );
    dir.write_calibration(&record)?;
    Ok(Some(record))
}
