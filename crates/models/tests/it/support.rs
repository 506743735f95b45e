//! Helpers shared by the integration tests: the parity fixture's weight formula and small
//! tensor comparisons.

use std::collections::BTreeMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use cxr_models::Model;

/// Boxed error so tests can mix candle and crate errors with `?`.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// The committed fixtures folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// splitmix64's output function; must match `splitmix64` in scripts/resnet18_parity_fixture.py.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The fixture's value formula for element `i` of tensor number `index` (see the script's doc).
fn formula_value(name: &str, index: usize, i: usize, shape: &[usize]) -> f32 {
    let key = ((index as u64 + 1) << 32) | i as u64;
    let u = (splitmix64(key) >> 40) as f64 / f64::from(1u32 << 23) - 1.0;
    let leaf = name.rsplit('.').next().unwrap_or(name);
    let v = if shape.len() == 4 {
        u * (6.0 / (shape[1] * shape[2] * shape[3]) as f64).sqrt()
    } else if name.starts_with("fc.") {
        if leaf == "weight" {
            u / (shape[1] as f64).sqrt()
        } else {
            0.1 * u
        }
    } else {
        match leaf {
            "weight" => 1.0 + 0.25 * u,
            "running_var" => 1.5 + 0.5 * u,
            _ => 0.1 * u, // bias, running_mean
        }
    };
    v as f32
}

/// The fixture's state dict for `model`'s tensor names: tensors are numbered by their position
/// among the sorted names.
pub fn formula_state_dict(model: &Model) -> TestResult<BTreeMap<String, Tensor>> {
    let mut names: Vec<(&str, Vec<usize>)> = model
        .parameters()
        .iter()
        .map(|p| (p.name(), p.tensor().dims().to_vec()))
        .collect();
    names.sort();
    let mut out = BTreeMap::new();
    for (index, (name, shape)) in names.into_iter().enumerate() {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n)
            .map(|i| formula_value(name, index, i, &shape))
            .collect();
        out.insert(
            name.to_string(),
            Tensor::from_vec(values, shape, &Device::Cpu)?,
        );
    }
    Ok(out)
}

/// Largest absolute elementwise difference between two tensors of the same shape.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> TestResult<f32> {
    if a.dims() != b.dims() {
        return Err(format!("shape {:?} vs {:?}", a.dims(), b.dims()).into());
    }
    Ok((a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?)
}

/// Whether two tensors hold bit-identical f32 values.
pub fn bit_identical(a: &Tensor, b: &Tensor) -> TestResult<bool> {
    let a: Vec<u32> = a
        .flatten_all()?
        .to_vec1::<f32>()?
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let b: Vec<u32> = b
        .flatten_all()?
        .to_vec1::<f32>()?
        .iter()
        .map(|v| v.to_bits())
        .collect();
    Ok(a == b)
}

/// A deterministic `(batch, channels, size, size)` input (no RNG needed): sin of a ramp.
pub fn images(batch: usize, channels: usize, size: usize) -> TestResult<Tensor> {
    let n = batch * channels * size * size;
    Ok(Tensor::arange(0u32, n as u32, &Device::Cpu)?
        .to_dtype(candle_core::DType::F32)?
        .affine(0.731, 0.0)?
        .sin()?
        .reshape((batch, channels, size, size))?)
}

/// Labels `0, 1, 0, 1, ...` for a batch.
pub fn labels(batch: usize) -> TestResult<Tensor> {
    let labels: Vec<u32> = (0..batch as u32).map(|i| i % 2).collect();
    Ok(Tensor::new(labels.as_slice(), &Device::Cpu)?)
}
