//! The decoder of an [`crate::Autoencoder`]: from an encoder's last feature map back to the
//! image, the encoder's five halvings mirrored.
//!
//! Five stages of (nearest-neighbour 2x upsample, 3x3 conv, BatchNorm, ReLU) with channels
//! narrowing 256-128-64-32-16, then a 3x3 convolution (with bias) to the input's channels and no
//! activation: the target is the normalised input, which is not bounded to [0, 1]. Where the
//! encoder rounded an odd side when halving it, each stage crops (the ResNets round up) or
//! repeats the last row or column (the CNN's pools round down) to the side the encoder had at
//! that depth, so the reconstruction has exactly the input's shape whatever the image size.
//!
//! Names: `decoder.up{1..5}.conv.weight`, `decoder.up{1..5}.bn.{weight,bias,running_mean,
//! running_var}`, `decoder.out.{weight,bias}`. Initialisation: the stages' convolutions as
//! torchvision's ResNet convolutions (Kaiming-normal, fan_out, ReLU; no bias since BatchNorm
//! follows), BatchNorm weight 1 and bias 0, the output convolution PyTorch's `nn.Conv2d` default.

use candle_core::Tensor;
use candle_nn::{Conv2d, Conv2dConfig};

use crate::batch_norm::BatchNorm;
use crate::conv::conv2d;
use crate::error::Result;
use crate::initializer::{ConvInit, Initializer};

/// The name prefix of every decoder tensor: a classifier loading an autoencoder's weights
/// skips these quietly.
pub const DECODER_PREFIX: &str = "decoder";

/// Output channels of the five upsampling stages.
pub const DECODER_CHANNELS: [usize; 5] = [256, 128, 64, 32, 16];

/// Whether the tensor `name` belongs to an autoencoder's decoder.
pub fn is_decoder(name: &str) -> bool {
    name.split('.').next() == Some(DECODER_PREFIX)
}

/// One `upsample -> conv -> BatchNorm -> ReLU` stage.
#[derive(Debug, Clone)]
struct UpStage {
    conv: Conv2d,
    bn: BatchNorm,
}

/// The decoder network.
#[derive(Debug, Clone)]
pub(crate) struct Decoder {
    stages: Vec<UpStage>,
    out: Conv2d,
}

impl Decoder {
    /// A decoder from `in_channels` feature channels to `out_channels` image channels, its
    /// tensors created under `init`'s prefix.
    pub(crate) fn new(
        init: &mut Initializer<'_>,
        in_channels: usize,
        out_channels: usize,
    ) -> Result<Self> {
        let same = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let mut stages = Vec::with_capacity(DECODER_CHANNELS.len());
        let mut in_ch = in_channels;
        for (i, &out_ch) in DECODER_CHANNELS.iter().enumerate() {
            let mut stage = init.pp(format!("up{}", i + 1));
            let conv = stage.pp("conv").conv2d(
                in_ch,
                out_ch,
                3,
                same,
                false,
                ConvInit::KaimingNormalFanOut,
            )?;
            let bn = stage.pp("bn").batch_norm(out_ch)?;
            stages.push(UpStage { conv, bn });
            in_ch = out_ch;
        }
        let out =
            init.pp("out")
                .conv2d(in_ch, out_channels, 3, same, true, ConvInit::TorchDefault)?;
        Ok(Self { stages, out })
    }

    /// `(batch, K, h, w) -> (batch, out_channels, H, W)`. `sides[i]` is the `(height, width)`
    /// stage `i` upsamples to: the encoder's sides from the fourth halving back to the input's.
    /// `train` selects batch statistics in the BatchNorms and updates their running statistics.
    pub(crate) fn forward_t(
        &self,
        xs: &Tensor,
        sides: &[(usize, usize); 5],
        train: bool,
    ) -> candle_core::Result<Tensor> {
        let mut xs = xs.clone();
        for (stage, &(h, w)) in self.stages.iter().zip(sides) {
            let up = fit_side(fit_side(upsample2x(&xs)?, 2, h)?, 3, w)?;
            xs = stage
                .bn
                .forward_relu(&conv2d(&stage.conv, &up)?, train, true)?;
        }
        conv2d(&self.out, &xs)
    }
}

/// Nearest-neighbour 2x upsampling, `(b, c, h, w) -> (b, c, 2h, 2w)`, as a broadcast: its
/// backward is a sum over each 2x2 block (candle's `upsample_nearest2d` backward is a grouped
/// convolution, one per channel).
fn upsample2x(xs: &Tensor) -> candle_core::Result<Tensor> {
    let (b, c, h, w) = xs.dims4()?;
    xs.reshape((b, c, h, 1, w, 1))?
        .broadcast_as((b, c, h, 2, w, 2))?
        .reshape((b, c, 2 * h, 2 * w))
}

/// `xs` with dimension `dim` cut or extended (by repeating its last slice) to `side`.
fn fit_side(xs: Tensor, dim: usize, side: usize) -> candle_core::Result<Tensor> {
    let have = xs.dim(dim)?;
    if have > side {
        xs.narrow(dim, 0, side)
    } else if have < side {
        xs.pad_with_same(dim, 0, side - have)
    } else {
        Ok(xs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn upsampling_repeats_each_pixel_and_sides_fit_both_ways() -> candle_core::Result<()> {
        let xs = Tensor::new(&[[[[1f32, 2.], [3., 4.]]]], &Device::Cpu)?;
        let up = upsample2x(&xs)?;
        assert_eq!(
            up.get(0)?.to_vec3::<f32>()?.concat(),
            [
                [1., 1., 2., 2.],
                [1., 1., 2., 2.],
                [3., 3., 4., 4.],
                [3., 3., 4., 4.]
            ]
            .map(Vec::from)
        );
        let cropped = fit_side(up.clone(), 2, 3)?;
        assert_eq!(cropped.dims(), [1, 1, 3, 4]);
        let padded = fit_side(up, 3, 5)?;
        assert_eq!(padded.dims(), [1, 1, 4, 5]);
        assert_eq!(
            padded.get(0)?.get(0)?.get(0)?.to_vec1::<f32>()?,
            [1., 1., 2., 2., 2.]
        );
        Ok(())
    }

    #[test]
    fn decoder_names_are_recognised() {
        assert!(is_decoder("decoder.up1.conv.weight"));
        assert!(!is_decoder("layer1.0.conv1.weight"));
        assert!(!is_decoder("decoderish.weight"));
    }
}
