//! Where results live. The only place that knows file names: every file of a grid folder is
//! named here, the report's included. Each file's typed reader and writer is a [`RunDir`] or
//! [`GridDir`] method ([`crate::run_files`], [`crate::grid_files`]), except those whose type
//! lives with its owner: `config.toml` (`cxr-experiment`), `model.safetensors` (`cxr-models`),
//! and the report's figures, `report.md` and `comparisons.parquet` (`cxr-report`).
//!
//! ```text
//! <results>/<grid>/summary.parquet              every finished run, one row each (rebuilt)
//! <results>/<grid>/plan.parquet                 every run the grid plans (written by each sweep)
//! <results>/<grid>/report/                      figures and report.md (`cxr report`)
//! <results>/<grid>/report/report.md             the report
//! <results>/<grid>/report/report.html           the report as one self-contained page, interactive
//! <results>/<grid>/report/comparisons.parquet   paired comparisons of configurations and heads
//! <results>/<grid>/report/cross_validation.parquet   cross-validation grids: recall per configuration
//! <results>/<grid>/report/out_of_fold.parquet   cross-validation grids: every image's out-of-fold prediction
//! <results>/<grid>/report/<metric>[__<facet>].{png,svg}   one metric of every configuration
//! <results>/<grid>/report/runs/<run-id>/{curves,confusion,reliability}.{png,svg}   a run's figures
//! <results>/<grid>/report/runs/<run-id>/reconstructions.png   a copy of an autoencoder run's
//! <results>/<grid>/report/features/<backbone>-{pca,tsne}.{png,svg}   a backbone's feature maps
//! <results>/<grid>/runs/<run-id>/config.toml    resolved settings (written first)
//! <results>/<grid>/runs/<run-id>/history.parquet    one row per epoch
//! <results>/<grid>/runs/<run-id>/per_class.parquet  test precision/recall/F1/support per class
//! <results>/<grid>/runs/<run-id>/confusion.parquet  test confusion matrix, long format
//! <results>/<grid>/runs/<run-id>/model.safetensors  weights of the kept epoch
//! <results>/<grid>/runs/<run-id>/preprocessing.json  class order and normalisation statistics
//! <results>/<grid>/runs/<run-id>/reconstructions.png  autoencoder runs: test images, reconstructed
//! <results>/<grid>/runs/<run-id>/features.parquet   classic-head runs: embeddings of every image
//! <results>/<grid>/runs/<run-id>/predictions.parquet  classifier runs: every test image's prediction
//! <results>/<grid>/runs/<run-id>/calibration.json   `train.calibrate` runs: the fitted temperature
//! <results>/<grid>/runs/<run-id>/summary.parquet    one row; written last = the run is finished
//! ```

use std::path::{Path, PathBuf};

use crate::error::{Result, ResultsError};

/// `<results>/<grid>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridDir {
    path: PathBuf,
}

impl GridDir {
    /// The folder of grid `name` under `results`.
    pub fn new(results: &Path, name: &str) -> Self {
        Self {
            path: results.join(name),
        }
    }

    /// An existing grid folder (e.g. given to `cxr report`).
    pub fn at(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
        }
    }

    /// The grid folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `runs/`.
    pub fn runs_dir(&self) -> PathBuf {
        self.path.join("runs")
    }

    /// The folder of run `id`.
    pub fn run(&self, id: &str) -> RunDir {
        RunDir {
            path: self.runs_dir().join(id),
        }
    }

    /// The merged `summary.parquet`.
    pub fn summary_path(&self) -> PathBuf {
        self.path.join("summary.parquet")
    }

    /// `plan.parquet`: the runs the grid file expands to, as of the last sweep.
    pub fn plan_path(&self) -> PathBuf {
        self.path.join("plan.parquet")
    }

    /// `report/`, written by `cxr report`.
    pub fn report_dir(&self) -> PathBuf {
        self.path.join("report")
    }

    /// `report/report.md`.
    pub fn report_md_path(&self) -> PathBuf {
        self.report_dir().join("report.md")
    }

    /// `report/report.html`: the report as one page that opens offline, with the runs table,
    /// each run's detail and learning curves to overlay.
    pub fn report_html_path(&self) -> PathBuf {
        self.report_dir().join("report.html")
    }

    /// `report/comparisons.parquet`: the report's paired comparisons of configurations and of
    /// heads.
    pub fn comparisons_path(&self) -> PathBuf {
        self.report_dir().join("comparisons.parquet")
    }

    /// Where the report draws `figure`: `report/<stem>`, to which the drawing appends `.png`
    /// and `.svg` ([`ReportFigure::stem`]).
    pub fn report_figure(&self, figure: &ReportFigure) -> PathBuf {
        self.report_dir().join(figure.stem())
    }

    /// `report/cross_validation.parquet`: a cross-validation grid's recall pooled per
    /// configuration ([`crate::cross_validation`]).
    pub fn cross_validation_path(&self) -> PathBuf {
        self.report_dir().join("cross_validation.parquet")
    }

    /// `report/out_of_fold.parquet`: a cross-validation grid's out-of-fold predictions
    /// ([`crate::OutOfFoldRow`]).
    pub fn out_of_fold_path(&self) -> PathBuf {
        self.report_dir().join("out_of_fold.parquet")
    }

    /// The lock file that serialises summary rebuilds across processes.
    pub fn lock_path(&self) -> PathBuf {
        self.path.join(".summary.lock")
    }

    /// Every run folder, sorted by id (finished or not).
    pub fn runs(&self) -> Result<Vec<RunDir>> {
        let dir = self.runs_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ResultsError::io(&dir)(e)),
        };
        let mut runs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(ResultsError::io(&dir))?;
            if entry.path().is_dir() {
                runs.push(RunDir { path: entry.path() });
            }
        }
        runs.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(runs)
    }
}

