//! An autoencoder's saved file as a classifier's starting point: the encoder arrives under the
//! classifier's names, the decoder is skipped quietly, the head keeps the classifier's init.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use candle_nn::ModuleT;
use cxr_models::decoder::is_decoder;
use cxr_models::{read_weights, Autoencoder, Model, ModelConfig, ModelKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The decoder's generator for `seed` as the trainer derives it from an init seed
/// (`cxr_data::seed::decoder_rng`): ChaCha8 stream 1.
fn decoder_rng(seed: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1);
    rng
}

use crate::support::{bit_identical, images, TestResult};

/// An autoencoder whose every tensor has moved away from its init: weights shifted, running
/// statistics updated by training-mode forwards. So equality after loading proves a copy.
fn trained_autoencoder(kind: ModelKind, seed: u64) -> TestResult<Autoencoder> {
    let encoder = ModelConfig::new(kind, 4).init(&Device::Cpu, seed)?;
    let ae = Autoencoder::new(encoder, &mut decoder_rng(seed))?;
    for p in ae.parameters() {
        if p.is_trainable() {
            p.var().set(&(p.tensor() + 0.01)?)?;
        }
    }
    for _ in 0..2 {
        ae.forward_t(&images(4, 3, 32)?, true)?;
    }
    Ok(ae)
}

fn tensor(model: &Model, name: &str) -> TestResult<Tensor> {
    Ok(model
        .parameter(name)
        .ok_or(name.to_string())?
        .tensor()
        .clone())
}

#[test]
fn a_classifier_takes_the_encoder_and_keeps_its_own_head() -> TestResult {
    let dir = tempfile::tempdir()?;
    for kind in [ModelKind::Cnn, ModelKind::Resnet18] {
        let ae = trained_autoencoder(kind, 1)?;
        let path = dir.path().join(format!("{kind}.safetensors"));
        ae.save(&path)?;
        let saved = read_weights(&path, &Device::Cpu)?;
        assert!(
            saved.keys().all(|n| !n.starts_with("fc.")),
            "{kind}: fc saved"
        );
        let decoder: Vec<&String> = saved.keys().filter(|n| is_decoder(n)).collect();
        assert_eq!(
            decoder.len(),
            27,
            "{kind}: 5 x (conv + 4 BatchNorm tensors) + out"
        );

        let config = ModelConfig::new(kind, 4);
        let (classifier, report) = config.init_pretrained(&path, &Device::Cpu, 7)?;
        assert_eq!(report.reinitialised, ["fc.weight", "fc.bias"], "{kind}");
        assert!(report.unused.is_empty(), "{kind}: {:?}", report.unused);
        assert_eq!(report.ignored.len(), 27, "{kind}");
        let encoder: HashMap<&str, &Tensor> = ae
            .parameters()
            .iter()
            .filter(|p| !is_decoder(p.name()))
            .map(|p| (p.name(), p.tensor()))
            .collect();
        assert_eq!(report.loaded.len(), encoder.len(), "{kind}");
        for p in classifier.parameters() {
            match encoder.get(p.name()) {
                Some(t) => assert!(bit_identical(p.tensor(), t)?, "{kind}: {}", p.name()),
                None => assert!(p.name().starts_with("fc."), "{kind}: {}", p.name()),
            }
        }
        // The head is exactly the seed-7 classifier's init.
        let fresh = config.init(&Device::Cpu, 7)?;
        for name in ["fc.weight", "fc.bias"] {
            let (a, b) = (tensor(&classifier, name)?, tensor(&fresh, name)?);
            assert!(bit_identical(&a, &b)?, "{kind}: {name}");
        }
        // Same features in eval mode: running statistics came along too.
        let x = images(2, 3, 32)?;
        let (a, b) = (
            classifier.encode_t(&x, false)?,
            ae.encoder().encode_t(&x, false)?,
        );
        assert!(bit_identical(&a, &b)?, "{kind}: features differ");
    }
    Ok(())
}

#[test]
fn only_the_decoder_is_skipped_quietly() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ae.safetensors");
    let ae = trained_autoencoder(ModelKind::Resnet18, 2)?;
    ae.save(&path)?;
    let mut tensors: HashMap<String, Tensor> =
        read_weights(&path, &Device::Cpu)?.into_iter().collect();
    tensors.insert(
        "projector.weight".into(),
        Tensor::zeros(3, candle_core::DType::F32, &Device::Cpu)?,
    );
    let extra = dir.path().join("extra.safetensors");
    candle_core::safetensors::save(&tensors, &extra)?;
    let config = ModelConfig::new(ModelKind::Resnet18, 4);
    let (_, report) = config.init_pretrained(&extra, &Device::Cpu, 0)?;
    assert_eq!(report.unused, ["projector.weight"]);
    assert_eq!(report.ignored.len(), 27);
    // A saved classifier loads strictly: an autoencoder's file is not one.
    let strict = Model::load(config, &path, &Device::Cpu).err();
    let msg = strict.map(|e| e.to_string()).unwrap_or_default();
    assert!(msg.contains("`fc.weight` is missing"), "{msg}");
    Ok(())
}

#[test]
fn the_reconstruction_loss_reaches_every_encoder_weight() -> TestResult {
    let encoder = ModelConfig::new(ModelKind::Resnet18, 4).init(&Device::Cpu, 0)?;
    let ae = Autoencoder::new(encoder, &mut decoder_rng(0))?;
    let x = images(2, 3, 32)?;
    let loss = candle_nn::loss::mse(&ae.forward_t(&x, true)?, &x)?;
    let grads = loss.backward()?;
    let vars = ae.trainable_vars();
    assert_eq!(
        vars.len(),
        ae.parameters().iter().filter(|p| p.is_trainable()).count()
    );
    for p in ae.parameters().iter().filter(|p| p.is_trainable()) {
        let g = grads
            .get(p.var().as_tensor())
            .ok_or(format!("no gradient for {}", p.name()))?;
        let size = g.abs()?.sum_all()?.to_scalar::<f32>()?;
        assert!(size > 0.0, "zero gradient for {}", p.name());
    }
    Ok(())
}
