//! Runs aggregated per configuration (facet, model, frozen stages) over seeds, and over
//! cross-validation folds, pooled as repeated measurements: what the figures plot and the
//! generated comparison reads.

use crate::grid_results::RunResults;
use crate::order::first_seen;

/// The model drawn as a reference line: it has no residual stages to freeze.
pub const REFERENCE_MODEL: &str = "cnn";

/// Where a configuration's recall interval comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// Several seeds: mean +/- one standard deviation (n - 1) across them.
    Seeds,
    /// Cross-validation folds (of one or more seeds): mean +/- one standard deviation (n - 1)
    /// across all of them.
    Folds,
    /// One seed: the run's 95% bootstrap interval over test images.
    Bootstrap,
    /// One seed without stored bounds.
    None,
}

/// One configuration's numbers, averaged over its finished, ok seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigStats {
    /// Other-axes values (`""` when the grid has none).
    pub facet: String,
    /// Architecture.
    pub model: String,
    /// The figure line: the model, with its weights source when the grid varies it
    /// ([`RunResults::line`]).
    pub line: String,
    /// Frozen stages.
    pub freeze: i64,
    /// Distinct seeds among the ok runs averaged.
    pub seeds: usize,
    /// Distinct cross-validation test folds among them (0 on one split by fractions).
    pub folds: usize,
    /// Ok runs averaged (seeds times folds when cross-validating).
    pub runs: usize,
    /// Mean test micro-recall (for a multi-label configuration: at each finding's threshold
    /// chosen on validation).
    pub micro: f64,
    /// Lower end of the recall interval ([`Spread`]).
    pub micro_low: Option<f64>,
    /// Upper end of the recall interval.
    pub micro_high: Option<f64>,
    /// What the interval means.
    pub spread: Spread,
    /// Mean test macro-recall.
    pub macro_: f64,
    /// Mean 1-based epoch of the kept weights.
    pub epochs_to_converge: f64,
    /// Mean training time per epoch, seconds.
    pub epoch_time_s: f64,
    /// Mean one-time frozen-prefix pass, seconds, when the runs used the prefix cache.
    pub prefix_time_s: Option<f64>,
    /// Trainable parameters.
    pub trainable_params: i64,
    /// Its runs predict several findings per film ([`RunResults::is_multilabel`]).
    pub multilabel: bool,
    /// Mean test mean AUROC of a multi-label configuration (`None` otherwise).
    pub mean_auroc: Option<f64>,
    /// Lower end of its interval: mean minus one standard deviation over several runs, as for
    /// recall ([`Spread`]); a single run's 95% patient-bootstrap bound.
    pub mean_auroc_low: Option<f64>,
    /// Upper end of that interval.
    pub mean_auroc_high: Option<f64>,
}

impl ConfigStats {
    /// The CNN drawn as a reference line: it has no stages to freeze. Only on its bare line:
    /// a CNN from a weights source the grid varies is a line like any other.
    pub fn is_reference(&self) -> bool {
        self.model == REFERENCE_MODEL && self.line == REFERENCE_MODEL
    }

    /// What "best" means for the configuration: test mean AUROC for a multi-label one, test
    /// micro-recall otherwise. A multi-label configuration without one ranks last.
    pub fn headline(&self) -> f64 {
        match (self.multilabel, self.mean_auroc) {
            (true, Some(auroc)) => auroc,
            (true, None) => f64::NEG_INFINITY,
            (false, _) => self.micro,
        }
    }
}

/// Aggregates the ok classifier runs (autoencoder runs have no recall), ordered by facet
/// (first seen), model name, then frozen stages.
pub fn config_stats(runs: &[RunResults]) -> Vec<ConfigStats> {
    let mut keys = first_seen(
        runs.iter()
            .filter(|r| r.ok_trained())
            .map(|r| (r.facet.clone(), r.line.clone(), r.summary.freeze)),
    );
    let facets = first_seen(keys.iter().map(|(facet, _, _)| facet.clone()));
    keys.sort_by(|a, b| {
        let fa = facets.iter().position(|f| *f == a.0);
        let fb = facets.iter().position(|f| *f == b.0);
        fa.cmp(&fb).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
    });
    keys.into_iter()
        .map(|(facet, line, freeze)| {
            let group: Vec<&RunResults> = runs
                .iter()
                .filter(|r| {
                    r.ok_trained()
                        && r.facet == facet
                        && r.line == line
                        && r.summary.freeze == freeze
                })
                .collect();
            aggregate(facet, line, freeze, &group)
        })
        .collect()
}

