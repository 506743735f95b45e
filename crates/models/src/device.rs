//! Where a model trains: the CPU (the default) or an NVIDIA GPU through candle's CUDA backend.
//!
//! A [`DeviceSpec`] is the setting (`[train] device`, `--device`): `cpu`, `cuda` (GPU 0) or
//! `cuda:N`. [`DeviceSpec::open`] turns it into a candle [`Device`], failing with one line that
//! names the fix when the build lacks the `cuda` cargo feature or the machine has no usable GPU.
//! Opening the same GPU twice returns the same device, so tensors of one run (and of runs one
//! after another) never meet a "device mismatch".
//!
//! The setting is part of a run's identity ([`DeviceSpec::identity`]): a run trained on a GPU
//! gets another run id than the same configuration on the CPU, so the two never stand in for
//! each other in a resumed sweep, a report or a baseline check. The GPU's ordinal is placement,
//! not identity: `cuda:1` and `cuda` name the same runs.

use std::fmt;
use std::str::FromStr;

use candle_core::Device;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ModelError, Result};

/// A training device setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DeviceSpec {
    /// The CPU, on `cxr-kernels`' custom ops.
    #[default]
    Cpu,
    /// The NVIDIA GPU with this ordinal, on candle's CUDA ops (cuDNN convolutions).
    Cuda(usize),
}

/// What `--device` / `train.device` accept, for error messages.
pub const DEVICE_VALUES: &str = "\"cpu\", \"cuda\" or \"cuda:N\"";

impl DeviceSpec {
    /// Whether this is the CPU.
    pub fn is_cpu(&self) -> bool {
        matches!(self, Self::Cpu)
    }

    /// The name that identifies runs on this device: `cpu` or `cuda`, without the ordinal.
    pub fn identity(&self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Cuda(_) => "cuda",
        }
    }

    /// Whether this build can train on CUDA (the `cuda` cargo feature).
    pub fn cuda_compiled() -> bool {
        cfg!(feature = "cuda")
    }

    /// The candle device, opened once per process and GPU.
    pub fn open(&self) -> Result<Device> {
        match *self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(ordinal) => open_cuda(ordinal),
        }
    }
}

#[cfg(feature = "cuda")]
fn open_cuda(ordinal: usize) -> Result<Device> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    static OPENED: OnceLock<Mutex<HashMap<usize, Device>>> = OnceLock::new();
    let mut opened = OPENED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(device) = opened.get(&ordinal) {
        return Ok(device.clone());
    }
    // cudarc loads libcuda, cuBLAS, cuRAND and NVRTC when first used and panics when one is
    // missing: catch that here, once, and say what to install instead.
    // The default hook would print the panic's several lines before the one-line error.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let attempt = std::panic::catch_unwind(|| Device::new_cuda(ordinal));
    std::panic::set_hook(hook);
    let device = attempt
        .map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the CUDA libraries could not be loaded");
            no_gpu(ordinal, message)
        })?
        .map_err(|e| no_gpu(ordinal, &e.to_string()))?;
    opened.insert(ordinal, device.clone());
    Ok(device)
}

#[cfg(feature = "cuda")]
fn no_gpu(ordinal: usize, why: &str) -> ModelError {
    // cudarc's message goes on to list every library name it tried.
    let why = why.lines().next().unwrap_or_default();
    let why = why.split(" - searched").next().unwrap_or(why);
    ModelError::Device(format!(
        "no usable CUDA GPU {ordinal} ({why}): check `nvidia-smi` and that the CUDA 13 libraries \
         (libcuda, libcublas, libcurand, libnvrtc, libcudnn) are on LD_LIBRARY_PATH, or use --device cpu"
    ))
}

#[cfg(not(feature = "cuda"))]
fn open_cuda(_ordinal: usize) -> Result<Device> {
    Err(ModelError::Device(
        "this cxr was built without the `cuda` feature: rebuild it with `just build-cuda` (or \
         `cargo build --release --features cuda`), or use --device cpu"
            .into(),
    ))
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(ordinal) => write!(f, "cuda:{ordinal}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || ModelError::Device(format!("unknown device {s:?}: expected {DEVICE_VALUES}"));
        match s.trim() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(0)),
            other => other
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(bad),
        }
    }
}

/// Serialised as its [`identity`](DeviceSpec::identity): the ordinal is not part of a run.
impl Serialize for DeviceSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.identity())
    }
}

impl<'de> Deserialize<'de> for DeviceSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_cuda_and_an_ordinal() -> Result<()> {
        assert_eq!("cpu".parse::<DeviceSpec>()?, DeviceSpec::Cpu);
        assert_eq!("cuda".parse::<DeviceSpec>()?, DeviceSpec::Cuda(0));
        assert_eq!("cuda:3".parse::<DeviceSpec>()?, DeviceSpec::Cuda(3));
        for bad in ["tpu", "cuda:", "cuda:x", "cuda:-1", ""] {
            let err = bad.parse::<DeviceSpec>().err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains("\"cuda:N\"")),
                "{bad}: {err:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn the_ordinal_is_not_part_of_the_identity() {
        assert_eq!(
            DeviceSpec::Cuda(1).identity(),
            DeviceSpec::Cuda(0).identity()
        );
        assert_ne!(DeviceSpec::Cuda(0).identity(), DeviceSpec::Cpu.identity());
        assert_eq!(DeviceSpec::Cuda(2).to_string(), "cuda:2");
    }

    #[test]
    fn the_cpu_always_opens() -> Result<()> {
        assert!(DeviceSpec::Cpu.open()?.is_cpu());
        Ok(())
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_names_the_fix_in_one_line() {
        let err = DeviceSpec::Cuda(0).open().err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.contains("just build-cuda") && err.contains("--device cpu"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }
}
