//! Every label table error: one line naming the table file and the line at fault.

use cxr_data::labels::read_label_table;
use cxr_data::{DataError, LabelSpec};

use super::{dataset, nih, NIH_HEADER};
use crate::support::TestResult;

/// The message of the error reading `spec` gives, checked to be one line that names the table.
fn message(spec: &LabelSpec) -> Result<String, Box<dyn std::error::Error>> {
    let err = read_label_table(spec).err().ok_or("expected an error")?;
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    let table = spec.table_path();
    assert!(
        text.starts_with(&table.display().to_string()),
        "names the table: {text}"
    );
    Ok(text)
}

#[test]
fn a_missing_image_fails_on_its_line_or_is_skipped_and_counted() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = nih(dir.path())?;
    std::fs::remove_file(dir.path().join("images/00000002_000.png"))?;
    let text = message(&s)?;
    assert!(
        text.contains(".csv:4: image 00000002_000.png not found"),
        "{text}"
    );
    assert!(text.contains("skip_missing = true"), "{text}");
    s.skip_missing = true;
    let t = read_label_table(&s)?;
    assert_eq!(t.lines, [2, 3, 5]);
    assert_eq!(
        t.missing_files,
        [(4, "00000002_000.png".into())] as [(usize, std::path::PathBuf); 1]
    );
    Ok(())
}

#[test]
fn duplicate_paths_name_both_lines() -> TestResult {
    let dir = tempfile::tempdir()?;
    let text = "path,label\na.png,x\nb.png,y\na.png,y\n";
    let text = message(&dataset(dir.path(), "t.csv", text, &["a.png", "b.png"])?)?;
    assert!(
        text.contains("t.csv:4: image a.png is listed twice, on lines 2 and 4"),
        "{text}"
    );
    // Two spellings of one file are one film too.
    let text = "path,label\na.png,x\nimages/c.png,y\nc.png,y\n";
    let text = message(&dataset(dir.path(), "u.csv", text, &["images/c.png"])?)?;
    assert!(
        text.contains("u.csv:4: image c.png is listed twice, on lines 3 and 4"),
        "{text}"
    );
    Ok(())
}

#[test]
fn an_unknown_label_value_names_its_line_and_column() -> TestResult {
    let dir = tempfile::tempdir()?;
    let text = "Path,Sex,Edema,Mass\na.png,F,1,0\nb.png,M,2,0\n";
    let text = message(&dataset(dir.path(), "t.csv", text, &["a.png", "b.png"])?)?;
    assert!(
        text.contains("t.csv:3: Edema is \"2\": a finding column holds 1"),
        "{text}"
    );
    // NIH: `No Finding` beside a finding.
    let dir = tempfile::tempdir()?;
    let s = nih(dir.path())?;
    let table = std::fs::read_to_string(s.table_path())?
        .replace("Effusion|Cardiomegaly", "Effusion|No Finding");
    std::fs::write(s.table_path(), table)?;
    let text = message(&s)?;
    assert!(
        text.contains(".csv:5: Finding Labels \"Effusion|No Finding\""),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_findings_entry_the_table_lacks() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = nih(dir.path())?;
    s.findings = Some(vec!["Effusion".into(), "Efusion".into()]);
    let text = message(&s)?;
    assert!(text.contains("data.findings names \"Efusion\", which no row of the table lists (its findings: Cardiomegaly, Effusion, Emphysema)"), "{text}");
    let text = "Path,Edema\na.png,1\n";
    let mut s = dataset(dir.path(), "t.csv", text, &["a.png"])?;
    s.findings = Some(vec!["Mass".into()]);
    let text = message(&s)?;
    assert!(
        text.contains("t.csv:1: data.findings names column \"Mass\""),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_filter_column_the_table_lacks_and_a_filter_that_keeps_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut s = nih(dir.path())?;
    s.filter.insert("View".into(), vec!["PA".into()]);
    let text = message(&s)?;
    assert!(
        text.contains(".csv:1: data.filter names column \"View\""),
        "{text}"
    );
    assert!(text.contains("View Position"), "lists the columns: {text}");
    s.filter.clear();
    s.filter.insert("View Position".into(), vec!["LL".into()]);
    let text = message(&s)?;
    assert!(
        text.contains("no rows left after the filter \"View Position\" = [\"LL\"] (4 row(s) read)"),
        "{text}"
    );
    Ok(())
}

#[test]
fn an_unrecognised_header_says_what_each_layout_needs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let text = message(&dataset(
        dir.path(),
        "t.csv",
        "file,diagnosis\na.png,x\n",
        &["a.png"],
    )?)?;
    assert!(
        text.contains("t.csv:1: unrecognised label table header (file, diagnosis)"),
        "{text}"
    );
    assert!(
        text.contains("Image Index") && text.contains("[data.columns]"),
        "{text}"
    );
    let mut s = dataset(dir.path(), "t.csv", "file,diagnosis\na.png,x\n", &["a.png"])?;
    s.columns.path = Some("image".into());
    let text = message(&s)?;
    assert!(
        text.contains("t.csv:1: data.columns.path names column \"image\""),
        "{text}"
    );
    Ok(())
}

#[test]
fn a_short_row_and_a_blank_patient_name_their_lines() -> TestResult {
    let dir = tempfile::tempdir()?;
    let table = format!("{NIH_HEADER}\n00000001_000.png,Cardiomegaly,0,1,57,M,PA,2682\n");
    let text = message(&dataset(
        dir.path(),
        "t.csv",
        &table,
        &["images/00000001_000.png"],
    )?)?;
    assert!(
        text.contains("t.csv:2: 8 field(s), but the header names 11"),
        "{text}"
    );
    let text = "path,patient,label\na.png,p1,x\nb.png,,y\n";
    let text = message(&dataset(dir.path(), "u.csv", text, &["a.png", "b.png"])?)?;
    assert!(text.contains("u.csv:3: patient is blank"), "{text}");
    Ok(())
}

#[test]
fn parquet_errors_count_rows_from_line_2() -> TestResult {
    use polars::prelude::{Column, DataFrame, ParquetWriter};
    let dir = tempfile::tempdir()?;
    super::png(&dir.path().join("a.png"), 1)?;
    super::png(&dir.path().join("b.png"), 2)?;
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("path".into(), ["a.png", "b.png"]),
        Column::new("Mass".into(), [1i64, 2]),
    ])?;
    ParquetWriter::new(std::fs::File::create(dir.path().join("t.parquet"))?).finish(&mut df)?;
    let text = message(&super::spec(dir.path(), "t.parquet"))?;
    assert!(text.contains("t.parquet:3: Mass is \"2\""), "{text}");
    Ok(())
}

#[test]
fn a_missing_root_is_the_folder_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    let s = super::spec(&dir.path().join("absent"), "t.csv");
    assert!(matches!(
        read_label_table(&s),
        Err(DataError::MissingRoot(_))
    ));
    Ok(())
}
