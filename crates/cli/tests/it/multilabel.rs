//! A multi-label run used as a user uses it: `cxr sweep` on a label table with two findings,
//! then `cxr predict` (a probability and a call per finding), `cxr evaluate --labels` (per-
//! finding AUROC, intervals resampling patients) and `cxr explain --finding`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cxr_results::{read_frame, GridDir};

use crate::support::{cxr_in, s, text, TestResult};

/// The tiny synthetic set (4 classes x 12 films at 32 px) described by a generic table with
/// two findings per film and two films per patient, trained for 2 epochs. Returns the run
/// folder, the data root and the table.
fn train_multilabel(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf), Box<dyn std::error::Error>> {
    let (root, table) = write_table(dir)?;
    let grid = format!(
        "name = \"ml\"\n[data]\nroot = {:?}\nlabels = {:?}\nimage_size = 32\n\
         [model]\nname = \"cnn\"\n[train]\nmax_epochs = 2\npatience = 2\nbatch_size = 16\n",
        s(&root)?,
        s(&table)?
    );
    std::fs::write(dir.join("ml.toml"), grid)?;
    let cache = dir.join("cache");
    let out = cxr_in(
        &["sweep", "ml.toml", "--quiet", "--cache-dir", s(&cache)?],
        dir,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let runs = GridDir::new(&dir.join("results"), "ml").runs()?;
    let run = runs.first().ok_or("no run folder")?.path().to_path_buf();
    Ok((run, root, table))
}

/// The tiny synthetic set's root (cached under `dir/cache`) and a generic table describing it
/// with two findings per film and two films per patient.
fn write_table(dir: &Path) -> Result<(PathBuf, PathBuf), Box<dyn std::error::Error>> {
    let cache = dir.join("cache");
    let root = cxr_data::synth::cached_root(12, 32, 0, &cache)?;
    let mut csv = String::from("path,patient,Opacity,Pneumonia\n");
    for class in ["COVID", "Lung_Opacity", "Normal", "Viral Pneumonia"] {
        let (o, p) = match class {
            "COVID" => (1, 1),
            "Lung_Opacity" => (1, 0),
            "Viral Pneumonia" => (0, 1),
            _ => (0, 0),
        };
        for n in 1..=12 {
            let patient = format!("{class}-{}", (n + 1) / 2);
            writeln!(csv, "{class}/images/{class}-{n}.png,{patient},{o},{p}")?;
        }
    }
    let table = dir.join("labels.csv");
    std::fs::write(&table, csv)?;
    Ok((root, table))
}

#[test]
fn a_multi_label_run_predicts_evaluates_and_explains_per_finding() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let (run, root, table) = train_multilabel(tmp.path())?;
    let cache = tmp.path().join("cache");
    let film = root.join("COVID/images/COVID-1.png");

    // predict: every finding's probability and call.
    let out = cxr_in(
        &[
            "predict",
            "--run",
            s(&run)?,
            s(&film)?,
            "--cache-dir",
            s(&cache)?,
        ],
        tmp.path(),
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    assert!(
        line.contains("Opacity=") && line.contains("Pneumonia="),
        "{line}"
    );
    assert_eq!(
        line.matches(" yes").count() + line.matches(" no").count(),
        2,
        "one call per finding: {line}"
    );
    let out = cxr_in(
        &["predict", "--run", s(&run)?, s(&film)?, "--json"],
        tmp.path(),
    )?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let p = json["probabilities"]["Opacity"]
        .as_f64()
        .ok_or("probability")?;
    assert!((0.0..=1.0).contains(&p));
    assert!(json["called"]["Pneumonia"].is_boolean(), "{json}");

    // evaluate on a label table: per-finding AUROC, patients resampled, stored with --out.
    let stored = tmp.path().join("eval.parquet");
    let out = cxr_in(
        &[
            "evaluate",
            "--run",
            s(&run)?,
            "--data",
            s(&root)?,
            "--labels",
            s(&table)?,
            "--out",
            s(&stored)?,
            "--cache-dir",
            s(&cache)?,
        ],
        tmp.path(),
    )?;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("48 film(s), 24 patients"), "{stdout}");
    assert!(stdout.contains("patients resampled"), "{stdout}");
    let df = read_frame(&stored)?;
    let column = df.column("metric")?.str()?.clone();
    let metrics: Vec<String> = (0..df.height())
        .filter_map(|r| column.get(r).map(str::to_string))
        .collect();
    assert_eq!(metrics.iter().filter(|m| *m == "auroc").count(), 2);
    assert!(metrics.contains(&"mean_auroc".to_string()));

    // Class folders are no way to score a multi-label run.
    let out = cxr_in(
        &["evaluate", "--run", s(&run)?, "--data", s(&root)?],
        tmp.path(),
    )?;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--labels TABLE"),
        "{}",
        text(&out.stderr)
    );

    // explain one finding.
    let png = tmp.path().join("cam.png");
    let out = cxr_in(
        &[
            "explain",
            "--run",
            s(&run)?,
            s(&film)?,
            "--finding",
            "Pneumonia",
            "--out",
            s(&png)?,
        ],
        tmp.path(),
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(image::open(&png)?.width() > 0);
    Ok(())
}

