//! ResNet18/34/50 in torchvision's layout and parameter names, trainable and freezable.
//!
//! `conv1` (7x7/2) -> `bn1` -> ReLU -> 3x3/2 max-pool -> `layer1`..`layer4` -> global average
//! pool -> `fc`, where `fc` has `num_classes` outputs instead of ImageNet's 1000. Names match
//! `torchvision.models.resnet18().state_dict()` (and timm's resnet18/34), so their checkpoints
//! load unchanged. Initialisation follows torchvision: convolutions Kaiming-normal (fan_out,
//! ReLU), BatchNorm weight 1 and bias 0, `fc` PyTorch's `nn.Linear` default.

use candle_core::Tensor;
use candle_nn::{Conv2d, Conv2dConfig, Linear, Module, ModuleT};

use crate::batch_norm::BatchNorm;
use crate::block::{Block, BlockKind};
use crate::conv::{conv2d, conv_bn_eval, use_kernels};
use crate::error::Result;
use crate::initializer::{ConvInit, Initializer};
use cxr_kernels::MaxPool2d;

/// Channels of the stem and `planes` of the four stages.
const STEM_CHANNELS: usize = 64;
const STAGE_PLANES: [usize; 4] = [64, 128, 256, 512];

/// A ResNet's depth: block type and blocks per stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResNetSpec {
    pub(crate) block: BlockKind,
    pub(crate) blocks: [usize; 4],
}

impl ResNetSpec {
    /// ResNet18: BasicBlocks, (2, 2, 2, 2).
    pub(crate) const RESNET18: Self = Self {
        block: BlockKind::Basic,
        blocks: [2, 2, 2, 2],
    };
    /// ResNet34: BasicBlocks, (3, 4, 6, 3).
    pub(crate) const RESNET34: Self = Self {
        block: BlockKind::Basic,
        blocks: [3, 4, 6, 3],
    };
    /// ResNet50: Bottlenecks, (3, 4, 6, 3).
    pub(crate) const RESNET50: Self = Self {
        block: BlockKind::Bottleneck,
        blocks: [3, 4, 6, 3],
    };
}

/// A ResNet whose first `freeze` stages (see [`crate::freeze`]) are frozen.
#[derive(Debug, Clone)]
pub struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    layers: Vec<Vec<Block>>,
    fc: Linear,
    freeze: usize,
}

impl ResNet {
    /// Builds the network with fresh random weights.
    pub(crate) fn new(
        init: &mut Initializer<'_>,
        spec: ResNetSpec,
        in_channels: usize,
        num_classes: usize,
        freeze: usize,
    ) -> Result<Self> {
        let stem = Conv2dConfig {
            padding: 3,
            stride: 2,
            ..Default::default()
        };
        let conv1 = init.pp("conv1").conv2d(
            in_channels,
            STEM_CHANNELS,
            7,
            stem,
            false,
            ConvInit::KaimingNormalFanOut,
        )?;
        let bn1 = init.pp("bn1").batch_norm(STEM_CHANNELS)?;
        let mut in_ch = STEM_CHANNELS;
        let mut layers = Vec::with_capacity(STAGE_PLANES.len());
        for (i, (&planes, &count)) in STAGE_PLANES.iter().zip(&spec.blocks).enumerate() {
            let mut stage = init.pp(format!("layer{}", i + 1));
            let mut blocks = Vec::with_capacity(count);
            for b in 0..count {
                let stride = if i > 0 && b == 0 { 2 } else { 1 };
                blocks.push(Block::new(
                    &mut stage.pp(b),
                    spec.block,
                    in_ch,
                    planes,
                    stride,
                )?);
                in_ch = planes * spec.block.expansion();
            }
            layers.push(blocks);
        }
        let fc = init.pp("fc").linear(in_ch, num_classes)?;
        Ok(Self {
            conv1,
            bn1,
            layers,
            fc,
            freeze,
        })
    }
}

