//! Evaluation in batches: `cxr evaluate` and `cxr predict` run a trained model in batches of 32
//! while the trainer validates in batches of the training batch size, and `cxr evaluate` must
//! still reproduce a run's test metrics. So a model's outputs must not depend on how its
//! images are cut into batches.

use candle_core::Device;
use cxr_data::{BatchSpec, ImageSet, PixelStats};
use cxr_models::{ModelConfig, ModelKind};
use cxr_trainer::evaluate_images;
use rand::{Rng, SeedableRng};

use crate::support::TestResult;

/// `n` random 8-bit images of side `size`, labels cycling over 3 classes.
fn random_set(n: usize, size: u32) -> ImageSet {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    ImageSet {
        classes: vec!["a".into(), "b".into(), "c".into()],
        size,
        labels: (0..n as u32).map(|i| i % 3).collect(),
        pixels: (0..n * (size * size) as usize)
            .map(|_| rng.random())
            .collect(),
        files: (0..n).map(|i| format!("{i}.png").into()).collect(),
    }
}

#[test]
fn logits_do_not_depend_on_the_batch_size() -> TestResult {
    let set = random_set(70, 32);
    let spec = BatchSpec {
        channels: 3,
        stats: PixelStats::IMAGENET,
    };
    let indices: Vec<usize> = (0..set.len()).collect();
    for kind in [ModelKind::Cnn, ModelKind::Resnet18] {
        let model = ModelConfig::new(kind, 3).build(None, &Device::Cpu, 0)?;
        let reference = evaluate_images(&model, &set, &indices, &spec, 64)?;
        // 32: what `cxr evaluate` and `cxr predict` use; 7: a last batch of a different size.
        for batch in [32, 7, 70] {
            let other = evaluate_images(&model, &set, &indices, &spec, batch)?;
            assert_eq!(other.logits, reference.logits, "{kind:?}, batch {batch}");
            assert_eq!(other.probabilities, reference.probabilities);
            assert_eq!(other.predictions, reference.predictions);
        }
    }
    Ok(())
}
