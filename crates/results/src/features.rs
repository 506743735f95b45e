//! `features.parquet`: the embeddings of a dataset, one row per image (written by classic-head
//! runs, read by the report's feature maps).
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `path` | str | the image file, as the dataset lists it |
//! | `class` | str | its (true) class |
//! | `split` | str | `train`, `val` or `test` ([`split_name`]) |
//! | `features` | fixed-size list of f32 (`Array(Float32, dim)`) | its embedding |
//!
//! The features are a fixed-size list, not a list, so the file itself says every row has the
//! same width and a reader gets one flat buffer back.

use std::path::Path;

use polars::prelude::*;

use crate::error::{Result, ResultsError};
use crate::table::{read_frame, write_frame};

/// Column names of `features.parquet`, in order: `path` (str), `class` (str), `split` (str:
/// `train` | `val` | `test`), `features` (fixed-size list of f32, polars
/// `DataType::Array(Float32, dim)`).
pub const FEATURE_COLUMNS: [&str; 4] = ["path", "class", "split", "features"];

/// Values of the `split` column.
pub mod split_name {
    /// The rows a model was fitted on.
    pub const TRAIN: &str = "train";
    /// The rows that chose the kept epoch (early stopping).
    pub const VAL: &str = "val";
    /// The held-out rows.
    pub const TEST: &str = "test";
    /// Every value, in pipeline order.
    pub const ALL: [&str; 3] = [TRAIN, VAL, TEST];
}

/// Embeddings of a dataset: one row per image.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// Image file of each row.
    pub paths: Vec<String>,
    /// Class of each row.
    pub classes: Vec<String>,
    /// Split of each row ([`split_name`]).
    pub splits: Vec<String>,
    /// Features per row (at least 1).
    pub dim: usize,
    /// The features, row-major: `len() * dim` values.
    pub values: Vec<f32>,
}

impl FeatureTable {
    /// Number of rows (images).
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The features of row `i` (`dim` values). Panics if `i` is out of range, like slice
    /// indexing.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// Indices of the rows of `split`, in table order.
    pub fn rows_in(&self, split: &str) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.splits[i] == split)
            .collect()
    }

    /// The distinct classes, sorted.
    pub fn class_names(&self) -> Vec<String> {
        let mut names = self.classes.clone();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Why the table is inconsistent (column lengths, width, split names), if it is.
    fn problem(&self) -> Option<String> {
        let rows = self.len();
        if self.classes.len() != rows || self.splits.len() != rows {
            return Some(format!(
                "{rows} paths, {} classes and {} splits: every column needs one value per row",
                self.classes.len(),
                self.splits.len()
            ));
        }
        if self.dim == 0 {
            return Some("features must have at least one value per row (dim is 0)".into());
        }
        if self.values.len() != rows * self.dim {
            return Some(format!(
                "{} feature values for {rows} rows of {}: expected {}",
                self.values.len(),
                self.dim,
                rows * self.dim
            ));
        }
        let unknown = self
            .splits
            .iter()
            .find(|s| !split_name::ALL.contains(&s.as_str()));
        unknown.map(|s| format!("split `{s}` is none of train, val, test"))
    }
}

/// Writes `table` to `path` as Parquet (atomically). Fails, writing nothing, if its columns
/// disagree in length, `dim` is 0 or a split is not `train`, `val` or `test`.
pub fn write_features(path: &Path, table: &FeatureTable) -> Result<()> {
    let invalid = |message: String| ResultsError::Table {
        path: path.to_path_buf(),
        message,
    };
    if let Some(problem) = table.problem() {
        return Err(invalid(problem));
    }
    let frame = || -> PolarsResult<DataFrame> {
        let features = Series::new(FEATURE_COLUMNS[3].into(), table.values.as_slice())
            .reshape_array(&[
                ReshapeDimension::new(table.len() as i64),
                ReshapeDimension::new(table.dim as i64),
            ])?;
        DataFrame::new_infer_height(vec![
            Column::new(FEATURE_COLUMNS[0].into(), table.paths.as_slice()),
            Column::new(FEATURE_COLUMNS[1].into(), table.classes.as_slice()),
            Column::new(FEATURE_COLUMNS[2].into(), table.splits.as_slice()),
            features.into_column(),
        ])
    };
    let mut df = frame().map_err(ResultsError::table(path))?;
    write_frame(path, &mut df)
}

