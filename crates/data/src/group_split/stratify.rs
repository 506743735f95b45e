//! Iterative stratification of groups (Sechidis, Tsoumakas & Vlahavas 2011) into parts of
//! given fractions: the algorithm behind [`super::grouped_split`] and [`super::grouped_folds`].

use std::cmp::{Ordering, Reverse};

use rand::seq::SliceRandom;

use crate::error::{DataError, Result};
use crate::findings::{FindingMatrix, Groups};

/// What the stratification knows of each group: its films and its positive films per finding.
pub(super) struct GroupTable {
    /// Each group's films, ascending.
    pub films: Vec<Vec<usize>>,
    /// Each group's positive films per finding, as `(finding, count)` for counts above 0.
    positives: Vec<Vec<(usize, usize)>>,
    /// Number of findings.
    findings: usize,
}

impl GroupTable {
    /// Counts each group's films and positives (only [`crate::FindingLabel::Positive`] counts).
    pub fn new(groups: &Groups, labels: &FindingMatrix) -> Result<Self> {
        if groups.of.len() != labels.len() {
            return Err(DataError::GroupsMismatch(format!(
                "{} film(s) have a patient, the table has {} film(s)",
                groups.of.len(),
                labels.len()
            )));
        }
        let (n_groups, k) = (groups.count(), labels.findings.len());
        let mut films = vec![Vec::new(); n_groups];
        let mut counts = vec![0usize; n_groups * k];
        for (film, &g) in groups.of.iter().enumerate() {
            let g = g as usize;
            if g >= n_groups {
                return Err(DataError::GroupsMismatch(format!(
                    "film {film} names patient {g} of {n_groups}"
                )));
            }
            films[g].push(film);
            for (l, v) in labels.row(film).iter().enumerate() {
                counts[g * k + l] += usize::from(v.is_positive());
            }
        }
        let positives = (0..n_groups)
            .map(|g| {
                (0..k)
                    .filter(|&l| counts[g * k + l] > 0)
                    .map(|l| (l, counts[g * k + l]))
                    .collect()
            })
            .collect();
        Ok(Self {
            films,
            positives,
            findings: k,
        })
    }

    /// The groups that hold at least one film.
    pub fn nonempty(&self) -> Vec<usize> {
        (0..self.films.len())
            .filter(|&g| !self.films[g].is_empty())
            .collect()
    }

    fn has(&self, g: usize, finding: usize) -> bool {
        self.positives[g].iter().any(|&(l, _)| l == finding)
    }
}

/// The running state of one stratification: what each part still wants and what it holds.
struct Parts {
    findings: usize,
    /// Films each part still wants (its fraction of all films, minus what it got).
    film_demand: Vec<f64>,
    /// Positive films each part still wants, `part * findings + finding`.
    finding_demand: Vec<f64>,
    /// Groups positive for a finding that each part holds, `part * findings + finding`.
    holders: Vec<usize>,
    /// Each part's groups.
    groups: Vec<Vec<usize>>,
}

impl Parts {
    fn assign(&mut self, part: usize, g: usize, table: &GroupTable) {
        self.film_demand[part] -= table.films[g].len() as f64;
        for &(l, c) in &table.positives[g] {
            self.finding_demand[part * self.findings + l] -= c as f64;
            self.holders[part * self.findings + l] += 1;
        }
        self.groups[part].push(g);
    }

    /// The part for the next group: while `finding` is processed, a part that holds no group
    /// of it first, then the largest remaining demand for it, then the largest remaining film
    /// demand, then `rng`. When only as many groups are `left` as parts are empty, an empty
    /// part, so that none stays empty.
    fn choose(&self, finding: Option<usize>, left: usize, rng: &mut impl rand::Rng) -> usize {
        let empty: Vec<usize> = (0..self.groups.len())
            .filter(|&j| self.groups[j].is_empty())
            .collect();
        let candidates: Vec<usize> = if !empty.is_empty() && left <= empty.len() {
            empty
        } else {
            (0..self.groups.len()).collect()
        };
        let key = |j: usize| match finding {
            Some(l) => {
                let at = j * self.findings + l;
                (
                    self.holders[at] == 0,
                    self.finding_demand[at],
                    self.film_demand[j],
                )
            }
            None => (false, 0.0, self.film_demand[j]),
        };
        let cmp = |a: (bool, f64, f64), b: (bool, f64, f64)| -> Ordering {
            a.0.cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
        };
        let best = candidates
            .iter()
            .map(|&j| key(j))
            .max_by(|&a, &b| cmp(a, b))
            .unwrap_or((false, 0.0, 0.0));
        let ties: Vec<usize> = candidates
            .into_iter()
            .filter(|&j| cmp(key(j), best) == Ordering::Equal)
            .collect();
        match ties.len() {
            0 => 0,
            1 => ties[0],
            n => ties[rng.random_range(0..n)],
        }
    }

