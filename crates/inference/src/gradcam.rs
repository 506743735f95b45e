//! Grad-CAM (Selvaraju et al., 2017): where in the image the evidence for a class lies,
//! according to the last convolutional stage.
//!
//! With `A` the last stage's feature map `(K, h, w)` and `y` the class's logit, each channel is
//! weighted by its mean gradient, `w_k = mean_ij dy/dA_kij`, and the map is
//! `relu(sum_k w_k A_k)`: positive where raising the activations would raise the class score.
//! The gradient is taken by running the model's head on a [`Var`] made from the detached feature
//! map ([`cxr_models::Model::features`], [`cxr_models::Model::head`]). The map is as coarse as
//! the stage (the CNN's `block5` before its pool: 1/16 of the input side; a ResNet's `layer4`:
//! 1/32) and is upsampled bilinearly for display.

use candle_core::{IndexOp, Tensor, Var};
use cxr_models::Model;

use crate::error::Result;
use crate::trained::most_probable;

/// A Grad-CAM map of one image for one class.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCam {
    /// The class explained (model class index).
    pub class: usize,
    /// Softmax probability of every class.
    pub probabilities: Vec<f32>,
    /// The logits the probabilities come from (a multi-label run's findings take their
    /// sigmoid instead).
    pub logits: Vec<f32>,
    /// `height x width` map, row-major, scaled to [0, 1] by its minimum and maximum (all zero
    /// when no location raises the class score).
    pub map: Vec<f32>,
    /// Rows of the map (the feature map's height).
    pub height: usize,
    /// Columns of the map.
    pub width: usize,
}

impl GradCam {
    /// The most probable class.
    pub fn predicted(&self) -> usize {
        most_probable(&self.probabilities)
    }

    /// True when no location raises the class score (the map is all zero): the class's
    /// evidence is nowhere, typically for a class the model finds very unlikely.
    pub fn is_blank(&self) -> bool {
        self.map.iter().all(|&v| v == 0.0)
    }

    /// The probability of the explained class.
    pub fn probability(&self) -> f32 {
        self.probabilities.get(self.class).copied().unwrap_or(0.0)
    }

    /// The map resized to `width x height` by bilinear interpolation with pixel centres aligned
    /// (as `cv2.resize` and `torch.nn.functional.interpolate(align_corners=False)` do).
    pub fn upsample(&self, width: usize, height: usize) -> Vec<f32> {
        let (w0, h0) = (self.width, self.height);
        if w0 == 0 || h0 == 0 {
            return vec![0.0; width * height];
        }
        let axis = |out: usize, src: usize| -> Vec<(usize, usize, f32)> {
            (0..out)
                .map(|o| {
                    let x = ((o as f32 + 0.5) * src as f32 / out as f32 - 0.5).max(0.0);
                    let lo = (x.floor() as usize).min(src - 1);
                    let hi = (lo + 1).min(src - 1);
                    (lo, hi, x - lo as f32)
                })
                .collect()
        };
        let (xs, ys) = (axis(width, w0), axis(height, h0));
        let at = |r: usize, c: usize| self.map[r * w0 + c];
        let mut out = Vec::with_capacity(width * height);
        for &(y0, y1, fy) in &ys {
            for &(x0, x1, fx) in &xs {
                let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
                let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
                out.push(top * (1.0 - fy) + bottom * fy);
            }
        }
        out
    }
}

/// Grad-CAM of `input` `(1, channels, H, W)` for `class`, or for the predicted class when
/// `None`. The model runs in eval mode; its weights are not changed.
pub fn grad_cam(model: &Model, input: &Tensor, class: Option<usize>) -> Result<GradCam> {
    grad_cam_through(model, input, class, |features| Ok(model.head(features)?))
}

/// [`grad_cam`] with the class scores computed from the feature map by `head` instead of the
/// network's own pooling and `fc`: how a classic logistic head, folded into one linear layer
/// on the pooled features, is explained.
pub fn grad_cam_through(
    model: &Model,
    input: &Tensor,
    class: Option<usize>,
    head: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<GradCam> {
    let features = model.features(input)?.detach();
    let (_, _, height, width) = features.dims4()?;
    let var = Var::from_tensor(&features)?;
    let logits = head(var.as_tensor())?;
    let probabilities = candle_nn::ops::softmax(&logits, 1)?
        .i(0)?
        .to_vec1::<f32>()?;
    let logit_values = logits.i(0)?.to_vec1::<f32>()?;
    let predicted = most_probable(&probabilities);
    let class = class.unwrap_or(predicted);
    let grads = logits.i((0, class))?.backward()?;
    let grad = grads.get(var.as_tensor()).ok_or_else(|| {
        candle_core::Error::msg("Grad-CAM: the class score has no gradient w.r.t. the features")
    })?;
    let weights = grad.mean_keepdim((2, 3))?;
    let cam = features
        .broadcast_mul(&weights)?
        .sum(1)?
        .relu()?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let map = min_max(&cam);
    Ok(GradCam {
        class,
        probabilities,
        logits: logit_values,
        map,
        height,
        width,
    })
}

/// Scales `cam` (already non-negative) to [0, 1] by its minimum and maximum, as the reference
/// implementation (`pytorch-grad-cam`'s `scale_cam_image`) does, so the colour bar spans the
/// map's range. A map with no positive value stays all zero (no evidence anywhere); a constant
/// positive map becomes all one (evidence everywhere alike).
fn min_max(cam: &[f32]) -> Vec<f32> {
    let max = cam.iter().copied().fold(0f32, f32::max);
    let min = cam.iter().copied().fold(max, f32::min);
    if max <= 0.0 {
        vec![0.0; cam.len()]
    } else if max - min <= f32::EPSILON * max {
        vec![1.0; cam.len()]
    } else {
        cam.iter().map(|v| (v - min) / (max - min)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsampling_keeps_corners_and_interpolates_between() {
        let cam = GradCam {
            class: 0,
            probabilities: vec![1.0],
            logits: vec![0.0],
            map: vec![0.0, 1.0, 0.0, 1.0],
            height: 2,
            width: 2,
        };
        let up = cam.upsample(4, 2);
        // Columns at source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        assert_eq!(up[..4], [0.0, 0.25, 0.75, 1.0]);
        assert_eq!(up[..4], up[4..]);
        assert_eq!(cam.upsample(2, 2), cam.map);
    }

    #[test]
    fn min_max_scaling_cases() {
        assert_eq!(min_max(&[0.0, 0.0]), [0.0, 0.0]);
        assert_eq!(min_max(&[2.0, 2.0]), [1.0, 1.0]);
        assert_eq!(min_max(&[1.0, 3.0, 2.0]), [0.0, 1.0, 0.5]);
    }

    #[test]
    fn the_map_follows_the_class() -> Result<()> {
        let device = candle_core::Device::Cpu;
        let model = cxr_models::ModelConfig::new(cxr_models::ModelKind::Cnn, 3).init(&device, 3)?;
        let x = (Tensor::arange(0u32, 3 * 64 * 64, &device)?.to_dtype(candle_core::DType::F32)?
            * 0.37)?
            .sin()?
            .reshape((1, 3, 64, 64))?;
        let a = grad_cam(&model, &x, Some(0))?;
        let b = grad_cam(&model, &x, Some(1))?;
        assert_eq!((a.height, a.width), (4, 4));
        assert!((a.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(a.map.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_ne!(a.map, b.map, "different classes, different evidence");
        assert_eq!(grad_cam(&model, &x, None)?.class, a.predicted());
        Ok(())
    }
}
