//! A trained run opened for use: its resolved config, its preprocessing record and its kept
//! weights (for a classic-head run, its backbone and its fitted head), with the one function
//! that turns an image file into what the model was trained on.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use cxr_data::{input_tensor, BatchSpec, ImageSet};
use cxr_experiment::{Objective, RunConfig, RunConfigFile};
use cxr_heads::Matrix;
use cxr_metrics::ConfusionMatrix;
use cxr_models::{Model, ModelConfig};
use cxr_results::{Preprocessing, RunDir};
use cxr_trainer::classic::{weights_hash, NOTE_WEIGHTS_BLAKE3};
use cxr_trainer::{Evaluation, RunEnv};

use crate::class_name::find_class;
use crate::classic_head::ClassicHead;
use crate::error::{InferenceError, Result};

/// A finished run, loaded: config, preprocessing and model (on the caller's device, in eval mode).
#[derive(Debug)]
pub struct TrainedModel {
    /// The run folder.
    pub run: RunDir,
    /// The run's resolved config (`config.toml`).
    pub config: RunConfig,
    /// Class order, input channels and normalisation the run trained with.
    pub preprocessing: Preprocessing,
    /// The kept weights; for a classic-head run, its frozen backbone (the head's features are
    /// its [`Model::embed`]).
    pub model: Model,
    /// A classic-head run's fitted head (`head.safetensors`); `None` for a network.
    pub head: Option<ClassicHead>,
    /// The temperature the run fitted on its validation split (`calibration.json`), by which
    /// every probability is scaled; `None` for a run trained without calibration.
    pub temperature: Option<f64>,
}

impl TrainedModel {
    /// Opens the run folder `dir`. The preprocessing comes from its `preprocessing.json`; a run
    /// folder from before that file existed gets it recomputed from the run's training data
    /// (found through `env.cache_dir` for the synthetic set), which must then still be on disk.
    /// The weights are loaded onto `device`, where every input is then built.
    ///
    /// A classic-head run is opened as its backbone, rebuilt as the sweep built it (its
    /// starting weights located through `env`, a source run's under the results folder the run
    /// folder is in, or the seed's random init), and its `head.safetensors`; weights whose
    /// hash differs from the one the head recorded are refused.
    pub fn open(dir: &Path, env: &RunEnv<'_>, device: &Device) -> Result<Self> {
        let run = RunDir::at(dir);
        if !run.config_path().is_file() {
            return Err(crate::trained::not_a_run(dir));
        }
        let config = run.read_config()?;
        if config.train.objective == Objective::Autoencoder {
            return Err(InferenceError::NotAClassifier(dir.to_path_buf()));
        }
        if config.model.head.is_some() {
            return open_classic(run, config, env, device);
        }
        if !run.model_path().is_file() {
            return Err(InferenceError::NoWeights {
                dir: dir.to_path_buf(),
                file: run.model_path(),
            });
        }
        let preprocessing = read_preprocessing(&run, &config, env.cache_dir)?;
        let model_config = ModelConfig::new(config.model.name, preprocessing.classes.len())
            .with_freeze(config.model.freeze)
            .with_in_channels(preprocessing.in_channels);
        let model = Model::load(model_config, &run.model_path(), device)?;
        let temperature = run.read_calibration()?.map(|c| c.temperature);
        Ok(Self {
            run,
            config,
            preprocessing,
            model,
            head: None,
            temperature,
        })
    }

    /// The pooled features of a `(n, channels, size, size)` input as the head's matrix.
    fn embed(&self, input: &Tensor) -> Result<Matrix> {
        let features = self.model.embed(input)?;
        let (rows, cols) = features.dims2()?;
        Ok(Matrix::new(
            rows,
            cols,
            features.flatten_all()?.to_vec1::<f32>()?,
        )?)
    }

    /// Class probabilities and predicted classes of a `(n, channels, size, size)` input: for
    /// a network the most probable class ([`TrainedModel::probabilities`]); for a classic head
    /// its own decision (the SVMs' vote may differ from their most probable class), as the
    /// run's `predictions.parquet` recorded it.
    pub fn classify(&self, input: &Tensor) -> Result<(Vec<Vec<f32>>, Vec<usize>)> {
        if let Some(head) = &self.head {
            let features = self.embed(input)?;
            let predicted = head.predict(&features)?;
            let rows = self.head_probabilities(head, &features)?;
            return Ok((rows, predicted));
        }
        let rows = self.probabilities(input)?.to_vec2::<f32>()?;
        let predicted = rows.iter().map(|row| most_probable(row)).collect();
        Ok((rows, predicted))
    }

    /// The head's probabilities of the rows of `features`, `rows x outputs`.
    pub(crate) fn head_probabilities(
        &self,
        head: &ClassicHead,
        features: &Matrix,
    ) -> Result<Vec<Vec<f32>>> {
        head.probabilities(features)?
            .ok_or_else(|| InferenceError::HeadFile {
                file: self.run.head_path(),
                message: "the head has no probabilities (an SVM saved before its Platt scaling was fitted); rerun its grid with --force".to_string(),
            })
    }

