//! The value each setting of a grid file takes when the file leaves it out, in one place.
//!
//! Resolving ([`crate::resolve`]) fills these in before a run's config is serialised and
//! hashed, so each one is part of the run id of every run that leaves its setting out:
//! changing one renames those runs (their results stay in folders named by the old ids).
//!
//! Defaults that belong to a type are its `Default` and are not repeated here: Adam's
//! hyperparameters ([`crate::AdamSettings`], PyTorch's), the split fractions and augmentation
//! strengths (`cxr_data`'s `SplitFractions` and `Augment`), the DICOM window, the input
//! normalisation, the sampler, the early-stopping metric and the objective.

use cxr_models::DeviceSpec;

/// `seed`: the run seed every stream derives from.
pub const SEED: u64 = 0;

/// `data.image_size`: the side the images are resized to, in pixels.
pub const IMAGE_SIZE: u32 = cxr_data::DEFAULT_IMAGE_SIZE;

/// `data.mask`: whether to multiply the images by their lung masks.
pub const MASK: bool = false;

/// `data.skip_unreadable`: whether to leave out images that cannot be decoded instead of
/// failing.
pub const SKIP_UNREADABLE: bool = false;

/// `data.augment.enabled` when `[data.augment]` is given: the table turns augmentation on.
pub const AUGMENT_ENABLED: bool = true;

/// `data.synthetic.per_class`: the generator's own default.
pub const SYNTHETIC_PER_CLASS: usize = cxr_data::synth::DEFAULT_PER_CLASS;

/// `data.synthetic.seed`: the generator's seed (not the run seed).
pub const SYNTHETIC_SEED: u64 = 0;

/// `train.max_epochs`.
pub const MAX_EPOCHS: usize = 100;

/// `train.patience`: epochs without improvement before early stopping.
pub const PATIENCE: usize = 20;

/// `train.batch_size`.
pub const BATCH_SIZE: usize = 128;

/// `train.prefix_cache`: on, since it does not change results.
pub const PREFIX_CACHE: bool = true;

/// `train.calibrate`: no temperature scaling.
pub const CALIBRATE: bool = false;

/// `train.device`: the CPU (`--device` replaces it).
pub const DEVICE: DeviceSpec = DeviceSpec::Cpu;
