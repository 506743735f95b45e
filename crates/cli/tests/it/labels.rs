//! `cxr data inspect DIR --labels TABLE` as a user runs it: the census of a label table.

use std::path::Path;

use crate::support::{cxr, text, TestResult};

/// A CheXpert-style table of three films of two patients under `root`, with their images.
fn chexpert(root: &Path) -> TestResult {
    for (i, f) in [
        "p/patient00001/a.png",
        "p/patient00002/b.png",
        "p/patient00002/c.png",
    ]
    .iter()
    .enumerate()
    {
        let path = root.join(f);
        std::fs::create_dir_all(path.parent().ok_or("parent")?)?;
        image::GrayImage::from_pixel(4, 4, image::Luma([i as u8])).save(path)?;
    }
    std::fs::write(
        root.join("train.csv"),
        "Path,Sex,Frontal/Lateral,AP/PA,Edema,Pleural Effusion\n\
         p/patient00001/a.png,F,Frontal,AP,1.0,0.0\n\
         p/patient00002/b.png,M,Frontal,PA,-1.0,1.0\n\
         p/patient00002/c.png,M,Lateral,,,1.0\n\
         p/patient00003/gone.png,M,Frontal,PA,0.0,1.0\n",
    )?;
    Ok(())
}

#[test]
fn inspect_labels_prints_findings_patients_views_and_missing_images() -> TestResult {
    let tmp = tempfile::tempdir()?;
    chexpert(tmp.path())?;
    let dir = tmp.path().to_str().ok_or("path")?;
    let out = cxr()
        .args(["data", "inspect", dir, "--labels", "train.csv"])
        .output()?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].ends_with(
            "train.csv: CheXpert / MIMIC-CXR layout, 3 films, 2 findings, 0 films with two or more"
        ),
        "{stdout}"
    );
    let rows: Vec<Vec<&str>> = lines[2..4]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["Edema", "1", "0", "1", "1"]);
    assert_eq!(rows[1], ["Pleural", "Effusion", "2", "1", "0", "0"]);
    assert_eq!(
        lines[4],
        "patients: 2, films per patient: min 1, median 1.5, max 2"
    );
    assert_eq!(lines[5], "views: AP (1), Lateral (1), PA (1)");
    assert_eq!(
        lines[6],
        "1 row(s) name missing images, first on line 5: p/patient00003/gone.png"
    );

    let out = cxr()
        .args(["data", "inspect", dir, "--labels", "train.csv", "--json"])
        .output()?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(json["layout"], "chexpert");
    assert_eq!(json["films"], 3);
    assert_eq!(json["findings"][0]["uncertain"], 1);
    assert_eq!(json["patients"]["count"], 2);
    assert_eq!(json["views"]["PA"], 1);
    Ok(())
}

#[test]
fn a_bad_table_exits_2_naming_its_line() -> TestResult {
    let tmp = tempfile::tempdir()?;
    chexpert(tmp.path())?;
    std::fs::write(
        tmp.path().join("bad.csv"),
        "Path,Edema\np/patient00001/a.png,1\np/patient00002/b.png,2\n",
    )?;
    let out = cxr()
        .args([
            "data",
            "inspect",
            tmp.path().to_str().ok_or("path")?,
            "--labels",
            "bad.csv",
        ])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.csv:3: Edema is \"2\""), "{stderr}");
    Ok(())
}

/// On the NIH sample in `../shared/data`: ignored by a plain `cargo test`.
mod shared_data {
    use super::*;

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn inspect_labels_on_the_nih_sample() -> TestResult {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/NIH_ChestXray14_sample");
        let out = cxr()
            .args([
                "data",
                "inspect",
                root.to_str().ok_or("path")?,
                "--labels",
                "Data_Entry_2017_v2020.csv",
                "--json",
            ])
            .output()?;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        assert_eq!(json["layout"], "nih");
        assert_eq!(json["films"], 798);
        assert_eq!(json["multi_finding_films"], 170);
        assert_eq!(json["findings"].as_array().map(Vec::len), Some(14));
        let effusion = json["findings"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["name"] == "Effusion"))
            .ok_or("Effusion")?;
        assert_eq!(effusion["positive"], 138);
        assert_eq!(json["patients"]["count"], 212);
        assert_eq!(json["patients"]["max_films"], 66);
        assert_eq!(
            (json["views"]["PA"].as_u64(), json["views"]["AP"].as_u64()),
            (Some(524), Some(274))
        );
        Ok(())
    }
}
