//! A built model: the network, its named tensors and their frozen/trainable split.

use candle_core::{Device, Tensor, Var};
use candle_nn::ModuleT;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::cnn::Cnn;
use crate::config::ModelConfig;
use crate::error::Result;
use crate::initializer::Initializer;
use crate::kind::ModelKind;
use crate::parameter::{ParamCount, Parameter};
use crate::resnet::{ResNet, ResNetSpec};

/// The network behind a [`Model`].
#[derive(Debug, Clone)]
enum Network {
    Cnn(Cnn),
    ResNet(ResNet),
}

/// A classifier built from a [`ModelConfig`]: `forward_t` gives logits, [`Model::parameters`]
/// lists every named tensor with its frozen flag, [`Model::trainable_vars`] is what the optimizer
/// gets.
///
/// Not `Clone` on purpose: a clone would share the same `Var`s, so it could not snapshot the
/// best epoch; [`Model::save`] and [`Model::load`] do that.
#[derive(Debug)]
pub struct Model {
    config: ModelConfig,
    device: Device,
    network: Network,
    params: Vec<Parameter>,
}

impl Model {
    /// Validates `config` and builds its network with random weights drawn from `seed`.
    pub(crate) fn new(config: ModelConfig, device: &Device, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut params = Vec::new();
        let mut init = Initializer::new(&mut rng, &mut params, device, config.freeze);
        let (classes, channels) = (config.num_classes, config.in_channels);
        let resnet = |spec, init: &mut Initializer<'_>| {
            ResNet::new(init, spec, channels, classes, config.freeze).map(Network::ResNet)
        };
        let network = match config.kind {
            ModelKind::Cnn => Network::Cnn(Cnn::new(&mut init, channels, classes)?),
            ModelKind::Resnet18 => resnet(ResNetSpec::RESNET18, &mut init)?,
            ModelKind::Resnet34 => resnet(ResNetSpec::RESNET34, &mut init)?,
            ModelKind::Resnet50 => resnet(ResNetSpec::RESNET50, &mut init)?,
        };
        Ok(Self {
            config,
            device: device.clone(),
            network,
            params,
        })
    }

    /// The configuration this model was built from.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The device holding the weights.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Every named tensor (weights and BatchNorm running statistics) in construction order, which
    /// is torchvision's `state_dict()` order without `num_batches_tracked`.
    pub fn parameters(&self) -> &[Parameter] {
        &self.params
    }

    /// The named tensor `name` (torchvision name), if the model has it.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.params.iter().find(|p| p.name() == name)
    }

    /// The variables the optimizer should update: learnable weights outside the frozen prefix.
    /// Running statistics are never included (they change only through training-mode forwards).
    pub fn trainable_vars(&self) -> Vec<Var> {
        crate::parameter::trainable_vars(&self.params)
    }

    /// The named tensors of the frozen prefix (weights and running statistics), which training
    /// never changes.
    pub fn frozen_parameters(&self) -> impl Iterator<Item = &Parameter> {
        self.params.iter().filter(|p| p.is_frozen())
    }

    /// Total and trainable parameter counts, as PyTorch counts them.
    pub fn param_count(&self) -> ParamCount {
        ParamCount::of(&self.params)
    }

    /// Whether the model has a frozen prefix (a ResNet with freeze >= 1) whose output
    /// [`Model::forward_prefix`] can compute once per image.
    pub fn has_frozen_prefix(&self) -> bool {
        matches!(self.network, Network::ResNet(_)) && self.config.freeze > 0
    }

    /// The frozen prefix's output, in eval mode and detached; `None` when there is no frozen
    /// prefix. `(batch, in_channels, H, W) -> (batch, C, H', W')`. Together with
    /// [`Model::forward_from_prefix_t`] it computes exactly `forward_t`.
    pub fn forward_prefix(&self, xs: &Tensor) -> Result<Option<Tensor>> {
        self.check_input(xs)?;
        match &self.network {
            Network::ResNet(net) => Ok(net.forward_prefix(xs)?),
            Network::Cnn(_) => Ok(None),
        }
    }

    /// Logits from a [`Model::forward_prefix`] output: `(batch, C, H', W') -> (batch,
    /// num_classes)`. Without a frozen prefix this is `forward_t`.
    pub fn forward_from_prefix_t(&self, prefix: &Tensor, train: bool) -> Result<Tensor> {
        match &self.network {
            Network::ResNet(net) if self.config.freeze > 0 => {
                Ok(net.forward_suffix_t(prefix, train)?)
            }
            _ => Ok(self.forward_t(prefix, train)?),
        }
    }

    fn check_input(&self, xs: &Tensor) -> candle_core::Result<()> {
        let (_, channels, _, _) = xs.dims4()?;
        if channels != self.config.in_channels {
            candle_core::bail!(
                "{} expects {} input channels, got input of shape {:?}",
                self.config.kind,
                self.config.in_channels,
                xs.dims()
            );
        }
        Ok(())
    }

    /// `(batch, in_channels, H, W) -> (batch, num_classes)` class probabilities (softmax of the
    /// eval-mode logits).
    pub fn probabilities(&self, xs: &Tensor) -> Result<Tensor> {
        let logits = self.forward_t(xs, false)?;
        Ok(candle_nn::ops::softmax(&logits, 1)?)
    }
}

