//! Reading and writing model weights by torchvision name.
//!
//! Pretrained weights come from a `.safetensors` file or a PyTorch `.pth`/`.pt`/`.bin` zip
//! archive (`torch.save(model.state_dict(), path)`, as torchvision and timm publish them).
//! `num_batches_tracked` buffers are ignored. A pretrained file must match the model everywhere
//! except the head (`fc`), which keeps its random init when the file's head has another shape
//! (ImageNet's 1000 classes) or is missing (an [`crate::Autoencoder`]'s file, whose `decoder.*`
//! tensors are skipped without a warning). A saved model is a safetensors file of every named
//! tensor, BatchNorm running statistics included, and loads back strictly.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use crate::config::ModelConfig;
use crate::decoder::is_decoder;
use crate::error::{ModelError, Result};
use crate::model::Model;
use crate::parameter::Parameter;

/// What loading pretrained weights did, by tensor name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Tensors copied from the file.
    pub loaded: Vec<String>,
    /// Head tensors whose shape differs in the file (or that it lacks); they keep the model's
    /// random init, i.e. they are re-initialised relative to the pretrained model.
    pub reinitialised: Vec<String>,
    /// Tensors in the file that the model has no use for (`num_batches_tracked` and an
    /// autoencoder's decoder excluded).
    pub unused: Vec<String>,
    /// An autoencoder's decoder tensors (`decoder.*`): a classifier takes the encoder from an
    /// autoencoder's file and leaves these by design, so they are skipped without a warning.
    pub ignored: Vec<String>,
}

/// Whether `name` belongs to the classification head, the one part a pretrained file may lack.
pub(crate) fn is_head(name: &str) -> bool {
    name.split('.').next() == Some("fc")
}

/// Reads every tensor of a weights file onto `device`, by name, dropping `num_batches_tracked`.
/// The format follows the extension: `.safetensors`, or `.pth`/`.pt`/`.bin` for PyTorch's zip
/// pickle format (a bare state dict, or one under a `state_dict` or `model` key).
pub fn read_weights(path: &Path, device: &Device) -> Result<BTreeMap<String, Tensor>> {
    let read_err = |source| ModelError::Read {
        path: path.to_path_buf(),
        source,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    let tensors: Vec<(String, Tensor)> = match ext.to_ascii_lowercase().as_str() {
        "safetensors" => candle_core::safetensors::load(path, device)
            .map_err(read_err)?
            .into_iter()
            .collect(),
        "pth" | "pt" | "bin" => read_pth(path).map_err(read_err)?,
        _ => return Err(ModelError::UnknownFormat(path.to_path_buf())),
    };
    tensors
        .into_iter()
        .filter(|(name, _)| !name.ends_with("num_batches_tracked"))
        .map(|(name, t)| Ok((name, t.to_device(device)?)))
        .collect()
}

/// The tensors of a PyTorch zip archive: a bare state dict, else the one under `state_dict` or
/// `model` (training checkpoints). The first error is reported when none of them has tensors.
fn read_pth(path: &Path) -> candle_core::Result<Vec<(String, Tensor)>> {
    let mut first_err = None;
    for key in [None, Some("state_dict"), Some("model")] {
        match candle_core::pickle::read_all_with_key(path, key) {
            Ok(tensors) if !tensors.is_empty() => return Ok(tensors),
            Ok(_) => {}
            Err(err) => {
                first_err.get_or_insert(err);
            }
        }
    }
    match first_err {
        Some(err) => Err(err),
        None => Ok(Vec::new()),
    }
}

/// Saves `params` by name to a safetensors file, atomically: the tensors go to a temporary file
/// in `path`'s folder, renamed to `path` once whole, so a killed run never leaves a partial
/// weights file under the final name (a run folder's `model.safetensors`).
pub(crate) fn save_parameters(params: &[Parameter], path: &Path) -> Result<()> {
    let tensors: HashMap<&str, Tensor> = params
        .iter()
        .map(|p| (p.name(), p.var().as_detached_tensor()))
        .collect();
    let failed = |source: candle_core::Error| ModelError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(e.into()))?;
    // Created 0666 less the umask, as `File::create` would (tempfile's default 0600 would
    // survive the rename and keep the weights unreadable to a lab group); safetensors replaces
    // the file instead of filling it, so that mode is put back before the rename.
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| failed(e.into()))?
        .into_temp_path();
    let created = std::fs::metadata(&tmp).map(|m| m.permissions());
    candle_core::safetensors::save(&tensors, &tmp).map_err(failed)?;
    if let Ok(permissions) = created {
        std::fs::set_permissions(&tmp, permissions).map_err(|e| failed(e.into()))?;
    }
    tmp.persist(path).map_err(|e| failed(e.error.into()))
}

