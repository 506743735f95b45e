//! Binary cross-entropy with logits over the labels that count ([`masked_bce_with_logits`]).

use candle_core::Tensor;

use crate::error::Result;

/// Mean binary cross-entropy of `logits` against `targets` over the entries where `mask` is 1:
/// `(n, k), (n, k), (n, k) -> ()`, with an optional `(k,)` `pos_weight` `p` per finding
/// (column).
///
/// Per entry, as PyTorch's `BCEWithLogitsLoss` computes it, without overflow at any logit:
/// `(1 - t) x + (1 + (p - 1) t) softplus(-x)`, where `softplus(-x) = log(1 + exp(-x))` is
/// taken as `max(-x, 0) + log(1 + exp(-|x|))`; without `pos_weight`, `p = 1`, which is
/// `max(x, 0) - x t + log(1 + exp(-|x|))`. `max(-x, 0)` is written `max(x, 0) - x` so that
/// candle's subgradients at `x = 0` (1 for both `max(x, 0)` and `|x|`) add up to the true
/// derivative there.
///
/// The reduction is `sum(loss * mask) / sum(mask)`: the mean over the labels that count, so a
/// masked entry neither adds to the loss nor dilutes it, and its logit's gradient is exactly 0;
/// an unmasked one's is `(sigmoid(x) - t) / sum(mask)` (times `p` on positives' `sigmoid(x) -
/// 1` part when weighted). `mask` holds 0 or 1. When every entry is masked the loss is 0 with
/// zero gradient (the denominator is clamped to 1), never NaN.
pub fn masked_bce_with_logits(
    logits: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
    pos_weight: Option<&Tensor>,
) -> Result<Tensor> {
    let x = logits;
    let max_neg_x = (x.relu()? - x)?;
    let log_term = (x.abs()?.neg()?.exp()? + 1.0)?.log()?;
    let softplus_neg = (max_neg_x + log_term)?;
    let weighted = match pos_weight {
        None => softplus_neg,
        Some(p) => {
            let w = (targets.broadcast_mul(&(p - 1.0)?)? + 1.0)?;
            (w * softplus_neg)?
        }
    };
    let per_label = ((targets.affine(-1.0, 1.0)? * x)? + weighted)?;
    let total = (per_label * mask)?.sum_all()?;
    let counted = mask.sum_all()?.maximum(1.0)?;
    Ok((total / counted)?)
}
