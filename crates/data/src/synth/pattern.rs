//! The class patterns: which lesion family and variant a class draws, the README's line for it,
//! and the drawing itself, with the benign findings that keep Normal films from all being blank.

use std::f32::consts::{PI, TAU};

use rand::Rng;

use super::anatomy::Anatomy;
use super::canvas::{Blob, Canvas};
use super::{uni, DEFAULT_CLASSES};

/// The lesion pattern family of a class and its variant (0 for the four real classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pattern {
    pub(super) family: Family,
    pub(super) variant: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    GroundGlass,
    Consolidation,
    Clear,
    Interstitial,
}

impl Pattern {
    pub(super) fn for_class(class_index: usize, class_name: &str) -> Self {
        const FAMILIES: [Family; 4] = [
            Family::GroundGlass,
            Family::Consolidation,
            Family::Clear,
            Family::Interstitial,
        ];
        match DEFAULT_CLASSES.iter().position(|c| *c == class_name) {
            Some(i) => Pattern {
                family: FAMILIES[i],
                variant: 0,
            },
            // Variant >= 1 keeps a user class from copying a default class at the same index.
            None => Pattern {
                family: FAMILIES[class_index % 4],
                variant: (class_index / 4 + 1).min(u32::MAX as usize) as u32,
            },
        }
    }

    /// One line for the README's class table.
    pub(super) fn describe(self) -> String {
        match (self.family, self.variant) {
            (Family::GroundGlass, 0) => "bilateral peripheral lower-zone ground-glass haze".into(),
            (Family::GroundGlass, v) => match v % 3 {
                1 => "peripheral upper-zone ground-glass haze".into(),
                2 => "central mid-zone ground-glass haze".into(),
                _ => "medial lower-zone ground-glass haze".into(),
            },
            (Family::Consolidation, 0) => "one or two focal dense consolidations, one lung".into(),
            (Family::Consolidation, v) => {
                format!("{} small opacities in both lungs", (v as usize + 2).min(12))
            }
            (Family::Clear, 0) => "clear lungs (a few with a benign finding, not marked)".into(),
            (Family::Clear, _) => "miliary nodules in both lungs".into(),
            (Family::Interstitial, 0) => "perihilar interstitial streaks, reticular pattern".into(),
            (Family::Interstitial, _) => "basal septal (Kerley B-like) lines".into(),
        }
    }
}

/// A benign finding on some Normal films: a slightly denser zone or a tiny nodule.
pub(super) fn draw_benign<R: Rng>(a: &Anatomy, n: usize, canvas: &mut Canvas, rng: &mut R) {
    let which = rng.random_range(0..2);
    let margin = 1.5 / n as f32;
    if rng.random_bool(0.5) {
        let c = a.sample_in_lung(which, (0.2, 0.9), (0.4, 0.9), margin, rng);
        let r = (uni(rng, 0.06, 0.1), uni(rng, 0.06, 0.1));
        canvas.blob(Blob::soft(c, r, uni(rng, 0.02, 0.045)), false);
    } else {
        let c = a.sample_in_lung(which, (0.1, 0.9), (0.15, 0.9), margin, rng);
        let r = uni(rng, 0.006, 0.01);
        canvas.blob(Blob::soft(c, (r, r), uni(rng, 0.05, 0.09)), false);
    }
}

