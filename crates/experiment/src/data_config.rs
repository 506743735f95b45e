//! `[data]` of a resolved run: where the images come from ([`DataSource`]) and how they are
//! preprocessed ([`DataConfig`]).

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
