//! A run's artifacts: its small files under their own names (`config.toml`, the Parquet tables
//! but `features.parquet`, `preprocessing.json`, `calibration.json`, `reconstructions.png`) and
//! the report's figures of it, when `cxr report` drew them, under `figures/`. Weights
//! (`model.safetensors`, `head.safetensors`, checkpoints) and embeddings stay out: they are
//! large, and the results folder keeps them. Each file is hashed (BLAKE3) for the run's
//! fingerprint and sized so that an upload cut short is seen.

use std::path::{Path, PathBuf};

use cxr_results::{GridDir, ReportFigure, RunDir};

use crate::error::{MlflowError, Result};

/// A file of the run uploaded as an artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Its path under the run's artifacts, `/`-separated: `config.toml`, `figures/curves.png`.
    pub path: String,
    /// The file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// BLAKE3 of its content (hex).
    pub hash: String,
}

impl Artifact {
    /// Reads `file` (for its size and hash) as artifact `path`.
    fn read(path: String, file: PathBuf) -> Result<Self> {
        let bytes = std::fs::read(&file).map_err(MlflowError::io(&file))?;
        Ok(Self {
            path,
            size: bytes.len() as u64,
            hash: blake3::hash(&bytes).to_hex().to_string(),
            file,
        })
    }

    /// The media type sent with the upload (what MLflow's UI previews it as).
    pub fn content_type(&self) -> &'static str {
        match self.path.rsplit('.').next() {
            Some("png") => "image/png",
            Some("svg") => "image/svg+xml",
            Some("json") => "application/json",
            Some("toml") => "text/plain",
            _ => "application/octet-stream",
        }
    }
}

/// The artifact files of `run` that exist: its small files, then the report's figures of it.
pub fn artifacts(grid: &GridDir, run: &RunDir) -> Result<Vec<Artifact>> {
    let mut out = Vec::new();
    let run_files = [
        run.config_path(),
        run.summary_path(),
        run.history_path(),
        run.per_class_path(),
        run.confusion_path(),
        run.per_finding_path(),
        run.predictions_path(),
        run.preprocessing_path(),
        run.calibration_path(),
        run.reconstructions_path(),
    ];
    for file in run_files {
        if let (true, Some(name)) = (file.is_file(), file_name(&file)) {
            out.push(Artifact::read(name, file)?);
        }
    }
    let id = run.id();
    // Not ReportFigure::Reconstructions: a copy of the run's reconstructions.png, above.
    let figures = [
        ReportFigure::Curves(&id),
        ReportFigure::Confusion(&id),
        ReportFigure::Reliability(&id),
    ];
    for figure in figures {
        for extension in [".png", ".svg"] {
            let mut file = grid.report_figure(&figure).into_os_string();
            file.push(extension);
            let file = PathBuf::from(file);
            if let (true, Some(name)) = (file.is_file(), file_name(&file)) {
                out.push(Artifact::read(format!("figures/{name}"), file)?);
            }
        }
    }
    Ok(out)
}

fn file_name(path: &Path) -> Option<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
}
