//! Percentile-bootstrap intervals that resample *patients*, not films.
//!
//! A patient's films are correlated (same body, often the same findings), so drawing films
//! independently treats one patient's 30 films as 30 pieces of evidence and gives intervals
//! that are too narrow. Here each replicate draws as many groups (patients) as there are, with
//! replacement, and takes *every* film of each drawn group: a replicate's films are a union of
//! whole groups (a film index repeats when its group is drawn twice), and a replicate's size
//! varies with the sizes of the groups drawn. The statistic is computed on each replicate's
//! film indices; the 2.5th and 97.5th percentiles (nearest rank) of the replicates give the 95%
//! interval. Replicates on which the statistic is undefined (`None` or NaN, say an AUROC with no
//! positive film drawn) are skipped and counted, not imputed.
//!
//! [`paired_group_bootstrap`] computes two configurations' statistics on the *same* replicate
//! and bootstraps their difference, keeping the pairing of the films.
//!
//! ```
//! use cxr_metrics::{auroc, group_bootstrap};
//! use rand::SeedableRng;
//! // Six films of three patients (ids as the label table numbers them).
//! let patients = [0, 0, 1, 1, 2, 2];
//! let scores = [0.9, 0.4, 0.8, 0.3, 0.75, 0.7];
//! let positive = [true, false, true, false, false, true];
//! let film_auroc = |films: &[usize]| {
//!     let s: Vec<f64> = films.iter().map(|&f| scores[f]).collect();
//!     let p: Vec<bool> = films.iter().map(|&f| positive[f]).collect();
//!     auroc(&s, &p)
//! };
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
//! let ci = group_bootstrap(&patients, 200, &mut rng, film_auroc).expect("defined");
//! // 8 of the 9 (positive, negative) pairs are ordered right: 0.7 is below 0.75.
//! let estimate = ci.estimate.expect("both classes");
//! assert!((estimate - 8.0 / 9.0).abs() < 1e-12);
//! assert!(ci.interval.low <= estimate && estimate <= ci.interval.high);
//! // A replicate without a positive film would be skipped; here every patient has both.
//! assert_eq!((ci.replicates, ci.skipped), (200, 0));
//! ```

use std::collections::BTreeMap;

use rand::Rng;

use crate::bootstrap::{percentile_interval, Interval};

/// A statistic's group-bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupInterval {
    /// The statistic on all films, each once (`None` where it is undefined).
    pub estimate: Option<f64>,
    /// The 95% percentile interval of the replicates that were defined.
    pub interval: Interval,
    /// Replicates that gave a value.
    pub replicates: usize,
    /// Replicates skipped because the statistic was undefined on them.
    pub skipped: usize,
}

/// The films of each group, built once and drawn from many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResampler {
    /// Film indices of each distinct group id, groups in increasing id order (so the draws
    /// depend only on the ids, not on the films' order), films in input order.
    members: Vec<Vec<usize>>,
    films: usize,
}

impl GroupResampler {
    /// Groups of films from each film's group id (any `u32`s; a patient index such as
    /// `cxr_data::Groups::of`). `None` for no films.
    pub fn new(groups: &[u32]) -> Option<Self> {
        if groups.is_empty() {
            return None;
        }
        let mut by_id: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (film, &g) in groups.iter().enumerate() {
            by_id.entry(g).or_default().push(film);
        }
        Some(Self {
            members: by_id.into_values().collect(),
            films: groups.len(),
        })
    }

    /// Number of distinct groups.
    pub fn groups(&self) -> usize {
        self.members.len()
    }

    /// Number of films.
    pub fn films(&self) -> usize {
        self.films
    }

    /// One replicate: as many groups as there are, drawn uniformly with replacement, each
    /// contributing all its films; the film indices in draw order.
    pub fn draw<R: Rng>(&self, rng: &mut R) -> Vec<usize> {
        let mut films = Vec::with_capacity(self.films);
        self.draw_into(rng, &mut films);
        films
    }

    fn draw_into<R: Rng>(&self, rng: &mut R, films: &mut Vec<usize>) {
        films.clear();
        for _ in 0..self.members.len() {
            let g = rng.random_range(0..self.members.len());
            films.extend_from_slice(&self.members[g]);
        }
    }
}

/// 95% group-bootstrap interval of `statistic` (a function of film indices, repeats allowed)
/// over `resamples` replicates drawn by `rng`. `None` for no films, no resamples, or when no
/// replicate is defined.
pub fn group_bootstrap<R: Rng>(
    groups: &[u32],
    resamples: usize,
    rng: &mut R,
    statistic: impl Fn(&[usize]) -> Option<f64>,
) -> Option<GroupInterval> {
    let resampler = GroupResampler::new(groups)?;
    if resamples == 0 {
        return None;
    }
    let all: Vec<usize> = (0..groups.len()).collect();
    let mut values = Vec::with_capacity(resamples);
    let mut films = Vec::with_capacity(groups.len());
    for _ in 0..resamples {
        resampler.draw_into(rng, &mut films);
        values.extend(defined(statistic(&films)));
    }
    interval(defined(statistic(&all)), values, resamples)
}

/// 95% group-bootstrap interval of `a(films) - b(films)`, both computed on the same replicate
/// (two configurations scored on the same films); a replicate is skipped when either is
/// undefined. `None` as for [`group_bootstrap`].
pub fn paired_group_bootstrap<R: Rng>(
    groups: &[u32],
    resamples: usize,
    rng: &mut R,
    a: impl Fn(&[usize]) -> Option<f64>,
    b: impl Fn(&[usize]) -> Option<f64>,
) -> Option<GroupInterval> {
    group_bootstrap(groups, resamples, rng, |films| Some(a(films)? - b(films)?))
}

fn defined(value: Option<f64>) -> Option<f64> {
    value.filter(|v| !v.is_nan())
}

fn interval(
    estimate: Option<f64>,
    mut values: Vec<f64>,
    resamples: usize,
) -> Option<GroupInterval> {
    if values.is_empty() {
        return None;
    }
    Some(GroupInterval {
        estimate,
        interval: percentile_interval(&mut values),
        replicates: values.len(),
        skipped: resamples - values.len(),
    })
}
