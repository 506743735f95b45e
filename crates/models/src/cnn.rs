//! The reference study's handcrafted CNN.
//!
//! Five blocks of `conv (with bias, 'same' padding) -> BatchNorm -> ReLU -> 2x2 max-pool`, with
//! output channels (32, 64, 128, 256, 512) and kernels (5, 5, 3, 3, 3); global average pooling to
//! 512 features; one linear layer to the classes.
//!
//! The reference study's reported size, 1,606,916 parameters with 4 classes, pins down two
//! details the study did not spell out: the convolutions have biases and the input has 3
//! channels. Per block,
//! `k*k*in*out + out` (conv) `+ 2*out` (BatchNorm):
//! `2432+64 + 51264+128 + 73856+256 + 295168+512 + 1180160+1024 = 1604864`, plus the linear layer
//! `512*4 + 4 = 2052`, gives 1,606,916. With 1 input channel it would be 1,605,316; without conv
//! biases 1,605,924. So `in_channels` defaults to 3 (grayscale X-rays replicated to RGB); 1 is
//! accepted for single-channel input.
//!
//! Names: `block{1..5}.conv.{weight,bias}`, `block{1..5}.bn.*`, `fc.{weight,bias}`. Initialised as
//! PyTorch's defaults for `nn.Conv2d`/`nn.Linear` (uniform ±1/sqrt(fan_in)), the study having no
//! custom init.

use candle_core::Tensor;
use candle_nn::{Conv2d, Conv2dConfig, Linear, Module, ModuleT};

use crate::conv::{conv2d, conv_bn_eval, use_kernels};

use crate::batch_norm::BatchNorm;
use crate::error::Result;
use crate::initializer::{ConvInit, Initializer};
use cxr_kernels::MaxPool2d;

/// Output channels of the five blocks.
pub const CNN_CHANNELS: [usize; 5] = [32, 64, 128, 256, 512];
/// Kernel sides of the five blocks.
pub const CNN_KERNELS: [usize; 5] = [5, 5, 3, 3, 3];

/// One `conv -> BatchNorm -> ReLU -> max-pool` block.
#[derive(Debug, Clone)]
struct CnnBlock {
    conv: Conv2d,
    bn: BatchNorm,
}

impl CnnBlock {
    /// `(batch, in, H, W) -> (batch, out, H, W)`: conv, BatchNorm, ReLU, before the pool.
    fn activate(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        if !train {
            if let Some(ys) = conv_bn_eval(&self.conv, &self.bn, xs, true)? {
                return Ok(ys);
            }
        }
        let xs = conv2d(&self.conv, xs)?;
        self.bn.forward_relu(&xs, train, true)
    }
}

impl ModuleT for CnnBlock {
    /// `(batch, in, H, W) -> (batch, out, H/2, W/2)`.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        if train && use_kernels(xs) {
            // One fused op after the convolution: the full-resolution BatchNorm+ReLU output
            // (268 MB in the first block at batch 128 and 128 px) is never kept.
            let ys = conv2d(&self.conv, xs)?;
            return self.bn.relu_max_pool_train(&ys, MaxPool2d::HALVE);
        }
        crate::conv::max_pool2d(MaxPool2d::HALVE, &self.activate(xs, train)?)
    }
}

/// The handcrafted CNN.
#[derive(Debug, Clone)]
pub struct Cnn {
    blocks: Vec<CnnBlock>,
    fc: Linear,
}

impl Cnn {
    /// Builds the network with fresh random weights.
    pub(crate) fn new(
        init: &mut Initializer<'_>,
        in_channels: usize,
        num_classes: usize,
    ) -> Result<Self> {
        let mut blocks = Vec::with_capacity(CNN_CHANNELS.len());
        let mut in_ch = in_channels;
        for (i, (&out_ch, &k)) in CNN_CHANNELS.iter().zip(&CNN_KERNELS).enumerate() {
            let mut block = init.pp(format!("block{}", i + 1));
            let same = Conv2dConfig {
                padding: k / 2,
                ..Default::default()
            };
            let conv =
                block
                    .pp("conv")
                    .conv2d(in_ch, out_ch, k, same, true, ConvInit::TorchDefault)?;
            let bn = block.pp("bn").batch_norm(out_ch)?;
            blocks.push(CnnBlock { conv, bn });
            in_ch = out_ch;
        }
        let fc = init.pp("fc").linear(in_ch, num_classes)?;
        Ok(Self { blocks, fc })
    }
}

impl Cnn {
    /// `(batch, in_channels, H, W) -> (batch, 512, H/16, W/16)`: the last block's activations
    /// before its max-pool, the last convolutional feature map (Grad-CAM's target layer, as
    /// the last ReLU before the final pool is for VGG).
    pub(crate) fn features_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let Some((last, rest)) = self.blocks.split_last() else {
            return Ok(xs.clone());
        };
        let mut xs = xs.clone();
        for block in rest {
            xs = block.forward_t(&xs, train)?;
        }
        last.activate(&xs, train)
    }

    /// `(batch, in_channels, H, W) -> (batch, 512, H/32, W/32)`: all five blocks, the last
    /// pool included, i.e. the feature map global pooling reads (each pool rounds down). What an
    /// autoencoder's decoder reconstructs the image from.
    pub(crate) fn pooled_features_t(
        &self,
        xs: &Tensor,
        train: bool,
    ) -> candle_core::Result<Tensor> {
        crate::conv::max_pool2d(MaxPool2d::HALVE, &self.features_t(xs, train)?)
    }

    /// `(batch, 512, h, w) -> (batch, num_classes)`: the last pool, global average pool, `fc`.
    pub(crate) fn head(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        self.fc.forward(&self.pool(features)?)
    }

    /// The features `fc` reads from the feature map of [`Cnn::head`]: the fifth block's pool,
    /// then the global average pool, `(batch, 512, h/2, w/2) -> (batch, 512)`.
    pub(crate) fn pool(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        crate::conv::max_pool2d(MaxPool2d::HALVE, features)?.mean((2, 3))
    }
}

impl ModuleT for Cnn {
    /// `(batch, in_channels, H, W) -> (batch, num_classes)` logits; H and W at least 32.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        self.head(&self.features_t(xs, train)?)
    }
}
