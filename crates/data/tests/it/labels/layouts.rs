//! Each layout read from a small table: NIH (header quirk), CheXpert (four states, patients from
//! paths), generic (one class per film, or 0/1 columns mapped by [data.columns]); filter,
//! findings subset and order; Parquet.

use std::path::PathBuf;

use cxr_data::labels::{census, read_label_table, ColumnMap, TableLayout};
use cxr_data::FindingLabel;

use super::{dataset, nih, row_text, spec};
use crate::support::TestResult;

#[test]
fn nih_table_with_its_header_quirk() -> TestResult {
    let dir = tempfile::tempdir()?;
    let t = read_label_table(&nih(dir.path())?)?;
    assert_eq!(t.layout, TableLayout::Nih);
    assert_eq!(
        t.files,
        [
            "00000001_000",
            "00000001_001",
            "00000002_000",
            "00000002_001"
        ]
        .map(|f| PathBuf::from(format!("images/{f}.png")))
    );
    // Every distinct label but `No Finding`, sorted.
    assert_eq!(
        t.findings.findings,
        ["Cardiomegaly", "Effusion", "Emphysema"]
    );
    let rows: Vec<String> = (0..4).map(|i| row_text(t.findings.row(i))).collect();
    assert_eq!(rows, ["100", "101", "000", "110"]);
    let patients = t.patients.clone().ok_or("patients")?;
    assert_eq!(
        (patients.names, patients.of),
        (vec!["1".into(), "2".into()], vec![0, 0, 1, 1])
    );
    assert_eq!(t.views.clone().ok_or("views")?, ["PA", "PA", "AP", "PA"]);
    assert_eq!(t.lines, [2, 3, 4, 5]);
    assert!(t.single_label.is_none() && t.multi_label());

    let c = census(&t);
    assert_eq!(c.multi_finding_films, 2);
    let counts: Vec<(&str, usize, usize)> = c
        .findings
        .iter()
        .map(|f| (f.name.as_str(), f.positive, f.negative))
        .collect();
    assert_eq!(
        counts,
        [
            ("Cardiomegaly", 3, 1),
            ("Effusion", 1, 3),
            ("Emphysema", 1, 3)
        ]
    );
    let p = c.patients.ok_or("patients")?;
    assert_eq!(
        (p.count, p.min_films, p.median_films, p.max_films),
        (2, 2, 2.0, 2)
    );
    assert_eq!(
        c.views.ok_or("views")?.into_iter().collect::<Vec<_>>(),
        [("AP".to_string(), 1), ("PA".to_string(), 3)]
    );
    Ok(())
}

#[test]
fn filter_and_findings_choose_rows_and_columns_in_order() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = nih(dir.path())?;
    s.filter.insert("View Position".into(), vec!["PA".into()]);
    s.findings = Some(vec!["Emphysema".into(), "Cardiomegaly".into()]);
    let t = read_label_table(&s)?;
    assert_eq!(t.lines, [2, 3, 5], "the AP film on line 4 is left out");
    assert_eq!(t.findings.findings, ["Emphysema", "Cardiomegaly"]);
    let rows: Vec<String> = (0..3).map(|i| row_text(t.findings.row(i))).collect();
    assert_eq!(rows, ["01", "11", "01"]);
    assert_eq!(t.patients.ok_or("patients")?.sizes(), [2, 1]);
    Ok(())
}

/// CheXpert's header, with the path's first folder being the root's own name.
const CHEXPERT: &str = "Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Cardiomegaly,Edema,Pleural Effusion\n\
CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg,Female,68,Frontal,AP,1.0,,,0.0\n\
CheXpert-v1.0-small/train/patient00002/study2/view1_frontal.jpg,Female,87,Frontal,PA,,-1.0,1.0,-1.0\n\
CheXpert-v1.0-small/train/patient00002/study1/view2_lateral.jpg,Female,83,Lateral,,,1.0,0.0,1\n";

#[test]
fn chexpert_four_states_patients_from_paths_and_views() -> TestResult {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("CheXpert-v1.0-small");
    let images = [
        "train/patient00001/study1/view1_frontal.jpg",
        "train/patient00002/study2/view1_frontal.jpg",
        "train/patient00002/study1/view2_lateral.jpg",
    ];
    // The test decodes nothing here, so the PNG bytes behind .jpg names do not matter.
    let t = read_label_table(&dataset(&root, "train.csv", CHEXPERT, &images)?)?;
    assert_eq!(t.layout, TableLayout::CheXpert);
    assert_eq!(t.files, images.map(PathBuf::from));
    // Sex, Age, Frontal/Lateral and AP/PA are not findings.
    assert_eq!(
        t.findings.findings,
        ["No Finding", "Cardiomegaly", "Edema", "Pleural Effusion"]
    );
    let rows: Vec<String> = (0..3).map(|i| row_text(t.findings.row(i))).collect();
    assert_eq!(rows, ["1..0", ".?1?", ".101"]);
    let patients = t.patients.clone().ok_or("patients")?;
    assert_eq!(patients.names, ["patient00001", "patient00002"]);
    assert_eq!(patients.of, [0, 1, 1]);
    assert_eq!(t.views.clone().ok_or("views")?, ["AP", "PA", "Lateral"]);
    let c = census(&t);
    let edema = &c.findings[2];
    assert_eq!(
        (
            edema.positive,
            edema.negative,
            edema.uncertain,
            edema.missing
        ),
        (1, 1, 0, 1)
    );
    let cardio = &c.findings[1];
    assert_eq!(
        (
            cardio.positive,
            cardio.negative,
            cardio.uncertain,
            cardio.missing
        ),
        (1, 0, 1, 1)
    );
    Ok(())
}

