//! `cxr predict`, `cxr evaluate` and `cxr explain` as a user runs them, against a CNN trained in
//! the test on a tiny synthetic set (32 px, 12 images per class, 2 epochs: seconds).

use std::path::{Path, PathBuf};

use cxr_experiment::RunConfig;
use cxr_results::{read_frame, GridDir};
use cxr_trainer::prepare::DataMemo;

use crate::support::{cxr_in, s, text, tiny_grid, TestResult};

const TINY: &str = tiny_grid!("[grid]\nmodel = [\"cnn\"]\n");

/// A trained tiny run in `dir`: its folder, its config, and the synthetic dataset root.
struct Trained {
    run: PathBuf,
    config: RunConfig,
    data_root: PathBuf,
    cache: PathBuf,
}

fn train_tiny(dir: &Path) -> Result<Trained, Box<dyn std::error::Error>> {
    std::fs::write(dir.join("g.toml"), TINY)?;
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().ok_or("path")?;
    let out = cxr_in(
        &["sweep", "g.toml", "--quiet", "--cache-dir", cache_arg],
        dir,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let runs = GridDir::new(&dir.join("results"), "tiny").runs()?;
    let run = runs.first().ok_or("no run folder")?.path().to_path_buf();
    let config = RunConfig::from_toml(&std::fs::read_to_string(run.join("config.toml"))?)?;
    let data_root = cxr_data::synth::cached_root(12, 32, 0, &cache)?;
    Ok(Trained {
        run,
        config,
        data_root,
        cache,
    })
}

#[test]
fn predict_on_a_folder_gives_one_line_per_image_summing_to_one() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let t = train_tiny(tmp.path())?;
    // A folder of new films: 3 per class, in one flat folder, plus a file that is no image.
    let films = tmp.path().join("films");
    std::fs::create_dir_all(&films)?;
    let mut count = 0;
    for class in ["COVID", "Lung_Opacity", "Normal", "Viral Pneumonia"] {
        for n in 1..=3 {
            let name = format!("{class}-{n}.png");
            std::fs::copy(
                t.data_root.join(class).join("images").join(&name),
                films.join(&name),
            )?;
            count += 1;
        }
    }
    std::fs::write(films.join("notes.png"), "not a radiograph")?;

    let out = cxr_in(
        &["predict", "--run", s(&t.run)?, s(&films)?, "--json"],
        tmp.path(),
    )?;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "one file was skipped: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), count, "{stdout}");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let probs = v["probabilities"].as_object().ok_or("probabilities")?;
        assert_eq!(probs.len(), 4, "{line}");
        let sum: f64 = probs.values().filter_map(|p| p.as_f64()).sum();
        assert!((sum - 1.0).abs() < 1e-4, "{line}: sum {sum}");
        let best = probs
            .iter()
            .filter_map(|(c, p)| p.as_f64().map(|p| (c.as_str(), p)))
            .fold(None, |best: Option<(&str, f64)>, (c, p)| match best {
                Some((_, q)) if q >= p => best,
                _ => Some((c, p)),
            })
            .map(|(c, _)| c);
        assert_eq!(v["predicted"].as_str(), best, "{line}");
        assert!(v["path"].as_str().is_some_and(|p| p.ends_with(".png")));
    }
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].starts_with("error: cannot read image ") && errors[0].contains("notes.png"),
        "{stderr}"
    );

    // Plain text: one line per image too; --top limits the classes listed.
    let out = cxr_in(
        &["predict", "--run", s(&t.run)?, s(&films)?, "--top", "2"],
        tmp.path(),
    )?;
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), count, "{stdout}");
    for line in stdout.lines() {
        assert_eq!(line.matches('=').count(), 2, "{line}");
    }
    Ok(())
}

