//! The one way to write a grid folder's tables, and to read them back: [`GridDir`]'s methods.
//! The merged `summary.parquet` is rebuilt by [`crate::merge_summaries`] only; the report's
//! figures and `report.md` are named by [`GridDir`] and [`crate::ReportFigure`] and written by
//! `cxr-report`, whose `comparisons.parquet` rows are its own type.

use crate::cross_validation::{
    read_cross_validation, read_out_of_fold, write_cross_validation, write_out_of_fold,
    CrossValidationRow, OutOfFoldRow,
};
use crate::error::Result;
use crate::layout::GridDir;
use crate::plan::{read_plan, write_plan, PlanRow};
use crate::summary::{read_summary, RunSummary};

impl GridDir {
    /// Writes the grid's `plan.parquet` (every run the grid file expands to).
    pub fn write_plan(&self, rows: &[PlanRow]) -> Result<()> {
        write_plan(&self.plan_path(), rows)
    }

    /// Reads the grid's `plan.parquet`.
    pub fn read_plan(&self) -> Result<Vec<PlanRow>> {
        read_plan(&self.plan_path())
    }

    /// Reads the grid's merged `summary.parquet` (every finished run, one row each).
    pub fn read_summary(&self) -> Result<Vec<RunSummary>> {
        read_summary(&self.summary_path())
    }

    /// Writes `report/cross_validation.parquet`.
    pub fn write_cross_validation(&self, rows: &[CrossValidationRow]) -> Result<()> {
        write_cross_validation(&self.cross_validation_path(), rows)
    }

    /// Reads `report/cross_validation.parquet`.
    pub fn read_cross_validation(&self) -> Result<Vec<CrossValidationRow>> {
        read_cross_validation(&self.cross_validation_path())
    }

    /// Writes `report/out_of_fold.parquet`.
    pub fn write_out_of_fold(&self, rows: &[OutOfFoldRow]) -> Result<()> {
        write_out_of_fold(&self.out_of_fold_path(), rows)
    }

    /// Reads `report/out_of_fold.parquet`.
    pub fn read_out_of_fold(&self) -> Result<Vec<OutOfFoldRow>> {
        read_out_of_fold(&self.out_of_fold_path())
    }
}
