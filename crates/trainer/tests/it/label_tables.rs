//! Label tables as a run's data: a single-label table trains end to end, its split keeps each
//! patient's films in one part (the default when the table names patients), `group = "film"`
//! is another run, and a multi-label table is refused before anything is written until
//! multi-label training lands.

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

fn grid(dir: &Path, extra: &str) -> Result<Grid, Box<dyn std::error::Error>> {
    let text = format!(
        "name = \"table\"\n[data]\nroot = \"films\"\nlabels = \"labels.csv\"\nimage_size = 32\n\
         [model]\nname = \"cnn\"\n[train]\nmax_epochs = 1\npatience = 1\nbatch_size = 16\n{extra}"
    );
    let path = dir.join("table.toml");
    std::fs::write(&path, text)?;
    Ok(Grid::from_file(&path, &Overrides::default())?)
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

#[test]
fn a_multi_label_table_is_refused_before_anything_is_written() -> TestResult {
    let tmp = tempfile::tempdir()?;
    single_label_table(tmp.path())?;
    let root = tmp.path().join("films");
    // The same films with two findings each where the class is COVID.
    let text = std::fs::read_to_string(root.join("labels.csv"))?;
    let mut csv = String::from("path,patient,Opacity,Pneumonia\n");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (o, p) = match f[2] {
            "COVID" => (1, 1),
            "Viral Pneumonia" => (0, 1),
            _ => (0, 0),
        };
        writeln!(csv, "{},{},{o},{p}", f[0], f[1])?;
    }
    std::fs::write(root.join("labels.csv"), csv)?;
    let grid = grid(tmp.path(), "")?;
    let err = sweep(&grid, &options(tmp.path()), &mut Silent::each)
        .err()
        .ok_or("a multi-label run must not train as one class per film")?
        .to_string();
    assert!(err.contains("multi-label training"), "{err}");
    assert!(
        !tmp.path()
            .join("results/table/runs")
            .join(&grid.runs[0].id)
            .exists(),
        "no run folder is left behind"
    );
    Ok(())
}
