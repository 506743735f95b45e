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
    /// The statistics the starting weights were trained with: ImageNet's for ImageNet weights
    /// (published, or a file), a source run's own for weights taken from a cxr run (see
    /// `cxr-trainer`'s `preprocessing::derive`), the training split's for random init.
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
    /// The statistics to use, given whether the model starts from ImageNet weights and the
    /// training split (a source run's statistics are chosen before this, by the trainer).
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

/// The input transform shared by training and evaluation: scale to [0, 1], normalise,
/// replicate gray to the model's channels. Evaluation batches use it alone; training batches may
/// add seeded augmentation on top ([`train_batch`]), as torchvision keeps separate train and
/// eval transforms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchSpec {
    /// Input channels the model wants: 1, or 3 (gray replicated).
    pub channels: usize,
    /// Normalisation statistics.
    pub stats: PixelStats,
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

/// An evaluation batch: images `(batch, channels, size, size)` f32 and labels `(batch,)` u32,
/// never augmented (so it takes no random generator).
pub fn eval_batch(
    set: &ImageSet,
    indices: &[usize],
    spec: &BatchSpec,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let images: Vec<&[u8]> = indices.iter().map(|&i| set.image(i)).collect();
    let x = input_tensor(&images, set.size, spec, device)?;
    Ok((x, labels_tensor(set, indices, device)?))
}

/// A training batch: as [`eval_batch`], with `augment` applied to each image first when given.
///
/// `rng` drives augmentation (one sub-seed per image, drawn in order, so the result does not
/// depend on thread scheduling); it is not touched when `augment` is `None`.
pub fn train_batch(
    set: &ImageSet,
    indices: &[usize],
    spec: &BatchSpec,
    augment: Option<&Augment>,
    rng: &mut impl Rng,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let Some(aug) = augment else {
        return eval_batch(set, indices, spec, device);
    };
    spec.validate()?;
    let size = set.size as usize;
    let plane = size * size;
    let seeds: Vec<u64> = indices.iter().map(|_| rng.random()).collect();
    let mut data = vec![0f32; indices.len() * spec.channels * plane];
    data.par_chunks_mut(spec.channels * plane)
        .zip(indices.par_iter().zip(seeds.par_iter()))
        .for_each(|(out, (&i, &seed))| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            normalise_into(out, &aug.apply(set.image(i), size, &mut rng), &spec.stats);
        });
    let images = Tensor::from_vec(data, (indices.len(), spec.channels, size, size), device)?;
    Ok((images, labels_tensor(set, indices, device)?))
}

/// `(n, channels, size, size)` model input from `n` square 8-bit images of side `size`.
pub fn input_tensor(
    images: &[&[u8]],
    size: u32,
    spec: &BatchSpec,
    device: &Device,
) -> Result<Tensor> {
    spec.validate()?;
    let size = size as usize;
    let plane = size * size;
    let mut data = vec![0f32; images.len() * spec.channels * plane];
    data.par_chunks_mut(spec.channels * plane)
        .zip(images.par_iter())
        .for_each(|(out, src)| {
            let pixels: Vec<f32> = src.iter().map(|&p| f32::from(p) / 255.0).collect();
            normalise_into(out, &pixels, &spec.stats);
        });
    Ok(Tensor::from_vec(
        data,
        (images.len(), spec.channels, size, size),
        device,
    )?)
}

/// Writes `pixels` (in [0, 1]) normalised into each channel plane of `out`.
fn normalise_into(out: &mut [f32], pixels: &[f32], stats: &PixelStats) {
    for (c, chan) in out.chunks_mut(pixels.len()).enumerate() {
        let (m, s) = (stats.mean[c], stats.std[c]);
        for (o, &p) in chan.iter_mut().zip(pixels) {
            *o = (p - m) / s;
        }
    }
}

fn labels_tensor(set: &ImageSet, indices: &[usize], device: &Device) -> Result<Tensor> {
    let labels: Vec<u32> = indices.iter().map(|&i| set.labels[i]).collect();
    Ok(Tensor::from_vec(labels, indices.len(), device)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, Stream};

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
        };
        let (x, y) = eval_batch(&set, &[2, 0], &spec, &Device::Cpu)?;
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
        };
        let aug = Augment::default();
        let draw = || -> Result<Vec<f32>> {
            let mut rng = seed::rng(4, Stream::Augment);
            let (x, _) = train_batch(&set, &[0, 1, 2], &spec, Some(&aug), &mut rng, &Device::Cpu)?;
            Ok(x.flatten_all()?.to_vec1::<f32>()?)
        };
        assert_eq!(draw()?, draw()?);
        Ok(())
    }
}
