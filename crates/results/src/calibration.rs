//! `calibration.json`: the temperature a run fitted on its validation split
//! (`train.calibrate = true`), kept with the run so that `cxr predict` and `cxr evaluate` turn
//! its logits into probabilities the way the run reported them, with what the fit changed.
//! Runs trained without calibration have no such file; their probabilities are the plain
//! softmax.

/// A run's temperature scaling, as stored in `calibration.json`
/// ([`crate::RunDir::write_calibration`], [`crate::RunDir::read_calibration`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationRecord {
    /// Probabilities are `softmax(logits / temperature)`.
    pub temperature: f64,
    /// Mean negative log-likelihood of the validation split before scaling (temperature 1).
    pub val_nll_uncalibrated: f64,
    /// The same after scaling: never above `val_nll_uncalibrated`.
    pub val_nll: f64,
    /// Expected calibration error (15 bins) of the test split before scaling.
    pub test_ece_uncalibrated: f64,
    /// The same after scaling.
    pub test_ece: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunDir;

    #[test]
    fn round_trips_and_rejects_other_json() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let run = RunDir::at(dir.path());
        let path = run.calibration_path();
        // Values that need all 17 digits: serde_json's default float parser may land one ulp
        // off them (0.13542236760258677 read back as ...675 broke the summary's equality with
        // this file), so the workspace enables its `float_roundtrip`.
        let record = CalibrationRecord {
            temperature: 1.75,
            val_nll_uncalibrated: 0.5,
            val_nll: 0.1f64 + 0.2,
            test_ece_uncalibrated: 1.0 / 3.0,
            test_ece: 0.135_422_367_602_586_77,
        };
        run.write_calibration(&record)?;
        assert_eq!(run.read_calibration()?, Some(record));
        std::fs::write(&path, "{\"temperature\": \"hot\"}")?;
        let err = run.read_calibration().err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(
                |m| m.contains("not a calibration record") && m.contains("calibration.json")
            ),
            "{err:?}"
        );
        Ok(())
    }
}
