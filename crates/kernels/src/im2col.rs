//! Convolution geometry and the im2col / col2im transforms that turn a convolution into GEMMs.
//!
//! For one image `(C, H, W)`, the column matrix has one row per weight position `(c, ky, kx)`
//! (`K = C * kh * kw` rows, the weight's row-major order) and one column per output pixel; entry
//! `(c*kh*kw + ky*kw + kx, oy*OW + ox)` is the input at `(c, oy*s - p + ky, ox*s - p + kx)`, or 0
//! in the padding. Several images may share one matrix side by side (`ld` columns per row), which
//! keeps the GEMMs wide when the images are small (ResNet's last stage is 4x4).

/// The shape of a 2-D convolution with square stride and symmetric padding, dilation 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height and width.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Step between windows.
    pub stride: usize,
    /// Zero border on each side.
    pub padding: usize,
}

impl ConvGeometry {
    /// Output height.
    pub fn oh(&self) -> usize {
        (self.h + 2 * self.padding - self.kh) / self.stride + 1
    }

    /// Output width.
    pub fn ow(&self) -> usize {
        (self.w + 2 * self.padding - self.kw) / self.stride + 1
    }

    /// Output pixels per channel.
    pub fn out_pixels(&self) -> usize {
        self.oh() * self.ow()
    }

    /// Rows of the column matrix: one per weight of an output channel.
    pub fn k(&self) -> usize {
        self.c_in * self.kh * self.kw
    }

    /// Elements of one input image.
    pub fn in_image(&self) -> usize {
        self.c_in * self.h * self.w
    }

    /// Elements of one output image.
    pub fn out_image(&self) -> usize {
        self.c_out * self.out_pixels()
    }

