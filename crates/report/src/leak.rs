//! How much a split by film overstates a multi-label model: a cross-validated grid with the
//! `split.group = ["patient", "film"]` axis trains each configuration twice over its folds,
//! once keeping every patient's films on one side of each split and once splitting films
//! freely (one patient's films can then sit in training and test). With `k` folds every film is
//! tested exactly once per seed under each split, so each side's out-of-fold predictions
//! (its folds pooled) pair film by film: the mean AUROC of both on the same films, their
//! difference (film minus patient: the overstatement) with the 95% bootstrap interval that
//! resamples patients, and DeLong's test of the difference of the mean AUROCs
//! ([`crate::auroc_comparison::compare_auroc`]). Its rows go to `comparisons.parquet` as kind
//! [`LEAK_KIND`].

use std::fmt::Write as _;

use cxr_results::AxisValue;

use crate::auroc_comparison::{
    compare_auroc, diff_with_interval, p_text, seed_pools, AurocComparison, Config, MEAN_AUROC,
};
use crate::finding_scores::FindingScores;
use crate::grid_results::{facet_of, GridResults, RunResults};
use crate::numbers::opt;
use crate::order::first_seen;

/// The grid axis that sets how folds group films.
pub const SPLIT_GROUP: &str = "split.group";
/// `kind` of a split-leak row: `a` split by film minus `b` split by patient.
pub const LEAK_KIND: &str = "split_film_vs_patient";

/// The split-leak comparisons of a grid; empty unless it cross-validates multi-label runs
/// split both ways.
#[derive(Debug, Clone, Default)]
pub struct LeakSection {
    /// Per configuration, its mean row then a row per finding.
    pub rows: Vec<AurocComparison>,
}

/// A run's value on the `split.group` axis.
fn group_of(run: &RunResults) -> Option<&str> {
    run.summary
        .axes
        .iter()
        .find(|a| a.setting == SPLIT_GROUP)
        .map(|a| a.value.as_str())
}

/// The facet without `split.group`: what the two sides of a configuration share.
fn facet_without_split(axes: &[AxisValue]) -> String {
    let rest: Vec<AxisValue> = axes
        .iter()
        .filter(|a| a.setting != SPLIT_GROUP)
        .cloned()
        .collect();
    facet_of(&rest)
}

impl LeakSection {
    /// The comparisons of `results`: per configuration (line, freeze, head and other axes)
    /// split both ways, each seed's folds pooled on both sides and matched by film.
    pub fn of(results: &GridResults) -> Self {
        let runs: Vec<&RunResults> = results
            .runs
            .iter()
            .filter(|r| r.ok_multilabel() && r.summary.fold.is_some())
            .filter(|r| matches!(group_of(r), Some("patient" | "film")))
            .collect();
        let key = |r: &RunResults| {
            (
                facet_without_split(&r.summary.axes),
                r.line.clone(),
                r.summary.freeze,
                r.summary.head_name().to_string(),
            )
        };
        let mut rows = Vec::new();
        for (facet, line, freeze, head) in first_seen(runs.iter().map(|r| key(r))) {
            let side = |group: &str| -> Vec<&RunResults> {
                runs.iter()
                    .copied()
                    .filter(|r| {
                        group_of(r) == Some(group)
                            && key(r) == (facet.clone(), line.clone(), freeze, head.clone())
                    })
                    .collect()
            };
            let (film, patient) = (side("film"), side("patient"));
            let by_patient = seed_pools(&patient);
            let pairs: Vec<(FindingScores, FindingScores)> = seed_pools(&film)
                .into_iter()
                .filter_map(|(seed, film_runs)| {
                    let (_, patient_runs) = by_patient.iter().find(|(s, _)| *s == seed)?;
                    Some((
                        FindingScores::of_runs(&film_runs)?,
                        FindingScores::of_runs(patient_runs)?,
                    ))
                })
                .collect();
            let config = Config {
                model: line.clone(),
                freeze,
                head: head.clone(),
            };
            rows.extend(compare_auroc(
                LEAK_KIND,
                &facet,
                config.clone(),
                config,
                &pairs,
            ));
        }
        Self { rows }
    }

    /// The section of `report.md`: nothing when there are no rows.
    pub fn render(&self, md: &mut String) {
        let means: Vec<&AurocComparison> = self
            .rows
            .iter()
            .filter(|r| r.metric == MEAN_AUROC)
            .collect();
        if means.is_empty() {
            return;
        }
        let _ = writeln!(
            md,
            "## Split by patient against split by film\n\n\
             Each configuration trained over the same folds twice: split by patient (all of a \
             patient's films on one side of every split) and split by film (a patient's films \
             may sit in training and test). Every film is tested once per seed under each \
             split, so the two sides' out-of-fold predictions (folds pooled) pair film by film. \
             Mean AUROC over the findings on those pooled predictions (not the mean of the \
             folds' AUROCs); the difference is split by film minus split by patient, how much \
             the split by film overstates, with its 95% bootstrap interval resampling patients \
             and DeLong's test on the pooled predictions. Rows: `comparisons.parquet`, kind \
             `{LEAK_KIND}`.\n"
        );
        let facets = means.iter().any(|r| !r.facet.is_empty());
        let heads = means.iter().any(|r| r.a_head != cxr_results::LINEAR_HEAD);
        let mut header = String::from("| model | freeze |");
        if heads {
            header.push_str(" head |");
        }
        if facets {
            header.push_str(" other axes |");
        }
        header.push_str(
            " seeds | films | patients | mean AUROC, split by patient | split by film | film minus patient (95% patient bootstrap) | DeLong p |",
        );
        let _ = writeln!(md, "{header}");
        let _ = writeln!(md, "|{}", "---|".repeat(header.matches('|').count() - 1));
        for r in means {
            let mut line = format!("| {} | {} |", r.a_model, r.a_freeze);
            if heads {
                let _ = write!(line, " {} |", r.a_head);
            }
            if facets {
                let _ = write!(line, " {} |", r.facet);
            }
            let _ = writeln!(
                md,
                "{line} {} | {} | {} | {} | {} | {} | {} |",
                r.pairs,
                r.images,
                r.patients,
                opt(r.auroc_b, 3),
                opt(r.auroc_a, 3),
                diff_with_interval(r),
                p_text(r.delong_p),
            );
        }
        md.push('\n');
    }
}
