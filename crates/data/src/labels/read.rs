//! A label table's cells as text: CSV (the `csv` crate) or Parquet (polars), each row with its
//! line in the file, and the BLAKE3 of the file's bytes.
//!
//! CSV is read with the `csv` crate rather than polars: the workspace builds polars without its
//! `csv` feature (turning it on would rebuild polars for every crate), and the `csv` crate is
//! already built for the t-SNE of the report. It also gives each record its line, which the
//! errors need.
//!
//! NIH's header quirk: `OriginalImage[Width,Height]` and `OriginalImagePixelSpacing[x,y]` each
//! name two fields. Whether the header writes them bare (split into `OriginalImage[Width` and
//! `Height]` by the comma) or quoted (one cell naming two fields), a header name with a list in
//! brackets becomes one column per item: `OriginalImage[Width]`, `OriginalImage[Height]`. Fields
//! past the header's names (NIH's 2017 table ends every row with a comma) are unnamed and
//! ignored; a row with fewer fields than names is an error.

use std::path::Path;

use csv::StringRecord;

use crate::error::{DataError, Result, TableError};

/// The cells of a table, as text.
#[derive(Debug, Clone)]
pub(crate) struct RawTable {
    /// Column names, quirks resolved.
    pub header: Vec<String>,
    /// One record per row (a cell past the header's names is ignored).
    pub rows: Vec<StringRecord>,
    /// Each row's line in the file (the header is line 1; Parquet: row number + 1).
    pub lines: Vec<usize>,
    /// BLAKE3 of the file's bytes.
    pub digest: [u8; 32],
}

impl RawTable {
    /// Row `row`'s cell in column `col` (trimmed; blank when the row has none, or Parquet's null).
    pub fn cell(&self, row: usize, col: usize) -> &str {
        self.rows[row].get(col).unwrap_or("")
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }
}

/// Reads `table`: Parquet when its extension is `.parquet` or `.pq`, CSV otherwise.
pub(crate) fn read_raw(table: &Path) -> Result<RawTable> {
    let bytes = std::fs::read(table).map_err(DataError::io(table))?;
    let digest = *blake3::hash(&bytes).as_bytes();
    let parquet = table
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"));
    let (header, rows, lines) = if parquet {
        read_parquet(table, bytes)?
    } else {
        read_csv(table, &bytes)?
    };
    Ok(RawTable {
        header,
        rows,
        lines,
        digest,
    })
}

type Cells = (Vec<String>, Vec<StringRecord>, Vec<usize>);

fn read_csv(table: &Path, bytes: &[u8]) -> Result<Cells> {
    let failed = |reason: String| {
        DataError::from(TableError::Read {
            table: table.to_path_buf(),
            reason,
        })
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes));
    let header = expand_header(reader.headers().map_err(|e| failed(e.to_string()))?);
    if header.iter().all(String::is_empty) {
        return Err(failed("the file is empty".into()));
    }
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = record.map_err(|e| failed(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.len() < header.len() {
            return Err(DataError::from(TableError::Row {
                table: table.to_path_buf(),
                line,
                message: format!(
                    "{} field(s), but the header names {}: complete the row or remove it",
                    record.len(),
                    header.len()
                ),
            }));
        }
        rows.push(record);
        lines.push(line);
    }
    Ok((header, rows, lines))
}

/// The header's names with bracketed lists split into one name per item (see the module doc).
fn expand_header(cells: &StringRecord) -> Vec<String> {
    let mut names = Vec::with_capacity(cells.len());
    let mut open: Option<String> = None;
    for cell in cells {
        let joined = match open.take() {
            Some(start) => format!("{start},{cell}"),
            None => cell.to_string(),
        };
        if joined.matches('[').count() > joined.matches(']').count() {
            open = Some(joined);
            continue;
        }
        names.extend(split_bracket_list(&joined));
    }
    names.extend(open);
    names
}

/// `Name[a,b]` -> `Name[a]`, `Name[b]`; any other name is itself.
fn split_bracket_list(name: &str) -> Vec<String> {
    match (name.find('['), name.strip_suffix(']')) {
        (Some(open), Some(inner)) if inner[open + 1..].contains(',') => {
            let stem = &name[..open];
            inner[open + 1..]
                .split(',')
                .map(|item| format!("{stem}[{}]", item.trim()))
                .collect()
        }
        _ => vec![name.to_string()],
    }
}

fn read_parquet(table: &Path, bytes: Vec<u8>) -> Result<Cells> {
    use polars::prelude::{DataType, ParquetReader, SerReader};
    let failed = |e: polars::prelude::PolarsError| {
        DataError::from(TableError::Read {
            table: table.to_path_buf(),
            reason: e.to_string(),
        })
    };
    let df = ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .map_err(failed)?;
    let header: Vec<String> = df.columns().iter().map(|c| c.name().to_string()).collect();
    let mut cells: Vec<Vec<String>> = vec![Vec::with_capacity(header.len()); df.height()];
    for column in df.columns() {
        let text = column.cast(&DataType::String).map_err(failed)?;
        for (row, value) in text.str().map_err(failed)?.iter().enumerate() {
            cells[row].push(value.unwrap_or("").trim().to_string());
        }
    }
    let lines = (2..df.height() + 2).collect();
    Ok((
        header,
        cells.into_iter().map(StringRecord::from).collect(),
        lines,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nih_header_names_one_column_per_field_bare_or_quoted() {
        let bare = StringRecord::from(vec![
            "Image Index",
            "OriginalImage[Width",
            "Height]",
            "OriginalImagePixelSpacing[x",
            "y]",
        ]);
        let quoted = StringRecord::from(vec![
            "Image Index",
            "OriginalImage[Width,Height]",
            "OriginalImagePixelSpacing[x,y]",
        ]);
        let want = [
            "Image Index",
            "OriginalImage[Width]",
            "OriginalImage[Height]",
            "OriginalImagePixelSpacing[x]",
            "OriginalImagePixelSpacing[y]",
        ];
        assert_eq!(expand_header(&bare), want);
        assert_eq!(expand_header(&quoted), want);
        assert_eq!(
            expand_header(&StringRecord::from(vec!["a[1]", "b["])),
            ["a[1]", "b["]
        );
    }
}
