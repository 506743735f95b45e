//! The report and `cxr check` on grid folders written by hand, one test binary for the crate
//! (one link, not one per file); `fixture` and `multilabel_fixture` write the grids.

mod fixture;
mod multilabel_fixture;

mod check;
mod html;
mod multilabel;
mod multilabel_check;
mod paired;
mod report;
