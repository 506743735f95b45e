//! `Cache::ensure` and `Cache::list` against a real HTTP server on 127.0.0.1: what is cached,
//! when a request is made, and that every failure is one line naming the URL and the manual
//! fallback, and leaves nothing in the cache.

mod support;

use cxr_models::ModelKind;
use cxr_weights::{Cache, Failure, Published, WeightsError};
use support::{entries, refused_base, sha256_hex, Reply, TestServer};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Test bytes: any content works, the name carries its hash as torchvision's names do.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// A `Published` for a file named `resnet18-<first 8 hex of sha256(bytes)>.pth`, or with the
/// given prefix when `prefix` is set (to provoke a checksum mismatch).
fn published_for(bytes: &[u8], prefix: Option<&str>) -> Published {
    let prefix: &'static str = Box::leak(
        prefix
            .map(str::to_string)
            .unwrap_or_else(|| sha256_hex(bytes)[..8].to_string())
            .into_boxed_str(),
    );
    Published {
        model: ModelKind::Resnet18,
        namespace: "torchvision",
        variant: "IMAGENET1K_V1",
        file: Box::leak(format!("resnet18-{prefix}.pth").into_boxed_str()),
        sha256_prefix: prefix,
        base_url: "https://download.pytorch.org/models",
    }
}

fn route(p: &Published, reply: Reply) -> Vec<(String, Reply)> {
    vec![(format!("/{}", p.file), reply)]
}

/// Asserts `err` is a one-line download error naming `url` and the manual fallback.
fn assert_download_error(err: &WeightsError, url: &str) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(
        msg.starts_with(
            "cannot download resnet18 ImageNet weights (torchvision:IMAGENET1K_V1) from "
        ),
        "{msg}"
    );
    assert!(msg.contains(url), "names the URL {url}: {msg}");
    assert!(
        msg.contains("download that URL by hand and set weights = \"<path to the .pth>\""),
        "{msg}"
    );
    assert!(msg.contains("CXR_WEIGHTS_MIRROR"), "{msg}");
}

fn failure_of(err: &WeightsError) -> Option<&Failure> {
    match err {
        WeightsError::Download { failure, .. } => Some(failure),
        _ => None,
    }
}

#[test]
fn first_use_downloads_and_caches_second_use_makes_no_request() -> TestResult {
    let bytes = payload(300_000);
    let p = published_for(&bytes, None);
    let server = TestServer::start(route(&p, Reply::File(bytes.clone())))?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());

    let path = cache.ensure(&p, Some(&format!("{}/", server.base)))?;
    assert_eq!(path, tmp.path().join("weights").join(p.file));
    assert_eq!(std::fs::read(&path)?, bytes);
    assert_eq!(server.requests(), 1);
    assert_eq!(entries(cache.dir()).len(), 1, "no temporary file left");

    let again = cache.ensure(&p, Some(&server.base))?;
    assert_eq!(again, path);
    assert_eq!(
        server.requests(),
        1,
        "a cached file is used without a request"
    );
    Ok(())
}

#[test]
fn a_cached_file_that_does_not_verify_is_downloaded_again() -> TestResult {
    let bytes = payload(70_000);
    let p = published_for(&bytes, None);
    let server = TestServer::start(route(&p, Reply::File(bytes.clone())))?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    std::fs::create_dir_all(cache.dir())?;
    std::fs::write(cache.path_of(&p), &bytes[..1000])?;

    let path = cache.ensure(&p, Some(&server.base))?;
    assert_eq!(server.requests(), 1);
    assert_eq!(std::fs::read(&path)?, bytes);
    Ok(())
}

