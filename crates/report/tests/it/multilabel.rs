//! The report of multi-label grids, on the hand-written fixture of `multilabel_fixture` whose
//! AUROCs are known in closed form; comparisons checked against direct `cxr_metrics` calls on
//! the fixture's own probabilities.

use cxr_metrics::{
    auroc, delong_mean_test, delong_test, paired_group_bootstrap, DEFAULT_RESAMPLES,
};
use cxr_report::{read_auroc_comparisons, read_comparisons, write_report};

use crate::fixture::{standard, Run, TestResult};
use crate::multilabel_fixture::{
    column, matrix, standard_ml, truth, write_ml_grid, MlRun, FILMS, FINDINGS,
};
use crate::paired::write_predictions;
use crate::report::lines_of_table;

/// Pixels of `png` exactly of colour `rgb`.
fn pixels_of(png: &image::RgbImage, rgb: [u8; 3]) -> usize {
    png.pixels().filter(|p| p.0 == rgb).count()
}

#[test]
fn a_multilabel_grid_gets_the_per_finding_table_roc_curves_and_mean_auroc_figure() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = write_ml_grid(tmp.path(), "nih", &standard_ml(), &[])?;
    let out = write_report(&grid)?;
    let md = std::fs::read_to_string(&out.markdown)?;

    // Each line's best run by validation: the CNN, and resnet18 f2 (0.85), not f0, whose test
    // AUROC is higher. Cells: test AUROC (1 - swaps / negatives) with the fixture's +/- 0.1.
    let rows = lines_of_table(&md, "### Test AUROC per finding");
    assert_eq!(rows[0], "| finding | cnn | resnet18 |");
    assert_eq!(
        rows[2],
        "| Effusion | 0.750 (0.650-0.850) | 0.875 (0.775-0.975) |"
    );
    assert_eq!(
        rows[3],
        "| Hernia | 0.667 (0.567-0.767) | 0.889 (0.789-0.989) |"
    );
    assert_eq!(
        rows[4],
        "| Nodule | 0.833 (0.733-0.933) | 0.833 (0.733-0.933) |"
    );
    // (0.875 + 8/9 + 5/6) / 3 = 0.865741, with the fixture's +/- 0.05.
    assert_eq!(
        rows[5],
        "| **mean** | 0.750 (0.700-0.800) | 0.866 (0.816-0.916) |"
    );
    assert_eq!(rows[6], "| test films | 24 | 24 |");
    assert_eq!(rows.len(), 7);
    assert!(
        md.contains(
            "- resnet18: `resnet18-f2-s0-ml` (freeze 2, seed 0; validation mean AUROC 0.850)"
        ),
        "{md}"
    );
    let best = lines_of_table(&md, "### Best run per model");
    assert!(
        best[0].starts_with("| model | freeze | seed | test mean AUROC | 95% patient bootstrap |"),
        "{}",
        best[0]
    );
    assert!(
        best[3].starts_with("| resnet18 | 2 | 0 | 0.866 | 0.816-0.916 |"),
        "{}",
        best[3]
    );
    let all = lines_of_table(&md, "## All runs");
    assert!(
        all[0].contains("| status | test mean AUROC | test micro-recall |"),
        "{}",
        all[0]
    );
    assert!(all[2].contains("| ok | 0.750 | 0.600 |"), "{}", all[2]);
    // The summary states the comparison in mean AUROC.
    assert!(
        out.paragraphs[0].contains(
            "the best ResNet configuration is resnet18 with 0 frozen stages (0.944), against the \
             CNN's 0.750"
        ),
        "{}",
        out.paragraphs[0]
    );

    let report = grid.join("report");
    assert!(md.contains("![Test mean AUROC over findings](test_mean_auroc.png)"));
    assert!(md.contains("![Test ROC per finding](roc_curves.png)"));
    let mean_png = image::open(report.join("test_mean_auroc.png"))?.to_rgb8();
    assert_eq!(mean_png.dimensions(), (900, 600));
    // The resnet18 line (the palette's first blue) and its error bars are drawn.
    assert!(pixels_of(&mean_png, [0, 114, 178]) > 300);
    let mean_svg = std::fs::read_to_string(report.join("test_mean_auroc.svg"))?;
    assert!(
        mean_svg.contains("95% bootstrap interval over patients"),
        "note"
    );
    assert!(mean_svg.contains("cnn (no stages: reference)"), "legend");

    let roc = image::open(report.join("roc_curves.png"))?.to_rgb8();
    // Three panels in one row, 320 px each, under the title and legend; 900 px at least.
    assert_eq!(roc.width(), 960);
    assert!(roc.height() > 320 && roc.height() < 480, "{}", roc.height());
    assert!(pixels_of(&roc, [0, 114, 178]) > 300, "resnet18 curves");
    assert!(pixels_of(&roc, [0, 0, 0]) > 300, "cnn curves and text");
    let roc_svg = std::fs::read_to_string(report.join("roc_curves.svg"))?;
    for text in FINDINGS
        .iter()
        .copied()
        .chain(["1 - specificity", "0.875", "0.750"])
    {
        assert!(roc_svg.contains(text), "{text}");
    }
    // Curves per run, no confusion matrix (multi-label runs have none).
    for r in standard_ml() {
        let dir = report.join("runs").join(r.id());
        assert!(dir.join("curves.png").is_file(), "{}", r.id());
        assert!(!dir.join("confusion.png").exists(), "{}", r.id());
    }
    let curves = std::fs::read_to_string(report.join("runs/cnn-f0-s0-ml/curves.svg"))?;
    assert!(curves.contains("mean AUROC"), "validation mean AUROC curve");
    // 5 grid figures, the ROC panels, 4 runs' curves; PNG and SVG each.
    assert_eq!(out.figures.len(), (5 + 1 + 4) * 2);
    Ok(())
}

