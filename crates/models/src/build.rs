//! From a [`ModelConfig`] to a [`Model`]: random init from a seed, or pretrained weights from a
//! file. Apart from `config.rs` so that the configuration stays plain data that the model and
//! the weight loader read, and only this module knows all three.

use std::path::Path;

use candle_core::Device;

use crate::config::ModelConfig;
use crate::error::Result;
use crate::model::Model;
use crate::weights::LoadReport;

impl ModelConfig {
    /// Builds the model with random weights drawn from `seed` (torchvision's init; see
    /// [`crate::resnet`] and [`crate::cnn`]). The same config and seed give bit-identical weights.
    pub fn init(&self, device: &Device, seed: u64) -> Result<Model> {
        Model::new(*self, device, seed)
    }

    /// Builds the model and loads pretrained weights from `path` (`.safetensors` or PyTorch
    /// `.pth`, torchvision names); `fc` keeps its random init from `seed` when the file's head
    /// has another shape (ImageNet's 1000 classes). See [`Model::load_pretrained`].
    pub fn init_pretrained(
        &self,
        path: &Path,
        device: &Device,
        seed: u64,
    ) -> Result<(Model, LoadReport)> {
        let model = self.init(device, seed)?;
        let report = model.load_pretrained(path)?;
        Ok((model, report))
    }

    /// What a training run calls: pretrained weights when `weights` is given (logging what was
    /// re-initialised), random init otherwise.
    pub fn build(&self, weights: Option<&Path>, device: &Device, seed: u64) -> Result<Model> {
        match weights {
            Some(path) => {
                let (model, report) = self.init_pretrained(path, device, seed)?;
                tracing::info!(
                    model = %self.kind,
                    weights = %path.display(),
                    loaded = report.loaded.len(),
                    reinitialised = ?report.reinitialised,
                    decoder_skipped = report.ignored.len(),
                    "loaded pretrained weights"
                );
                Ok(model)
            }
            None => self.init(device, seed),
        }
    }
}
