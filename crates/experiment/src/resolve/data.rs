//! `[data]`: the dataset (a folder, `--data`, or `[data.synthetic]`), the image size and the
//! preprocessing.

use std::path::Path;

use cxr_data::Augment;

use super::{normalize, Resolver};
use crate::config::{DataConfig, DataSource};
use crate::defaults;
use crate::error::Result;
use crate::raw::{RawData, RawRun};

/// What the train settings' defaults need to know of a label table.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TableFacts {
    /// The run reads a label table.
    pub table: bool,
    /// Some film has several findings, or the table is not single-label: `task` defaults to
    /// `multilabel`.
    pub multi_label: bool,
}

impl Resolver<'_> {
    /// The dataset and preprocessing; `[data.synthetic] size` defaults to the image size.
    pub(super) fn data(&self, raw: &RawRun) -> Result<(DataConfig, TableFacts)> {
        let d = raw.data.clone().unwrap_or_default();
        let image_size = self.range(
            "data.image_size",
            d.image_size.unwrap_or(defaults::IMAGE_SIZE),
            16,
            1024,
        )?;
        let mut facts = TableFacts::default();
        let source = match (&self.overrides.data_root, &d.root, &d.synthetic) {
            (Some(root), _, _) if d.labels.is_some() => {
                table(self, root, "--data", false, raw, &mut facts)?
            }
            (None, Some(root), None) if d.labels.is_some() => {
                table(self, root, "data.root", true, raw, &mut facts)?
            }
            (Some(root), _, _) => folder(self, root, "--data", false, &d)?,
            (None, Some(_), Some(_)) => {
                return Err(self.invalid(
                    "data",
                    "root + synthetic",
                    "set either data.root or [data.synthetic], not both",
                ))
            }
            (None, Some(root), None) => folder(self, root, "data.root", true, &d)?,
            (None, None, Some(s)) => DataSource::Synthetic {
                per_class: self.range(
                    "data.synthetic.per_class",
                    s.per_class.unwrap_or(defaults::SYNTHETIC_PER_CLASS),
                    3,
                    1_000_000,
                )?,
                size: self.range(
                    "data.synthetic.size",
                    s.size.unwrap_or(image_size),
                    32,
                    1024,
                )?,
                seed: s.seed.unwrap_or(defaults::SYNTHETIC_SEED),
            },
            (None, None, None) => {
                return Err(self.invalid(
                    "data",
                    "(missing)",
                    "set data.root = \"<dataset folder>\" or add [data.synthetic]",
                ))
            }
        };
        let augment = match d.augment {
            Some(a) if a.enabled.unwrap_or(defaults::AUGMENT_ENABLED) => {
                let def = Augment::default();
                let aug = Augment {
                    rotation_deg: a.rotation_deg.unwrap_or(def.rotation_deg),
                    crop_scale_min: a.crop_scale_min.unwrap_or(def.crop_scale_min),
                    brightness: a.brightness.unwrap_or(def.brightness),
                    contrast: a.contrast.unwrap_or(def.contrast),
                };
                aug.validate()
                    .map_err(|e| self.invalid("data.augment", "...", e.to_string()))?;
                Some(aug)
            }
            _ => None,
        };
        let dicom_window = d.dicom_window.unwrap_or_default();
        if let Err(cxr_data::DataError::InvalidSetting { message, .. }) = dicom_window.validate() {
            return Err(self.invalid("data.dicom_window", dicom_window.key(), message));
        }
        if let Some(classes) = &d.classes {
            if classes.is_empty() {
                return Err(self.invalid(
                    "data.classes",
                    "[]",
                    "list at least one class, or leave it out",
                ));
            }
        }
        if d.labels.is_none() {
            for (setting, given) in [
                ("data.findings", d.findings.is_some()),
                ("data.columns", d.columns.is_some()),
                ("data.filter", d.filter.is_some()),
            ] {
                if given {
                    return Err(self.invalid(
                        setting,
                        "(set)",
                        "it reads a label table: set data.labels = \"<table.csv>\", or leave it out",
                    ));
                }
            }
        }
        let config = DataConfig {
            source,
            classes: d.classes,
            image_size,
            mask: d.mask.unwrap_or(defaults::MASK),
            skip_unreadable: d.skip_unreadable.unwrap_or(defaults::SKIP_UNREADABLE),
            dicom_window,
            normalization: d.normalization.unwrap_or_default(),
            augment,
        };
        Ok((config, facts))
    }
}

