//! `write_report` on hand-written Parquet fixtures with known numbers.

use cxr_report::{write_report, ReportError};

use crate::fixture::{autoencoder, ok, standard, write_grid, Run, TestResult};

pub fn lines_of_table<'a>(md: &'a str, heading: &str) -> Vec<&'a str> {
    md.split(heading)
        .nth(1)
        .unwrap_or_default()
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .collect()
}

#[test]
fn report_writes_the_four_figures_run_figures_and_markdown() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = write_grid(tmp.path(), "fx", &standard(), &[])?;
    let out = write_report(&grid)?;
    let report = grid.join("report");
    for stem in [
        "time_per_epoch",
        "trainable_params",
        "test_micro_recall",
        "epochs_to_converge",
    ] {
        let png = image::open(report.join(format!("{stem}.png")))?.to_rgb8();
        assert_eq!(png.dimensions(), (900, 600), "{stem}");
        // Something is drawn in the plot region, not only white.
        let dark = png
            .pixels()
            .filter(|p| p.0.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 2000, "{stem}: only {dark} dark pixels");
        let svg = std::fs::read_to_string(report.join(format!("{stem}.svg")))?;
        assert!(
            svg.contains("resnet18") && svg.contains("cnn (no stages: reference)"),
            "{stem} legend"
        );
        assert!(
            svg.contains("frozen residual stages (count)"),
            "{stem} x label"
        );
    }
    let recall_svg = std::fs::read_to_string(report.join("test_micro_recall.svg"))?;
    assert!(
        recall_svg.contains("95% bootstrap interval"),
        "interval note"
    );
    for run in standard() {
        for file in ["curves.png", "curves.svg", "confusion.png", "confusion.svg"] {
            assert!(
                report.join("runs").join(run.id()).join(file).is_file(),
                "{} {file}",
                run.id()
            );
        }
    }
    // 4 grid figures + 2 per run, each as PNG and SVG.
    assert_eq!(out.figures.len(), (4 + 2 * 4) * 2);
    assert_eq!((out.runs, out.missing), (4, 0));
    Ok(())
}

#[test]
fn report_table_matches_the_fixture_numbers() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let grid = write_grid(tmp.path(), "fx", &standard(), &[])?;
    let out = write_report(&grid)?;
    let md = std::fs::read_to_string(&out.markdown)?;
    let rows = lines_of_table(&md, "## All runs");
    assert_eq!(
        rows[0],
        "| run | model | freeze | seed | status | test micro-recall | test macro-recall | recall A | recall B | epochs to converge | s/epoch | trainable params |"
    );
    assert_eq!(
        rows[2],
        "| `cnn-f0-s0-fixture` | cnn | 0 | 0 | ok | 0.825 | 0.825 | 0.750 | 0.900 | 3 | 10.5 | 1606916 |"
    );
    assert_eq!(
        rows[3],
        "| `resnet18-f0-s0-fixture` | resnet18 | 0 | 0 | ok | 0.875 | 0.875 | 0.900 | 0.850 | 3 | 40.2 | 11178564 |"
    );
    assert_eq!(rows.len(), 2 + 4);
    let best = lines_of_table(&md, "### Best run per model");
    assert!(
        best[2].starts_with("| cnn | 0 | 0 | 0.825 | 0.725-0.925 |"),
        "{}",
        best[2]
    );
    assert!(
        best[3].starts_with("| resnet18 | 0 | 0 | 0.875 | 0.775-0.975 |"),
        "{}",
        best[3]
    );
    // The generated paragraph uses the same numbers.
    let paragraph = &out.paragraphs[0];
    assert!(
        paragraph.contains("resnet18 with 0 frozen stages"),
        "{paragraph}"
    );
    assert!(
        paragraph.contains("5.0 percentage points above the CNN's 0.825"),
        "{paragraph}"
    );
    assert!(paragraph.contains("7.0x the CNN's 1.6M"), "{paragraph}");
    assert!(md.contains(paragraph.as_str()));
    assert!(md.contains("![Test micro-recall](test_micro_recall.png)"));
    Ok(())
}

#[test]
fn partial_sweep_lists_missing_and_failed_runs() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let mut runs = standard();
    runs.truncate(2);
    runs.push(Run {
        failed: true,
        ..ok("resnet18", 2, 0.0, 0.0, 10_495_492)
    });
    let unfinished = [ok("resnet18", 4, 0.0, 0.0, 2_052)];
    let grid = write_grid(tmp.path(), "fx", &runs, &unfinished)?;
    let out = write_report(&grid)?;
    assert_eq!((out.runs, out.missing), (3, 1));
    let md = std::fs::read_to_string(&out.markdown)?;
    assert!(md.contains("**Partial sweep.**"), "{md}");
    assert!(
        md.contains("- `resnet18-f4-s0-fixture` (resnet18 freeze 4 seed 0)"),
        "{md}"
    );
    assert!(
        md.contains("- `resnet18-f2-s0-fixture`: loss became NaN at epoch 2"),
        "{md}"
    );
    assert!(grid.join("report/test_micro_recall.png").is_file());
    // No curves for the failed run, which has no history.
    assert!(!grid.join("report/runs/resnet18-f2-s0-fixture").exists());
    Ok(())
}

