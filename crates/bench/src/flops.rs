//! Floating-point work per image, from the architecture, to express throughput as a share of
//! the machine's GEMM peak.
//!
//! Counts convolutions only (BatchNorm, pooling and the linear head add well under 1%): a
//! convolution of `M` multiply-adds costs `2M` flops forward, `2M` more for its weight gradient
//! when it is trained, and `2M` more for its input gradient when its input needs one (not the
//! image, not the detached output of a frozen prefix).

use crate::case::{Case, Mode, IMAGE_SIZE};

/// One convolution: multiply-adds per image, its stage (0 = stem, `i` = `layer{i}`; the CNN's
/// blocks count as stage 1..=5 but are never frozen) and whether its input is the stage input.
struct Conv {
    macs: f64,
    stage: usize,
    /// Whether it reads its stage's (or the network's) input rather than an earlier conv.
    first_in_stage: bool,
}

fn conv(cin: usize, cout: usize, k: usize, out_side: usize) -> f64 {
    (cin * cout * k * k * out_side * out_side) as f64
}

fn resnet_convs(blocks: [usize; 4]) -> Vec<Conv> {
    let mut side = IMAGE_SIZE / 2;
    let mut convs = vec![Conv {
        macs: conv(3, 64, 7, side),
        stage: 0,
        first_in_stage: true,
    }];
    side /= 2; // the stem's max-pool
    let mut cin = 64;
    for (i, (&planes, &count)) in [64, 128, 256, 512].iter().zip(&blocks).enumerate() {
        for b in 0..count {
            let stride = if i > 0 && b == 0 { 2 } else { 1 };
            side /= stride;
            let first = b == 0;
            convs.push(Conv {
                macs: conv(cin, planes, 3, side),
                stage: i + 1,
                first_in_stage: first,
            });
            convs.push(Conv {
                macs: conv(planes, planes, 3, side),
                stage: i + 1,
                first_in_stage: false,
            });
            if stride != 1 || cin != planes {
                convs.push(Conv {
                    macs: conv(cin, planes, 1, side),
                    stage: i + 1,
                    first_in_stage: first,
                });
            }
            cin = planes;
        }
    }
    convs
}

fn cnn_convs() -> Vec<Conv> {
    let mut side = IMAGE_SIZE;
    let mut cin = 3;
    let mut convs = Vec::new();
    for (i, (&cout, &k)) in [32, 64, 128, 256, 512]
        .iter()
        .zip(&[5, 5, 3, 3, 3])
        .enumerate()
    {
        convs.push(Conv {
            macs: conv(cin, cout, k, side),
            stage: i + 1,
            first_in_stage: i == 0,
        });
        side /= 2;
        cin = cout;
    }
    convs
}

/// GFLOP per image of `case` (None for models or modes it does not know).
pub fn gflop_per_image(case: &Case) -> Option<f64> {
    let (convs, freeze) = match case.model.as_str() {
        "cnn" => (cnn_convs(), 0),
        "resnet18" => (resnet_convs([2, 2, 2, 2]), case.freeze),
        "resnet34" => (resnet_convs([3, 4, 6, 3]), case.freeze),
        _ => return None,
    };
    let frozen = |stage: usize| freeze > 0 && stage <= freeze;
    let flops: f64 = convs
        .iter()
        .map(|c| match case.mode {
            Mode::Infer => 2.0 * c.macs,
            Mode::Train | Mode::Epoch => {
                if frozen(c.stage) {
                    // An epoch from the prefix cache never runs the frozen convs.
                    return if case.mode == Mode::Epoch {
                        0.0
                    } else {
                        2.0 * c.macs
                    };
                }
                // The input of the first trained stage's first convs is the image (stage 0, or
                // the CNN's block 1) or the detached prefix output.
                let first_trained = if freeze > 0 {
                    freeze + 1
                } else if case.model == "cnn" {
                    1
                } else {
                    0
                };
                let input_is_constant = c.first_in_stage && c.stage == first_trained;
                let input_grad = if input_is_constant { 0.0 } else { 2.0 * c.macs };
                4.0 * c.macs + input_grad
            }
        })
        .sum();
    Some(flops / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(model: &str, freeze: usize, mode: Mode) -> Case {
        Case {
            model: model.into(),
            freeze,
            mode,
        }
    }

    #[test]
    fn resnet18_forward_matches_the_published_count() -> Result<(), String> {
        // torchvision lists ResNet18 at 1.814 GFLOPS (multiply-adds) for 224x224; convolutions
        // scale with the pixel count, so 128x128 is (128/224)^2 of that, doubled for flops.
        let ours = gflop_per_image(&case("resnet18", 0, Mode::Infer)).ok_or("unknown")?;
        let expected = 2.0 * 1.814 * (128.0f64 / 224.0).powi(2);
        assert!((ours / expected - 1.0).abs() < 0.01, "{ours} vs {expected}");
        Ok(())
    }

    #[test]
    fn training_costs_about_three_forwards() -> Result<(), String> {
        let fwd = gflop_per_image(&case("resnet18", 0, Mode::Infer)).ok_or("unknown")?;
        let train = gflop_per_image(&case("resnet18", 0, Mode::Train)).ok_or("unknown")?;
        assert!(train > 2.8 * fwd && train < 3.0 * fwd, "{train} vs {fwd}");
        let probe = gflop_per_image(&case("resnet18", 4, Mode::Train)).ok_or("unknown")?;
        assert!(
            (probe - fwd).abs() < 1e-9,
            "linear probing costs one forward"
        );
        Ok(())
    }
}
