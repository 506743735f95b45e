//! Several findings per film: the masked binary cross-entropy against hand computations (value,
//! gradient, masked labels, extreme logits), the uncertainty and weighting settings as configs
//! write them, and the per-finding columns an evaluation hands to AUROC.
//!
//! No PyTorch on the machine that wrote these tests, so the expected numbers are the formulas
//! written out: `softplus(z) = ln(1 + e^z)`, per label `softplus(x) - x t`, weighted
//! `(1 - t) x + (1 + (p - 1) t) softplus(-x)`, the same definitions as
//! `torch.nn.BCEWithLogitsLoss`; each term is listed where it is used (6 decimals).

use candle_core::{Device, Tensor, Var};
use cxr_data::{FindingLabel, FindingMatrix, PosWeight, Uncertain};
use cxr_trainer::multilabel::{
    masked_bce_with_logits, pos_weight_tensor, sigmoid_probabilities, target_tensors,
    MultiLabelEvaluation,
};

use crate::support::TestResult;

const LOGITS: [[f32; 3]; 3] = [[2.0, -1.0, 0.0], [0.5, 3.0, -2.0], [0.0, 1.5, 4.0]];
const TARGETS: [[f32; 3]; 3] = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]];
/// Two labels left out, (0, 2) and (1, 1), both positives, so they would count if not masked.
const MASK: [[f32; 3]; 3] = [[1.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]];
const POS_WEIGHT: [f32; 3] = [3.0, 0.5, 2.0];

