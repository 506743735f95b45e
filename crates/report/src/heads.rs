//! Classic heads against each other, per backbone: the rows of the `head` axis's table in
//! `report.md` ([`crate::classic_heads`] states which head wins).
//!
//! A backbone is a figure line ([`RunResults::line`]: the model with its weights source) at
//! the freeze depth its classic heads need (the whole backbone). Its rows are every classic
//! head fitted on it and, when the grid has them, linear-head runs of the same backbone and
//! depth (the network's own `fc` trained by Adam on the frozen features: the linear probe),
//! each averaged over seeds; runs of a head that differ on another grid axis (a facet, such
//! as a longer training budget) are rows of their own, named with it. Classic heads have no epochs, so they stay out of the grid's
//! per-epoch figures; their fit time is here instead.

use std::collections::BTreeMap;

use crate::estimate::Estimate;
use crate::grid_results::{GridResults, RunResults};
use crate::order::first_seen;
use crate::stats::seed_means;

/// One head on one backbone, over its ok seeds (a cross-validation grid's folds of a seed
/// averaged first).
#[derive(Debug, Clone)]
pub struct HeadRow {
    /// The backbone (model with its weights source).
    pub backbone: String,
    /// Frozen stages of the backbone.
    pub freeze: i64,
    /// `linear`, `logistic`, ...
    pub head: String,
    /// Seeds averaged.
    pub seeds: usize,
    /// Test micro-recall: mean over seeds with its t-interval, or one seed's bootstrap interval.
    pub micro: Estimate,
    /// Test macro-recall, likewise.
    pub macro_: Estimate,
    /// Test mean AUROC over findings, likewise, for runs with several findings per film
    /// (one-vs-rest heads); their rows rank by it.
    pub mean_auroc: Option<Estimate>,
    /// The chosen hyperparameters, per seed where they differ (`c=0.1; c=1`).
    pub chosen: String,
    /// Mean fit time of a classic head (all candidates), or the linear head's mean training
    /// time (epochs times time per epoch), seconds.
    pub fit_time_s: f64,
    /// The runs averaged (what a paired comparison of two rows pairs, seed by seed).
    pub run_ids: Vec<String>,
}

/// Rows of every backbone that has a classic head, best head first within a backbone.
pub fn head_rows(results: &GridResults) -> Vec<HeadRow> {
    let ok: Vec<&RunResults> = results.runs.iter().filter(|r| r.ok_classifier()).collect();
    let backbones: Vec<(String, i64)> = first_seen(
        ok.iter()
            .filter(|r| r.summary.is_classic_head())
            .map(|r| (r.line.clone(), r.summary.freeze)),
    );
    let mut rows = Vec::new();
    for (backbone, freeze) in backbones {
        let mut groups: BTreeMap<String, Vec<&RunResults>> = BTreeMap::new();
        for r in ok
            .iter()
            .filter(|r| r.line == backbone && r.summary.freeze == freeze)
        {
            // Runs of one head that differ on another axis (e.g. a linear head trained for
            // longer) stay apart, named by that axis.
            let head = match r.facet.as_str() {
                "" => r.summary.head_name().to_string(),
                facet => format!("{} ({facet})", r.summary.head_name()),
            };
            groups.entry(head).or_default().push(r);
        }
        let mut backbone_rows: Vec<HeadRow> = groups
            .into_iter()
            .map(|(head, runs)| row(&backbone, freeze, head, &runs))
            .collect();
        backbone_rows.sort_by(|a, b| b.headline().total_cmp(&a.headline()));
        rows.extend(backbone_rows);
    }
    rows
}