    /// Moves groups so that every finding held by at least as many groups as there are parts
    /// is in every part: a part without it takes the smallest group positive for it from a
    /// part that holds two or more such groups, provided the move takes from that part no
    /// finding it holds once. Each move adds a (part, finding) presence and removes none, so
    /// this ends.
    fn spread_findings(&mut self, table: &GroupTable, holders_total: &[usize]) {
        let (n_parts, k) = (self.groups.len(), self.findings);
        let mut order: Vec<usize> = (0..k).filter(|&l| holders_total[l] >= n_parts).collect();
        order.sort_by_key(|&l| (holders_total[l], l));
        loop {
            let mut moved = false;
            for &l in &order {
                for to in 0..n_parts {
                    if self.holders[to * k + l] > 0 {
                        continue;
                    }
                    let donor = (0..n_parts)
                        .filter(|&from| from != to && self.holders[from * k + l] >= 2)
                        .flat_map(|from| self.groups[from].iter().map(move |&g| (from, g)))
                        .filter(|&(from, g)| {
                            table.has(g, l)
                                && table.positives[g]
                                    .iter()
                                    .all(|&(m, _)| self.holders[from * k + m] >= 2)
                        })
                        .min_by_key(|&(_, g)| (table.films[g].len(), g));
                    if let Some((from, g)) = donor {
                        self.groups[from].retain(|&x| x != g);
                        for &(m, _) in &table.positives[g] {
                            self.holders[from * k + m] -= 1;
                        }
                        self.assign(to, g, table);
                        moved = true;
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }
}

/// Shares `members` (group indices) out into `fractions.len()` parts and returns each part's
/// groups. Each part wants `fraction * films` films and, of each finding, `fraction *
/// positive films`. The rarest finding (fewest unassigned groups positive for it) goes first:
/// its groups, largest first, each to the part [`Parts::choose`] picks; then the next rarest
/// of what is left; the groups with no positive finding last, largest first, by film demand.
/// Largest first (equal sizes in `rng`'s order) lets the many small groups even out what the
/// few large ones leave.
pub(super) fn stratify(
    table: &GroupTable,
    members: &[usize],
    fractions: &[f64],
    rng: &mut impl rand::Rng,
) -> Vec<Vec<usize>> {
    let k = table.findings;
    let n_films: usize = members.iter().map(|&g| table.films[g].len()).sum();
    let mut positive_films = vec![0usize; k];
    let mut unassigned_with = vec![0usize; k];
    for &g in members {
        for &(l, c) in &table.positives[g] {
            positive_films[l] += c;
            unassigned_with[l] += 1;
        }
    }
    let holders_total = unassigned_with.clone();
    let mut parts = Parts {
        findings: k,
        film_demand: fractions.iter().map(|r| r * n_films as f64).collect(),
        finding_demand: fractions
            .iter()
            .flat_map(|r| positive_films.iter().map(move |&d| r * d as f64))
            .collect(),
        holders: vec![0; fractions.len() * k],
        groups: vec![Vec::new(); fractions.len()],
    };
    let mut order = members.to_vec();
    order.shuffle(rng);
    order.sort_by_key(|&g| Reverse(table.films[g].len()));
    let mut assigned = vec![false; table.films.len()];
    let mut left = order.len();
    while let Some(l) = (0..k)
        .filter(|&l| unassigned_with[l] > 0)
        .min_by_key(|&l| unassigned_with[l])
    {
        for &g in &order {
            if assigned[g] || !table.has(g, l) {
                continue;
            }
            let part = parts.choose(Some(l), left, rng);
            parts.assign(part, g, table);
            assigned[g] = true;
            left -= 1;
            for &(m, _) in &table.positives[g] {
                unassigned_with[m] -= 1;
            }
        }
    }
    for &g in &order {
        if !assigned[g] {
            let part = parts.choose(None, left, rng);
            parts.assign(part, g, table);
            left -= 1;
        }
    }
    parts.spread_findings(table, &holders_total);
    parts.groups
}

/// The films of `groups`, ascending.
pub(super) fn films_of(table: &GroupTable, groups: &[usize]) -> Vec<usize> {
    let mut films: Vec<usize> = groups
        .iter()
        .flat_map(|&g| table.films[g].iter().copied())
        .collect();
    films.sort_unstable();
    films
}