fn tensors() -> candle_core::Result<(Var, Tensor, Tensor, Tensor)> {
    let d = &Device::Cpu;
    Ok((
        Var::new(&LOGITS, d)?,
        Tensor::new(&TARGETS, d)?,
        Tensor::new(&MASK, d)?,
        Tensor::new(&POS_WEIGHT, d)?,
    ))
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn close(got: f32, want: f32, tol: f32) -> bool {
    (got - want).abs() <= tol
}

#[test]
fn loss_is_the_mean_over_the_labels_that_count() -> TestResult {
    let (x, t, mask, p) = tensors()?;
    // The seven unmasked labels, softplus(x) - x t:
    //   (0,0) x=2, t=1:   ln(1 + e^-2)  = 0.126928
    //   (0,1) x=-1, t=0:  ln(1 + e^-1)  = 0.313262
    //   (1,0) x=0.5, t=0: ln(1 + e^0.5) = 0.974077
    //   (1,2) x=-2, t=0:  ln(1 + e^-2)  = 0.126928
    //   (2,0) x=0, t=1:   ln 2          = 0.693147
    //   (2,1) x=1.5, t=1: ln(1 + e^-1.5) = 0.201413
    //   (2,2) x=4, t=0:   ln(1 + e^4)   = 4.018150
    // sum 6.453905, over 7 labels: 0.921986. (Over all nine, masks ignored, it would be
    // 7.195639 / 9 = 0.799515.)
    let loss = masked_bce_with_logits(x.as_tensor(), &t, &mask, None)?.to_scalar::<f32>()?;
    assert!(close(loss, 6.453905 / 7.0, 1e-5), "{loss}");

    // pos_weight [3, 0.5, 2] scales the three unmasked positives' terms: (0,0) 3 x 0.126928
    // = 0.380784, (2,0) 3 x 0.693147 = 2.079442, (2,1) 0.5 x 0.201413 = 0.100707; the
    // negatives' terms are unchanged. Sum 7.993349, over 7: 1.141907.
    let loss = masked_bce_with_logits(x.as_tensor(), &t, &mask, Some(&p))?.to_scalar::<f32>()?;
    assert!(close(loss, 7.993349 / 7.0, 1e-5), "{loss}");
    Ok(())
}

#[test]
fn a_masked_label_gives_its_logit_no_gradient() -> TestResult {
    let (x, t, mask, p) = tensors()?;
    for weighted in [false, true] {
        let pw = weighted.then_some(&p);
        let grads = masked_bce_with_logits(x.as_tensor(), &t, &mask, pw)?.backward()?;
        let g = grads
            .get(x.as_tensor())
            .ok_or("no gradient")?
            .to_vec2::<f32>()?;
        for i in 0..3 {
            for j in 0..3 {
                let (xv, tv) = (LOGITS[i][j], TARGETS[i][j]);
                // d/dx of (1 - t) x + w softplus(-x) is (1 - t) + w (sigmoid(x) - 1), with
                // w = 1 + (p - 1) t; unweighted (w = 1) that is sigmoid(x) - t.
                let w = if weighted {
                    1.0 + (POS_WEIGHT[j] - 1.0) * tv
                } else {
                    1.0
                };
                let want = if MASK[i][j] == 0.0 {
                    0.0
                } else {
                    ((1.0 - tv) + w * (sigmoid(xv) - 1.0)) / 7.0
                };
                assert!(
                    close(g[i][j], want, 1e-6),
                    "weighted {weighted}, ({i},{j}): {} vs {want}",
                    g[i][j]
                );
                if MASK[i][j] == 0.0 {
                    assert_eq!(g[i][j], 0.0, "masked ({i},{j}) must be exactly 0");
                }
            }
        }
        // At x = 0 (entry (2,0), positive, weight 3 when weighted) the subgradients of
        // max(x, 0) and |x| must add up to the derivative: (sigmoid(0) - 1) w / 7.
        let want = -0.5 * if weighted { 3.0 } else { 1.0 } / 7.0;
        assert!(close(g[2][0], want, 1e-7), "{} vs {want}", g[2][0]);
    }
    Ok(())
}

#[test]
fn extreme_logits_stay_finite() -> TestResult {
    let d = &Device::Cpu;
    let x = Var::new(&[[100f32, -100.0, 100.0, -100.0]], d)?;
    let mask = Tensor::ones((1, 4), candle_core::DType::F32, d)?;
    let p = Tensor::new(&[2f32, 2.0, 2.0, 2.0], d)?;
    // Right, right, wrong, wrong: 0 + 0 + 100 + 100 over 4 = 50; weighted, the wrong positive
    // (-100 against 1) costs 2 x 100: 300 / 4 = 75.
    let t = Tensor::new(&[[1f32, 0.0, 0.0, 1.0]], d)?;
    for (pw, want) in [(None, 50.0), (Some(&p), 75.0)] {
        let loss = masked_bce_with_logits(x.as_tensor(), &t, &mask, pw)?;
        assert!(close(loss.to_scalar::<f32>()?, want, 1e-4));
        let g = loss.backward()?;
        let g = g
            .get(x.as_tensor())
            .ok_or("no gradient")?
            .to_vec2::<f32>()?;
        assert!(g[0].iter().all(|v| v.is_finite()), "{g:?}");
        // (sigmoid(x) - t) / 4, times w on the positive: 0, 0, 0.25, -0.25 w.
        let w = if pw.is_some() { 2.0 } else { 1.0 };
        for (got, want) in g[0].iter().zip([0.0, 0.0, 0.25, -0.25 * w]) {
            assert!(close(*got, want, 1e-6), "{g:?}");
        }
    }
    Ok(())
}

#[test]
fn all_masked_is_zero_loss_and_zero_gradient() -> TestResult {
    let (x, t, _, p) = tensors()?;
    let mask = Tensor::zeros((3, 3), candle_core::DType::F32, &Device::Cpu)?;
    for pw in [None, Some(&p)] {
        let loss = masked_bce_with_logits(x.as_tensor(), &t, &mask, pw)?;
        assert_eq!(loss.to_scalar::<f32>()?, 0.0);
        let g = loss.backward()?;
        let g = g.get(x.as_tensor()).ok_or("no gradient")?.flatten_all()?;
        assert!(g.to_vec1::<f32>()?.iter().all(|&v| v == 0.0));
    }
    Ok(())
}

#[test]
fn label_tables_become_targets_weights_and_auroc_columns() -> TestResult {
    use FindingLabel::{Missing as M, Negative as N, Positive as P, Uncertain as U};
    let d = &Device::Cpu;
    let mut labels = FindingMatrix::new(vec!["Effusion".into(), "Mass".into()]);
    labels.push(&[P, N]);
    labels.push(&[U, M]);
    labels.push(&[N, P]);
    labels.push(&[N, U]);

    // Balanced weights over films 0, 2, 3 (Effusion P N N: 2 / 1; Mass N P U: 1 / 1 when
    // ignoring, 1 / 2 under U-Ones); absent setting: no weights.
    let w = pos_weight_tensor(
        PosWeight::Balanced,
        &labels,
        &[0, 2, 3],
        Uncertain::Ignore,
        d,
    )?;
    assert_eq!(w.ok_or("weights")?.to_vec1::<f32>()?, [2.0, 1.0]);
    let w = pos_weight_tensor(PosWeight::Balanced, &labels, &[0, 2, 3], Uncertain::Ones, d)?;
    assert_eq!(w.ok_or("weights")?.to_vec1::<f32>()?, [2.0, 0.5]);
    assert!(pos_weight_tensor(PosWeight::None, &labels, &[0], Uncertain::Ignore, d)?.is_none());

    // Evaluate films 3, 1, 0, 2 in two batches; logits chosen so sigmoid is easy to name.
    let films = [3, 1, 0, 2];
    let logits = Tensor::new(&[[-1f32, 2.0], [0.0, -3.0], [1.0, 0.5], [-2.0, 4.0]], d)?;
    let mut eval = MultiLabelEvaluation::new(2);
    for (rows, batch) in [(0..1, &films[..1]), (1..4, &films[1..])] {
        let (t, mask) = target_tensors(&labels, batch, Uncertain::Ignore, d)?;
        let x = logits.narrow(0, rows.start, rows.len())?;
        eval.add_batch(&x, &t, &mask, None)?;
    }
    assert_eq!((eval.films(), eval.counted), (4, 5));
    // The whole set's mean over its five counted labels, not the mean of the batch means.
    let (t, mask) = target_tensors(&labels, &films, Uncertain::Ignore, d)?;
    let whole = masked_bce_with_logits(&logits, &t, &mask, None)?.to_scalar::<f32>()?;
    assert!(
        close(eval.loss as f32, whole, 1e-6),
        "{} vs {whole}",
        eval.loss
    );
    assert_eq!(eval.probabilities, sigmoid_probabilities(&logits)?);
    let s = |x: f32| f64::from(sigmoid(x));
    assert!(close(eval.probabilities[3], sigmoid(-3.0), 1e-7));

    // Effusion: film 3 N, film 1 U (left out when ignoring), film 0 P, film 2 N.
    let (scores, truth) = eval.column(&labels, &films, 0, Uncertain::Ignore);
    assert_eq!(truth, [false, true, false]);
    let want = [s(-1.0), s(1.0), s(-2.0)];
    assert!(scores.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-7));
    let (_, truth) = eval.column(&labels, &films, 0, Uncertain::Ones);
    assert_eq!(truth, [false, true, true, false]);
    // Mass: film 3 U, film 1 M (always left out), film 0 N, film 2 P.
    let (scores, truth) = eval.column(&labels, &films, 1, Uncertain::Zeros);
    assert_eq!(truth, [false, false, true]);
    assert_eq!(scores.len(), 3);
    assert!((scores[0] - s(2.0)).abs() < 1e-7 && (scores[2] - s(4.0)).abs() < 1e-7);
    Ok(())
}

#[test]
fn settings_read_as_configs_write_them() -> TestResult {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Train {
        #[serde(default, skip_serializing_if = "Uncertain::is_ignore")]
        uncertain: Uncertain,
        #[serde(default, skip_serializing_if = "PosWeight::is_none")]
        pos_weight: PosWeight,
    }
    let absent: Train = serde_json::from_str("{}")?;
    assert_eq!(
        (absent.uncertain, absent.pos_weight),
        (Uncertain::Ignore, PosWeight::None)
    );
    assert_eq!(serde_json::to_string(&absent)?, "{}");
    let set: Train = serde_json::from_str(r#"{"uncertain": "ones", "pos_weight": "balanced"}"#)?;
    assert_eq!(
        (set.uncertain, set.pos_weight),
        (Uncertain::Ones, PosWeight::Balanced)
    );
    for (text, want) in [("ignore", Uncertain::Ignore), ("zeros", Uncertain::Zeros)] {
        assert_eq!(
            serde_json::from_str::<Uncertain>(&format!("\"{text}\""))?,
            want
        );
    }
    assert!(serde_json::from_str::<Uncertain>("\"U-Ones\"").is_err());
    assert!(serde_json::from_str::<PosWeight>("\"auto\"").is_err());
    Ok(())
}