/// A label table under `root` (`data.labels`): read now, so that a broken table fails the
/// plan with its line, the split's group defaults to patients when the table names them, and
/// the run is identified by the table's and the images' content.
fn table(
    r: &Resolver<'_>,
    root: &Path,
    setting: &str,
    relative_to_grid: bool,
    raw: &RawRun,
    facts: &mut TableFacts,
) -> Result<DataSource> {
    let d = raw.data.clone().unwrap_or_default();
    let root = if relative_to_grid {
        r.path(root)
    } else {
        normalize(root)
    };
    if d.synthetic.is_some() {
        return Err(r.invalid(
            "data.labels",
            "with [data.synthetic]",
            "a label table names images under data.root: leave out [data.synthetic]",
        ));
    }
    if d.classes.is_some() {
        return Err(r.invalid(
            "data.classes",
            "with data.labels",
            "a label table's classes are its findings: choose them with data.findings = [...]",
        ));
    }
    let labels = d.labels.clone().unwrap_or_default();
    // Kept relative to the root, so that the run id (which leaves the root out) does not
    // depend on where the dataset lives.
    let labels = match labels.strip_prefix(&root) {
        Ok(rel) if labels.is_absolute() => rel.to_path_buf(),
        _ => labels,
    };
    let source = |group, fingerprint| DataSource::Table {
        root: root.clone(),
        labels: labels.clone(),
        columns: d.columns.clone().unwrap_or_default(),
        findings: d.findings.clone(),
        filter: d.filter.clone().unwrap_or_default(),
        group,
        fingerprint,
    };
    let asked = raw.split.as_ref().and_then(|s| s.group);
    facts.table = true;
    let present = root.join(&labels).is_file();
    if !present {
        if !r.overrides.allow_missing_data {
            return Err(r.invalid(
                setting,
                root.join(&labels).display(),
                "label table not found: data.labels is relative to data.root",
            ));
        }
        facts.multi_label = true;
        return Ok(source(asked.unwrap_or(cxr_data::SplitGroup::Patient), None));
    }
    let skip_missing = d.skip_unreadable.unwrap_or(defaults::SKIP_UNREADABLE);
    let spec = source(cxr_data::SplitGroup::Film, None)
        .label_spec(skip_missing)
        .unwrap_or_default();
    let table = cxr_data::labels::read_label_table(&spec)
        .map_err(|e| r.invalid("data.labels", labels.display(), e.to_string()))?;
    facts.multi_label = table.multi_label();
    let group = match (asked, table.patients.is_some()) {
        (Some(cxr_data::SplitGroup::Patient), false) => {
            return Err(r.invalid(
                "split.group",
                "patient",
                format!(
                    "{} has no patient column: map one with [data.columns] patient = \"<column>\", or split by film with group = \"film\"",
                    spec.table_path().display()
                ),
            ))
        }
        (Some(group), _) => group,
        (None, true) => cxr_data::SplitGroup::Patient,
        (None, false) => cxr_data::SplitGroup::Film,
    };
    let masks = d.mask.unwrap_or(defaults::MASK);
    // An image that cannot be read leaves the run the id of its path, as for folders: the
    // load reports what is wrong when the run trains.
    let fingerprint =
        cxr_data::fingerprint::table_fingerprint(&spec, masks, r.overrides.cache_dir.as_deref())
            .ok();
    Ok(source(group, fingerprint))
}

/// A dataset folder: `root` relative to the grid file's folder when `relative_to_grid` (not
/// for `--data`), which must exist unless missing data is allowed, identified by the
/// fingerprint of what the run reads (its classes, and their masks when it masks).
fn folder(
    r: &Resolver<'_>,
    root: &Path,
    setting: &str,
    relative_to_grid: bool,
    raw: &RawData,
) -> Result<DataSource> {
    let root = if relative_to_grid {
        r.path(root)
    } else {
        normalize(root)
    };
    if !root.is_dir() && !r.overrides.allow_missing_data {
        return Err(r.invalid(
            setting,
            root.display(),
            "dataset folder not found: point it at the folder holding one sub-folder per class",
        ));
    }
    let fingerprint = if root.is_dir() {
        let request = cxr_data::FingerprintRequest {
            root: &root,
            classes: raw.classes.as_deref(),
            masks: raw.mask.unwrap_or(defaults::MASK),
        };
        // A folder that is not a readable dataset yet keeps the id of its path: loading it
        // reports what is wrong when a run trains, as before fingerprints (a plan still lists).
        cxr_data::fingerprint(request, r.overrides.cache_dir.as_deref()).ok()
    } else {
        None
    };
    Ok(DataSource::Folder { root, fingerprint })
}
