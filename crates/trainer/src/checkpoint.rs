//! Epoch checkpoints: after every epoch a run keeps what its next epoch needs in
//! `checkpoint.safetensors` ([`cxr_results::RunDir::checkpoint_path`]), written atomically, so
//! a run killed mid-way resumes at its next epoch and ends bit-identical to an uninterrupted
//! run.
//!
//! What an epoch needs is small, because everything random in an epoch is drawn from a stream
//! seeded by the run seed and the epoch number (`cxr_data::seed::rng_at`: the sampler's order,
//! the augmentations), and the frozen-prefix cache is rebuilt the same from the same weights:
//! - every parameter of the model (weights and BatchNorm statistics), and the kept (best)
//!   epoch's copy of them;
//! - Adam's step count and both moments of every trainable variable;
//! - early stopping's state (best epoch and score, epochs since);
//! - the history so far, and whether the loop had already stopped.
//!
//! The kept epoch's validation evaluation is not stored: the loop evaluates the kept weights
//! again when it needs it, which gives the same numbers.
//!
//! Floats go into the metadata as their bit patterns, so nothing is rounded through text.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Tensor};
use cxr_models::Parameter;
use cxr_results::HistoryRow;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::adam::MomentBytes;
use crate::early_stopping::EpochScore;
use crate::error::{Result, TrainerError};

/// The `format` metadata value of a checkpoint.
const FORMAT: &str = "cxr-checkpoint";
/// The version written and the newest read.
const VERSION: &str = "1";

/// A run's state after an epoch.
#[derive(Debug, Clone)]
pub(crate) struct EpochState {
    /// The last finished epoch (1-based).
    pub epoch: usize,
    /// Whether the loop stopped after it (early stopping or the last epoch).
    pub stopped: bool,
    /// Every parameter's values, in the model's parameter order.
    pub params: Vec<Tensor>,
    /// The kept epoch's parameter values.
    pub best: Vec<Tensor>,
    /// Adam's step count.
    pub adam_step: i32,
    /// Adam's moments per trainable variable.
    pub moments: Vec<MomentBytes>,
    /// Early stopping: the best epoch and its score.
    pub best_score: Option<(usize, EpochScore)>,
    /// Early stopping: epochs since the best.
    pub since_best: usize,
    /// The history so far.
    pub history: Vec<HistoryRow>,
}

/// `f64` as its bits, for JSON.
fn bits(x: f64) -> u64 {
    x.to_bits()
}

