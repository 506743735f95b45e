//! `preprocessing.json`: what inference needs to feed new images to a trained model exactly as
//! its run fed its own: the class order (the model's outputs), the input channels and the
//! normalisation statistics.
//!
//! The image size and masking are in the run's `config.toml`, but two things are not: the class
//! order when the config leaves it to the dataset's folders, and the training split's pixel
//! statistics (`normalization = "auto"` or `"dataset"`), which depend on the images. So the
//! trainer writes them before training.

/// The preprocessing record of one run, as stored in `preprocessing.json`
/// ([`crate::RunDir::write_preprocessing`], [`crate::RunDir::read_preprocessing`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preprocessing {
    /// Class names in label order: output `i` of the model is `classes[i]`.
    pub classes: Vec<String>,
    /// Input channels of the model (gray replicated to 3 when 3).
    pub in_channels: usize,
    /// Statistics the run normalised with (training split, ImageNet, or none).
    pub stats: PixelStatsRecord,
    /// The run predicts several findings per film: `classes` are its findings, output `i` is
    /// finding `i`'s logit (a sigmoid gives its probability) and `thresholds[i]` its decision
    /// threshold. Absent (false) for one class per image.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multilabel: bool,
    /// A multi-label run's decision thresholds, one per finding (chosen on validation); empty
    /// otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<f64>,
    /// A calibrated multi-label run's temperature per finding: probability `sigmoid(logit /
    /// temperatures[i])`. Empty otherwise (a single-label run's one temperature is in
    /// `calibration.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub temperatures: Vec<f64>,
}

/// Per-channel mean and standard deviation the run normalised its [0, 1] pixels with, as
/// recorded: the fields of `cxr_data::PixelStats` (which the trainer and inference convert
/// from and to), kept here as a plain record so that the results crate depends on no data or
/// tensor code.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PixelStatsRecord {
    /// Mean per channel (a 1-channel model uses the first).
    pub mean: [f32; 3],
    /// Standard deviation per channel.
    pub std: [f32; 3],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunDir;

    #[test]
    fn round_trips_through_json() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let run = RunDir::at(dir.path());
        let path = run.preprocessing_path();
        let record = Preprocessing {
            classes: vec!["COVID".into(), "Viral Pneumonia".into()],
            in_channels: 3,
            stats: PixelStatsRecord {
                mean: [0.25; 3],
                std: [0.125; 3],
            },
            multilabel: false,
            thresholds: Vec::new(),
            temperatures: Vec::new(),
        };
        run.write_preprocessing(&record)?;
        assert_eq!(run.read_preprocessing()?, record);
        std::fs::write(&path, "{\"classes\": 3}")?;
        let err = run.read_preprocessing().err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|m| m.contains("not a preprocessing record")),
            "{err:?}"
        );
        Ok(())
    }
}
