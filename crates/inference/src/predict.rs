//! Class probabilities for new radiographs: files and folders in, one [`Prediction`] per
//! readable image out, in batches, with unreadable files reported instead of stopping the rest.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cxr_data::Unreadable;
use rayon::prelude::*;

use crate::error::{InferenceError, Result};
use crate::trained::TrainedModel;

/// Images per forward pass: large enough to amortise the per-batch cost, small enough that a
/// 512-pixel ResNet50 batch stays within a few GiB.
pub const PREDICT_BATCH: usize = 32;

/// The model's verdict on one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The image file.
    pub path: PathBuf,
    /// The most probable class.
    pub predicted: String,
    /// Every class with its probability, in the model's class order; they sum to 1. For a
    /// multi-label run, every finding with its own probability.
    pub probabilities: Vec<(String, f32)>,
    /// A multi-label run's call per finding (probability at or above the finding's
    /// threshold), in the model's order; empty for a single-label run.
    pub called: Vec<bool>,
}

impl Prediction {
    /// `{"path", "predicted", "probabilities": {class: probability}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let probabilities: serde_json::Map<String, serde_json::Value> = self
            .probabilities
            .iter()
            .map(|(c, p)| (c.clone(), serde_json::Value::from(*p)))
            .collect();
        let mut json = serde_json::json!({
            "path": self.path.to_string_lossy(),
            "predicted": self.predicted,
            "probabilities": probabilities,
        });
        if !self.called.is_empty() {
            let called: serde_json::Map<String, serde_json::Value> = self
                .findings()
                .map(|(f, _, c)| (f.to_string(), serde_json::Value::from(c)))
                .collect();
            json["called"] = serde_json::Value::Object(called);
        }
        json
    }

    /// A multi-label prediction's findings: name, probability and call, in model order.
    pub fn findings(&self) -> impl Iterator<Item = (&str, f32, bool)> {
        self.probabilities
            .iter()
            .zip(&self.called)
            .map(|((f, p), &c)| (f.as_str(), *p, c))
    }

    /// The `k` most probable classes, most probable first.
    pub fn top(&self, k: usize) -> Vec<(String, f32)> {
        let mut sorted = self.probabilities.clone();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
        sorted.truncate(k);
        sorted
    }
}

/// The image files named by `inputs`: a file as given (its decoder decides whether it is an
/// image), a folder searched recursively for PNG/JPEG/DICOM files (sorted; `masks/`, `lesions/` and
/// hidden entries skipped). A path that does not exist is an error.
pub fn collect_images(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_file() {
            out.push(input.clone());
        } else if input.is_dir() {
            out.extend(cxr_data::list_images(input, true)?);
        } else {
            return Err(InferenceError::Missing(input.clone()));
        }
    }
    Ok(out)
}

/// Predicts every file of `images` in batches of [`PREDICT_BATCH`] (decoding each batch in
/// parallel), calling `emit` once per file in the given order: a [`Prediction`], or the file
/// and why it could not be read (undecodable, missing mask) so the caller reports and skips
/// it. `emit` returns [`ControlFlow::Break`] to stop early (its reader went away); otherwise
/// only a failure of the model itself stops the loop.
pub fn predict(
    model: &TrainedModel,
    images: &[PathBuf],
    mut emit: impl FnMut(std::result::Result<Prediction, Unreadable>) -> ControlFlow<()>,
) -> Result<()> {
    // Phase totals at debug level (`cxr -v predict`): decoding against inference.
    let (mut decode_time, mut infer_time) = (Duration::ZERO, Duration::ZERO);
    for chunk in images.chunks(PREDICT_BATCH) {
        let start = Instant::now();
        let decoded: Vec<Result<Vec<u8>>> = chunk.par_iter().map(|p| model.preprocess(p)).collect();
        decode_time += start.elapsed();
        let start = Instant::now();
        let pixels: Vec<&[u8]> = decoded
            .iter()
            .filter_map(|d| d.as_ref().ok().map(Vec::as_slice))
            .collect();
        let (rows, classes) = if pixels.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            model.classify(&model.input(&pixels)?)?
        };
        let mut rows = rows.into_iter().zip(classes);
        infer_time += start.elapsed();
        for (path, d) in chunk.iter().zip(decoded) {
            let flow = match d {
                Ok(_) => {
                    let Some((row, class)) = rows.next() else {
                        break;
                    };
                    emit(Ok(prediction(model, path, row, class)))
                }
                Err(e) => emit(Err(unreadable(path, e))),
            };
            if flow.is_break() {
                return Ok(());
            }
        }
    }
    tracing::debug!(
        images = images.len(),
        decode_seconds = decode_time.as_secs_f64(),
        inference_seconds = infer_time.as_secs_f64(),
        batch = PREDICT_BATCH,
        "predict: phases"
    );
    Ok(())
}