/// Given the run's own test images, `cxr evaluate` must reproduce the trainer's test metrics:
/// same preprocessing, same normalisation, same model, same metric code.
#[test]
fn evaluate_on_the_test_images_matches_the_trainers_test_metrics() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let t = train_tiny(tmp.path())?;
    let data = DataMemo::default().prepare(&t.config, &t.cache)?;
    // The outside dataset: the test split, class folders spelled another way, plus a class
    // the model does not know.
    let outside = tmp.path().join("outside");
    for &i in &data.split.test {
        let class = &data.set.classes[data.set.labels[i] as usize];
        let folder = outside.join(class.replace(' ', "_").to_lowercase());
        std::fs::create_dir_all(&folder)?;
        let src = t.data_root.join(&data.set.files[i]);
        std::fs::copy(&src, folder.join(src.file_name().ok_or("name")?))?;
    }
    std::fs::create_dir_all(outside.join("Fracture"))?;
    std::fs::copy(
        t.data_root.join("Normal/images/Normal-1.png"),
        outside.join("Fracture/x.png"),
    )?;

    let out_file = tmp.path().join("ev.parquet");
    let out = cxr_in(
        &[
            "evaluate",
            "--run",
            s(&t.run)?,
            "--data",
            s(&outside)?,
            "--out",
            s(&out_file)?,
            "--cache-dir",
            s(&t.cache)?,
        ],
        tmp.path(),
    )?;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("\"viral_pneumonia\" -> Viral Pneumonia"),
        "{stdout}"
    );
    assert!(
        stdout.contains("folders the model does not know (left out): Fracture"),
        "{stdout}"
    );
    for needle in [
        "micro-recall",
        "macro-recall",
        "roc_auc",
        "confusion matrix",
    ] {
        assert!(stdout.contains(needle), "{needle}: {stdout}");
    }

    let ev = read_frame(&out_file)?;
    let metric = ev.column("metric")?.str()?.clone();
    let class = ev.column("class")?.str()?.clone();
    let predicted = ev.column("predicted_class")?.str()?.clone();
    let value = ev.column("value")?.f64()?.clone();
    let get = |m: &str, c: Option<&str>, p: Option<&str>| -> Option<f64> {
        (0..ev.height())
            .find(|&r| metric.get(r) == Some(m) && class.get(r) == c && predicted.get(r) == p)
            .and_then(|r| value.get(r))
    };
    let summary = cxr_results::read_summary(&t.run.join("summary.parquet"))?;
    let trained = summary.first().ok_or("summary row")?;
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        _ => false,
    };
    assert_eq!(
        get("images", None, None),
        trained.test_images.map(|n| n as f64)
    );
    let micro = get("micro_recall", None, None);
    let macro_ = get("macro_recall", None, None);
    assert!(
        close(micro, trained.test_micro_recall),
        "{micro:?} vs {trained:?}"
    );
    assert!(
        close(macro_, trained.test_macro_recall),
        "{macro_:?} vs {trained:?}"
    );
    // Per class and confusion, row by row against the run's own tables.
    let per_class = read_frame(&t.run.join("per_class.parquet"))?;
    let names = per_class.column("class")?.str()?.clone();
    for column in ["precision", "recall", "f1"] {
        let want = per_class.column(column)?.f64()?.clone();
        for r in 0..per_class.height() {
            assert!(
                close(get(column, names.get(r), None), want.get(r)),
                "{column} of {:?}",
                names.get(r)
            );
        }
    }
    let confusion = read_frame(&t.run.join("confusion.parquet"))?;
    let (tc, pc) = (
        confusion.column("true_class")?.str()?.clone(),
        confusion.column("predicted_class")?.str()?.clone(),
    );
    let counts = confusion.column("count")?.i64()?.clone();
    for r in 0..confusion.height() {
        assert_eq!(
            get("confusion", tc.get(r), pc.get(r)),
            counts.get(r).map(|n| n as f64),
            "{:?} -> {:?}",
            tc.get(r),
            pc.get(r)
        );
    }
    // The bootstrap bounds bracket the point estimates.
    for (point, low, high) in [
        (micro, "micro_recall_low", "micro_recall_high"),
        (macro_, "macro_recall_low", "macro_recall_high"),
    ] {
        let (p, lo, hi) = (
            point.ok_or("point")?,
            get(low, None, None).ok_or("low")?,
            get(high, None, None).ok_or("high")?,
        );
        assert!(lo <= p && p <= hi && lo < hi, "{lo} <= {p} <= {hi}");
    }
    let auc = get("roc_auc", Some("COVID"), None).ok_or("auc")?;
    assert!((0.0..=1.0).contains(&auc));
    // The same calibration error as the run's own test split; no temperature (uncalibrated).
    assert!(
        close(get("ece", None, None), trained.test_ece),
        "{:?} vs {:?}",
        get("ece", None, None),
        trained.test_ece
    );
    assert_eq!(get("temperature", None, None), None);
    assert!(
        stdout.contains("expected calibration error (15 bins)"),
        "{stdout}"
    );
    Ok(())
}

