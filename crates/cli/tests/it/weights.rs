//! `cxr weights fetch | list` as a user runs them, against a real HTTP server on 127.0.0.1
//! (never the internet).
//!
//! A real torchvision file cannot be served here (the test would need its 45 MB), so the
//! download's success path is covered by `crates/weights/tests/download.rs`, and here the cache
//! is filled through the library before `cxr weights list` reads it. `cxr weights fetch` is run
//! for the real name, `resnet18-f37072fd.pth`, served with other bytes: the checksum must fail.

use std::path::Path;
use std::process::Output;

use cxr_models::ModelKind;
use cxr_weights::{Cache, Published};

use crate::support::{text, TestResult};
use crate::weights_server::{entries, refused_base, sha256_hex, Reply, TestServer};

/// `cxr args`, the mirror variable of the caller's environment removed.
fn cxr(args: &[&str]) -> std::io::Result<Output> {
    crate::support::cxr()
        .args(args)
        .env_remove(cxr_weights::MIRROR_ENV)
        .output()
}

#[test]
fn fetch_of_the_real_name_with_wrong_bytes_fails_on_one_line_and_caches_nothing() -> TestResult {
    let server = TestServer::start(vec![(
        "/resnet18-f37072fd.pth".to_string(),
        Reply::File(b"these are not torchvision's weights".to_vec()),
    )])?;
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().to_str().ok_or("utf-8 path")?;
    let out = cxr(&[
        "weights",
        "fetch",
        "resnet18",
        "--mirror",
        &server.base,
        "--cache-dir",
        dir,
    ])?;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(server.requests(), 1);
    let url = format!("{}/resnet18-f37072fd.pth", server.base);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: cannot download resnet18 ImageNet weights (torchvision:IMAGENET1K_V1) \
             from {url}: checksum mismatch: SHA-256 "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("does not start with f37072fd"), "{stderr}");
    assert!(stderr.contains("download that URL by hand"), "{stderr}");
    assert!(text(&out.stdout).is_empty(), "no path printed");
    assert_eq!(
        entries(&tmp.path().join("weights")),
        Vec::<std::path::PathBuf>::new()
    );
    Ok(())
}

#[test]
fn fetch_names_the_unreachable_mirror_and_the_fallback() -> TestResult {
    let base = refused_base()?;
    let tmp = tempfile::tempdir()?;
    let out = crate::support::cxr()
        .args([
            "weights",
            "fetch",
            "resnet50",
            "--variant",
            "torchvision:IMAGENET1K_V2",
        ])
        .arg("--cache-dir")
        .arg(tmp.path())
        .env(cxr_weights::MIRROR_ENV, format!("{base}/"))
        .output()?;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "from {base}/resnet50-11ad3fa6.pth: cannot connect"
        )),
        "the mirror comes from the environment: {stderr}"
    );
    assert!(stderr.contains("CXR_WEIGHTS_MIRROR"), "{stderr}");
    Ok(())
}

#[test]
fn fetch_refuses_names_a_model_does_not_have() -> TestResult {
    let out = cxr(&["weights", "fetch", "cnn", "--cache-dir", "/nonexistent"])?;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the cnn has no published weights"),
        "{stderr}"
    );

    let out = cxr(&[
        "weights",
        "fetch",
        "resnet18",
        "--variant",
        "torchvision:IMAGENET1K_V2",
    ])?;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("resnet18 has: imagenet, torchvision:IMAGENET1K_V1"),
        "{stderr}"
    );

    let out = cxr(&["weights", "fetch"])?;
    assert!(!out.status.success(), "a model or --all is required");
    Ok(())
}

/// Fills `cache_dir` through the library from the test server, as `fetch` would.
fn fill_cache(cache_dir: &Path, bytes: &[u8]) -> Result<Published, Box<dyn std::error::Error>> {
    let prefix: &'static str = Box::leak(sha256_hex(bytes)[..8].to_string().into_boxed_str());
    let p = Published {
        model: ModelKind::Resnet34,
        namespace: "torchvision",
        variant: "IMAGENET1K_V1",
        file: Box::leak(format!("resnet34-{prefix}.pth").into_boxed_str()),
        sha256_prefix: prefix,
        base_url: "https://download.pytorch.org/models",
    };
    let server = TestServer::start(vec![(format!("/{}", p.file), Reply::File(bytes.to_vec()))])?;
    Cache::new(cache_dir).ensure(&p, Some(&server.base))?;
    Ok(p)
}

#[test]
fn list_shows_what_the_cache_holds() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().to_str().ok_or("utf-8 path")?;
    let out = cxr(&["weights", "list", "--cache-dir", dir])?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("no weights cached in "));

    let bytes: Vec<u8> = (0..3 * 1024 * 1024 / 2).map(|i| (i % 253) as u8).collect();
    let p = fill_cache(tmp.path(), &bytes)?;
    // The real name with other bytes: known to cxr, but it does not verify.
    std::fs::write(tmp.path().join("weights/resnet18-f37072fd.pth"), b"abc")?;

    let out = cxr(&["weights", "list", "--cache-dir", dir])?;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec![
                "resnet18-f37072fd.pth",
                "resnet18",
                "IMAGENET1K_V1",
                "3",
                "B",
                // sha256("abc"), as `printf abc | sha256sum` prints it.
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "NO"
            ],
            vec![p.file, "-", "-", "1.5", "MiB", &sha256_hex(&bytes), "yes"],
        ],
        "{stdout}"
    );

    let out = cxr(&["weights", "list", "--cache-dir", dir, "--json"])?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let ours = &json[1];
    assert_eq!(ours["file"], p.file);
    assert_eq!(ours["bytes"], bytes.len() as u64);
    assert_eq!(ours["sha256"], sha256_hex(&bytes));
    assert_eq!(ours["verified"], true);
    assert_eq!(ours["model"], serde_json::Value::Null);
    assert_eq!(json[0]["model"], "resnet18");
    assert_eq!(json[0]["verified"], false);
    Ok(())
}

/// Issue 32: the README offers a local copy as a mirror, but `--weights-mirror /path` and `file://`
/// failed as malformed URLs. Now the local file is read (and verified: these bytes are not
/// torchvision's, so the checksum fails, naming the file, and nothing is cached).
#[test]
fn fetch_reads_a_local_folder_or_file_url_as_a_mirror() -> TestResult {
    let mirror = tempfile::tempdir()?;
    std::fs::write(
        mirror.path().join("resnet18-f37072fd.pth"),
        b"a local copy, but not of torchvision's weights",
    )?;
    let plain = mirror.path().to_str().ok_or("utf-8 path")?.to_string();
    for given in [plain.clone(), format!("file://{plain}")] {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().to_str().ok_or("utf-8 path")?;
        let out = cxr(&[
            "weights",
            "fetch",
            "resnet18",
            "--weights-mirror",
            &given,
            "--cache-dir",
            dir,
        ])?;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "from {given}/resnet18-f37072fd.pth: checksum mismatch"
            )),
            "{stderr}"
        );
        assert_eq!(
            entries(&tmp.path().join("weights")),
            Vec::<std::path::PathBuf>::new()
        );
    }
    Ok(())
}
