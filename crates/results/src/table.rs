//! How a table's rows become Parquet and back. Each table is one struct declared with
//! [`table!`](crate::table!): its field names are its column names, its field types say how each
//! column is encoded ([`Cell`]), so a column is named exactly once.

use std::io::Cursor;
use std::path::Path;

use crate::axes::{parse_label, AxisValue};
use polars::prelude::*;

use crate::atomic::write_atomic;
use crate::error::{Result, ResultsError};

/// A Rust type stored as one Parquet column.
pub trait Cell: Sized + Default {
    /// The column `name` holding `values`.
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column>
    where
        Self: 'a;

    /// The values of column `name`, one per row. Optional types read a missing column as all
    /// absent (a column added after the first release); required types fail.
    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>>;
}

/// A table whose rows are `Self`.
pub trait Table: Sized {
    /// Column names, in order.
    const COLUMNS: &'static [&'static str];
    /// The rows as a data frame.
    fn to_frame(rows: &[Self]) -> PolarsResult<DataFrame>;
    /// The rows of a data frame (extra columns are ignored).
    fn from_frame(df: &DataFrame) -> PolarsResult<Vec<Self>>;
}

/// Declares a table's row struct and its [`Table`] impl from one field list.
#[macro_export]
#[doc(hidden)]
macro_rules! table {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
        }

        impl $crate::table::Table for $name {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn to_frame(rows: &[Self]) -> polars::prelude::PolarsResult<polars::prelude::DataFrame> {
                polars::prelude::DataFrame::new_infer_height(vec![$(
                    <$ty as $crate::table::Cell>::column(
                        stringify!($field),
                        rows.iter().map(|r| &r.$field),
                    )?,
                )*])
            }

            fn from_frame(
                df: &polars::prelude::DataFrame,
            ) -> polars::prelude::PolarsResult<Vec<Self>> {
                $( let mut $field = <$ty as $crate::table::Cell>::read(df, stringify!($field))?
                    .into_iter(); )*
                Ok((0..df.height())
                    .map(|_| Self { $( $field: $field.next().unwrap_or_default(), )* })
                    .collect())
            }
        }
    };
}

fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

fn ints(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    Ok(df.column(name)?.i64()?.iter().collect())
}

fn floats(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<f64>>> {
    Ok(df.column(name)?.f64()?.iter().collect())
}

/// Reads an optional column: a column missing from the file reads as all absent.
fn optional<T>(
    df: &DataFrame,
    name: &str,
    read: impl FnOnce(&DataFrame, &str) -> PolarsResult<Vec<Option<T>>>,
) -> PolarsResult<Vec<Option<T>>> {
    match df.column(name) {
        Ok(_) => read(df, name),
        Err(_) => Ok((0..df.height()).map(|_| None).collect()),
    }
}

/// A column of plain values (numbers, booleans, their options), copied out of the rows.
fn copied_column<'a, T>(name: &str, values: impl Iterator<Item = &'a T>) -> Column
where
    T: Copy + 'a,
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::new(name.into(), values.copied().collect::<Vec<_>>())
}

impl Cell for String {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        let values: Vec<&str> = values.map(String::as_str).collect();
        Ok(Column::new(name.into(), values))
    }

    /// Nulls read as empty strings.
    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        Ok(strings(df, name)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    }
}

impl Cell for Option<String> {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        let values: Vec<Option<&str>> = values.map(Option::as_deref).collect();
        Ok(Column::new(name.into(), values))
    }

    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        optional(df, name, strings)
    }
}

impl Cell for i64 {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        Ok(copied_column(name, values))
    }

    /// Nulls read as 0.
    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        Ok(ints(df, name)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    }
}

impl Cell for Option<i64> {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        Ok(copied_column(name, values))
    }

    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        optional(df, name, ints)
    }
}

impl Cell for f64 {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        Ok(copied_column(name, values))
    }

    /// Nulls read as NaN.
    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        Ok(floats(df, name)?
            .into_iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect())
    }
}

impl Cell for Option<f64> {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        Ok(copied_column(name, values))
    }

    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        optional(df, name, floats)
    }
}

impl Cell for bool {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        Ok(copied_column(name, values))
    }

    /// Nulls read as false.
    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        Ok(df
            .column(name)?
            .bool()?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect())
    }
}

