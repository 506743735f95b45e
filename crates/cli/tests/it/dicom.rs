//! DICOM through every command that reads images: a sweep on a DICOM copy of part of the real
//! sample matches the sweep on its PNGs; `predict`, `evaluate` and `explain` read DICOM as
//! they read PNG; refused objects fail with one line each; and no patient attribute written
//! into the DICOM files ever appears in any output or results file.

use std::path::{Path, PathBuf};
use std::process::Output;

use cxr_dicom_fixtures::{write_radiograph, DicomVariant, ErrorObject, Patient};
use cxr_results::{read_frame, GridDir};
use polars::prelude::DataFrame;

use crate::support::{cxr_in, real_sample, s, text, TestResult};

/// Class-folder copies of the first `n` images per class of `src`: the PNGs in `out/png`, the
/// same films as DICOM in `out/dcm` (each windowed variant in turn, so uncompressed, RLE and
/// JPEG lossless, MONOCHROME1 and 2, with and without rescale all occur), same names bar the
/// extension, every DICOM file carrying `patient`.
fn png_and_dicom_copies(
    src: &Path,
    n: usize,
    out: &Path,
    patient: &Patient,
) -> Result<(PathBuf, PathBuf), Box<dyn std::error::Error>> {
    let windowed: Vec<DicomVariant> = DicomVariant::all()
        .into_iter()
        .filter(|v| v.window)
        .collect();
    let (png_root, dcm_root) = (out.join("png"), out.join("dcm"));
    let index = cxr_data::discover(src, None)?;
    let mut i = 0;
    for class in &index.classes {
        std::fs::create_dir_all(png_root.join(&class.name))?;
        for path in class.images.iter().take(n) {
            let stem = path
                .file_stem()
                .ok_or("stem")?
                .to_string_lossy()
                .into_owned();
            std::fs::copy(path, png_root.join(&class.name).join(format!("{stem}.png")))?;
            let grey = cxr_data::decode::to_u8(&cxr_data::decode::read_luma(path)?.0);
            let dcm = dcm_root.join(&class.name).join(format!("{stem}.dcm"));
            write_radiograph(&dcm, &grey, &windowed[i % windowed.len()], patient)?;
            i += 1;
        }
    }
    Ok((png_root, dcm_root))
}

/// Sweeps a one-run grid (the CNN, 2 epochs) on `dir/root`; the run folder and the sweep's
/// stdout and stderr.
fn sweep(
    dir: &Path,
    root: &str,
    image_size: u32,
) -> Result<(PathBuf, String), Box<dyn std::error::Error>> {
    let grid = format!(
        "name = \"g\"\n[data]\nroot = \"{root}\"\nimage_size = {image_size}\n\
         [train]\nmax_epochs = 2\npatience = 2\nbatch_size = 8\n[grid]\nmodel = [\"cnn\"]\n"
    );
    std::fs::write(dir.join(format!("{root}.toml")), grid)?;
    let results = dir.join(format!("results-{root}"));
    let out = cxr_in(
        &[
            "sweep",
            &format!("{root}.toml"),
            "--quiet",
            "--cache-dir",
            s(&dir.join("cache"))?,
            "--results",
            s(&results)?,
        ],
        dir,
    )?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let runs = GridDir::new(&results, "g").runs()?;
    assert_eq!(runs.len(), 1);
    let transcript = text(&out.stdout) + &text(&out.stderr);
    Ok((runs[0].path().to_path_buf(), transcript))
}

/// A run table without what legitimately differs between the two sweeps: run ids, timings,
/// and file paths (compared separately, extension stripped).
fn comparable(path: &Path) -> Result<DataFrame, Box<dyn std::error::Error>> {
    let mut df = read_frame(path)?;
    for col in ["run_id", "path", "train_time_s", "eval_time_s"] {
        if df.column(col).is_ok() {
            df = df.drop(col)?;
        }
    }
    Ok(df)
}

