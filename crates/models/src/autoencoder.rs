//! A classifier's backbone trained without labels: the [`Model`] is the encoder, a mirrored
//! decoder ([`crate::decoder`]) reconstructs the image from its last feature map.
//!
//! `forward_t(xs, train)` maps `(batch, C, H, W)` to a reconstruction of the same shape: the
//! encoder's feature map before global pooling ([`Model::encode_t`]: `(batch, 512, H/32, W/32)`
//! for ResNet18/34 and the CNN, 2048 channels for ResNet50), then the decoder's five 2x
//! upsampling stages. The classification head (`fc`) is never used, so it is neither trained nor
//! listed: [`Autoencoder::parameters`] holds the encoder's tensors under exactly the classifier's
//! names (BatchNorm running statistics included) and the decoder's under `decoder.*`, and that is
//! what [`Autoencoder::save`] writes. A classifier built from the same config then takes the
//! encoder with [`Model::load_pretrained`], which skips `decoder.*` quietly and keeps its own
//! init for the missing `fc`.
//!
//! The encoder trains whole: an encoder with a frozen prefix is refused. Its initial weights
//! are the classifier's for the same seed; the decoder draws from the generator the caller
//! passes (the trainer's is `cxr_data::seed::decoder_rng`: a second ChaCha8 stream of the
//! encoder's seed, so adding the decoder changes none of the encoder's values).

use std::path::Path;

use candle_core::{Device, Tensor, Var};
use candle_nn::ModuleT;
use rand_chacha::ChaCha8Rng;

use crate::decoder::{Decoder, DECODER_PREFIX};
use crate::error::{ModelError, Result};
use crate::initializer::Initializer;
use crate::model::Model;
use crate::parameter::{ParamCount, Parameter};
use crate::weights::{is_head, save_parameters};

/// An encoder ([`Model`], head unused) and the decoder that reconstructs its input.
///
/// Not `Clone`, for the reason [`Model`] is not: a clone would share the variables.
#[derive(Debug)]
pub struct Autoencoder {
    encoder: Model,
    decoder: Decoder,
    params: Vec<Parameter>,
}

impl Autoencoder {
    /// Puts a decoder drawn from `rng` behind `encoder`, whose weights are kept as they are
    /// (random or pretrained). Fails when the encoder has frozen stages.
    pub fn new(encoder: Model, rng: &mut ChaCha8Rng) -> Result<Self> {
        if encoder.config().freeze > 0 {
            return Err(ModelError::Config(format!(
                "an autoencoder trains its whole encoder, but {} has freeze = {}: use freeze = 0",
                encoder.config().kind,
                encoder.config().freeze
            )));
        }
        let feature_channels = encoder
            .parameter("fc.weight")
            .map(|p| p.tensor().dims()[1])
            .ok_or_else(|| ModelError::Config("the encoder has no fc.weight".into()))?;
        let mut decoder_params = Vec::new();
        let device = encoder.device().clone();
        let mut init = Initializer::new(rng, &mut decoder_params, &device, 0);
        let decoder = Decoder::new(
            &mut init.pp(DECODER_PREFIX),
            feature_channels,
            encoder.config().in_channels,
        )?;
        let params = encoder
            .parameters()
            .iter()
            .filter(|p| !is_head(p.name()))
            .cloned()
            .chain(decoder_params)
            .collect();
        Ok(Self {
            encoder,
            decoder,
            params,
        })
    }

    /// The encoder: a classifier whose head the autoencoder never trains.
    pub fn encoder(&self) -> &Model {
        &self.encoder
    }

    /// The device holding the weights.
    pub fn device(&self) -> &Device {
        self.encoder.device()
    }

    /// Every named tensor: the encoder's under the classifier's names (without `fc`), then the
    /// decoder's (`decoder.*`), weights and BatchNorm running statistics alike.
    pub fn parameters(&self) -> &[Parameter] {
        &self.params
    }

    /// What the optimizer updates: every learnable weight of the encoder (except the unused
    /// `fc`) and of the decoder.
    pub fn trainable_vars(&self) -> Vec<Var> {
        crate::parameter::trainable_vars(&self.params)
    }

    /// Parameter counts as PyTorch would count this module (encoder without `fc`, decoder).
    pub fn param_count(&self) -> ParamCount {
        ParamCount::of(&self.params)
    }

    /// Saves [`Autoencoder::parameters`] to a safetensors file (atomically, as [`Model::save`]):
    /// a classifier's [`Model::load_pretrained`] reads its encoder from it.
    pub fn save(&self, path: &Path) -> Result<()> {
        save_parameters(&self.params, path)
    }

    /// The decoder's target side at each stage: the encoder's side after the fourth, third,
    /// second, first and no halving. ResNets' strided layers round an odd side up, the CNN's
    /// pools round it down.
    fn decoder_sides(&self, height: usize, width: usize) -> [(usize, usize); 5] {
        let resnet = self.encoder.config().kind.is_resnet();
        let halvings = |side: usize| {
            let mut sides = [side; 5];
            for i in 1..5 {
                sides[i] = if resnet {
                    sides[i - 1].div_ceil(2)
                } else {
                    sides[i - 1] / 2
                };
            }
            sides
        };
        let (hs, ws) = (halvings(height), halvings(width));
        std::array::from_fn(|i| (hs[4 - i], ws[4 - i]))
    }
}