#[test]
fn a_calibrated_run_keeps_its_temperature_and_predict_and_evaluate_use_it() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let grid = TINY.replace("batch_size = 8\n", "batch_size = 8\ncalibrate = true\n");
    assert!(grid.contains("calibrate = true"));
    std::fs::write(dir.join("g.toml"), grid)?;
    let cache = dir.join("cache");
    let out = cxr_in(
        &["sweep", "g.toml", "--quiet", "--cache-dir", s(&cache)?],
        dir,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let runs = GridDir::new(&dir.join("results"), "tiny").runs()?;
    let run = cxr_results::RunDir::at(runs.first().ok_or("no run folder")?.path());
    let summary = cxr_results::read_summary(&run.summary_path())?;
    let trained = summary.first().ok_or("summary row")?;

    // The fit: kept with the run, and it lowered the validation NLL.
    let record = run.read_calibration()?.ok_or("no calibration.json")?;
    assert!(record.temperature > 0.0);
    assert!(
        record.val_nll <= record.val_nll_uncalibrated + 1e-12,
        "{record:?}"
    );
    assert_eq!(trained.temperature, Some(record.temperature));
    assert_eq!(trained.test_ece, Some(record.test_ece));
    assert_eq!(
        trained.test_ece_uncalibrated,
        Some(record.test_ece_uncalibrated)
    );

    // predictions.parquet: every test image once, probabilities summing to 1, argmax the
    // predicted class, and the summary's ECE recomputed from it.
    let classes = run.read_preprocessing()?.classes;
    let rows = run.read_predictions()?;
    assert_eq!(Some(rows.len() as i64), trained.test_images);
    let mut probabilities = Vec::new();
    let mut truth = Vec::new();
    for row in &rows {
        let p = row.probabilities.as_ref().ok_or("no probabilities")?;
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{p:?}");
        let best = p
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .ok_or("empty row")?;
        assert_eq!(classes[best], row.predicted_class);
        probabilities.extend_from_slice(p);
        truth.push(
            classes
                .iter()
                .position(|c| *c == row.true_class)
                .ok_or("class")? as u32,
        );
    }
    let recomputed =
        cxr_metrics::calibration(&probabilities, &truth, classes.len(), 15).ok_or("calibration")?;
    assert!((recomputed.ece - record.test_ece).abs() < 1e-12);

    // cxr evaluate on the test images: the run's calibrated probabilities, image by image.
    let data_root = cxr_data::synth::cached_root(12, 32, 0, &cache)?;
    let outside = dir.join("outside");
    for row in &rows {
        let src = data_root.join(&row.path);
        let folder = outside.join(&row.true_class);
        std::fs::create_dir_all(&folder)?;
        std::fs::copy(&src, folder.join(src.file_name().ok_or("name")?))?;
    }
    let (ev_predictions, stem) = (dir.join("ev-predictions.parquet"), dir.join("rel"));
    let out = cxr_in(
        &[
            "evaluate",
            "--run",
            s(run.path())?,
            "--data",
            s(&outside)?,
            "--predictions",
            s(&ev_predictions)?,
            "--reliability",
            s(&stem)?,
            "--cache-dir",
            s(&cache)?,
        ],
        dir,
    )?;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!(
            "{:.4} (probabilities scaled by the run's temperature {:.3})",
            record.test_ece, record.temperature
        )),
        "{stdout}"
    );
    assert!(dir.join("rel.png").is_file() && dir.join("rel.svg").is_file());
    let name = |p: &str| Path::new(p).file_name().map(|n| n.to_owned());
    let evaluated = cxr_results::read_predictions(&ev_predictions)?;
    assert_eq!(evaluated.len(), rows.len());
    for e in &evaluated {
        let own = rows
            .iter()
            .find(|r| name(&r.path) == name(&e.path))
            .ok_or("image not in the run's predictions")?;
        assert_eq!(own.predicted_class, e.predicted_class);
        let (a, b) = (
            own.probabilities.as_ref().ok_or("run probabilities")?,
            e.probabilities.as_ref().ok_or("evaluated probabilities")?,
        );
        assert!(
            a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6),
            "{}: {a:?} vs {b:?}",
            e.path
        );
    }

    // cxr predict on one image: the same calibrated probabilities.
    let first = &rows[0];
    let out = cxr_in(
        &[
            "predict",
            "--run",
            s(run.path())?,
            s(&data_root.join(&first.path))?,
            "--json",
        ],
        dir,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line: serde_json::Value = serde_json::from_str(text(&out.stdout).trim())?;
    let want = first.probabilities.as_ref().ok_or("probabilities")?;
    for (class, p) in classes.iter().zip(want) {
        let got = line["probabilities"][class]
            .as_f64()
            .ok_or_else(|| format!("no {class} in {line}"))?;
        assert!((got - f64::from(*p)).abs() < 1e-6, "{class}: {got} vs {p}");
    }

    // cxr explain's probabilities (its figure's title) are the calibrated ones too.
    let registry = cxr_weights::Registry::from_env();
    let env = cxr_trainer::RunEnv::new(&cache, Path::new("results"), &registry);
    let model = cxr_inference::TrainedModel::open(run.path(), &env, &candle_core::Device::Cpu)?;
    assert_eq!(model.temperature, Some(record.temperature));
    let explained = cxr_inference::explain(&model, &data_root.join(&first.path), None)?;
    for (got, p) in explained.cam.probabilities.iter().zip(want) {
        assert!((got - p).abs() < 1e-5, "{got} vs {p}");
    }
    Ok(())
}

