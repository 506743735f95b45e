//! External validation of a multi-label run on a labelled table (`cxr evaluate --labels`):
//! another NIH / CheXpert / generic table, read as a sweep reads one, its findings matched to
//! the run's by name ([`crate::class_name`]), every film scored with the trainer's own
//! [`cxr_trainer::multilabel::evaluate_findings`], and per finding: AUROC with a 95% bootstrap
//! interval that resamples **patients** (films when the table names none), and sensitivity,
//! specificity and precision at the run's own thresholds. Mean AUROC over findings is the
//! headline, as in a run's summary.

use std::path::{Path, PathBuf};

use cxr_data::seed::{self, Stream};
use cxr_data::{load_table, FindingLabel, FindingMatrix, LabelSpec, LoadOptions};
use cxr_metrics::{Interval, ThresholdStats, DEFAULT_RESAMPLES};
use cxr_results::MetricRow;
use cxr_trainer::multilabel::{evaluate_findings, FindingScores};
use cxr_trainer::Source;

use crate::class_name::find_class;
use crate::classic_head::ClassicHead;
use crate::error::{InferenceError, Result};
use crate::trained::TrainedModel;

/// Films per evaluation batch, as [`crate::evaluate`]'s.
const EVAL_BATCH: usize = 32;

/// One finding of a table evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingResult {
    /// The run's finding name.
    pub finding: String,
    /// Films labelled positive / negative for it (under the run's `uncertain` policy).
    pub positives: usize,
    /// Films labelled negative.
    pub negatives: usize,
    /// AUROC; `None` without a positive and a negative film.
    pub auroc: Option<f64>,
    /// Its 95% bootstrap interval (patients resampled).
    pub interval: Option<Interval>,
    /// The run's threshold for it.
    pub threshold: f64,
    /// Counts at the threshold.
    pub at_threshold: Option<ThresholdStats>,
}

/// A multi-label run scored on a label table.
#[derive(Debug, Clone)]
pub struct TableEvaluation {
    /// The run folder's id.
    pub run_id: String,
    /// The table file.
    pub table: PathBuf,
    /// Films scored.
    pub films: usize,
    /// Patients among them (`None` when the table names none: the bootstrap resampled films).
    pub patients: Option<usize>,
    /// The run's findings, in output order, each with its results.
    pub findings: Vec<FindingResult>,
    /// The table's findings that the run does not predict (left out).
    pub unknown: Vec<String>,
    /// Mean AUROC over the findings where it is defined.
    pub mean_auroc: Option<f64>,
    /// Its 95% bootstrap interval.
    pub mean_interval: Option<Interval>,
}

impl TableEvaluation {
    /// The evaluation as rows of the evaluation table (`--out`): overall numbers, then per
    /// finding (in the `class` column).
    pub fn metric_rows(&self) -> Vec<MetricRow> {
        let mut rows = vec![
            MetricRow::overall("images", Some(self.films as f64)),
            MetricRow::overall("patients", self.patients.map(|p| p as f64)),
            MetricRow::overall("mean_auroc", self.mean_auroc),
            MetricRow::overall("mean_auroc_low", self.mean_interval.map(|i| i.low)),
            MetricRow::overall("mean_auroc_high", self.mean_interval.map(|i| i.high)),
        ];
        for f in &self.findings {
            let at = f.at_threshold;
            for (metric, value) in [
                ("auroc", f.auroc),
                ("auroc_low", f.interval.map(|i| i.low)),
                ("auroc_high", f.interval.map(|i| i.high)),
                ("threshold", Some(f.threshold)),
                ("sensitivity", at.and_then(|s| s.sensitivity())),
                ("specificity", at.and_then(|s| s.specificity())),
                ("precision", at.and_then(|s| s.precision())),
                ("positives", Some(f.positives as f64)),
                ("negatives", Some(f.negatives as f64)),
            ] {
                rows.push(MetricRow::of_class(metric, &f.finding, value));
            }
        }
        rows
    }
}

