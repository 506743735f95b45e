//! The `cxr data` commands as a user runs them.

use std::path::Path;

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

/// `cxr data synth` into `dir`: `per_class` 32 px images of the four default classes.
fn synth(dir: &Path, per_class: usize) -> TestResult {
    let out = cxr()
        .args([
            "data",
            "synth",
            "--out",
            dir.to_str().ok_or("path")?,
            "--per-class",
            &per_class.to_string(),
            "--size",
            "32",
        ])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Issue 32: `--data .../COVID` (one level too deep) trained a one-class model named `images`,
/// and `inspect` of a class folder listed `images`, `lesions`, `masks` as classes.
#[test]
fn a_class_folder_or_a_single_class_is_refused_naming_the_root() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("synth");
    synth(&root, 2)?;
    let class = root.join("COVID");
    let class = class.to_str().ok_or("path")?;
    let cache = tmp.path().join("cache");
    for args in [
        vec!["data", "inspect", class],
        vec![
            "data",
            "prepare",
            class,
            "--cache-dir",
            cache.to_str().ok_or("path")?,
        ],
    ] {
        let out = cxr().args(&args).output()?;
        let stderr = String::from_utf8(out.stderr)?;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("`images`, `lesions`, `masks`"), "{stderr}");
        assert!(
            stderr
                .trim_end()
                .ends_with(&format!("pass the folder above, {}", root.display())),
            "{stderr}"
        );
    }
    let one = tmp.path().join("one");
    std::fs::create_dir_all(&one)?;
    std::fs::rename(root.join("Normal"), one.join("Normal"))?;
    let out = cxr()
        .args(["data", "inspect", one.to_str().ok_or("path")?])
        .output()?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("one class, `Normal`"), "{stderr}");
    // Three classes remain: a dataset root, inspected as before.
    inspect_json(root.to_str().ok_or("path")?)?;
    Ok(())
}

/// Issue 32: `inspect` called pixel types "formats" and could not show a class of JPEGs beside
/// classes of PNGs.
#[test]
fn inspect_shows_the_file_types_of_each_class() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("synth");
    synth(&root, 3)?;
    // One COVID image re-encoded as JPEG under its .png name, one Normal image as a .jpg.
    let covid = root.join("COVID/images/COVID-1.png");
    image::open(&covid)?.save_with_format(&covid, image::ImageFormat::Jpeg)?;
    let normal = root.join("Normal/images/Normal-1.png");
    image::open(&normal)?.save_with_format(
        root.join("Normal/images/Normal-1.jpg"),
        image::ImageFormat::Jpeg,
    )?;
    std::fs::remove_file(&normal)?;
    let json = inspect_json(root.to_str().ok_or("path")?)?;
    let class = |name: &str| {
        json["classes"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == name))
            .cloned()
            .unwrap_or_default()
    };
    let (c, n, v) = (class("COVID"), class("Normal"), class("Viral Pneumonia"));
    assert_eq!(
        c["file_types"],
        serde_json::json!({"JPEG": 1, "PNG": 2}),
        "{c}"
    );
    assert_eq!(
        n["file_types"],
        serde_json::json!({"JPEG": 1, "PNG": 2}),
        "{n}"
    );
    assert_eq!(v["file_types"], serde_json::json!({"PNG": 3}), "{v}");
    // The old key stays for scripts; the new name says what it counts.
    assert_eq!(v["pixel_types"], v["formats"]);
    assert_eq!(v["pixel_types"]["L8"].as_u64(), Some(3), "{v}");

    let out = cxr()
        .args(["data", "inspect", root.to_str().ok_or("path")?])
        .output()?;
    let text = String::from_utf8(out.stdout)?;
    assert!(text.contains("sizes / pixel types / file types"), "{text}");
    let covid_line = text
        .lines()
        .find(|l| l.starts_with("COVID"))
        .unwrap_or_default();
    assert!(covid_line.ends_with("/ JPEG (1), PNG (2)"), "{text}");
    Ok(())
}

/// Issue 32: `data prepare` printed only the first unreadable file, and advised the grid key
/// `set skip_unreadable = true` instead of its own flag.
#[test]
fn prepare_lists_every_unreadable_file_and_names_its_flag() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("synth");
    synth(&root, 3)?;
    std::fs::write(root.join("COVID/images/COVID-2.png"), b"not a png")?;
    std::fs::write(root.join("Normal/images/Normal-3.png"), b"not a png either")?;
    let cache = tmp.path().join("cache");
    let (d, c) = (root.to_str().ok_or("path")?, cache.to_str().ok_or("path")?);
    let out = cxr()
        .args(["data", "prepare", d, "--cache-dir", c])
        .output()?;
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: 2 unreadable image(s) (fix or remove them, or pass --skip-unreadable):\n"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("skip_unreadable = true"), "{stderr}");
    assert!(
        stderr.contains("COVID-2.png: ") && stderr.contains("Normal-3.png: "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    let out = cxr()
        .args(["data", "prepare", d, "--cache-dir", c, "--skip-unreadable"])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Issue 32: `data synth` over a larger earlier set left its extra images, though its help
/// says the files are overwritten.
#[test]
fn synth_over_a_larger_set_leaves_only_the_new_one() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("synth");
    synth(&root, 5)?;
    synth(&root, 2)?;
    let json = inspect_json(root.to_str().ok_or("path")?)?;
    for c in json["classes"].as_array().ok_or("classes")? {
        assert_eq!(
            (c["images"].as_u64(), c["masks"].as_u64()),
            (Some(2), Some(2)),
            "{c}"
        );
    }
    assert_eq!(std::fs::read_dir(root.join("COVID/lesions"))?.count(), 2);
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
