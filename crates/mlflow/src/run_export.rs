//! What one finished cxr run becomes in MLflow ([`RunExport`]): its params ([`crate::params`]),
//! metrics ([`crate::metrics`]), tags, files ([`crate::artifacts`]), start and end, and a
//! fingerprint of all of it. Built from the run folder alone; nothing here talks to a server.

use std::path::Path;
use std::time::UNIX_EPOCH;

use cxr_results::{axes, status, GridDir, RunDir, RunSummary};

use crate::artifacts::{artifacts, Artifact};
use crate::batch::{KeyValue, MetricPoint};
use crate::error::{one_line, MlflowError, Result};
use crate::http::shorten;
use crate::metrics::{epoch_metrics, final_metrics};
use crate::params::run_params;

/// The tag that names the cxr run an MLflow run holds: what a later export matches runs by.
pub const RUN_ID_TAG: &str = "cxr.run_id";
/// The tag set last, once a run is completely exported: its [`RunExport::fingerprint`].
pub const EXPORT_TAG: &str = "cxr.export";
/// Longest tag value MLflow takes (`MAX_TAG_VAL_LENGTH`).
const MAX_TAG_VALUE: usize = 8000;
/// Changes whenever what a run exports as changes, so that runs exported by an older cxr are
/// compared with the server again.
const FORMAT: &str = "cxr-mlflow/1";

/// An MLflow run's end state for a cxr run's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// `ok`: `FINISHED`.
    Finished,
    /// `failed`: `FAILED`.
    Failed,
}

impl RunStatus {
    /// MLflow's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finished => "FINISHED",
            Self::Failed => "FAILED",
        }
    }
}

/// Everything one cxr run exports as.
#[derive(Debug, Clone, PartialEq)]
pub struct RunExport {
    /// The cxr run id (the run folder's name), also the MLflow run's name.
    pub run_id: String,
    /// How the MLflow run ends.
    pub status: RunStatus,
    /// When the run started, ms since the Unix epoch ([`crate::metrics`] says from what).
    pub start_time_ms: i64,
    /// When it ended.
    pub end_time_ms: i64,
    /// Params, sorted by key.
    pub params: Vec<KeyValue>,
    /// Per-epoch metrics, then final ones.
    pub metrics: Vec<MetricPoint>,
    /// Tags (all but [`EXPORT_TAG`]).
    pub tags: Vec<KeyValue>,
    /// Files to upload.
    pub artifacts: Vec<Artifact>,
    /// BLAKE3 (hex) of all of the above but times: equal fingerprints, equal exports.
    pub fingerprint: String,
}

impl RunExport {
    /// What finished run `run` of `grid` exports as.
    pub fn read(grid: &GridDir, run: &RunDir) -> Result<Self> {
        let summary_path = run.summary_path();
        let summary =
            run.read_summary()?
                .into_iter()
                .next()
                .ok_or_else(|| MlflowError::EmptySummary {
                    path: summary_path.clone(),
                })?;
        let config_path = run.config_path();
        let text = std::fs::read_to_string(&config_path).map_err(MlflowError::io(&config_path))?;
        let config: toml::Value = toml::from_str(&text).map_err(|e| MlflowError::Config {
            path: config_path.clone(),
            message: one_line(e),
        })?;
        let history = if run.history_path().is_file() {
            run.read_history()?
        } else {
            Vec::new() // a run that failed before its first epoch
        };
        let start_time_ms = modified_ms(&config_path)?;
        let end_time_ms = modified_ms(&summary_path)?.max(start_time_ms);
        let mut metrics = epoch_metrics(&history, start_time_ms, end_time_ms);
        metrics.extend(final_metrics(&summary, end_time_ms));
        let run_id = run.id();
        let mut export = Self {
            status: if summary.status == status::OK {
                RunStatus::Finished
            } else {
                RunStatus::Failed
            },
            start_time_ms,
            end_time_ms,
            params: run_params(&config, &summary.axes),
            metrics,
            tags: run_tags(&run_id, &summary, &config),
            artifacts: artifacts(grid, run)?,
            fingerprint: String::new(),
            run_id,
        };
        export.fingerprint = export.compute_fingerprint();
        Ok(export)
    }

