//! Loading, caching and decoding (PNG and DICOM), and splits by patient, on fixtures made in
//! the test and on the real sample, one test binary for the crate (one link, not one per
//! file); `support` holds what they share.

mod support;

mod dicom;
mod group_split;
mod labels;
mod load;
