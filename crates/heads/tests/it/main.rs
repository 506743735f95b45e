//! The classic heads on synthetic feature sets, one test binary for the crate (one link, not
//! one per file); `support` makes the feature sets.

mod support;

mod errors;
mod fit_search;