/// Issue 26: classic heads fit one-vs-rest on a label table, and each such run is a
/// multi-label model like a network's: per-finding tables, `cxr predict` giving exactly the
/// recorded probabilities and calls, `cxr evaluate --labels`, Grad-CAM through logistic heads.
#[test]
fn one_vs_rest_classic_heads_are_multi_label_models() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let (root, table) = write_table(dir)?;
    let grid = format!(
        "name = \"ovr\"\n[data]\nroot = {:?}\nlabels = {:?}\nimage_size = 32\n\
         [heads.random_forest]\ntrees = [15]\n\
         [[grid]]\nmodel = \"cnn\"\nhead = [\"logistic\", \"svm_rbf\", \"random_forest\", \"knn\"]\n",
        s(&root)?,
        s(&table)?
    );
    std::fs::write(dir.join("ovr.toml"), grid)?;
    let out = cxr_in(
        &["sweep", "ovr.toml", "--quiet", "--cache-dir", "cache"],
        dir,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let grid_dir = GridDir::new(&dir.join("results"), "ovr");
    let summary = cxr_results::read_summary(&grid_dir.summary_path())?;
    assert_eq!(summary.len(), 4);
    for row in &summary {
        let head = row.head.clone().unwrap_or_default();
        assert_eq!(row.status, "ok", "{head}: {}", row.error);
        assert!(row.is_multilabel(), "{head}");
        assert!(
            row.test_mean_auroc.is_some() && row.val_mean_auroc.is_some(),
            "{head}"
        );
        assert_eq!(row.epochs_run, None, "{head}: no epochs");
        let params = row.head_params.clone().unwrap_or_default();
        assert!(
            params.starts_with("Opacity: ") && params.contains("; Pneumonia: "),
            "{params}"
        );
        let run = grid_dir.run(&row.run_id);
        assert_eq!(run.read_per_finding()?.len(), 2, "{head}");
        assert!(run.head_path().is_file(), "{head}");

        // A new process predicts every test film's findings as the sweep recorded them.
        let recorded = run.read_finding_predictions()?;
        let mut films: Vec<String> = recorded.iter().map(|r| r.path.clone()).collect();
        films.dedup();
        let mut args = vec![
            "predict".to_string(),
            "--run".into(),
            s(run.path())?.into(),
            "--json".into(),
        ];
        args.extend(
            films
                .iter()
                .map(|f| s(&root.join(f)).map(str::to_string))
                .collect::<Result<Vec<_>, _>>()?,
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cxr_in(&args, dir)?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let answers: Vec<serde_json::Value> = text(&out.stdout)
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()?;
        assert_eq!(answers.len(), films.len());
        for r in &recorded {
            let film = s(&root.join(&r.path))?.to_string();
            let answer = answers
                .iter()
                .find(|a| a["path"].as_str() == Some(film.as_str()))
                .ok_or("film not predicted")?;
            let p = answer["probabilities"][&r.finding]
                .as_f64()
                .ok_or("no probability")?;
            assert!(
                (p - r.probability).abs() < 1e-4,
                "{head} {film} {}: {p} vs {}",
                r.finding,
                r.probability
            );
            assert_eq!(
                answer["called"][&r.finding].as_bool(),
                Some(r.called),
                "{head} {film}"
            );
        }
    }

    let run_of = |head: &str| -> Result<PathBuf, String> {
        summary
            .iter()
            .find(|r| r.head.as_deref() == Some(head))
            .map(|r| grid_dir.run(&r.run_id).path().to_path_buf())
            .ok_or(format!("no {head} run"))
    };
    let forest = run_of("random_forest")?;
    let out = cxr_in(
        &[
            "evaluate",
            "--run",
            s(&forest)?,
            "--data",
            s(&root)?,
            "--labels",
            s(&table)?,
            "--cache-dir",
            "cache",
        ],
        dir,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("patients resampled"),
        "{}",
        text(&out.stdout)
    );

    let film = root.join("COVID/images/COVID-1.png");
    let logistic = run_of("logistic")?;
    let out = cxr_in(
        &[
            "explain",
            "--run",
            s(&logistic)?,
            s(&film)?,
            "--finding",
            "Pneumonia",
            "--out",
            "cam.png",
            "--cache-dir",
            "cache",
        ],
        dir,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cxr_in(
        &[
            "explain",
            "--run",
            s(&forest)?,
            s(&film)?,
            "--finding",
            "Pneumonia",
            "--out",
            "no.png",
            "--cache-dir",
            "cache",
        ],
        dir,
    )?;
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("cannot explain a random_forest head"),
        "{}",
        text(&out.stderr)
    );
    Ok(())
}

/// A finding with no positive film cannot be fitted one-vs-rest: the run is recorded as failed
/// with a one-line error naming the finding and the way out.
#[test]
fn a_finding_without_positives_fails_its_classic_head_run_naming_it() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let (root, table) = write_table(dir)?;
    let csv: String = std::fs::read_to_string(&table)?
        .lines()
        .enumerate()
        .map(|(i, line)| format!("{line},{}\n", if i == 0 { "Rare" } else { "0" }))
        .collect();
    std::fs::write(&table, csv)?;
    let grid = format!(
        "name = \"rare\"\n[data]\nroot = {:?}\nlabels = {:?}\nimage_size = 32\n\
         [model]\nname = \"cnn\"\nhead = \"logistic\"\n",
        s(&root)?,
        s(&table)?
    );
    std::fs::write(dir.join("rare.toml"), grid)?;
    let out = cxr_in(
        &["sweep", "rare.toml", "--quiet", "--cache-dir", "cache"],
        dir,
    )?;
    // A failed run is recorded, and the sweep says so by its exit code.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let summary =
        cxr_results::read_summary(&GridDir::new(&dir.join("results"), "rare").summary_path())?;
    let row = summary.first().ok_or("one run")?;
    assert_eq!(row.status, "failed");
    assert!(
        row.error
            .starts_with("classic head: finding Rare: the training split holds 1 class(es)")
            && row.error.contains("data.findings")
            && !row.error.contains('\n'),
        "{}",
        row.error
    );
    Ok(())
}

