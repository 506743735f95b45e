//! A training step's forward and backward at 128x128 works for every model and freeze depth,
//! through the ResNet stem's 3x3/2 max-pool: every trainable weight gets a finite, non-zero
//! gradient and no frozen one gets any.

use candle_core::Device;
use candle_nn::ModuleT;
use cxr_models::{ModelConfig, ModelKind};

use crate::support::{images, labels, TestResult};

fn forward_backward(kind: ModelKind, freeze: usize) -> TestResult {
    let model = ModelConfig::new(kind, 4)
        .with_freeze(freeze)
        .init(&Device::Cpu, 0)?;
    let logits = model.forward_t(&images(2, 3, 128)?, true)?;
    assert_eq!(logits.dims(), [2, 4]);
    let loss = candle_nn::loss::cross_entropy(&logits, &labels(2)?)?;
    assert!(loss.to_scalar::<f32>()?.is_finite());
    let grads = loss.backward()?;
    for param in model.parameters() {
        let grad = grads.get(param.var());
        if param.is_trainable() {
            let grad =
                grad.ok_or_else(|| format!("{kind}/{freeze}: no gradient for {}", param.name()))?;
            let norm = grad.sqr()?.sum_all()?.to_scalar::<f32>()?;
            assert!(
                norm.is_finite() && norm > 0.0,
                "{kind}/{freeze}: {} gradient norm {norm}",
                param.name()
            );
        } else {
            assert!(
                grad.is_none(),
                "{kind}/{freeze}: gradient for {}",
                param.name()
            );
        }
    }
    Ok(())
}

#[test]
fn cnn() -> TestResult {
    forward_backward(ModelKind::Cnn, 0)
}

#[test]
fn resnet18_all_depths() -> TestResult {
    (0..=4).try_for_each(|k| forward_backward(ModelKind::Resnet18, k))
}

#[test]
fn resnet34_all_depths() -> TestResult {
    (0..=4).try_for_each(|k| forward_backward(ModelKind::Resnet34, k))
}

#[test]
fn resnet50_all_depths() -> TestResult {
    (0..=4).try_for_each(|k| forward_backward(ModelKind::Resnet50, k))
}

#[test]
fn single_channel_cnn() -> TestResult {
    let model = ModelConfig::new(ModelKind::Cnn, 2)
        .with_in_channels(1)
        .init(&Device::Cpu, 0)?;
    let probs = model.probabilities(&images(2, 1, 64)?)?;
    let sums = probs.sum(1)?.to_vec1::<f32>()?;
    assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");
    // Three channels into a one-channel model is refused with the expected count in the message.
    let err = model
        .forward_t(&images(2, 3, 64)?, false)
        .err()
        .ok_or("accepted 3 channels")?;
    assert!(
        err.to_string().contains("expects 1 input channels"),
        "{err}"
    );
    Ok(())
}
