//! Deterministic random initialisation of named tensors, as torchvision does it, from an explicit
//! seed (ChaCha8, never candle's global RNG).

use candle_core::{Device, Tensor, Var};
use candle_nn::{Conv2d, Conv2dConfig, Linear};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::batch_norm::BatchNorm;
use crate::error::Result;
use crate::freeze;
use crate::parameter::{Parameter, Role};

/// How a tensor's initial values are drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Init {
    /// Normal with mean 0 and this standard deviation.
    Normal(f64),
    /// Uniform in `[-bound, bound)`.
    Uniform(f64),
    /// Every element equal to this value.
    Const(f64),
}

/// How a convolution's weight is initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConvInit {
    /// torchvision ResNet: `kaiming_normal_(mode="fan_out", nonlinearity="relu")`,
    /// std = sqrt(2 / (out_channels * k * k)).
    KaimingNormalFanOut,
    /// PyTorch's `nn.Conv2d` default (`kaiming_uniform_(a=sqrt(5))`): weight and bias uniform in
    /// ±1/sqrt(in_channels * k * k).
    TorchDefault,
}

/// Creates the named tensors of a model under a name prefix, drawing values from one RNG in
/// construction order and recording each tensor (with its frozen flag) for the model.
pub(crate) struct Initializer<'a> {
    rng: &'a mut ChaCha8Rng,
    params: &'a mut Vec<Parameter>,
    device: &'a Device,
    prefix: String,
    freeze: usize,
}

impl<'a> Initializer<'a> {
    /// A root initializer; `freeze` is the depth whose prefix is marked frozen.
    pub(crate) fn new(
        rng: &'a mut ChaCha8Rng,
        params: &'a mut Vec<Parameter>,
        device: &'a Device,
        freeze: usize,
    ) -> Self {
        Self {
            rng,
            params,
            device,
            prefix: String::new(),
            freeze,
        }
    }

    /// A child scope: names created through it are prefixed with `name.`.
    pub(crate) fn pp(&mut self, name: impl std::fmt::Display) -> Initializer<'_> {
        let prefix = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        Initializer {
            rng: &mut *self.rng,
            params: &mut *self.params,
            device: self.device,
            prefix,
            freeze: self.freeze,
        }
    }

    /// Creates the f32 tensor `prefix.name` of `shape` and records it.
    pub(crate) fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        init: Init,
        role: Role,
    ) -> Result<Var> {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = match init {
            Init::Normal(std) => (0..n)
                .map(|_| (self.rng.sample::<f64, _>(StandardNormal) * std) as f32)
                .collect(),
            Init::Uniform(bound) => (0..n)
                .map(|_| self.rng.random_range(-bound..bound) as f32)
                .collect(),
            Init::Const(value) => vec![value as f32; n],
        };
        let var = Var::from_tensor(&Tensor::from_vec(values, shape, self.device)?)?;
        let full = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        let frozen = freeze::is_frozen(&full, self.freeze);
        self.params
            .push(Parameter::new(full, var.clone(), role, frozen));
        Ok(var)
    }

    /// A square convolution `in_ch -> out_ch` with kernel `k` (weight `(out_ch, in_ch, k, k)`,
    /// optional bias `(out_ch,)`).
    pub(crate) fn conv2d(
        &mut self,
        in_ch: usize,
        out_ch: usize,
        k: usize,
        config: Conv2dConfig,
        bias: bool,
        init: ConvInit,
    ) -> Result<Conv2d> {
        let fan_in = (in_ch * k * k) as f64;
        let fan_out = (out_ch * k * k) as f64;
        let weight_init = match init {
            ConvInit::KaimingNormalFanOut => Init::Normal((2.0 / fan_out).sqrt()),
            ConvInit::TorchDefault => Init::Uniform(1.0 / fan_in.sqrt()),
        };
        let weight = self.tensor("weight", &[out_ch, in_ch, k, k], weight_init, Role::Weight)?;
        let bias = if bias {
            let bound = 1.0 / fan_in.sqrt();
            let b = self.tensor("bias", &[out_ch], Init::Uniform(bound), Role::Weight)?;
            Some(b.as_tensor().clone())
        } else {
            None
        };
        Ok(Conv2d::new(weight.as_tensor().clone(), bias, config))
    }

    /// A linear layer `in_dim -> out_dim` with PyTorch's default init: weight `(out_dim, in_dim)`
    /// and bias `(out_dim,)` uniform in ±1/sqrt(in_dim).
    pub(crate) fn linear(&mut self, in_dim: usize, out_dim: usize) -> Result<Linear> {
        let bound = 1.0 / (in_dim as f64).sqrt();
        let weight = self.tensor(
            "weight",
            &[out_dim, in_dim],
            Init::Uniform(bound),
            Role::Weight,
        )?;
        let bias = self.tensor("bias", &[out_dim], Init::Uniform(bound), Role::Weight)?;
        Ok(Linear::new(
            weight.as_tensor().clone(),
            Some(bias.as_tensor().clone()),
        ))
    }

    /// A BatchNorm over `channels`: weight 1, bias 0, running mean 0, running variance 1.
    pub(crate) fn batch_norm(&mut self, channels: usize) -> Result<BatchNorm> {
        let weight = self.tensor("weight", &[channels], Init::Const(1.0), Role::Weight)?;
        let bias = self.tensor("bias", &[channels], Init::Const(0.0), Role::Weight)?;
        let mean = self.tensor(
            "running_mean",
            &[channels],
            Init::Const(0.0),
            Role::RunningStat,
        )?;
        let var = self.tensor(
            "running_var",
            &[channels],
            Init::Const(1.0),
            Role::RunningStat,
        )?;
        Ok(BatchNorm::new(weight, bias, mean, var))
    }
}
