//! Numerical parity of our ResNet18 with torchvision's.
//!
//! Expected values come from `tests/fixtures/resnet18_parity.safetensors`, written by
//! `/var/tmp/torchenv/bin/python scripts/resnet18_parity_fixture.py` (torch 2.15.0,
//! torchvision 0.29.2, CPU): torchvision's `resnet18(num_classes=4)` with every weight set by a
//! formula both sides compute bit for bit (see the script's doc and
//! `support::formula_state_dict`), run on two seeded 3x64x64 images. The fixture stores no
//! weights, only inputs, outputs, gradients and weight checksums, so it stays at ~130 kB.

use candle_core::{DType, Device, Tensor};
use candle_nn::ModuleT;
use cxr_models::{Model, ModelConfig, ModelKind};

use crate::support::{fixtures, formula_state_dict, max_abs_diff, TestResult};

/// The tolerance on logits and gradients.
const TOL: f32 = 1e-4;

/// Every GRAD_STRIDE-th element of the flattened `layer4.1.conv2.weight` gradient is stored.
const GRAD_STRIDE: usize = 509;

struct Fixture(std::collections::HashMap<String, Tensor>);

impl Fixture {
    fn load() -> TestResult<Self> {
        let path = fixtures().join("resnet18_parity.safetensors");
        Ok(Self(candle_core::safetensors::load(path, &Device::Cpu)?))
    }

    fn get(&self, name: &str) -> TestResult<&Tensor> {
        self.0
            .get(name)
            .ok_or_else(|| format!("fixture lacks {name}").into())
    }

    fn scalar_f64(&self, name: &str) -> TestResult<f64> {
        Ok(self
            .get(name)?
            .to_dtype(DType::F64)?
            .flatten_all()?
            .to_vec1::<f64>()?[0])
    }
}

/// Our ResNet18 with the formula weights, loaded through the pretrained-safetensors path.
fn formula_model() -> TestResult<Model> {
    let config = ModelConfig::new(ModelKind::Resnet18, 4);
    let model = config.init(&Device::Cpu, 0)?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("formula.safetensors");
    candle_core::safetensors::save(&formula_state_dict(&model)?.into_iter().collect(), &path)?;
    let report = model.load_pretrained(&path)?;
    assert_eq!(report.loaded.len(), model.parameters().len());
    assert!(
        report.reinitialised.is_empty() && report.unused.is_empty(),
        "{report:?}"
    );
    Ok(model)
}

fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) -> TestResult {
    let err = max_abs_diff(ours, theirs)?;
    eprintln!("{what}: max abs error {err:.3e}");
    assert!(err <= TOL, "{what}: max abs error {err} > {TOL}");
    Ok(())
}

fn assert_rel(what: &str, ours: f64, theirs: f64, tol: f64) {
    let rel = (ours - theirs).abs() / theirs.abs().max(1e-12);
    eprintln!("{what}: relative error {rel:.3e}");
    assert!(rel <= tol, "{what}: ours {ours}, PyTorch {theirs}");
}

#[test]
fn weight_formula_matches_the_script() -> TestResult {
    // Guards the other tests: a mismatch here means the formula diverged, not the network.
    let fx = Fixture::load()?;
    let model = formula_model()?;
    for name in [
        "conv1.weight",
        "layer3.0.downsample.0.weight",
        "layer4.1.bn2.running_var",
        "fc.weight",
    ] {
        let param = model.parameter(name).ok_or(name)?;
        let ours = param
            .tensor()
            .to_dtype(DType::F64)?
            .sum_all()?
            .to_scalar::<f64>()?;
        assert_rel(
            name,
            ours,
            fx.scalar_f64(&format!("checksum.{name}"))?,
            1e-9,
        );
    }
    Ok(())
}

#[test]
fn eval_logits_match_torchvision() -> TestResult {
    let fx = Fixture::load()?;
    let model = formula_model()?;
    let logits = model.forward_t(fx.get("images")?, false)?;
    assert_close("eval logits", &logits, fx.get("eval_logits")?)
}

#[test]
fn training_forward_and_gradients_match_torchvision() -> TestResult {
    let fx = Fixture::load()?;
    let model = formula_model()?;
    let labels = fx.get("labels")?.to_dtype(DType::U32)?;
    let logits = model.forward_t(fx.get("images")?, true)?;
    assert_close("train logits", &logits, fx.get("train_logits")?)?;

    let loss = candle_nn::loss::cross_entropy(&logits, &labels)?;
    let loss_value = f64::from(loss.to_scalar::<f32>()?);
    assert_rel("train loss", loss_value, fx.scalar_f64("train_loss")?, 1e-5);

    let grads = loss.backward()?;
    let grad = |name: &str| -> TestResult<Tensor> {
        let param = model.parameter(name).ok_or(name)?;
        Ok(grads.get(param.var()).ok_or("no gradient")?.clone())
    };
    assert_close(
        "grad fc.weight",
        &grad("fc.weight")?,
        fx.get("grad.fc.weight")?,
    )?;

    let conv = grad("layer4.1.conv2.weight")?.flatten_all()?;
    let n = conv.dims1()?;
    let idx: Vec<u32> = (0..n).step_by(GRAD_STRIDE).map(|i| i as u32).collect();
    let idx = Tensor::new(idx.as_slice(), &Device::Cpu)?;
    let strided = conv.index_select(&idx, 0)?;
    let name = "grad.layer4.1.conv2.weight.strided";
    assert_close(name, &strided, fx.get(name)?)?;
    let conv = conv.to_dtype(DType::F64)?;
    let sum = conv.sum_all()?.to_scalar::<f64>()?;
    let sumsq = conv.sqr()?.sum_all()?.to_scalar::<f64>()?;
    let expected_sumsq = fx.scalar_f64("grad.layer4.1.conv2.weight.sumsq")?;
    assert_rel(
        "grad layer4.1.conv2.weight sum of squares",
        sumsq,
        expected_sumsq,
        1e-4,
    );
    // The sum cancels, so compare it on the scale of the gradient's norm.
    let expected_sum = fx.scalar_f64("grad.layer4.1.conv2.weight.sum")?;
    let err = (sum - expected_sum).abs() / expected_sumsq.sqrt();
    eprintln!("grad layer4.1.conv2.weight sum: error {err:.3e} of the gradient norm");
    assert!(err <= 1e-4, "sum {sum} vs {expected_sum}");
    Ok(())
}

#[test]
fn training_forward_updates_running_stats_like_torchvision() -> TestResult {
    let fx = Fixture::load()?;
    let model = formula_model()?;
    model.forward_t(fx.get("images")?, true)?;
    for name in [
        "bn1.running_mean",
        "bn1.running_var",
        "layer4.1.bn2.running_mean",
        "layer4.1.bn2.running_var",
    ] {
        let ours = model.parameter(name).ok_or(name)?.tensor();
        assert_close(name, ours, fx.get(&format!("after_train.{name}"))?)?;
    }
    Ok(())
}
