//! `plan.parquet`: every run a grid file expands to, finished or not, so a report can name the
//! runs that are missing.

use std::path::Path;

use crate::axes::AxisValue;

use crate::error::Result;
use crate::table::{read_rows, write_rows};

crate::table! {
    /// One row of `plan.parquet`: a run the grid plans, finished or not.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct PlanRow {
        /// Stable run id.
        pub run_id: String,
        /// Architecture.
        pub model: String,
        /// Frozen stages.
        pub freeze: i64,
        /// Run seed.
        pub seed: i64,
        /// The run's grid-axis values, as in the summary.
        pub axes: Vec<AxisValue>,
    }
}

/// Writes a grid's `plan.parquet`.
pub(crate) fn write_plan(path: &Path, rows: &[PlanRow]) -> Result<()> {
    write_rows(path, &[], rows)
}

/// Reads a grid's `plan.parquet`.
pub fn read_plan(path: &Path) -> Result<Vec<PlanRow>> {
    read_rows(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("plan.parquet");
        let rows = vec![PlanRow {
            run_id: "cnn-f0-s0-abc".into(),
            model: "cnn".into(),
            freeze: 0,
            seed: 0,
            axes: vec![AxisValue::new("model.name", "cnn")],
        }];
        write_plan(&path, &rows)?;
        assert_eq!(read_plan(&path)?, rows);
        Ok(())
    }
}
