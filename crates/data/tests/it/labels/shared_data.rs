//! On the real NIH ChestX-ray14 sample in `../shared/data`: ignored by a plain `cargo test`,
//! run by `just test` where the folder exists (`cargo test -- --ignored shared_data::`).

use cxr_data::labels::{census, read_label_table, LabelSpec, TableLayout};

use crate::support::{nih_sample, TestResult};

#[test]
#[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
fn nih_sample_table_reads_as_the_readme_counts_it() -> TestResult {
    let spec = LabelSpec {
        root: nih_sample()?,
        labels: "Data_Entry_2017_v2020.csv".into(),
        ..Default::default()
    };
    let t = read_label_table(&spec)?;
    assert_eq!(t.layout, TableLayout::Nih);
    let c = census(&t);
    assert_eq!(c.films, 798);
    assert_eq!(c.multi_finding_films, 170);
    // /work/shared/data/README.md, "Counts per finding".
    let mut counts: Vec<(String, usize)> = c
        .findings
        .iter()
        .map(|f| (f.name.clone(), f.positive))
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let want: [(&str, usize); 14] = [
        ("Effusion", 138),
        ("Infiltration", 118),
        ("Atelectasis", 78),
        ("Cardiomegaly", 56),
        ("Pneumothorax", 39),
        ("Consolidation", 35),
        ("Emphysema", 35),
        ("Mass", 33),
        ("Fibrosis", 32),
        ("Nodule", 27),
        ("Pleural_Thickening", 27),
        ("Edema", 10),
        ("Pneumonia", 10),
        ("Hernia", 9),
    ];
    assert_eq!(counts, want.map(|(n, k)| (n.to_string(), k)));
    assert!(c.findings.iter().all(|f| f.positive + f.negative == 798));
    let no_finding = t
        .findings
        .positives()
        .iter()
        .filter(|p| p.is_empty())
        .count();
    assert_eq!(no_finding, 395);
    let p = c.patients.ok_or("patients")?;
    assert_eq!((p.count, p.min_films, p.max_films), (212, 1, 66));
    let views = c.views.ok_or("views")?;
    assert_eq!((views["PA"], views["AP"], views.len()), (524, 274, 2));
    assert_eq!(t.lines.last(), Some(&799));
    Ok(())
}