/// Reads a `features.parquet`. Fails, naming the file, on a missing column, a column of another
/// type (`features` must be a fixed-size list of f32), a null anywhere, or a split that is not
/// `train`, `val` or `test`.
pub fn read_features(path: &Path) -> Result<FeatureTable> {
    let df = read_frame(path)?;
    let invalid = |message: String| ResultsError::Table {
        path: path.to_path_buf(),
        message,
    };
    let column = |name: &str| {
        df.column(name)
            .map_err(|_| invalid(format!("no `{name}` column (expected {FEATURE_COLUMNS:?})")))
    };
    let strings = |name: &str| -> Result<Vec<String>> {
        let values = column(name)?
            .str()
            .map_err(|_| invalid(format!("`{name}` must be a string column")))?;
        values
            .iter()
            .map(|v| v.map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid(format!("`{name}` has null values")))
    };
    let paths = strings(FEATURE_COLUMNS[0])?;
    let classes = strings(FEATURE_COLUMNS[1])?;
    let splits = strings(FEATURE_COLUMNS[2])?;

    let name = FEATURE_COLUMNS[3];
    let wrong_type = || invalid(format!("`{name}` must be a fixed-size list of f32"));
    let features = column(name)?.array().map_err(|_| wrong_type())?;
    if features.inner_dtype() != &DataType::Float32 {
        return Err(wrong_type());
    }
    let features = features.rechunk();
    let inner = features.get_inner();
    if features.null_count() > 0 || inner.null_count() > 0 {
        return Err(invalid(format!("`{name}` has null values")));
    }
    let values: Vec<f32> = inner
        .f32()
        .map_err(|_| wrong_type())?
        .into_no_null_iter()
        .collect();
    let table = FeatureTable {
        paths,
        classes,
        splits,
        dim: features.width(),
        values,
    };
    match table.problem() {
        Some(problem) => Err(invalid(problem)),
        None => Ok(table),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn table(rows: usize, dim: usize) -> FeatureTable {
        let splits = split_name::ALL;
        FeatureTable {
            paths: (0..rows).map(|i| format!("images/{i}.png")).collect(),
            classes: (0..rows).map(|i| ["normal", "tb"][i % 2].into()).collect(),
            splits: (0..rows).map(|i| splits[i % 3].into()).collect(),
            dim,
            values: (0..rows * dim).map(|v| v as f32 * 0.25 - 1.0).collect(),
        }
    }

    #[test]
    fn features_round_trip() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("features.parquet");
        for (rows, dim) in [(7, 5), (4, 1), (0, 3)] {
            let written = table(rows, dim);
            write_features(&path, &written)?;
            assert_eq!(read_features(&path)?, written, "{rows} rows of {dim}");
        }
        Ok(())
    }

    #[test]
    fn features_parquet_has_the_documented_columns() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("features.parquet");
        write_features(&path, &table(6, 4))?;
        let df = ParquetReader::new(std::fs::File::open(&path)?).finish()?;
        let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(names, FEATURE_COLUMNS);
        assert_eq!(df.height(), 6, "one row per image");
        let features = df.column("features")?;
        assert_eq!(
            features.dtype(),
            &DataType::Array(Box::new(DataType::Float32), 4)
        );
        let row = features.array()?.get_as_series(1).ok_or("no row 1")?;
        let row: Vec<f32> = row.f32()?.into_no_null_iter().collect();
        assert_eq!(row, table(6, 4).row(1));
        Ok(())
    }

    #[test]
    fn table_accessors_follow_table_order() {
        let t = table(7, 2);
        assert_eq!(t.len(), 7);
        assert!(!t.is_empty() && table(0, 2).is_empty());
        assert_eq!(t.row(2), [4.0 * 0.25 - 1.0, 5.0 * 0.25 - 1.0].as_slice());
        assert_eq!(t.rows_in(split_name::TRAIN), [0, 3, 6]);
        assert_eq!(t.rows_in(split_name::TEST), [2, 5]);
        assert_eq!(t.class_names(), ["normal", "tb"]);
    }

    #[test]
    fn features_write_rejects_inconsistent_tables() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("features.parquet");
        let mut short = table(3, 2);
        short.values.pop();
        let mut no_class = table(3, 2);
        no_class.classes.pop();
        let mut bad_split = table(3, 2);
        bad_split.splits[1] = "validation".into();
        let zero_width = FeatureTable {
            dim: 0,
            values: Vec::new(),
            ..table(3, 0)
        };
        for (t, why) in [
            (short, "expected 6"),
            (no_class, "one value per row"),
            (bad_split, "`validation`"),
            (zero_width, "dim is 0"),
        ] {
            let message = write_features(&path, &t)
                .err()
                .ok_or("inconsistent table written")?
                .to_string();
            assert!(message.contains(why), "{message}");
            assert!(message.contains("features.parquet"), "{message}");
        }
        assert!(!path.exists());
        Ok(())
    }

    #[test]
    fn features_read_names_the_missing_or_mistyped_column() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("features.parquet");
        let t = table(3, 2);
        let frame = |features: Column| {
            DataFrame::new_infer_height(vec![
                Column::new("path".into(), t.paths.as_slice()),
                Column::new("class".into(), t.classes.as_slice()),
                Column::new("split".into(), t.splits.as_slice()),
                features,
            ])
        };
        let save = |mut df: DataFrame| -> TestResult {
            ParquetWriter::new(std::fs::File::create(&path)?).finish(&mut df)?;
            Ok(())
        };

        let mut missing = frame(Column::new("features".into(), [1.0f32, 2.0, 3.0]))?;
        let _ = missing.drop_in_place("class")?;
        save(missing)?;
        let message = read_features(&path).err().ok_or("read")?.to_string();
        assert!(message.contains("no `class` column"), "{message}");
        assert!(message.contains("features.parquet"), "{message}");

        save(frame(Column::new("features".into(), [1.0f32, 2.0, 3.0]))?)?;
        let message = read_features(&path).err().ok_or("read")?.to_string();
        assert!(
            message.contains("`features` must be a fixed-size list of f32"),
            "{message}"
        );

        let doubles = Series::new("features".into(), [1.0f64; 6])
            .reshape_array(&[ReshapeDimension::new(3), ReshapeDimension::new(2)])?;
        save(frame(doubles.into_column())?)?;
        let message = read_features(&path).err().ok_or("read")?.to_string();
        assert!(message.contains("fixed-size list of f32"), "{message}");

        let with_null = Series::new("features".into(), [Some(1.0f32), None, Some(2.0)])
            .reshape_array(&[ReshapeDimension::new(3), ReshapeDimension::new(1)])?;
        save(frame(with_null.into_column())?)?;
        let message = read_features(&path).err().ok_or("read")?.to_string();
        assert!(message.contains("`features` has null values"), "{message}");
        Ok(())
    }
}
