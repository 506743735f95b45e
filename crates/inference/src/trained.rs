//! A trained run opened for use: its resolved config, its preprocessing record and its kept
//! weights, with the one function that turns an image file into what the model was trained on.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use cxr_data::{make_batch, seed, BatchSpec, ImageSet};
use cxr_experiment::RunConfig;
use cxr_models::{Model, ModelConfig};
use cxr_results::RunDir;
use cxr_trainer::Preprocessing;

use crate::class_name::find_class;
use crate::error::{InferenceError, Result};

/// A finished run, loaded: config, preprocessing and model (on the CPU, in eval mode).
#[derive(Debug)]
pub struct TrainedModel {
    /// The run folder.
    pub run: RunDir,
    /// The run's resolved config (`config.toml`).
    pub config: RunConfig,
    /// Class order, input channels and normalisation the run trained with.
    pub preprocessing: Preprocessing,
    /// The kept weights.
    pub model: Model,
}

impl TrainedModel {
    /// Opens the run folder `dir`. The preprocessing comes from its `preprocessing.json`; a run
    /// folder from before that file existed gets it recomputed from the run's training data
    /// (found through `cache_dir` for the synthetic set), which must then still be on disk.
    pub fn open(dir: &Path, cache_dir: &Path) -> Result<Self> {
        let run = RunDir::at(dir);
        let config_path = run.config_path();
        if !config_path.is_file() {
            return Err(InferenceError::NotARun(dir.to_path_buf()));
        }
        let text = std::fs::read_to_string(&config_path).map_err(|e| InferenceError::Config {
            path: config_path.clone(),
            message: e.to_string(),
        })?;
        let config = RunConfig::from_toml(&text).map_err(|e| InferenceError::Config {
            path: config_path.clone(),
            message: cxr_experiment::one_line(&e, &text),
        })?;
        let weights = run.model_path();
        if !weights.is_file() {
            return Err(InferenceError::NoWeights {
                dir: dir.to_path_buf(),
                file: weights,
            });
        }
        let preprocessing = read_preprocessing(&run, &config, cache_dir)?;
        let model_config = ModelConfig::new(config.model.name, preprocessing.classes.len())
            .with_freeze(config.model.freeze)
            .with_in_channels(preprocessing.in_channels);
        let model = Model::load(model_config, &weights, &Device::Cpu)?;
        Ok(Self {
            run,
            config,
            preprocessing,
            model,
        })
    }

    /// The model's classes, in output order.
    pub fn classes(&self) -> &[String] {
        &self.preprocessing.classes
    }

    /// Side length of the square images the model takes.
    pub fn image_size(&self) -> u32 {
        self.config.data.image_size
    }

    /// How batches are built: the run's channels and statistics, never augmented.
    pub fn batch_spec(&self) -> BatchSpec {
        BatchSpec {
            channels: self.preprocessing.in_channels,
            stats: self.preprocessing.stats,
            augment: None,
        }
    }

    /// The index of class `name` (matched as in [`crate::class_name`]), or an error listing
    /// the model's classes.
    pub fn class_index(&self, name: &str) -> Result<usize> {
        find_class(self.classes(), name).ok_or_else(|| InferenceError::UnknownClass {
            name: name.to_string(),
            known: self.classes().join(", "),
        })
    }

    /// The 8-bit pixels the run's data pipeline would have cached for `image`: same size, same
    /// resize filter, masked when the run used masks (the mask is looked up where
    /// [`cxr_data::mask_path_of`] says; a missing one is an error).
    pub fn preprocess(&self, image: &Path) -> Result<Vec<u8>> {
        let mask = if self.config.data.mask {
            let mask = cxr_data::mask_path_of(image);
            if !mask.is_file() {
                return Err(cxr_data::DataError::MissingMask {
                    image: image.to_path_buf(),
                    expected: mask,
                }
                .into());
            }
            Some(mask)
        } else {
            None
        };
        Ok(cxr_data::preprocess_file(
            image,
            mask.as_deref(),
            self.image_size(),
        )?)
    }

    /// `(n, channels, size, size)` model input from preprocessed images (from
    /// [`TrainedModel::preprocess`]), normalised by the same code the trainer uses.
    pub fn input(&self, images: Vec<Vec<u8>>, files: Vec<PathBuf>) -> Result<Tensor> {
        let n = images.len();
        let set = ImageSet {
            classes: self.classes().to_vec(),
            size: self.image_size(),
            labels: vec![0; n],
            pixels: images.concat(),
            files,
        };
        let indices: Vec<usize> = (0..n).collect();
        // Never drawn from: the spec has no augmentation.
        let mut unused = seed::rng(0, "unused");
        let (x, _) = make_batch(
            &set,
            &indices,
            &self.batch_spec(),
            &mut unused,
            self.model.device(),
        )?;
        Ok(x)
    }
}

fn read_preprocessing(run: &RunDir, config: &RunConfig, cache_dir: &Path) -> Result<Preprocessing> {
    let path = run.preprocessing_path();
    if path.is_file() {
        return Ok(Preprocessing::read(&path)?);
    }
    tracing::warn!(
        run = %run.path().display(),
        "no preprocessing.json (run trained before it was recorded): recomputing class order and normalisation from the run's training data"
    );
    Preprocessing::recompute(config, cache_dir).map_err(|e| InferenceError::NoPreprocessing {
        dir: run.path().to_path_buf(),
        message: e.to_string(),
    })
}
