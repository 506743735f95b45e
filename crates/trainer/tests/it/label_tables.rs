//! Label tables as a run's data: a single-label table trains end to end, its split keeps each
//! patient's films in one part (the default when the table names patients), `group = "film"`
//! is another run, and a multi-label table trains a logit per finding and records its
//! per-finding tables.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use cxr_data::synth::{write_synthetic, SynthConfig};
use cxr_experiment::{Grid, Overrides};
use cxr_trainer::prepare::DataMemo;
use cxr_trainer::{sweep, Silent};

use crate::support::{options, TestResult};

/// Synthetic phantoms (3 classes x 24) under `dir/films`, and a generic table `labels.csv`
/// naming each film's class and patient: 4 films per patient, every patient of one class.
fn single_label_table(dir: &Path) -> Result<BTreeMap<String, String>, Box<dyn std::error::Error>> {
    let root = dir.join("films");
    let cfg = SynthConfig {
        per_class: 24,
        size: 32,
        seed: 3,
        classes: vec!["COVID".into(), "Normal".into(), "Viral Pneumonia".into()],
    };
    write_synthetic(&root, &cfg)?;
    let mut csv = String::from("path,patient,label\n");
    let mut patient_of = BTreeMap::new();
    for class in &cfg.classes {
        let mut files: Vec<String> = std::fs::read_dir(root.join(class).join("images"))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?;
        files.sort();
        for (i, file) in files.iter().enumerate() {
            let path = format!("{class}/images/{file}");
            let patient = format!("{}-{}", &class[..1], i / 4);
            writeln!(csv, "{path},{patient},{class}")?;
            patient_of.insert(path, patient);
        }
    }
    std::fs::write(root.join("labels.csv"), csv)?;
    Ok(patient_of)
}

/// The table grid under `dir`, one CNN run trained for `epochs` epochs, `extra` appended.
fn grid_for(dir: &Path, epochs: usize, extra: &str) -> Result<Grid, Box<dyn std::error::Error>> {
    let text = format!(
        "name = \"table\"\n[data]\nroot = \"films\"\nlabels = \"labels.csv\"\nimage_size = 32\n\
         [model]\nname = \"cnn\"\n[train]\nmax_epochs = {epochs}\npatience = {epochs}\n\
         batch_size = 16\n{extra}"
    );
    let path = dir.join("table.toml");
    std::fs::write(&path, text)?;
    Ok(Grid::from_file(&path, &Overrides::default())?)
}

fn grid(dir: &Path, extra: &str) -> Result<Grid, Box<dyn std::error::Error>> {
    grid_for(dir, 1, extra)
}

#[test]
fn a_single_label_table_splits_by_patient_and_trains() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let patient_of = single_label_table(tmp.path())?;
    let by_patient = grid(tmp.path(), "")?;
    let by_film = grid(tmp.path(), "[split]\ngroup = \"film\"\n")?;
    assert_ne!(by_patient.runs[0].id, by_film.runs[0].id);

    let cache = tmp.path().join("cache");
    let mut memo = DataMemo::default();
    let data = memo.prepare(&by_patient.runs[0].config, &cache)?;
    let table = data.table.as_ref().ok_or("a table run carries its table")?;
    assert_eq!(data.set.len(), 72);
    assert_eq!(data.set.classes, ["COVID", "Normal", "Viral Pneumonia"]);
    let patients = |films: &[usize]| -> BTreeSet<String> {
        films
            .iter()
            .map(|&i| patient_of[&table.files[i].to_string_lossy().into_owned()].clone())
            .collect()
    };
    let (train, val, test) = (
        patients(&data.split.train),
        patients(&data.split.val),
        patients(&data.split.test),
    );
    assert!(train.is_disjoint(&val) && train.is_disjoint(&test) && val.is_disjoint(&test));
    assert_eq!(
        train.len() + val.len() + test.len(),
        18,
        "every patient in one part"
    );
    for part in [&data.split.train, &data.split.val, &data.split.test] {
        let classes: BTreeSet<u32> = part.iter().map(|&i| data.set.labels[i]).collect();
        assert_eq!(classes.len(), 3, "every class in every part");
    }

    // The same films split by film: patients cross the split (6 patients of 4 films per class,
    // 72 films shuffled into 3 parts; seeded, so this holds for seed 0 every time).
    let films = memo.prepare(&by_film.runs[0].config, &cache)?;
    let crossing = patients(&films.split.train)
        .intersection(&patients(&films.split.test))
        .count();
    assert!(
        crossing > 0,
        "a split by film puts some patient on both sides"
    );

    let report = sweep(&by_patient, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!((report.ran.len(), report.failed()), (1, 0));
    assert_eq!(
        report.ran[0].test_images,
        Some(data.split.test.len() as i64)
    );
    Ok(())
}

