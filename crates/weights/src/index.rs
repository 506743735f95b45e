//! An index file of more published weights (the TOML format [`crate::INDEX_ENV`] describes):
//! its `[[weights]]` entries read into [`Published`] files.

use std::path::Path;

use cxr_models::ModelKind;

use crate::published::Published;

/// One `[[weights]]` entry of an index file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexEntry {
    name: String,
    model: ModelKind,
    url: String,
    sha256: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    weights: Vec<IndexEntry>,
}

/// The published files the index file at `path` lists, or why it cannot be read (one line). The
/// entries' strings are leaked, as [`Published`] holds `&'static str`s: a process reads an
/// index once (the CLI) or a few times (tests).
pub(crate) fn read_index(path: &Path) -> std::result::Result<Vec<Published>, String> {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let index: IndexFile = toml::from_str(&text).map_err(|e| e.message().to_string())?;
    index
        .weights
        .iter()
        .map(|e| {
            let (namespace, variant) = e
                .name
                .split_once(':')
                .filter(|(ns, v)| !ns.is_empty() && !v.is_empty())
                .ok_or_else(|| {
                    format!("name {:?}: write it as \"<publisher>:<variant>\"", e.name)
                })?;
            let (base, file) = e
                .url
                .rsplit_once('/')
                .filter(|(_, file)| !file.is_empty())
                .ok_or_else(|| {
                    format!("{}: url {:?} does not end in a file name", e.name, e.url)
                })?;
            let sha = e.sha256.trim().to_ascii_lowercase();
            if sha.len() < 8 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "{}: sha256 must be the file's SHA-256 in hex (at least 8 digits)",
                    e.name
                ));
            }
            Ok(Published {
                model: e.model,
                namespace: leak(namespace),
                variant: leak(variant),
                file: leak(file),
                sha256_prefix: leak(&sha),
                base_url: leak(base),
            })
        })
        .collect()
}
