//! What pretraining buys, per freeze depth: each weights source against random init of the same
//! model, paired by seed (same split, sampling order and head init), for grids with a
//! `weights` axis. Intervals are 95% Student-t intervals over seeds: of each configuration's
//! mean recall, and of the mean paired difference, which is what says whether a source beats
//! random init beyond the seed spread. In a cross-validation grid a seed's folds are not
//! independent of each other: each seed counts once, with its folds' mean (and its folds'
//! paired differences, fold by fold, averaged).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::estimate::Estimate;
use crate::grid_results::{GridResults, RunResults, RANDOM_INIT};
pub use crate::headline::Headline;
use crate::numbers::seconds;
use crate::order::first_seen;
use crate::paired::{compare, format_p, PairedComparison, Side};
use crate::stats::{mean, seed_means, REFERENCE_MODEL};
use crate::verdict::Verdict;

/// The transfer table's wording of a gain's verdict.
pub fn describe(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Improved => "better than random init",
        Verdict::Regressed => "worse than random init",
        Verdict::Ok => "no difference beyond the seed spread",
        Verdict::TooFewSeeds => "fewer than 2 paired seeds",
        // A gain is never missing, failed or new (the check's verdicts).
        Verdict::Missing | Verdict::Failed | Verdict::New | Verdict::NewAllowed => "-",
    }
}

/// One line of the transfer table: a model's runs with one weights source at one freeze depth.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferRow {
    /// The figure line: `resnet18` (random init) or `resnet18 (<source>)`.
    pub line: String,
    /// Frozen stages.
    pub freeze: i64,
    /// Seeds (ok runs).
    pub seeds: usize,
    /// What `micro`, `macro_` and `gain` measure.
    pub headline: Headline,
    /// The headline over seeds: test micro-recall, or a multi-label run's test mean AUROC.
    pub micro: Estimate,
    /// The second number over seeds: test macro-recall, or a multi-label run's test
    /// micro-recall at its validation thresholds.
    pub macro_: Estimate,
    /// The headline minus random init's, paired by seed; `None` for random init itself.
    pub gain: Option<Estimate>,
    /// Seeds where this source's headline is above random init's, out of the paired ones.
    pub wins: Option<(usize, usize)>,
    /// What the paired difference shows; `None` for random init itself. With fewer than two
    /// paired seeds, what the paired test on the test films shows (when there is one).
    pub verdict: Option<Verdict>,
    /// This source against random init on the same test films (runs paired by seed and fold,
    /// pooled): McNemar's test and the paired bootstrap of the recall difference; `None` for
    /// random init itself, multi-label runs, and runs without predictions.
    pub paired: Option<PairedComparison>,
    /// Mean epochs to converge.
    pub epochs_to_converge: f64,
    /// Mean training seconds per epoch.
    pub epoch_time_s: f64,
}

