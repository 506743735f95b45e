//! Cross-validation grids (`[split] folds = k`): each configuration's test recall pooled over
//! its folds (and seeds), for the "Cross-validation" section of `report.md` and
//! `report/cross_validation.parquet` ([`cxr_results::cross_validation`]), and the out-of-fold
//! predictions of every image in one table, `report/out_of_fold.parquet`: each configuration's
//! recall over them (every image once per seed) is the row's pooled out-of-fold recall.
//!
//! A configuration is a run's grid-axis values without `split.fold` and `seed`. Its folds test
//! on disjoint images but train on overlapping ones, so they are repeated measurements, not
//! independent samples: the mean over folds estimates the configuration's recall on this
//! dataset from every image once per seed, and the sample standard deviation says how much the
//! test fold moves it. It is not a confidence interval, and the other tables of the report
//! average a seed's folds before they compare seeds.

use std::fmt::Write as _;

use cxr_metrics::ConfusionMatrix;
use cxr_results::axes::{label, FOLD_SETTING};
use cxr_results::{AxisValue, CrossValidationRow, OutOfFoldRow, LINEAR_HEAD};

use crate::grid_results::{facet_of, line_of, GridResults, RunResults};
use crate::numbers::opt;
use crate::order::first_seen;
use crate::stats::{mean, std_dev};

/// A run's axes without the test fold and the seed: what names its configuration.
pub fn configuration_axes(axes: &[AxisValue]) -> Vec<AxisValue> {
    axes.iter()
        .filter(|a| a.setting != FOLD_SETTING && a.setting != "seed")
        .cloned()
        .collect()
}

/// A cross-validation grid's tables; both empty for a grid without folds.
#[derive(Debug, Clone, Default)]
pub struct CrossValidation {
    /// One row per configuration ([`cross_validation_rows`]) with its pooled out-of-fold
    /// recall ([`add_out_of_fold`]).
    pub rows: Vec<CrossValidationRow>,
    /// Every image as predicted by the run whose test fold held it ([`out_of_fold_rows`]).
    pub out_of_fold: Vec<OutOfFoldRow>,
}

impl CrossValidation {
    /// The tables of `results`.
    pub fn of(results: &GridResults) -> Self {
        let mut rows = cross_validation_rows(results);
        if rows.is_empty() {
            return Self::default();
        }
        let out_of_fold = out_of_fold_rows(results);
        add_out_of_fold(&mut rows, &out_of_fold);
        Self { rows, out_of_fold }
    }
}

/// One row per configuration with cross-validation runs, in first-seen order: its ok
/// classifier runs pooled over folds and seeds. Autoencoder runs (no recall) and runs on one
/// split by fractions are left out; a configuration whose folds all failed has no row.
pub fn cross_validation_rows(results: &GridResults) -> Vec<CrossValidationRow> {
    let runs: Vec<&RunResults> = results
        .runs
        .iter()
        .filter(|r| r.ok_classifier() && r.summary.fold.is_some())
        .collect();
    let key = |r: &RunResults| (label(&configuration_axes(&r.summary.axes)), r.summary.folds);
    first_seen(runs.iter().map(|r| key(r)))
        .into_iter()
        .map(|k| {
            let group: Vec<&RunResults> = runs.iter().copied().filter(|r| key(r) == k).collect();
            row(&group)
        })
        .collect()
}

/// Every image of every cross-validation configuration and seed, as predicted by the run whose
/// test fold held it, from the ok classifier fold runs' `predictions.parquet` (runs without
/// the file are left out).
pub fn out_of_fold_rows(results: &GridResults) -> Vec<OutOfFoldRow> {
    let mut out = Vec::new();
    for run in results
        .runs
        .iter()
        .filter(|r| r.ok_classifier() && r.summary.fold.is_some())
    {
        let s = &run.summary;
        let Some(predictions) = &run.predictions else {
            continue;
        };
        let configuration = label(&configuration_axes(&s.axes));
        out.extend(predictions.iter().map(|p| OutOfFoldRow {
            configuration: configuration.clone(),
            model: s.model.clone(),
            freeze: s.freeze,
            head: s.head_name().to_string(),
            seed: s.seed,
            fold: s.fold.unwrap_or_default(),
            run_id: s.run_id.clone(),
            path: p.path.clone(),
            true_class: p.true_class.clone(),
            predicted_class: p.predicted_class.clone(),
            probabilities: p.probabilities.clone(),
        }));
    }
    out
}

/// Fills each row's pooled out-of-fold recall from `oof` (the rows of its configuration).
pub fn add_out_of_fold(rows: &mut [CrossValidationRow], oof: &[OutOfFoldRow]) {
    for row in rows {
        let configuration = label(&row.axes);
        let mine: Vec<&OutOfFoldRow> = oof
            .iter()
            .filter(|o| o.configuration == configuration)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let classes = first_seen(mine.iter().map(|o| o.true_class.as_str()));
        let index = |c: &str| {
            classes
                .iter()
                .position(|k| *k == c)
                .unwrap_or(classes.len()) as u32
        };
        let truth: Vec<u32> = mine.iter().map(|o| index(&o.true_class)).collect();
        let predicted: Vec<u32> = mine.iter().map(|o| index(&o.predicted_class)).collect();
        // A predicted class no image has (index == classes.len()) counts as wrong.
        let matrix = ConfusionMatrix::new(&truth, &predicted, classes.len() + 1);
        row.oof_images = Some(mine.len() as i64);
        row.oof_micro_recall = Some(matrix.micro_recall());
        row.oof_macro_recall = Some(matrix.macro_recall());
    }
}

