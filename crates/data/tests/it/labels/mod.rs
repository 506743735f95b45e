//! Label tables: each layout from a small file the test writes, every error with its line,
//! filter, findings, Parquet, loading through the cache, the census; the real NIH table.

mod errors;
mod layouts;
mod load;
mod shared_data;

use std::path::Path;

use cxr_data::labels::LabelSpec;
use cxr_data::FindingLabel;
use image::{GrayImage, Luma};

/// NIH's header as the 2020 table writes it: two names that each name two fields.
pub const NIH_HEADER: &str = "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]";

/// Writes an 8x8 gray PNG of `value` at `path` (folders created).
pub fn png(path: &Path, value: u8) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(path.parent().ok_or("no parent")?)?;
    GrayImage::from_pixel(8, 8, Luma([value])).save(path)?;
    Ok(())
}

/// A table at `root/name` with `text`, and a PNG for each of `images` (relative to `root`).
pub fn dataset(
    root: &Path,
    name: &str,
    text: &str,
    images: &[&str],
) -> Result<LabelSpec, Box<dyn std::error::Error>> {
    for (i, image) in images.iter().enumerate() {
        png(&root.join(image), 10 + 20 * i as u8)?;
    }
    std::fs::write(root.join(name), text)?;
    Ok(spec(root, name))
}

/// The spec of the table `name` under `root`, nothing else set.
pub fn spec(root: &Path, name: &str) -> LabelSpec {
    LabelSpec {
        root: root.to_path_buf(),
        labels: name.into(),
        ..Default::default()
    }
}

/// A row of findings as text: `1` positive, `0` negative, `?` uncertain, `.` missing.
pub fn row_text(row: &[FindingLabel]) -> String {
    row.iter()
        .map(|v| match v {
            FindingLabel::Positive => '1',
            FindingLabel::Negative => '0',
            FindingLabel::Uncertain => '?',
            FindingLabel::Missing => '.',
        })
        .collect()
}

/// A small NIH table: 4 films of 2 patients (one AP), the quirky header, and one row ending in
/// a comma as NIH's 2017 table's rows do.
pub fn nih(root: &Path) -> Result<LabelSpec, Box<dyn std::error::Error>> {
    let text = format!(
        "{NIH_HEADER}\n\
         00000001_000.png,Cardiomegaly,0,1,57,M,PA,2682,2749,0.143,0.143\n\
         00000001_001.png,Cardiomegaly|Emphysema,1,1,58,M,PA,2894,2729,0.143,0.143,\n\
         00000002_000.png,No Finding,0,2,81,M,AP,2500,2048,0.168,0.168\n\
         00000002_001.png,Effusion|Cardiomegaly,1,2,81,M,PA,2500,2048,0.168,0.168\n"
    );
    dataset(
        root,
        "Data_Entry_2017_v2020.csv",
        &text,
        &[
            "images/00000001_000.png",
            "images/00000001_001.png",
            "images/00000002_000.png",
            "images/00000002_001.png",
        ],
    )
}