fn row(backbone: &str, freeze: i64, head: String, runs: &[&RunResults]) -> HeadRow {
    let estimate = |value: fn(&RunResults) -> Option<f64>,
                    bounds: fn(&RunResults) -> Option<(f64, f64)>| {
        // A cross-validation grid's folds of one seed count once, by their mean.
        let values = seed_means(runs, &|r| value(r));
        match runs {
            [one] => Estimate {
                mean: values.first().copied().unwrap_or(f64::NAN),
                interval: bounds(one),
            },
            _ => Estimate::of(&values),
        }
    };
    let micro = estimate(
        |r| r.summary.test_micro_recall,
        |r| {
            r.summary
                .test_micro_recall_low
                .zip(r.summary.test_micro_recall_high)
        },
    );
    let macro_ = estimate(
        |r| r.summary.test_macro_recall,
        |r| {
            r.summary
                .test_macro_recall_low
                .zip(r.summary.test_macro_recall_high)
        },
    );
    let multilabel = runs.iter().any(|r| r.is_multilabel());
    let mean_auroc = multilabel.then(|| {
        estimate(
            |r| r.summary.test_mean_auroc,
            |r| {
                r.summary
                    .test_mean_auroc_low
                    .zip(r.summary.test_mean_auroc_high)
            },
        )
    });
    let mut chosen: Vec<String> = Vec::new();
    for r in runs {
        if let Some(p) = &r.summary.head_params {
            if !chosen.contains(p) {
                chosen.push(p.clone());
            }
        }
    }
    if multilabel {
        chosen = vec![most_chosen(runs)];
    }
    let times: Vec<f64> = runs
        .iter()
        .filter_map(|r| {
            let s = &r.summary;
            s.fit_time_s
                .or_else(|| s.epoch_time_s.zip(s.epochs_run).map(|(t, e)| t * e as f64))
        })
        .collect();
    HeadRow {
        backbone: backbone.to_string(),
        freeze,
        head,
        seeds: first_seen(runs.iter().map(|r| r.summary.seed)).len(),
        micro,
        macro_,
        mean_auroc,
        chosen: if chosen.is_empty() {
            "-".into()
        } else {
            chosen.join("; ")
        },
        fit_time_s: times.iter().sum::<f64>() / times.len().max(1) as f64,
        run_ids: runs.iter().map(|r| r.summary.run_id.clone()).collect(),
    }
}

impl HeadRow {
    /// What the rows rank by: test mean AUROC for several findings per film, else test
    /// micro-recall.
    pub fn headline(&self) -> f64 {
        self.mean_auroc.as_ref().map_or(self.micro.mean, |a| a.mean)
    }
}