/// Whether the head may be missing or differently shaped in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// Every tensor must be present with the model's shape (a saved model).
    Strict,
    /// The head keeps its init when the file's differs (pretrained weights).
    KeepInitOnMismatch,
}

impl Model {
    /// Loads pretrained weights (torchvision or timm names) from `path` into this model, which
    /// keeps its config. The head keeps its random init when its shape differs from the file's
    /// or the file has none (an autoencoder's, whose `decoder.*` tensors are skipped quietly);
    /// every other tensor must be present with the model's shape, else nothing is changed and the
    /// error names the tensor (and both shapes).
    pub fn load_pretrained(&self, path: &Path) -> Result<LoadReport> {
        let tensors = read_weights(path, self.device())?;
        let report = self.assign(path, &tensors, Head::KeepInitOnMismatch)?;
        if !report.unused.is_empty() {
            tracing::warn!(weights = %path.display(), unused = ?report.unused, "tensors in the weights file were not used");
        }
        Ok(report)
    }

    /// Saves every named tensor, BatchNorm running statistics included, to a safetensors file
    /// (atomically: a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        save_parameters(self.parameters(), path)
    }

    /// Builds `config`'s model and loads a file written by [`Model::save`] strictly: every tensor
    /// must be present with the right shape, and the file may hold no others.
    pub fn load(config: ModelConfig, path: &Path, device: &Device) -> Result<Model> {
        let model = config.init(device, 0)?;
        let tensors = read_weights(path, device)?;
        let report = model.assign(path, &tensors, Head::Strict)?;
        if !report.unused.is_empty() || !report.ignored.is_empty() {
            return Err(ModelError::UnexpectedTensors {
                path: path.to_path_buf(),
                names: [report.unused, report.ignored].concat(),
            });
        }
        Ok(model)
    }

    /// Checks every tensor against the file, then copies them all (so a failure changes nothing).
    fn assign(
        &self,
        path: &Path,
        tensors: &BTreeMap<String, Tensor>,
        head: Head,
    ) -> Result<LoadReport> {
        let path_buf = || PathBuf::from(path);
        let mut report = LoadReport::default();
        let mut updates: Vec<(&Parameter, &Tensor)> = Vec::new();
        for param in self.parameters() {
            let name = param.name();
            let keep_init = head == Head::KeepInitOnMismatch && is_head(name);
            match tensors.get(name) {
                None if keep_init => report.reinitialised.push(name.to_string()),
                None => {
                    return Err(ModelError::MissingTensor {
                        path: path_buf(),
                        name: name.to_string(),
                    })
                }
                Some(t) if t.dims() != param.tensor().dims() => {
                    if keep_init {
                        report.reinitialised.push(name.to_string());
                    } else {
                        return Err(ModelError::ShapeMismatch {
                            path: path_buf(),
                            name: name.to_string(),
                            expected: param.tensor().dims().to_vec(),
                            found: t.dims().to_vec(),
                        });
                    }
                }
                Some(t) => updates.push((param, t)),
            }
        }
        for (param, t) in updates {
            param.var().set(&t.to_dtype(DType::F32)?)?;
            report.loaded.push(param.name().to_string());
        }
        let known: BTreeSet<&str> = self.parameters().iter().map(Parameter::name).collect();
        (report.ignored, report.unused) = tensors
            .keys()
            .filter(|name| !known.contains(name.as_str()))
            .cloned()
            .partition(|name| is_decoder(name));
        Ok(report)
    }
}
