//! Splits by patient: train/validation/test ([`grouped_split`]) and k folds
//! ([`grouped_folds`]) that keep each group's (patient's) films in one part, so no patient is
//! on both sides of a split, stratified over patients by their findings.
//!
//! The stratification is iterative stratification (Sechidis, Tsoumakas & Vlahavas, "On the
//! stratification of multi-label data", ECML PKDD 2011) with groups as its examples:
//!
//! - A group's label vector is its films' **positive counts** per finding, not presence: the
//!   parts are trained and scored per film, so a patient with 40 films of Infiltration moves
//!   40 films' worth of it. Presence would weigh that patient like one with a single film.
//!   Only [`crate::FindingLabel::Positive`] counts; uncertain and missing are not positives.
//! - Each part wants its fraction of all films and, per finding, its fraction of the positive
//!   films. The finding held by the fewest unassigned groups goes first; each of its groups
//!   (largest first) goes to the part with the largest remaining demand for that finding,
//!   ties broken by the largest remaining film demand, then by the caller's RNG. Then the
//!   next rarest finding among what is left. Groups with no positive finding go last, to the
//!   part with the largest remaining film demand.
//! - Two additions to the paper, so that every part can be scored for every finding: a part
//!   that holds no group of the finding being processed comes before one that does, and
//!   afterwards a part still without a finding that at least as many groups as there are
//!   parts hold takes one such group (the smallest that leaves its old part no finding short)
//!   from a part that has two or more. A part is never left empty while groups remain.
//!
//! A one-hot [`FindingMatrix`] (one class per film) is the single-label case of the same code.
//! Every random choice takes the caller's RNG, so a seed gives one split.

mod stratify;

use crate::error::{DataError, Result};
use crate::findings::{FindingMatrix, Groups};
use crate::split::{check_fold_settings, Split, SplitFractions};
use stratify::{films_of, stratify, GroupTable};

/// Splits the films by `fractions` of films, each group's films in one part, stratified over
/// groups by their findings (module docs). Each part of the result lists film indices
/// (rows of `labels`, positions in `groups.of`), ascending. Fewer than 3 groups with films is
/// an error.
pub fn grouped_split(
    groups: &Groups,
    labels: &FindingMatrix,
    fractions: SplitFractions,
    rng: &mut impl rand::Rng,
) -> Result<Split> {
    fractions.validate()?;
    let table = GroupTable::new(groups, labels)?;
    let members = table.nonempty();
    if members.len() < 3 {
        return Err(DataError::TooFewGroups {
            groups: members.len(),
            parts: 3,
            split: "train/val/test".into(),
        });
    }
    let parts = stratify(
        &table,
        &members,
        &[fractions.train, fractions.val, fractions.test],
        rng,
    );
    let split = Split {
        train: films_of(&table, &parts[0]),
        val: films_of(&table, &parts[1]),
        test: films_of(&table, &parts[2]),
    };
    check_filled(&split, "", members.len())?;
    Ok(split)
}

/// `k` cross-validation folds by group: the groups are stratified into `k` equal parts, fold
/// `f`'s test split is part `f`, so every film and every group is in exactly one test split.
/// Fold `f`'s validation split is carved from the other parts' groups (stratified the same
/// way), `val` of all films; its training split is the rest. `k` must be at least 2, `val` in
/// (0, 1), and there must be at least `k` groups with films and two outside each test fold.
pub fn grouped_folds(
    groups: &Groups,
    labels: &FindingMatrix,
    k: usize,
    val: f64,
    rng: &mut impl rand::Rng,
) -> Result<Vec<Split>> {
    check_fold_settings(k, val)?;
    let table = GroupTable::new(groups, labels)?;
    let members = table.nonempty();
    if members.len() < k {
        return Err(DataError::TooFewGroups {
            groups: members.len(),
            parts: k,
            split: format!("{k} folds"),
        });
    }
    let n_films: usize = members.iter().map(|&g| table.films[g].len()).sum();
    let test_parts = stratify(&table, &members, &vec![1.0 / k as f64; k], rng);
    let mut folds = Vec::with_capacity(k);
    for (f, test) in test_parts.iter().enumerate() {
        let rest: Vec<usize> = test_parts
            .iter()
            .enumerate()
            .filter(|&(other, _)| other != f)
            .flat_map(|(_, part)| part.iter().copied())
            .collect();
        let rest_films: usize = rest.iter().map(|&g| table.films[g].len()).sum();
        // `val` is a share of all films, as in `stratified_folds`; of the rest it is more.
        let share = (val * n_films as f64 / rest_films.max(1) as f64).min(1.0);
        let carved = stratify(&table, &rest, &[share, 1.0 - share], rng);
        let fold = Split {
            train: films_of(&table, &carved[1]),
            val: films_of(&table, &carved[0]),
            test: films_of(&table, test),
        };
        check_filled(&fold, &format!("fold {f} "), rest.len())?;
        folds.push(fold);
    }
    Ok(folds)
}

