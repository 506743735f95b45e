//! A table's images through the cache: aligned with the table, reused, invalidated by an edit
//! of the table or the filter, unreadable images skipped with their rows; the fingerprint.

use cxr_data::labels::load_table;
use cxr_data::{table_fingerprint, CacheStatus, LoadOptions};

use super::{nih, row_text};
use crate::support::TestResult;

fn opts(cache: &std::path::Path) -> LoadOptions {
    LoadOptions {
        image_size: 8,
        cache_dir: Some(cache.to_path_buf()),
        ..LoadOptions::default()
    }
}

#[test]
fn images_follow_the_table_and_the_cache_follows_its_content() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let mut s = nih(dir.path())?;
    let (set, r) = load_table(&s, &opts(cache.path()))?;
    assert_eq!((r.decoded, r.cache), (4, CacheStatus::Built));
    assert_eq!(set.images.len(), 4);
    assert_eq!(set.images.files, set.table.files);
    // `png` writes film i with value 10 + 20 i.
    assert_eq!(set.images.image(2)[0], 50);
    assert_eq!(set.images.classes, ["no finding", "finding"]);
    assert_eq!(set.images.labels, [1, 1, 0, 1]);

    let (again, r) = load_table(&s, &opts(cache.path()))?;
    assert_eq!((r.decoded, r.cache), (0, CacheStatus::Hit));
    assert_eq!(again, set);

    // An edit of a label (same images) is another cache.
    let table = std::fs::read_to_string(s.table_path())?;
    std::fs::write(
        s.table_path(),
        table.replace(",Cardiomegaly,0,1", ",Effusion,0,1"),
    )?;
    let (edited, r) = load_table(&s, &opts(cache.path()))?;
    assert_eq!((r.decoded, r.cache), (4, CacheStatus::Built));
    assert_eq!(row_text(edited.table.findings.row(0)), "010");

    s.filter.insert("View Position".into(), vec!["PA".into()]);
    let (pa, r) = load_table(&s, &opts(cache.path()))?;
    assert_eq!((r.decoded, r.cache), (3, CacheStatus::Built));
    assert_eq!(pa.table.lines, [2, 3, 5]);
    assert_eq!(pa.images.image(2)[0], 70);
    Ok(())
}

#[test]
fn an_unreadable_image_is_skipped_with_its_row() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let s = nih(dir.path())?;
    std::fs::write(dir.path().join("images/00000001_001.png"), b"not a png")?;
    assert!(load_table(&s, &opts(cache.path())).is_err());
    let skip = LoadOptions {
        skip_unreadable: true,
        ..opts(cache.path())
    };
    for expect in [CacheStatus::Built, CacheStatus::Hit] {
        let (set, r) = load_table(&s, &skip)?;
        assert_eq!(r.cache, expect);
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(set.table.lines, [2, 4, 5]);
        assert_eq!(set.images.files, set.table.files);
        assert_eq!(
            set.table.patients.as_ref().ok_or("patients")?.sizes(),
            [1, 2]
        );
        assert_eq!(row_text(set.table.findings.row(2)), "110");
        assert_eq!(set.images.image(1)[0], 50);
    }
    Ok(())
}

#[test]
fn the_fingerprint_follows_content_not_place() -> TestResult {
    let a = tempfile::tempdir()?;
    let b = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let sa = nih(a.path())?;
    let sb = nih(b.path())?;
    let first = table_fingerprint(&sa, false, Some(cache.path()))?;
    assert_eq!(table_fingerprint(&sb, false, None)?, first);
    let mut pa = sa.clone();
    pa.filter.insert("View Position".into(), vec!["PA".into()]);
    assert_ne!(table_fingerprint(&pa, false, None)?, first);
    super::png(&b.path().join("images/00000002_001.png"), 3)?;
    assert_ne!(table_fingerprint(&sb, false, Some(cache.path()))?, first);
    let mut absolute = sa.clone();
    absolute.labels = sa.table_path();
    assert_eq!(table_fingerprint(&absolute, false, None)?, first);
    Ok(())
}