#[test]
fn mimic_subject_id_names_the_patient() -> TestResult {
    let dir = tempfile::tempdir()?;
    let text = "subject_id,study_id,Path,Atelectasis,Edema\n10000032,50414267,files/a.jpg,1.0,\n10000032,53189527,files/b.jpg,,0.0\n10000764,57375967,files/c.jpg,-1.0,1.0\n";
    let s = dataset(
        dir.path(),
        "mimic.csv",
        text,
        &["files/a.jpg", "files/b.jpg", "files/c.jpg"],
    )?;
    let t = read_label_table(&s)?;
    assert_eq!(t.layout, TableLayout::CheXpert);
    assert_eq!(t.findings.findings, ["Atelectasis", "Edema"]);
    assert_eq!(t.patients.ok_or("patients")?.of, [0, 0, 1]);
    assert_eq!(t.views, None);
    Ok(())
}

#[test]
fn generic_single_label_is_one_hot_over_sorted_classes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let text = "path,patient,label\na.png,p1,Normal\nb.png,p1,COVID\nc.png,p2,Normal\n";
    let t = read_label_table(&dataset(
        dir.path(),
        "labels.csv",
        text,
        &["a.png", "b.png", "c.png"],
    )?)?;
    assert_eq!(t.layout, TableLayout::Generic);
    assert_eq!(
        t.single_label.clone().ok_or("single label")?,
        ["COVID", "Normal"]
    );
    let rows: Vec<String> = (0..3).map(|i| row_text(t.findings.row(i))).collect();
    assert_eq!(rows, ["01", "10", "01"]);
    assert_eq!(t.class_labels(), [1, 0, 1]);
    assert!(!t.multi_label());
    assert_eq!(t.patients.ok_or("patients")?.count(), 2);
    Ok(())
}

#[test]
fn generic_columns_mapped_by_data_columns() -> TestResult {
    let dir = tempfile::tempdir()?;
    let text = "file,subject,site,Effusion,Mass\nx/a.png,7,north,1,0\nx/b.png,8,south,0,0\n";
    let mut s = dataset(dir.path(), "t.csv", text, &["x/a.png", "x/b.png"])?;
    s.columns = ColumnMap {
        path: Some("file".into()),
        patient: Some("subject".into()),
        ..Default::default()
    };
    s.filter
        .insert("site".into(), vec!["north".into(), "south".into()]);
    let t = read_label_table(&s)?;
    assert_eq!(t.layout, TableLayout::Generic);
    // `site` is a filter column, so not a finding.
    assert_eq!(t.findings.findings, ["Effusion", "Mass"]);
    assert_eq!(row_text(t.findings.row(0)), "10");
    assert_eq!(t.class_labels(), [1, 0]);
    assert_eq!(t.patients.ok_or("patients")?.names, ["7", "8"]);
    Ok(())
}

#[test]
fn parquet_tables_read_like_csv() -> TestResult {
    use polars::prelude::{Column, DataFrame, ParquetWriter};
    let dir = tempfile::tempdir()?;
    for f in ["a.png", "b.png", "c.png"] {
        super::png(&dir.path().join("images").join(f), 50)?;
    }
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("path".into(), ["a.png", "b.png", "c.png"]),
        Column::new("patient".into(), [1i64, 1, 2]),
        Column::new("Effusion".into(), [Some(1.0f64), None, Some(-1.0)]),
        Column::new("Mass".into(), [0i64, 1, 0]),
    ])?;
    ParquetWriter::new(std::fs::File::create(dir.path().join("t.parquet"))?).finish(&mut df)?;
    let t = read_label_table(&spec(dir.path(), "t.parquet"))?;
    assert_eq!(t.layout, TableLayout::Generic);
    let rows: Vec<String> = (0..3).map(|i| row_text(t.findings.row(i))).collect();
    assert_eq!(rows, ["10", ".1", "?0"]);
    assert_eq!(t.lines, [2, 3, 4]);
    assert_eq!(t.patients.ok_or("patients")?.names, ["1", "2"]);
    assert_eq!(t.files[0], PathBuf::from("images/a.png"));
    assert_eq!(t.findings.row(1)[0], FindingLabel::Missing);
    Ok(())
}
