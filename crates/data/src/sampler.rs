//! The order in which training images are visited each epoch.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::seq::SliceRandom;

use crate::dataset::count_labels;
use crate::error::{DataError, Result};

/// How an epoch draws training images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SamplerKind {
    /// In index order (evaluation, debugging).
    Sequential,
    /// Each image once per epoch, in a fresh random order.
    Shuffled,
    /// Class-balanced weighted random sampling with replacement: weight 1 / class count, epoch
    /// length = number of training images, so every class is drawn equally often on average.
    #[default]
    Balanced,
}

impl SamplerKind {
    /// The sampler's name in grid files and results (`balanced`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sequential => "sequential",
            Self::Shuffled => "shuffled",
            Self::Balanced => "balanced",
        }
    }
}

impl std::str::FromStr for SamplerKind {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sequential" => Ok(Self::Sequential),
            "shuffled" => Ok(Self::Shuffled),
            "balanced" => Ok(Self::Balanced),
            other => Err(DataError::InvalidSetting {
                setting: "sampler",
                message: format!("unknown sampler {other:?}; use sequential, shuffled or balanced"),
            }),
        }
    }
}

/// Draws epochs of training indices.
#[derive(Debug, Clone)]
pub struct Sampler {
    kind: SamplerKind,
    indices: Vec<usize>,
    weights: Option<WeightedIndex<f64>>,
}

impl Sampler {
    /// A sampler over `indices` (the training split) whose labels are `labels[i]`.
    pub fn new(kind: SamplerKind, indices: &[usize], labels: &[u32]) -> Result<Self> {
        if indices.is_empty() {
            return Err(DataError::InvalidSetting {
                setting: "split.train",
                message: "the training split is empty".into(),
            });
        }
        let weights = match kind {
            SamplerKind::Balanced => {
                let classes = indices
                    .iter()
                    .map(|&i| labels[i] as usize + 1)
                    .max()
                    .unwrap_or(0);
                let own: Vec<u32> = indices.iter().map(|&i| labels[i]).collect();
                let counts = count_labels(&own, classes);
                let w = own.iter().map(|&l| 1.0 / counts[l as usize] as f64);
                Some(
                    WeightedIndex::new(w).map_err(|e| DataError::InvalidSetting {
                        setting: "sampler",
                        message: e.to_string(),
                    })?,
                )
            }
            _ => None,
        };
        Ok(Self {
            kind,
            indices: indices.to_vec(),
            weights,
        })
    }

    /// The kind of sampling.
    pub fn kind(&self) -> SamplerKind {
        self.kind
    }

    /// Number of draws per epoch (the training-set size).
    pub fn epoch_len(&self) -> usize {
        self.indices.len()
    }

    /// One epoch's indices, drawn with `rng` (seed it per epoch for reproducibility).
    pub fn epoch(&self, rng: &mut impl rand::Rng) -> Vec<usize> {
        match (&self.kind, &self.weights) {
            (SamplerKind::Balanced, Some(w)) => (0..self.indices.len())
                .map(|_| self.indices[w.sample(rng)])
                .collect(),
            (SamplerKind::Shuffled, _) => {
                let mut order = self.indices.clone();
                order.shuffle(rng);
                order
            }
            _ => self.indices.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, Stream};

    #[test]
    fn balanced_sampling_evens_out_a_10_to_1_imbalance() -> Result<()> {
        let labels: Vec<u32> = (0..1100).map(|i| u32::from(i >= 1000)).collect();
        let idx: Vec<usize> = (0..1100).collect();
        let s = Sampler::new(SamplerKind::Balanced, &idx, &labels)?;
        let mut rng = seed::rng(0, Stream::Sampler);
        let draws: Vec<usize> = (0..10)
            .flat_map(|_| s.epoch(&mut rng))
            .take(10_000)
            .collect();
        assert_eq!(draws.len(), 10_000);
        let minority = draws.iter().filter(|&&i| labels[i] == 1).count() as f64 / 10_000.0;
        assert!(
            (0.45..=0.55).contains(&minority),
            "minority share {minority}"
        );
        Ok(())
    }

    #[test]
    fn shuffled_is_a_seeded_permutation_and_sequential_is_identity() -> Result<()> {
        let labels = vec![0u32; 50];
        let idx: Vec<usize> = (10..50).collect();
        let s = Sampler::new(SamplerKind::Shuffled, &idx, &labels)?;
        let a = s.epoch(&mut seed::rng_at(3, Stream::Sampler, 0));
        assert_eq!(a, s.epoch(&mut seed::rng_at(3, Stream::Sampler, 0)));
        assert_ne!(a, s.epoch(&mut seed::rng_at(3, Stream::Sampler, 1)));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, idx);
        let q = Sampler::new(SamplerKind::Sequential, &idx, &labels)?;
        assert_eq!(q.epoch(&mut seed::rng(0, Stream::Sampler)), idx);
        Ok(())
    }

    #[test]
    fn parse_and_reject_unknown() {
        assert_eq!(
            "balanced".parse::<SamplerKind>().ok(),
            Some(SamplerKind::Balanced)
        );
        let msg = "weighted"
            .parse::<SamplerKind>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("sampler") && msg.contains("weighted"), "{msg}");
    }
}