impl Model {
    /// The hooks Grad-CAM needs: `(batch, in_channels, H, W) -> (batch, K, h, w)`, the
    /// activations of the last convolutional stage in eval mode (the CNN's `block5` after its
    /// ReLU and before its pool, K = 512, h = H/16; a ResNet's `layer4` output, K = 512 or 2048,
    /// h = H/32). `head(features(x))` equals `forward_t(x, false)`, so gradients of a class
    /// score with respect to the feature map can be taken by running [`Model::head`] on a `Var`
    /// made from the (detached) features.
    pub fn features(&self, xs: &Tensor) -> Result<Tensor> {
        self.check_input(xs)?;
        Ok(match &self.network {
            Network::Cnn(net) => net.features_t(xs, false)?,
            Network::ResNet(net) => net.features(xs)?,
        })
    }

    /// `(batch, K, h, w)` feature map from [`Model::features`] `-> (batch, num_classes)` logits:
    /// the rest of the network (pooling and `fc`).
    pub fn head(&self, features: &Tensor) -> Result<Tensor> {
        Ok(match &self.network {
            Network::Cnn(net) => net.head(features)?,
            Network::ResNet(net) => net.head(features)?,
        })
    }

    /// `(batch, K, h, w)` feature map from [`Model::features`] `-> (batch, D)`: the pooled
    /// features `fc` reads, [`Model::head`] without `fc`; `pool(features(x))` equals
    /// [`Model::embed`]`(x)`. What Grad-CAM runs a classic head on.
    pub fn pool(&self, features: &Tensor) -> Result<Tensor> {
        Ok(match &self.network {
            Network::Cnn(net) => net.pool(features)?,
            Network::ResNet(net) => net.pool(features)?,
        })
    }
}

impl Model {
    /// `(batch, in_channels, H, W) -> (batch, K, h, w)`: the last feature map before global
    /// pooling, the encoder output of an [`crate::Autoencoder`]. A ResNet's `layer4` output
    /// (K = 512, or 2048 for ResNet50; h = `ceil(H / 32)`), the CNN's fifth block after its
    /// pool (K = 512, h = `floor(H / 32)`). `train` acts as in `forward_t`.
    pub fn encode_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self.encode(xs, train)?)
    }

    /// `(batch, in_channels, H, W) -> (batch, D)`: the globally pooled features `fc` reads
    /// (D = [`ModelKind::feature_dim`]), in eval mode. What classic heads are fitted on and
    /// `cxr features` exports.
    pub fn embed(&self, xs: &Tensor) -> Result<Tensor> {
        Ok(self.encode(xs, false)?.mean((2, 3))?)
    }

    /// [`Model::encode_t`] with candle's error type, for the autoencoder's `forward_t`.
    pub(crate) fn encode(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.check_input(xs)?;
        match &self.network {
            Network::Cnn(net) => net.pooled_features_t(xs, train),
            Network::ResNet(net) => net.features_t(xs, train),
        }
    }
}

impl ModuleT for Model {
    /// `(batch, in_channels, H, W)` f32 -> `(batch, num_classes)` logits (train with
    /// cross-entropy on these; see [`Model::probabilities`] for softmax). H and W at least 32.
    /// `train` selects batch statistics in the BatchNorms outside the frozen prefix and updates
    /// their running statistics.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.check_input(xs)?;
        match &self.network {
            Network::Cnn(net) => net.forward_t(xs, train),
            Network::ResNet(net) => net.forward_t(xs, train),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelConfig;

    #[test]
    fn head_of_features_is_the_eval_forward() -> Result<()> {
        let device = Device::Cpu;
        let xs = Tensor::randn(0f32, 1.0, (2, 3, 64, 64), &device)?;
        // (kind, freeze, feature channels, feature side at 64 px input)
        for (kind, freeze, channels, side) in [
            (ModelKind::Cnn, 0, 512, 4),
            (ModelKind::Resnet18, 0, 512, 2),
            (ModelKind::Resnet18, 2, 512, 2),
        ] {
            let model = ModelConfig::new(kind, 3)
                .with_freeze(freeze)
                .init(&device, 1)?;
            let features = model.features(&xs)?;
            assert_eq!(features.dims(), [2, channels, side, side], "{kind}");
            let via_head = model.head(&features)?.flatten_all()?.to_vec1::<f32>()?;
            let direct = model
                .forward_t(&xs, false)?
                .flatten_all()?
                .to_vec1::<f32>()?;
            for (a, b) in via_head.iter().zip(&direct) {
                assert!((a - b).abs() < 1e-5, "{kind}: {a} vs {b}");
            }
        }
        Ok(())
    }

    #[test]
    fn embed_is_what_fc_reads() -> Result<()> {
        let device = Device::Cpu;
        let xs = Tensor::randn(0f32, 1.0, (2, 3, 64, 64), &device)?;
        for kind in [ModelKind::Cnn, ModelKind::Resnet18] {
            let model = ModelConfig::new(kind, 3).init(&device, 1)?;
            let embedded = model.embed(&xs)?;
            assert_eq!(embedded.dims(), [2, kind.feature_dim()], "{kind}");
            let fc = model.parameter("fc.weight").map(|p| p.tensor().clone());
            let bias = model.parameter("fc.bias").map(|p| p.tensor().clone());
            let (Some(w), Some(b)) = (fc, bias) else {
                panic!("{kind} has no fc");
            };
            let logits = embedded.matmul(&w.t()?)?.broadcast_add(&b)?;
            let direct = model.forward_t(&xs, false)?;
            let diff = (logits - direct)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(
                diff < 1e-4,
                "{kind}: fc(embed(x)) differs from the logits by {diff}"
            );
        }
        Ok(())
    }
}
