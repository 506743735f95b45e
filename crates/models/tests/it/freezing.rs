//! Freezing: one optimizer step at each freeze depth leaves the frozen prefix (weights and
//! BatchNorm running statistics) bit-identical and changes everything else.

use candle_core::{Device, Tensor};
use candle_nn::{ModuleT, Optimizer};
use cxr_models::{ModelConfig, ModelKind, Role};

use crate::support::{bit_identical, images, labels, TestResult};

fn one_step_changes_exactly_the_trainable_part(kind: ModelKind, freeze: usize) -> TestResult {
    let model = ModelConfig::new(kind, 4)
        .with_freeze(freeze)
        .init(&Device::Cpu, 3)?;
    let before: Vec<Tensor> = model
        .parameters()
        .iter()
        .map(|p| p.tensor().copy())
        .collect::<Result<_, _>>()?;

    let trainable = model.trainable_vars();
    assert_eq!(
        trainable.iter().map(|v| v.elem_count()).sum::<usize>(),
        model.param_count().trainable
    );
    let mut opt = candle_nn::AdamW::new_lr(trainable, 1e-3)?;
    let logits = model.forward_t(&images(2, 3, 64)?, true)?;
    let loss = candle_nn::loss::cross_entropy(&logits, &labels(2)?)?;
    let grads = loss.backward()?;
    opt.step(&grads)?;

    let mut frozen = 0;
    for (param, old) in model.parameters().iter().zip(&before) {
        let same = bit_identical(param.tensor(), old)?;
        if param.is_frozen() {
            frozen += 1;
            assert!(
                same,
                "{kind} freeze {freeze}: frozen {} changed",
                param.name()
            );
            assert!(
                grads.get(param.var()).is_none(),
                "gradient computed for frozen {}",
                param.name()
            );
        } else {
            // Weights move by the optimizer step, running statistics by the training forward.
            assert!(
                !same,
                "{kind} freeze {freeze}: {} ({:?}) did not change",
                param.name(),
                param.role()
            );
        }
    }
    // Depth k >= 1 freezes conv1 + bn1 (5 tensors) and the stages' tensors; 0 freezes none.
    assert_eq!(frozen > 0, freeze > 0);
    let frozen_stats = model
        .frozen_parameters()
        .filter(|p| p.role() == Role::RunningStat)
        .count();
    assert_eq!(frozen_stats > 0, freeze > 0);
    Ok(())
}

#[test]
fn resnet18_every_freeze_depth() -> TestResult {
    for freeze in 0..=4 {
        one_step_changes_exactly_the_trainable_part(ModelKind::Resnet18, freeze)?;
    }
    Ok(())
}

#[test]
fn cnn_trains_everything() -> TestResult {
    one_step_changes_exactly_the_trainable_part(ModelKind::Cnn, 0)
}

#[test]
fn frozen_prefix_counts_per_depth() -> TestResult {
    // Tensors per ResNet18 stage: stem conv1 + bn1 (4) = 5; layer1 2 blocks x (2 convs + 2 BNs x 4)
    // = 20; layer2..4 add a downsample (1 + 4) = 25 each.
    let expected = [0, 25, 50, 75, 100];
    for (freeze, &n) in expected.iter().enumerate() {
        let model = ModelConfig::new(ModelKind::Resnet18, 4)
            .with_freeze(freeze)
            .init(&Device::Cpu, 0)?;
        assert_eq!(model.frozen_parameters().count(), n, "freeze {freeze}");
    }
    Ok(())
}

#[test]
fn prefix_then_suffix_is_the_whole_forward() -> TestResult {
    let x = images(2, 3, 64)?;
    for freeze in 0..=4 {
        let model = ModelConfig::new(ModelKind::Resnet18, 3)
            .with_freeze(freeze)
            .init(&Device::Cpu, 5)?;
        let prefix = model.forward_prefix(&x)?;
        assert_eq!(prefix.is_some(), freeze > 0, "freeze {freeze}");
        assert_eq!(model.has_frozen_prefix(), freeze > 0);
        let Some(prefix) = prefix else { continue };
        // (2, 64, 16, 16) after layer1, then halving H and W and doubling channels per stage.
        let side = 16 >> (freeze - 1);
        assert_eq!(prefix.dims(), [2, 64 << (freeze - 1), side, side]);
        for train in [false, true] {
            let whole = model.forward_t(&x, train)?;
            let split = model.forward_from_prefix_t(&prefix, train)?;
            assert!(
                bit_identical(&whole, &split)?,
                "freeze {freeze} train {train}"
            );
        }
    }
    let cnn = ModelConfig::new(ModelKind::Cnn, 3).init(&Device::Cpu, 5)?;
    assert!(cnn.forward_prefix(&x)?.is_none() && !cnn.has_frozen_prefix());
    Ok(())
}
