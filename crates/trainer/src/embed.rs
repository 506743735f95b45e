//! Pooled features of every image of a set: what classic heads are fitted on and `cxr
//! features` exports. The backbone runs in eval mode, once per image, without gradients; with
//! the whole backbone frozen this is the frozen-prefix pass of [`crate::prefix_cache`] carried
//! through the last stage and the global average pool.

use std::time::Instant;

use cxr_data::{eval_batch, BatchSpec, ImageSet, Split};
use cxr_heads::Matrix;
use cxr_models::Model;
use cxr_results::{split_name, FeatureTable};

use crate::error::Result;

/// `(images, dim)` features, row-major, in the set's image order.
#[derive(Debug, Clone)]
pub struct Embeddings {
    /// Length of one feature vector ([`cxr_models::ModelKind::feature_dim`]).
    pub dim: usize,
    /// `images * dim` values, image after image.
    pub values: Vec<f32>,
    /// Wall time of the pass, seconds.
    pub time_s: f64,
}

/// Runs `model`'s [`Model::embed`] over the images `indices` of `set` (eval mode, batches of
/// `batch_size`), in that order.
pub fn embed_images(
    model: &Model,
    set: &ImageSet,
    indices: &[usize],
    spec: &BatchSpec,
    batch_size: usize,
) -> Result<Embeddings> {
    let start = Instant::now();
    let dim = model.config().kind.feature_dim();
    let mut values = Vec::with_capacity(indices.len() * dim);
    for chunk in indices.chunks(batch_size.max(1)) {
        let (x, _) = eval_batch(set, chunk, spec, model.device())?;
        values.extend(model.embed(&x)?.flatten_all()?.to_vec1::<f32>()?);
    }
    Ok(Embeddings {
        dim,
        values,
        time_s: start.elapsed().as_secs_f64(),
    })
}

/// [`embed_images`] over every image of `set`.
pub fn embed_set(
    model: &Model,
    set: &ImageSet,
    spec: &BatchSpec,
    batch_size: usize,
) -> Result<Embeddings> {
    let all: Vec<usize> = (0..set.len()).collect();
    embed_images(model, set, &all, spec, batch_size)
}

/// Every image's features (`features`: one row per image of `set`, in its order) with its
/// path relative to the dataset root, its class and its split: `features.parquet`'s rows.
pub fn feature_table(set: &ImageSet, split: &Split, features: &Matrix) -> FeatureTable {
    let mut splits = vec![String::new(); set.len()];
    for (name, indices) in [
        (split_name::TRAIN, &split.train),
        (split_name::VAL, &split.val),
        (split_name::TEST, &split.test),
    ] {
        for &i in indices {
            splits[i] = name.to_string();
        }
    }
    FeatureTable {
        paths: set
            .files
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        classes: set
            .labels
            .iter()
            .map(|&l| set.classes[l as usize].clone())
            .collect(),
        splits,
        dim: features.cols(),
        values: features.data().to_vec(),
    }
}
