//! Run ids and the leak guard follow what a dataset holds, not how its folder is spelled
//! (issue 32): the same folder under two spellings and a byte-identical copy give the same ids,
//! one changed image gives new ones, and a source run trained on a copy of this run's data with
//! another split is refused like one trained on the folder itself.

use std::path::{Path, PathBuf};

use cxr_data::synth::{write_synthetic, SynthConfig};
use cxr_experiment::{Grid, Overrides};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A small real dataset in class folders (synthetic phantoms, as PNG files).
fn dataset(root: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let cfg = SynthConfig {
        per_class: 4,
        size: 32,
        seed: 3,
        ..SynthConfig::default()
    };
    write_synthetic(root, &cfg)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

const GRID: &str = "name = \"g\"\nseed = 0\n[data]\nimage_size = 32\n\
    [train]\nmax_epochs = 1\n[grid]\nmodel = [\"cnn\", \"resnet18\"]\n";

fn ids(
    grid_dir: &Path,
    data: &Path,
    cache: Option<PathBuf>,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let path = grid_dir.join("g.toml");
    std::fs::write(&path, GRID)?;
    let overrides = Overrides {
        data_root: Some(data.to_path_buf()),
        cache_dir: cache,
        ..Overrides::default()
    };
    Ok(Grid::from_file(&path, &overrides)?
        .runs
        .into_iter()
        .map(|r| r.id)
        .collect())
}

#[test]
fn two_spellings_and_a_copy_share_run_ids_and_one_changed_image_does_not() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data/set");
    dataset(&data)?;
    let cache = Some(tmp.path().join("cache"));
    let absolute = ids(tmp.path(), &data, cache.clone())?;
    // The same folder reached another way: a detour through its parent and a relative path.
    let detour = tmp.path().join("data/../data/./set");
    assert_eq!(ids(tmp.path(), &detour, cache.clone())?, absolute);
    let copy = tmp.path().join("elsewhere/set-copy");
    copy_dir(&data, &copy)?;
    assert_eq!(ids(tmp.path(), &copy, cache.clone())?, absolute);
    assert_eq!(
        ids(tmp.path(), &copy, None)?,
        absolute,
        "no memo: hashed afresh"
    );

    // One image of the copy changed: another dataset, other ids.
    let one = std::fs::read_dir(copy.join("COVID/images"))?
        .next()
        .ok_or("an image")??
        .path();
    let mut bytes = std::fs::read(&one)?;
    let last = bytes.len() - 20;
    bytes[last] ^= 0xff;
    std::fs::write(&one, bytes)?;
    let changed = ids(tmp.path(), &copy, cache)?;
    assert_eq!(changed.len(), absolute.len());
    for (a, b) in absolute.iter().zip(&changed) {
        assert_ne!(a, b);
    }
    Ok(())
}

#[test]
fn the_config_records_the_root_as_given_and_the_fingerprint() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("set");
    dataset(&data)?;
    let path = tmp.path().join("g.toml");
    std::fs::write(&path, GRID)?;
    let overrides = Overrides {
        data_root: Some(data.clone()),
        ..Overrides::default()
    };
    let grid = Grid::from_file(&path, &overrides)?;
    let toml = grid.runs[0].config.to_toml()?;
    assert!(
        toml.contains(&format!("root = \"{}\"", data.display())),
        "{toml}"
    );
    assert!(toml.contains("fingerprint = \""), "{toml}");
    // A run planned before fingerprints had the id of its path: kept as its legacy id.
    let legacy = grid.runs[0].legacy_id.as_deref().ok_or("a legacy id")?;
    assert_ne!(legacy, grid.runs[0].id);
    Ok(())
}

#[test]
fn a_source_run_on_a_copy_of_this_data_with_another_seed_trips_the_leak_guard() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("set");
    dataset(&data)?;
    let copy = tmp.path().join("mirror/set");
    copy_dir(&data, &copy)?;
    std::fs::write(
        tmp.path().join("source.toml"),
        format!(
            "name = \"source\"\nseed = 1\n[data]\nroot = \"{}\"\nimage_size = 32\n[train]\nmax_epochs = 1\n[model]\nname = \"resnet18\"\n",
            copy.display()
        ),
    )?;
    let target = tmp.path().join("target.toml");
    std::fs::write(
        &target,
        format!(
            "name = \"target\"\nseed = 0\n[data]\nroot = \"{}\"\nimage_size = 32\n[train]\nmax_epochs = 1\n\
             [pretrained.tb]\ngrid = \"source.toml\"\n[model]\nname = \"resnet18\"\nweights = \"tb\"\n",
            data.display()
        ),
    )?;
    let err = Grid::from_file(&target, &Overrides::default())
        .err()
        .ok_or("a source run trained on the same films with another seed must be refused")?;
    let message = err.to_string();
    assert!(
        message.contains("its training images include this run's test images"),
        "{message}"
    );
    Ok(())
}
