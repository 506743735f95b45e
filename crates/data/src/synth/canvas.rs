//! Layers that thin structures and lesions are drawn into, each primitive costing only its
//! bounding box, and the smoothstep edge every soft border uses.

#[inline]
pub(super) fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// An elliptical blob in normalised coordinates (`angle` in radians). Soft blobs are gaussian
/// (haze); dense ones have a lobulated, fairly sharp edge (consolidation).
#[derive(Debug, Clone, Copy)]
pub(super) struct Blob {
    pub(super) centre: (f32, f32),
    pub(super) radii: (f32, f32),
    pub(super) angle: f32,
    pub(super) dense: bool,
    /// Amplitude and phase of a three-lobed border (dense blobs only).
    pub(super) lobes: (f32, f32),
    pub(super) weight: f32,
}

impl Blob {
    pub(super) fn soft(centre: (f32, f32), radii: (f32, f32), weight: f32) -> Self {
        Blob {
            centre,
            radii,
            angle: 0.0,
            dense: false,
            lobes: (0.0, 0.0),
            weight,
        }
    }
}

/// An additive layer drawn primitive by primitive over each one's bounding box only. Values
/// combine by max so that crossing lines do not produce hot spots.
pub(super) struct Canvas {
    n: usize,
    pub(super) val: Vec<f32>,
    pub(super) region: Vec<bool>,
}

impl Canvas {
    pub(super) fn new(n: usize) -> Self {
        Canvas {
            n,
            val: vec![0.0; n * n],
            region: vec![false; n * n],
        }
    }

    pub(super) fn clear(&mut self) {
        self.val.fill(0.0);
        self.region.fill(false);
    }

    fn put(&mut self, x: usize, y: usize, value: f32, mark: bool) {
        let i = y * self.n + x;
        self.val[i] = self.val[i].max(value);
        self.region[i] |= mark;
    }

    /// Pixel bounding box of a disc (centre in pixels, radius in pixels), clipped to the image.
    fn bbox(&self, cx: f32, cy: f32, r: f32) -> (usize, usize, usize, usize) {
        let hi = self.n as f32 - 1.0;
        let lo = |c: f32| (c - r).floor().clamp(0.0, hi) as usize;
        let up = |c: f32| (c + r).ceil().clamp(0.0, hi) as usize;
        (lo(cx), up(cx), lo(cy), up(cy))
    }

    /// A line from `a` to `b` (normalised), gaussian cross-section of `width`, weight fading from
    /// `w0` to `w1`; `mark` records it in the region within 2.5 widths (at least a pixel).
    pub(super) fn segment(
        &mut self,
        a: (f32, f32),
        b: (f32, f32),
        width: f32,
        w0: f32,
        w1: f32,
        mark: bool,
    ) {
        let s = self.n as f32;
        let (ax, ay, bx, by) = (a.0 * s - 0.5, a.1 * s - 0.5, b.0 * s - 0.5, b.1 * s - 0.5);
        let sigma = (width * s).max(0.5);
        let reach = (2.5 * sigma).max(1.0);
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = (dx * dx + dy * dy).max(1e-6);
        let r = 3.0 * sigma + 1.0;
        let (x0, _, y0, _) = self.bbox(ax.min(bx), ay.min(by), r);
        let (_, x1, _, y1) = self.bbox(ax.max(bx), ay.max(by), r);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (px, py) = (x as f32 - ax, y as f32 - ay);
                let f = ((px * dx + py * dy) / len2).clamp(0.0, 1.0);
                let (ex, ey) = (px - f * dx, py - f * dy);
                let d2 = ex * ex + ey * ey;
                if d2 > r * r {
                    continue;
                }
                let value = (w0 + (w1 - w0) * f) * (-d2 / (2.0 * sigma * sigma)).exp();
                self.put(x, y, value, mark && d2 < reach * reach);
            }
        }
    }

    /// Draws `b`; `mark` records it in the region.
    pub(super) fn blob(&mut self, b: Blob, mark: bool) {
        let Blob {
            centre: c,
            radii,
            angle,
            dense,
            lobes,
            weight,
        } = b;
        let s = self.n as f32;
        let (cx, cy) = (c.0 * s - 0.5, c.1 * s - 0.5);
        let (rx, ry) = ((radii.0 * s).max(0.7), (radii.1 * s).max(0.7));
        let (sin, cos) = angle.sin_cos();
        let extent = rx.max(ry) * if dense { 1.4 * (1.0 + lobes.0) } else { 3.2 } + 1.0;
        let (x0, x1, y0, y1) = self.bbox(cx, cy, extent);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (px, py) = (x as f32 - cx, y as f32 - cy);
                let (lx, ly) = ((px * cos + py * sin) / rx, (py * cos - px * sin) / ry);
                let mut r = (lx * lx + ly * ly).sqrt();
                let (value, inside) = if dense {
                    r /= 1.0 + lobes.0 * (3.0 * ly.atan2(lx) + lobes.1).sin();
                    (1.0 - smoothstep(0.7, 1.15, r), r < 1.1)
                } else {
                    ((-0.5 * r * r).exp(), r < 1.5)
                };
                // The centre pixel always counts, so a tiny lesion never vanishes from the mask.
                let centre = px * px + py * py <= 1.0;
                self.put(x, y, weight * value, mark && (inside || centre));
            }
        }
    }
}