#[test]
fn explain_writes_an_overlay_that_follows_the_class() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let t = train_tiny(tmp.path())?;
    let image = t.data_root.join("Lung_Opacity/images/Lung_Opacity-1.png");
    let mut pngs = Vec::new();
    for class in ["COVID", "viral pneumonia"] {
        let png = tmp.path().join(format!("{class}.png"));
        let out = cxr_in(
            &[
                "explain",
                "--run",
                s(&t.run)?,
                s(&image)?,
                "--class",
                class,
                "--out",
                s(&png)?,
            ],
            tmp.path(),
        )?;
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            stdout.starts_with("wrote ") && stdout.contains("Grad-CAM for "),
            "{stdout}"
        );
        let figure = image::open(&png)?.into_rgb8();
        // The figure is larger than the 32 px film: enlarged, with title and colour bar.
        assert!(figure.width() > 448 && figure.height() > 448);
        pngs.push(figure);
    }
    assert_eq!(pngs[0].dimensions(), pngs[1].dimensions());
    assert_ne!(
        pngs[0].as_raw(),
        pngs[1].as_raw(),
        "the heatmap follows --class"
    );
    Ok(())
}

/// Each bad input ends with exit code 2 and one line on stderr that names the problem.
#[test]
fn bad_inputs_fail_with_one_line() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let t = train_tiny(tmp.path())?;
    let image = t.data_root.join("COVID/images/COVID-1.png");

    let no_weights = tmp.path().join("no-weights");
    std::fs::create_dir_all(&no_weights)?;
    std::fs::copy(t.run.join("config.toml"), no_weights.join("config.toml"))?;
    let bad_config = tmp.path().join("bad-config");
    std::fs::create_dir_all(&bad_config)?;
    let config = std::fs::read_to_string(t.run.join("config.toml"))?;
    std::fs::write(
        bad_config.join("config.toml"),
        format!("{config}\nfuture_setting = 1\n"),
    )?;
    std::fs::copy(
        t.run.join("model.safetensors"),
        bad_config.join("model.safetensors"),
    )?;
    let not_an_image = tmp.path().join("scan.png");
    std::fs::write(&not_an_image, "%PDF-1.4 not an image")?;
    let png = tmp.path().join("o.png");

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["predict", "--run", s(&no_weights)?, s(&image)?],
            "has no weights (",
        ),
        (
            vec![
                "evaluate",
                "--run",
                s(&no_weights)?,
                "--data",
                s(&t.data_root)?,
            ],
            "the run is unfinished or failed",
        ),
        (
            vec!["predict", "--run", s(&bad_config)?, s(&image)?],
            "not a run config this cxr can read: line",
        ),
        (
            vec!["predict", "--run", s(&t.run)?, s(&not_an_image)?],
            "cannot read image",
        ),
        (
            vec![
                "explain",
                "--run",
                s(&t.run)?,
                s(&not_an_image)?,
                "--out",
                s(&png)?,
            ],
            "cannot read image",
        ),
        (
            vec![
                "explain",
                "--run",
                s(&t.run)?,
                s(&image)?,
                "--class",
                "Fracture",
                "--out",
                s(&png)?,
            ],
            "unknown class \"Fracture\"",
        ),
        (
            vec!["predict", "--run", s(tmp.path())?, s(&image)?],
            "is not a run folder",
        ),
        (
            vec!["predict", "--run", s(&t.run)?, "missing.png"],
            "missing.png does not exist",
        ),
    ];
    for (args, needle) in cases {
        let out = cxr_in(&args, tmp.path())?;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{needle}: {stderr}"
        );
    }
    assert!(!png.exists(), "nothing written on error");
    Ok(())
}

