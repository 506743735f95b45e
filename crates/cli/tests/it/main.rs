//! The `cxr` binary as a user runs it: one test binary for the whole CLI (one link, not one
//! per file), its modules by command, what they share in `support`.

mod support;
// The HTTP server of the weights crate's tests: `cxr weights` and weights by name.
#[path = "../../../weights/tests/support/mod.rs"]
mod weights_server;

mod claims;
mod classic_heads;
mod data;
mod dicom;
mod folds;
mod fuzz;
mod labels;
mod multilabel;
mod predict;
mod published;
mod report;
mod resume;
mod sweep;
mod weights;
