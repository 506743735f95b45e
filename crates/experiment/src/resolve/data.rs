//! `[data]`: the dataset (a folder, `--data`, or `[data.synthetic]`), the image size and the
//! preprocessing.

use std::path::Path;

use cxr_data::Augment;

use super::{normalize, Resolver};
use crate::config::{DataConfig, DataSource};
use crate::defaults;
use crate::error::Result;
use crate::raw::{RawData, RawRun};

impl Resolver<'_> {
    /// The dataset and preprocessing; `[data.synthetic] size` defaults to the image size.
    pub(super) fn data(&self, raw: &RawRun) -> Result<DataConfig> {
        let d = raw.data.clone().unwrap_or_default();
        let image_size = self.range(
            "data.image_size",
            d.image_size.unwrap_or(defaults::IMAGE_SIZE),
            16,
            1024,
        )?;
        let source = match (&self.overrides.data_root, &d.root, &d.synthetic) {
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
        Ok(DataConfig {
            source,
            classes: d.classes,
            image_size,
            mask: d.mask.unwrap_or(defaults::MASK),
            skip_unreadable: d.skip_unreadable.unwrap_or(defaults::SKIP_UNREADABLE),
            dicom_window,
            normalization: d.normalization.unwrap_or_default(),
            augment,
        })
    }
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