/// A run trained on masked films masks new films too, with the mask found beside the image;
/// an image without one is an error that says where the mask was expected.
#[test]
fn masked_runs_mask_new_images_and_need_their_masks() -> TestResult {
    let tmp = tempfile::tempdir()?;
    std::fs::write(
        tmp.path().join("g.toml"),
        TINY.replace("image_size = 32\n", "image_size = 32\nmask = true\n"),
    )?;
    let cache = tmp.path().join("cache");
    let out = cxr_in(
        &["sweep", "g.toml", "--quiet", "--cache-dir", s(&cache)?],
        tmp.path(),
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let runs = GridDir::new(&tmp.path().join("results"), "tiny").runs()?;
    let run = runs.first().ok_or("no run folder")?.path().to_path_buf();
    let root = cxr_data::synth::cached_root(12, 32, 0, &cache)?;

    // In the Kaggle layout the mask sits in masks/ beside images/.
    let image = root.join("COVID/images/COVID-2.png");
    let out = cxr_in(&["predict", "--run", s(&run)?, s(&image)?], tmp.path())?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 1);

    let loose = tmp.path().join("loose.png");
    std::fs::copy(&image, &loose)?;
    let out = cxr_in(&["predict", "--run", s(&run)?, s(&loose)?], tmp.path())?;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no lung mask for") && stderr.contains("masks/loose.png"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn features_from_a_run_and_from_named_weights_read_back_with_polars() -> TestResult {
    use polars::prelude::DataType;

    let tmp = tempfile::tempdir()?;
    let trained = train_tiny(tmp.path())?;
    let images = 4 * 12; // the synthetic set's 4 classes
    let check = |file: &Path, dim: usize| -> TestResult {
        let frame = read_frame(file)?;
        assert_eq!(frame.height(), images, "one row per image");
        let names: Vec<String> = frame
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, cxr_results::FEATURE_COLUMNS);
        let features = frame.column("features")?;
        assert_eq!(
            features.dtype(),
            &DataType::Array(Box::new(DataType::Float32), dim)
        );
        let splits = frame.column("split")?.str()?.clone();
        let tests = splits.iter().filter(|s| *s == Some("test")).count();
        assert!(tests > 0 && tests < images);
        Ok(())
    };

    let from_run = tmp.path().join("run.parquet");
    let out = cxr_in(
        &[
            "features",
            "--run",
            s(&trained.run)?,
            "--data",
            s(&trained.data_root)?,
            "--out",
            s(&from_run)?,
            "--cache-dir",
            s(&trained.cache)?,
        ],
        tmp.path(),
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("48 image(s) x 512 features"),
        "{}",
        text(&out.stdout)
    );
    check(&from_run, 512)?;
    // On the run's own data the split column is the run's split: its test images are the
    // ones the run was scored on.
    let table = cxr_results::read_features(&from_run)?;
    let prepared = DataMemo::default().prepare(&trained.config, &trained.cache)?;
    let run_tests: Vec<String> = prepared
        .split
        .test
        .iter()
        .map(|&i| prepared.set.files[i].to_string_lossy().into_owned())
        .collect();
    let mut exported: Vec<String> = table
        .rows_in("test")
        .into_iter()
        .map(|i| table.paths[i].clone())
        .collect();
    let mut expected = run_tests.clone();
    exported.sort();
    expected.sort();
    assert_eq!(exported, expected);

    let named = tmp.path().join("named.parquet");
    let out = cxr_in(
        &[
            "features",
            "--model",
            "resnet18",
            "--weights",
            "random",
            "--image-size",
            "32",
            "--data",
            s(&trained.data_root)?,
            "--out",
            s(&named)?,
            "--cache-dir",
            s(&trained.cache)?,
        ],
        tmp.path(),
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    check(&named, 512)?;

    // A weights file that is not there: one line naming it, exit 2, no output file.
    let missing = tmp.path().join("missing.parquet");
    let out = cxr_in(
        &[
            "features",
            "--model",
            "resnet18",
            "--weights",
            "nowhere.safetensors",
            "--data",
            s(&trained.data_root)?,
            "--out",
            s(&missing)?,
        ],
        tmp.path(),
    )?;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nowhere.safetensors") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(!missing.exists());
    Ok(())
}

