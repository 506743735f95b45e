//! Early stopping and best-epoch selection as a pure state machine: feed it each epoch's
//! validation numbers, it says whether this epoch is the new best and whether to stop.

pub use cxr_experiment::StopMetric;

/// One epoch's validation numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochScore {
    /// Mean validation cross-entropy.
    pub val_loss: f64,
    /// Validation micro-recall.
    pub val_micro_recall: f64,
    /// Validation macro-recall.
    pub val_macro_recall: f64,
    /// Validation mean AUROC over the findings (multi-label runs; NaN otherwise).
    pub val_mean_auroc: f64,
}

/// What to do after an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// This epoch is the best so far: keep its weights.
    pub improved: bool,
    /// No improvement for `patience` epochs: stop training.
    pub stop: bool,
}

/// Tracks the best epoch and the epochs since it.
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    metric: StopMetric,
    patience: usize,
    best: Option<(usize, EpochScore)>,
    since_best: usize,
}

impl EarlyStopping {
    /// Stops after `patience` epochs without improvement of `metric`.
    pub fn new(metric: StopMetric, patience: usize) -> Self {
        Self {
            metric,
            patience,
            best: None,
            since_best: 0,
        }
    }

    /// Records epoch `epoch` (1-based) and decides.
    pub fn observe(&mut self, epoch: usize, score: EpochScore) -> Decision {
        let improved = match &self.best {
            None => true,
            Some((_, best)) => self.better(&score, best),
        };
        if improved {
            self.best = Some((epoch, score));
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        Decision {
            improved,
            stop: self.since_best >= self.patience,
        }
    }

    /// The best epoch (1-based) and its score.
    pub fn best(&self) -> Option<(usize, EpochScore)> {
        self.best
    }

    /// Epochs since the best one (what patience counts).
    pub fn since_best(&self) -> usize {
        self.since_best
    }

    /// The state after `best` and `since_best`, as a checkpoint recorded it.
    pub(crate) fn restore(&mut self, best: Option<(usize, EpochScore)>, since_best: usize) {
        self.best = best;
        self.since_best = since_best;
    }

    fn better(&self, a: &EpochScore, b: &EpochScore) -> bool {
        let by_recall = |ra: f64, rb: f64| ra > rb || (ra == rb && a.val_loss < b.val_loss);
        match self.metric {
            StopMetric::ValMicroRecall => by_recall(a.val_micro_recall, b.val_micro_recall),
            StopMetric::ValMacroRecall => by_recall(a.val_macro_recall, b.val_macro_recall),
            StopMetric::ValLoss => a.val_loss < b.val_loss,
            StopMetric::ValMeanAuroc => by_recall(a.val_mean_auroc, b.val_mean_auroc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(recall: f64, loss: f64) -> EpochScore {
        EpochScore {
            val_loss: loss,
            val_micro_recall: recall,
            val_macro_recall: recall,
            val_mean_auroc: f64::NAN,
        }
    }

    #[test]
    fn table_of_sequences() {
        // (metric, patience, scores, expected (improved, stop) per epoch, best epoch)
        type Row = (StopMetric, usize, Vec<EpochScore>, Vec<(bool, bool)>, usize);
        let rows: Vec<Row> = vec![
            (
                StopMetric::ValMicroRecall,
                2,
                vec![s(0.5, 1.0), s(0.6, 0.9), s(0.6, 0.95), s(0.55, 0.8)],
                vec![(true, false), (true, false), (false, false), (false, true)],
                2,
            ),
            (
                // A tie in recall with a lower loss counts as an improvement.
                StopMetric::ValMicroRecall,
                1,
                vec![s(0.7, 1.0), s(0.7, 0.5), s(0.7, 0.6)],
                vec![(true, false), (true, false), (false, true)],
                2,
            ),
            (
                StopMetric::ValLoss,
                3,
                vec![
                    s(0.9, 1.0),
                    s(0.1, 0.9),
                    s(0.9, 0.95),
                    s(0.9, 0.91),
                    s(0.9, 0.92),
                ],
                vec![
                    (true, false),
                    (true, false),
                    (false, false),
                    (false, false),
                    (false, true),
                ],
                2,
            ),
        ];
        for (i, (metric, patience, scores, expected, best)) in rows.into_iter().enumerate() {
            let mut es = EarlyStopping::new(metric, patience);
            for (e, (score, want)) in scores.iter().zip(&expected).enumerate() {
                let d = es.observe(e + 1, *score);
                assert_eq!((d.improved, d.stop), *want, "row {i} epoch {}", e + 1);
            }
            assert_eq!(es.best().map(|b| b.0), Some(best), "row {i}");
        }
    }
}
