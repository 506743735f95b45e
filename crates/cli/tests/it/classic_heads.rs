//! Issue 31: every classic head a sweep fits is a usable model. A tiny CNN is trained, every
//! head kind is fitted on its frozen features, and each run is then used as a user would:
//! `cxr predict` in a new process, `cxr evaluate`, `cxr explain`, `cxr features --run`, and
//! damaged head files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cxr_results::{read_summary, GridDir, RunDir};

use crate::support::{cxr_in, s, transcript, TestResult};

const COMMON: &str = "[data]\nimage_size = 32\n[data.synthetic]\nper_class = 12\nsize = 32\n\
                      [train]\nmax_epochs = 2\npatience = 2\nbatch_size = 8\n";

const HEADS: [&str; 5] = ["logistic", "svm_linear", "svm_rbf", "random_forest", "knn"];

/// Trains the CNN source grid and every head on its features in `dir`; returns the head runs'
/// folders by head name and the synthetic data root.
fn fit_heads(
    dir: &Path,
) -> Result<(BTreeMap<String, PathBuf>, PathBuf), Box<dyn std::error::Error>> {
    std::fs::write(
        dir.join("cnn.toml"),
        format!("name = \"cnn\"\n{COMMON}[model]\nname = \"cnn\"\n"),
    )?;
    std::fs::write(
        dir.join("heads.toml"),
        format!(
            "name = \"heads\"\n{COMMON}[pretrained.trained]\ngrid = \"cnn.toml\"\n\
             [heads.random_forest]\ntrees = [15]\n\
             [[grid]]\nmodel = \"cnn\"\nweights = \"trained\"\n\
             head = [\"logistic\", \"svm_linear\", \"svm_rbf\", \"random_forest\", \"knn\"]\n"
        ),
    )?;
    let out = cxr_in(
        &["sweep", "heads.toml", "--cache-dir", "cache", "--quiet"],
        dir,
    )?;
    assert!(out.status.success(), "{}", transcript(&out));
    let grid = GridDir::new(&dir.join("results"), "heads");
    let mut runs = BTreeMap::new();
    for row in read_summary(&grid.summary_path())? {
        assert_eq!(row.status, "ok", "{}: {}", row.run_id, row.error);
        let head = row.head.clone().unwrap_or_default();
        runs.insert(head, grid.run(&row.run_id).path().to_path_buf());
    }
    assert_eq!(
        runs.keys().map(String::as_str).collect::<Vec<_>>().len(),
        HEADS.len()
    );
    let data = cxr_data::synth::cached_root(12, 32, 0, &dir.join("cache"))?;
    Ok((runs, data))
}

/// Path (as given) -> (predicted class, probability per class).
type Answers = BTreeMap<String, (String, BTreeMap<String, f64>)>;

/// `cxr predict --json` on `films`: path (as given) -> (predicted class, probabilities).
fn predict(
    dir: &Path,
    run: &Path,
    films: &[PathBuf],
) -> Result<Answers, Box<dyn std::error::Error>> {
    let mut args = vec![
        "predict",
        "--run",
        s(run)?,
        "--json",
        "--cache-dir",
        "cache",
    ];
    for film in films {
        args.push(s(film)?);
    }
    let out = cxr_in(&args, dir)?;
    assert!(out.status.success(), "{}", transcript(&out));
    let mut answers = BTreeMap::new();
    for line in String::from_utf8(out.stdout)?.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let probabilities = v["probabilities"]
            .as_object()
            .ok_or("no probabilities")?
            .iter()
            .map(|(k, p)| (k.clone(), p.as_f64().unwrap_or(f64::NAN)))
            .collect();
        let path = v["path"].as_str().ok_or("no path")?.to_string();
        let predicted = v["predicted"].as_str().ok_or("no class")?.to_string();
        answers.insert(path, (predicted, probabilities));
    }
    Ok(answers)
}

