//! A synthetic label table in NIH ChestX-ray14's format (`Data_Entry_2017_v2020.csv`: same
//! header, 11 fields a row), the size of the real one by default, for timing what reads and
//! splits it ([`crate::split`]). No pixels: only the table.

use std::io::Write;
use std::path::Path;

use rand::Rng;

use crate::error::{BenchError, Result};

/// NIH's header: 9 names for 11 fields (`OriginalImage[Width,Height]` and
/// `OriginalImagePixelSpacing[x,y]` each name two).
pub const NIH_HEADER: &str = "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y]";

/// NIH's 14 findings with their film counts in the full 112,120-film table (Wang et al.,
/// CVPR 2017, as the 2020 revision tabulates them); 60,361 films are `No Finding`.
pub const NIH_FINDINGS: [(&str, usize); 14] = [
    ("Atelectasis", 11_559),
    ("Cardiomegaly", 2_776),
    ("Effusion", 13_317),
    ("Infiltration", 19_894),
    ("Mass", 5_782),
    ("Nodule", 6_331),
    ("Pneumonia", 1_431),
    ("Pneumothorax", 5_302),
    ("Consolidation", 4_667),
    ("Edema", 2_303),
    ("Emphysema", 2_516),
    ("Fibrosis", 1_686),
    ("Pleural_Thickening", 3_385),
    ("Hernia", 227),
];

/// Films in NIH's full table.
const NIH_FILMS: f64 = 112_120.0;

