//! Several findings per film: one logit per finding, trained with binary cross-entropy.
//!
//! A film's labels ([`FindingMatrix`] rows) become a target and a mask per finding
//! ([`target_tensors`]): positive 1, negative 0, missing masked out, uncertain as the
//! [`Uncertain`] policy says (masked, 0 or 1). [`masked_bce_with_logits`] is PyTorch's
//! `BCEWithLogitsLoss` (optionally with a per-finding `pos_weight`, [`balanced_pos_weight`])
//! averaged over the labels that count, so a masked label gives its logit no gradient.
//! [`MultiLabelEvaluation`] gathers a model's per-finding probabilities and the loss, and hands
//! out each finding's scores and truths ([`MultiLabelEvaluation::column`]) for AUROC, which
//! lives in `cxr-metrics`.
//!
//! ```
//! use candle_core::{Device, Tensor};
//! use cxr_data::{FindingLabel::*, FindingMatrix, Uncertain};
//! use cxr_trainer::multilabel::{masked_bce_with_logits, target_tensors};
//! # fn main() -> cxr_trainer::Result<()> {
//! let mut labels = FindingMatrix::new(vec!["Effusion".into(), "Mass".into()]);
//! labels.push(&[Positive, Missing]);
//! labels.push(&[Negative, Uncertain]);
//! let (t, mask) = target_tensors(&labels, &[0, 1], Uncertain::Ignore, &Device::Cpu)?;
//! let logits = Tensor::zeros((2, 2), candle_core::DType::F32, &Device::Cpu)?;
//! // Two labels count, each costs ln 2 at logit 0.
//! let loss = masked_bce_with_logits(&logits, &t, &mask, None)?.to_scalar::<f32>()?;
//! assert!((loss - std::f32::consts::LN_2).abs() < 1e-6);
//! # Ok(()) }
//! ```

mod calibrate;
mod evaluation;
mod fit;
mod loss;
mod record;
mod scores;
mod targets;

pub use calibrate::{finding_ece, finding_temperatures};
pub use cxr_data::{FindingMatrix, PosWeight, Uncertain};
pub use evaluation::{sigmoid_probabilities, MultiLabelEvaluation};
pub use fit::{evaluate_findings, fit_multilabel, MultiLabelFit};
pub use loss::masked_bce_with_logits;
pub(crate) use record::{record_findings, train_findings};
pub use scores::{mean_defined, FindingScores, FALLBACK_THRESHOLD};
pub use targets::{balanced_pos_weight, pos_weight_tensor, target_tensors};