/// The films of [`single_label_table`] relabelled with two findings: `Opacity` on COVID films,
/// `Pneumonia` on COVID and viral pneumonia films, and the Normal films' `Pneumonia` label
/// left blank (not mentioned) on every fourth film.
fn multi_label_table(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    single_label_table(dir)?;
    let root = dir.join("films");
    let text = std::fs::read_to_string(root.join("labels.csv"))?;
    let mut csv = String::from("path,patient,Opacity,Pneumonia\n");
    for (i, line) in text.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        let (o, p) = match f[2] {
            "COVID" => ("1", "1"),
            "Viral Pneumonia" => ("0", "1"),
            _ if i % 4 == 0 => ("0", ""),
            _ => ("0", "0"),
        };
        writeln!(csv, "{},{},{o},{p}", f[0], f[1])?;
    }
    std::fs::write(root.join("labels.csv"), csv)?;
    Ok(())
}

#[test]
fn a_multi_label_table_trains_a_logit_per_finding_split_by_patient() -> TestResult {
    let tmp = tempfile::tempdir()?;
    multi_label_table(tmp.path())?;
    let grid = grid_for(tmp.path(), 3, "")?;
    let report = sweep(&grid, &options(tmp.path()), &mut Silent::each)?;
    assert_eq!((report.ran.len(), report.failed()), (1, 0));
    let s = &report.ran[0];
    assert!(s.is_multilabel(), "{:?}", s.task);
    let mean = s.test_mean_auroc.ok_or("a test mean AUROC")?;
    let (low, high) = (
        s.test_mean_auroc_low.ok_or("low")?,
        s.test_mean_auroc_high.ok_or("high")?,
    );
    assert!(low <= mean && mean <= high, "{low} {mean} {high}");
    assert!(s.val_mean_auroc.is_some() && s.test_micro_recall.is_some());
    let patients = [s.train_patients, s.val_patients, s.test_patients];
    assert_eq!(
        patients.iter().map(|p| p.unwrap_or(0)).sum::<i64>(),
        18,
        "every patient counted once"
    );

    let run = cxr_results::GridDir::new(&tmp.path().join("results"), "table").run(&s.run_id);
    let per_finding = run.read_per_finding()?;
    let findings: Vec<&str> = per_finding.iter().map(|r| r.finding.as_str()).collect();
    assert_eq!(findings, ["Opacity", "Pneumonia"]);
    let aurocs: Vec<f64> = per_finding.iter().filter_map(|r| r.test_auroc).collect();
    assert_eq!(aurocs.len(), 2);
    assert!((mean - (aurocs[0] + aurocs[1]) / 2.0).abs() < 1e-12);
    let test_images = s.test_images.ok_or("test images")? as usize;
    for r in &per_finding {
        // Under the default `uncertain = "ignore"`, blank labels are not counted.
        assert!(r.test_positives > 0 && r.test_negatives > 0, "{r:?}");
        assert!((r.test_positives + r.test_negatives) as usize <= test_images);
    }
    let predictions = run.read_finding_predictions()?;
    assert_eq!(predictions.len(), 2 * test_images);
    assert!(predictions.iter().any(|p| p.label == "missing"));
    let record = run.read_preprocessing()?;
    assert!(record.multilabel);
    assert_eq!(record.classes, ["Opacity", "Pneumonia"]);
    for p in &predictions {
        let k = usize::from(p.finding == "Pneumonia");
        assert_eq!(p.called, p.probability >= record.thresholds[k]);
        assert!(!p.patient.is_empty());
    }
    let history = run.read_history()?;
    assert!(history.iter().all(|h| h.val_mean_auroc.is_some()));

    // The same run calibrated: the same network, each finding's probabilities over its own
    // temperature, so every AUROC is the one above.
    let calibrated = grid_for(tmp.path(), 3, "calibrate = true\n")?;
    let report = sweep(&calibrated, &options(tmp.path()), &mut Silent::each)?;
    let c = &report.ran[0];
    assert_eq!(c.test_mean_auroc, s.test_mean_auroc);
    assert!(c.test_ece.is_some() && c.test_ece_uncalibrated.is_some());
    let run = cxr_results::GridDir::new(&tmp.path().join("results"), "table").run(&c.run_id);
    let rows = run.read_per_finding()?;
    for (r, plain) in rows.iter().zip(&per_finding) {
        assert_eq!(r.test_auroc, plain.test_auroc);
        assert_eq!(
            r.test_ece_uncalibrated, plain.test_ece,
            "before scaling: as uncalibrated"
        );
        assert!(r.temperature.is_some_and(|t| t > 0.0));
    }
    assert_eq!(run.read_preprocessing()?.temperatures.len(), 2);
    Ok(())
}