/// What a multi-label prediction calls a film with no finding called.
pub const NO_FINDING_CALLED: &str = "no finding";

/// The prediction of one file: its probabilities and the class `predicted` (a single-label
/// run's; a multi-label run calls each finding at its threshold instead).
fn prediction(model: &TrainedModel, path: &Path, row: Vec<f32>, predicted: usize) -> Prediction {
    let classes = model.classes();
    if model.is_multilabel() {
        let called: Vec<bool> = row
            .iter()
            .enumerate()
            .map(|(k, &p)| model.calls(k, p))
            .collect();
        let names: Vec<&str> = classes
            .iter()
            .zip(&called)
            .filter_map(|(f, &c)| c.then_some(f.as_str()))
            .collect();
        return Prediction {
            path: path.to_path_buf(),
            predicted: if names.is_empty() {
                NO_FINDING_CALLED.to_string()
            } else {
                names.join("|")
            },
            probabilities: classes.iter().cloned().zip(row).collect(),
            called,
        };
    }
    Prediction {
        path: path.to_path_buf(),
        predicted: classes.get(predicted).cloned().unwrap_or_default(),
        probabilities: classes.iter().cloned().zip(row).collect(),
        called: Vec::new(),
    }
}

fn unreadable(path: &Path, e: InferenceError) -> Unreadable {
    let reason = match e {
        // The decoder's message already names the file; keep only its reason.
        InferenceError::Data(cxr_data::DataError::Decode { reason, .. }) => reason,
        other => other.to_string(),
    };
    Unreadable {
        path: path.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_sorts_by_probability() {
        let p = Prediction {
            path: "x.png".into(),
            predicted: "b".into(),
            probabilities: vec![("a".into(), 0.2), ("b".into(), 0.5), ("c".into(), 0.3)],
            called: Vec::new(),
        };
        let top: Vec<String> = p.top(2).into_iter().map(|(c, _)| c).collect();
        assert_eq!(top, ["b", "c"]);
        let json = p.to_json();
        assert_eq!(json["predicted"], "b");
        assert!((json["probabilities"]["c"].as_f64().unwrap_or(0.0) - 0.3).abs() < 1e-6);
        assert!(json.get("called").is_none());
        let multi = Prediction {
            predicted: "b".into(),
            called: vec![false, true, false],
            ..p
        };
        let json = multi.to_json();
        assert_eq!(json["called"]["b"], true);
        assert_eq!(json["called"]["a"], false);
    }

    #[test]
    fn folders_are_searched_without_masks() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        for f in [
            "a/images/1.png",
            "a/masks/1.png",
            "b/2.JPG",
            "b/notes.txt",
            ".h/3.png",
        ] {
            let path = tmp.path().join(f);
            std::fs::create_dir_all(path.parent().ok_or("parent")?)?;
            std::fs::write(path, b"x")?;
        }
        let found = collect_images(&[tmp.path().to_path_buf()])?;
        let rel: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(tmp.path()).map(|r| r.display().to_string()))
            .collect::<std::result::Result<_, _>>()?;
        assert_eq!(rel, ["a/images/1.png", "b/2.JPG"]);
        let missing = collect_images(&[tmp.path().join("nope")]);
        assert!(matches!(missing, Err(InferenceError::Missing(_))));
        Ok(())
    }
}
