//! Label matrices as loss inputs: targets and masks ([`target_tensors`]) and the per-finding
//! positive weights ([`balanced_pos_weight`]).

use candle_core::{Device, Tensor};
use cxr_data::{FindingMatrix, PosWeight, Uncertain};

use crate::error::Result;

/// The targets and mask of films `films` (indices into `labels`), each `(films.len(), k)` f32
/// with `k = labels.findings.len()`: positive 1, negative 0, uncertain as `uncertain` says.
/// The mask is 1 where the label counts and 0 where it is left out (missing, or uncertain under
/// [`Uncertain::Ignore`]); a left-out label's target is 0 and never reaches the loss.
pub fn target_tensors(
    labels: &FindingMatrix,
    films: &[usize],
    uncertain: Uncertain,
    device: &Device,
) -> Result<(Tensor, Tensor)> {
    let k = labels.findings.len();
    let mut targets = Vec::with_capacity(films.len() * k);
    let mut mask = Vec::with_capacity(films.len() * k);
    for &film in films {
        for &label in labels.row(film) {
            let target = uncertain.target(label);
            targets.push(target.unwrap_or(0.0));
            mask.push(if target.is_some() { 1f32 } else { 0.0 });
        }
    }
    let shape = (films.len(), k);
    Ok((
        Tensor::from_vec(targets, shape, device)?,
        Tensor::from_vec(mask, shape, device)?,
    ))
}

/// Each finding's `negatives / positives` over the training films `train`, counting only the
/// labels that count under `uncertain` (missing ones, and uncertain ones under
/// [`Uncertain::Ignore`], are left out). A finding with no positive or no negative label among
/// them gets 1.0: the ratio would be undefined, or 0, which would silence its positives.
pub fn balanced_pos_weight(
    labels: &FindingMatrix,
    train: &[usize],
    uncertain: Uncertain,
) -> Vec<f32> {
    let k = labels.findings.len();
    let (mut positives, mut negatives) = (vec![0usize; k], vec![0usize; k]);
    for &film in train {
        for (f, &label) in labels.row(film).iter().enumerate() {
            match uncertain.positive(label) {
                Some(true) => positives[f] += 1,
                Some(false) => negatives[f] += 1,
                None => {}
            }
        }
    }
    positives
        .iter()
        .zip(&negatives)
        .map(|(&p, &n)| {
            if p == 0 || n == 0 {
                1.0
            } else {
                (n as f64 / p as f64) as f32
            }
        })
        .collect()
}

/// The `pos_weight` argument of [`crate::multilabel::masked_bce_with_logits`] that `setting`
/// asks for: `None` for [`PosWeight::None`], the `(k,)` [`balanced_pos_weight`] of `train` for
/// [`PosWeight::Balanced`].
pub fn pos_weight_tensor(
    setting: PosWeight,
    labels: &FindingMatrix,
    train: &[usize],
    uncertain: Uncertain,
    device: &Device,
) -> Result<Option<Tensor>> {
    match setting {
        PosWeight::None => Ok(None),
        PosWeight::Balanced => {
            let w = balanced_pos_weight(labels, train, uncertain);
            Ok(Some(Tensor::new(w, device)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;
    use cxr_data::FindingLabel::{Missing as M, Negative as N, Positive as P, Uncertain as U};

    fn matrix() -> FindingMatrix {
        let mut m = FindingMatrix::new(vec!["A".into(), "B".into(), "C".into()]);
        m.push(&[P, N, M]);
        m.push(&[N, U, N]);
        m.push(&[N, P, N]);
        m.push(&[U, N, N]);
        m
    }

    #[test]
    fn targets_and_masks_follow_the_policy() -> Result<()> {
        let m = matrix();
        let cases = [
            (Uncertain::Ignore, [0.0, 0.0, 0.0], [1.0, 0.0, 1.0]),
            (Uncertain::Zeros, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
            (Uncertain::Ones, [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]),
        ];
        for (policy, row1_target, row1_mask) in cases {
            // Films 1 (N, U, N) and 0 (P, N, M), in that order.
            let (t, mask) = target_tensors(&m, &[1, 0], policy, &Device::Cpu)?;
            assert_eq!((t.dims(), t.dtype()), ([2, 3].as_slice(), DType::F32));
            assert_eq!(mask.dtype(), DType::F32);
            let (t, mask) = (t.to_vec2::<f32>()?, mask.to_vec2::<f32>()?);
            assert_eq!(t[0], row1_target, "{policy:?}");
            assert_eq!(mask[0], row1_mask, "{policy:?}");
            // Film 0: P, N, M whatever the policy.
            assert_eq!(t[1], [1.0, 0.0, 0.0]);
            assert_eq!(mask[1], [1.0, 1.0, 0.0]);
        }
        Ok(())
    }

    #[test]
    fn balanced_weights_count_only_labels_that_count() {
        let m = matrix();
        // A over all films: P, N, N, U. Ignore: 2 negatives / 1 positive = 2; Zeros: 3 / 1;
        // Ones: 2 / 2. B: N, U, P, N: Ignore 2 / 1, Zeros 3 / 1, Ones 2 / 2. C: no positives.
        let all = [0, 1, 2, 3];
        assert_eq!(
            balanced_pos_weight(&m, &all, Uncertain::Ignore),
            [2.0, 2.0, 1.0]
        );
        assert_eq!(
            balanced_pos_weight(&m, &all, Uncertain::Zeros),
            [3.0, 3.0, 1.0]
        );
        assert_eq!(
            balanced_pos_weight(&m, &all, Uncertain::Ones),
            [1.0, 1.0, 1.0]
        );
        // Only the training films count: over films 0 and 1, B has no positive under Ignore
        // (1.0) and A has one of each (1.0).
        assert_eq!(
            balanced_pos_weight(&m, &[0, 1], Uncertain::Ignore),
            [1.0, 1.0, 1.0]
        );
        // Over films 1, 2, 3 (A: N, N, U; B: U, P, N): under Ones A is 2 negatives / 1
        // positive and B 1 / 2; under Ignore A has no positive and B is 1 / 1.
        assert_eq!(
            balanced_pos_weight(&m, &[1, 2, 3], Uncertain::Ones),
            [2.0, 0.5, 1.0]
        );
        assert_eq!(
            balanced_pos_weight(&m, &[1, 2, 3], Uncertain::Ignore),
            [1.0, 1.0, 1.0]
        );
    }
}
