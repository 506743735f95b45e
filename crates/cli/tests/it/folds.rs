//! A 3-fold cross-validation grid as a user runs it: one Slurm array task and one `--cell` per
//! fold, resume after a single cell, the summary's fold columns, and the report's
//! Cross-validation section.

use cxr_results::{read_cross_validation, read_out_of_fold, read_summary, GridDir};

use crate::support::{cxr_in, transcript, TestResult};

/// The CNN on 4 x 12 synthetic images at 32 px, one epoch per fold (about a second each).
const CV: &str = "name = \"cv\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 12\n\
                  size = 32\n[model]\nname = \"cnn\"\n[split]\nfolds = 3\n\
                  [train]\nmax_epochs = 1\npatience = 1\nbatch_size = 8\n";

#[test]
fn a_three_fold_grid_sweeps_by_cell_resumes_and_reports_its_folds() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    std::fs::write(dir.join("g.toml"), CV)?;

    let out = cxr_in(&["sweep", "g.toml", "--emit-slurm", "job.sh"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    let script = std::fs::read_to_string(dir.join("job.sh"))?;
    assert!(script.contains("#SBATCH --array=0-2\n"), "{script}");

    // Array task 1 = `--cell 1` = fold 1, alone.
    let cache = ["--cache-dir", "cache", "--quiet"];
    let out = cxr_in(
        &[&["sweep", "g.toml", "--cell", "1"][..], &cache].concat(),
        dir,
    )?;
    assert!(out.status.success(), "{}", transcript(&out));
    let grid = GridDir::new(&dir.join("results"), "cv");
    let ids: Vec<String> = grid.runs()?.iter().map(|r| r.id()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(ids[0].starts_with("cnn-f0-s0-fold1-"), "{ids:?}");

    // The whole sweep resumes: the finished fold is skipped.
    let out = cxr_in(&[&["sweep", "g.toml"][..], &cache].concat(), dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("2 run(s) trained, 1 skipped as finished"),
        "{}",
        transcript(&out)
    );
    let rows = read_summary(&grid.summary_path())?;
    let mut folds: Vec<(Option<i64>, Option<i64>)> =
        rows.iter().map(|r| (r.fold, r.folds)).collect();
    folds.sort_unstable();
    assert_eq!(
        folds,
        [(Some(0), Some(3)), (Some(1), Some(3)), (Some(2), Some(3))]
    );
    // Every image is tested once: 4 classes x 12 dealt into three folds of 16.
    let tested: Vec<Option<i64>> = rows.iter().map(|r| r.test_images).collect();
    assert_eq!(tested, [Some(16); 3]);

    let out = cxr_in(&["report", "results/cv"], dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("3 run(s) reported, 0 missing"),
        "{}",
        transcript(&out)
    );
    let md = std::fs::read_to_string(dir.join("results/cv/report/report.md"))?;
    assert!(md.contains("## Cross-validation"), "{md}");
    assert!(md.contains("| cnn | 0 | 3/3 | 1 |"), "{md}");
    assert!(
        md.contains("| fold |"),
        "the run table names each run's fold: {md}"
    );
    let pooled = read_cross_validation(&grid.cross_validation_path())?;
    assert_eq!(pooled.len(), 1);
    let micro: Vec<f64> = rows.iter().filter_map(|r| r.test_micro_recall).collect();
    let mean = micro.iter().sum::<f64>() / 3.0;
    assert!((pooled[0].test_micro_recall_mean - mean).abs() < 1e-12);
    assert_eq!((pooled[0].folds_finished, pooled[0].runs), (3, 3));

    // The out-of-fold table: every one of the 48 images exactly once, each predicted by the
    // run whose test fold held it; its recall is the row's pooled out-of-fold recall.
    let oof = read_out_of_fold(&grid.out_of_fold_path())?;
    assert_eq!(oof.len(), 48);
    let mut paths: Vec<&str> = oof.iter().map(|o| o.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), 48, "an image predicted twice");
    for o in &oof {
        let run = rows
            .iter()
            .find(|r| r.run_id == o.run_id)
            .ok_or("unknown run")?;
        assert_eq!(run.fold, Some(o.fold));
    }
    let right = oof
        .iter()
        .filter(|o| o.true_class == o.predicted_class)
        .count();
    assert_eq!(pooled[0].oof_images, Some(48));
    let oof_micro = pooled[0].oof_micro_recall.ok_or("no out-of-fold recall")?;
    assert!((oof_micro - right as f64 / 48.0).abs() < 1e-12);
    assert!(md.contains("out-of-fold micro-recall"), "{md}");
    Ok(())
}
