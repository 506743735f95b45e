//! One lung field and the coordinates lesions are placed in.

/// One lung field in "lung coordinates": `p` runs medial (0) to lateral (1), `t` apex (0) to
/// base (1). The lateral border is a quarter ellipse, so the apex is rounded and narrow.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lung {
    pub(super) side: f32,
    pub(super) mid: f32,
    pub(super) q_med: f32,
    pub(super) width: f32,
    pub(super) apex: f32,
    pub(super) base: f32,
    pub(super) dome: f32,
    pub(super) tilt: f32,
}

impl Lung {
    /// (medial, lateral) border at height `t`, as distances from the midline. Both borders
    /// follow a quarter ellipse around a line 40 % of the way out, so the apex is a rounded dome
    /// and the medial border is nearly straight lower down.
    fn borders(&self, t: f32) -> (f32, f32) {
        let t = t.clamp(0.0, 1.0);
        let g = (t * (2.0 - t)).sqrt();
        let centre = self.q_med + 0.4 * self.width;
        (centre - 0.4 * self.width * g, centre + 0.6 * self.width * g)
    }

    /// (approximate distance inside the border, p, t) of image point (u, v).
    pub(super) fn locate(&self, u: f32, v: f32) -> (f32, f32, f32) {
        let t = (v - self.apex) / (self.base - self.apex);
        let q = self.side * (u - self.mid) - self.tilt * (v - self.apex);
        let (medial, lateral) = self.borders(t);
        let rel = ((q - self.q_med) / self.width).clamp(0.0, 1.0);
        // Diaphragm dome: highest mid-lung, deepest at the lateral costophrenic angle.
        let floor = self.base + 0.03 * rel - self.dome * 4.0 * rel * (1.0 - rel);
        let d = (q - medial).min(lateral - q).min(floor - v);
        let p = ((q - medial) / (lateral - medial).max(1e-4)).clamp(0.0, 1.0);
        (d, p, t)
    }

    pub(super) fn point(&self, p: f32, t: f32) -> (f32, f32) {
        let v = self.apex + t * (self.base - self.apex);
        let (medial, lateral) = self.borders(t);
        let q = medial + p * (lateral - medial);
        (self.mid + self.side * (q + self.tilt * (v - self.apex)), v)
    }
}