/// Every file under `dir` (recursively), except those under `skip`.
fn files_under(dir: &Path, skip: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.starts_with(skip) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn predict_evaluate_and_explain_read_dicom_and_never_echo_the_patient() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let patient = Patient::canary();
    let synth = dir.join("synth");
    let cfg = cxr_data::synth::SynthConfig {
        per_class: 12,
        size: 32,
        seed: 0,
        ..Default::default()
    };
    cxr_data::synth::write_synthetic(&synth, &cfg)?;
    let (png_root, dcm_root) = png_and_dicom_copies(&synth, 12, dir, &patient)?;
    // Every command's stdout and stderr, scanned for patient attributes at the end.
    let transcript = std::cell::RefCell::new(String::new());
    let run_cmd = |args: &[&str]| -> Result<Output, Box<dyn std::error::Error>> {
        let out = cxr_in(args, dir)?;
        transcript.borrow_mut().push_str(&text(&out.stdout));
        transcript.borrow_mut().push_str(&text(&out.stderr));
        Ok(out)
    };

    // A run trained on DICOM: its results are among the files scanned for patient data.
    let (run, sweep_output) = sweep(dir, "dcm", 32)?;
    transcript.borrow_mut().push_str(&sweep_output);
    let run_arg = s(&run)?;

    // predict: the DICOM films and their PNGs give the same probabilities.
    let pick: Vec<PathBuf> = cxr_data::list_images(&dcm_root, true)?
        .into_iter()
        .step_by(5)
        .collect();
    let as_png = |p: &PathBuf| -> Result<PathBuf, Box<dyn std::error::Error>> {
        Ok(png_root
            .join(p.strip_prefix(&dcm_root)?)
            .with_extension("png"))
    };
    let mut dcm_args = vec!["predict", "--run", run_arg, "--json"];
    let dcm_strs: Vec<String> = pick.iter().map(|p| p.display().to_string()).collect();
    dcm_args.extend(dcm_strs.iter().map(String::as_str));
    let out = run_cmd(&dcm_args)?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let png_strs: Vec<String> = pick
        .iter()
        .map(|p| as_png(p).map(|q| q.display().to_string()))
        .collect::<Result<_, _>>()?;
    let mut png_args = vec!["predict", "--run", run_arg, "--json"];
    png_args.extend(png_strs.iter().map(String::as_str));
    let png_out = run_cmd(&png_args)?;
    let probs = |o: &Output| -> Result<Vec<String>, Box<dyn std::error::Error>> {
        text(&o.stdout)
            .lines()
            .map(|l| Ok(serde_json::from_str::<serde_json::Value>(l)?["probabilities"].to_string()))
            .collect()
    };
    assert_eq!(probs(&out)?.len(), pick.len());
    assert_eq!(probs(&out)?, probs(&png_out)?);

    // evaluate: same metrics on the DICOM folder as on the PNG folder.
    let eval = |data: &Path, tag: &str| -> Result<(Output, PathBuf), Box<dyn std::error::Error>> {
        let preds = dir.join(format!("eval-{tag}.parquet"));
        let out = run_cmd(&[
            "evaluate",
            "--run",
            run_arg,
            "--data",
            s(data)?,
            "--out",
            s(&dir.join(format!("metrics-{tag}.parquet")))?,
            "--predictions",
            s(&preds)?,
            "--reliability",
            s(&dir.join(format!("reliability-{tag}")))?,
            "--cache-dir",
            s(&dir.join("cache"))?,
        ])?;
        Ok((out, preds))
    };
    let (dcm_eval, dcm_preds) = eval(&dcm_root, "dcm")?;
    let (png_eval, png_preds) = eval(&png_root, "png")?;
    assert!(dcm_eval.status.success(), "{}", text(&dcm_eval.stderr));
    // The reports differ only in the data folder and the files written.
    let strip_paths = |o: &Output, root: &Path| -> String {
        text(&o.stdout)
            .replace(&root.display().to_string(), "ROOT")
            .lines()
            .filter(|l| !l.starts_with("wrote "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip_paths(&dcm_eval, &dcm_root),
        strip_paths(&png_eval, &png_root)
    );
    let (a, b) = (comparable(&dcm_preds)?, comparable(&png_preds)?);
    assert!(
        a.equals_missing(&b),
        "evaluate predictions differ:\n{a}\n{b}"
    );

    // explain: a DICOM film gives the same overlay as its PNG.
    let film = &pick[0];
    let mut overlays = Vec::new();
    for (input, tag) in [(film.clone(), "dcm"), (as_png(film)?, "png")] {
        let png = dir.join(format!("overlay-{tag}.png"));
        let out = run_cmd(&["explain", "--run", run_arg, s(&input)?, "--out", s(&png)?])?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        overlays.push(image::open(&png)?.into_rgb8());
    }
    // The subtitle names the file (extension included), so compare the image below it.
    let (w, h) = overlays[0].dimensions();
    let crop =
        |img: &image::RgbImage| image::imageops::crop_imm(img, 0, h / 4, w, h / 2).to_image();
    assert!(crop(&overlays[0]) == crop(&overlays[1]), "overlays differ");

    // Refused objects: one line each, naming the file; predict reports and goes on.
    let bad = dir.join("bad");
    for kind in ErrorObject::ALL {
        kind.write(&bad.join(kind.file_name()), &patient)?;
    }
    let out = run_cmd(&["predict", "--run", run_arg, s(&bad)?, s(film)?])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let errors: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("error: cannot read image "))
        .map(str::to_string)
        .collect();
    assert_eq!(
        errors.len(),
        ErrorObject::ALL.len(),
        "{}",
        text(&out.stderr)
    );
    for (kind, needle) in ErrorObject::ALL.iter().zip([
        "multi-frame",
        "colour image",
        "no pixel data: a Basic Text SR Storage object",
        "no pixel data: a Grayscale Softcopy Presentation State Storage object",
        "cannot be decoded by this build",
        "lacks its Pixel Data element",
    ]) {
        assert!(
            errors
                .iter()
                .any(|e| e.contains(kind.file_name()) && e.contains(needle)),
            "{kind:?}: {errors:?}"
        );
    }
    assert_eq!(
        text(&out.stdout).lines().count(),
        1,
        "the good film is predicted"
    );
    let out = run_cmd(&[
        "explain",
        "--run",
        run_arg,
        s(&bad.join("rgb.dcm"))?,
        "--out",
        s(&dir.join("x.png"))?,
    ])?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("rgb.dcm") && stderr.contains("colour image"),
        "{stderr}"
    );

    // inspect and prepare over the DICOM folder with the refused objects among its films.
    for kind in ErrorObject::ALL {
        kind.write(&dcm_root.join("COVID").join(kind.file_name()), &patient)?;
    }
    let out = run_cmd(&["data", "inspect", s(&dcm_root)?])?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("MONOCHROME1") && stdout.contains("JPEG Lossless"),
        "{stdout}"
    );
    assert!(stdout.contains("6 unreadable file(s)"), "{stdout}");
    assert!(
        stdout.contains("6 unreadable\n"),
        "the COVID row counts them: {stdout}"
    );
    let out = run_cmd(&["data", "inspect", s(&dcm_root)?, "--json"])?;
    assert!(out.status.success());
    let out = run_cmd(&[
        "data",
        "prepare",
        s(&dcm_root)?,
        "--image-size",
        "32",
        "--skip-unreadable",
        "--dicom-window",
        "1,99",
        "--cache-dir",
        s(&dir.join("cache"))?,
    ])?;
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Privacy: no patient attribute in any output, nor in any file written (results, caches,
    // overlays, evaluation tables) - everything in the work folder but the DICOM inputs.
    let transcript = transcript.into_inner();
    for value in patient.values() {
        assert!(!transcript.contains(value), "output leaks {value}");
    }
    let inputs = [dcm_root.clone(), bad.clone()];
    let mut scanned = 0;
    for file in files_under(dir, &inputs[0]) {
        if file.starts_with(&inputs[1]) {
            continue;
        }
        let bytes = std::fs::read(&file)?;
        for value in patient.values() {
            let found = bytes.windows(value.len()).any(|w| w == value.as_bytes());
            assert!(!found, "{} leaks {value}", file.display());
        }
        scanned += 1;
    }
    assert!(scanned > 20, "only {scanned} files scanned");
    // The scan can fail: the inputs themselves do hold the values.
    let input = std::fs::read(&pick[0])?;
    assert!(input
        .windows(patient.id.len())
        .any(|w| w == patient.id.as_bytes()));
    Ok(())
}