fn unbits(x: u64) -> f64 {
    f64::from_bits(x)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ScoreBits {
    epoch: usize,
    val_loss: u64,
    val_micro_recall: u64,
    val_macro_recall: u64,
    val_mean_auroc: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RowBits {
    epoch: i64,
    train_loss: u64,
    val_loss: u64,
    val_micro_recall: u64,
    val_macro_recall: u64,
    val_mean_auroc: Option<u64>,
    train_time_s: u64,
    eval_time_s: u64,
}

/// A tensor's values as little-endian bytes (f32 or f64), from any device.
fn tensor_bytes(t: &Tensor) -> Result<(Dtype, Vec<usize>, Vec<u8>)> {
    let flat = t.to_device(&candle_core::Device::Cpu)?.flatten_all()?;
    let shape = t.dims().to_vec();
    Ok(match t.dtype() {
        DType::F32 => (
            Dtype::F32,
            shape,
            flat.to_vec1::<f32>()?
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
        ),
        DType::F64 => (
            Dtype::F64,
            shape,
            flat.to_vec1::<f64>()?
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
        ),
        other => {
            return Err(TrainerError::Checkpoint(format!(
                "parameters of dtype {other:?} cannot be checkpointed"
            )))
        }
    })
}

impl EpochState {
    /// Writes the state to `path` atomically (a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        for (prefix, tensors) in [("param", &self.params), ("best", &self.best)] {
            for (i, t) in tensors.iter().enumerate() {
                let (dtype, shape, bytes) = tensor_bytes(t)?;
                owned.push((format!("{prefix}.{i}"), dtype, shape, bytes));
            }
        }
        // The moments are bytes already: borrowed, not copied.
        let mut moments: Vec<(String, Dtype, Vec<usize>, &[u8])> = Vec::new();
        for (i, m) in self.moments.iter().enumerate() {
            let (dtype, width) = if m.f64 {
                (Dtype::F64, 8)
            } else {
                (Dtype::F32, 4)
            };
            for (name, bytes) in [("m", &m.m), ("v", &m.v)] {
                moments.push((
                    format!("adam.{name}.{i}"),
                    dtype,
                    vec![bytes.len() / width],
                    bytes.as_slice(),
                ));
            }
        }
        let score = self.best_score.map(|(epoch, s)| ScoreBits {
            epoch,
            val_loss: bits(s.val_loss),
            val_micro_recall: bits(s.val_micro_recall),
            val_macro_recall: bits(s.val_macro_recall),
            val_mean_auroc: bits(s.val_mean_auroc),
        });
        let history: Vec<RowBits> = self
            .history
            .iter()
            .map(|r| RowBits {
                epoch: r.epoch,
                train_loss: bits(r.train_loss),
                val_loss: bits(r.val_loss),
                val_micro_recall: bits(r.val_micro_recall),
                val_macro_recall: bits(r.val_macro_recall),
                val_mean_auroc: r.val_mean_auroc.map(bits),
                train_time_s: bits(r.train_time_s),
                eval_time_s: bits(r.eval_time_s),
            })
            .collect();
        let metadata = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("version".to_string(), VERSION.to_string()),
            ("epoch".to_string(), self.epoch.to_string()),
            ("stopped".to_string(), self.stopped.to_string()),
            ("params".to_string(), self.params.len().to_string()),
            ("moments".to_string(), self.moments.len().to_string()),
            ("adam_step".to_string(), self.adam_step.to_string()),
            ("since_best".to_string(), self.since_best.to_string()),
            ("best_score".to_string(), json(&score)?),
            ("history".to_string(), json(&history)?),
        ]);
        let views = owned
            .iter()
            .map(|(name, dtype, shape, bytes)| (name, dtype, shape, bytes.as_slice()))
            .chain(
                moments
                    .iter()
                    .map(|(name, dtype, shape, bytes)| (name, dtype, shape, *bytes)),
            )
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes).map(|v| (name.clone(), v))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| TrainerError::Checkpoint(e.to_string()))?;
        // Streamed tensor by tensor: the file (180 MB for ResNet18) is never one buffer.
        let mut failure = None;
        let written = cxr_results::write_atomic_with(path, |tmp| {
            let io = |source| cxr_results::ResultsError::Io {
                path: path.to_path_buf(),
                source,
            };
            if let Err(e) = safetensors::serialize_to_file(views, Some(metadata), tmp) {
                failure = Some(e.to_string());
                return Err(io(std::io::Error::other("not written")));
            }
            std::fs::File::open(tmp)
                .and_then(|f| f.sync_all())
                .map_err(io)
        });
        match failure {
            Some(message) => Err(TrainerError::Checkpoint(message)),
            None => Ok(written?),
        }
    }

    /// Reads a checkpoint written for a model with `params` (checked: count, shapes, dtypes),
    /// its tensors on their parameters' devices.
    pub fn load(path: &Path, params: &[Parameter]) -> Result<Self> {
        let bad =
            |message: String| TrainerError::Checkpoint(format!("{}: {message}", path.display()));
        let bytes = std::fs::read(path).map_err(|source| TrainerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (_, metadata) =
            SafeTensors::read_metadata(&bytes).map_err(|e| bad(format!("unreadable ({e})")))?;
        let meta = metadata.metadata().clone().unwrap_or_default();
        let get = |key: &str| {
            meta.get(key)
                .cloned()
                .ok_or_else(|| bad(format!("no `{key}` in its metadata")))
        };
        if get("format")? != FORMAT || get("version")? != VERSION {
            return Err(bad("not a checkpoint of this cxr".to_string()));
        }
        let number = |key: &str| -> Result<usize> {
            get(key)?
                .parse()
                .map_err(|_| bad(format!("`{key}` is not a number")))
        };
        let file = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        if number("params")? != params.len() {
            return Err(bad(format!(
                "it holds {} parameters, the model {}",
                number("params")?,
                params.len()
            )));
        }
        let tensor = |name: &str, like: &Tensor| -> Result<Tensor> {
            let view = file
                .tensor(name)
                .map_err(|_| bad(format!("tensor `{name}` is missing")))?;
            if view.shape() != like.dims() {
                return Err(bad(format!(
                    "tensor `{name}` is {:?}, the model's {:?}",
                    view.shape(),
                    like.dims()
                )));
            }
            let data = view.data();
            let t = match (view.dtype(), like.dtype()) {
                (Dtype::F32, DType::F32) => Tensor::from_vec(
                    data.chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect::<Vec<_>>(),
                    view.shape(),
                    like.device(),
                )?,
                (Dtype::F64, DType::F64) => Tensor::from_vec(
                    data.chunks_exact(8)
                        .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                        .collect::<Vec<_>>(),
                    view.shape(),
                    like.device(),
                )?,
                (saved, model) => {
                    return Err(bad(format!(
                        "tensor `{name}` is {saved:?}, the model's {model:?}"
                    )))
                }
            };
            Ok(t)
        };
        let mut current = Vec::with_capacity(params.len());
        let mut best = Vec::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            current.push(tensor(&format!("param.{i}"), p.tensor())?);
            best.push(tensor(&format!("best.{i}"), p.tensor())?);
        }
        let mut moments = Vec::new();
        for i in 0..number("moments")? {
            let raw = |name: String| -> Result<(bool, Vec<u8>)> {
                let view = file
                    .tensor(&name)
                    .map_err(|_| bad(format!("tensor `{name}` is missing")))?;
                Ok((view.dtype() == Dtype::F64, view.data().to_vec()))
            };
            let (f64, m) = raw(format!("adam.m.{i}"))?;
            let (_, v) = raw(format!("adam.v.{i}"))?;
            moments.push(MomentBytes { f64, m, v });
        }
        let score: Option<ScoreBits> = serde_json::from_str(&get("best_score")?)
            .map_err(|e| bad(format!("best_score: {e}")))?;
        let history: Vec<RowBits> =
            serde_json::from_str(&get("history")?).map_err(|e| bad(format!("history: {e}")))?;
        Ok(Self {
            epoch: number("epoch")?,
            stopped: get("stopped")? == "true",
            params: current,
            best,
            adam_step: get("adam_step")?
                .parse()
                .map_err(|_| bad("`adam_step` is not a number".to_string()))?,
            moments,
            best_score: score.map(|s| {
                (
                    s.epoch,
                    EpochScore {
                        val_loss: unbits(s.val_loss),
                        val_micro_recall: unbits(s.val_micro_recall),
                        val_macro_recall: unbits(s.val_macro_recall),
                        val_mean_auroc: unbits(s.val_mean_auroc),
                    },
                )
            }),
            since_best: number("since_best")?,
            history: history
                .into_iter()
                .map(|r| HistoryRow {
                    epoch: r.epoch,
                    train_loss: unbits(r.train_loss),
                    val_loss: unbits(r.val_loss),
                    val_micro_recall: unbits(r.val_micro_recall),
                    val_macro_recall: unbits(r.val_macro_recall),
                    val_mean_auroc: r.val_mean_auroc.map(unbits),
                    train_time_s: unbits(r.train_time_s),
                    eval_time_s: unbits(r.eval_time_s),
                    kept: false,
                })
                .collect(),
        })
    }
}

/// JSON text of a metadata value.
fn json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| TrainerError::Checkpoint(e.to_string()))
}