/// The pooled row of one configuration's ok runs (at least one).
fn row(group: &[&RunResults]) -> CrossValidationRow {
    let first = &group[0].summary;
    let values = |f: fn(&RunResults) -> Option<f64>| -> Vec<f64> {
        group.iter().filter_map(|r| f(r)).collect()
    };
    let spread = |v: &[f64]| (v.len() >= 2).then(|| std_dev(v));
    let micro = values(|r| r.summary.test_micro_recall);
    let macro_ = values(|r| r.summary.test_macro_recall);
    let auroc = values(|r| r.summary.test_mean_auroc);
    CrossValidationRow {
        model: first.model.clone(),
        freeze: first.freeze,
        head: first.head_name().to_string(),
        axes: configuration_axes(&first.axes),
        folds: first.folds.unwrap_or_default(),
        folds_finished: first_seen(group.iter().map(|r| r.summary.fold)).len() as i64,
        seeds: first_seen(group.iter().map(|r| r.summary.seed)).len() as i64,
        runs: group.len() as i64,
        test_micro_recall_mean: mean(&micro),
        test_micro_recall_sd: spread(&micro),
        test_macro_recall_mean: mean(&macro_),
        test_macro_recall_sd: spread(&macro_),
        oof_images: None,
        oof_micro_recall: None,
        oof_macro_recall: None,
        test_mean_auroc_mean: (!auroc.is_empty()).then(|| mean(&auroc)),
        test_mean_auroc_sd: spread(&auroc),
    }
}