#[test]
fn auroc_comparisons_match_delong_and_the_patient_bootstrap_on_the_fixture() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = write_ml_grid(tmp.path(), "nih", &standard_ml(), &[])?;
    let out = write_report(&grid)?;
    let path = out.dir.join("comparisons.parquet");
    assert!(read_comparisons(&path)?.is_empty(), "no recall comparisons");
    let rows = read_auroc_comparisons(&path)?;
    let means: Vec<(&str, i64, i64)> = rows
        .iter()
        .filter(|r| r.metric == "mean_auroc")
        .map(|r| (r.kind.as_str(), r.a_freeze, r.b_freeze))
        .collect();
    assert_eq!(
        means,
        [
            ("best_resnet_vs_cnn", 0, 0),
            ("freeze_vs_best", 2, 0),
            ("freeze_vs_best", 4, 0)
        ]
    );
    let mean = &rows[0];
    assert_eq!(
        (mean.a_model.as_str(), mean.b_model.as_str()),
        ("resnet18", "cnn")
    );
    assert_eq!(
        (mean.pairs, mean.images, mean.patients, mean.findings),
        (1, 24, 12, 3)
    );

    // Direct calls on the fixture's probabilities of resnet18 f0 and the CNN.
    let (resnet, cnn) = ([0, 3, 0], [4, 6, 3]);
    let films: Vec<usize> = (0..FILMS).collect();
    let (a, labels) = matrix(resnet, &films);
    let (b, _) = matrix(cnn, &films);
    let direct = delong_mean_test(&a, &b, &labels, FINDINGS.len()).ok_or("undefined")?;
    assert!((direct.test.auroc_a - (2.0 + 15.0 / 18.0) / 3.0).abs() < 1e-12);
    assert!((direct.test.auroc_b - 0.75).abs() < 1e-12);
    assert_eq!(mean.auroc_a, Some(direct.test.auroc_a));
    assert_eq!(mean.auroc_b, Some(direct.test.auroc_b));
    assert_eq!(mean.delong_z, Some(direct.test.z));
    assert_eq!(mean.delong_p, Some(direct.test.p_value));
    // The bootstrap resamples the 12 patients (two films each) with the report's seed stream.
    let groups: Vec<u32> = films.iter().map(|&i| (i / 2) as u32).collect();
    // A replicate where a finding has no positive or no negative film is skipped, not averaged
    // over fewer findings.
    let mean_of = |swaps: [usize; 3], drawn: &[usize]| {
        let values: Vec<f64> = (0..FINDINGS.len())
            .map(|k| {
                let drawn: Vec<usize> = drawn.to_vec();
                let (s, t) = column(swaps, &drawn, k);
                auroc(&s, &t)
            })
            .collect::<Option<_>>()?;
        Some(values.iter().sum::<f64>() / values.len() as f64)
    };
    let boot = paired_group_bootstrap(
        &groups,
        DEFAULT_RESAMPLES,
        &mut cxr_seed::report_bootstrap_rng(),
        |drawn| mean_of(resnet, drawn),
        |drawn| mean_of(cnn, drawn),
    )
    .ok_or("no bootstrap")?;
    assert_eq!(mean.boot_low, Some(boot.interval.low));
    assert_eq!(mean.boot_high, Some(boot.interval.high));
    assert_eq!(mean.boot_replicates, Some(boot.replicates as i64));

    // One row per finding, each DeLong's test of that finding alone.
    for (k, finding) in FINDINGS.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| r.kind == "best_resnet_vs_cnn" && r.finding.as_deref() == Some(finding))
            .ok_or("finding row")?;
        let (sa, t) = column(resnet, &films, k);
        let (sb, _) = column(cnn, &films, k);
        let test = delong_test(&sa, &sb, &t).ok_or("undefined")?;
        assert_eq!(row.delong_p, Some(test.p_value), "{finding}");
        assert_eq!(row.auroc_diff, Some(test.difference()), "{finding}");
        assert_eq!(
            row.positives,
            Some(films.iter().filter(|&&i| truth(i, k) == Some(true)).count() as i64)
        );
    }

    let md = std::fs::read_to_string(&out.markdown)?;
    let table = lines_of_table(&md, "### Paired AUROC comparisons");
    assert!(
        table[2].starts_with("| resnet18 f0 | cnn f0 | 1 | 24 | 12 | 3 | 0.944 | 0.750 | +0.194 ("),
        "{}",
        table[2]
    );
    assert!(md.contains("| finding | resnet18 f0 - cnn f0 | resnet18 f2 - resnet18 f0 |"));
    Ok(())
}

