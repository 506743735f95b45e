//! Paired comparisons and reliability diagrams in the report, from hand-written predictions
//! with known counts.

use cxr_report::{read_comparisons, write_report};
use cxr_results::{merge_summaries, GridDir, PredictionRow, RunDir};

use crate::fixture::{autoencoder, ok, standard, write_grid, Run, TestResult};

/// 20 test images of class A then 20 of B; the run gets the first `round(recall * 20)` of each
/// class right, with confidence 0.8 either way.
fn predictions(run: &Run) -> Vec<PredictionRow> {
    let mut rows = Vec::new();
    for (class, (other, recall)) in ["A", "B"]
        .iter()
        .zip([("B", run.recall[0]), ("A", run.recall[1])])
    {
        let right = (recall * 20.0).round() as usize;
        for i in 0..20 {
            let predicted = if i < right { *class } else { other };
            let p_a = if predicted == "A" { 0.8 } else { 0.2 };
            rows.push(PredictionRow {
                path: format!("{class}/images/{class}-{i}.png"),
                true_class: (*class).into(),
                predicted_class: predicted.into(),
                probabilities: Some(vec![p_a, 1.0 - p_a]),
            });
        }
    }
    rows
}

pub fn write_predictions(grid: &std::path::Path, runs: &[Run]) -> TestResult {
    let dir = GridDir::at(grid);
    for r in runs {
        let run: RunDir = dir.run(&r.id());
        run.write_predictions(&predictions(r))?;
        std::fs::write(
            run.preprocessing_path(),
            r#"{"classes":["A","B"],"in_channels":1,"stats":{"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25]}}"#,
        )?;
        let mut summary = run.read_summary()?;
        summary[0].test_ece = Some(0.8 - r.micro);
        run.write_summary(&summary[0])?;
    }
    merge_summaries(&dir)?;
    Ok(())
}

#[test]
fn the_report_states_the_paired_test_and_writes_every_comparison() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let runs = standard();
    let grid = write_grid(tmp.path(), "fx", &runs, &[])?;
    write_predictions(&grid, &runs)?;
    let out = write_report(&grid)?;

    // Best ResNet (resnet18 f0: A 18/20, B 17/20) vs the CNN (A 15/20, B 18/20): +2 images of
    // 40; 3 images only the ResNet got right, 1 only the CNN: McNemar p = 2 * 5/16 = 0.625.
    let paragraph = &out.paragraphs[0];
    assert!(
        paragraph.contains(
            "Paired on the same 40 test images (1 run pair), resnet18 f0 minus the CNN is +5.0 \
             points of micro-recall"
        ),
        "{paragraph}"
    );
    assert!(
        paragraph.contains("3 images only resnet18 f0 got right, 1 only the CNN, p = 0.625"),
        "{paragraph}"
    );
    assert!(
        paragraph.contains("The paired tests cannot separate them at the 5% level."),
        "{paragraph}"
    );
    assert!(!paragraph.contains("intervals overlap"), "{paragraph}");

    let rows = read_comparisons(&out.dir.join("comparisons.parquet"))?;
    let kinds: Vec<(&str, &str, i64, i64)> = rows
        .iter()
        .map(|r| (r.kind.as_str(), r.a_model.as_str(), r.a_freeze, r.b_freeze))
        .collect();
    assert_eq!(
        kinds,
        [
            ("best_resnet_vs_cnn", "resnet18", 0, 0),
            ("freeze_vs_best", "resnet18", 2, 0),
            ("freeze_vs_best", "resnet18", 4, 0),
        ]
    );
    let best = &rows[0];
    assert_eq!(
        (best.pairs, best.images, best.a_only, best.b_only),
        (1, 40, 3, 1)
    );
    assert!((best.micro_diff - 0.05).abs() < 1e-12);
    assert!((best.macro_diff - 0.05).abs() < 1e-12);
    assert!((best.p_value - 0.625).abs() < 1e-12);
    assert!(best.micro_low <= best.micro_diff && best.micro_diff <= best.micro_high);
    assert!(!best.significant());
    // Freeze 4 (13/20 each) vs freeze 0: 9 images only freeze 0 got right, none the other way:
    // p = 2 / 2^9, and every resample agrees on the sign.
    let f4 = &rows[2];
    assert_eq!((f4.a_only, f4.b_only), (0, 9));
    assert!((f4.p_value - 2.0 / 512.0).abs() < 1e-12);
    assert!((f4.micro_diff + 0.225).abs() < 1e-12);
    assert!(f4.micro_high < 0.0 && f4.significant());

    let md = std::fs::read_to_string(&out.markdown)?;
    assert!(md.contains("### Paired comparisons"), "{md}");
    assert!(
        md.contains("| resnet18 f4 | resnet18 f0 | 1 | 40 | -22.5 ("),
        "{md}"
    );
    assert!(md.contains("| 0 | 9 | 0.004 | different |"), "{md}");

    // A reliability diagram per run, listed in the calibration section.
    for r in &runs {
        let folder = out.dir.join("runs").join(r.id());
        assert!(folder.join("reliability.png").is_file(), "{}", r.id());
        assert!(folder.join("reliability.svg").is_file(), "{}", r.id());
    }
    assert!(md.contains("## Calibration"), "{md}");
    assert!(
        md.contains("[reliability](runs/cnn-f0-s0-fixture/reliability.png)"),
        "{md}"
    );
    Ok(())
}

