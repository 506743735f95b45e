//! From cached 8-bit images to model-ready tensors: scale to [0, 1], augment, normalise,
//! replicate gray to 3 channels when the model wants 3.

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::augment::Augment;
use crate::dataset::ImageSet;
use crate::error::{DataError, Result};

/// Per-channel mean and standard deviation subtracted from / divided into [0, 1] pixels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PixelStats {
    /// Mean per channel (a 1-channel model uses the first).
    pub mean: [f32; 3],
    /// Standard deviation per channel.
    pub std: [f32; 3],
}

impl PixelStats {
    /// ImageNet statistics, for models that start from ImageNet weights.
    pub const IMAGENET: Self = Self {
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
    };

    /// Mean and standard deviation of the pixels of `indices` (the training split), the same
    /// value for every channel since radiographs are gray.
    pub fn of_images(set: &ImageSet, indices: &[usize]) -> Self {
        let (sum, sq, n) = indices
            .iter()
            .map(|&i| {
                set.image(i)
                    .iter()
                    .fold((0f64, 0f64, 0f64), |(s, q, n), &p| {
                        let v = f64::from(p) / 255.0;
                        (s + v, q + v * v, n + 1.0)
                    })
            })
            .fold((0.0, 0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        let mean = if n > 0.0 { sum / n } else { 0.0 };
        let std = if n > 0.0 {
            (sq / n - mean * mean).max(0.0).sqrt()
        } else {
            1.0
        };
        let std = if std < 1e-6 { 1.0 } else { std };
        Self {
            mean: [mean as f32; 3],
            std: [std as f32; 3],
        }
    }
}

/// Which statistics normalise the pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// ImageNet's when the model starts from pretrained weights, the training split's otherwise.
    #[default]
    Auto,
    /// Always ImageNet's.
    Imagenet,
    /// Always the training split's.
    Dataset,
    /// Only scale to [0, 1].
    None,
}

impl Normalization {
    /// The statistics to use, given whether the model is pretrained and the training split.
    pub fn stats(self, pretrained: bool, set: &ImageSet, train: &[usize]) -> PixelStats {
        match (self, pretrained) {
            (Self::Imagenet, _) | (Self::Auto, true) => PixelStats::IMAGENET,
            (Self::Dataset, _) | (Self::Auto, false) => PixelStats::of_images(set, train),
            (Self::None, _) => PixelStats {
                mean: [0.0; 3],
                std: [1.0; 3],
            },
        }
    }
}

/// How to build a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSpec {
    /// Input channels the model wants: 1, or 3 (gray replicated).
    pub channels: usize,
    /// Normalisation statistics.
    pub stats: PixelStats,
    /// Augmentation for training batches; `None` for evaluation.
    pub augment: Option<Augment>,
}

impl BatchSpec {
    /// Checks the channel count.
    pub fn validate(&self) -> Result<()> {
        if self.channels == 1 || self.channels == 3 {
            Ok(())
        } else {
            Err(DataError::InvalidSetting {
                setting: "channels",
                message: format!("{} channels; models take 1 or 3", self.channels),
            })
        }
    }
}

/// Builds one batch: images `(batch, channels, size, size)` f32 and labels `(batch,)` u32.
///
/// `rng` drives augmentation (one sub-seed per image, drawn in order, so the result does not
/// depend on thread scheduling); it is not touched when `spec.augment` is `None`.
pub fn make_batch(
    set: &ImageSet,
    indices: &[usize],
    spec: &BatchSpec,
    rng: &mut impl Rng,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    spec.validate()?;
    let size = set.size as usize;
    let plane = size * size;
    let seeds: Vec<Option<u64>> = indices
        .iter()
        .map(|_| spec.augment.map(|_| rng.random()))
        .collect();
    let mut data = vec![0f32; indices.len() * spec.channels * plane];
    data.par_chunks_mut(spec.channels * plane)
        .zip(indices.par_iter().zip(seeds.par_iter()))
        .for_each(|(out, (&i, seed))| {
            let src = set.image(i);
            let pixels: Vec<f32> = match (spec.augment, seed) {
                (Some(aug), Some(s)) => {
                    aug.apply(src, size, &mut rand_chacha::ChaCha8Rng::seed_from_u64(*s))
                }
                _ => src.iter().map(|&p| f32::from(p) / 255.0).collect(),
            };
            for (c, chan) in out.chunks_mut(plane).enumerate() {
                let (m, s) = (spec.stats.mean[c], spec.stats.std[c]);
                for (o, &p) in chan.iter_mut().zip(&pixels) {
                    *o = (p - m) / s;
                }
            }
        });
    let images = Tensor::from_vec(data, (indices.len(), spec.channels, size, size), device)?;
    let labels: Vec<u32> = indices.iter().map(|&i| set.labels[i]).collect();
    let labels = Tensor::from_vec(labels, indices.len(), device)?;
    Ok((images, labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed;

    fn tiny_set() -> ImageSet {
        ImageSet {
            classes: vec!["a".into(), "b".into()],
            size: 2,
            labels: vec![0, 1, 1],
            pixels: vec![0, 255, 0, 255, 51, 51, 51, 51, 102, 102, 102, 102],
            files: vec!["a/0.png".into(), "b/1.png".into(), "b/2.png".into()],
        }
    }

    #[test]
    fn shapes_channels_and_normalisation() -> Result<()> {
        let set = tiny_set();
        let spec = BatchSpec {
            channels: 3,
            stats: PixelStats::IMAGENET,
            augment: None,
        };
        let (x, y) = make_batch(&set, &[2, 0], &spec, &mut seed::rng(0, "b"), &Device::Cpu)?;
        assert_eq!(x.dims(), [2, 3, 2, 2]);
        assert_eq!(y.to_vec1::<u32>()?, [1, 0]);
        let first = x.get(0)?.to_vec3::<f32>()?;
        let expect = |c: usize| (0.4 - PixelStats::IMAGENET.mean[c]) / PixelStats::IMAGENET.std[c];
        for (c, plane) in first.iter().enumerate() {
            assert!((plane[1][1] - expect(c)).abs() < 1e-6);
        }
        Ok(())
    }

    #[test]
    fn dataset_stats_come_from_the_given_indices() {
        let set = tiny_set();
        let s = PixelStats::of_images(&set, &[1, 2]);
        assert!((s.mean[0] - 0.3).abs() < 1e-6);
        assert!((s.std[0] - 0.1).abs() < 1e-6);
        let spec = Normalization::Auto.stats(false, &set, &[1, 2]);
        assert_eq!(spec, s);
        assert_eq!(
            Normalization::Auto.stats(true, &set, &[1, 2]),
            PixelStats::IMAGENET
        );
    }

    #[test]
    fn augmented_batches_are_seeded() -> Result<()> {
        let set = tiny_set();
        let spec = BatchSpec {
            channels: 1,
            stats: PixelStats::IMAGENET,
            augment: Some(Augment::default()),
        };
        let a = make_batch(
            &set,
            &[0, 1, 2],
            &spec,
            &mut seed::rng(4, "augment"),
            &Device::Cpu,
        )?
        .0;
        let b = make_batch(
            &set,
            &[0, 1, 2],
            &spec,
            &mut seed::rng(4, "augment"),
            &Device::Cpu,
        )?
        .0;
        assert_eq!(
            a.flatten_all()?.to_vec1::<f32>()?,
            b.flatten_all()?.to_vec1::<f32>()?
        );
        Ok(())
    }
}