/// The transfer table of one facet: the reference model (the CNN) first, then for each other
/// model, freeze depth and weights source (random init first), ordered by freeze depth. Empty when the grid does not vary
/// `weights` (every run of a model is then on one line).
pub fn transfer_rows(results: &GridResults, facet: &str) -> Vec<TransferRow> {
    let candidates: Vec<&RunResults> = results
        .runs
        .iter()
        .filter(|r| r.ok_trained() && r.facet == facet)
        .collect();
    let headline = Headline::of(&candidates);
    let runs: Vec<&RunResults> = candidates
        .into_iter()
        .filter(|r| headline.value(r).is_some())
        .collect();
    let varies_weights = runs
        .iter()
        .any(|r| r.summary.axes.iter().any(|a| a.setting == "model.weights"));
    if !varies_weights {
        return Vec::new();
    }
    let mut rows = Vec::new();
    // The reference model first (the CNN: one start, no stages to freeze).
    let reference = by_seed(
        runs.iter()
            .copied()
            .filter(|r| r.summary.model == REFERENCE_MODEL && r.line == REFERENCE_MODEL),
    );
    if !reference.is_empty() {
        let line = format!("{REFERENCE_MODEL} (reference)");
        rows.push(row(headline, facet, &line, 0, &reference, None));
    }
    for model in first_seen(runs.iter().map(|r| r.summary.model.as_str())) {
        let of_model: Vec<&RunResults> = runs
            .iter()
            .copied()
            .filter(|r| r.summary.model == model)
            .collect();
        let lines = first_seen(of_model.iter().map(|r| r.line.as_str()));
        if lines.len() < 2 {
            continue; // one start only (e.g. the CNN reference): nothing to compare
        }
        let mut freezes = first_seen(of_model.iter().map(|r| r.summary.freeze));
        freezes.sort_unstable();
        for freeze in freezes {
            let of_line = |line: &str| {
                by_seed(
                    of_model
                        .iter()
                        .copied()
                        .filter(|r| r.line == line && r.summary.freeze == freeze),
                )
            };
            let random_line = format!("{model} ({RANDOM_INIT})");
            let is_random = |line: &str| line == model || line == random_line;
            let random = lines
                .iter()
                .find(|l| is_random(l))
                .map(|l| of_line(l))
                .unwrap_or_default();
            let mut ordered = lines.clone();
            ordered.sort_by_key(|l| !is_random(l)); // random init first
            for line in ordered {
                let these = of_line(line);
                if these.is_empty() {
                    continue;
                }
                rows.push(row(
                    headline,
                    facet,
                    line,
                    freeze,
                    &these,
                    (!is_random(line)).then_some((&random, random_line.as_str())),
                ));
            }
        }
    }
    rows
}

/// Runs by seed: one run each, or a cross-validation grid's folds of that seed.
type BySeed<'a> = BTreeMap<i64, Vec<&'a RunResults>>;

fn by_seed<'a>(runs: impl Iterator<Item = &'a RunResults>) -> BySeed<'a> {
    let mut out = BySeed::new();
    for r in runs {
        out.entry(r.summary.seed).or_default().push(r);
    }
    out
}

/// One seed's headline minus random init's, fold by fold (each run against random init's run
/// of the same test fold), averaged; `None` when no fold pairs.
fn paired_gain(headline: Headline, runs: &[&RunResults], random: &[&RunResults]) -> Option<f64> {
    let diffs: Vec<f64> = runs
        .iter()
        .filter_map(|r| {
            let base = random.iter().find(|b| b.summary.fold == r.summary.fold)?;
            Some(headline.value(r)? - headline.value(base)?)
        })
        .collect();
    (!diffs.is_empty()).then(|| mean(&diffs))
}