    /// The pooled features of images `indices` of `set`, as the head's matrix.
    pub(crate) fn embed_images(
        &self,
        set: &ImageSet,
        indices: &[usize],
        batch: usize,
    ) -> Result<Matrix> {
        let spec = self.batch_spec();
        let embedded = cxr_trainer::embed_images(&self.model, set, indices, &spec, batch)?;
        Ok(Matrix::new(indices.len(), embedded.dim, embedded.values)?)
    }

    /// Scores images `indices` of `set` (labels in the model's class order), unaugmented, in
    /// batches: the trainer's [`cxr_trainer::evaluate_images`] for a network; for a classic
    /// head, the backbone's features through the head (the loss is the mean negative log of
    /// the true class's probability, floored at 1e-7; logits are the log-probabilities).
    pub fn evaluate(&self, set: &ImageSet, indices: &[usize], batch: usize) -> Result<Evaluation> {
        let spec = self.batch_spec();
        let Some(head) = &self.head else {
            return Ok(cxr_trainer::evaluate_images(
                &self.model,
                set,
                indices,
                &spec,
                batch,
            )?);
        };
        let features = self.embed_images(set, indices, batch)?;
        let predictions: Vec<u32> = head
            .predict(&features)?
            .into_iter()
            .map(|c| c as u32)
            .collect();
        let rows = self.head_probabilities(head, &features)?;
        let labels: Vec<u32> = indices.iter().map(|&i| set.labels[i]).collect();
        let classes = head.outputs();
        let loss = labels
            .iter()
            .zip(&rows)
            .map(|(&l, row)| -f64::from(row[l as usize]).max(1e-7).ln())
            .sum::<f64>()
            / labels.len().max(1) as f64;
        let probabilities: Vec<f32> = rows.concat();
        Ok(Evaluation {
            loss,
            confusion: ConfusionMatrix::new(&labels, &predictions, classes),
            logits: probabilities.iter().map(|p| p.max(1e-7).ln()).collect(),
            labels,
            predictions,
            probabilities,
        })
    }

    /// Class probabilities of a `(n, channels, size, size)` input: the softmax of the logits,
    /// over the run's temperature when it was calibrated (as its reported probabilities were);
    /// for a multi-label run, each finding's sigmoid (over the finding's temperature when
    /// calibrated).
    pub fn probabilities(&self, input: &Tensor) -> Result<Tensor> {
        if let Some(head) = &self.head {
            let rows = self.head_probabilities(head, &self.embed(input)?)?;
            let n = rows.len();
            let flat = rows.concat();
            return Ok(Tensor::from_vec(
                flat,
                (n, head.outputs()),
                self.model.device(),
            )?);
        }
        let logits = candle_core::ModuleT::forward_t(&self.model, input, false)?;
        if self.is_multilabel() {
            let logits = match self.preprocessing.temperatures.as_slice() {
                [] => logits,
                t => {
                    let t = Tensor::new(t, logits.device())?.to_dtype(logits.dtype())?;
                    logits.broadcast_div(&t)?
                }
            };
            return Ok(candle_nn::ops::sigmoid(&logits)?);
        }
        let logits = match self.temperature {
            Some(t) => (logits / t)?,
            None => logits,
        };
        Ok(candle_nn::ops::softmax(&logits, 1)?)
    }

    /// The model's classes, in output order (a multi-label run's findings).
    pub fn classes(&self) -> &[String] {
        &self.preprocessing.classes
    }

    /// Whether the run predicts several findings per film: a sigmoid per output, each called
    /// at its own threshold ([`TrainedModel::thresholds`]).
    pub fn is_multilabel(&self) -> bool {
        self.preprocessing.multilabel
    }

    /// A multi-label run's decision thresholds, one per finding (chosen on its validation
    /// split); empty for a single-label run.
    pub fn thresholds(&self) -> &[f64] {
        &self.preprocessing.thresholds
    }

    /// Whether finding `k` with `probability` is called positive: at or above its threshold
    /// (0.5 when the run recorded none).
    pub fn calls(&self, k: usize, probability: f32) -> bool {
        let threshold = self.thresholds().get(k).copied().unwrap_or(0.5);
        f64::from(probability) >= threshold
    }

    /// Side length of the square images the model takes.
    pub fn image_size(&self) -> u32 {
        self.config.data.image_size
    }

    /// How inputs are built: the run's channels and statistics (never augmented).
    pub fn batch_spec(&self) -> BatchSpec {
        BatchSpec {
            channels: self.preprocessing.in_channels,
            stats: cxr_trainer::preprocessing::recorded_stats(self.preprocessing.stats),
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

    /// The 8-bit pixels the run's data pipeline would have cached for `image`: same DICOM
    /// window, same size, same resize filter, masked when the run used masks (the mask is looked up where
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
            &self.config.data.dicom_window,
        )?)
    }

    /// `(n, channels, size, size)` model input from preprocessed images (from
    /// [`TrainedModel::preprocess`]), normalised by the same code the trainer uses.
    pub fn input(&self, images: &[&[u8]]) -> Result<Tensor> {
        let spec = self.batch_spec();
        Ok(input_tensor(
            images,
            self.image_size(),
            &spec,
            self.model.device(),
        )?)
    }
}

