//! `cxr explain`'s work: one radiograph through the run's preprocessing, Grad-CAM for the
//! predicted (or a named) class, and the figure written as PNG.

use std::path::Path;

use candle_core::Tensor;
use cxr_heads::HeadKind;
use image::RgbImage;

use crate::error::{InferenceError, Result};
use crate::gradcam::{grad_cam, grad_cam_through, GradCam};
use crate::overlay::render_overlay;
use crate::trained::TrainedModel;

/// A Grad-CAM explanation of one image.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The map, the class it explains and every class's probability.
    pub cam: GradCam,
    /// Name of the explained class.
    pub class: String,
    /// Name of the predicted class; for a multi-label run, the findings called (joined by
    /// `|`, or `no finding`).
    pub predicted: String,
    /// Whether the run is multi-label (`predicted` lists calls, not one class).
    pub multilabel: bool,
    /// The figure: radiograph, heatmap, colour bar, title.
    pub figure: RgbImage,
}

impl Explanation {
    /// Writes the figure as PNG.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.figure
            .save_with_format(path, image::ImageFormat::Png)
            .map_err(|e| InferenceError::Write {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
    }
}

/// Explains `image` for class `class` (matched by name), or for the predicted class.
pub fn explain(model: &TrainedModel, image: &Path, class: Option<&str>) -> Result<Explanation> {
    let target = class.map(|c| model.class_index(c)).transpose()?;
    let pixels = model.preprocess(image)?;
    let input = model.input(&[&pixels])?;
    let mut cam = match &model.head {
        None => grad_cam(&model.model, &input, target)?,
        Some(head) => {
            let Some((weights, biases)) = head.as_linear_layer() else {
                return Err(InferenceError::NotDifferentiable {
                    dir: model.run.path().to_path_buf(),
                    head: head.kind().map(|k| k.to_string()).unwrap_or_default(),
                    why: match head.kind().unwrap_or(HeadKind::Knn) {
                        HeadKind::SvmLinear | HeadKind::SvmRbf => {
                            "its class is a vote of one-vs-one SVMs"
                        }
                        HeadKind::RandomForest => {
                            "its class is a vote of trees, piecewise constant"
                        }
                        _ => "its class is a vote of the nearest training films",
                    },
                });
            };
            let device = model.model.device();
            let (classes, dim) = (biases.len(), head.features());
            let w = Tensor::from_vec(weights, (classes, dim), device)?;
            let b = Tensor::from_vec(biases, classes, device)?;
            grad_cam_through(&model.model, &input, target, |features| {
                Ok(model
                    .model
                    .pool(features)?
                    .matmul(&w.t()?)?
                    .broadcast_add(&b)?)
            })?
        }
    };
    if model.is_multilabel() {
        // Each finding's own probability: the sigmoid of its logit, not a share of one.
        let t = &model.preprocessing.temperatures;
        cam.probabilities = cam
            .logits
            .iter()
            .enumerate()
            .map(|(k, &z)| 1.0 / (1.0 + (-z / t.get(k).map_or(1.0, |&t| t as f32)).exp()))
            .collect();
    } else if let Some(t) = model.temperature {
        // softmax(ln p / T) = softmax(logits / T): the run's calibrated probabilities. The map
        // itself does not change (the class score's gradient only scales by 1 / T).
        let log_p: Vec<f32> = cam.probabilities.iter().map(|p| p.ln()).collect();
        cam.probabilities = cxr_metrics::softmax_with_temperature(&log_p, log_p.len(), t);
    }
    let classes = model.classes();
    let name = |i: usize| classes.get(i).cloned().unwrap_or_default();
    let (class, mut predicted) = (name(cam.class), name(cam.predicted()));
    let title = format!("Grad-CAM: {class}  p={:.3}", cam.probability());
    let file = image
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let subtitle = if model.is_multilabel() {
        let called: Vec<&str> = classes
            .iter()
            .zip(&cam.probabilities)
            .enumerate()
            .filter_map(|(k, (f, &p))| model.calls(k, p).then_some(f.as_str()))
            .collect();
        predicted = if called.is_empty() {
            crate::predict::NO_FINDING_CALLED.to_string()
        } else {
            called.join("|")
        };
        format!("{file}: called {predicted} - run {}", model.run.id())
    } else if cam.class == cam.predicted() {
        format!("{file}: predicted {predicted} - run {}", model.run.id())
    } else {
        let p = cam
            .probabilities
            .get(cam.predicted())
            .copied()
            .unwrap_or(0.0);
        format!(
            "{file}: predicted {predicted} (p={p:.3}) - run {}",
            model.run.id()
        )
    };
    // Shown as the original film, not the model's resized copy: the map is stretched to it.
    let window = &model.config.data.dicom_window;
    let radiograph = cxr_data::decode::to_u8(&cxr_data::decode::read_luma_with(image, window)?.0);
    let figure = render_overlay(&radiograph, &cam, &title, &subtitle)?;
    Ok(Explanation {
        cam,
        class,
        predicted,
        multilabel: model.is_multilabel(),
        figure,
    })
}
