//! Splits by patient ([`grouped_split`], [`grouped_folds`]) on synthetic label tables made
//! here: patients of 1 to 60 films (most with few, as in NIH), findings that run in patients.

use cxr_data::seed::{self, Stream};
use cxr_data::{
    grouped_folds, grouped_split, FindingLabel, FindingMatrix, Groups, Split, SplitFractions,
};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::support::TestResult;

/// Film frequencies of six findings, from NIH-like common (Infiltration, 18%) to rare (Hernia).
const FREQUENCIES: [f64; 6] = [0.18, 0.12, 0.05, 0.025, 0.012, 0.004];

/// `patients` patients with 1..=60 films each, P(size = s) proportional to s^-1.6 (mean about
/// 5), and `FREQUENCIES`: a patient has a finding with probability 2f, then each of its films
/// with probability 1/2, so findings cluster in patients as real ones do.
fn synthetic(patients: usize, seed: u64) -> (Groups, FindingMatrix) {
    let mut rng = seed::rng(seed, Stream::Bootstrap);
    let weights: Vec<f64> = (1..=60).map(|s| f64::powf(s as f64, -1.6)).collect();
    let total: f64 = weights.iter().sum();
    let mut names = Vec::new();
    let mut m = FindingMatrix::new((0..FREQUENCIES.len()).map(|l| format!("f{l}")).collect());
    for p in 0..patients {
        let mut u = rng.random::<f64>() * total;
        let size = 1 + weights
            .iter()
            .position(|w| {
                u -= w;
                u <= 0.0
            })
            .unwrap_or(59);
        let has: Vec<bool> = FREQUENCIES
            .iter()
            .map(|f| rng.random_bool(2.0 * f))
            .collect();
        for _ in 0..size {
            let row: Vec<FindingLabel> = has
                .iter()
                .map(|&h| {
                    if h && rng.random_bool(0.5) {
                        FindingLabel::Positive
                    } else {
                        FindingLabel::Negative
                    }
                })
                .collect();
            m.push(&row);
            names.push(format!("p{p}"));
        }
    }
    (Groups::from_names(&names), m)
}

/// Each finding's positive patients among `films`.
fn positive_patients(g: &Groups, m: &FindingMatrix, films: &[usize]) -> Vec<usize> {
    (0..m.findings.len())
        .map(|l| {
            let pos: Vec<usize> = films
                .iter()
                .copied()
                .filter(|&i| m.row(i)[l].is_positive())
                .collect();
            g.count_in(&pos)
        })
        .collect()
}

/// Each group's part (0 train, 1 val, 2 test); panics if a group is in two.
fn assert_no_group_in_two_parts(g: &Groups, s: &Split) {
    let mut part = vec![None; g.count()];
    for (p, films) in [&s.train, &s.val, &s.test].into_iter().enumerate() {
        for &i in films {
            let slot = &mut part[g.of[i] as usize];
            assert!(
                slot.is_none() || *slot == Some(p),
                "patient {} in parts {slot:?} and {p}",
                g.names[g.of[i] as usize]
            );
            *slot = Some(p);
        }
    }
}

fn sorted(parts: &[&Vec<usize>]) -> Vec<usize> {
    let mut all: Vec<usize> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    all.sort_unstable();
    all
}

/// Label-proportion deviation (after Sechidis et al.'s label distribution measure): the mean
/// over findings and parts [train, val, test] of |part's positive share - whole's| / whole's
/// (findings with no positive film left out).
fn label_deviation(m: &FindingMatrix, s: &Split) -> f64 {
    let share = |films: &[usize], l: usize| {
        films.iter().filter(|&&i| m.row(i)[l].is_positive()).count() as f64 / films.len() as f64
    };
    let all: Vec<usize> = (0..m.len()).collect();
    let (mut sum, mut terms) = (0.0, 0);
    for l in 0..m.findings.len() {
        let whole = share(&all, l);
        if whole == 0.0 {
            continue;
        }
        for part in [&s.train, &s.val, &s.test] {
            sum += (share(part, l) - whole).abs() / whole;
            terms += 1;
        }
    }
    sum / terms as f64
}

/// The baseline: patients in random order, train filled to 70% of films, val to 80%.
fn naive_split(g: &Groups, rng: &mut impl Rng) -> Split {
    let mut order: Vec<usize> = (0..g.count()).collect();
    order.shuffle(rng);
    let films = g.of.len() as f64;
    let sizes = g.sizes();
    let mut part_of = vec![0; g.count()];
    let mut cumulative = 0;
    for p in order {
        part_of[p] = match cumulative as f64 / films {
            x if x < 0.7 => 0,
            x if x < 0.8 => 1,
            _ => 2,
        };
        cumulative += sizes[p];
    }
    let mut s = Split::default();
    for (i, &p) in g.of.iter().enumerate() {
        match part_of[p as usize] {
            0 => s.train.push(i),
            1 => s.val.push(i),
            _ => s.test.push(i),
        }
    }
    s
}

