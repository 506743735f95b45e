//! The `cxr data` commands as a user runs them.

use crate::support::{cxr, real_sample, TestResult};

/// `cxr data inspect DIR --json`, which must succeed, parsed.
fn inspect_json(dir: &str) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let out = cxr().args(["data", "inspect", dir, "--json"]).output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[test]
fn synth_then_inspect_shows_four_classes_with_masks() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let out_dir = tmp.path().join("synth");
    let dir = out_dir.to_str().ok_or("path")?;
    let out = cxr()
        .args([
            "data",
            "synth",
            "--out",
            dir,
            "--per-class",
            "6",
            "--size",
            "64",
            "--seed",
            "3",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = inspect_json(dir)?;
    let classes = json["classes"].as_array().ok_or("classes array")?;
    let names: Vec<&str> = classes.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        ["COVID", "Lung_Opacity", "Normal", "Viral Pneumonia"]
    );
    for c in classes {
        assert_eq!(
            (c["images"].as_u64(), c["masks"].as_u64()),
            (Some(6), Some(6)),
            "{c}"
        );
        assert_eq!(c["sizes"]["64x64"].as_u64(), Some(6));
    }
    Ok(())
}

#[test]
fn bad_input_exits_2_with_one_line_naming_the_path() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let missing = tmp.path().join("no-such-dataset");
    let out = cxr()
        .args(["data", "inspect", missing.to_str().ok_or("path")?])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains("no-such-dataset"),
        "{stderr}"
    );

    let out = cxr()
        .args([
            "data",
            "synth",
            "--out",
            tmp.path().to_str().ok_or("path")?,
            "--size",
            "5",
        ])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)?.contains("size"));
    Ok(())
}

#[test]
fn prepare_twice_hits_the_cache() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("d");
    let cache = tmp.path().join("cache");
    let (d, c) = (data.to_str().ok_or("path")?, cache.to_str().ok_or("path")?);
    let out = cxr()
        .args([
            "data",
            "synth",
            "--out",
            d,
            "--per-class",
            "4",
            "--size",
            "48",
        ])
        .output()?;
    assert!(out.status.success());
    let first = cxr()
        .args(["data", "prepare", d, "--image-size", "32", "--cache-dir", c])
        .output()?;
    let first = String::from_utf8(first.stdout)?;
    assert!(first.contains("Built, 16 decoded"), "{first}");
    let second = String::from_utf8(
        cxr()
            .args(["data", "prepare", d, "--image-size", "32", "--cache-dir", c])
            .output()?
            .stdout,
    )?;
    assert!(second.contains("Hit, 0 decoded"), "{second}");
    Ok(())
}

/// On the data in `../shared/data`: ignored by a plain `cargo test`, run by `just test` where the
/// folder exists (`cargo test -- --ignored shared_data::`).
mod shared_data {
    use super::*;

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn inspect_json_on_the_real_sample_reports_three_classes_of_300() -> TestResult {
        let root = real_sample()?;
        let json = inspect_json(root.to_str().ok_or("path")?)?;
        let classes = json["classes"].as_array().ok_or("classes array")?;
        let summary: Vec<(String, u64, u64)> = classes
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or_default().to_string(),
                    c["images"].as_u64().unwrap_or_default(),
                    c["masks"].as_u64().unwrap_or(99),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("COVID".to_string(), 300, 0),
                ("Normal".to_string(), 300, 0),
                ("Viral Pneumonia".to_string(), 300, 0)
            ]
        );
        assert_eq!(json["unreadable"].as_array().map(Vec::len), Some(0));
        Ok(())
    }
}
