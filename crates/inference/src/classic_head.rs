//! [`ClassicHead`]: a classic-head run's fitted head as `head.safetensors` holds it: one head
//! over the run's classes, or one head per finding of a multi-label run (one-vs-rest).

use cxr_heads::{findings_from_bytes, FittedHead, HeadError, HeadKind, Matrix};

use crate::trained::most_probable;

/// The fitted head of a classic-head run.
#[derive(Debug)]
pub enum ClassicHead {
    /// One head over the run's classes.
    Single(Box<FittedHead>),
    /// One two-class head per finding (`1` = the finding is present), in the run's finding
    /// order, with the finding's name.
    PerFinding(Vec<(String, FittedHead)>),
}

impl ClassicHead {
    /// Reads a head file's bytes, either layout.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, HeadError> {
        let notes = cxr_heads::read_notes(bytes)?;
        if notes.contains_key("findings") {
            Ok(Self::PerFinding(findings_from_bytes(bytes)?))
        } else {
            Ok(Self::Single(Box::new(FittedHead::from_bytes(bytes)?)))
        }
    }

    /// The heads, with the finding each answers (empty for a single head).
    fn heads(&self) -> Vec<&FittedHead> {
        match self {
            Self::Single(head) => vec![head.as_ref()],
            Self::PerFinding(heads) => heads.iter().map(|(_, h)| h).collect(),
        }
    }

    /// Which classic head this is.
    pub fn kind(&self) -> Option<HeadKind> {
        self.heads().first().map(|h| h.kind())
    }

    /// Number of outputs: the classes of a single head, the findings of per-finding heads.
    pub fn outputs(&self) -> usize {
        match self {
            Self::Single(head) => head.classes(),
            Self::PerFinding(heads) => heads.len(),
        }
    }

    /// Number of features every head takes.
    pub fn features(&self) -> usize {
        self.heads().first().map_or(0, |h| h.features())
    }

    /// Each row's probabilities, `rows x outputs`: a single head's class probabilities, or
    /// each finding's head's probability of the finding. `None` when a head has none.
    pub fn probabilities(&self, x: &Matrix) -> Result<Option<Vec<Vec<f32>>>, HeadError> {
        match self {
            Self::Single(head) => Ok(head.probabilities(x)?.map(|p| {
                p.chunks_exact(head.classes().max(1))
                    .map(<[f32]>::to_vec)
                    .collect()
            })),
            Self::PerFinding(heads) => {
                let mut rows = vec![vec![0.0f32; heads.len()]; x.rows()];
                for (k, (_, head)) in heads.iter().enumerate() {
                    let Some(p) = head.probabilities(x)? else {
                        return Ok(None);
                    };
                    for (row, pair) in rows.iter_mut().zip(p.chunks_exact(2)) {
                        row[k] = pair[1];
                    }
                }
                Ok(Some(rows))
            }
        }
    }

    /// A single head's predicted class of each row (its own decision); per-finding heads call
    /// findings at thresholds instead, and answer the most probable finding here.
    pub fn predict(&self, x: &Matrix) -> Result<Vec<usize>, HeadError> {
        match self {
            Self::Single(head) => Ok(head.predict(x)?.into_iter().map(|c| c as usize).collect()),
            Self::PerFinding(_) => Ok(self
                .probabilities(x)?
                .unwrap_or_default()
                .iter()
                .map(|row| most_probable(row))
                .collect()),
        }
    }

    /// The logistic heads as one linear layer on raw features, `(weights, biases)` with one
    /// output per class or per finding (a finding's output is its head's logit, whose sigmoid
    /// is its probability); `None` for heads that are not logistic.
    pub fn as_linear_layer(&self) -> Option<(Vec<f32>, Vec<f32>)> {
        match self {
            Self::Single(head) => head.as_linear_layer(),
            Self::PerFinding(heads) => {
                let f = self.features();
                let (mut weights, mut biases) = (Vec::new(), Vec::new());
                for (_, head) in heads {
                    // A two-class head's layer: row 0 all zero, row 1 the logit of class 1.
                    let (w, b) = head.as_linear_layer()?;
                    weights.extend_from_slice(w.get(f..2 * f)?);
                    biases.push(*b.get(1)?);
                }
                Some((weights, biases))
            }
        }
    }
}