#[test]
fn split_keeps_patients_whole_proportional_and_every_finding_everywhere() -> TestResult {
    for seed_ in 0..4 {
        let (g, m) = synthetic(400, seed_);
        let n = m.len();
        let f = SplitFractions::default();
        let s = grouped_split(&g, &m, f, &mut seed::rng(seed_, Stream::Split))?;
        assert_no_group_in_two_parts(&g, &s);
        assert_eq!(
            sorted(&[&s.train, &s.val, &s.test]),
            (0..n).collect::<Vec<_>>()
        );
        for (films, want) in [(&s.train, f.train), (&s.val, f.val), (&s.test, f.test)] {
            let got = films.len() as f64 / n as f64;
            assert!(
                (got - want).abs() < 0.01,
                "seed {seed_}: {got} for {want} of {n}"
            );
        }
        let all: Vec<usize> = (0..n).collect();
        let whole = positive_patients(&g, &m, &all);
        for part in [&s.train, &s.val, &s.test] {
            let here = positive_patients(&g, &m, part);
            for l in 0..whole.len() {
                if whole[l] >= 3 {
                    assert!(
                        here[l] > 0,
                        "seed {seed_}: f{l} ({} patients) missing",
                        whole[l]
                    );
                }
            }
        }
    }
    Ok(())
}

#[test]
fn split_is_seeded() -> TestResult {
    let (g, m) = synthetic(300, 7);
    let f = SplitFractions::default();
    let a = grouped_split(&g, &m, f, &mut seed::rng(1, Stream::Split))?;
    let b = grouped_split(&g, &m, f, &mut seed::rng(1, Stream::Split))?;
    let c = grouped_split(&g, &m, f, &mut seed::rng(2, Stream::Split))?;
    assert_eq!(a, b);
    assert_ne!(a.test, c.test);
    Ok(())
}

#[test]
fn iterative_stratification_beats_a_random_split_by_patient() -> TestResult {
    // Mean label deviation over 8 seeded tables of 400 patients.
    let (mut ours, mut naive) = (0.0, 0.0);
    for seed_ in 0..8 {
        let (g, m) = synthetic(400, 100 + seed_);
        let mut rng = seed::rng(seed_, Stream::Split);
        ours += label_deviation(
            &m,
            &grouped_split(&g, &m, SplitFractions::default(), &mut rng)?,
        );
        naive += label_deviation(&m, &naive_split(&g, &mut rng));
    }
    eprintln!(
        "label deviation: iterative {:.4}, random {:.4}",
        ours / 8.0,
        naive / 8.0
    );
    assert!(ours < 0.5 * naive, "iterative {ours} vs random {naive}");
    Ok(())
}

#[test]
fn folds_partition_films_and_patients() -> TestResult {
    let k = 5;
    let (g, m) = synthetic(400, 3);
    let n = m.len();
    let folds = grouped_folds(&g, &m, k, 0.1, &mut seed::rng(3, Stream::Split))?;
    assert_eq!(folds.len(), k);
    let tests: Vec<&Vec<usize>> = folds.iter().map(|f| &f.test).collect();
    assert_eq!(sorted(&tests), (0..n).collect::<Vec<_>>());
    // Every patient in exactly one test fold.
    let patients: usize = folds.iter().map(|f| g.count_in(&f.test)).sum();
    assert_eq!(patients, g.count());
    let all: Vec<usize> = (0..n).collect();
    let whole = positive_patients(&g, &m, &all);
    for (i, fold) in folds.iter().enumerate() {
        assert_no_group_in_two_parts(&g, fold);
        assert_eq!(
            sorted(&[&fold.train, &fold.val, &fold.test]),
            (0..n).collect::<Vec<_>>()
        );
        let test_share = fold.test.len() as f64 / n as f64;
        let val_share = fold.val.len() as f64 / n as f64;
        assert!(
            (test_share - 0.2).abs() < 0.01,
            "fold {i}: test {test_share}"
        );
        assert!((val_share - 0.1).abs() < 0.01, "fold {i}: val {val_share}");
        let in_test = positive_patients(&g, &m, &fold.test);
        let mut outside: Vec<usize> = fold.train.iter().chain(&fold.val).copied().collect();
        outside.sort_unstable();
        let in_rest = positive_patients(&g, &m, &outside);
        let in_val = positive_patients(&g, &m, &fold.val);
        let in_train = positive_patients(&g, &m, &fold.train);
        for l in 0..whole.len() {
            if whole[l] >= k {
                assert!(in_test[l] > 0, "fold {i}: f{l} ({}) not in test", whole[l]);
            }
            if in_rest[l] >= 2 {
                assert!(
                    in_val[l] > 0 && in_train[l] > 0,
                    "fold {i}: f{l} not in val/train"
                );
            }
        }
    }
    let again = grouped_folds(&g, &m, k, 0.1, &mut seed::rng(3, Stream::Split))?;
    assert_eq!(again, folds);
    let other = grouped_folds(&g, &m, k, 0.1, &mut seed::rng(4, Stream::Split))?;
    assert_ne!(other, folds);
    Ok(())
}