impl ModuleT for Autoencoder {
    /// `(batch, C, H, W) -> (batch, C, H, W)` reconstruction of the (normalised) input; H and W
    /// at least 32. `train` selects batch statistics in every BatchNorm and updates their running
    /// statistics.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let (_, _, height, width) = xs.dims4()?;
        if height < 32 || width < 32 {
            candle_core::bail!(
                "an autoencoder needs images of at least 32 x 32 pixels (five halvings), got {:?}",
                xs.dims()
            );
        }
        let code = self.encoder.encode(xs, train)?;
        self.decoder
            .forward_t(&code, &self.decoder_sides(height, width), train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ModelConfig, ModelKind};
    use rand::SeedableRng;

    /// The decoder's generator for `seed` as the trainer derives it from an init seed
    /// (`cxr_data::seed::decoder_rng`): ChaCha8 stream 1.
    fn decoder_rng(seed: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        rng
    }

    #[test]
    fn reconstructions_have_the_input_shape_at_any_size() -> Result<()> {
        let device = Device::Cpu;
        // (kind, side): 40 and 48 are not multiples of 32, so the sides get rounded on the way
        // down and fitted on the way up (ResNets crop, the CNN repeats an edge).
        for (kind, side) in [
            (ModelKind::Cnn, 32),
            (ModelKind::Cnn, 48),
            (ModelKind::Resnet18, 40),
            (ModelKind::Resnet50, 32),
        ] {
            let encoder = ModelConfig::new(kind, 4).init(&device, 0)?;
            let ae = Autoencoder::new(encoder, &mut decoder_rng(0))?;
            let xs = Tensor::randn(0f32, 1.0, (2, 3, side, side), &device)?;
            assert_eq!(
                ae.forward_t(&xs, true)?.dims(),
                [2, 3, side, side],
                "{kind}"
            );
        }
        let one = ModelConfig::new(ModelKind::Resnet18, 2)
            .with_in_channels(1)
            .init(&device, 0)?;
        let xs = Tensor::randn(0f32, 1.0, (2, 1, 32, 64), &device)?;
        assert_eq!(
            Autoencoder::new(one, &mut decoder_rng(0))?
                .forward_t(&xs, false)?
                .dims(),
            [2, 1, 32, 64]
        );
        Ok(())
    }

    #[test]
    fn encoder_keeps_the_classifier_names_and_init_without_the_head() -> Result<()> {
        let device = Device::Cpu;
        let config = ModelConfig::new(ModelKind::Resnet18, 4);
        let classifier = config.init(&device, 9)?;
        let ae = Autoencoder::new(config.init(&device, 9)?, &mut decoder_rng(9))?;
        let encoder_names: Vec<&str> = ae
            .parameters()
            .iter()
            .map(Parameter::name)
            .filter(|n| !crate::decoder::is_decoder(n))
            .collect();
        let classifier_names: Vec<&str> = classifier
            .parameters()
            .iter()
            .map(Parameter::name)
            .filter(|n| !n.starts_with("fc."))
            .collect();
        assert_eq!(encoder_names, classifier_names);
        assert!(ae.parameters().iter().all(|p| !p.name().starts_with("fc.")));
        let conv1 = |m: &[Parameter]| -> Result<Vec<f32>> {
            let p = m.iter().find(|p| p.name() == "conv1.weight");
            let p = p.ok_or_else(|| ModelError::Config("no conv1".into()))?;
            Ok(p.tensor().flatten_all()?.to_vec1()?)
        };
        assert_eq!(conv1(ae.parameters())?, conv1(classifier.parameters())?);
        // The decoder: 5 stages of conv + BatchNorm (4 tensors), then the output conv's 2.
        let decoder = ae.parameters().len() - encoder_names.len();
        assert_eq!(decoder, 5 * 5 + 2);
        // 3x3 convs 512-256-128-64-32-16 (no bias), BatchNorm weight and bias, output 16->3.
        let convs = 9 * (512 * 256 + 256 * 128 + 128 * 64 + 64 * 32 + 32 * 16);
        let bns = 2 * (256 + 128 + 64 + 32 + 16);
        let out = 9 * 16 * 3 + 3;
        let encoder_params = classifier.param_count().total - (512 * 4 + 4);
        assert_eq!(ae.param_count().total, encoder_params + convs + bns + out);
        assert_eq!(ae.param_count().trainable, ae.param_count().total);
        Ok(())
    }

    #[test]
    fn the_decoder_is_deterministic_by_seed() -> Result<()> {
        let device = Device::Cpu;
        let build = |seed| -> Result<Vec<f32>> {
            let encoder = ModelConfig::new(ModelKind::Cnn, 2).init(&device, 0)?;
            let ae = Autoencoder::new(encoder, &mut decoder_rng(seed))?;
            let p = ae
                .parameters()
                .iter()
                .find(|p| p.name() == "decoder.up1.conv.weight");
            let p = p.ok_or_else(|| ModelError::Config("no decoder.up1".into()))?;
            Ok(p.tensor().flatten_all()?.to_vec1()?)
        };
        assert_eq!(build(3)?, build(3)?);
        assert_ne!(build(3)?, build(4)?);
        Ok(())
    }

    #[test]
    fn a_frozen_encoder_is_refused() -> Result<()> {
        let encoder = ModelConfig::new(ModelKind::Resnet18, 2)
            .with_freeze(1)
            .init(&Device::Cpu, 0)?;
        let msg = Autoencoder::new(encoder, &mut decoder_rng(0))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("use freeze = 0"), "{msg}");
        Ok(())
    }
}