/// A figure of the report, under `report/`: drawn as `<stem>.png` and `<stem>.svg` (a copied
/// `reconstructions.png`: the PNG only), and linked from `report.md` by its PNG's name relative
/// to `report/` ([`ReportFigure::png`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFigure<'a> {
    /// One metric of every configuration of a facet: `<metric>`, or `<metric>__<facet>` with
    /// the facet's file-name form when the grid has facets.
    Metric {
        /// The metric's file-name stem (`test_micro_recall`).
        metric: &'a str,
        /// The facet, as a file name (`None` for a grid without facets).
        facet: Option<&'a str>,
    },
    /// A run's training curves: `runs/<run-id>/curves`.
    Curves(&'a str),
    /// A run's test confusion heatmap: `runs/<run-id>/confusion`.
    Confusion(&'a str),
    /// A run's test reliability diagram: `runs/<run-id>/reliability`.
    Reliability(&'a str),
    /// The copy of an autoencoder run's `reconstructions.png`: `runs/<run-id>/reconstructions`.
    Reconstructions(&'a str),
    /// A backbone's 2-D feature map by one method (`pca`, `tsne`):
    /// `features/<backbone>-<method>`, the backbone as a file name.
    FeatureMap {
        /// The backbone, as a file name.
        backbone: &'a str,
        /// The projection method.
        method: &'a str,
    },
}

impl ReportFigure<'_> {
    /// The figure's path relative to `report/` without extension, `/`-separated.
    pub fn stem(&self) -> String {
        match *self {
            Self::Metric {
                metric,
                facet: None,
            } => metric.to_string(),
            Self::Metric {
                metric,
                facet: Some(facet),
            } => format!("{metric}__{facet}"),
            Self::Curves(id) => format!("runs/{id}/curves"),
            Self::Confusion(id) => format!("runs/{id}/confusion"),
            Self::Reliability(id) => format!("runs/{id}/reliability"),
            Self::Reconstructions(id) => format!("runs/{id}/reconstructions"),
            Self::FeatureMap { backbone, method } => format!("features/{backbone}-{method}"),
        }
    }

    /// The figure's PNG relative to `report/`, as `report.md` links it.
    pub fn png(&self) -> String {
        format!("{}.png", self.stem())
    }
}

/// `<results>/<grid>/runs/<run-id>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// An existing run folder (e.g. given to `cxr predict --run`).
    pub fn at(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
        }
    }

    /// The run folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The run id (the folder name).
    pub fn id(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// `config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.path.join("config.toml")
    }

    /// `history.parquet`.
    pub fn history_path(&self) -> PathBuf {
        self.path.join("history.parquet")
    }

    /// `summary.parquet` (one row).
    pub fn summary_path(&self) -> PathBuf {
        self.path.join("summary.parquet")
    }

    /// `per_class.parquet`.
    pub fn per_class_path(&self) -> PathBuf {
        self.path.join("per_class.parquet")
    }

    /// `confusion.parquet`.
    pub fn confusion_path(&self) -> PathBuf {
        self.path.join("confusion.parquet")
    }

    /// `model.safetensors`.
    pub fn model_path(&self) -> PathBuf {
        self.path.join("model.safetensors")
    }

    /// `checkpoint.safetensors`: the state after the last finished epoch of a run that is
    /// training or was interrupted (weights, optimiser, early stopping, history); a rerun
    /// resumes from it, and it is removed once the run's summary is written.
    pub fn checkpoint_path(&self) -> PathBuf {
        self.path.join("checkpoint.safetensors")
    }

    /// `head.safetensors`: a classic-head run's fitted head (standardiser, the chosen model's
    /// numbers, probabilities' calibration and what its features came from;
    /// `cxr_heads::FittedHead::to_bytes` gives the format). Other runs have none.
    pub fn head_path(&self) -> PathBuf {
        self.path.join("head.safetensors")
    }

    /// `preprocessing.json`: what inference needs to feed new images exactly as the run fed its
    /// own (class order, input channels, normalisation statistics); written before training.
    pub fn preprocessing_path(&self) -> PathBuf {
        self.path.join("preprocessing.json")
    }

    /// `reconstructions.png`: an autoencoder run's first test images above their
    /// reconstructions ([`crate::Reconstructions`]); classify runs have none.
    pub fn reconstructions_path(&self) -> PathBuf {
        self.path.join("reconstructions.png")
    }

    /// `features.parquet`: a classic-head run's embedding of every image of its dataset
    /// ([`crate::FeatureTable`]); other runs have none.
    pub fn features_path(&self) -> PathBuf {
        self.path.join("features.parquet")
    }

    /// `per_finding.parquet`: a multi-label run's AUROC, threshold and test counts per finding
    /// ([`crate::PerFindingRow`]); other runs have none.
    pub fn per_finding_path(&self) -> PathBuf {
        self.path.join("per_finding.parquet")
    }

    /// `predictions.parquet`: every test image's true class, predicted class and class
    /// probabilities ([`crate::PredictionRow`]), or for a multi-label run a probability per
    /// finding ([`crate::FindingPredictionRow`]); autoencoder runs have none.
    pub fn predictions_path(&self) -> PathBuf {
        self.path.join("predictions.parquet")
    }

    /// `calibration.json`: the temperature fitted on the validation split
    /// ([`crate::CalibrationRecord`]); only runs with `train.calibrate = true` have one.
    pub fn calibration_path(&self) -> PathBuf {
        self.path.join("calibration.json")
    }

    /// A run is finished (successfully or not) once its summary exists; the summary is written
    /// last and atomically, so a killed run never looks finished.
    pub fn is_finished(&self) -> bool {
        self.summary_path().is_file()
    }
}