#[test]
fn other_axes_get_their_own_figures_and_seeds_give_error_bars() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let mut runs = Vec::new();
    for lr in ["train.lr=0.001", "train.lr=0.01"] {
        for (seed, micro) in [(0, 0.8), (1, 0.9)] {
            runs.push(Run {
                seed,
                extra_axes: lr,
                ..ok("cnn", 0, micro, 10.0, 1_606_916)
            });
            runs.push(Run {
                seed,
                extra_axes: lr,
                ..ok("resnet18", 0, micro - 0.1, 30.0, 11_178_564)
            });
        }
    }
    let grid = write_grid(tmp.path(), "fx", &runs, &[])?;
    write_report(&grid)?;
    for facet in ["train.lr_0.001", "train.lr_0.01"] {
        assert!(
            grid.join(format!("report/test_micro_recall__{facet}.png"))
                .is_file(),
            "{facet}"
        );
    }
    let md = std::fs::read_to_string(grid.join("report/report.md"))?;
    assert!(md.contains("## train.lr=0.001") && md.contains("## train.lr=0.01"));
    // Two seeds (0.8 and 0.9): mean 0.85, sample sd 0.0707.
    assert!(
        md.contains("| cnn | 0 | 2 | 0.850 | mean of 2 seeds, sd 0.071 |"),
        "{md}"
    );
    let svg = std::fs::read_to_string(grid.join("report/test_micro_recall__train.lr_0.01.svg"))?;
    assert!(svg.contains("mean +/- std over seeds"));
    Ok(())
}

#[test]
fn empty_or_missing_results_give_a_clear_error() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let err = write_report(tmp.path())
        .err()
        .ok_or("empty folder accepted")?;
    assert!(matches!(err, ReportError::NoResults { .. }));
    let text = err.to_string();
    assert!(
        text.contains("no summary.parquet") && text.contains("cxr sweep"),
        "{text}"
    );
    assert!(!text.contains('\n'));
    let err = write_report(&tmp.path().join("nope"))
        .err()
        .ok_or("missing folder accepted")?;
    assert!(err.to_string().contains("no such folder"), "{err}");
    Ok(())
}

#[test]
fn autoencoder_runs_get_their_own_table_and_stay_out_of_the_recall_figures() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let mut runs = standard();
    runs.push(autoencoder("resnet34", 0.0123));
    let grid = write_grid(tmp.path(), "fx", &runs, &[])?;
    let out = write_report(&grid)?;
    let id = "resnet34-f0-s0-trainobjectiveautoencoderfixture";
    assert_eq!((out.runs, out.missing), (5, 0));
    let md = std::fs::read_to_string(&out.markdown)?;
    let rows = lines_of_table(&md, "## Pretraining (autoencoder)");
    assert_eq!(
        rows[0],
        "| run | model | seed | status | test reconstruction MSE | validation MSE (kept epoch) | epochs to converge | epochs run | s/epoch | trainable params |"
    );
    assert_eq!(
        rows[2],
        format!("| `{id}` | resnet34 | 0 | ok | 0.0123 | 0.2750 | 4 | 4 | 12.0 | 11500000 |")
    );
    assert_eq!(rows.len(), 3);
    let figure = format!("runs/{id}/reconstructions.png");
    assert!(md.contains(&format!("]({figure})")), "{md}");
    assert!(grid.join("report").join(&figure).is_file());
    // Its learning curves: the reconstruction loss alone.
    let curves = image::open(grid.join(format!("report/runs/{id}/curves.png")))?;
    assert_eq!((curves.width(), curves.height()), (750, 560));
    let svg = std::fs::read_to_string(grid.join(format!("report/runs/{id}/curves.svg")))?;
    assert!(svg.contains("Reconstruction loss"), "curves title");
    // The objective is no facet: the classifiers keep one set of figures, without resnet34.
    let recall_svg = std::fs::read_to_string(grid.join("report/test_micro_recall.svg"))?;
    assert!(!recall_svg.contains("resnet34"));
    assert!(!md.contains("train.objective=classify"));
    let all = lines_of_table(&md, "## All runs");
    assert_eq!(all.len(), 2 + 4, "classifier runs only");
    assert!(all.iter().all(|l| !l.contains(id)));
    // 4 grid figures, curves + confusion per classifier, curves + reconstructions for the
    // autoencoder (the copied PNG has no SVG).
    assert_eq!(out.figures.len(), (4 + 2 * 4) * 2 + 2 + 1);

    // A grid of autoencoder runs only reports too.
    let only = write_grid(tmp.path(), "pretrain", &[autoencoder("cnn", 0.02)], &[])?;
    let out = write_report(&only)?;
    let md = std::fs::read_to_string(&out.markdown)?;
    assert!(md.contains("## Pretraining (autoencoder)"), "{md}");
    assert!(
        !md.contains("## All runs") && !md.contains("### Figures"),
        "{md}"
    );
    Ok(())
}
