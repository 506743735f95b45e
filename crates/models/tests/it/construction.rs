//! Construction: parameter counts, names and initialisation.
//!
//! Parameter counts against PyTorch's `sum(p.numel() for p in model.parameters())` (and over
//! `requires_grad` parameters for the trainable count), with 4 classes.
//!
//! ResNet totals: `torchvision.models.resnet{18,34,50}(num_classes=4)` (printed by
//! scripts/resnet18_parity_fixture.py). Trainable counts at freeze k: the figures, i.e.
//! the total minus conv1+bn1 and layer1..layerk. CNN: the reference study's reported 1,606,916, reproduced by
//! `nn.Sequential` of `Conv2d(c, o, k, padding='same')`, `BatchNorm2d`, `ReLU`, `MaxPool2d(2)`
//! blocks, `AdaptiveAvgPool2d(1)`, `Flatten`, `Linear(512, 4)` with 3 input channels
//! (1,605,316 with 1 input channel).

use candle_core::Device;
use cxr_models::{ModelConfig, ModelKind, ParamCount};

use crate::support::TestResult;

fn count(kind: ModelKind, freeze: usize, in_channels: usize) -> TestResult<ParamCount> {
    let config = ModelConfig::new(kind, 4)
        .with_freeze(freeze)
        .with_in_channels(in_channels);
    Ok(config.init(&Device::Cpu, 0)?.param_count())
}

#[test]
fn cnn_matches_the_seed() -> TestResult {
    let total = 1_606_916;
    assert_eq!(
        count(ModelKind::Cnn, 0, 3)?,
        ParamCount {
            total,
            trainable: total
        }
    );
    assert_eq!(count(ModelKind::Cnn, 0, 1)?.total, 1_605_316);
    Ok(())
}

#[test]
fn resnet18_total_and_trainable_per_freeze_depth() -> TestResult {
    let trainable = [11_178_564, 11_021_060, 10_495_492, 8_395_780, 2_052];
    for (freeze, &expected) in trainable.iter().enumerate() {
        let counts = count(ModelKind::Resnet18, freeze, 3)?;
        assert_eq!(counts.total, 11_178_564, "freeze {freeze}");
        assert_eq!(counts.trainable, expected, "freeze {freeze}");
    }
    Ok(())
}

#[test]
fn resnet34_and_resnet50_totals() -> TestResult {
    assert_eq!(count(ModelKind::Resnet34, 0, 3)?.trainable, 21_286_724);
    assert_eq!(count(ModelKind::Resnet50, 0, 3)?.total, 23_516_228);
    // Freeze 4 leaves only fc: 512 * 4 + 4 for BasicBlocks, 2048 * 4 + 4 for Bottlenecks.
    assert_eq!(count(ModelKind::Resnet34, 4, 3)?.trainable, 2_052);
    assert_eq!(count(ModelKind::Resnet50, 4, 3)?.trainable, 8_196);
    Ok(())
}

#[test]
fn names_follow_torchvision() -> TestResult {
    let model = ModelConfig::new(ModelKind::Resnet18, 4).init(&Device::Cpu, 0)?;
    let names: Vec<&str> = model.parameters().iter().map(|p| p.name()).collect();
    // len(torchvision.models.resnet18().state_dict()) is 122, 20 of them num_batches_tracked.
    assert_eq!(names.len(), 102);
    for name in [
        "conv1.weight",
        "bn1.running_var",
        "layer1.1.conv2.weight",
        "layer2.0.downsample.0.weight",
        "layer4.0.downsample.1.running_mean",
        "fc.bias",
    ] {
        assert!(names.contains(&name), "missing {name}");
    }
    assert!(!names.iter().any(|n| n.starts_with("layer1.0.downsample")));
    Ok(())
}

#[test]
fn init_is_deterministic_per_seed() -> TestResult {
    let config = ModelConfig::new(ModelKind::Cnn, 4);
    let a = config.init(&Device::Cpu, 7)?;
    let b = config.init(&Device::Cpu, 7)?;
    let c = config.init(&Device::Cpu, 8)?;
    let first = |m: &cxr_models::Model| -> TestResult<Vec<f32>> {
        Ok(m.parameters()[0].tensor().flatten_all()?.to_vec1::<f32>()?)
    };
    assert_eq!(first(&a)?, first(&b)?);
    assert_ne!(first(&a)?, first(&c)?);
    Ok(())
}

#[test]
fn resnet_init_follows_torchvision() -> TestResult {
    let model = ModelConfig::new(ModelKind::Resnet18, 4).init(&Device::Cpu, 0)?;
    let values = |name: &str| -> TestResult<Vec<f32>> {
        let param = model.parameter(name).ok_or(name)?;
        Ok(param.tensor().flatten_all()?.to_vec1::<f32>()?)
    };
    // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std sqrt(2 / (64 * 7 * 7)) = 0.02526.
    let conv = values("conv1.weight")?;
    let n = conv.len() as f64;
    let mean = conv.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let std = (conv
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    assert!((std - 0.025_26).abs() < 0.025_26 * 0.03, "conv1 std {std}");
    assert!(mean.abs() < 0.001, "conv1 mean {mean}");
    // nn.Linear default: uniform in +-1/sqrt(512) = 0.0442.
    let fc = values("fc.weight")?;
    assert!(fc.iter().all(|v| v.abs() <= 0.044_2), "fc out of bound");
    assert!(
        fc.iter().any(|v| v.abs() > 0.04),
        "fc does not fill its bound"
    );
    assert!(values("bn1.weight")?.iter().all(|&v| v == 1.0));
    assert!(values("layer1.0.bn1.bias")?.iter().all(|&v| v == 0.0));
    assert!(values("layer1.0.bn1.running_var")?
        .iter()
        .all(|&v| v == 1.0));
    Ok(())
}