/// A classic-head run: its backbone rebuilt from its starting weights, and its head.
fn open_classic(
    run: RunDir,
    config: RunConfig,
    env: &RunEnv<'_>,
    device: &Device,
) -> Result<TrainedModel> {
    let file = run.head_path();
    let bad = |message: String| InferenceError::HeadFile {
        file: file.clone(),
        message,
    };
    if !file.is_file() {
        return Err(bad(format!(
            "missing: the run was fitted by a cxr that did not save its {} head, or did not finish; rerun its grid with --force",
            config.model.head_name()
        )));
    }
    let bytes = std::fs::read(&file).map_err(|e| bad(e.to_string()))?;
    let head = ClassicHead::from_bytes(&bytes).map_err(|e| bad(e.to_string()))?;
    let notes = cxr_heads::read_notes(&bytes).map_err(|e| bad(e.to_string()))?;
    let preprocessing = run.read_preprocessing()?;
    if head.outputs() != preprocessing.classes.len() {
        return Err(bad(format!(
            "the head has {} outputs but preprocessing.json lists {} classes; the folder mixes two runs' files",
            head.outputs(),
            preprocessing.classes.len()
        )));
    }
    // A source run is looked up under the results folder this run is in
    // (`<results>/<grid>/runs/<id>`), wherever the command runs from.
    let results = results_root(run.path()).unwrap_or_else(|| env.results_dir.to_path_buf());
    let env = RunEnv {
        results_dir: &results,
        ..*env
    };
    let start_from = cxr_trainer::weights::starting_weights(&config, &env)?;
    if let (Some(weights), Some(recorded)) = (&start_from, notes.get(NOTE_WEIGHTS_BLAKE3)) {
        let now = weights_hash(&weights.file)?;
        if &now != recorded {
            return Err(bad(format!(
                "its backbone's weights {} changed since the head was fitted on their features (BLAKE3 {now}, recorded {recorded}); restore them or rerun the run's grid with --force",
                weights.file.display()
            )));
        }
    }
    let (model, _) =
        cxr_trainer::build_model_on(&config, head.outputs(), start_from.as_ref(), device)?;
    Ok(TrainedModel {
        run,
        config,
        preprocessing,
        model,
        head: Some(head),
        temperature: None,
    })
}

/// `<results>` of a run folder `<results>/<grid>/runs/<id>`; `None` for another layout.
fn results_root(run: &Path) -> Option<PathBuf> {
    let runs = run.parent()?;
    if runs.file_name()? != "runs" {
        return None;
    }
    runs.parent()?.parent().map(Path::to_path_buf)
}

fn read_preprocessing(run: &RunDir, config: &RunConfig, cache_dir: &Path) -> Result<Preprocessing> {
    if run.preprocessing_path().is_file() {
        return Ok(run.read_preprocessing()?);
    }
    tracing::warn!(
        run = %run.path().display(),
        "no preprocessing.json (run trained before it was recorded): recomputing class order and normalisation from the run's training data"
    );
    cxr_trainer::preprocessing::recompute(config, cache_dir).map_err(|e| {
        InferenceError::NoPreprocessing {
            dir: run.path().to_path_buf(),
            message: e.to_string(),
        }
    })
}

/// Most runs [`not_a_run`] names: a grid of hundreds would bury the error.
const RUNS_NAMED: usize = 8;

/// The error for a `--run` folder without `config.toml`, naming the runs that do exist: those
/// beside it (a mistyped run id), or in it (a grid folder, `results/<grid>`), most similar to
/// the name given first.
pub(crate) fn not_a_run(dir: &Path) -> InferenceError {
    let (folder, typed) = if dir.join("runs").is_dir() {
        (dir.join("runs"), String::new())
    } else {
        let typed = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
        (parent.unwrap_or(Path::new(".")).to_path_buf(), typed)
    };
    let mut runs: Vec<String> = std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .filter_map(std::result::Result::ok)
                .filter(|e| RunDir::at(&e.path()).config_path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    // Most characters in common with the typed name first, as a long prefix usually means.
    let common = |run: &String| {
        run.chars()
            .zip(typed.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    runs.sort_by(|a, b| common(b).cmp(&common(a)).then_with(|| a.cmp(b)));
    let hint = match runs.len() {
        0 => "pass results/<grid>/runs/<run-id>".to_string(),
        n => {
            let mut named = runs[..n.min(RUNS_NAMED)].join(", ");
            if n > RUNS_NAMED {
                named.push_str(&format!(" and {} more", n - RUNS_NAMED));
            }
            format!("runs in {}: {named}", folder.display())
        }
    };
    InferenceError::NotARun {
        dir: dir.to_path_buf(),
        hint,
    }
}

/// The index of the largest probability (the last on ties, as `Iterator::max_by`); 0 for an
/// empty row.
pub(crate) fn most_probable(probabilities: &[f32]) -> usize {
    probabilities
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}
