//! The report and `cxr check` on grid folders written by hand, one test binary for the crate
//! (one link, not one per file); `fixture` writes the grids.

mod fixture;

mod check;
mod paired;
mod report;