/// An error naming the first empty part of `split` (`prefix` names the fold).
fn check_filled(split: &Split, prefix: &str, groups: usize) -> Result<()> {
    for (name, films) in [
        ("test", &split.test),
        ("val", &split.val),
        ("train", &split.train),
    ] {
        if films.is_empty() {
            return Err(DataError::EmptyPart {
                part: format!("{prefix}{name}"),
                groups,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::FindingLabel::{Negative as N, Positive as P, Uncertain as U};
    use crate::seed::{self, Stream};

    /// Six patients of 4, 1, 1, 2, 1, 1 films; finding 0 positive on patients 0, 3 and 5.
    fn table() -> (Groups, FindingMatrix) {
        let patients = ["a", "a", "a", "a", "b", "c", "d", "d", "e", "f"];
        let rows = [P, P, N, N, N, N, P, N, N, P];
        let mut m = FindingMatrix::new(vec!["Effusion".into()]);
        for v in rows {
            m.push(&[v]);
        }
        (Groups::from_names(patients), m)
    }

    #[test]
    fn three_positive_patients_go_one_to_each_part() -> Result<()> {
        let (g, m) = table();
        let s = grouped_split(
            &g,
            &m,
            SplitFractions::default(),
            &mut seed::rng(0, Stream::Split),
        )?;
        // Patient a (2 positives of 4) is the largest of Effusion's: the part with the largest
        // Effusion demand, train (0.7 x 4 positive films), takes it. Patients d and f then go
        // to the two parts still without Effusion, test (demand 0.8) before val (0.4).
        assert_eq!(
            s.train.iter().take(4).copied().collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert!(s.test.contains(&6) && s.test.contains(&7), "{s:?}");
        assert!(s.val.contains(&9), "{s:?}");
        for part in [&s.train, &s.val, &s.test] {
            assert!(part.iter().any(|&i| m.row(i)[0] == P), "{s:?}");
        }
        Ok(())
    }

    #[test]
    fn uncertain_is_not_positive() -> Result<()> {
        let (g, m) = table();
        let mut uncertain = m.clone();
        for v in &mut uncertain.values {
            if *v == N {
                *v = U;
            }
        }
        let f = SplitFractions::default();
        let a = grouped_split(&g, &m, f, &mut seed::rng(3, Stream::Split))?;
        let b = grouped_split(&g, &uncertain, f, &mut seed::rng(3, Stream::Split))?;
        assert_eq!(a, b);
        Ok(())
    }

    #[test]
    fn too_few_patients_and_mismatched_lists_are_errors() {
        let (_, m) = table();
        let two = Groups::from_names(["a", "a", "a", "a", "b", "b", "b", "b", "b", "b"]);
        let msg = grouped_split(
            &two,
            &m,
            SplitFractions::default(),
            &mut seed::rng(0, Stream::Split),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            msg.starts_with("2 patient(s) cannot fill the 3 parts of train/val/test"),
            "{msg}"
        );
        let short = Groups::from_names(["a", "b"]);
        let msg = grouped_folds(&short, &m, 2, 0.1, &mut seed::rng(0, Stream::Split))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.contains("2 film(s) have a patient, the table has 10"),
            "{msg}"
        );
    }
}