    /// Whether the column matrix of one image is the image itself (1x1, stride 1, no padding).
    pub fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == 1 && self.padding == 0
    }

    /// Multiply-adds of the whole convolution (one GEMM's worth; backward passes cost the same).
    pub fn macs(&self) -> usize {
        self.n * self.c_out * self.k() * self.out_pixels()
    }

    /// For kernel offset `k` along an axis of `size` inputs and `outs` outputs: the range of
    /// outputs whose input `o*s + k - p` lies inside the image.
    fn valid_outputs(&self, k: usize, size: usize, outs: usize) -> (usize, usize) {
        let s = self.stride;
        let p = self.padding;
        // First o with o*s + k >= p.
        let lo = if k >= p { 0 } else { (p - k).div_ceil(s) };
        // Last o with o*s + k - p <= size - 1, i.e. o*s <= size - 1 + p - k.
        let hi = if size + p > k {
            ((size - 1 + p - k) / s + 1).min(outs)
        } else {
            0
        };
        (lo.min(hi), hi)
    }

    /// Writes the column matrix of `image` into `col` (rows `ld` apart, starting at column
    /// `col0`), padding included.
    pub fn im2col<T: Copy + Default>(&self, image: &[T], col: &mut [T], ld: usize, col0: usize) {
        match self.narrow_same_width() {
            Some(4) => return self.im2col_narrow::<T, 4>(image, col, ld, col0),
            Some(8) => return self.im2col_narrow::<T, 8>(image, col, ld, col0),
            Some(16) => return self.im2col_narrow::<T, 16>(image, col, ld, col0),
            Some(32) => return self.im2col_narrow::<T, 32>(image, col, ld, col0),
            _ => {}
        }
        let (oh, ow) = (self.oh(), self.ow());
        let (s, p) = (self.stride, self.padding);
        let zero = T::default();
        // Stride 2 reads every other input: with each row split into its even then its odd
        // columns, every run of the column matrix is a contiguous copy instead of a strided
        // element-by-element loop (the ResNet stem and the stride-2 convolutions).
        let evens = self.w.div_ceil(2);
        let mut halves = if s == 2 {
            vec![zero; self.w * self.h]
        } else {
            Vec::new()
        };
        for c in 0..self.c_in {
            let plane = &image[c * self.h * self.w..(c + 1) * self.h * self.w];
            if s == 2 {
                for (row, split) in plane
                    .chunks_exact(self.w)
                    .zip(halves.chunks_exact_mut(self.w))
                {
                    let (even, odd) = split.split_at_mut(evens);
                    for (d, v) in even.iter_mut().zip(row.iter().step_by(2)) {
                        *d = *v;
                    }
                    for (d, v) in odd.iter_mut().zip(row.iter().skip(1).step_by(2)) {
                        *d = *v;
                    }
                }
            }
            for ky in 0..self.kh {
                let (y_lo, y_hi) = self.valid_outputs(ky, self.h, oh);
                for kx in 0..self.kw {
                    let (x_lo, x_hi) = self.valid_outputs(kx, self.w, ow);
                    let row = (c * self.kh + ky) * self.kw + kx;
                    let dst = &mut col[row * ld + col0..row * ld + col0 + oh * ow];
                    for oy in 0..oh {
                        let out = &mut dst[oy * ow..(oy + 1) * ow];
                        if oy < y_lo || oy >= y_hi {
                            out.fill(zero);
                            continue;
                        }
                        let iy = oy * s + ky - p;
                        let src = &plane[iy * self.w..(iy + 1) * self.w];
                        out[..x_lo].fill(zero);
                        out[x_hi..].fill(zero);
                        if x_lo < x_hi {
                            let ix0 = x_lo * s + kx - p;
                            let n = x_hi - x_lo;
                            if s == 1 {
                                out[x_lo..x_hi].copy_from_slice(&src[ix0..ix0 + n]);
                            } else if s == 2 {
                                let half = (ix0 % 2) * evens + ix0 / 2;
                                out[x_lo..x_hi].copy_from_slice(&halves[iy * self.w + half..][..n]);
                            } else {
                                for (o, x) in out[x_lo..x_hi].iter_mut().zip((ix0..).step_by(s)) {
                                    *o = src[x];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the column matrix `col` (rows `ld` apart, starting at column `col0`) back onto
    /// `image`, the adjoint of [`ConvGeometry::im2col`]: padding entries are dropped.
    pub fn col2im<T: Copy + Default + std::ops::AddAssign>(
        &self,
        col: &[T],
        ld: usize,
        col0: usize,
        image: &mut [T],
    ) {
        match self.narrow_same_width() {
            Some(4) => return self.col2im_narrow::<T, 4>(col, ld, col0, image),
            Some(8) => return self.col2im_narrow::<T, 8>(col, ld, col0, image),
            Some(16) => return self.col2im_narrow::<T, 16>(col, ld, col0, image),
            Some(32) => return self.col2im_narrow::<T, 32>(col, ld, col0, image),
            _ => {}
        }
        let (oh, ow) = (self.oh(), self.ow());
        let (s, p) = (self.stride, self.padding);
        for c in 0..self.c_in {
            let plane = &mut image[c * self.h * self.w..(c + 1) * self.h * self.w];
            for ky in 0..self.kh {
                let (y_lo, y_hi) = self.valid_outputs(ky, self.h, oh);
                for kx in 0..self.kw {
                    let (x_lo, x_hi) = self.valid_outputs(kx, self.w, ow);
                    if x_lo >= x_hi {
                        continue;
                    }
                    let row = (c * self.kh + ky) * self.kw + kx;
                    let src = &col[row * ld + col0..row * ld + col0 + oh * ow];
                    for oy in y_lo..y_hi {
                        let iy = oy * s + ky - p;
                        let dst = &mut plane[iy * self.w..(iy + 1) * self.w];
                        let ix0 = x_lo * s + kx - p;
                        let from = &src[oy * ow + x_lo..oy * ow + x_hi];
                        if s == 1 {
                            for (d, v) in dst[ix0..ix0 + from.len()].iter_mut().zip(from) {
                                *d += *v;
                            }
                        } else {
                            for (x, v) in (ix0..).step_by(s).zip(from) {
                                dst[x] += *v;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The output width when this is a stride-1 "same" convolution (`2 * padding == k - 1`,
    /// so the output is as wide as the input) on narrow planes of 4 to 32 pixels: ResNet's 3x3
    /// convolutions at 128 px. There the general loops spend more on per-row bookkeeping (a
    /// zero fill, a bounds check and a `memcpy` call for rows of 4 to 32 elements) than on
    /// moving data; [`ConvGeometry::im2col_narrow`] copies fixed-width rows out of a
    /// zero-bordered copy of each channel instead.
    fn narrow_same_width(&self) -> Option<usize> {
        let same = self.stride == 1
            && self.kh == self.kw
            && 2 * self.padding + 1 == self.kw
            && self.h > 0
            && self.w > 0;
        (same && matches!(self.w, 4 | 8 | 16 | 32)).then_some(self.w)
    }

    /// [`ConvGeometry::im2col`] for [`ConvGeometry::narrow_same_width`] geometries, `W` the
    /// plane width.
    fn im2col_narrow<T: Copy + Default, const W: usize>(
        &self,
        image: &[T],
        col: &mut [T],
        ld: usize,
        col0: usize,
    ) {
        let (h, p, k) = (self.h, self.padding, self.kw);
        let pw = W + 2 * p;
        let mut padded = vec![T::default(); (h + 2 * p) * pw];
        for (c, plane) in image.chunks_exact(h * W).take(self.c_in).enumerate() {
            for (y, row) in plane.chunks_exact(W).enumerate() {
                padded[(y + p) * pw + p..][..W].copy_from_slice(row);
            }
            for ky in 0..k {
                for kx in 0..k {
                    let row = (c * k + ky) * k + kx;
                    let dst = &mut col[row * ld + col0..][..h * W];
                    for (oy, out) in dst.chunks_exact_mut(W).enumerate() {
                        out.copy_from_slice(&padded[(oy + ky) * pw + kx..][..W]);
                    }
                }
            }
        }
    }

    /// [`ConvGeometry::col2im`] for [`ConvGeometry::narrow_same_width`] geometries: sums into a
    /// zero-bordered plane, then adds its interior onto the image.
    fn col2im_narrow<T: Copy + Default + std::ops::AddAssign, const W: usize>(
        &self,
        col: &[T],
        ld: usize,
        col0: usize,
        image: &mut [T],
    ) {
        let (h, p, k) = (self.h, self.padding, self.kw);
        let pw = W + 2 * p;
        let mut padded = vec![T::default(); (h + 2 * p) * pw];
        for (c, plane) in image.chunks_exact_mut(h * W).take(self.c_in).enumerate() {
            padded.fill(T::default());
            for ky in 0..k {
                for kx in 0..k {
                    let row = (c * k + ky) * k + kx;
                    let src = &col[row * ld + col0..][..h * W];
                    for (oy, from) in src.chunks_exact(W).enumerate() {
                        let to = &mut padded[(oy + ky) * pw + kx..][..W];
                        for (d, v) in to.iter_mut().zip(from) {
                            *d += *v;
                        }
                    }
                }
            }
            for (y, row) in plane.chunks_exact_mut(W).enumerate() {
                for (d, v) in row.iter_mut().zip(&padded[(y + p) * pw + p..][..W]) {
                    *d += *v;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(h: usize, w: usize, k: usize, stride: usize, padding: usize) -> ConvGeometry {
        ConvGeometry {
            n: 1,
            c_in: 2,
            h,
            w,
            c_out: 1,
            kh: k,
            kw: k,
            stride,
            padding,
        }
    }

    /// `(h, w, kernel, stride, padding)`: odd sides, strides 1 and 2 (even and odd widths for
    /// the even/odd split), and the narrow same-convolution widths 4, 8, 16 and 32.
    const GEOMETRIES: [(usize, usize, usize, usize, usize); 8] = [
        (5, 7, 3, 1, 1),
        (6, 5, 3, 2, 1),
        (7, 7, 7, 2, 3),
        (4, 5, 1, 2, 0),
        (4, 4, 3, 1, 1),
        (6, 8, 3, 1, 1),
        (3, 16, 5, 1, 2),
        (2, 32, 1, 1, 0),
    ];

    #[test]
    fn im2col_matches_the_definition() {
        for (h, w, k, s, p) in GEOMETRIES {
            let g = geometry(h, w, k, s, p);
            let image: Vec<f64> = (0..g.in_image()).map(|i| i as f64 + 1.0).collect();
            let (oh, ow) = (g.oh(), g.ow());
            let mut col = vec![-1.0; g.k() * oh * ow];
            g.im2col(&image, &mut col, oh * ow, 0);
            for c in 0..g.c_in {
                for ky in 0..k {
                    for kx in 0..k {
                        for oy in 0..oh {
                            for ox in 0..ow {
                                let (iy, ix) = (
                                    (oy * s + ky) as isize - p as isize,
                                    (ox * s + kx) as isize - p as isize,
                                );
                                let inside =
                                    iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w;
                                let want = if inside {
                                    image[(c * h + iy as usize) * w + ix as usize]
                                } else {
                                    0.0
                                };
                                let row = (c * k + ky) * k + kx;
                                assert_eq!(col[row * oh * ow + oy * ow + ox], want, "{g:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(x), y> == <x, col2im(y)> for any x, y.
        for (h, w, k, s, p) in GEOMETRIES {
            let g = geometry(h, w, k, s, p);
            let cols = g.out_pixels();
            let x: Vec<f64> = (0..g.in_image()).map(|i| ((i * 7) % 11) as f64).collect();
            let y: Vec<f64> = (0..g.k() * cols).map(|i| ((i * 5) % 13) as f64).collect();
            let mut col = vec![0.0; g.k() * cols];
            g.im2col(&x, &mut col, cols, 0);
            let mut back = vec![0.0; g.in_image()];
            g.col2im(&y, cols, 0, &mut back);
            let lhs: f64 = col.iter().zip(&y).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
            assert_eq!(lhs, rhs, "{g:?}");
        }
    }
}
