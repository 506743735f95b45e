//! Ribs and clavicles, drawn as bands around curves whose height depends on the column only.

use std::f32::consts::PI;

use rand::Rng;

use super::canvas::smoothstep;
use super::lung::Lung;
use super::uni;

/// A bone drawn as a band around a curve `v = f(q)`, `q` = distance from the midline.
#[derive(Debug, Clone, Copy)]
enum Curve {
    /// Posterior rib: leaves the spine, rises to `q_peak`, then falls laterally.
    Posterior { v0: f32, lift: f32, q_peak: f32 },
    /// Anterior rib: highest laterally, falls towards the sternum.
    Anterior { v0: f32, fall: f32, q_end: f32 },
    /// Clavicle: rises laterally with a gentle S.
    Clavicle { v0: f32, slope: f32 },
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Bone {
    curve: Curve,
    half: f32,
    q_min: f32,
    q_max: f32,
    level: f32,
}

impl Bone {
    /// Where the bone crosses column `q` and how strongly it shows there (zero past its ends).
    pub(super) fn crossing(&self, q: f32) -> (f32, f32) {
        if q < self.q_min || q > self.q_max {
            return (0.0, 0.0);
        }
        let c = match self.curve {
            Curve::Posterior { v0, lift, q_peak } => v0 - lift * q * (2.0 * q_peak - q),
            Curve::Anterior { v0, fall, q_end } => v0 + fall * (q_end - q).powi(2),
            Curve::Clavicle { v0, slope } => {
                v0 - slope * (q - self.q_min) + 0.012 * (PI * (q - self.q_min) / 0.3).sin()
            }
        };
        // Ends fade instead of stopping in a hard edge.
        let fade = smoothstep(self.q_max, self.q_max - 0.04, q)
            * smoothstep(self.q_min, self.q_min + 0.02, q);
        (c, self.level * fade)
    }

    /// Intensity at vertical distance `dd` from the centre line: cortex brighter than marrow.
    pub(super) fn profile(&self, dd: f32) -> f32 {
        if dd >= self.half {
            return 0.0;
        }
        (1.0 - smoothstep(0.5 * self.half, self.half, dd)) * (0.8 + 0.2 * dd / self.half)
    }
}

/// The bones over one lung: ten posterior ribs, six anterior ribs and the clavicle, reaching a
/// little past the lung's lateral border.
pub(super) fn sample<R: Rng>(apex: f32, base: f32, lung: Lung, rng: &mut R) -> Vec<Bone> {
    let lateral = lung.q_med + lung.width + lung.tilt * (base - apex) + 0.03;
    let spacing = (base - apex + 0.06) / 9.0 * uni(rng, 0.93, 1.07);
    let (lift, q_peak) = (uni(rng, 2.5, 4.0), uni(rng, 0.09, 0.14));
    let rib_level = uni(rng, 0.07, 0.11);
    let first = apex - 0.03 + uni(rng, -0.012, 0.012);
    let mut bones = Vec::with_capacity(17);
    for k in 0..10 {
        let curve = Curve::Posterior {
            v0: first + k as f32 * spacing + uni(rng, -0.006, 0.006),
            lift: lift * (1.0 + 0.04 * k as f32) * uni(rng, 0.92, 1.08),
            q_peak,
        };
        let half = 0.012 * uni(rng, 0.85, 1.15);
        bones.push(Bone {
            curve,
            half,
            q_min: 0.015,
            q_max: lateral,
            level: rib_level,
        });
    }
    let (fall, ant_level) = (uni(rng, 0.8, 1.4), uni(rng, 0.025, 0.045));
    let ant_first = apex + 0.05 + uni(rng, -0.015, 0.015);
    for k in 0..6 {
        let v0 = ant_first + k as f32 * spacing * 1.2;
        let curve = Curve::Anterior {
            v0,
            fall,
            q_end: lateral,
        };
        bones.push(Bone {
            curve,
            half: 0.011,
            q_min: 0.1,
            q_max: lateral,
            level: ant_level,
        });
    }
    let clavicle = Curve::Clavicle {
        v0: apex + 0.01 + uni(rng, -0.015, 0.015),
        slope: uni(rng, 0.1, 0.25),
    };
    bones.push(Bone {
        curve: clavicle,
        half: 0.016,
        q_min: 0.03,
        q_max: 0.33,
        level: uni(rng, 0.1, 0.15),
    });
    bones
}
