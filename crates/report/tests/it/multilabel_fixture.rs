//! A multi-label grid folder written by hand through `cxr-results`: 24 test films of 12
//! patients (two films each), three findings, and for each run probabilities built so that each
//! finding's AUROC is known in closed form.
//!
//! Labels (film `i` in `0..24`, patient `P{i / 2}`): Effusion is positive when `i % 3 == 0` (8
//! positives, 16 negatives), Hernia when `i % 4 == 1` (6 and 18), Nodule when `i % 6 == 2` (4
//! positives; film 7 is `missing` and film 11 `uncertain`, left out under the default policy:
//! 18 negatives). A run's probabilities put every positive (0.60 to 0.67) above every negative
//! (0.05 to 0.22) except its first `swaps[k]` negatives of finding `k`, which score 0.90 and
//! up: finding `k`'s AUROC on all 24 films is `1 - swaps[k] / negatives`.

use std::path::{Path, PathBuf};

use cxr_results::{
    merge_summaries, status, task, AxisValue, FindingPredictionRow, GridDir, HistoryRow,
    PerFindingRow, PlanRow, RunSummary,
};

use crate::fixture::{write_grid, Run};

/// The findings, in output order.
pub const FINDINGS: [&str; 3] = ["Effusion", "Hernia", "Nodule"];
/// Test films.
pub const FILMS: usize = 24;

/// One multi-label run of the fixture.
#[derive(Debug, Clone)]
pub struct MlRun {
    pub model: &'static str,
    pub freeze: i64,
    pub seed: i64,
    /// Grid axes beyond model, freeze and seed (`split.group=patient`, ...), `, `-joined.
    pub extra_axes: String,
    /// `(fold, folds)` of a cross-validation run.
    pub fold: Option<(i64, i64)>,
    /// A cross-validation run split by film (else by patient).
    pub by_film: bool,
    /// Negatives of each finding scored above every positive.
    pub swaps: [usize; 3],
    pub val_mean_auroc: f64,
}

impl MlRun {
    pub fn id(&self) -> String {
        let extra = self.extra_axes.replace(['=', '.', ' ', ','], "");
        format!("{}-f{}-s{}-{extra}ml", self.model, self.freeze, self.seed)
    }

    pub fn axes(&self) -> Vec<AxisValue> {
        let mut label = format!(
            "model.name={}, model.freeze={}, seed={}",
            self.model, self.freeze, self.seed
        );
        if !self.extra_axes.is_empty() {
            label.push_str(", ");
            label.push_str(&self.extra_axes);
        }
        cxr_results::axes::parse_label(&label)
    }

    /// The films its test split holds, in the order it answered them.
    pub fn test_films(&self) -> Vec<usize> {
        (0..FILMS)
            .filter(|&i| match self.fold {
                None => true,
                Some((fold, folds)) if self.by_film => i as i64 % folds == fold,
                Some((fold, folds)) => (i / 2) as i64 % folds == fold,
            })
            .collect()
    }
}

/// A run on one split of all 24 films.
pub fn ml(model: &'static str, freeze: i64, swaps: [usize; 3], val: f64) -> MlRun {
    MlRun {
        model,
        freeze,
        seed: 0,
        extra_axes: String::new(),
        fold: None,
        by_film: false,
        swaps,
        val_mean_auroc: val,
    }
}

/// The CNN and ResNet18 at freeze 0, 2 and 4. Test AUROCs (Effusion, Hernia, Nodule; mean):
/// cnn 0.75, 2/3, 5/6 (0.75); resnet18 f0 1, 5/6, 1 (0.9444); f2 0.875, 8/9, 5/6 (0.8657);
/// f4 0.5, 0.5, 2/3 (0.5556). By validation the ResNet's best is f2, by test f0.
pub fn standard_ml() -> Vec<MlRun> {
    vec![
        ml("cnn", 0, [4, 6, 3], 0.70),
        ml("resnet18", 0, [0, 3, 0], 0.80),
        ml("resnet18", 2, [2, 2, 3], 0.85),
        ml("resnet18", 4, [8, 9, 6], 0.60),
    ]
}

