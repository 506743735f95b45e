//! Chest X-ray datasets, from folders of radiographs to seeded batches of tensors.
//!
//! The pipeline, one module per step:
//!
//! 1. [`discover()`] finds classes and images: the COVID-19 Radiography Dataset layout
//!    (`<root>/<Class>/images/*`, lung masks in `<Class>/masks/`) or plain class folders.
//! 2. [`decode`] reads any PNG/JPEG (8/16-bit, gray, gray+alpha, RGB(A), palette) into one
//!    luminance channel and resizes it with an antialiasing filter. DICOM files ([`dicom`],
//!    `.dcm` or extensionless with the `DICM` magic) become 8-bit grey first: stored values,
//!    rescale, VOI window ([`DicomWindow`]), MONOCHROME1 inverted ([`voi`] gives the order).
//! 3. [`load`] does that once for every image, in parallel, optionally masking the lungs, and
//!    keeps the result as 8-bit pixels in a [`cache`] file keyed by the file list and the
//!    settings; a second load reads the cache and decodes nothing ([`LoadReport::decoded`]).
//!    A label table (NIH ChestX-ray14, CheXpert, MIMIC-CXR-JPG or a generic CSV/Parquet) is the
//!    other source: [`labels`] reads it into a [`FindingMatrix`] (several findings per film) and
//!    the films' patients ([`Groups`]); [`load_table`] decodes its images through the same cache.
//! 4. [`stratified_split`] divides an [`ImageSet`] into train/val/test per class;
//!    [`grouped_split`] and [`grouped_folds`] split a label table's films by patient
//!    ([`Groups`]), stratified over patients by their findings ([`FindingMatrix`]).
//! 5. [`Sampler`] orders each epoch (sequential, shuffled, or class-balanced with replacement).
//! 6. [`eval_batch`] turns indices into `(batch, C, H, W)` f32 and `(batch,)` u32 tensors:
//!    normalised (ImageNet or training-split statistics), gray replicated to 3 channels when the
//!    model wants them; [`train_batch`] optionally augments first (seeded); [`input_tensor`]
//!    does the same for images that belong to no dataset (inference).
//!
//! The DICOM of the tests and benchmarks (PNG-sourced radiographs as 12-bit, MONOCHROME1/2,
//! rescaled, windowed, RLE or JPEG lossless objects, and the objects cxr refuses) is written by
//! the `cxr-dicom-fixtures` crate, which the `cxr` binary does not link.
//!
//! [`synth`] writes synthetic radiograph phantoms in the Kaggle layout: the built-in dataset
//! of the demo and of CI, generated once into the cache folder ([`synth::cached_root`]).
//!
//! Every random choice takes an RNG from [`seed`], derived from one run seed and a named
//! [`seed::Stream`].
//! This crate does not know about models or training: it hands out tensors.
//!
//! ```no_run
//! use cxr_data::{load, seed::{self, Stream}, stratified_split, train_batch, BatchSpec,
//!                LoadOptions, Normalization, Sampler, SamplerKind, SplitFractions};
//! # fn main() -> cxr_data::Result<()> {
//! let opts = LoadOptions { cache_dir: Some(cxr_data::default_cache_dir()), ..Default::default() };
//! let (set, report) = load("data/COVID-19_Radiography_Dataset".as_ref(), &opts)?;
//! let split = stratified_split(&set.labels, &set.classes, SplitFractions::default(), &mut seed::rng(0, Stream::Split))?;
//! let sampler = Sampler::new(SamplerKind::Balanced, &split.train, &set.labels)?;
//! let order = sampler.epoch(&mut seed::rng_at(0, Stream::Sampler, 0));
//! let spec = BatchSpec { channels: 3, stats: Normalization::Auto.stats(false, &set, &split.train) };
//! let mut rng = seed::rng_at(0, Stream::Augment, 0);
//! let (x, y) = train_batch(&set, &order[..32], &spec, None, &mut rng, &candle_core::Device::Cpu)?;
//! assert_eq!(x.dims(), [32, 3, 128, 128]);
//! # let _ = (report, y); Ok(()) }
//! ```

pub mod augment;
pub mod batch;
pub mod cache;
pub mod dataset;
pub mod decode;
mod decode_progress;
pub mod dicom;
pub mod discover;
pub mod error;
pub mod findings;
pub mod fingerprint;
pub mod group_split;
pub mod inspect;
pub mod label_policy;
pub mod labels;
pub mod sampler;
pub use cxr_seed as seed;
pub mod split;
pub mod synth;
pub mod voi;

pub use augment::Augment;
pub use batch::{eval_batch, input_tensor, train_batch, BatchSpec, Normalization, PixelStats};
pub use dataset::{
    default_cache_dir, load, preprocess_file, CacheStatus, ImageSet, LoadOptions, LoadReport,
    DEFAULT_IMAGE_SIZE,
};
pub use decode::Unreadable;
pub use dicom::DicomInfo;
pub use discover::{discover, is_image_file, list_images, mask_path_of, DatasetIndex, Layout};
pub use error::{unreadable_lines, DataError, Result, TableError};
pub use findings::{FindingLabel, FindingMatrix, Groups, SplitGroup};
pub use fingerprint::{fingerprint, table_fingerprint, Fingerprint, FingerprintRequest};
pub use group_split::{grouped_folds, grouped_split};
pub use inspect::{inspect, Inspection};
pub use label_policy::{PosWeight, Uncertain};
pub use labels::{
    census, load_table, read_label_table, ColumnMap, LabelSpec, LabelTable, TableCensus,
    TableLayout, TableSet,
};
pub use sampler::{Sampler, SamplerKind};
pub use split::{stratified_folds, stratified_split, Split, SplitFractions};
pub use voi::DicomWindow;
