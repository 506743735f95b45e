//! The search for each window's first maximum in one plane: a clipped loop for any geometry, a
//! bounds-check-free one for the interior of a `K x K` window, and an unrolled one for the
//! unpadded 2x2/2 pool. All follow PyTorch's rule ([`wins`]).

use super::geometry::Geometry;
use super::MaxPool2d;
use crate::elem::Elem;

impl Geometry {
    /// Calls `visit(input_index, output_index)` with the index of each output's first maximum
    /// within one `(h, w)` plane of `input`.
    pub(super) fn for_each_argmax<T: Elem>(&self, input: &[T], visit: impl FnMut(usize, usize)) {
        match self.pool {
            MaxPool2d::HALVE => self.for_each_argmax_2x2(input, visit),
            MaxPool2d { kernel: 3, .. } => self.for_each_argmax_square::<T, 3>(input, visit),
            _ => {
                let mut visit = visit;
                for oy in 0..self.oh {
                    for ox in 0..self.ow {
                        visit(self.argmax_clipped(input, oy, ox), oy * self.ow + ox);
                    }
                }
            }
        }
    }

    /// The first maximum of output `(oy, ox)`'s window, clipped to the plane (any geometry).
    fn argmax_clipped<T: Elem>(&self, input: &[T], oy: usize, ox: usize) -> usize {
        let MaxPool2d {
            kernel,
            stride,
            padding,
        } = self.pool;
        let y0 = (oy * stride).saturating_sub(padding);
        let y1 = (oy * stride + kernel - padding).min(self.h);
        let x0 = (ox * stride).saturating_sub(padding);
        let x1 = (ox * stride + kernel - padding).min(self.w);
        let mut best = y0 * self.w + x0;
        let mut max = T::from_f64(f64::NEG_INFINITY);
        for y in y0..y1 {
            for x in x0..x1 {
                let i = y * self.w + x;
                // PyTorch's rule: strictly greater (first max wins), NaN propagates.
                if wins(input[i], max) {
                    max = input[i];
                    best = i;
                }
            }
        }
        best
    }

    /// The outputs whose window lies wholly inside a side of `size` pixels with `out` outputs:
    /// `first..end`.
    fn interior(&self, size: usize, out: usize) -> std::ops::Range<usize> {
        let MaxPool2d {
            kernel: k,
            stride,
            padding,
        } = self.pool;
        let first = padding.div_ceil(stride);
        let end = if size + padding >= k {
            ((size + padding - k) / stride + 1).min(out)
        } else {
            0
        };
        first..end.max(first)
    }

    /// [`Geometry::for_each_argmax`] for a `K x K` window (the ResNet stem's 3x3/2, padding 1):
    /// windows wholly inside the plane (all but the first row and column of outputs there) take
    /// a fixed, bounds-check-free loop; the border ones the clipped one.
    #[inline]
    fn for_each_argmax_square<T: Elem, const K: usize>(
        &self,
        input: &[T],
        mut visit: impl FnMut(usize, usize),
    ) {
        let MaxPool2d {
            stride, padding, ..
        } = self.pool;
        let (rows, cols) = (
            self.interior(self.h, self.oh),
            self.interior(self.w, self.ow),
        );
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                let o = oy * self.ow + ox;
                if !(rows.contains(&oy) && cols.contains(&ox)) {
                    visit(self.argmax_clipped(input, oy, ox), o);
                    continue;
                }
                let top_left = (oy * stride - padding) * self.w + ox * stride - padding;
                // Row-major order from the window's first element: the first maximum wins.
                let (mut best, mut max) = (top_left, input[top_left]);
                for dy in 0..K {
                    let start = top_left + dy * self.w;
                    let row = &input[start..][..K];
                    for (dx, &v) in row.iter().enumerate() {
                        // Selects, not a branch: which element wins is data, and a
                        // mispredicted branch per element cost more than the comparison.
                        let take = wins(v, max);
                        best = if take { start + dx } else { best };
                        max = if take { v } else { max };
                    }
                }
                visit(best, o);
            }
        }
    }

    /// [`Geometry::for_each_argmax`] for the 2x2/2 window without padding, the CNN's pool over
    /// its largest activations: no bounds to clip, so the compiler keeps the loop tight.
    #[inline]
    fn for_each_argmax_2x2<T: Elem>(&self, input: &[T], mut visit: impl FnMut(usize, usize)) {
        let w = self.w;
        for oy in 0..self.oh {
            let (top, bottom) = (2 * oy * w, (2 * oy + 1) * w);
            let (row0, row1) = (&input[top..top + w], &input[bottom..bottom + w]);
            for ox in 0..self.ow {
                let x = 2 * ox;
                // Row-major window order, first maximum wins, NaN propagates (as PyTorch).
                // Starting from the first element is the generic loop's first step from -inf.
                let (mut best, mut max) = (top + x, row0[x]);
                for (i, v) in [
                    (top + x + 1, row0[x + 1]),
                    (bottom + x, row1[x]),
                    (bottom + x + 1, row1[x + 1]),
                ] {
                    let take = wins(v, max);
                    best = if take { i } else { best };
                    max = if take { v } else { max };
                }
                visit(best, oy * self.ow + ox);
            }
        }
    }
}

/// Whether `v` takes over from the running maximum `max`: strictly greater (so the first
/// maximum wins ties), or NaN (NaN propagates), as PyTorch.
#[inline]
fn wins<T: Elem>(v: T, max: T) -> bool {
    #[allow(clippy::eq_op)]
    let is_nan = v != v;
    v > max || is_nan
}

#[cfg(test)]
mod tests {
    use candle_core::Shape;

    use super::*;

    #[test]
    fn fixed_window_path_agrees_with_the_clipped_one() -> candle_core::Result<()> {
        // Few distinct values (many ties) and a NaN: the interior fast path must pick exactly
        // the element the clipped loop picks, for every 3x3 geometry and odd plane sizes.
        for pool in [
            MaxPool2d::RESNET_STEM,
            MaxPool2d {
                kernel: 3,
                stride: 1,
                padding: 1,
            },
            MaxPool2d {
                kernel: 3,
                stride: 2,
                padding: 0,
            },
            MaxPool2d {
                kernel: 3,
                stride: 3,
                padding: 1,
            },
        ] {
            for (h, w) in [(3, 3), (5, 5), (6, 7), (9, 4), (16, 16)] {
                let mut input: Vec<f32> =
                    (0..h * w).map(|i| ((i * 7 + i / 3) % 4) as f32).collect();
                input[(h * w) / 2] = f32::NAN;
                let geo = pool.geometry(&Shape::from((1, 1, h, w)))?;
                let mut seen = Vec::new();
                geo.for_each_argmax(&input, |i, o| seen.push((o, i)));
                let expected: Vec<(usize, usize)> = (0..geo.oh)
                    .flat_map(|oy| (0..geo.ow).map(move |ox| (oy, ox)))
                    .map(|(oy, ox)| (oy * geo.ow + ox, geo.argmax_clipped(&input, oy, ox)))
                    .collect();
                assert_eq!(seen, expected, "{pool:?} on {h}x{w}");
            }
        }
        Ok(())
    }
}