/// The patient of film `i`.
pub fn patient(i: usize) -> String {
    format!("P{}", i / 2)
}

/// The path of film `i`.
pub fn path(i: usize) -> String {
    format!("images/{i:08}_000.png")
}

/// Film `i`'s label for finding `k`, as `predictions.parquet` writes it.
pub fn label(i: usize, k: usize) -> &'static str {
    let positive = match k {
        0 => i.is_multiple_of(3),
        1 => i % 4 == 1,
        _ => {
            if i == 7 {
                return "missing";
            }
            if i == 11 {
                return "uncertain";
            }
            i % 6 == 2
        }
    };
    if positive {
        "positive"
    } else {
        "negative"
    }
}

/// Film `i`'s truth for finding `k` under the default policy (uncertain left out).
pub fn truth(i: usize, k: usize) -> Option<bool> {
    match label(i, k) {
        "positive" => Some(true),
        "negative" => Some(false),
        _ => None,
    }
}

/// The probability a run with `swaps` gives film `i` for finding `k`.
pub fn score(swaps: [usize; 3], i: usize, k: usize) -> f64 {
    let rank = |t: bool| (0..i).filter(|&j| truth(j, k) == Some(t)).count();
    match truth(i, k) {
        Some(true) => 0.60 + 0.01 * rank(true) as f64,
        Some(false) if rank(false) < swaps[k] => 0.90 + 0.003 * rank(false) as f64,
        Some(false) => 0.05 + 0.01 * rank(false) as f64,
        None => 0.3,
    }
}

/// Finding `k`'s scores and truths of `swaps` over `films`, for direct metric calls.
pub fn column(swaps: [usize; 3], films: &[usize], k: usize) -> (Vec<f64>, Vec<bool>) {
    films
        .iter()
        .filter_map(|&i| truth(i, k).map(|t| (score(swaps, i, k), t)))
        .unzip()
}

/// `films x findings` scores and labels of `swaps`, row-major, for `delong_mean_test`.
pub fn matrix(swaps: [usize; 3], films: &[usize]) -> (Vec<f64>, Vec<Option<bool>>) {
    films
        .iter()
        .flat_map(|&i| (0..FINDINGS.len()).map(move |k| (score(swaps, i, k), truth(i, k))))
        .unzip()
}

/// Writes `runs` (and the single-label `single` runs, through [`write_grid`]) under
/// `<root>/<grid>`, plans them all, and merges the summaries.
pub fn write_ml_grid(
    root: &Path,
    grid: &str,
    runs: &[MlRun],
    single: &[Run],
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let dir = GridDir::new(root, grid);
    if !single.is_empty() {
        write_grid(root, grid, single, &[])?;
    }
    let mut plan: Vec<PlanRow> = single
        .iter()
        .map(|r| PlanRow {
            run_id: r.id(),
            model: r.model.into(),
            freeze: r.freeze,
            seed: r.seed,
            axes: r.axes(),
        })
        .collect();
    for r in runs {
        plan.push(PlanRow {
            run_id: r.id(),
            model: r.model.into(),
            freeze: r.freeze,
            seed: r.seed,
            axes: r.axes(),
        });
        write_run(&dir, grid, r)?;
    }
    dir.write_plan(&plan)?;
    merge_summaries(&dir)?;
    Ok(dir.path().to_path_buf())
}