/// The "Cross-validation" section of `report.md`: each cross-validated configuration's test
/// recall over its folds and seeds (`rows`, with their out-of-fold recall where known).
/// Nothing for a grid without folds.
pub fn render_section(md: &mut String, rows: &[CrossValidationRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "## Cross-validation\n\n\
         Each configuration ran once per test fold (and seed): the folds of a seed split every \
         image into exactly one test fold, stratified by class; each run's validation images \
         come from its other folds and it trains on the rest. Test recall is the mean over the \
         finished folds and seeds, with the sample standard deviation across them: how much \
         the test fold moves it. Folds share training images, so it is no confidence interval. \
         The out-of-fold columns score every image once per seed, each predicted by the run \
         whose test fold held it; those predictions are in `out_of_fold.parquet`, the table's \
         numbers in `cross_validation.parquet`.\n"
    );
    let heads = rows.iter().any(|r| r.head != LINEAR_HEAD);
    let facets = rows.iter().any(|r| !facet_of(&r.axes).is_empty());
    let mut header = String::from("| model | freeze |");
    if heads {
        header.push_str(" head |");
    }
    if facets {
        header.push_str(" other axes |");
    }
    header.push_str(" folds finished | seeds |");
    // Multi-label runs lead with their headline; their recalls are at validation thresholds.
    let auroc = rows.iter().any(|r| r.test_mean_auroc_mean.is_some());
    if auroc {
        header.push_str(" test mean AUROC | sd |");
    }
    header.push_str(" test micro-recall | sd | test macro-recall | sd |");
    let oof = rows.iter().any(|r| r.oof_images.is_some());
    if oof {
        header.push_str(" out-of-fold micro-recall | out-of-fold macro-recall | images |");
    }
    let _ = writeln!(md, "{header}");
    let _ = writeln!(md, "|{}", "---|".repeat(header.matches('|').count() - 1));
    for r in rows {
        let mut line = format!("| {} | {} |", line_of(&r.model, &r.axes), r.freeze);
        if heads {
            let _ = write!(line, " {} |", r.head);
        }
        if facets {
            let _ = write!(line, " {} |", facet_of(&r.axes));
        }
        let _ = write!(line, " {}/{} | {} |", r.folds_finished, r.folds, r.seeds);
        if auroc {
            let _ = write!(
                line,
                " {} | {} |",
                opt(r.test_mean_auroc_mean, 3),
                opt(r.test_mean_auroc_sd, 3)
            );
        }
        let _ = write!(
            line,
            " {:.3} | {} | {:.3} | {} |",
            r.test_micro_recall_mean,
            opt(r.test_micro_recall_sd, 3),
            r.test_macro_recall_mean,
            opt(r.test_macro_recall_sd, 3),
        );
        if oof {
            let _ = write!(
                line,
                " {} | {} | {} |",
                opt(r.oof_micro_recall, 3),
                opt(r.oof_macro_recall, 3),
                r.oof_images.map_or_else(|| "-".into(), |n| n.to_string()),
            );
        }
        let _ = writeln!(md, "{line}");
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_results::{status, RunSummary};

    /// A run of `model` with learning rate `lr` on `fold` of 3 with `seed`.
    fn run(model: &str, lr: &str, seed: i64, fold: i64, micro: f64, ok: bool) -> RunResults {
        let axes = vec![
            AxisValue::new("model.name", model),
            AxisValue::new("seed", seed.to_string()),
            AxisValue::new("train.lr", lr),
            AxisValue::new(FOLD_SETTING, fold.to_string()),
        ];
        let summary = RunSummary {
            run_id: format!("{model}-f0-s{seed}-fold{fold}-{lr}"),
            model: model.into(),
            seed,
            fold: Some(fold),
            folds: Some(3),
            status: if ok { status::OK } else { status::FAILED }.into(),
            test_micro_recall: ok.then_some(micro),
            test_macro_recall: ok.then_some(micro - 0.1),
            axes,
            ..RunSummary::default()
        };
        RunResults::of_summary(summary)
    }

    #[test]
    fn folds_and_seeds_pool_per_configuration() {
        let mut runs = Vec::new();
        for (fold, micro) in [0.6, 0.7, 0.8].into_iter().enumerate() {
            runs.push(run("cnn", "0.01", 0, fold as i64, micro, true));
            runs.push(run("cnn", "0.01", 1, fold as i64, micro + 0.1, true));
            // The last fold of the other learning rate failed: 2 folds finished.
            runs.push(run("cnn", "0.1", 0, fold as i64, 0.5, fold < 2));
        }
        // A run on one split by fractions is no cross-validation run.
        let mut plain = run("cnn", "0.01", 0, 0, 0.99, true);
        plain.summary.fold = None;
        plain.summary.folds = None;
        runs.push(plain);
        let results = GridResults {
            name: "cv".into(),
            runs,
            missing: Vec::new(),
            stale: Vec::new(),
        };
        let rows = cross_validation_rows(&results);
        assert_eq!(rows.len(), 2);
        let a = &rows[0];
        assert_eq!(
            a.axes,
            [
                AxisValue::new("model.name", "cnn"),
                AxisValue::new("train.lr", "0.01")
            ]
        );
        assert_eq!((a.folds, a.folds_finished, a.seeds, a.runs), (3, 3, 2, 6));
        // 0.6, 0.7, 0.8 and 0.7, 0.8, 0.9: mean 0.75, sample sd sqrt(0.055 / 5) = 0.104881.
        assert!((a.test_micro_recall_mean - 0.75).abs() < 1e-12);
        let sd = a.test_micro_recall_sd.unwrap_or(f64::NAN);
        assert!((sd - 0.104_880_884_8).abs() < 1e-9, "{sd}");
        assert!((a.test_macro_recall_mean - 0.65).abs() < 1e-12);
        let b = &rows[1];
        assert_eq!((b.folds, b.folds_finished, b.seeds, b.runs), (3, 2, 1, 2));
        assert_eq!(b.test_micro_recall_sd, Some(0.0));
        assert_eq!(b.head, "linear");
    }

    #[test]
    fn a_single_fold_has_no_spread_and_grids_without_folds_have_no_rows() {
        let results = GridResults {
            name: "cv".into(),
            runs: vec![run("cnn", "0.01", 0, 1, 0.7, true)],
            missing: Vec::new(),
            stale: Vec::new(),
        };
        let rows = cross_validation_rows(&results);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].test_micro_recall_sd, None);
        assert_eq!(rows[0].folds_finished, 1);
        let mut plain = results.clone();
        plain.runs[0].summary.fold = None;
        assert!(cross_validation_rows(&plain).is_empty());
    }

    #[test]
    fn multi_label_runs_pool_their_mean_auroc_and_lead_the_table_with_it() {
        let mut runs = Vec::new();
        for (fold, auroc) in [0.6, 0.7, 0.8].into_iter().enumerate() {
            let mut r = run("cnn", "0.01", 0, fold as i64, 0.5, true);
            r.summary.test_mean_auroc = Some(auroc);
            runs.push(r);
        }
        let results = GridResults {
            name: "cv".into(),
            runs,
            missing: Vec::new(),
            stale: Vec::new(),
        };
        let rows = cross_validation_rows(&results);
        let mean = rows[0].test_mean_auroc_mean.unwrap_or(f64::NAN);
        assert!((mean - 0.7).abs() < 1e-12);
        assert!((rows[0].test_mean_auroc_sd.unwrap_or(f64::NAN) - 0.1).abs() < 1e-12);
        let mut md = String::new();
        render_section(&mut md, &rows);
        assert!(
            md.contains("| seeds | test mean AUROC | sd | test micro-recall |"),
            "{md}"
        );
        assert!(md.contains("| 3/3 | 1 | 0.700 | 0.100 | 0.500 |"), "{md}");
        // Without multi-label runs the table has no AUROC columns.
        let mut plain = results.clone();
        for r in &mut plain.runs {
            r.summary.test_mean_auroc = None;
        }
        let mut md = String::new();
        render_section(&mut md, &cross_validation_rows(&plain));
        assert!(!md.contains("AUROC"));
    }
}