    /// BLAKE3 over the format version and everything exported but times (which come from
    /// file modification times, and move when a results folder is copied).
    fn compute_fingerprint(&self) -> String {
        let metrics: Vec<(&str, i64, u64)> = self
            .metrics
            .iter()
            .map(|m| (m.key.as_str(), m.step, m.value.to_bits()))
            .collect();
        let artifacts: Vec<(&str, &str)> = self
            .artifacts
            .iter()
            .map(|a| (a.path.as_str(), a.hash.as_str()))
            .collect();
        let canonical = serde_json::json!([
            FORMAT,
            self.run_id,
            self.status.as_str(),
            self.params,
            metrics,
            self.tags,
            artifacts,
        ]);
        blake3::hash(canonical.to_string().as_bytes())
            .to_hex()
            .to_string()
    }
}

/// The tags of run `run_id`: what it is (`cxr.*`) and `mlflow.runName`, the name MLflow's UI
/// shows.
pub fn run_tags(run_id: &str, summary: &RunSummary, config: &toml::Value) -> Vec<KeyValue> {
    let mut tags = vec![
        KeyValue::new(RUN_ID_TAG, run_id),
        KeyValue::new("mlflow.runName", run_id),
        KeyValue::new("cxr.grid", &summary.grid),
        KeyValue::new("cxr.status", &summary.status),
        KeyValue::new("cxr.model", &summary.model),
        KeyValue::new("cxr.freeze", summary.freeze.to_string()),
        KeyValue::new("cxr.weights", weights_source(config)),
        KeyValue::new("cxr.seed", summary.seed.to_string()),
        KeyValue::new("cxr.head", summary.head_name()),
        KeyValue::new("cxr.device", summary.device_name()),
    ];
    if !summary.axes.is_empty() {
        tags.push(KeyValue::new("cxr.axes", axes::label(&summary.axes)));
    }
    if !summary.error.is_empty() {
        tags.push(KeyValue::new("cxr.error", &summary.error));
    }
    for tag in &mut tags {
        tag.value = shorten(&tag.value, MAX_TAG_VALUE);
    }
    tags
}

/// Where a run's starting weights came from, from its config's `[model.weights]`: `random`
/// (none), a published name (`torchvision:IMAGENET1K_V1`), `file:<path>`, or
/// `run:<grid>/<run id>` (another grid's run).
pub fn weights_source(config: &toml::Value) -> String {
    let Some(weights) = config.get("model").and_then(|m| m.get("weights")) else {
        return "random".to_string();
    };
    let field = |name: &str| {
        weights
            .get(name)
            .and_then(toml::Value::as_str)
            .unwrap_or("?")
    };
    match weights.get("kind").and_then(toml::Value::as_str) {
        Some("published") => field("name").to_string(),
        Some("file") => format!("file:{}", field("path")),
        Some("run") => format!("run:{}/{}", field("grid"), field("run")),
        Some(kind) => kind.to_string(),
        None => weights.to_string(),
    }
}

