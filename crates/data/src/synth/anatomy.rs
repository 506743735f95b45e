//! The normal chest shared by every class: body, lungs, heart, mediastinum, spine and bones
//! sampled per image, painted pixel by pixel, and the vessels fanning out of each hilum.

use std::f32::consts::TAU;

use rand::Rng;

use super::bone::{self, Bone};
use super::canvas::{smoothstep, Blob, Canvas};
use super::lung::Lung;
use super::uni;

#[derive(Debug, Clone, Copy)]
struct Ellipse {
    cx: f32,
    cy: f32,
    a: f32,
    b: f32,
}

impl Ellipse {
    fn sd(&self, u: f32, v: f32) -> f32 {
        let (du, dv) = ((u - self.cx) / self.a, (v - self.cy) / self.b);
        (1.0 - (du * du + dv * dv).sqrt()) * self.a.min(self.b)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Anatomy {
    mid: f32,
    body: Ellipse,
    body_squareness: f32,
    pub(super) lungs: [Lung; 2],
    heart: Ellipse,
    med_half: f32,
    spine_half: f32,
    vertebra: (f32, f32),
    bones: [Vec<Bone>; 2],
    background: f32,
    tissue: f32,
    lung_dark: f32,
    mediastinum: f32,
    heart_level: f32,
    spine: f32,
}

impl Anatomy {
    pub(super) fn sample<R: Rng>(rng: &mut R) -> Self {
        let mid = 0.5 + uni(rng, -0.02, 0.02);
        let (sw, sh) = (uni(rng, 0.92, 1.08), uni(rng, 0.92, 1.08));
        let body = Ellipse {
            cx: mid,
            cy: 0.6 + uni(rng, -0.02, 0.02),
            a: 0.47 * sw,
            b: 0.58 * sh,
        };
        let apex = 0.16 + uni(rng, -0.025, 0.025);
        let base = apex + 0.58 * sh * uni(rng, 0.95, 1.05);
        let lung_w = 0.3 * sw * uni(rng, 0.95, 1.05);
        // The patient's right hemidiaphragm (image left) usually sits higher.
        let lung = |side: f32, base: f32, w: f32, rng: &mut R| Lung {
            side,
            mid,
            q_med: 0.04 + uni(rng, -0.01, 0.01),
            width: w * uni(rng, 0.95, 1.05),
            apex: apex + uni(rng, -0.012, 0.012),
            base: base + uni(rng, -0.015, 0.015),
            dome: uni(rng, 0.04, 0.08),
            tilt: uni(rng, 0.03, 0.1),
        };
        let lungs = [
            lung(-1.0, base - 0.02, lung_w, rng),
            lung(1.0, base + 0.01, lung_w * 0.96, rng),
        ];
        let heart = Ellipse {
            cx: mid + 0.075 + uni(rng, -0.015, 0.015),
            cy: lungs[1].base - 0.05 + uni(rng, -0.02, 0.02),
            a: 0.17 * uni(rng, 0.9, 1.1),
            b: 0.13 * uni(rng, 0.9, 1.1),
        };
        let bones = [
            bone::sample(apex, base, lungs[0], rng),
            bone::sample(apex, base, lungs[1], rng),
        ];
        Anatomy {
            mid,
            body,
            body_squareness: uni(rng, 0.4, 0.9),
            lungs,
            heart,
            med_half: 0.065 + uni(rng, -0.008, 0.008),
            spine_half: 0.028,
            vertebra: (uni(rng, 0.045, 0.055), uni(rng, 0.0, 1.0)),
            bones,
            background: uni(rng, 0.02, 0.06),
            tissue: uni(rng, 0.5, 0.62),
            lung_dark: uni(rng, 0.3, 0.4),
            mediastinum: uni(rng, 0.12, 0.18),
            heart_level: uni(rng, 0.02, 0.04),
            spine: uni(rng, 0.04, 0.07),
        }
    }

    fn body_sd(&self, u: f32, v: f32) -> f32 {
        // Shoulders narrow the trunk near the top; the neck is a plain vertical band.
        let a = self.body.a * (0.82 + 0.18 * smoothstep(0.02, 0.3, v));
        let du = ((u - self.body.cx) / a).powi(2);
        let dv = ((v - self.body.cy) / self.body.b).powi(2);
        // A blend of the ellipse and the squarer 4-norm: a rounded-rectangle trunk without
        // the cost of powf on every pixel.
        let ellipse = (du + dv).sqrt();
        let boxy = (du * du + dv * dv).sqrt().sqrt();
        let r = ellipse + (boxy - ellipse) * self.body_squareness;
        let trunk = (1.0 - r) * a.min(self.body.b);
        trunk.max(0.1 - (u - self.mid).abs())
    }

    /// Distance inside the nearer lung field, the heart cut out (negative outside the lungs).
    fn lung_sd(&self, u: f32, v: f32) -> f32 {
        let heart = -self.heart.sd(u, v);
        self.lungs
            .iter()
            .map(|l| l.locate(u, v).0.min(heart))
            .fold(f32::MIN, f32::max)
    }

    /// A point of lung `which` in the given (p, t) window at least `margin` inside the field,
    /// so that a lesion centred there always has lung pixels under it.
    pub(super) fn sample_in_lung<R: Rng>(
        &self,
        which: usize,
        p: (f32, f32),
        t: (f32, f32),
        margin: f32,
        rng: &mut R,
    ) -> (f32, f32) {
        let lung = self.lungs[which % 2];
        for _ in 0..64 {
            let (u, v) = lung.point(uni(rng, p.0, p.1), uni(rng, t.0, t.1));
            if self.lung_sd(u, v) > margin {
                return (u, v);
            }
        }
        // Upper-lateral lung is never under the heart or diaphragm.
        lung.point(0.6, 0.35)
    }
}

/// Per-pixel anatomy: (radiograph before texture and noise, soft lung coverage, lung mask).
pub(super) fn paint_anatomy(a: &Anatomy, n: usize) -> (Vec<f32>, Vec<f32>, Vec<bool>) {
    let inv = 1.0 / n as f32;
    let edge = 1.2 * inv;
    let mut val = vec![0.0f32; n * n];
    let mut lung_soft = vec![0.0f32; n * n];
    let mut lung_hard = vec![false; n * n];
    // Bone centre lines depend on the column only: computed once per column, not per pixel.
    let bones_per_side = a.bones[0].len().max(a.bones[1].len());
    let mut columns = vec![(0.0, 0.0); n * bones_per_side];
    for x in 0..n {
        let u = (x as f32 + 0.5) * inv;
        let side = usize::from(u >= a.mid);
        for (k, bone) in a.bones[side].iter().enumerate() {
            columns[x * bones_per_side + k] = bone.crossing((u - a.mid).abs());
        }
    }
    for y in 0..n {
        let v = (y as f32 + 0.5) * inv;
        for x in 0..n {
            let u = (x as f32 + 0.5) * inv;
            let i = y * n + x;
            let body = smoothstep(-edge, edge, a.body_sd(u, v));
            // Thicker tissue towards the abdomen.
            let tissue = a.tissue * (0.88 + 0.2 * v);
            let mut g = a.background + (tissue - a.background) * body;
            let q = (u - a.mid).abs();
            g += a.mediastinum * smoothstep(edge, -edge, q - a.med_half) * body;
            let vertebra = 0.75 + 0.25 * (TAU * (v / a.vertebra.0 + a.vertebra.1)).cos();
            g += a.spine * smoothstep(edge, -edge, q - a.spine_half) * vertebra * body;
            let heart_sd = a.heart.sd(u, v);
            g += a.heart_level * smoothstep(-edge, edge, heart_sd) * body;
            for lung in &a.lungs {
                let (d, p, t) = lung.locate(u, v);
                let d = d.min(-heart_sd);
                let s = smoothstep(-edge, edge, d);
                if s > 0.0 {
                    // Bases and the medial lung overlie more tissue, so they are less dark.
                    let t = t.clamp(0.0, 1.0);
                    let dark = a.lung_dark * (1.0 - 0.25 * t * t - 0.2 * (1.0 - p).powi(3));
                    g -= dark * s;
                    lung_soft[i] = lung_soft[i].max(s);
                }
                lung_hard[i] |= d > 0.0;
            }
            // Bone shows best against air and fades into the upper abdomen.
            let side = usize::from(u >= a.mid);
            let crossings = &columns[x * bones_per_side..(x + 1) * bones_per_side];
            let bones: f32 = a.bones[side]
                .iter()
                .zip(crossings)
                .filter(|(_, &(_, level))| level > 0.0)
                .map(|(b, &(c, level))| level * b.profile((v - c).abs()))
                .sum();
            let base = a.lungs[side].base;
            g += bones * body * (0.5 + 0.5 * lung_soft[i]) * smoothstep(base + 0.1, base - 0.02, v);
            val[i] = g;
        }
    }
    (val, lung_soft, lung_hard)
}

/// Normal anatomy shared by every class: vessels fanning out of each hilum, tapering.
pub(super) fn draw_vessels<R: Rng>(a: &Anatomy, canvas: &mut Canvas, rng: &mut R) {
    let level = uni(rng, 0.03, 0.05);
    for which in 0..2 {
        let lung = a.lungs[which];
        let hilum = lung.point(uni(rng, 0.05, 0.15), uni(rng, 0.4, 0.55));
        canvas.blob(Blob::soft(hilum, (0.025, 0.035), level), false);
        for _ in 0..rng.random_range(7..=11) {
            let target = lung.point(uni(rng, 0.3, 0.85), uni(rng, 0.1, 0.95));
            let reach = uni(rng, 0.6, 1.0);
            let end = (
                hilum.0 + (target.0 - hilum.0) * reach,
                hilum.1 + (target.1 - hilum.1) * reach,
            );
            let width = uni(rng, 0.004, 0.007);
            canvas.segment(hilum, end, width, level, 0.2 * level, false);
            let fork = ((hilum.0 + end.0) / 2.0, (hilum.1 + end.1) / 2.0);
            let twig = (end.0 + uni(rng, -0.08, 0.08), end.1 + uni(rng, -0.06, 0.06));
            canvas.segment(fork, twig, width * 0.7, 0.6 * level, 0.1 * level, false);
        }
    }
}