/// A configuration trained on 2 folds split by `group` with `swaps`.
fn folds(model: &'static str, freeze: i64, group: &str, swaps: [usize; 3]) -> Vec<MlRun> {
    (0..2)
        .map(|fold| MlRun {
            model,
            freeze,
            seed: 0,
            extra_axes: format!("split.group={group}, split.fold={fold}"),
            fold: Some((fold, 2)),
            by_film: group == "film",
            swaps,
            val_mean_auroc: 0.8,
        })
        .collect()
}

#[test]
fn the_leak_table_pairs_split_by_film_with_split_by_patient_film_by_film() -> TestResult {
    let tmp = tempfile::tempdir()?;
    // The split by film scores better (fewer swaps): the leak the table measures.
    let (cnn_patient, cnn_film) = ([4, 6, 3], [2, 3, 1]);
    let (resnet_patient, resnet_film) = ([2, 2, 3], [0, 1, 0]);
    let mut runs = folds("cnn", 0, "patient", cnn_patient);
    runs.extend(folds("cnn", 0, "film", cnn_film));
    runs.extend(folds("resnet18", 2, "patient", resnet_patient));
    runs.extend(folds("resnet18", 2, "film", resnet_film));
    let grid = write_ml_grid(tmp.path(), "nih", &runs, &[])?;
    let out = write_report(&grid)?;

    let rows = read_auroc_comparisons(&out.dir.join("comparisons.parquet"))?;
    let leak: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == "split_film_vs_patient" && r.metric == "mean_auroc")
        .collect();
    assert_eq!(leak.len(), 2);
    let films: Vec<usize> = (0..FILMS).collect();
    for (row, (patient, film)) in leak
        .iter()
        .zip([(cnn_patient, cnn_film), (resnet_patient, resnet_film)])
    {
        // Both sides' two folds pooled: every film once, paired by path although the folds
        // answered them in different orders (even films first, or patients 0, 2, ... first).
        assert_eq!((row.pairs, row.images, row.patients), (1, 24, 12));
        assert_eq!(row.facet, "");
        let (a, labels) = matrix(film, &films);
        let (b, _) = matrix(patient, &films);
        let direct = delong_mean_test(&a, &b, &labels, FINDINGS.len()).ok_or("undefined")?;
        let close = |x: Option<f64>, y: f64| x.is_some_and(|x| (x - y).abs() < 1e-12);
        assert!(close(row.auroc_a, direct.test.auroc_a), "{row:?}");
        assert!(close(row.auroc_b, direct.test.auroc_b), "{row:?}");
        assert!(close(row.delong_p, direct.test.p_value), "{row:?}");
        let (lo, hi) = row.interval().ok_or("no interval")?;
        let diff = row.auroc_diff.ok_or("no diff")?;
        assert!(lo <= diff && diff <= hi, "{row:?}");
    }
    // cnn by film: (0.875 + 5/6 + 17/18) / 3 = 0.884259; by patient 0.75.
    let md = std::fs::read_to_string(&out.markdown)?;
    let table = lines_of_table(&md, "## Split by patient against split by film");
    assert_eq!(
        table[0],
        "| model | freeze | seeds | films | patients | mean AUROC, split by patient | split by film | film minus patient (95% patient bootstrap) | DeLong p |"
    );
    assert!(
        table[2].starts_with("| cnn | 0 | 1 | 24 | 12 | 0.750 | 0.884 | +0.134 ("),
        "{}",
        table[2]
    );
    assert!(
        table[3].starts_with("| resnet18 | 2 | 1 | 24 | 12 |"),
        "{}",
        table[3]
    );

    // One set of figures per split.
    for facet in ["split.group_patient", "split.group_film"] {
        for stem in ["test_mean_auroc", "roc_curves", "test_micro_recall"] {
            let png = out.dir.join(format!("{stem}__{facet}.png"));
            assert!(png.is_file(), "{}", png.display());
        }
    }
    assert!(md.contains("## split.group=patient") && md.contains("## split.group=film"));
    Ok(())
}