/// A file's modification time in ms since the Unix epoch.
fn modified_ms(path: &Path) -> Result<i64> {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(MlflowError::io(path))?;
    Ok(modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_results::{AxisValue, HistoryRow, ReportFigure};
    use std::path::PathBuf;

    /// A finished run folder of grid `g` with a config, a history of two epochs, a summary and
    /// a curves figure; returns the grid and the run.
    fn finished_run(root: &Path) -> Result<(GridDir, RunDir), Box<dyn std::error::Error>> {
        let grid = GridDir::new(root, "g");
        let run = grid.run("cnn-f0-s0-0123456789ab");
        std::fs::create_dir_all(run.path())?;
        std::fs::write(
            run.config_path(),
            "grid = \"g\"\nseed = 0\n[model]\nname = \"cnn\"\nfreeze = 0\n[train]\nlr = 0.002\n",
        )?;
        let row = |epoch: i64| HistoryRow {
            epoch,
            train_loss: 1.0,
            val_loss: 1.0,
            val_micro_recall: 0.5,
            val_macro_recall: 0.5,
            val_mean_auroc: None,
            train_time_s: 1.0,
            eval_time_s: 0.1,
            kept: epoch == 2,
        };
        run.write_history(&[row(1), row(2)])?;
        run.write_summary(&RunSummary {
            run_id: run.id(),
            grid: "g".into(),
            model: "cnn".into(),
            axes: vec![AxisValue::new("model.name", "cnn")],
            status: status::OK.into(),
            test_micro_recall: Some(0.75),
            ..RunSummary::default()
        })?;
        let mut curves = grid
            .report_figure(&ReportFigure::Curves(&run.id()))
            .into_os_string();
        curves.push(".png");
        let curves = PathBuf::from(curves);
        std::fs::create_dir_all(curves.parent().ok_or("no parent")?)?;
        std::fs::write(&curves, b"\x89PNG not really")?;
        std::fs::write(run.model_path(), b"weights stay home")?;
        Ok((grid, run))
    }

    #[test]
    fn a_run_folder_becomes_params_metrics_tags_and_files() -> Result<(), Box<dyn std::error::Error>>
    {
        let tmp = tempfile::tempdir()?;
        let (grid, run) = finished_run(tmp.path())?;
        let export = RunExport::read(&grid, &run)?;
        assert_eq!(export.status, RunStatus::Finished);
        assert!(export.params.contains(&KeyValue::new("train.lr", "0.002")));
        assert!(export.params.contains(&KeyValue::new("model.name", "cnn")));
        let epochs = export
            .metrics
            .iter()
            .filter(|m| m.key == "train_loss")
            .count();
        assert_eq!(epochs, 2);
        assert!(export
            .metrics
            .iter()
            .any(|m| m.key == "test_micro_recall" && m.value == 0.75));
        assert!(export
            .tags
            .contains(&KeyValue::new(RUN_ID_TAG, "cnn-f0-s0-0123456789ab")));
        assert!(export
            .tags
            .contains(&KeyValue::new("cxr.weights", "random")));
        let paths: Vec<&str> = export.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "config.toml",
                "summary.parquet",
                "history.parquet",
                "figures/curves.png"
            ]
        );
        assert!(export.start_time_ms <= export.end_time_ms);
        Ok(())
    }

    #[test]
    fn the_fingerprint_follows_content_not_times() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let (grid, run) = finished_run(tmp.path())?;
        let first = RunExport::read(&grid, &run)?;
        // Touched later (as a copy without -p would): same content, same fingerprint.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .append(true)
            .open(run.config_path())?
            .set_modified(later)?;
        let touched = RunExport::read(&grid, &run)?;
        assert_ne!(touched.start_time_ms, first.start_time_ms);
        assert_eq!(touched.fingerprint, first.fingerprint);
        assert_eq!(first.fingerprint.len(), 64);
        // A figure drawn since (`cxr report` run again): a new fingerprint.
        let mut svg = grid
            .report_figure(&ReportFigure::Confusion(&run.id()))
            .into_os_string();
        svg.push(".svg");
        std::fs::write(PathBuf::from(svg), "<svg/>")?;
        let redrawn = RunExport::read(&grid, &run)?;
        assert_ne!(redrawn.fingerprint, first.fingerprint);
        assert_eq!(redrawn.artifacts.len(), first.artifacts.len() + 1);
        Ok(())
    }

    #[test]
    fn failed_runs_say_why() {
        let summary = RunSummary {
            status: status::FAILED.into(),
            error: "loss diverged at epoch 3".into(),
            ..RunSummary::default()
        };
        let tags = run_tags("r", &summary, &toml::Value::Table(Default::default()));
        assert!(tags.contains(&KeyValue::new("cxr.error", "loss diverged at epoch 3")));
        assert!(tags.contains(&KeyValue::new("cxr.status", "failed")));
    }

    #[test]
    fn weights_sources_read_as_their_kind_says() -> Result<(), Box<dyn std::error::Error>> {
        for (table, expected) in [
            ("", "random"),
            ("[model.weights]\nkind = \"published\"\nname = \"torchvision:IMAGENET1K_V1\"", "torchvision:IMAGENET1K_V1"),
            ("[model.weights]\nkind = \"file\"\npath = \"/w/r18.pth\"", "file:/w/r18.pth"),
            (
                "[model.weights]\nkind = \"run\"\ngrid = \"pretrain-tb-ae\"\nrun = \"resnet18-f0-s0-942ca74124f3\"",
                "run:pretrain-tb-ae/resnet18-f0-s0-942ca74124f3",
            ),
        ] {
            let config: toml::Value = toml::from_str(&format!("[model]\nname = \"cnn\"\n{table}"))?;
            assert_eq!(weights_source(&config), expected);
        }
        Ok(())
    }
}
