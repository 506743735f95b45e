//! Saving and loading weights: round trips, pretrained files with another head, the errors for
//! missing and wrong-shaped tensors, and PyTorch `.pth` files.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{Device, Tensor};
use candle_nn::ModuleT;
use cxr_models::{read_weights, Model, ModelConfig, ModelError, ModelKind};

use crate::support::{bit_identical, fixtures, formula_state_dict, images, TestResult};

fn resnet18(num_classes: usize, seed: u64) -> TestResult<Model> {
    Ok(ModelConfig::new(ModelKind::Resnet18, num_classes).init(&Device::Cpu, seed)?)
}

fn state_dict(model: &Model) -> BTreeMap<String, Tensor> {
    model
        .parameters()
        .iter()
        .map(|p| (p.name().to_string(), p.tensor().clone()))
        .collect()
}

fn write(tensors: BTreeMap<String, Tensor>, path: &Path) -> TestResult {
    let tensors: HashMap<String, Tensor> = tensors.into_iter().collect();
    Ok(candle_core::safetensors::save(&tensors, path)?)
}

/// Every tensor of `a` is bit-identical to the same-named tensor of `b`.
fn assert_same_weights(a: &Model, b: &Model) -> TestResult {
    for p in a.parameters() {
        let q = b.parameter(p.name()).ok_or(p.name())?;
        assert!(
            bit_identical(p.tensor(), q.tensor())?,
            "{} differs",
            p.name()
        );
    }
    Ok(())
}

#[test]
fn save_then_load_round_trips_with_running_stats() -> TestResult {
    for kind in [ModelKind::Cnn, ModelKind::Resnet18] {
        let config = ModelConfig::new(kind, 3);
        let model = config.init(&Device::Cpu, 11)?;
        // A training forward moves the running statistics off their init (0 and 1), so the
        // round trip is seen to carry them.
        model.forward_t(&images(2, 3, 64)?, true)?;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("run").join("best.safetensors");
        model.save(&path)?;
        // Written through a temporary file renamed into place (the folder made on the way):
        // nothing else is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("run"))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?;
        assert_eq!(names, ["best.safetensors"]);

        let saved = read_weights(&path, &Device::Cpu)?;
        assert_eq!(saved.len(), model.parameters().len());
        let stat = if kind == ModelKind::Cnn {
            "block1.bn.running_mean"
        } else {
            "bn1.running_mean"
        };
        assert!(saved[stat].abs()?.sum_all()?.to_scalar::<f32>()? > 0.0);

        let loaded = Model::load(config, &path, &Device::Cpu)?;
        assert_same_weights(&model, &loaded)?;
        let x = images(2, 3, 64)?;
        let (a, b) = (model.forward_t(&x, false)?, loaded.forward_t(&x, false)?);
        assert!(
            bit_identical(&a, &b)?,
            "{kind}: eval logits differ after reload"
        );
    }
    Ok(())
}

#[test]
fn imagenet_head_is_reinitialised_and_reported() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("imagenet.safetensors");
    let imagenet = resnet18(1000, 5)?;
    write(state_dict(&imagenet), &path)?;

    let (model, report) =
        ModelConfig::new(ModelKind::Resnet18, 4).init_pretrained(&path, &Device::Cpu, 9)?;
    assert_eq!(report.reinitialised, ["fc.weight", "fc.bias"]);
    assert_eq!(report.loaded.len(), 100);
    assert!(report.unused.is_empty());
    // The body comes from the file, the head is the seed-9 init.
    let fresh = resnet18(4, 9)?;
    let fc = |m: &Model| {
        m.parameter("fc.weight")
            .map(|p| p.tensor().clone())
            .ok_or("no fc")
    };
    assert!(bit_identical(&fc(&model)?, &fc(&fresh)?)?);
    let conv = |m: &Model| {
        m.parameter("layer3.1.conv1.weight")
            .map(|p| p.tensor().clone())
            .ok_or("no conv")
    };
    assert!(bit_identical(&conv(&model)?, &conv(&imagenet)?)?);
    Ok(())
}

#[test]
fn wrong_shape_is_an_error_naming_tensor_and_shapes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bad.safetensors");
    let source = resnet18(4, 1)?;
    let mut tensors = state_dict(&source);
    let bad = Tensor::zeros((128, 64, 1, 1), candle_core::DType::F32, &Device::Cpu)?;
    tensors.insert("layer2.0.conv1.weight".into(), bad);
    write(tensors, &path)?;

    let target = resnet18(4, 2)?;
    let err = target
        .load_pretrained(&path)
        .err()
        .ok_or("loaded a wrong shape")?;
    let msg = err.to_string();
    match err {
        ModelError::ShapeMismatch {
            name,
            expected,
            found,
            ..
        } => {
            assert_eq!(name, "layer2.0.conv1.weight");
            assert_eq!(expected, [128, 64, 3, 3]);
            assert_eq!(found, [128, 64, 1, 1]);
        }
        other => return Err(format!("unexpected error {other:?}").into()),
    }
    assert!(
        msg.contains("layer2.0.conv1.weight") && msg.contains("[128, 64, 3, 3]"),
        "{msg}"
    );
    // A failed load changes nothing, not even the tensors checked before the bad one.
    assert_same_weights(&target, &resnet18(4, 2)?)?;
    Ok(())
}