fn aggregate(facet: String, line: String, freeze: i64, group: &[&RunResults]) -> ConfigStats {
    let values = |f: &dyn Fn(&RunResults) -> Option<f64>| -> Vec<f64> {
        group.iter().filter_map(|r| f(r)).collect()
    };
    let micro = values(&|r| r.summary.test_micro_recall);
    let mean_micro = mean(&micro);
    let folds = first_seen(group.iter().filter_map(|r| r.summary.fold)).len();
    let (micro_low, micro_high, spread) = if group.len() > 1 {
        let sd = std_dev(&micro);
        let spread = if folds > 0 {
            Spread::Folds
        } else {
            Spread::Seeds
        };
        (Some(mean_micro - sd), Some(mean_micro + sd), spread)
    } else {
        let s = &group[0].summary;
        match (s.test_micro_recall_low, s.test_micro_recall_high) {
            (Some(lo), Some(hi)) => (Some(lo), Some(hi), Spread::Bootstrap),
            _ => (None, None, Spread::None),
        }
    };
    let aurocs = values(&|r| r.summary.test_mean_auroc);
    let (mean_auroc, mean_auroc_low, mean_auroc_high) = if aurocs.is_empty() {
        (None, None, None)
    } else if group.len() > 1 {
        let (m, sd) = (mean(&aurocs), std_dev(&aurocs));
        (Some(m), Some(m - sd), Some(m + sd))
    } else {
        let s = &group[0].summary;
        (
            s.test_mean_auroc,
            s.test_mean_auroc_low,
            s.test_mean_auroc_high,
        )
    };
    ConfigStats {
        facet,
        model: group[0].summary.model.clone(),
        line,
        freeze,
        seeds: first_seen(group.iter().map(|r| r.summary.seed)).len(),
        folds,
        runs: group.len(),
        micro: mean_micro,
        micro_low,
        micro_high,
        spread,
        macro_: mean(&values(&|r| r.summary.test_macro_recall)),
        epochs_to_converge: mean(&values(&|r| r.summary.epochs_to_converge.map(|e| e as f64))),
        epoch_time_s: mean(&values(&|r| r.summary.epoch_time_s)),
        prefix_time_s: Some(mean(&values(&|r| r.summary.prefix_time_s))).filter(|t| t.is_finite()),
        trainable_params: group[0].summary.trainable_params,
        multilabel: group.iter().any(|r| r.is_multilabel()),
        mean_auroc,
        mean_auroc_low,
        mean_auroc_high,
    }
}

/// One value per seed, in first-seen seed order: the mean of `f` over that seed's runs (its
/// cross-validation folds; a single run otherwise), for intervals over seeds, which a seed's
/// folds must not pass for. Seeds where no run has the value are skipped.
pub fn seed_means(runs: &[&RunResults], f: &dyn Fn(&RunResults) -> Option<f64>) -> Vec<f64> {
    first_seen(runs.iter().map(|r| r.summary.seed))
        .into_iter()
        .filter_map(|seed| {
            let values: Vec<f64> = runs
                .iter()
                .filter(|r| r.summary.seed == seed)
                .filter_map(|r| f(r))
                .collect();
            (!values.is_empty()).then(|| mean(&values))
        })
        .collect()
}

/// Arithmetic mean; NaN for no values.
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Sample standard deviation (n - 1); 0 for fewer than two values.
pub fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        assert_eq!(mean(&[1.0, 2.0, 3.0]), 2.0);
        assert_eq!(std_dev(&[1.0, 2.0, 3.0]), 1.0);
        assert_eq!(std_dev(&[5.0]), 0.0);
        assert!(mean(&[]).is_nan());
    }
}
