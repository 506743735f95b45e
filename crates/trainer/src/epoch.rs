//! One pass over data, the way torchvision's reference `train.py` splits it:
//! [`train_one_epoch`] and [`evaluate`], both reading batches from a [`Source`].

use candle_core::{Device, Tensor};
use candle_nn::ModuleT;
use cxr_data::{eval_batch, train_batch, Augment, BatchSpec, ImageSet};
use cxr_metrics::ConfusionMatrix;
use cxr_models::Model;

use crate::adam::Adam;
use crate::error::{Result, TrainerError};
use crate::observer::Observer;
use crate::prefix_cache::PrefixCache;

/// Where a batch's network input comes from.
pub enum Source<'a> {
    /// Images through the input transform (and augmentation, for training batches), into the
    /// whole network.
    Images {
        /// The images.
        set: &'a ImageSet,
        /// Channels and normalisation.
        spec: &'a BatchSpec,
        /// Seeded augmentation of training batches; evaluation batches never get it.
        augment: Option<&'a Augment>,
    },
    /// Cached frozen-prefix outputs, into the rest of the network.
    Prefix(&'a PrefixCache),
}

impl Source<'_> {
    pub(crate) fn train_batch(
        &self,
        indices: &[usize],
        rng: &mut impl rand::Rng,
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        match self {
            Source::Images { set, spec, augment } => {
                Ok(train_batch(set, indices, spec, *augment, rng, device)?)
            }
            Source::Prefix(cache) => cache.batch(indices),
        }
    }

    pub(crate) fn eval_batch(
        &self,
        indices: &[usize],
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        match self {
            Source::Images { set, spec, .. } => Ok(eval_batch(set, indices, spec, device)?),
            Source::Prefix(cache) => cache.batch(indices),
        }
    }

    pub(crate) fn forward(&self, model: &Model, x: &Tensor, train: bool) -> Result<Tensor> {
        match self {
            Source::Images { .. } => Ok(model.forward_t(x, train)?),
            Source::Prefix(_) => Ok(model.forward_from_prefix_t(x, train)?),
        }
    }
}

/// The batches of one training epoch: `order` (indices into the source) cut into batches.
#[derive(Debug, Clone, Copy)]
pub struct EpochPlan<'a> {
    /// 1-based epoch, for error messages.
    pub epoch: usize,
    /// Sample indices in the epoch's order.
    pub order: &'a [usize],
    /// Training batch size.
    pub batch_size: usize,
}

impl EpochPlan<'_> {
    /// Number of batches.
    pub fn batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size.max(1))
    }
}

/// A model's predictions on a set of images.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Mean cross-entropy.
    pub loss: f64,
    /// True labels, in the order evaluated.
    pub labels: Vec<u32>,
    /// Predicted labels.
    pub predictions: Vec<u32>,
    /// The network's logits, `labels.len() x classes`, row-major.
    pub logits: Vec<f32>,
    /// Class probabilities, `labels.len() x classes`, row-major: the softmax of the logits, or
    /// of the logits over a temperature after [`Evaluation::scale`].
    pub probabilities: Vec<f32>,
    /// Confusion matrix of labels vs predictions.
    pub confusion: ConfusionMatrix,
}

impl Evaluation {
    /// Replaces the probabilities with `softmax(logits / temperature)` (temperature scaling):
    /// confidences change, predictions and the loss (at temperature 1) do not.
    pub fn scale(&mut self, temperature: f64) {
        let classes = self.confusion.matrix.len();
        self.probabilities =
            cxr_metrics::softmax_with_temperature(&self.logits, classes, temperature);
    }
}

/// Trains `model` for one epoch; returns the mean loss. `rng` drives augmentation. Fails with
/// [`TrainerError::NonFiniteLoss`] as soon as a batch loss is NaN or infinite.
pub fn train_one_epoch(
    model: &Model,
    opt: &mut Adam,
    source: &Source<'_>,
    plan: EpochPlan<'_>,
    rng: &mut impl rand::Rng,
    observer: &mut dyn Observer,
) -> Result<f64> {
    let device = model.device();
    step_batches(plan, opt, observer, |chunk| {
        let (x, y) = source.train_batch(chunk, rng, device)?;
        let logits = source.forward(model, &x, true)?;
        Ok(candle_nn::loss::cross_entropy(&logits, &y)?)
    })
}

/// One epoch of optimiser steps, whatever the objective: `loss_of` gives each batch's loss
/// (images `chunk` of `plan`'s order); returns the mean loss per image. Fails with
/// [`TrainerError::NonFiniteLoss`] as soon as a batch loss is NaN or infinite.
pub fn step_batches(
    plan: EpochPlan<'_>,
    opt: &mut Adam,
    observer: &mut dyn Observer,
    mut loss_of: impl FnMut(&[usize]) -> Result<Tensor>,
) -> Result<f64> {
    let mut total = 0.0;
    let mut seen = 0usize;
    for (b, chunk) in plan.order.chunks(plan.batch_size.max(1)).enumerate() {
        if crate::interrupt::stop_requested() {
            return Err(TrainerError::Interrupted);
        }
        let loss = loss_of(chunk)?;
        let value = loss.to_scalar::<f32>()?;
        if !value.is_finite() {
            return Err(TrainerError::NonFiniteLoss {
                epoch: plan.epoch,
                batch: b + 1,
                loss: value,
            });
        }
        opt.backward_step(&loss)?;
        total += f64::from(value) * chunk.len() as f64;
        seen += chunk.len();
        observer.batch_done(value);
    }
    Ok(total / seen.max(1) as f64)
}

/// Evaluates `model` (eval mode, no gradients kept) on `indices` of `source`, whose labels
/// range over `classes` classes.
pub fn evaluate(
    model: &Model,
    source: &Source<'_>,
    classes: usize,
    indices: &[usize],
    batch_size: usize,
) -> Result<Evaluation> {
    let device = model.device();
    let mut loss_sum = 0.0;
    let mut labels = Vec::with_capacity(indices.len());
    let mut predictions = Vec::with_capacity(indices.len());
    let mut probabilities = Vec::with_capacity(indices.len() * classes);
    let mut all_logits = Vec::with_capacity(indices.len() * classes);
    for chunk in indices.chunks(batch_size.max(1)) {
        let (x, y) = source.eval_batch(chunk, device)?;
        let logits = source.forward(model, &x, false)?.detach();
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?.to_scalar::<f32>()?;
        loss_sum += f64::from(loss) * chunk.len() as f64;
        predictions.extend(logits.argmax(1)?.to_vec1::<u32>()?);
        all_logits.extend(logits.flatten_all()?.to_vec1::<f32>()?);
        probabilities.extend(
            candle_nn::ops::softmax(&logits, 1)?
                .flatten_all()?
                .to_vec1::<f32>()?,
        );
        labels.extend(y.to_vec1::<u32>()?);
    }
    let confusion = ConfusionMatrix::new(&labels, &predictions, classes);
    Ok(Evaluation {
        loss: loss_sum / indices.len().max(1) as f64,
        labels,
        predictions,
        logits: all_logits,
        probabilities,
        confusion,
    })
}

/// Evaluates `model` on images `indices` of `set`, unaugmented: what inference and external
/// validation call.
pub fn evaluate_images(
    model: &Model,
    set: &ImageSet,
    indices: &[usize],
    spec: &BatchSpec,
    batch_size: usize,
) -> Result<Evaluation> {
    let source = Source::Images {
        set,
        spec,
        augment: None,
    };
    evaluate(model, &source, set.classes.len(), indices, batch_size)
}