/// On the NIH sample in `../shared/data`: ignored by a plain `cargo test`.
mod shared_data {
    use super::*;

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn nih_sample_end_to_end_split_by_patient() -> TestResult {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/NIH_ChestXray14_sample");
        let tmp = tempfile::tempdir()?;
        let grid = format!(
            "name = \"nih\"\n[data]\nroot = {:?}\nlabels = \"Data_Entry_2017_v2020.csv\"\n\
             image_size = 64\n[data.filter]\n\"View Position\" = [\"PA\", \"AP\"]\n\
             [model]\nname = \"cnn\"\n[train]\nmax_epochs = 2\npatience = 2\nbatch_size = 32\n\
             pos_weight = \"balanced\"\n",
            s(&root)?
        );
        std::fs::write(tmp.path().join("nih.toml"), grid)?;
        let cache = tmp.path().join("cache");
        let out = cxr_in(
            &["sweep", "nih.toml", "--quiet", "--cache-dir", s(&cache)?],
            tmp.path(),
        )?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let grid_dir = GridDir::new(&tmp.path().join("results"), "nih");
        let summary = cxr_results::read_summary(&grid_dir.summary_path())?;
        let row = summary.first().ok_or("one run")?;
        assert!(row.is_multilabel());
        let patients =
            [row.train_patients, row.val_patients, row.test_patients].map(|p| p.unwrap_or(0));
        assert_eq!(patients.iter().sum::<i64>(), 212, "{patients:?}");
        let run = grid_dir.run(&row.run_id);
        let per_finding = run.read_per_finding()?;
        assert_eq!(
            per_finding.len(),
            14,
            "NIH's 14 findings, No Finding not one"
        );
        // No patient in two parts: the test predictions' patients are nobody else's.
        let test_patients: std::collections::BTreeSet<String> = run
            .read_finding_predictions()?
            .into_iter()
            .map(|p| p.patient)
            .collect();
        assert_eq!(test_patients.len() as i64, patients[2]);

        // The report: the per-finding table and the ROC curves.
        let out = cxr_in(&["report", "results/nih"], tmp.path())?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let report = grid_dir.path().join("report");
        let md = std::fs::read_to_string(report.join("report.md"))?;
        assert!(md.contains("Test AUROC per finding"), "{md}");
        assert!(md.contains("Effusion"));
        assert!(report.join("roc_curves.png").is_file());
        assert!(report.join("test_mean_auroc.png").is_file());
        // The check: a baseline written from these results holds the mean AUROC and passes.
        let baseline = tmp.path().join("nih-baseline.toml");
        let out = cxr_in(
            &[
                "check",
                "results/nih",
                "--baseline",
                s(&baseline)?,
                "--update",
            ],
            tmp.path(),
        )?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(std::fs::read_to_string(&baseline)?.contains("mean_auroc"));
        let out = cxr_in(
            &["check", "results/nih", "--baseline", s(&baseline)?],
            tmp.path(),
        )?;
        assert!(out.status.success(), "{}", text(&out.stdout));

        let film = root.join("images/00000001_000.png");
        let out = cxr_in(&["predict", "--run", s(run.path())?, s(&film)?], tmp.path())?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("Effusion="));
        let out = cxr_in(
            &[
                "evaluate",
                "--run",
                s(run.path())?,
                "--data",
                s(&root)?,
                "--labels",
                "Data_Entry_2017_v2020.csv",
                "--cache-dir",
                s(&cache)?,
            ],
            tmp.path(),
        )?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("798 film(s), 212 patients"),
            "{}",
            text(&out.stdout)
        );
        let png = tmp.path().join("cam.png");
        let out = cxr_in(
            &[
                "explain",
                "--run",
                s(run.path())?,
                s(&film)?,
                "--finding",
                "Effusion",
                "--out",
                s(&png)?,
            ],
            tmp.path(),
        )?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(png.is_file());
        Ok(())
    }
}