#[test]
fn one_class_per_film_is_the_single_label_case() -> TestResult {
    // 4 classes as a one-hot matrix; each of 200 patients has one class on all its films.
    let (g, _) = synthetic(200, 9);
    let classes = 4;
    let mut m = FindingMatrix::new((0..classes).map(|c| format!("c{c}")).collect());
    for &p in &g.of {
        let mut row = vec![FindingLabel::Negative; classes];
        row[p as usize % classes] = FindingLabel::Positive;
        m.push(&row);
    }
    let class_of = |i: usize| g.of[i] as usize % classes;
    let s = grouped_split(
        &g,
        &m,
        SplitFractions::default(),
        &mut seed::rng(0, Stream::Split),
    )?;
    assert_no_group_in_two_parts(&g, &s);
    for c in 0..classes {
        let n_c = (0..m.len()).filter(|&i| class_of(i) == c).count() as f64;
        for (part, want) in [(&s.train, 0.7), (&s.val, 0.1), (&s.test, 0.2)] {
            let got = part.iter().filter(|&&i| class_of(i) == c).count() as f64 / n_c;
            assert!((got - want).abs() < 0.05, "class {c}: {got} for {want}");
        }
    }
    for fold in grouped_folds(&g, &m, 5, 0.1, &mut seed::rng(0, Stream::Split))? {
        assert_no_group_in_two_parts(&g, &fold);
        for c in 0..classes {
            assert!(fold.test.iter().any(|&i| class_of(i) == c), "class {c}");
        }
    }
    Ok(())
}

#[test]
fn too_few_patients_for_the_folds_are_errors() {
    let (g, m) = synthetic(3, 0);
    let msg = |k: usize, val: f64| {
        grouped_folds(&g, &m, k, val, &mut seed::rng(0, Stream::Split))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(msg(1, 0.1).contains("split.folds"));
    assert!(msg(3, 0.0).contains("split.val"));
    assert!(
        msg(5, 0.1).starts_with("3 patient(s) cannot fill the 5 parts of 5 folds"),
        "{}",
        msg(5, 0.1)
    );
    // 2 folds of 3 patients: one test fold holds two, leaving one patient for val and train.
    let two = msg(2, 0.1);
    assert!(
        two.starts_with("the split by patient left fold ") && two.contains("use fewer folds"),
        "{two}"
    );
    // 3 folds of 3 patients: one each in test, the other two in val and train.
    let folds = grouped_folds(&g, &m, 3, 0.1, &mut seed::rng(0, Stream::Split));
    assert!(folds.is_ok_and(|f| f.iter().all(|f| g.count_in(&f.test) == 1)));
}

/// On the real NIH sample (798 films, 212 patients), read here with a plain comma split: the
/// label-table reader has its own tests.
mod shared_data {
    use super::*;

    /// Groups and findings of `../shared/data/NIH_ChestXray14_sample/Data_Entry_2017_v2020.csv`.
    fn nih_sample() -> Result<(Groups, FindingMatrix), Box<dyn std::error::Error>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/NIH_ChestXray14_sample/Data_Entry_2017_v2020.csv");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("needs the NIH sample: {}: {e}", path.display()))?;
        let rows: Vec<Vec<&str>> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        let mut names: Vec<&str> = rows
            .iter()
            .flat_map(|r| r[1].split('|'))
            .filter(|&f| f != "No Finding")
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut m = FindingMatrix::new(names.iter().map(|n| n.to_string()).collect());
        for r in &rows {
            let found: Vec<&str> = r[1].split('|').collect();
            let row: Vec<FindingLabel> = names
                .iter()
                .map(|n| match found.contains(n) {
                    true => FindingLabel::Positive,
                    false => FindingLabel::Negative,
                })
                .collect();
            m.push(&row);
        }
        Ok((Groups::from_names(rows.iter().map(|r| r[3])), m))
    }

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn nih_sample_splits_by_patient_with_every_finding_everywhere() -> TestResult {
        let (g, m) = nih_sample()?;
        assert_eq!((m.len(), g.count(), m.findings.len()), (798, 212, 14));
        let all: Vec<usize> = (0..m.len()).collect();
        let whole = positive_patients(&g, &m, &all);
        let s = grouped_split(
            &g,
            &m,
            SplitFractions::default(),
            &mut seed::rng(0, Stream::Split),
        )?;
        assert_no_group_in_two_parts(&g, &s);
        for part in [&s.train, &s.val, &s.test] {
            let here = positive_patients(&g, &m, part);
            for l in 0..whole.len() {
                assert!(here[l] > 0 || whole[l] < 3, "{} missing", m.findings[l]);
            }
        }
        let folds = grouped_folds(&g, &m, 5, 0.1, &mut seed::rng(0, Stream::Split))?;
        let tests: Vec<&Vec<usize>> = folds.iter().map(|f| &f.test).collect();
        assert_eq!(sorted(&tests), all);
        for fold in &folds {
            assert_no_group_in_two_parts(&g, fold);
            let here = positive_patients(&g, &m, &fold.test);
            for l in 0..whole.len() {
                assert!(here[l] > 0 || whole[l] < 5, "{} missing", m.findings[l]);
            }
            let share = fold.test.len() as f64 / m.len() as f64;
            assert!((share - 0.2).abs() < 0.02, "test fold of {share}");
        }
        Ok(())
    }
}