impl ResNet {
    /// The frozen prefix (stem and `layer1..=layer{freeze}`) in eval mode, detached; `None` at
    /// freeze 0. `(batch, in_channels, H, W) -> (batch, C_k, H_k, W_k)`, e.g. `(B, 64, H/4,
    /// W/4)` at freeze 1. Its output depends on the image only, so it can be computed once and
    /// reused every epoch ([`ResNet::forward_suffix_t`] continues from it).
    pub(crate) fn forward_prefix(&self, xs: &Tensor) -> candle_core::Result<Option<Tensor>> {
        if self.freeze == 0 {
            return Ok(None);
        }
        let mut xs = self.stem(xs, false)?;
        for blocks in &self.layers[..self.freeze] {
            for block in blocks {
                xs = block.forward_t(&xs, false)?;
            }
        }
        Ok(Some(xs.detach()))
    }

    /// The trainable rest after the frozen prefix: `layer{freeze+1}..=layer4`, pooling and `fc`.
    /// `(batch, C_k, H_k, W_k) -> (batch, num_classes)`.
    pub(crate) fn forward_suffix_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let mut xs = xs.clone();
        for blocks in &self.layers[self.freeze..] {
            for block in blocks {
                xs = block.forward_t(&xs, train)?;
            }
        }
        self.head(&xs)
    }

    /// `(batch, in_channels, H, W) -> (batch, 512 * expansion, H/32, W/32)`: the output of
    /// `layer4`, the last convolutional stage, in eval mode (Grad-CAM's target layer).
    pub(crate) fn features(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        self.features_t(xs, false)
    }

    /// [`ResNet::features`] with `train` selecting batch statistics outside the frozen prefix,
    /// as in `forward_t`: what an autoencoder's decoder reconstructs the image from. Each
    /// stride-2 step rounds up, so the side is `ceil(H / 32)`.
    pub(crate) fn features_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let mut xs = match self.forward_prefix(xs)? {
            Some(prefix) => prefix,
            None => self.stem(xs, train)?,
        };
        for blocks in &self.layers[self.freeze..] {
            for block in blocks {
                xs = block.forward_t(&xs, train)?;
            }
        }
        Ok(xs)
    }

    /// `(batch, 512 * expansion, h, w) -> (batch, num_classes)`: global average pool, `fc`.
    pub(crate) fn head(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        self.fc.forward(&self.pool(features)?)
    }

    /// The features `fc` reads: the global average pool of `layer4`'s output.
    pub(crate) fn pool(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        features.mean((2, 3))
    }

    /// `conv1` -> `bn1` -> ReLU -> max-pool.
    fn stem(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        if train && use_kernels(xs) {
            // One fused op after the convolution: BatchNorm+ReLU's full-size output is never
            // kept (see `cxr_kernels::batch_norm_relu_max_pool_train`).
            let ys = conv2d(&self.conv1, xs)?;
            return self.bn1.relu_max_pool_train(&ys, MaxPool2d::RESNET_STEM);
        }
        let folded = if train {
            None
        } else {
            conv_bn_eval(&self.conv1, &self.bn1, xs, true)?
        };
        let xs = match folded {
            Some(xs) => xs,
            None => self
                .bn1
                .forward_relu(&conv2d(&self.conv1, xs)?, train, true)?,
        };
        crate::conv::max_pool2d(MaxPool2d::RESNET_STEM, &xs)
    }
}

impl ModuleT for ResNet {
    /// `(batch, in_channels, H, W) -> (batch, num_classes)` logits; H and W at least 32.
    ///
    /// Frozen stages always run in eval mode, and the output of the frozen prefix is detached, so
    /// backward stops there.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        match self.forward_prefix(xs)? {
            Some(prefix) => self.forward_suffix_t(&prefix, train),
            None => self.forward_suffix_t(&self.stem(xs, train)?, train),
        }
    }
}
