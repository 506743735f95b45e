//! Chest X-ray classifiers: tensors in, logits out (and, for pretraining, images back out).
//!
//! This crate builds the models the trainer fits and compares: the reference study's handcrafted [`cnn`]
//! and ResNet18/34/50 ([`resnet`]) in torchvision's layout and parameter names, so ImageNet
//! checkpoints from torchvision or timm load unchanged ([`weights`]). It does not read images,
//! pick optimizers or run training loops; those live in `cxr-data` and `cxr-trainer`.
//!
//! A [`ModelConfig`] (kind, classes, input channels, freeze depth) builds a [`Model`], which
//! implements [`candle_nn::ModuleT`]: `forward_t(xs, train)` maps `(batch, C, H, W)` f32 to
//! `(batch, num_classes)` logits, with `train` switching BatchNorm to batch statistics. The model
//! lists its named tensors ([`Parameter`]), each a learnable weight or a BatchNorm running
//! statistic and each frozen or not; [`Model::trainable_vars`] is what the optimizer gets and
//! [`Model::param_count`] is PyTorch's parameter count.
//!
//! Why our own ResNet rather than `candle_transformers`' one: that is inference-only (BatchNorm
//! fixed to eval, an opaque closure), so it can neither train nor freeze stages. Training also
//! needs two pieces candle lacks: a BatchNorm whose training forward matches PyTorch's, running
//! statistics included ([`batch_norm`]), and a max-pool with padding whose backward works for the
//! ResNet stem's 3x3/2 window ([`MaxPool2d`], from `cxr-kernels`). On the CPU the convolutions,
//! BatchNorms (fused with the ReLU after them), residual add+ReLU and pools run on the custom ops
//! of `cxr-kernels`, which train several times faster than candle's composed ops
//! ([`conv`]); other devices use candle's ops. Freezing ([`freeze`]) leaves a frozen tensor out of
//! the optimizer, runs its BatchNorms in eval mode, and detaches the frozen prefix's output.
//!
//! An [`Autoencoder`] pretrains a classifier's backbone without labels: the [`Model`] is its
//! encoder (head unused), a mirrored [`decoder`] reconstructs the image from the last feature
//! map, and its saved file holds the encoder under the classifier's names plus `decoder.*`, so
//! [`Model::load_pretrained`] takes the encoder from it (the decoder skipped, `fc` kept at its
//! init).
//!
//! Initialisation draws from an explicit seed (ChaCha8), never from candle's global RNG.
//!
//! ```no_run
//! use candle_core::{Device, Tensor};
//! use candle_nn::{ModuleT, Optimizer};
//! use cxr_models::{ModelConfig, ModelKind};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = Device::Cpu;
//! let config = ModelConfig::new(ModelKind::Resnet18, 4).with_freeze(2);
//! let model = config.build(Some("resnet18-f37072fd.pth".as_ref()), &device, 42)?;
//! let mut opt = candle_nn::AdamW::new_lr(model.trainable_vars(), 1e-3)?;
//! let images = Tensor::zeros((2, 3, 128, 128), candle_core::DType::F32, &device)?;
//! let labels = Tensor::new(&[0u32, 3], &device)?;
//! let loss = candle_nn::loss::cross_entropy(&model.forward_t(&images, true)?, &labels)?;
//! opt.backward_step(&loss)?;
//! model.save("best.safetensors".as_ref())?;
//! # Ok(())
//! # }
//! ```

pub mod autoencoder;
pub mod batch_norm;
mod block;
mod build;
pub mod cnn;
pub mod config;
pub mod conv;
pub mod decoder;
pub mod device;
pub mod error;
pub mod freeze;
mod initializer;
pub mod kind;
pub mod model;
pub mod parameter;
pub mod resnet;
pub mod weights;

pub use autoencoder::Autoencoder;
pub use config::ModelConfig;
pub use cxr_kernels::MaxPool2d;
pub use device::DeviceSpec;
pub use error::{ModelError, Result};
pub use kind::ModelKind;
pub use model::Model;
pub use parameter::{ParamCount, Parameter, Role};
pub use weights::{read_weights, LoadReport};
