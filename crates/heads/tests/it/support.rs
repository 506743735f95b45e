//! Synthetic feature sets for the integration tests.

use cxr_heads::{Matrix, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// A labelled split.
pub struct Split {
    pub features: Matrix,
    pub labels: Vec<u32>,
}

/// `rows` points of `classes` Gaussian clusters in `dims` dimensions, classes in turn: class
/// `c`'s mean is `separation` along axis `c` plus `offset` on every axis, noise N(0, 1).
/// Different `seed`s draw different points of the same clusters.
pub fn clusters(
    rows: usize,
    dims: usize,
    classes: usize,
    separation: f32,
    offset: f32,
    seed: u64,
) -> Result<Split> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0f32, 1.0).unwrap_or_else(|_| unreachable!("std 1 is valid"));
    let mut data = Vec::with_capacity(rows * dims);
    let mut labels = Vec::with_capacity(rows);
    for i in 0..rows {
        let class = i % classes;
        for d in 0..dims {
            let mean = offset + if d == class { separation } else { 0.0 };
            data.push(mean + noise.sample(&mut rng));
        }
        labels.push(class as u32);
    }
    Ok(Split {
        features: Matrix::new(rows, dims, data)?,
        labels,
    })
}

/// Fraction of `predicted` equal to `truth`.
pub fn accuracy(truth: &[u32], predicted: &[u32]) -> f64 {
    let right = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    right as f64 / truth.len() as f64
}