fn write_run(dir: &GridDir, grid: &str, r: &MlRun) -> Result<(), Box<dyn std::error::Error>> {
    let run = dir.run(&r.id());
    let films = r.test_films();
    let mut predictions = Vec::new();
    for &i in &films {
        for (k, finding) in FINDINGS.iter().enumerate() {
            let probability = score(r.swaps, i, k);
            predictions.push(FindingPredictionRow {
                path: path(i),
                patient: patient(i),
                finding: (*finding).into(),
                label: label(i, k).into(),
                probability,
                called: probability >= 0.5,
            });
        }
    }
    run.write_finding_predictions(&predictions)?;
    let per_finding: Vec<PerFindingRow> = FINDINGS
        .iter()
        .enumerate()
        .map(|(k, finding)| {
            let (scores, truths) = column(r.swaps, &films, k);
            let auroc = cxr_metrics::auroc(&scores, &truths);
            let positives = truths.iter().filter(|&&t| t).count() as i64;
            PerFindingRow {
                finding: (*finding).into(),
                test_auroc: auroc,
                // A made-up interval of +/- 0.1, clamped: the table must show it as written.
                test_auroc_low: auroc.map(|a| (a - 0.1).max(0.0)),
                test_auroc_high: auroc.map(|a| (a + 0.1).min(1.0)),
                val_auroc: Some(r.val_mean_auroc),
                threshold: Some(0.5),
                sensitivity: Some(0.75),
                specificity: Some(0.8),
                precision: Some(0.5),
                test_positives: positives,
                test_negatives: truths.len() as i64 - positives,
                test_ece: None,
                temperature: None,
                test_ece_uncalibrated: None,
            }
        })
        .collect();
    run.write_per_finding(&per_finding)?;
    let aurocs: Vec<f64> = per_finding.iter().filter_map(|f| f.test_auroc).collect();
    let mean = aurocs.iter().sum::<f64>() / aurocs.len() as f64;
    let history: Vec<HistoryRow> = (1..=4)
        .map(|e| HistoryRow {
            epoch: e,
            train_loss: 0.7 / e as f64,
            val_loss: 0.8 / e as f64,
            val_micro_recall: 0.4 + 0.05 * e as f64,
            val_macro_recall: 0.35 + 0.05 * e as f64,
            val_mean_auroc: Some(r.val_mean_auroc - 0.02 * (3 - e).abs() as f64),
            train_time_s: 3.0,
            eval_time_s: 0.5,
            kept: e == 3,
        })
        .collect();
    run.write_history(&history)?;
    let summary = RunSummary {
        run_id: r.id(),
        grid: grid.into(),
        model: r.model.into(),
        freeze: r.freeze,
        seed: r.seed,
        fold: r.fold.map(|(f, _)| f),
        folds: r.fold.map(|(_, n)| n),
        image_size: 64,
        axes: r.axes(),
        status: status::OK.into(),
        epochs_run: Some(4),
        epochs_to_converge: Some(3),
        epoch_time_s: Some(3.0 + r.freeze as f64),
        trainable_params: 1_000_000 / (1 + r.freeze),
        total_params: 11_178_564,
        test_micro_recall: Some(0.6),
        test_macro_recall: Some(0.55),
        test_images: Some(films.len() as i64),
        task: Some(task::MULTILABEL.into()),
        test_mean_auroc: Some(mean),
        test_mean_auroc_low: Some(mean - 0.05),
        test_mean_auroc_high: Some((mean + 0.05).min(1.0)),
        val_mean_auroc: Some(r.val_mean_auroc),
        test_patients: Some(
            films
                .iter()
                .map(|&i| i / 2)
                .collect::<std::collections::BTreeSet<_>>()
                .len() as i64,
        ),
        config_json: "{}".into(),
        ..Default::default()
    };
    run.write_summary(&summary)?;
    Ok(())
}

/// Sets run `id`'s test mean AUROC in its summary and re-merges (a regression, for the check).
pub fn set_mean_auroc(grid: &Path, id: &str, value: f64) -> Result<(), Box<dyn std::error::Error>> {
    let dir = GridDir::at(grid);
    let run = dir.run(id);
    let mut summary = run.read_summary()?.remove(0);
    summary.test_mean_auroc = Some(value);
    run.write_summary(&summary)?;
    merge_summaries(&dir)?;
    Ok(())
}