/// Draws the class pattern (unit weights; contrast is applied by the caller) and returns the
/// family's contrast gain: thin or small marks need more contrast to be as visible as haze.
pub(super) fn draw_lesions<R: Rng>(
    pattern: Pattern,
    a: &Anatomy,
    n: usize,
    canvas: &mut Canvas,
    rng: &mut R,
) -> f32 {
    let margin = 1.5 / n as f32;
    let v = pattern.variant;
    match pattern.family {
        Family::GroundGlass => {
            let (p, t) = match (v, v % 3) {
                (0, _) => ((0.68, 0.97), (0.5, 0.92)),
                (_, 1) => ((0.65, 0.97), (0.12, 0.45)),
                (_, 2) => ((0.15, 0.5), (0.35, 0.7)),
                _ => ((0.1, 0.45), (0.6, 0.92)),
            };
            let mut present = [rng.random_bool(0.85), rng.random_bool(0.85)];
            if !present[0] && !present[1] {
                present[rng.random_range(0..2)] = true;
            }
            for which in (0..2).filter(|&w| present[w]) {
                for _ in 0..rng.random_range(1..=3) {
                    let c = a.sample_in_lung(which, p, t, margin, rng);
                    let r = (uni(rng, 0.03, 0.055), uni(rng, 0.045, 0.085));
                    let angle = uni(rng, -0.4, 0.4);
                    canvas.blob(
                        Blob {
                            angle,
                            ..Blob::soft(c, r, uni(rng, 0.6, 1.0))
                        },
                        true,
                    );
                }
            }
            1.8
        }
        Family::Consolidation => {
            let (count, radius) = if v == 0 {
                (rng.random_range(1..=2), (0.025, 0.055))
            } else {
                ((v as usize + 2).min(12), (0.015, 0.03))
            };
            let first = rng.random_range(0..2);
            for k in 0..count {
                // The real class keeps to one lung; variants spread over both.
                let which = if v == 0 { first } else { first + k };
                let c = a.sample_in_lung(which, (0.15, 0.9), (0.15, 0.9), margin, rng);
                let r = uni(rng, radius.0, radius.1);
                let radii = (r * uni(rng, 0.8, 1.25), r * uni(rng, 0.8, 1.25));
                let lobes = (uni(rng, 0.05, 0.2), uni(rng, 0.0, TAU));
                let (angle, weight) = (uni(rng, 0.0, PI), uni(rng, 0.75, 1.0));
                canvas.blob(
                    Blob {
                        centre: c,
                        radii,
                        angle,
                        dense: true,
                        lobes,
                        weight,
                    },
                    true,
                );
            }
            1.8
        }
        Family::Interstitial if v == 0 => {
            for which in 0..2 {
                let lung = a.lungs[which];
                for _ in 0..rng.random_range(10..=18) {
                    let start = a.sample_in_lung(which, (0.02, 0.35), (0.3, 0.65), margin, rng);
                    let target = lung.point(uni(rng, 0.4, 0.95), uni(rng, 0.1, 0.95));
                    let f = uni(rng, 0.4, 0.8);
                    let end = (
                        start.0 + (target.0 - start.0) * f,
                        start.1 + (target.1 - start.1) * f,
                    );
                    let w = uni(rng, 0.6, 1.0);
                    canvas.segment(start, end, uni(rng, 0.003, 0.006), w, 0.5 * w, true);
                }
                // Reticular cross-links between the streaks.
                for _ in 0..rng.random_range(8..=14) {
                    let c = a.sample_in_lung(which, (0.1, 0.7), (0.2, 0.85), margin, rng);
                    let (len, ang) = (uni(rng, 0.02, 0.05), uni(rng, 0.0, PI));
                    let d = (0.5 * len * ang.cos(), 0.5 * len * ang.sin());
                    let w = uni(rng, 0.5, 0.9);
                    canvas.segment(
                        (c.0 - d.0, c.1 - d.1),
                        (c.0 + d.0, c.1 + d.1),
                        0.004,
                        w,
                        w,
                        true,
                    );
                }
            }
            1.6
        }
        Family::Interstitial => {
            // Septal lines: short horizontals running in from the lateral border at the bases.
            for which in 0..2 {
                let side = a.lungs[which].side;
                for _ in 0..(6 + 3 * v as usize).min(30) {
                    let start = a.sample_in_lung(which, (0.8, 0.98), (0.65, 0.95), margin, rng);
                    let end = (
                        start.0 - side * uni(rng, 0.02, 0.045),
                        start.1 + uni(rng, -0.004, 0.004),
                    );
                    let w = uni(rng, 0.6, 1.0);
                    canvas.segment(start, end, 0.004, w, w, true);
                }
            }
            1.6
        }
        Family::Clear if v == 0 => 0.0,
        Family::Clear => {
            for k in 0..(12 + 6 * v as usize).min(60) {
                let c = a.sample_in_lung(k % 2, (0.05, 0.95), (0.1, 0.95), margin, rng);
                let r = uni(rng, 0.006, 0.01);
                canvas.blob(Blob::soft(c, (r, r), uni(rng, 0.7, 1.0)), true);
            }
            1.3
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{image_rng, render_phantom, SynthConfig};

    #[test]
    fn user_classes_get_distinct_patterns() {
        let cfg = SynthConfig {
            classes: (0..9).map(|i| format!("class{i}")).collect(),
            ..SynthConfig::default()
        };
        let patterns: Vec<Pattern> = cfg
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| Pattern::for_class(i, c))
            .collect();
        let defaults: Vec<Pattern> = DEFAULT_CLASSES
            .iter()
            .enumerate()
            .map(|(i, c)| Pattern::for_class(i, c))
            .collect();
        for (i, p) in patterns.iter().enumerate() {
            assert!(
                !patterns[..i].contains(p) && !defaults.contains(p),
                "class{i}: {p:?}"
            );
        }
        // Family "clear" in a user class draws miliary nodules, which must show in the mask.
        let p = render_phantom(2, "class2", 64, &mut image_rng(0, 2, 0));
        assert!(p.lesion_mask.contains(&255));
        // A default name keeps its pattern wherever it sits in the list.
        assert_eq!(Pattern::for_class(0, "Normal").family, Family::Clear);
    }
}
