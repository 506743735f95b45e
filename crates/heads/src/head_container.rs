//! The container of a `head.safetensors` file, apart from what a head puts in it
//! ([`crate::head_file`]): tensors written by name and dtype ([`Writer`]) and read back with
//! their shapes checked ([`Reader`]), the header with the format and its version ([`header`],
//! [`open`]), and the header's keys sorted so the same head gives the same bytes in every
//! process ([`finish`]).

use std::collections::HashMap;

use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::error::{HeadError, Result};

/// The `format` metadata value.
pub const HEAD_FORMAT: &str = "cxr-head";
/// The version this build writes and the newest it reads.
pub const HEAD_FORMAT_VERSION: u32 = 1;

/// A tensor to write: dtype, shape, little-endian bytes.
pub(crate) struct Owned {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

/// Collects the tensors of a head file, each name under `prefix`.
#[derive(Default)]
pub(crate) struct Writer {
    /// Put before every tensor name (`finding.3.` for a per-finding head).
    pub(crate) prefix: String,
    tensors: Vec<(String, Owned)>,
}

impl Writer {
    pub(crate) fn f32(
        &mut self,
        name: &str,
        shape: Vec<usize>,
        values: impl IntoIterator<Item = f32>,
    ) {
        let bytes = values.into_iter().flat_map(f32::to_le_bytes).collect();
        self.push(name, Dtype::F32, shape, bytes);
    }
    pub(crate) fn f64(
        &mut self,
        name: &str,
        shape: Vec<usize>,
        values: impl IntoIterator<Item = f64>,
    ) {
        let bytes = values.into_iter().flat_map(f64::to_le_bytes).collect();
        self.push(name, Dtype::F64, shape, bytes);
    }
    pub(crate) fn i64(
        &mut self,
        name: &str,
        shape: Vec<usize>,
        values: impl IntoIterator<Item = i64>,
    ) {
        let bytes = values.into_iter().flat_map(i64::to_le_bytes).collect();
        self.push(name, Dtype::I64, shape, bytes);
    }
    fn push(&mut self, name: &str, dtype: Dtype, shape: Vec<usize>, bytes: Vec<u8>) {
        let owned = Owned {
            dtype,
            shape,
            bytes,
        };
        self.tensors.push((format!("{}{name}", self.prefix), owned));
    }
}

/// The file-level metadata: the caller's notes, the format and its version.
pub(crate) fn header(notes: &[(&str, String)]) -> HashMap<String, String> {
    let mut meta: HashMap<String, String> = notes
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    meta.insert("format".into(), HEAD_FORMAT.into());
    meta.insert("version".into(), HEAD_FORMAT_VERSION.to_string());
    meta
}

/// The file's bytes, its header's keys sorted.
pub(crate) fn finish(w: Writer, meta: HashMap<String, String>) -> Result<Vec<u8>> {
    let views = w
        .tensors
        .iter()
        .map(|(name, t)| {
            TensorView::new(t.dtype, t.shape.clone(), &t.bytes).map(|v| (name.clone(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| HeadError::Format(e.to_string()))?;
    let bytes =
        safetensors::serialize(views, Some(meta)).map_err(|e| HeadError::Format(e.to_string()))?;
    canonical(bytes)
}

/// A head file's metadata as written, nothing checked.
pub(crate) fn metadata(bytes: &[u8]) -> Result<HashMap<String, String>> {
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| HeadError::Format(format!("not a safetensors file ({e})")))?;
    Ok(metadata.metadata().clone().unwrap_or_default())
}

/// The metadata and tensors of a head file, its format and version checked.
pub(crate) fn open(bytes: &[u8]) -> Result<(HashMap<String, String>, SafeTensors<'_>)> {
    let bad = |message: String| HeadError::Format(message);
    let meta = metadata(bytes)?;
    let get = |key: &str| -> Result<&String> {
        meta.get(key)
            .ok_or_else(|| bad(format!("metadata has no `{key}`; not a cxr head file")))
    };
    if get("format")? != HEAD_FORMAT {
        return Err(bad(format!(
            "format is {:?}, not {HEAD_FORMAT:?}",
            get("format")?
        )));
    }
    let version: u32 = parse(get("version")?, "version")?;
    if version > HEAD_FORMAT_VERSION {
        return Err(bad(format!(
            "format version {version} is newer than this cxr reads ({HEAD_FORMAT_VERSION}); update cxr"
        )));
    }
    let file = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
    Ok((meta, file))
}

/// `bytes` with the header's keys sorted: safetensors writes the metadata map in `HashMap`
/// order, which changes from process to process, and a run's files should not. The header
/// keeps its length (same entries, same compact JSON, same padding), so offsets stay valid.
fn canonical(mut bytes: Vec<u8>) -> Result<Vec<u8>> {
    let bad = |what: &str| HeadError::Format(format!("safetensors wrote {what}"));
    let n = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| bad("no header length"))?;
    let header = bytes.get(8..8 + n).ok_or_else(|| bad("a short header"))?;
    // serde_json's map is a BTreeMap (no `preserve_order` in this build): sorted keys.
    let value: serde_json::Value =
        serde_json::from_slice(header).map_err(|_| bad("a header that is not JSON"))?;
    let mut sorted = serde_json::to_vec(&value).map_err(|_| bad("an unsortable header"))?;
    if sorted.len() > n {
        return Err(bad("a header that grew when sorted"));
    }
    sorted.resize(n, b' ');
    bytes[8..8 + n].copy_from_slice(&sorted);
    Ok(bytes)
}

/// Metadata `key`'s `text` as a `T`, or a one-line error naming it.
pub(crate) fn parse<T: std::str::FromStr>(text: &str, key: &str) -> Result<T> {
    text.parse()
        .map_err(|_| HeadError::Format(format!("metadata `{key}` = {text:?} is not a valid value")))
}

/// Reads the tensors under `prefix` of an opened head file.
pub(crate) struct Reader<'a> {
    pub(crate) file: &'a SafeTensors<'a>,
    /// Put before every tensor name.
    pub(crate) prefix: String,
}

impl Reader<'_> {
    pub(crate) fn has(&self, name: &str) -> bool {
        self.file.tensor(&format!("{}{name}", self.prefix)).is_ok()
    }

    /// The tensor `name`, checked to have `dtype` and, where given, each dimension.
    fn raw(&self, name: &str, dtype: Dtype, dims: &[Option<usize>]) -> Result<Vec<u8>> {
        let name = &format!("{}{name}", self.prefix);
        let t = self
            .file
            .tensor(name)
            .map_err(|_| HeadError::Format(format!("tensor `{name}` is missing")))?;
        let shape_ok = t.shape().len() == dims.len()
            && t.shape()
                .iter()
                .zip(dims)
                .all(|(&s, d)| d.is_none_or(|d| d == s));
        if t.dtype() != dtype || !shape_ok {
            return Err(HeadError::Format(format!(
                "tensor `{name}` is {:?} {:?}, expected {dtype:?} {}",
                t.dtype(),
                t.shape(),
                dims.iter()
                    .map(|d| d.map_or("_".to_string(), |d| d.to_string()))
                    .collect::<Vec<_>>()
                    .join("x")
            )));
        }
        Ok(t.data().to_vec())
    }
    pub(crate) fn f32(&self, name: &str, dims: &[Option<usize>]) -> Result<Vec<f32>> {
        let bytes = self.raw(name, Dtype::F32, dims)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
    pub(crate) fn f64(&self, name: &str, dims: &[Option<usize>]) -> Result<Vec<f64>> {
        let bytes = self.raw(name, Dtype::F64, dims)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .collect())
    }
    pub(crate) fn i64(&self, name: &str, dims: &[Option<usize>]) -> Result<Vec<i64>> {
        let bytes = self.raw(name, Dtype::I64, dims)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .collect())
    }
}
