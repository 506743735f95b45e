//! What a table of configurations ranks runs on ([`Headline`]): test micro-recall for one
//! class per image, test mean AUROC over findings for several findings per film.

use crate::grid_results::RunResults;

/// What a transfer table compares runs on: test micro-recall, or for multi-label runs their
/// headline, the test mean AUROC over findings (their recall depends on thresholds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Headline {
    /// Test micro-recall (one class per image).
    MicroRecall,
    /// Test mean AUROC over findings (several findings per film).
    MeanAuroc,
}

impl Headline {
    /// The headline of a facet's runs: mean AUROC when any of them is multi-label.
    pub(crate) fn of(runs: &[&RunResults]) -> Self {
        if runs.iter().any(|r| r.summary.is_multilabel()) {
            Self::MeanAuroc
        } else {
            Self::MicroRecall
        }
    }

    /// A run's headline value.
    pub(crate) fn value(self, r: &RunResults) -> Option<f64> {
        match self {
            Self::MicroRecall => r.summary.test_micro_recall,
            Self::MeanAuroc => r.summary.test_mean_auroc,
        }
    }

    /// The second number shown: macro-recall, or a multi-label run's micro-recall at its
    /// validation thresholds.
    pub(crate) fn second(self, r: &RunResults) -> Option<f64> {
        match self {
            Self::MicroRecall => r.summary.test_macro_recall,
            Self::MeanAuroc => r.summary.test_micro_recall,
        }
    }
}
