//! ResNet residual blocks in torchvision's layout: `BasicBlock` (ResNet18/34) and `Bottleneck`
//! (ResNet50, the v1.5 variant with the stride on the 3x3 convolution).

use candle_core::Tensor;
use candle_nn::{Conv2d, Conv2dConfig, ModuleT};

use crate::batch_norm::BatchNorm;
use crate::conv::{add_relu, conv2d, conv_bn_eval};
use crate::error::Result;
use crate::initializer::{ConvInit, Initializer};

/// Which residual block a ResNet stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// Two 3x3 convolutions; expansion 1.
    Basic,
    /// 1x1, 3x3, 1x1 convolutions; expansion 4.
    Bottleneck,
}

impl BlockKind {
    /// Ratio of a block's output channels to its `planes`.
    pub(crate) fn expansion(self) -> usize {
        match self {
            Self::Basic => 1,
            Self::Bottleneck => 4,
        }
    }
}

/// A bias-free convolution with torchvision's ResNet init.
fn conv(
    init: &mut Initializer<'_>,
    name: &str,
    in_ch: usize,
    out_ch: usize,
    k: usize,
    stride: usize,
) -> Result<Conv2d> {
    let config = Conv2dConfig {
        padding: k / 2,
        stride,
        ..Default::default()
    };
    init.pp(name).conv2d(
        in_ch,
        out_ch,
        k,
        config,
        false,
        ConvInit::KaimingNormalFanOut,
    )
}

/// conv -> BatchNorm, the unit every block is made of.
#[derive(Debug, Clone)]
struct ConvBn {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBn {
    /// conv -> BatchNorm, then ReLU when `relu`. On the CPU the ReLU is fused into the
    /// BatchNorm in training, and in eval mode the BatchNorm is folded into the convolution
    /// ([`conv_bn_eval`]).
    fn forward(&self, xs: &Tensor, train: bool, relu: bool) -> candle_core::Result<Tensor> {
        if !train {
            if let Some(ys) = conv_bn_eval(&self.conv, &self.bn, xs, relu)? {
                return Ok(ys);
            }
        }
        self.bn.forward_relu(&conv2d(&self.conv, xs)?, train, relu)
    }

    /// `relu(bn(conv(xs)) + shortcut)`: in training one fused op after the convolution (the
    /// BatchNorm's output is never kept), in eval mode the folded convolution, then add+ReLU.
    fn forward_add_relu(
        &self,
        xs: &Tensor,
        shortcut: &Tensor,
        train: bool,
    ) -> candle_core::Result<Tensor> {
        if !train {
            if let Some(ys) = conv_bn_eval(&self.conv, &self.bn, xs, false)? {
                return add_relu(&ys, shortcut);
            }
        }
        self.bn
            .forward_add_relu(&conv2d(&self.conv, xs)?, shortcut, train)
    }
}

/// One residual block: `relu(body(x) + shortcut(x))`, where the shortcut is the identity or, when
/// the shape changes, `downsample.0` (1x1 conv, stride s) and `downsample.1` (BatchNorm).
#[derive(Debug, Clone)]
pub(crate) struct Block {
    body: Vec<ConvBn>,
    downsample: Option<ConvBn>,
}

impl Block {
    /// The block under `init`'s prefix (e.g. `layer2.0`) taking `in_ch` channels to
    /// `planes * kind.expansion()`, striding by `stride`.
    pub(crate) fn new(
        init: &mut Initializer<'_>,
        kind: BlockKind,
        in_ch: usize,
        planes: usize,
        stride: usize,
    ) -> Result<Self> {
        let out_ch = planes * kind.expansion();
        // (kernel, input channels, output channels, stride) of each conv{i}, paired with bn{i}.
        let convs: Vec<(usize, usize, usize, usize)> = match kind {
            BlockKind::Basic => vec![(3, in_ch, planes, stride), (3, planes, planes, 1)],
            BlockKind::Bottleneck => vec![
                (1, in_ch, planes, 1),
                (3, planes, planes, stride),
                (1, planes, out_ch, 1),
            ],
        };
        let mut body = Vec::with_capacity(convs.len());
        for (i, (k, cin, cout, s)) in convs.into_iter().enumerate() {
            let conv = conv(init, &format!("conv{}", i + 1), cin, cout, k, s)?;
            let bn = init.pp(format!("bn{}", i + 1)).batch_norm(cout)?;
            body.push(ConvBn { conv, bn });
        }
        let downsample = if stride != 1 || in_ch != out_ch {
            let mut ds = init.pp("downsample");
            let conv = conv(&mut ds, "0", in_ch, out_ch, 1, stride)?;
            let bn = ds.pp("1").batch_norm(out_ch)?;
            Some(ConvBn { conv, bn })
        } else {
            None
        };
        Ok(Self { body, downsample })
    }
}

impl ModuleT for Block {
    /// `(batch, in_ch, H, W) -> (batch, planes * expansion, H / stride, W / stride)`.
    fn forward_t(&self, xs: &Tensor, train: bool) -> candle_core::Result<Tensor> {
        let Some((last, first)) = self.body.split_last() else {
            candle_core::bail!("a residual block without convolutions");
        };
        let mut out = xs.clone();
        for unit in first {
            out = unit.forward(&out, train, true)?;
        }
        let shortcut = match &self.downsample {
            Some(ds) => ds.forward(xs, train, false)?,
            None => xs.clone(),
        };
        last.forward_add_relu(&out, &shortcut, train)
    }
}
