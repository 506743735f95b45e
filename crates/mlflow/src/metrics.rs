//! A run's metrics: one point per epoch and per-epoch column of `history.parquet` (step = the
//! epoch), and one point (step 0) per numeric column of `summary.parquet` that has a value.
//!
//! Timestamps: cxr records no wall-clock time per epoch, only durations (`train_time_s`,
//! `eval_time_s`), so an epoch's timestamp is the run's start plus the training and validation
//! time of the epochs up to and including it. The start is the modification time of the run's
//! `config.toml`, which the trainer writes once data and weights are ready, just before the
//! first epoch; the end (the final metrics' timestamp and the MLflow run's end time) is that of
//! `summary.parquet`, the last file a run writes. Epoch timestamps never pass the end. Copying a
//! results folder without keeping times (`cp` without `-p`) moves them; the export's
//! fingerprint leaves times out, so that alone never makes a run look changed.

use cxr_results::{HistoryRow, RunSummary};

use crate::batch::MetricPoint;

/// The per-epoch metric names, as `history.parquet` names its columns.
pub const EPOCH_METRICS: [&str; 7] = [
    "train_loss",
    "val_loss",
    "val_micro_recall",
    "val_macro_recall",
    "val_mean_auroc",
    "train_time_s",
    "eval_time_s",
];

/// One point per epoch and metric (`val_mean_auroc` only where the epoch has one), stamped as
/// the module documentation says: `start_ms` plus the cumulative epoch time, at most `end_ms`.
pub fn epoch_metrics(history: &[HistoryRow], start_ms: i64, end_ms: i64) -> Vec<MetricPoint> {
    let mut points = Vec::with_capacity(history.len() * EPOCH_METRICS.len());
    let mut elapsed_s = 0.0;
    let mut previous_ms = start_ms;
    for row in history {
        let step_s = row.train_time_s + row.eval_time_s;
        if step_s.is_finite() && step_s > 0.0 {
            elapsed_s += step_s;
        }
        // Monotone and within [start, end] even for odd durations or file times.
        let timestamp_ms = (start_ms + (elapsed_s * 1000.0).round() as i64)
            .min(end_ms.max(start_ms))
            .max(previous_ms);
        previous_ms = timestamp_ms;
        let values = [
            Some(row.train_loss),
            Some(row.val_loss),
            Some(row.val_micro_recall),
            Some(row.val_macro_recall),
            row.val_mean_auroc,
            Some(row.train_time_s),
            Some(row.eval_time_s),
        ];
        for (key, value) in EPOCH_METRICS.iter().zip(values) {
            if let Some(value) = value {
                points.push(MetricPoint {
                    key: key.to_string(),
                    value,
                    step: row.epoch,
                    timestamp_ms,
                });
            }
        }
    }
    points
}

