//! `[data]` of a resolved run: where the images come from ([`DataSource`]) and how they are
//! preprocessed ([`DataConfig`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use cxr_data::{Augment, Normalization};

/// Where the images come from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataSource {
    /// A dataset folder (Kaggle layout or class folders).
    Folder {
        /// The dataset root as given (absolute, or relative to the working directory): where
        /// to read, not what was read.
        root: PathBuf,
        /// What was read: the content hash of the images under `root`
        /// ([`cxr_data::fingerprint`]). The run id hashes this instead of `root`, so the same
        /// data under another path, mount point or copy is the same run. Absent in configs
        /// written before fingerprints and when the folder is not on this machine (a plan made
        /// without the data); such a run's id hashes `root`, as ids did before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fingerprint: Option<cxr_data::Fingerprint>,
    },
    /// A label table's films: one row per film naming its image (under `root` or
    /// `root/images`), its findings and, when the table has them, its patient and view.
    Table {
        /// The dataset root as given: where to read, not what was read.
        root: PathBuf,
        /// The table, relative to `root` when it lies under it.
        labels: PathBuf,
        /// The table's column names for the roles, where they differ from its layout's.
        #[serde(default, skip_serializing_if = "is_default_columns")]
        columns: cxr_data::labels::ColumnMap,
        /// The findings trained on, in output order (`None`: every finding of the table).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        findings: Option<Vec<String>>,
        /// Rows kept: each listed column holds one of its values.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        filter: BTreeMap<String, Vec<String>>,
        /// What the split keeps together (`[split] group`): a patient's films, or none.
        group: cxr_data::SplitGroup,
        /// What was read: the table's content, the settings above and every image's content
        /// ([`cxr_data::fingerprint::table_fingerprint`]); the run id hashes it instead of
        /// `root`. Absent when the table is not on this machine (a plan made without it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fingerprint: Option<cxr_data::Fingerprint>,
    },
    /// The built-in synthetic phantoms, generated on first use into the cache folder.
    Synthetic {
        /// Images per class.
        per_class: usize,
        /// Side length of the generated images.
        size: u32,
        /// Generator seed.
        seed: u64,
    },
}

impl DataSource {
    /// Whether two runs read the same images: equal fingerprints when both have one (wherever
    /// each folder is), else equal roots; synthetic sets by their generator settings.
    pub fn same_data(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Folder {
                    fingerprint: Some(a),
                    ..
                },
                Self::Folder {
                    fingerprint: Some(b),
                    ..
                },
            ) => a == b,
            (Self::Folder { root: a, .. }, Self::Folder { root: b, .. }) => a == b,
            (
                Self::Table {
                    fingerprint: Some(a),
                    ..
                },
                Self::Table {
                    fingerprint: Some(b),
                    ..
                },
            ) => a == b,
            _ => self == other,
        }
    }
}

/// Data and preprocessing of a run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Where the images come from.
    pub source: DataSource,
    /// Explicit class list (label order); absent = every class folder, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Side length of the square training images.
    pub image_size: u32,
    /// Multiply images by their lung masks.
    pub mask: bool,
    /// Skip unreadable images instead of failing.
    pub skip_unreadable: bool,
    /// How DICOM images are windowed to 8 bits; left out when serialised at its default
    /// (`file`), so runs from before DICOM support keep their ids.
    #[serde(default, skip_serializing_if = "cxr_data::DicomWindow::is_file")]
    pub dicom_window: cxr_data::DicomWindow,
    /// Pixel normalisation.
    pub normalization: Normalization,
    /// Training-time augmentation; absent = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augment: Option<Augment>,
}

fn is_default_columns(columns: &cxr_data::labels::ColumnMap) -> bool {
    *columns == cxr_data::labels::ColumnMap::default()
}

impl DataSource {
    /// What a label table's split keeps together (`None` for folders and synthetic sets, which
    /// split films).
    pub fn split_group(&self) -> Option<cxr_data::SplitGroup> {
        match self {
            Self::Table { group, .. } => Some(*group),
            _ => None,
        }
    }

    /// The label table this data reads, as [`cxr_data::labels::read_label_table`] takes it
    /// (`skip_missing`: the run's `skip_unreadable`); `None` for folders and synthetic sets.
    pub fn label_spec(&self, skip_missing: bool) -> Option<cxr_data::labels::LabelSpec> {
        match self {
            Self::Table {
                root,
                labels,
                columns,
                findings,
                filter,
                ..
            } => Some(cxr_data::labels::LabelSpec {
                root: root.clone(),
                labels: labels.clone(),
                columns: columns.clone(),
                findings: findings.clone(),
                filter: filter.clone(),
                skip_missing,
            }),
            _ => None,
        }
    }
}
