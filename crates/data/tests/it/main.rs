//! Loading, caching and decoding (PNG and DICOM) on fixtures made in the test and on the real
//! sample, one test binary for the crate (one link, not one per file); `support` holds what
//! they share.

mod support;

mod dicom;
mod labels;
mod load;
