//! The frozen-prefix cache. With freeze k >= 1 the stem and `layer1..=layer{k}` run in eval mode
//! with fixed weights, so their output is a fixed function of the (unaugmented) image: compute it
//! once per image and train only the rest of the network on it, every epoch. Augmentation makes
//! each epoch's input different, so the cache is off then; so it is for models without a frozen
//! prefix, when the setting turns it off, or when it would not fit the memory limit.
//!
//! The cache holds f32 features in memory (e.g. 128 kB per image for ResNet18 at freeze 2 and
//! 128x128 input); the limit keeps a large dataset at a low freeze depth from exhausting RAM.

use std::time::Instant;

use candle_core::Tensor;
use cxr_data::{eval_batch, BatchSpec, ImageSet};
use cxr_models::Model;

use crate::error::Result;

/// Largest cache built, in bytes (8 GiB): a third of a 24 GiB machine.
pub const MAX_BYTES: u64 = 8 << 30;

/// Why the cache is not used, or that it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixDecision {
    /// Build and use it.
    Use,
    /// Not used, for this reason (said in the run log).
    Off(String),
}

/// Decides whether a run may use the cache. Pure, so each case is tested.
pub fn decide(
    enabled: bool,
    has_prefix: bool,
    augmented: bool,
    bytes: u64,
    limit: u64,
) -> PrefixDecision {
    let off = |why: &str| PrefixDecision::Off(why.to_string());
    if !has_prefix {
        off("no frozen prefix (freeze 0 or the CNN)")
    } else if !enabled {
        off("turned off by train.prefix_cache = false")
    } else if augmented {
        off("augmentation changes the prefix's input every epoch")
    } else if bytes > limit {
        PrefixDecision::Off(format!(
            "it would need {} MB, above the {} MB limit",
            bytes >> 20,
            limit >> 20
        ))
    } else {
        PrefixDecision::Use
    }
}

/// Prefix outputs of every image of a set, `(images, C, H', W')`.
#[derive(Debug)]
pub struct PrefixCache {
    features: Tensor,
    labels: Vec<u32>,
    /// Wall time of the one-time prefix pass, seconds.
    pub build_time_s: f64,
}

impl PrefixCache {
    /// Bytes the cache of `model` over `set` would take, from one image's prefix output.
    pub fn estimate_bytes(model: &Model, set: &ImageSet, spec: &BatchSpec) -> Result<u64> {
        if set.is_empty() || !model.has_frozen_prefix() {
            return Ok(0);
        }
        let (x, _) = eval_batch(set, &[0], spec, model.device())?;
        Ok(match model.forward_prefix(&x)? {
            Some(one) => (one.elem_count() * 4 * set.len()) as u64,
            None => 0,
        })
    }

    /// Runs the prefix over every image of `set` (eval mode, no gradient) in batches.
    pub fn build(
        model: &Model,
        set: &ImageSet,
        spec: &BatchSpec,
        batch_size: usize,
    ) -> Result<Self> {
        let start = Instant::now();
        let all: Vec<usize> = (0..set.len()).collect();
        let mut parts = Vec::new();
        for chunk in all.chunks(batch_size.max(1)) {
            let (x, _) = eval_batch(set, chunk, spec, model.device())?;
            if let Some(features) = model.forward_prefix(&x)? {
                parts.push(features);
            }
        }
        let features = Tensor::cat(&parts, 0)?;
        Ok(Self {
            features,
            labels: set.labels.clone(),
            build_time_s: start.elapsed().as_secs_f64(),
        })
    }

    /// Features and labels of `indices`: `(len, C, H', W')` and `(len,)`.
    pub fn batch(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let device = self.features.device();
        let idx: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
        let idx = Tensor::new(idx.as_slice(), device)?;
        let labels: Vec<u32> = indices.iter().map(|&i| self.labels[i]).collect();
        Ok((
            self.features.index_select(&idx, 0)?,
            Tensor::new(labels.as_slice(), device)?,
        ))
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        (self.features.elem_count() * 4) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table() {
        let gb = 1u64 << 30;
        let cases = [
            (true, true, false, gb, PrefixDecision::Use),
            (
                true,
                false,
                false,
                gb,
                PrefixDecision::Off("no frozen prefix (freeze 0 or the CNN)".into()),
            ),
            (
                false,
                true,
                false,
                gb,
                PrefixDecision::Off("turned off by train.prefix_cache = false".into()),
            ),
            (
                true,
                true,
                true,
                gb,
                PrefixDecision::Off("augmentation changes the prefix's input every epoch".into()),
            ),
            (
                true,
                true,
                false,
                9 * gb,
                PrefixDecision::Off("it would need 9216 MB, above the 8192 MB limit".into()),
            ),
        ];
        for (enabled, has_prefix, augmented, bytes, expected) in cases {
            assert_eq!(
                decide(enabled, has_prefix, augmented, bytes, MAX_BYTES),
                expected
            );
        }
    }
}