/// Issue 32: a mistyped `--run` did not list the runs that exist.
#[test]
fn a_mistyped_run_lists_the_runs_that_exist() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let runs = tmp.path().join("results/g/runs");
    for id in ["cnn-f0-s0-0123456789ab", "resnet18-f2-s0-ba9876543210"] {
        std::fs::create_dir_all(runs.join(id))?;
        std::fs::write(runs.join(id).join("config.toml"), "")?;
    }
    std::fs::create_dir_all(runs.join("killed-run-without-config"))?;
    for given in ["results/g/runs/resnet18-f2-s0-ba98765", "results/g"] {
        let out = cxr_in(&["predict", "--run", given, "x.png"], tmp.path())?;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&format!("{given} is not a run folder")),
            "{stderr}"
        );
        assert!(stderr.contains("runs in results/g/runs: "), "{stderr}");
        assert!(stderr.contains("cnn-f0-s0-0123456789ab"), "{stderr}");
        assert!(!stderr.contains("killed-run"), "{stderr}");
    }
    // The closest name first.
    let out = cxr_in(
        &["predict", "--run", "results/g/runs/resnet18-f2", "x.png"],
        tmp.path(),
    )?;
    assert!(text(&out.stderr).contains("runs: resnet18-f2-s0-ba9876543210, cnn"));
    Ok(())
}