/// A list of f32 per row (a run's class probabilities), null where a row has none.
impl Cell for Option<Vec<f32>> {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        let rows: ListChunked = values
            .map(|v| v.as_deref().map(|p| Series::new("".into(), p)))
            .collect();
        let list = rows
            .into_series()
            .cast(&DataType::List(Box::new(DataType::Float32)))?;
        Ok(list.with_name(name.into()).into_column())
    }

    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        let lists = df.column(name)?.list()?.clone();
        (0..lists.len())
            .map(|i| {
                lists
                    .get_as_series(i)
                    .map(|row| {
                        let row = row.cast(&DataType::Float32)?;
                        Ok(row.f32()?.iter().map(|v| v.unwrap_or(f32::NAN)).collect())
                    })
                    .transpose()
            })
            .collect()
    }
}

/// A run's grid axes: a list of `{setting, value}` structs per row. Files written before the
/// column was structured hold a `setting=value, ...` string, which reads back the same.
impl Cell for Vec<AxisValue> {
    fn column<'a>(name: &str, values: impl Iterator<Item = &'a Self>) -> PolarsResult<Column> {
        let rows: Vec<Series> = values
            .map(|axes| {
                let setting: Vec<&str> = axes.iter().map(|a| a.setting.as_str()).collect();
                let value: Vec<&str> = axes.iter().map(|a| a.value.as_str()).collect();
                let fields = [
                    Series::new("setting".into(), setting),
                    Series::new("value".into(), value),
                ];
                StructChunked::from_series("".into(), axes.len(), fields.iter())
                    .map(|s| s.into_series())
            })
            .collect::<PolarsResult<_>>()?;
        let inner = DataType::Struct(vec![
            Field::new("setting".into(), DataType::String),
            Field::new("value".into(), DataType::String),
        ]);
        let mut list = Series::new(name.into(), rows);
        if list.is_empty() {
            list = Series::new_empty(name.into(), &DataType::List(Box::new(inner)));
        }
        Ok(list.into_column())
    }

    fn read(df: &DataFrame, name: &str) -> PolarsResult<Vec<Self>> {
        let column = df.column(name)?;
        if let Ok(text) = column.str() {
            return Ok(text
                .iter()
                .map(|t| parse_label(t.unwrap_or_default()))
                .collect());
        }
        let lists = column.list()?;
        (0..lists.len())
            .map(|i| lists.get_as_series(i))
            .map(|row| {
                let Some(row) = row else {
                    return Ok(Vec::new());
                };
                let fields = row.struct_()?;
                let setting = fields.field_by_name("setting")?;
                let value = fields.field_by_name("value")?;
                Ok(setting
                    .str()?
                    .iter()
                    .zip(value.str()?.iter())
                    .map(|(s, v)| AxisValue::new(s.unwrap_or_default(), v.unwrap_or_default()))
                    .collect())
            })
            .collect()
    }
}

/// Writes `rows` as Parquet to `path` (atomically), after `constants`: columns holding one
/// value on every row (the run id of a run's tables).
pub fn write_rows<T: Table>(path: &Path, constants: &[(&str, &str)], rows: &[T]) -> Result<()> {
    let frame = || -> PolarsResult<DataFrame> {
        let mut df = T::to_frame(rows)?;
        for (i, (name, value)) in constants.iter().enumerate() {
            let column = Column::new((*name).into(), vec![*value; rows.len()]);
            df.insert_column(i, column)?;
        }
        Ok(df)
    };
    let mut df = frame().map_err(ResultsError::table(path))?;
    write_frame(path, &mut df)
}

/// Writes `df` to the Parquet file `path` through a temporary file and a rename.
pub(crate) fn write_frame(path: &Path, df: &mut DataFrame) -> Result<()> {
    let mut buf = Cursor::new(Vec::new());
    ParquetWriter::new(&mut buf)
        .finish(df)
        .map_err(ResultsError::table(path))?;
    write_atomic(path, buf.get_ref())
}

/// Reads the rows of a Parquet table written by [`write_rows`].
pub fn read_rows<T: Table>(path: &Path) -> Result<Vec<T>> {
    let df = read_frame(path)?;
    T::from_frame(&df).map_err(ResultsError::table(path))
}

/// Reads a Parquet file.
pub fn read_frame(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(ResultsError::io(path))?;
    ParquetReader::new(file)
        .finish()
        .map_err(ResultsError::table(path))
}