/// The summary's numeric columns, each as the metric it is logged as. Summary columns that are
/// also per-epoch metrics get another name, so that a run's final number does not land in the
/// epoch curve of the same name: `val_*` of the kept epoch become `kept_val_*`, and the mean
/// validation time per epoch `mean_eval_time_s` (`epoch_time_s`, the mean training time,
/// keeps its name).
fn summary_values(s: &RunSummary) -> [(&'static str, Option<f64>); 29] {
    let int = |v: Option<i64>| v.map(|v| v as f64);
    [
        ("epochs_run", int(s.epochs_run)),
        ("epochs_to_converge", int(s.epochs_to_converge)),
        ("epoch_time_s", s.epoch_time_s),
        ("mean_eval_time_s", s.eval_time_s),
        ("total_time_s", s.total_time_s),
        ("prefix_time_s", s.prefix_time_s),
        ("fit_time_s", s.fit_time_s),
        ("trainable_params", Some(s.trainable_params as f64)),
        ("total_params", Some(s.total_params as f64)),
        ("test_micro_recall", s.test_micro_recall),
        ("test_macro_recall", s.test_macro_recall),
        ("test_micro_recall_low", s.test_micro_recall_low),
        ("test_micro_recall_high", s.test_micro_recall_high),
        ("test_macro_recall_low", s.test_macro_recall_low),
        ("test_macro_recall_high", s.test_macro_recall_high),
        ("test_loss", s.test_loss),
        ("test_ece", s.test_ece),
        ("temperature", s.temperature),
        ("test_ece_uncalibrated", s.test_ece_uncalibrated),
        ("kept_val_micro_recall", s.val_micro_recall),
        ("kept_val_macro_recall", s.val_macro_recall),
        ("test_images", int(s.test_images)),
        ("test_mean_auroc", s.test_mean_auroc),
        ("test_mean_auroc_low", s.test_mean_auroc_low),
        ("test_mean_auroc_high", s.test_mean_auroc_high),
        ("kept_val_mean_auroc", s.val_mean_auroc),
        ("train_patients", int(s.train_patients)),
        ("val_patients", int(s.val_patients)),
        ("test_patients", int(s.test_patients)),
    ]
}

/// The final metrics of a run: every numeric summary column that has a value, at step 0 and
/// time `end_ms`.
pub fn final_metrics(summary: &RunSummary, end_ms: i64) -> Vec<MetricPoint> {
    summary_values(summary)
        .into_iter()
        .filter_map(|(key, value)| {
            Some(MetricPoint {
                key: key.to_string(),
                value: value?,
                step: 0,
                timestamp_ms: end_ms,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_results::table::Table;

    fn epoch(epoch: i64, train_time_s: f64, auroc: Option<f64>) -> HistoryRow {
        HistoryRow {
            epoch,
            train_loss: 1.0 / epoch as f64,
            val_loss: 1.5 / epoch as f64,
            val_micro_recall: 0.5,
            val_macro_recall: 0.4,
            val_mean_auroc: auroc,
            train_time_s,
            eval_time_s: 0.5,
            kept: epoch == 2,
        }
    }

    #[test]
    fn epochs_are_stamped_by_cumulative_time_within_the_run() {
        let history = [
            epoch(1, 2.0, None),
            epoch(2, 3.0, None),
            epoch(3, 100.0, None),
        ];
        let points = epoch_metrics(&history, 10_000, 20_000);
        assert_eq!(points.len(), 3 * 6, "no val_mean_auroc without values");
        let stamps: Vec<(i64, i64)> = points
            .iter()
            .filter(|p| p.key == "train_loss")
            .map(|p| (p.step, p.timestamp_ms))
            .collect();
        // 2.5 s, 6 s, then past the summary's time: clamped to it.
        assert_eq!(stamps, [(1, 12_500), (2, 16_000), (3, 20_000)]);
        let val_loss: Vec<f64> = points
            .iter()
            .filter(|p| p.key == "val_loss")
            .map(|p| p.value)
            .collect();
        assert_eq!(val_loss, [1.5, 0.75, 0.5]);
    }

    #[test]
    fn multilabel_epochs_carry_auroc() {
        let points = epoch_metrics(&[epoch(1, 1.0, Some(0.8))], 0, 5_000);
        assert_eq!(points.len(), 7);
        assert!(points
            .iter()
            .any(|p| p.key == "val_mean_auroc" && p.value == 0.8));
    }

    #[test]
    fn final_metrics_are_the_summary_values_present() {
        let summary = RunSummary {
            test_micro_recall: Some(0.75),
            val_micro_recall: Some(0.7),
            epochs_to_converge: Some(4),
            eval_time_s: Some(0.25),
            trainable_params: 1_606_916,
            ..RunSummary::default()
        };
        let points = final_metrics(&summary, 99);
        let got: Vec<(&str, f64)> = points.iter().map(|p| (p.key.as_str(), p.value)).collect();
        assert_eq!(
            got,
            [
                ("epochs_to_converge", 4.0),
                ("mean_eval_time_s", 0.25),
                ("trainable_params", 1_606_916.0),
                ("total_params", 0.0),
                ("test_micro_recall", 0.75),
                ("kept_val_micro_recall", 0.7),
            ]
        );
        assert!(points.iter().all(|p| p.step == 0 && p.timestamp_ms == 99));
    }

    #[test]
    fn every_summary_column_is_a_metric_or_said_not_to_be() {
        // A column added to RunSummary must be exported or listed here, deliberately. Settings
        // (lr, batch_size, ...) are params already, from config.toml.
        let not_metrics = [
            "run_id",
            "grid",
            "model",
            "freeze",
            "seed",
            "fold",
            "folds",
            "image_size",
            "axes",
            "lr",
            "batch_size",
            "sampler",
            "device",
            "pretrained",
            "objective",
            "head",
            "head_params",
            "status",
            "error",
            "task",
            "config_json",
        ];
        let renamed = |metric: &str| match metric {
            "mean_eval_time_s" => "eval_time_s".to_string(),
            m => m.strip_prefix("kept_").unwrap_or(m).to_string(),
        };
        let exported: Vec<String> = summary_values(&RunSummary::default())
            .iter()
            .map(|(k, _)| renamed(k))
            .collect();
        for column in RunSummary::COLUMNS {
            assert!(
                exported.iter().any(|e| e == column) ^ not_metrics.contains(column),
                "summary column {column}: export it as a metric or list it as not one"
            );
        }
        let final_names: Vec<&str> = summary_values(&RunSummary::default())
            .map(|(k, _)| k)
            .to_vec();
        for name in EPOCH_METRICS {
            assert!(
                !final_names.contains(&name),
                "{name} would mix into the epoch curve"
            );
        }
    }
}
