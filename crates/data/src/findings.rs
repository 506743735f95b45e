//! What a label table says of each film: a value per finding ([`FindingMatrix`]) and the
//! patient it belongs to ([`Groups`]). The shared vocabulary of label tables
//! ([`crate::labels`]), splits by patient ([`crate::group_split`]) and multi-label training.

/// One film's value for one finding, as a label table states it (CheXpert's four states; NIH
/// and plain 0/1 tables use the first two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingLabel {
    /// The finding is absent (`0`, or not listed in NIH's `Finding Labels`).
    Negative,
    /// The finding is present (`1`).
    Positive,
    /// The report was uncertain (CheXpert's `-1`).
    Uncertain,
    /// The report did not mention it (CheXpert's blank).
    Missing,
}

impl FindingLabel {
    /// True for [`FindingLabel::Positive`].
    pub fn is_positive(self) -> bool {
        self == Self::Positive
    }
}

/// What a split keeps together: `[split] group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitGroup {
    /// Every film of a patient in one part (the default when a table names patients).
    Patient,
    /// Films independently: a patient's films may land in training and test.
    Film,
}

/// The findings of every film: `len() x findings.len()` values, film after film.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FindingMatrix {
    /// Finding names, in column (and model output) order.
    pub findings: Vec<String>,
    /// Row-major values: film `i`'s are `values[i * k..(i + 1) * k]`, `k = findings.len()`.
    pub values: Vec<FindingLabel>,
}

impl FindingMatrix {
    /// An empty matrix over `findings`.
    pub fn new(findings: Vec<String>) -> Self {
        Self {
            findings,
            values: Vec::new(),
        }
    }

    /// Appends one film's row (`row.len()` must equal the number of findings).
    pub fn push(&mut self, row: &[FindingLabel]) {
        assert_eq!(row.len(), self.findings.len(), "one value per finding");
        self.values.extend_from_slice(row);
    }

    /// Number of films.
    pub fn len(&self) -> usize {
        self.values
            .len()
            .checked_div(self.findings.len())
            .unwrap_or(0)
    }

    /// True when there are no films.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Film `i`'s values, one per finding.
    pub fn row(&self, i: usize) -> &[FindingLabel] {
        let k = self.findings.len();
        &self.values[i * k..(i + 1) * k]
    }

    /// The rows of `films`, in that order.
    pub fn select(&self, films: &[usize]) -> Self {
        let mut out = Self::new(self.findings.clone());
        for &i in films {
            out.push(self.row(i));
        }
        out
    }

    /// The findings of each film that are positive, as finding indices.
    pub fn positives(&self) -> Vec<Vec<usize>> {
        (0..self.len())
            .map(|i| {
                self.row(i)
                    .iter()
                    .enumerate()
                    .filter_map(|(k, v)| v.is_positive().then_some(k))
                    .collect()
            })
            .collect()
    }
}

/// Which group (patient) each film belongs to: `of[i]` indexes `names`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Groups {
    /// Group names (patient ids as the table writes them), in first-seen order.
    pub names: Vec<String>,
    /// Each film's group.
    pub of: Vec<u32>,
}

impl Groups {
    /// Groups from each film's name, numbered in first-seen order.
    pub fn from_names<S: AsRef<str>>(films: impl IntoIterator<Item = S>) -> Self {
        let mut index = std::collections::HashMap::new();
        let mut groups = Self::default();
        for name in films {
            let name = name.as_ref();
            let next = groups.names.len() as u32;
            let g = *index.entry(name.to_string()).or_insert_with(|| {
                groups.names.push(name.to_string());
                next
            });
            groups.of.push(g);
        }
        groups
    }

    /// Number of groups.
    pub fn count(&self) -> usize {
        self.names.len()
    }

    /// Films per group, in group order.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.names.len()];
        for &g in &self.of {
            sizes[g as usize] += 1;
        }
        sizes
    }

    /// The groups of `films`, renumbered in first-seen order.
    pub fn select(&self, films: &[usize]) -> Self {
        Self::from_names(films.iter().map(|&i| &self.names[self.of[i] as usize]))
    }

    /// Number of distinct groups among `films`.
    pub fn count_in(&self, films: &[usize]) -> usize {
        let mut seen = vec![false; self.names.len()];
        films
            .iter()
            .filter(|&&i| !std::mem::replace(&mut seen[self.of[i] as usize], true))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_rows_and_groups_round_trip() {
        use FindingLabel::{Missing as M, Negative as N, Positive as P};
        let mut m = FindingMatrix::new(vec!["Effusion".into(), "Mass".into()]);
        m.push(&[P, N]);
        m.push(&[N, M]);
        m.push(&[P, P]);
        assert_eq!(m.len(), 3);
        assert_eq!(m.row(1), &[N, M]);
        assert_eq!(m.positives(), vec![vec![0], vec![], vec![0, 1]]);
        assert_eq!(m.select(&[2, 0]).row(0), &[P, P]);

        let g = Groups::from_names(["7", "3", "7", "9"]);
        assert_eq!(g.names, ["7", "3", "9"]);
        assert_eq!(g.of, [0, 1, 0, 2]);
        assert_eq!(g.sizes(), [2, 1, 1]);
        assert_eq!(g.count_in(&[0, 2, 3]), 2);
        assert_eq!(g.select(&[3, 0]).names, ["9", "7"]);
    }
}
