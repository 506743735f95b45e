//! A model's per-finding predictions on a set of films ([`MultiLabelEvaluation`]) and the
//! scores and truths of each finding for AUROC ([`MultiLabelEvaluation::column`]).

use candle_core::Tensor;
use cxr_data::{FindingMatrix, Uncertain};

use crate::error::Result;
use crate::multilabel::loss::masked_bce_with_logits;

/// Per-finding probabilities `sigmoid(logits)`: `(n, k) -> n * k` values, row-major (film
/// after film).
pub fn sigmoid_probabilities(logits: &Tensor) -> Result<Vec<f32>> {
    Ok(candle_nn::ops::sigmoid(logits)?
        .flatten_all()?
        .to_vec1::<f32>()?)
}

/// A multi-label model's predictions on a set of films, in the order evaluated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MultiLabelEvaluation {
    /// Masked binary cross-entropy ([`masked_bce_with_logits`]), the mean over every label
    /// that counted in the whole set (not the mean of batch means).
    pub loss: f64,
    /// Per-finding probabilities, `films() x findings`, row-major: the sigmoid of the logits
    /// (over each finding's temperature after [`MultiLabelEvaluation::scale`]).
    pub probabilities: Vec<f32>,
    /// The network's logits, `films() x findings`, row-major.
    pub logits: Vec<f32>,
    /// Number of findings (logits per film).
    pub findings: usize,
    /// Number of labels the loss averages over (the ones of the masks).
    pub counted: usize,
}

impl MultiLabelEvaluation {
    /// An evaluation of no films yet over `findings` findings.
    pub fn new(findings: usize) -> Self {
        Self {
            findings,
            ..Self::default()
        }
    }

    /// Adds one batch: its `(b, k)` logits, targets and mask as [`masked_bce_with_logits`]
    /// takes them. The loss stays the mean over every counted label so far.
    pub fn add_batch(
        &mut self,
        logits: &Tensor,
        targets: &Tensor,
        mask: &Tensor,
        pos_weight: Option<&Tensor>,
    ) -> Result<()> {
        let logits = logits.detach();
        let batch_loss = masked_bce_with_logits(&logits, targets, mask, pos_weight)?;
        let batch_loss = f64::from(batch_loss.to_scalar::<f32>()?);
        let batch_counted = mask.sum_all()?.to_scalar::<f32>()?.round() as usize;
        let counted = self.counted + batch_counted;
        if counted > 0 {
            self.loss = (self.loss * self.counted as f64 + batch_loss * batch_counted as f64)
                / counted as f64;
        }
        self.counted = counted;
        self.probabilities.extend(sigmoid_probabilities(&logits)?);
        self.logits.extend(logits.flatten_all()?.to_vec1::<f32>()?);
        Ok(())
    }

    /// Replaces the probabilities with `sigmoid(logit / temperatures[k])` per finding `k`
    /// (temperature scaling per finding): AUROC and the order of films do not change, the
    /// confidences do. The loss stays that of the unscaled logits.
    ///
    /// # Panics
    /// When `temperatures` does not hold one value per finding.
    pub fn scale(&mut self, temperatures: &[f64]) {
        assert_eq!(
            temperatures.len(),
            self.findings,
            "one temperature per finding"
        );
        self.probabilities = self
            .logits
            .iter()
            .enumerate()
            .map(|(j, &z)| {
                let t = temperatures[j % self.findings];
                (1.0 / (1.0 + (-f64::from(z) / t).exp())) as f32
            })
            .collect();
    }

    /// Number of films evaluated.
    pub fn films(&self) -> usize {
        self.probabilities
            .len()
            .checked_div(self.findings)
            .unwrap_or(0)
    }

    /// Finding `k`'s scores and truths for AUROC, over the evaluated films whose label for `k`
    /// counts under `uncertain` (missing labels, and uncertain ones under
    /// [`Uncertain::Ignore`], are left out). `films` are the indices into `labels` that were
    /// evaluated, in the order evaluated (the films of [`crate::multilabel::target_tensors`]).
    ///
    /// # Panics
    /// When `films.len()` is not the number of films evaluated, or `k` is not a finding.
    pub fn column(
        &self,
        labels: &FindingMatrix,
        films: &[usize],
        k: usize,
        uncertain: Uncertain,
    ) -> (Vec<f64>, Vec<bool>) {
        assert_eq!(
            films.len(),
            self.films(),
            "one label row per evaluated film"
        );
        assert!(k < self.findings, "finding {k} of {}", self.findings);
        films
            .iter()
            .enumerate()
            .filter_map(|(row, &film)| {
                let positive = uncertain.positive(labels.row(film)[k])?;
                let score = f64::from(self.probabilities[row * self.findings + k]);
                Some((score, positive))
            })
            .unzip()
    }
}