/// The table to write.
#[derive(Debug, Clone, Copy)]
pub struct NihTableSpec {
    /// Films (rows).
    pub rows: usize,
    /// Patients; each has 1 to `max_films` films.
    pub patients: usize,
    /// Most films of one patient.
    pub max_films: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for NihTableSpec {
    /// NIH's full table: 112,120 films of 30,805 patients, up to 180 films each.
    fn default() -> Self {
        Self {
            rows: 112_120,
            patients: 30_805,
            max_films: 180,
            seed: 0,
        }
    }
}

/// Films per patient: P(s) proportional to s^-2 on 1..=max (most patients have one or two,
/// a few have over a hundred, as in NIH), then single films added to or taken from random
/// patients until they sum to `rows`.
fn patient_sizes(spec: &NihTableSpec, rng: &mut impl Rng) -> Result<Vec<usize>> {
    if spec.patients == 0 || spec.rows < spec.patients || spec.rows > spec.patients * spec.max_films
    {
        return Err(BenchError::Unsupported(format!(
            "a table of {} films for {} patients of 1..={} films",
            spec.rows, spec.patients, spec.max_films
        )));
    }
    let weights: Vec<f64> = (1..=spec.max_films).map(|s| (s as f64).powi(-2)).collect();
    let total: f64 = weights.iter().sum();
    let mut sizes: Vec<usize> = (0..spec.patients)
        .map(|_| {
            let mut u = rng.random::<f64>() * total;
            1 + weights
                .iter()
                .position(|w| {
                    u -= w;
                    u <= 0.0
                })
                .unwrap_or(spec.max_films - 1)
        })
        .collect();
    let mut sum: usize = sizes.iter().sum();
    while sum != spec.rows {
        let p = rng.random_range(0..spec.patients);
        if sum < spec.rows && sizes[p] < spec.max_films {
            sizes[p] += 1;
            sum += 1;
        } else if sum > spec.rows && sizes[p] > 1 {
            sizes[p] -= 1;
            sum -= 1;
        }
    }
    Ok(sizes)
}

/// Writes the table to `path`. Each patient has each finding with probability twice its NIH
/// film frequency and then shows it on each of its films with probability 1/2, so the film
/// frequencies are NIH's and findings run in patients; a film with none is `No Finding`.
pub fn write_nih_table(path: &Path, spec: &NihTableSpec) -> Result<()> {
    let mut rng = cxr_data::seed::rng(spec.seed, cxr_data::seed::Stream::Split);
    let sizes = patient_sizes(spec, &mut rng)?;
    let io = |source: std::io::Error| BenchError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    writeln!(out, "{NIH_HEADER}").map_err(io)?;
    let mut labels = String::new();
    for (p, &size) in sizes.iter().enumerate() {
        let id = p + 1;
        let has: Vec<bool> = NIH_FINDINGS
            .iter()
            .map(|&(_, n)| rng.random_bool((2.0 * n as f64 / NIH_FILMS).min(1.0)))
            .collect();
        let age = rng.random_range(1..90);
        let sex = if rng.random_bool(0.56) { "M" } else { "F" };
        for follow_up in 0..size {
            labels.clear();
            for (l, &(name, _)) in NIH_FINDINGS.iter().enumerate() {
                if has[l] && rng.random_bool(0.5) {
                    if !labels.is_empty() {
                        labels.push('|');
                    }
                    labels.push_str(name);
                }
            }
            if labels.is_empty() {
                labels.push_str("No Finding");
            }
            let view = if rng.random_bool(0.6) { "PA" } else { "AP" };
            let (w, h) = (rng.random_range(2000..3000), rng.random_range(2000..3000));
            let spacing = if rng.random_bool(0.7) { 0.143 } else { 0.168 };
            writeln!(
                out,
                "{id:08}_{follow_up:03}.png,{labels},{follow_up},{id},{},{sex},{view},{w},{h},{spacing},{spacing}",
                age + follow_up / 10
            )
            .map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

/// One row of the table as the placeholder reader keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct NihRow {
    /// `Image Index`.
    pub image: String,
    /// `Finding Labels`, as written (`A|B` or `No Finding`).
    pub findings: String,
    /// `Patient ID`.
    pub patient: String,
}

/// Splits each row of an NIH table on commas (no quoting; NIH's table has none) and keeps the
/// image, findings and patient: the generator's own reading, which the tests hold
/// [`cxr_data::read_label_table`] against, and the image names the benchmark creates. A row
/// without 11 fields is an error naming its line.
pub fn read_nih_rows(path: &Path) -> Result<Vec<NihRow>> {
    let text = std::fs::read_to_string(path).map_err(|source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 11 {
            return Err(BenchError::Unsupported(format!(
                "{} line {}: {} fields, NIH rows have 11",
                path.display(),
                n + 1,
                fields.len()
            )));
        }
        rows.push(NihRow {
            image: fields[0].to_string(),
            findings: fields[1].to_string(),
            patient: fields[3].to_string(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_table_reads_back_with_nih_header_and_sizes() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|source| BenchError::Io {
            path: "tempdir".into(),
            source,
        })?;
        let path = dir.path().join("t.csv");
        let spec = NihTableSpec {
            rows: 300,
            patients: 40,
            max_films: 30,
            seed: 1,
        };
        write_nih_table(&path, &spec)?;
        let text = std::fs::read_to_string(&path).map_err(|source| BenchError::Io {
            path: path.clone(),
            source,
        })?;
        assert_eq!(text.lines().next(), Some(NIH_HEADER));
        let rows = read_nih_rows(&path)?;
        assert_eq!(rows.len(), 300);
        let (groups, labels) = crate::split::build(&rows)?;
        assert_eq!((groups.count(), labels.len()), (40, 300));
        assert!(groups.sizes().iter().all(|&s| (1..=30).contains(&s)));
        // Patient 1's first film is 00000001_000.png; every image names its patient.
        assert_eq!(rows[0].image, "00000001_000.png");
        assert!(rows
            .iter()
            .all(|r| r.image.starts_with(&format!("{:0>8}_", r.patient))));
        // cxr's reader finds the same patients and findings (given the images exist).
        std::fs::create_dir_all(dir.path().join("images")).map_err(|source| BenchError::Io {
            path: dir.path().to_path_buf(),
            source,
        })?;
        for r in &rows {
            let image = dir.path().join("images").join(&r.image);
            std::fs::write(&image, b"").map_err(|source| BenchError::Io {
                path: image.clone(),
                source,
            })?;
        }
        let table = cxr_data::LabelSpec {
            root: dir.path().to_path_buf(),
            labels: "t.csv".into(),
            ..Default::default()
        };
        let read = cxr_data::read_label_table(&table)
            .map_err(|e| BenchError::Unsupported(e.to_string()))?;
        assert_eq!(read.patients.as_ref(), Some(&groups));
        // NIH's layout knows the findings its rows name: one no film of these 300 has is
        // absent from what is read, and must be negative on every generated film.
        let order: Vec<Option<usize>> = labels
            .findings
            .iter()
            .map(|f| read.findings.findings.iter().position(|g| g == f))
            .collect();
        for film in 0..300 {
            let mine: Vec<_> = order
                .iter()
                .map(|k| {
                    k.map_or(cxr_data::FindingLabel::Negative, |k| {
                        read.findings.row(film)[k]
                    })
                })
                .collect();
            assert_eq!(mine, labels.row(film), "film {film}");
        }
        // Too many films for the patients is refused.
        let too_many = NihTableSpec { rows: 2000, ..spec };
        assert!(write_nih_table(&path, &too_many).is_err());
        Ok(())
    }
}