#[test]
fn missing_tensor_is_an_error_naming_it() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("partial.safetensors");
    let mut tensors = state_dict(&resnet18(4, 1)?);
    tensors.remove("layer3.1.bn2.running_var");
    write(tensors, &path)?;

    let err = resnet18(4, 2)?
        .load_pretrained(&path)
        .err()
        .ok_or("loaded a partial file")?;
    assert!(
        matches!(&err, ModelError::MissingTensor { name, .. } if name == "layer3.1.bn2.running_var"),
        "{err:?}"
    );
    assert!(err
        .to_string()
        .contains("`layer3.1.bn2.running_var` is missing"));
    // A saved model must have its head too.
    let config = ModelConfig::new(ModelKind::Resnet18, 4);
    let mut tensors = state_dict(&resnet18(4, 1)?);
    tensors.remove("fc.bias");
    write(tensors, &path)?;
    let err = Model::load(config, &path, &Device::Cpu)
        .err()
        .ok_or("loaded without fc")?;
    assert!(
        matches!(&err, ModelError::MissingTensor { name, .. } if name == "fc.bias"),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn checkpoint_of_another_architecture_is_refused() -> TestResult {
    // Every ResNet18 tensor exists in a ResNet34 with the same shape; the extra blocks give it away.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("r34.safetensors");
    ModelConfig::new(ModelKind::Resnet34, 4)
        .init(&Device::Cpu, 0)?
        .save(&path)?;
    let err = Model::load(
        ModelConfig::new(ModelKind::Resnet18, 4),
        &path,
        &Device::Cpu,
    )
    .err();
    assert!(
        matches!(&err, Some(ModelError::UnexpectedTensors { names, .. }) if names.contains(&"layer1.2.conv1.weight".to_string())),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn unknown_extension_is_an_error() -> TestResult {
    let err = read_weights(Path::new("weights.onnx"), &Device::Cpu).err();
    assert!(matches!(err, Some(ModelError::UnknownFormat(_))), "{err:?}");
    Ok(())
}

#[test]
fn torch_pth_is_read_by_name() -> TestResult {
    // tests/fixtures/resnet18_partial.pth: torch.save of conv1.*, bn1.* (with num_batches_tracked)
    // and fc.* of the formula ResNet18, by scripts/resnet18_parity_fixture.py.
    let path = fixtures().join("resnet18_partial.pth");
    let tensors = read_weights(&path, &Device::Cpu)?;
    let names: Vec<&str> = tensors.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "bn1.bias",
            "bn1.running_mean",
            "bn1.running_var",
            "bn1.weight",
            "conv1.weight",
            "fc.bias",
            "fc.weight"
        ]
    );
    let model = resnet18(4, 0)?;
    let formula = formula_state_dict(&model)?;
    for (name, tensor) in &tensors {
        assert!(
            bit_identical(tensor, &formula[name])?,
            "{name} differs from the formula"
        );
    }
    // The .pth lacks the stages, so loading it names the first missing tensor.
    let err = model.load_pretrained(&path).err();
    assert!(
        matches!(&err, Some(ModelError::MissingTensor { name, .. }) if name == "layer1.0.conv1.weight"),
        "{err:?}"
    );
    Ok(())
}

#[test]
#[ignore = "needs PyTorch: set CXR_TORCH_PYTHON to a python with torch and torchvision"]
fn pretrained_pth_from_torchvision_loads() -> TestResult {
    let python = std::env::var("CXR_TORCH_PYTHON").map_err(|_| "CXR_TORCH_PYTHON is not set")?;
    let dir = tempfile::tempdir()?;
    let pth = dir.path().join("resnet18_imagenet_layout.pth");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/resnet18_parity_fixture.py");
    let status = std::process::Command::new(python)
        .arg(script)
        .arg("--out-dir")
        .arg(dir.path())
        .arg("--full-pth")
        .arg(&pth)
        .status()?;
    assert!(status.success(), "fixture script failed");

    let (model, report) =
        ModelConfig::new(ModelKind::Resnet18, 4).init_pretrained(&pth, &Device::Cpu, 0)?;
    assert_eq!(report.loaded.len(), 100);
    assert_eq!(report.reinitialised, ["fc.weight", "fc.bias"]);
    let formula = formula_state_dict(&model)?;
    for name in [
        "conv1.weight",
        "layer2.0.downsample.1.running_var",
        "layer4.1.conv2.weight",
    ] {
        let ours = model.parameter(name).ok_or(name)?.tensor();
        assert!(bit_identical(ours, &formula[name])?, "{name}");
    }
    Ok(())
}