/// One-vs-rest heads choose values per finding (`head_params` = `Effusion: c=0.1; Mass: c=1;
/// ...`): the value chosen most often over the runs' findings and how often, e.g.
/// `c=0.01 for 41 of 70 findings`.
fn most_chosen(runs: &[&RunResults]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    for r in runs {
        for part in r
            .summary
            .head_params
            .as_deref()
            .unwrap_or_default()
            .split("; ")
        {
            if let Some((_, value)) = part.split_once(": ") {
                *counts.entry(value).or_default() += 1;
                total += 1;
            }
        }
    }
    // The most chosen value; ties go to the first in sorted order.
    let mut best: Option<(&str, usize)> = None;
    for (&value, &n) in &counts {
        if best.is_none_or(|(_, b)| n > b) {
            best = Some((value, n));
        }
    }
    match best {
        Some((value, n)) => format!("per finding; most often {value} ({n} of {total})"),
        None => "-".to_string(),
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Classic-head runs with known numbers, for the heads and classic-heads tests.

    use cxr_results::{status, AxisValue, RunSummary, LINEAR_HEAD};

    use crate::grid_results::{GridResults, RunResults};

    /// A resnet18 run at freeze 4 from `weights` with `head`, its recall `micro` and bootstrap
    /// interval `micro +/- half`.
    pub(crate) fn run(weights: &str, head: &str, seed: i64, micro: f64, half: f64) -> RunResults {
        let axes = vec![
            AxisValue::new("seed", seed.to_string()),
            AxisValue::new("model.weights", weights),
            AxisValue::new("model.head", head),
        ];
        let classic = head != LINEAR_HEAD;
        let summary = RunSummary {
            run_id: format!("resnet18-f4-{head}-s{seed}-{weights}"),
            model: "resnet18".into(),
            freeze: 4,
            seed,
            head: Some(head.into()),
            head_params: classic.then(|| format!("c={seed}")),
            status: status::OK.into(),
            test_micro_recall: Some(micro),
            test_macro_recall: Some(micro - 0.01),
            test_micro_recall_low: Some(micro - half),
            test_micro_recall_high: Some(micro + half),
            epochs_run: (!classic).then_some(10),
            epochs_to_converge: (!classic).then_some(6),
            epoch_time_s: (!classic).then_some(0.5),
            fit_time_s: classic.then_some(2.0),
            axes,
            ..RunSummary::default()
        };
        RunResults::of_summary(summary)
    }

    pub(crate) fn results(runs: Vec<RunResults>) -> GridResults {
        GridResults {
            name: "heads".into(),
            runs,
            missing: Vec::new(),
            stale: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{results, run};
    use super::*;
    use crate::stats::config_stats;

    #[test]
    fn rows_rank_heads_per_backbone() {
        let results = results(vec![
            run("tb", "linear", 0, 0.70, 0.05),
            run("tb", "logistic", 0, 0.80, 0.05),
            run("tb", "svm_rbf", 0, 0.90, 0.02),
            run("random", "knn", 0, 0.60, 0.05),
        ]);
        let rows = head_rows(&results);
        let order: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.backbone.as_str(), r.head.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("resnet18 (tb)", "svm_rbf"),
                ("resnet18 (tb)", "logistic"),
                ("resnet18 (tb)", "linear"),
                ("resnet18 (random init)", "knn"),
            ]
        );
        // One seed: the bootstrap interval; the linear head's time is its epochs' time.
        assert_eq!(rows[0].micro.interval, Some((0.88, 0.92)));
        assert_eq!(rows[2].fit_time_s, 5.0);
        assert_eq!(rows[0].chosen, "c=0");
    }

    #[test]
    fn seeds_average_with_a_t_interval_and_classic_heads_stay_out_of_the_epoch_figures() {
        let results = results(vec![
            run("tb", "logistic", 0, 0.80, 0.05),
            run("tb", "logistic", 1, 0.84, 0.05),
            run("tb", "linear", 0, 0.70, 0.05),
        ]);
        let rows = head_rows(&results);
        assert_eq!(rows[0].seeds, 2);
        assert!((rows[0].micro.mean - 0.82).abs() < 1e-12);
        let (low, high) = rows[0].micro.interval.unwrap_or_default();
        assert!(
            low < 0.80 && high > 0.84,
            "a t-interval over two seeds is wide"
        );
        assert_eq!(rows[0].chosen, "c=0; c=1");

        // Three folds of one seed are one seed: their mean, without an interval over seeds.
        let folds: Vec<RunResults> = [0.80, 0.86, 0.89]
            .iter()
            .enumerate()
            .map(|(fold, micro)| {
                let mut r = run("tb", "logistic", 0, *micro, 0.05);
                r.summary.fold = Some(fold as i64);
                r.summary.folds = Some(3);
                r
            })
            .collect();
        let rows = head_rows(&GridResults {
            runs: folds,
            ..results
        });
        assert_eq!(rows[0].seeds, 1);
        assert!((rows[0].micro.mean - 0.85).abs() < 1e-12);
        assert_eq!(rows[0].micro.interval, None);
        // The per-epoch figures and the freeze comparison read the linear run only.
        let stats = config_stats(&results.runs);
        assert_eq!(stats.len(), 1);
        assert_eq!(stats[0].seeds, 1);
        assert!((stats[0].micro - 0.70).abs() < 1e-12);
    }

    /// One-vs-rest heads on several findings rank by test mean AUROC, not recall, and sum up
    /// their per-finding choices.
    #[test]
    fn one_vs_rest_rows_rank_by_mean_auroc_and_summarise_their_choices() {
        let multi = |head: &str, micro: f64, auroc: f64, params: &str| {
            let mut r = run("tb", head, 0, micro, 0.05);
            r.summary.task = Some(cxr_results::task::MULTILABEL.into());
            r.summary.test_mean_auroc = Some(auroc);
            r.summary.head_params = Some(params.into());
            r
        };
        let rows = head_rows(&results(vec![
            multi(
                "logistic",
                0.40,
                0.70,
                "Effusion: c=0.1; Mass: c=0.1; Nodule: c=1",
            ),
            multi("knn", 0.60, 0.55, "Effusion: k=1; Mass: k=21; Nodule: k=21"),
        ]));
        assert_eq!(rows[0].head, "logistic");
        assert_eq!(rows[0].mean_auroc.as_ref().map(|a| a.mean), Some(0.70));
        assert_eq!(rows[0].chosen, "per finding; most often c=0.1 (2 of 3)");
        assert_eq!(rows[1].chosen, "per finding; most often k=21 (2 of 3)");
    }
}