#[test]
fn single_label_and_multilabel_facets_share_one_report_and_comparisons_file() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let single: Vec<Run> = standard()
        .into_iter()
        .map(|r| Run {
            extra_axes: "data.labels=folders",
            ..r
        })
        .collect();
    let multi: Vec<MlRun> = standard_ml()
        .into_iter()
        .map(|r| MlRun {
            extra_axes: "data.labels=table".into(),
            ..r
        })
        .collect();
    let grid = write_ml_grid(tmp.path(), "mixed", &multi, &single)?;
    write_predictions(&grid, &single)?;
    let out = write_report(&grid)?;
    let report = &out.dir;
    assert!(report
        .join("test_micro_recall__data.labels_folders.png")
        .is_file());
    assert!(!report
        .join("test_mean_auroc__data.labels_folders.png")
        .exists());
    assert!(!report.join("roc_curves__data.labels_folders.png").exists());
    assert!(report
        .join("test_mean_auroc__data.labels_table.png")
        .is_file());
    assert!(report.join("roc_curves__data.labels_table.png").is_file());
    assert!(report
        .join(format!("runs/{}/confusion.png", single[0].id()))
        .is_file());

    let path = report.join("comparisons.parquet");
    let recall = read_comparisons(&path)?;
    let auroc = read_auroc_comparisons(&path)?;
    assert!(!recall.is_empty() && recall.iter().all(|r| r.facet == "data.labels=folders"));
    assert!(!auroc.is_empty() && auroc.iter().all(|r| r.facet == "data.labels=table"));
    // The recall rows read back as the recall comparisons alone always did.
    assert!((recall[0].micro_diff - 0.05).abs() < 1e-12);

    let md = std::fs::read_to_string(&out.markdown)?;
    let all = lines_of_table(&md, "## All runs");
    let cnn_single = all
        .iter()
        .find(|l| l.contains(&single[0].id()))
        .ok_or("single-label row")?;
    assert!(cnn_single.contains("| ok | - | 0.825 |"), "{cnn_single}");
    // The single-label facet keeps its recall paragraph, the multi-label one speaks AUROC.
    assert!(out
        .paragraphs
        .iter()
        .any(|p| p.contains("percentage points above the CNN")));
    assert!(out
        .paragraphs
        .iter()
        .any(|p| p.contains("By test mean AUROC")));
    Ok(())
}
