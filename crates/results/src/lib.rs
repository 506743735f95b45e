//! The results of a sweep, as an API: where each file lives ([`layout`]) and what columns each
//! Parquet table has ([`tables`]). The trainer writes through this crate, the report and the
//! regression check read through it, so a column is named in exactly one place.
//!
//! Every file is written to a temporary file in its folder and renamed into place; a run's
//! `summary.parquet` is written last, so its presence is what "finished" means and a killed run
//! never looks finished. The grid's merged `summary.parquet` is rebuilt from the run folders
//! under a file lock, so cells run by separate processes (`cxr sweep --cell N`) merge without a
//! shared writer.

pub mod axes;
mod columns;
pub mod error;
pub mod layout;
pub mod tables;

pub use error::{Result, ResultsError};
pub use layout::{write_atomic, GridDir, RunDir};
pub use tables::{
    merge_summaries, read_confusion, read_frame, read_history, read_per_class, read_plan,
    read_summary, status, summary_columns, write_confusion, write_history, write_per_class,
    write_plan, write_summary, ConfusionRow, HistoryRow, PerClassRow, PlanRow, RunSummary,
};