/// Scores the multi-label run `model` on the label table `labels` (relative to `root`, or
/// absolute), its images under `root` (decoded images cached in `cache_dir`; rows naming
/// missing files are skipped and counted by the loader's log).
pub fn evaluate_table(
    model: &TrainedModel,
    root: &Path,
    labels: &Path,
    cache_dir: &Path,
) -> Result<TableEvaluation> {
    if !model.is_multilabel() {
        return Err(InferenceError::NotMultiLabel(
            model.run.path().to_path_buf(),
        ));
    }
    let spec = LabelSpec {
        root: root.to_path_buf(),
        labels: labels.to_path_buf(),
        skip_missing: true,
        ..LabelSpec::default()
    };
    let opts = LoadOptions {
        image_size: model.image_size(),
        mask: model.config.data.mask,
        skip_unreadable: true,
        classes: None,
        cache_dir: Some(cache_dir.to_path_buf()),
        dicom_window: model.config.data.dicom_window,
    };
    let (set, _) = load_table(&spec, &opts)?;
    let (images, table) = (set.images, set.table);
    // The table's columns in the run's finding order; a finding the table lacks is missing
    // on every film.
    let findings = model.classes();
    let column_of: Vec<Option<usize>> = findings
        .iter()
        .map(|f| find_class(&table.findings.findings, f))
        .collect();
    if column_of.iter().all(Option::is_none) {
        return Err(InferenceError::NoMatchingFinding {
            table: spec.table_path(),
            known: findings.join(", "),
        });
    }
    let unknown = table
        .findings
        .findings
        .iter()
        .filter(|t| find_class(findings, t).is_none())
        .cloned()
        .collect();
    let mut matrix = FindingMatrix::new(findings.to_vec());
    for i in 0..table.len() {
        let row = table.findings.row(i);
        let ours: Vec<FindingLabel> = column_of
            .iter()
            .map(|c| c.map_or(FindingLabel::Missing, |c| row[c]))
            .collect();
        matrix.push(&ours);
    }
    let films: Vec<usize> = (0..images.len()).collect();
    let uncertain = model.config.train.uncertain;
    let eval = match &model.head {
        Some(ClassicHead::PerFinding(heads)) => {
            let x = model.embed_images(&images, &films, EVAL_BATCH)?;
            cxr_trainer::classic_findings::evaluation(heads, &x, &matrix, &films, uncertain)?
        }
        _ => {
            let spec = model.batch_spec();
            let source = Source::Images {
                set: &images,
                spec: &spec,
                augment: None,
            };
            evaluate_findings(
                &model.model,
                &source,
                &matrix,
                &films,
                uncertain,
                None,
                EVAL_BATCH,
            )?
        }
    };
    let scores = FindingScores::of(&eval, &matrix, &films, uncertain);
    let groups: Vec<u32> = match &table.patients {
        Some(p) => p.of.clone(),
        None => (0..films.len() as u32).collect(),
    };
    let mut rng = seed::rng(model.config.seed, Stream::Bootstrap);
    let aurocs = scores.aurocs();
    let results = findings
        .iter()
        .enumerate()
        .map(|(k, finding)| {
            let (s, t) = scores.column(k);
            let positives = t.iter().filter(|&&p| p).count();
            let threshold = model
                .thresholds()
                .get(k)
                .copied()
                .unwrap_or(cxr_trainer::multilabel::FALLBACK_THRESHOLD);
            FindingResult {
                finding: finding.clone(),
                positives,
                negatives: t.len() - positives,
                auroc: aurocs[k],
                interval: aurocs[k]
                    .and_then(|_| scores.auroc_interval(k, &groups, DEFAULT_RESAMPLES, &mut rng))
                    .map(|i| i.interval),
                threshold,
                at_threshold: ThresholdStats::at(&s, &t, threshold),
            }
        })
        .collect();
    let mean_interval = scores
        .mean_auroc_interval(&groups, DEFAULT_RESAMPLES, &mut rng)
        .map(|i| i.interval);
    Ok(TableEvaluation {
        run_id: model.run.id(),
        table: root.join(labels),
        films: films.len(),
        patients: table.patients.as_ref().map(|p| p.count()),
        findings: results,
        unknown,
        mean_auroc: scores.mean_auroc(),
        mean_interval,
    })
}