#[test]
fn list_reports_size_sha256_and_verification() -> TestResult {
    let bytes = payload(12_345);
    let p = published_for(&bytes, None);
    let server = TestServer::start(route(&p, Reply::File(bytes.clone())))?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    assert!(
        cache.list()?.is_empty(),
        "a cache never written lists nothing"
    );

    let path = cache.ensure(&p, Some(&server.base))?;
    // A file put there by hand, whose name claims a hash it does not have.
    let forged = cache.dir().join("resnet34-00000000.pth");
    std::fs::write(&forged, b"not weights")?;

    let listed = cache.list()?;
    assert_eq!(listed.len(), 2);
    let (ours, theirs) = (&listed[0], &listed[1]);
    assert_eq!(ours.path, path);
    assert_eq!(ours.bytes, 12_345);
    assert_eq!(ours.sha256, sha256_hex(&bytes));
    assert_eq!(ours.sha256.len(), 64);
    assert!(ours.verified);
    assert_eq!(ours.published, None, "a test file is not one of PUBLISHED");
    assert_eq!(theirs.path, forged);
    assert_eq!(theirs.bytes, 11);
    assert!(!theirs.verified);
    Ok(())
}

#[test]
fn list_knows_published_files_by_name() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    std::fs::create_dir_all(cache.dir())?;
    // The real name with other bytes: recognised as resnet18's, but it does not verify.
    std::fs::write(cache.dir().join("resnet18-f37072fd.pth"), b"abc")?;
    let listed = cache.list()?;
    assert_eq!(listed.len(), 1);
    let published = listed[0].published.ok_or("recognised")?;
    assert_eq!(published.model, ModelKind::Resnet18);
    assert_eq!(published.variant, "IMAGENET1K_V1");
    // sha256("abc"), as `printf abc | sha256sum` prints it.
    assert_eq!(
        listed[0].sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(!listed[0].verified);
    Ok(())
}

#[test]
fn checksum_mismatch_names_both_hashes_and_caches_nothing() -> TestResult {
    let bytes = payload(50_000);
    let p = published_for(&bytes, Some("0badc0de"));
    let server = TestServer::start(route(&p, Reply::File(bytes.clone())))?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());

    let err = cache
        .ensure(&p, Some(&server.base))
        .err()
        .ok_or("a mismatch must fail")?;
    assert_download_error(&err, &p.url(Some(&server.base)));
    assert_eq!(
        failure_of(&err),
        Some(&Failure::Checksum {
            expected_prefix: "0badc0de".to_string(),
            actual: sha256_hex(&bytes),
        })
    );
    let msg = err.to_string();
    assert!(
        msg.contains("0badc0de") && msg.contains(&sha256_hex(&bytes)),
        "{msg}"
    );
    assert_eq!(entries(cache.dir()), Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn http_404_is_reported_with_its_status_and_caches_nothing() -> TestResult {
    let p = published_for(b"never served", None);
    let server = TestServer::start(Vec::new())?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());

    let err = cache
        .ensure(&p, Some(&server.base))
        .err()
        .ok_or("a 404 must fail")?;
    assert_download_error(&err, &p.url(Some(&server.base)));
    assert!(err.to_string().contains(": HTTP 404 Not Found; "), "{err}");
    assert_eq!(server.requests(), 1);
    assert_eq!(entries(cache.dir()), Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn http_500_is_reported_with_its_status() -> TestResult {
    let p = published_for(b"x", None);
    let server = TestServer::start(route(&p, Reply::Status(500, "Internal Server Error")))?;
    let tmp = tempfile::tempdir()?;
    let err = Cache::new(tmp.path())
        .ensure(&p, Some(&server.base))
        .err()
        .ok_or("a 500 must fail")?;
    assert_eq!(
        failure_of(&err),
        Some(&Failure::Status {
            code: 500,
            reason: "Internal Server Error".to_string()
        })
    );
    Ok(())
}

#[test]
fn connection_refused_is_reported_and_caches_nothing() -> TestResult {
    let p = published_for(b"unreachable", None);
    let base = refused_base()?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());

    let err = cache
        .ensure(&p, Some(&base))
        .err()
        .ok_or("nothing listens there")?;
    assert_download_error(&err, &p.url(Some(&base)));
    assert!(
        matches!(failure_of(&err), Some(Failure::Request(why)) if why.contains("cannot connect")),
        "{err}"
    );
    assert_eq!(entries(cache.dir()), Vec::<std::path::PathBuf>::new());
    Ok(())
}

#[test]
fn truncated_body_is_reported_and_caches_nothing() -> TestResult {
    let bytes = payload(40_000);
    let p = published_for(&bytes, None);
    let reply = Reply::Truncated {
        body: bytes[..10_000].to_vec(),
        claimed: 40_000,
    };
    let server = TestServer::start(route(&p, reply))?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());

    let err = cache
        .ensure(&p, Some(&server.base))
        .err()
        .ok_or("a short body must fail")?;
    assert_download_error(&err, &p.url(Some(&server.base)));
    assert_eq!(
        failure_of(&err),
        Some(&Failure::Truncated {
            received: 10_000,
            expected: 40_000
        }),
        "{err}"
    );
    assert_eq!(entries(cache.dir()), Vec::<std::path::PathBuf>::new());

    // The next try starts from scratch (and fails the same way): nothing half-written was kept.
    assert!(cache.ensure(&p, Some(&server.base)).is_err());
    assert_eq!(server.requests(), 2);
    Ok(())
}