#[test]
fn seeds_pair_by_seed_and_pool_with_their_spread() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let mut runs = Vec::new();
    for (seed, cnn, resnet) in [(0, [0.75, 0.75], [0.9, 0.9]), (1, [0.8, 0.8], [0.8, 0.8])] {
        runs.push(Run {
            seed,
            recall: cnn,
            ..ok("cnn", 0, (cnn[0] + cnn[1]) / 2.0, 10.0, 1_606_916)
        });
        runs.push(Run {
            seed,
            recall: resnet,
            ..ok(
                "resnet18",
                0,
                (resnet[0] + resnet[1]) / 2.0,
                40.0,
                11_178_564,
            )
        });
    }
    let classifiers = runs.len();
    // An autoencoder run has no predictions and stays out of every comparison.
    runs.push(autoencoder("resnet18", 0.02));
    let grid = write_grid(tmp.path(), "fx", &runs, &[])?;
    write_predictions(&grid, &runs[..classifiers])?;
    let out = write_report(&grid)?;
    let rows = read_comparisons(&out.dir.join("comparisons.parquet"))?;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let best = &rows[0];
    // Seed 0: +6 images of 40, seed 1: 0; pooled +6 of 80.
    assert_eq!((best.pairs, best.images), (2, 80));
    assert!((best.micro_diff - 6.0 / 80.0).abs() < 1e-12);
    assert!((best.pair_micro_min - 0.0).abs() < 1e-12);
    assert!((best.pair_micro_max - 0.15).abs() < 1e-12);
    assert!(
        out.paragraphs[0].contains(
            "Across the 2 run pairs the micro-recall difference ranges from +0.0 to +15.0 points."
        ),
        "{}",
        out.paragraphs[0]
    );
    Ok(())
}

#[test]
fn classic_head_verdicts_state_their_paired_tests() -> TestResult {
    let tmp = tempfile::tempdir()?;
    // Three heads on a frozen resnet18: svm_rbf right on 19 + 19, logistic on 15 + 17, the
    // linear head on 12 + 12; all of logistic's right images are svm_rbf's right images too.
    let heads = [
        ("svm_rbf", "model.head=svm_rbf", [0.95, 0.95]),
        ("logistic", "model.head=logistic", [0.75, 0.85]),
        ("linear", "model.head=linear", [0.6, 0.6]),
    ];
    let runs: Vec<Run> = heads
        .iter()
        .map(|(_, axes, recall)| Run {
            extra_axes: axes,
            recall: *recall,
            ..ok("resnet18", 4, (recall[0] + recall[1]) / 2.0, 1.0, 2_052)
        })
        .collect();
    let grid = write_grid(tmp.path(), "fx", &runs, &[])?;
    write_predictions(&grid, &runs)?;
    let dir = GridDir::at(&grid);
    for ((head, _, _), r) in heads.iter().zip(&runs) {
        let run = dir.run(&r.id());
        let mut summary = run.read_summary()?;
        summary[0].head = Some((*head).into());
        run.write_summary(&summary[0])?;
    }
    merge_summaries(&dir)?;
    let out = write_report(&grid)?;
    let md = std::fs::read_to_string(&out.markdown)?;
    // svm_rbf vs logistic: 6 images only svm_rbf got right, none the other way: p = 2 / 2^6.
    assert!(
        md.contains(
            "On resnet18, svm_rbf wins with test micro-recall 0.950: +0.150 over logistic \
             (0.800; paired over 40 test images, +15.0 points"
        ),
        "{md}"
    );
    assert!(md.contains("McNemar p = 0.031: different"), "{md}");
    assert!(!md.contains("intervals overlap"), "{md}");
    let rows = read_comparisons(&out.dir.join("comparisons.parquet"))?;
    let heads_rows: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.kind == "head_vs_best")
        .map(|r| (r.a_head.as_str(), r.b_head.as_str()))
        .collect();
    assert_eq!(heads_rows, [("svm_rbf", "logistic"), ("svm_rbf", "linear")]);
    Ok(())
}