/// On the data in `../shared/data`: ignored by a plain `cargo test`, run by `just test` where the
/// folder exists (`cargo test -- --ignored shared_data::`).
mod shared_data {
    use super::*;

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn a_sweep_on_a_dicom_copy_of_the_sample_matches_the_sweep_on_its_pngs() -> TestResult {
        let sample = real_sample()?;
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path();
        png_and_dicom_copies(&sample, 12, dir, &Patient::canary())?;
        let (png_run, _) = sweep(dir, "png", 32)?;
        let (dcm_run, _) = sweep(dir, "dcm", 32)?;

        // Same cache contents: both loads are cache hits and hold the same pixels and labels.
        let opts = cxr_data::LoadOptions {
            image_size: 32,
            cache_dir: Some(dir.join("cache")),
            ..Default::default()
        };
        let (png, r1) = cxr_data::load(&dir.join("png"), &opts)?;
        let (dcm, r2) = cxr_data::load(&dir.join("dcm"), &opts)?;
        assert_eq!(
            (r1.decoded, r2.decoded),
            (0, 0),
            "the sweeps built both caches"
        );
        assert_eq!(png.labels, dcm.labels);
        assert!(png.pixels == dcm.pixels, "cached pixels differ");

        // Same results: training history, test metrics, confusion and every test prediction.
        for file in [
            "history.parquet",
            "per_class.parquet",
            "confusion.parquet",
            "predictions.parquet",
        ] {
            let (a, b) = (
                comparable(&png_run.join(file))?,
                comparable(&dcm_run.join(file))?,
            );
            assert!(a.equals_missing(&b), "{file} differs:\n{a}\n{b}");
        }
        let paths = |run: &Path| -> Result<Vec<String>, Box<dyn std::error::Error>> {
            let df = read_frame(&run.join("predictions.parquet"))?;
            let column = df.column("path")?.str()?.clone();
            Ok((0..column.len())
                .map(|i| {
                    let p = column.get(i).unwrap_or_default();
                    p.trim_end_matches(".png")
                        .trim_end_matches(".dcm")
                        .to_string()
                })
                .collect())
        };
        assert_eq!(paths(&png_run)?, paths(&dcm_run)?);
        Ok(())
    }
}