#[test]
fn every_classic_head_is_a_usable_model() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let (runs, data) = fit_heads(dir)?;
    for head in HEADS {
        let run = runs.get(head).ok_or(format!("no {head} run"))?;
        let folder = RunDir::at(run);
        assert!(folder.head_path().is_file(), "{head}: no head.safetensors");
        // Every head has probabilities now, so ECE covers classic heads.
        let summary = folder.read_summary()?;
        assert!(summary[0].test_ece.is_some(), "{head}: no ECE");
        let recorded = folder.read_predictions()?;
        let classes = folder.read_preprocessing()?.classes;
        let films: Vec<PathBuf> = recorded.iter().map(|r| data.join(&r.path)).collect();
        // A new process reads the head back and predicts the test films as the sweep did.
        let answers = predict(dir, run, &films)?;
        assert_eq!(answers.len(), recorded.len(), "{head}");
        for (row, film) in recorded.iter().zip(&films) {
            let (predicted, probabilities) = answers
                .get(s(film)?)
                .ok_or(format!("{head}: no answer for {}", row.path))?;
            assert_eq!(predicted, &row.predicted_class, "{head}: {}", row.path);
            let expected = row.probabilities.as_ref().ok_or("no probabilities")?;
            for (class, &p) in classes.iter().zip(expected) {
                let got = probabilities.get(class).copied().unwrap_or(f64::NAN);
                assert!(
                    (got - f64::from(p)).abs() < 1e-4,
                    "{head}, {}: {class} {got} vs {p}",
                    row.path
                );
            }
        }
    }

    // Scored on a dataset folder, with its predictions written out.
    let svm = runs.get("svm_rbf").ok_or("no svm_rbf run")?;
    let out = cxr_in(
        &[
            "evaluate",
            "--run",
            s(svm)?,
            "--data",
            s(&data)?,
            "--cache-dir",
            "cache",
            "--predictions",
            "p.parquet",
        ],
        dir,
    )?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert!(
        transcript(&out).contains("micro-recall"),
        "{}",
        transcript(&out)
    );
    assert_eq!(
        cxr_results::read_predictions(&dir.join("p.parquet"))?.len(),
        48
    );

    // Grad-CAM through the logistic head; a kernel head says in one line why not.
    let film = data.join("COVID/images/COVID-1.png");
    let logistic = runs.get("logistic").ok_or("no logistic run")?;
    let out = cxr_in(
        &[
            "explain",
            "--run",
            s(logistic)?,
            s(&film)?,
            "--out",
            "cam.png",
            "--cache-dir",
            "cache",
        ],
        dir,
    )?;
    assert!(out.status.success(), "{}", transcript(&out));
    assert!(dir.join("cam.png").is_file());
    let out = cxr_in(
        &[
            "explain",
            "--run",
            s(svm)?,
            s(&film)?,
            "--out",
            "no.png",
            "--cache-dir",
            "cache",
        ],
        dir,
    )?;
    assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stderr.lines().count() == 1
            && stderr.contains("cannot explain a svm_rbf head with Grad-CAM"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn a_damaged_missing_or_stale_head_is_a_one_line_error_naming_the_file() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let (runs, data) = fit_heads(dir)?;
    let film = data.join("Normal/images/Normal-1.png");
    let one_line_error = |run: &Path, wanted: &str| -> TestResult {
        let out = cxr_in(
            &[
                "predict",
                "--run",
                s(run)?,
                s(&film)?,
                "--cache-dir",
                "cache",
            ],
            dir,
        )?;
        assert_eq!(out.status.code(), Some(2), "{}", transcript(&out));
        let stderr = String::from_utf8(out.stderr)?;
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        let file = RunDir::at(run).head_path();
        assert!(
            stderr.contains(s(&file)?) && stderr.contains(wanted),
            "{stderr}"
        );
        Ok(())
    };

    let knn = runs.get("knn").ok_or("no knn run")?;
    let head = RunDir::at(knn).head_path();
    let bytes = std::fs::read(&head)?;
    std::fs::write(&head, &bytes[..bytes.len() / 3])?;
    one_line_error(knn, "not a safetensors file")?;
    std::fs::remove_file(&head)?;
    one_line_error(knn, "missing")?;

    // The source CNN retrained differently: its weights no longer give the head's features.
    let forest = runs.get("random_forest").ok_or("no forest run")?;
    let source = GridDir::new(&dir.join("results"), "cnn").runs()?;
    let weights = RunDir::at(source.first().ok_or("no source run")?.path()).model_path();
    let mut changed = std::fs::read(&weights)?;
    let last = changed.len() - 1;
    changed[last] ^= 1;
    std::fs::write(&weights, changed)?;
    one_line_error(forest, "changed since the head was fitted")?;
    Ok(())
}