#[test]
fn concurrent_downloads_of_one_file_both_succeed_with_the_whole_file() -> TestResult {
    let bytes = payload(2_000_000);
    let p = published_for(&bytes, None);
    let server = TestServer::start(route(&p, Reply::File(bytes.clone())))?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    let base = server.base.clone();
    let paths = std::thread::scope(|s| {
        let a = s.spawn(|| cache.ensure(&p, Some(&base)));
        let b = s.spawn(|| cache.ensure(&p, Some(&base)));
        [a.join(), b.join()]
    });
    for path in paths {
        let path = path.map_err(|_| "thread panicked")??;
        assert_eq!(std::fs::read(&path)?, bytes);
    }
    assert_eq!(entries(cache.dir()).len(), 1, "one file, no temporaries");
    Ok(())
}

/// Issue 32: the README offers a local copy as a mirror, but `--mirror /path` and `file://`
/// failed as URLs.
#[test]
fn a_local_folder_or_file_url_is_a_mirror() -> TestResult {
    let bytes = payload(50_000);
    let p = published_for(&bytes, None);
    let mirror = tempfile::tempdir()?;
    std::fs::write(mirror.path().join(p.file), &bytes)?;
    let plain = mirror.path().to_string_lossy().into_owned();
    for given in [plain.clone(), format!("file://{plain}/")] {
        let tmp = tempfile::tempdir()?;
        let cache = Cache::new(tmp.path());
        let path = cache.ensure(&p, Some(&given))?;
        assert_eq!(std::fs::read(&path)?, bytes, "{given}");
        assert_eq!(entries(cache.dir()).len(), 1, "no temporary file left");
    }
    // A local copy is verified like a download: a wrong file is refused, nothing is cached.
    let wrong = published_for(&bytes, Some("00000000"));
    std::fs::write(mirror.path().join(wrong.file), &bytes)?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    let err = cache.ensure(&wrong, Some(&plain)).err().ok_or("verified")?;
    assert!(
        matches!(failure_of(&err), Some(Failure::Checksum { .. })),
        "{err}"
    );
    let missing = published_for(&payload(10), None);
    let err = cache
        .ensure(&missing, Some(&plain))
        .err()
        .ok_or("missing file")?;
    assert_download_error(&err, &format!("{plain}/{}", missing.file));
    assert_eq!(entries(cache.dir()).len(), 0, "nothing cached");
    Ok(())
}

/// Issue 32: every downloaded file was mode 0600, so a cache shared by a lab group failed for
/// everyone but its first user. The cached file now gets the mode `File::create` gives.
#[cfg(unix)]
#[test]
fn a_cached_file_is_as_readable_as_the_umask_allows() -> TestResult {
    use std::os::unix::fs::PermissionsExt;
    let bytes = payload(1000);
    let p = published_for(&bytes, None);
    let mirror = tempfile::tempdir()?;
    std::fs::write(mirror.path().join(p.file), &bytes)?;
    let tmp = tempfile::tempdir()?;
    let cache = Cache::new(tmp.path());
    let path = cache.ensure(&p, Some(&mirror.path().to_string_lossy()))?;
    let probe = tmp.path().join("probe");
    std::fs::File::create(&probe)?;
    let mode = |p: &std::path::Path| -> std::io::Result<u32> {
        Ok(std::fs::metadata(p)?.permissions().mode() & 0o777)
    };
    assert_eq!(mode(&path)?, mode(&probe)?);
    Ok(())
}