fn row(
    headline: Headline,
    facet: &str,
    line: &str,
    freeze: i64,
    runs: &BySeed<'_>,
    random: Option<(&BySeed<'_>, &str)>,
) -> TransferRow {
    let all: Vec<&RunResults> = runs.values().flatten().copied().collect();
    let values = |f: &dyn Fn(&RunResults) -> Option<f64>| seed_means(&all, f);
    // The paired test on the test films: what a one-seed study can say.
    let paired = match (random, headline) {
        (Some((random, random_line)), Headline::MicroRecall) => compare(
            SOURCE_VS_RANDOM,
            facet,
            Side {
                model: line.to_string(),
                freeze,
                head: cxr_results::LINEAR_HEAD.to_string(),
                runs: all.clone(),
            },
            Side {
                model: random_line.to_string(),
                freeze,
                head: cxr_results::LINEAR_HEAD.to_string(),
                runs: random.values().flatten().copied().collect(),
            },
        ),
        _ => None,
    };
    let random = random.map(|(r, _)| r);
    let (gain, wins, verdict) = match random {
        None => (None, None, None),
        Some(random) => {
            let diffs: Vec<f64> = runs
                .iter()
                .filter_map(|(seed, r)| paired_gain(headline, r, random.get(seed)?))
                .collect();
            let gain = Estimate::of(&diffs);
            let wins = diffs.iter().filter(|d| **d > 0.0).count();
            let verdict = match (Verdict::of_interval(gain.interval), &paired) {
                (Verdict::TooFewSeeds, Some(test)) => paired_verdict(test),
                (verdict, _) => verdict,
            };
            (Some(gain), Some((wins, diffs.len())), Some(verdict))
        }
    };
    TransferRow {
        line: line.to_string(),
        freeze,
        seeds: runs.len(),
        headline,
        micro: Estimate::of(&values(&|r| headline.value(r))),
        macro_: Estimate::of(&values(&|r| headline.second(r))),
        gain,
        wins,
        verdict,
        paired,
        epochs_to_converge: mean(&values(&|r| r.summary.epochs_to_converge.map(|e| e as f64))),
        epoch_time_s: mean(&values(&|r| r.summary.epoch_time_s)),
    }
}

/// `kind` of a weights source against random init in `comparisons.parquet`.
pub const SOURCE_VS_RANDOM: &str = "source_vs_random";

/// The verdict of a paired test on the test films: better or worse when McNemar's test and the
/// paired bootstrap both say so (the report's rule), else no difference.
fn paired_verdict(test: &PairedComparison) -> Verdict {
    match (test.significant(), test.micro_diff > 0.0) {
        (true, true) => Verdict::Improved,
        (true, false) => Verdict::Regressed,
        (false, _) => Verdict::Ok,
    }
}

/// The row's verdict in words: from the seeds, or, with fewer than two paired seeds, from the
/// paired test on the test films.
fn verdict_text(row: &TransferRow) -> String {
    let Some(verdict) = row.verdict else {
        return "-".to_string();
    };
    let from_test = row.paired.is_some() && row.wins.is_some_and(|(_, n)| n < 2);
    match (from_test, verdict) {
        (true, Verdict::Ok) => "no difference on the test films (paired test)".to_string(),
        (true, v) => format!("{} (paired test)", describe(v)),
        (false, v) => describe(v).to_string(),
    }
}

/// `+3.3 (-1.1 to +7.8), p = 0.210`: the pooled paired recall difference in points with its
/// 95% paired bootstrap interval, and McNemar's p.
fn paired_text(test: &PairedComparison) -> String {
    let p = format_p(test.p_value);
    let p = if p.starts_with('<') {
        format!("p {p}")
    } else {
        format!("p = {p}")
    };
    format!(
        "{:+.1} ({:+.1} to {:+.1}), {p}",
        test.micro_diff * 100.0,
        test.micro_low * 100.0,
        test.micro_high * 100.0,
    )
}

/// Each weights source against random init per freeze depth (grids with a `weights` axis),
/// with the CNN reference when the facet has it.
pub fn render_table(md: &mut String, rows: &[TransferRow]) {
    if rows.is_empty() {
        return;
    }
    let (numbers, what, first, second) = match rows[0].headline {
        Headline::MicroRecall => (
            "Test recall as mean over seeds with its",
            "micro-recall",
            "test micro-recall",
            "test macro-recall",
        ),
        Headline::MeanAuroc => (
            "Test numbers as mean over seeds with their",
            "test mean AUROC over findings",
            "test mean AUROC",
            "test micro-recall (validation thresholds)",
        ),
    };
    let _ = writeln!(
        md,
        "### Pretraining against random init\n\n\
         {numbers} 95% t-interval; the gain is {what} minus \
         random init's of the same seed (same split, sampling order and head init), with the \
         95% t-interval of its mean: a source beats random init beyond the seed spread only \
         when that interval lies above 0.\n"
    );
    let tested = rows.iter().any(|r| r.paired.is_some());
    if tested {
        let _ = writeln!(
            md,
            "The paired test compares each source with random init on the same test films, \
             runs paired by seed and fold and pooled: the micro-recall difference in points with \
             its 95% paired bootstrap interval, and McNemar's exact p. With fewer than two paired \
             seeds the verdict is the paired test's: better or worse when both say so at the 5% \
             level (`comparisons.parquet`, kind `{SOURCE_VS_RANDOM}`).\n"
        );
    }
    let _ = writeln!(
        md,
        "| model (weights) | freeze | seeds | {first} | {second} | gain vs random init | wins |{} verdict | epochs to converge | s/epoch |",
        if tested { " paired test on the test films |" } else { "" }
    );
    let _ = writeln!(
        md,
        "|---|---|---|---|---|---|---|{}---|---|---|",
        if tested { "---|" } else { "" }
    );
    for r in rows {
        let test = match (&r.paired, tested) {
            (Some(t), true) => format!(" {} |", paired_text(t)),
            (None, true) => " - |".to_string(),
            (_, false) => String::new(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |{test} {} | {:.1} | {} |",
            r.line,
            r.freeze,
            r.seeds,
            r.micro.text(false),
            r.macro_.text(false),
            r.gain.as_ref().map_or("-".into(), |g| g.text(true)),
            r.wins.map_or("-".into(), |(w, n)| format!("{w}/{n}")),
            verdict_text(r),
            r.epochs_to_converge,
            seconds(r.epoch_time_s)
        );
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use cxr_results::{status, AxisValue, RunSummary};

    fn run(model: &str, freeze: i64, seed: i64, weights: Option<&str>, micro: f64) -> RunResults {
        let mut axes = vec![
            AxisValue::new("seed", seed.to_string()),
            AxisValue::new("model.name", model),
        ];
        if let Some(w) = weights {
            axes.push(AxisValue::new("model.freeze", freeze.to_string()));
            axes.push(AxisValue::new("model.weights", w));
        }
        let summary = RunSummary {
            run_id: format!("{model}-f{freeze}-s{seed}-{}", weights.unwrap_or("x")),
            model: model.into(),
            freeze,
            seed,
            status: status::OK.into(),
            test_micro_recall: Some(micro),
            test_macro_recall: Some(micro),
            epochs_to_converge: Some(3),
            epoch_time_s: Some(1.0),
            axes,
            ..RunSummary::default()
        };
        RunResults::of_summary(summary)
    }

    #[test]
    fn sources_are_paired_with_random_init_by_seed() {
        let mut runs = Vec::new();
        for seed in 0..3 {
            let s = seed as f64 * 0.01;
            runs.push(run("cnn", 0, seed, None, 0.6 + s));
            // freeze 4: the source clearly better on every seed; freeze 0: mixed.
            runs.push(run("resnet18", 4, seed, Some("random"), 0.50 + s));
            runs.push(run(
                "resnet18",
                4,
                seed,
                Some("tb"),
                0.70 + s + 0.001 * seed as f64,
            ));
            runs.push(run("resnet18", 0, seed, Some("random"), 0.80));
            runs.push(run(
                "resnet18",
                0,
                seed,
                Some("tb"),
                [0.75, 0.85, 0.80][seed as usize],
            ));
        }
        let results = GridResults {
            name: "t".into(),
            runs,
            missing: Vec::new(),
            stale: Vec::new(),
        };
        let rows = transfer_rows(&results, "");
        let lines: Vec<(String, i64)> = rows.iter().map(|r| (r.line.clone(), r.freeze)).collect();
        assert_eq!(
            lines,
            [
                ("cnn (reference)".to_string(), 0),
                ("resnet18 (random init)".into(), 0),
                ("resnet18 (tb)".into(), 0),
                ("resnet18 (random init)".into(), 4),
                ("resnet18 (tb)".into(), 4),
            ]
        );
        assert_eq!(rows[0].seeds, 3);
        assert!((rows[0].micro.mean - 0.61).abs() < 1e-9);
        assert_eq!(rows[1].verdict, None);
        assert_eq!(rows[2].verdict, Some(Verdict::Ok));
        assert_eq!(rows[2].wins, Some((1, 3)));
        assert_eq!(rows[4].verdict, Some(Verdict::Improved));
        let gain = rows[4].gain.map(|g| g.mean).unwrap_or_default();
        assert!((gain - 0.201).abs() < 1e-9, "{gain}");
    }

    #[test]
    fn folds_pair_fold_by_fold_and_each_seed_counts_once() {
        // 2 seeds x 3 folds: tb beats random init by 0.1 on every fold of seed 0 and by 0.3 on
        // every fold of seed 1; random init's fold 2 of seed 1 is missing (not paired).
        let mut runs = Vec::new();
        for seed in 0..2 {
            for fold in 0..3 {
                let base = 0.5 + 0.05 * fold as f64;
                let gain = [0.1, 0.3][seed as usize];
                for (weights, micro) in [("random", base), ("tb", base + gain)] {
                    if weights == "random" && seed == 1 && fold == 2 {
                        continue;
                    }
                    let mut r = run("resnet18", 4, seed, Some(weights), micro);
                    r.summary.fold = Some(fold);
                    r.summary.folds = Some(3);
                    r.summary.run_id.push_str(&format!("-fold{fold}"));
                    runs.push(r);
                }
            }
        }
        let results = GridResults {
            name: "t".into(),
            runs,
            missing: Vec::new(),
            stale: Vec::new(),
        };
        let rows = transfer_rows(&results, "");
        assert_eq!(rows.len(), 2);
        let tb = &rows[1];
        assert_eq!(tb.seeds, 2, "folds are not seeds");
        // Seed means: 0.65 and 0.85; the gain is 0.1 and 0.3, one difference per seed.
        assert!((tb.micro.mean - 0.75).abs() < 1e-9, "{:?}", tb.micro);
        let gain = tb.gain.map(|g| g.mean).unwrap_or_default();
        assert!((gain - 0.2).abs() < 1e-9, "{gain}");
        assert_eq!(tb.wins, Some((2, 2)));
        // Random init's seed 1 averages its two finished folds: (0.5 + 0.55) / 2.
        assert!((rows[0].micro.mean - (0.55 + 0.525) / 2.0).abs() < 1e-9);
    }

    #[test]
    fn multi_label_runs_are_compared_on_mean_auroc() {
        let mut runs = Vec::new();
        for seed in 0..2 {
            for (weights, auroc) in [("random", 0.60), ("tb", 0.65)] {
                // Recall would say the opposite: the table must not read it.
                let recall = if weights == "random" { 0.9 } else { 0.1 };
                let mut r = run("resnet18", 2, seed, Some(weights), recall);
                r.summary.task = Some(cxr_results::task::MULTILABEL.into());
                r.summary.test_mean_auroc = Some(auroc + 0.01 * seed as f64);
                runs.push(r);
            }
        }
        let results = GridResults {
            name: "t".into(),
            runs,
            missing: Vec::new(),
            stale: Vec::new(),
        };
        let rows = transfer_rows(&results, "");
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.headline == Headline::MeanAuroc));
        assert!((rows[0].micro.mean - 0.605).abs() < 1e-12);
        let gain = rows[1].gain.as_ref().expect("paired with random init");
        assert!((gain.mean - 0.05).abs() < 1e-12);
        assert_eq!(rows[1].wins, Some((2, 2)));
        let mut md = String::new();
        render_table(&mut md, &rows);
        assert!(md.contains("| test mean AUROC | test micro-recall (validation thresholds) |"));
        assert!(md.contains("the gain is test mean AUROC over findings minus"));
    }

    /// One seed gives no interval over seeds; the paired test on the test films still gives a
    /// verdict (item 5 of issue 30).
    #[test]
    fn one_seed_gets_the_paired_tests_verdict() {
        let with_predictions = |mut r: RunResults, right: usize| {
            r.predictions = Some(
                (0..40)
                    .map(|i| cxr_results::PredictionRow {
                        path: format!("f{i}.png"),
                        true_class: "A".into(),
                        predicted_class: if i < right { "A" } else { "B" }.into(),
                        probabilities: None,
                    })
                    .collect(),
            );
            r
        };
        let results = GridResults {
            name: "g".into(),
            runs: vec![
                with_predictions(run("resnet18", 4, 0, Some("random"), 0.25), 10),
                with_predictions(run("resnet18", 4, 0, Some("tb"), 0.95), 38),
            ],
            missing: Vec::new(),
            stale: Vec::new(),
        };
        let rows = transfer_rows(&results, "");
        let source = rows
            .iter()
            .find(|r| r.line.contains("tb"))
            .expect("the source's row");
        let test = source.paired.as_ref().expect("a paired test");
        assert_eq!((test.images, test.a_only, test.b_only), (40, 28, 0));
        assert_eq!(source.verdict, Some(Verdict::Improved));
        assert_eq!(
            verdict_text(source),
            "better than random init (paired test)"
        );
        let mut md = String::new();
        render_table(&mut md, &rows);
        assert!(md.contains("| +70.0 ("), "{md}");
        assert!(
            md.contains("p < 0.001 | better than random init (paired test) |"),
            "{md}"
        );
    }
}
