//! The Winograd F(2x2, 3x3) transforms of [`super`]: the input patches (`Bᵀ d B`), the output
//! gradients' tiles (`A e Aᵀ`), the GEMMs' result back to output pixels (`Aᵀ M A`), and the
//! kernels both ways (`G g Gᵀ`, `Gᵀ m G`). The passes over many tiles run a plane at a time, each
//! of a tile's 16 values one contiguous vectorised pass over all the plane's tiles; the per-tile
//! forms below them are the textbook definitions (the kernels' are used as they are, the others
//! by the tests).

use std::mem::MaybeUninit;

use multiversion::multiversion;

use super::{spaced, Tiles};
use crate::elem::Elem;

/// `V = Bᵀ d B` of the patch under every tile of `count` images of `x` (`c` planes each) into
/// `v`: 16 matrices `(c, T)` back to back, tile `img * per_image + i * tx + j`.
///
/// A plane at a time, each of the 16 outputs one contiguous pass over all the plane's tiles
/// (short per-row loops were mostly loop overhead at these sizes). Every padded input row `y`
/// is first split four ways, `E[j]`, `O[j]`, `E[j+1]`, `O[j+1]` (columns `2j`, `2j+1`, `2j+2`,
/// `2j+3` of the padded row: tile `j`'s four), stored by the parity of `y` so that rows `2i + a`
/// for `i = 0..ty` are one contiguous run for each `a`.
#[multiversion(targets = "simd")]
pub(super) fn transform_patches<T: Elem>(
    tiles: &Tiles,
    x: &[T],
    c: usize,
    count: usize,
    v: &mut [T],
) {
    let (h, w, ty, tx) = (tiles.h, tiles.w, tiles.ty, tiles.tx);
    let (plane_tiles, t_all) = (ty * tx, count * tiles.per_image());
    let stride = spaced(c * t_all);
    let run = (ty + 1) * tx;
    // split[(parity * 4 + k) * run + (y / 2) * tx + j], k = E, O, E shifted, O shifted.
    let mut split = vec![T::ZERO; 8 * run];
    let (mut even, mut odd) = (vec![T::ZERO; tx + 1], vec![T::ZERO; tx + 1]);
    for img in 0..count {
        for ch in 0..c {
            let plane = &x[(img * c + ch) * h * w..][..h * w];
            for y in 0..2 * ty + 2 {
                match y.checked_sub(tiles.pad).filter(|&r| r < h) {
                    Some(r) => split_row(&plane[r * w..][..w], tiles.pad, &mut even, &mut odd),
                    None => {
                        even.fill(T::ZERO);
                        odd.fill(T::ZERO);
                    }
                }
                let at = (y / 2) * tx;
                let base = (y % 2) * 4 * run;
                let parts = [&even[..tx], &odd[..tx], &even[1..], &odd[1..]];
                for (k, part) in parts.into_iter().enumerate() {
                    split[base + k * run + at..][..tx].copy_from_slice(part);
                }
            }
            // Row `a` of every tile's patch, column kind `k`: one run over the plane's tiles.
            let d = |a: usize, k: usize| {
                &split[((a % 2) * 4 + k) * run + (a / 2) * tx..][..plane_tiles]
            };
            let at = ch * t_all + img * tiles.per_image();
            let sub = |p: T, q: T| p - q;
            // Bᵀ over the rows: d0 - d2, d1 + d2, d2 - d1, d1 - d3.
            for (r, (ra, rb)) in [(0, 2), (1, 2), (2, 1), (1, 3)].into_iter().enumerate() {
                let rows = |k: usize| (d(ra, k), d(rb, k));
                let out = (4 * r * stride + at, stride, plane_tiles);
                if r == 1 {
                    patch_columns(v, out, rows, |p, q| p + q);
                } else {
                    patch_columns(v, out, rows, sub);
                }
            }
        }
    }
}

/// The four outputs of one row `r` of `Bᵀ d B` for a plane's tiles: with `X_k = f(rows(k))` the
/// row combination of column kind `k` (E, O, E shifted, O shifted), B over the columns is
/// `X_0 - X_2`, `X_1 + X_2`, `X_2 - X_1`, `X_1 - X_3`, written as `len` values at `first`,
/// `first + stride`, ... (`out = (first, stride, len)`).
#[inline(always)]
fn patch_columns<'a, T: Elem>(
    v: &mut [T],
    (first, stride, len): (usize, usize, usize),
    rows: impl Fn(usize) -> (&'a [T], &'a [T]),
    f: impl Fn(T, T) -> T + Copy,
) {
    for (col, (k1, k2)) in [(0, 2), (1, 2), (2, 1), (1, 3)].into_iter().enumerate() {
        let ((a, b), (c, d)) = (rows(k1), rows(k2));
        let out = &mut v[first + col * stride..][..len];
        if col == 1 {
            lanes4(out, [a, b, c, d], |a, b, c, d| f(a, b) + f(c, d));
        } else {
            lanes4(out, [a, b, c, d], |a, b, c, d| f(a, b) - f(c, d));
        }
    }
}

/// `dst[j] = f(a[j], b[j], c[j], d[j])` over `dst`'s length, each input cut to it first so the
/// loop has no bounds checks and vectorises.
#[inline(always)]
fn lanes4<T: Elem>(dst: &mut [T], [a, b, c, d]: [&[T]; 4], f: impl Fn(T, T, T, T) -> T) {
    let n = dst.len();
    let (a, b, c, d) = (&a[..n], &b[..n], &c[..n], &d[..n]);
    for j in 0..n {
        dst[j] = f(a[j], b[j], c[j], d[j]);
    }
}

/// `row` split by the parity of its padded column `col + pad`: even ones to `even[(col + pad) /
/// 2]`, odd ones to `odd[..]`, zeros elsewhere (the padding on both sides).
#[inline(always)]
fn split_row<T: Elem>(row: &[T], pad: usize, even: &mut [T], odd: &mut [T]) {
    even.fill(T::ZERO);
    odd.fill(T::ZERO);
    // The first column whose padded index is even, and its pair slot.
    let (rest, first) = if pad % 2 == 1 {
        if let (Some(&v), Some(o)) = (row.first(), odd.get_mut(pad / 2)) {
            *o = v;
        }
        (row.get(1..).unwrap_or(&[]), pad.div_ceil(2))
    } else {
        (row, pad / 2)
    };
    let first = first.min(even.len()).min(odd.len());
    let (even, odd) = (&mut even[first..], &mut odd[first..]);
    let len = even.len().min(odd.len()).min(rest.len() / 2);
    // A last column without a partner goes to the even slot after the pairs.
    if rest.len() % 2 == 1 && len == rest.len() / 2 {
        if let Some(e) = even.get_mut(len) {
            *e = rest[rest.len() - 1];
        }
    }
    let (even, odd, pairs) = (&mut even[..len], &mut odd[..len], &rest[..2 * len]);
    for k in 0..len {
        even[k] = pairs[2 * k];
        odd[k] = pairs[2 * k + 1];
    }
}

/// `A e Aᵀ` of every 2x2 tile `e` of the output gradient of `count` images (`c` planes each; 0
/// past the edge) into `e_out`: 16 matrices `(c, T)` back to back. A plane at a time as
/// [`transform_patches`]: the tiles' four values split into four runs over the plane first.
#[multiversion(targets = "simd")]
pub(super) fn transform_output_grads<T: Elem>(
    tiles: &Tiles,
    dy: &[T],
    c: usize,
    count: usize,
    e_out: &mut [T],
) {
    let (oh, ow, ty, tx) = (tiles.oh, tiles.ow, tiles.ty, tiles.tx);
    let (plane_tiles, t_all) = (ty * tx, count * tiles.per_image());
    let stride = spaced(c * t_all);
    // split[k * plane_tiles + i * tx + j]: k = top-left, top-right, bottom-left, bottom-right.
    let mut split = vec![T::ZERO; 4 * plane_tiles];
    for img in 0..count {
        for ch in 0..c {
            let plane = &dy[(img * c + ch) * oh * ow..][..oh * ow];
            for i in 0..ty {
                for a in 0..2 {
                    let (left, right) =
                        split[2 * a * plane_tiles..][..2 * plane_tiles].split_at_mut(plane_tiles);
                    let (left, right) = (&mut left[i * tx..][..tx], &mut right[i * tx..][..tx]);
                    match plane.get((2 * i + a) * ow..).filter(|_| 2 * i + a < oh) {
                        Some(row) => split_row(&row[..ow], 0, left, right),
                        None => {
                            left.fill(T::ZERO);
                            right.fill(T::ZERO);
                        }
                    }
                }
            }
            let part = |k: usize| &split[k * plane_tiles..][..plane_tiles];
            let (p0, q0, p1, q1) = (part(0), part(1), part(2), part(3));
            let at = ch * t_all + img * tiles.per_image();
            let parts = [p0, p1, q0, q1];
            let out = |r: usize| (4 * r * stride + at, stride, plane_tiles);
            grad_columns(e_out, out(0), parts, |t, _| t);
            grad_columns(e_out, out(1), parts, |t, b| t + b);
            grad_columns(e_out, out(2), parts, |t, b| t - b);
            grad_columns(e_out, out(3), parts, |_, b| T::ZERO - b);
        }
    }
}

/// One row of `A e Aᵀ` for a plane's tiles: with `p = f(p0, p1)` and `q = f(q0, q1)` (A over the
/// rows of the tile's (p, q) columns), writes `p`, `p + q`, `p - q`, `-q` as `len` values at
/// `first`, `first + stride`, ... (`out = (first, stride, len)`).
#[inline(always)]
fn grad_columns<T: Elem>(
    e: &mut [T],
    (first, stride, len): (usize, usize, usize),
    parts: [&[T]; 4],
    f: impl Fn(T, T) -> T + Copy,
) {
    lanes4(&mut e[first..][..len], parts, |a, b, _, _| f(a, b));
    lanes4(&mut e[first + stride..][..len], parts, |a, b, c, d| {
        f(a, b) + f(c, d)
    });
    lanes4(&mut e[first + 2 * stride..][..len], parts, |a, b, c, d| {
        f(a, b) - f(c, d)
    });
    lanes4(&mut e[first + 3 * stride..][..len], parts, |_, _, c, d| {
        T::ZERO - f(c, d)
    });
}

/// `Aᵀ M A` of every tile (16 matrices `(c, T)` in `m`) written to the `count` images'
/// `(c, OH, OW)` planes in `slots`, clipped at the bottom and right edges; returns them written.
/// A plane at a time: the four pixels of every tile as four contiguous passes, then each output
/// row interleaved from two of them.
#[multiversion(targets = "simd")]
pub(super) fn write_outputs<'d, T: Elem>(
    tiles: &Tiles,
    m: &[T],
    c: usize,
    count: usize,
    slots: &'d mut [MaybeUninit<T>],
) -> &'d mut [T] {
    let (oh, ow, ty, tx) = (tiles.oh, tiles.ow, tiles.ty, tiles.tx);
    let (plane_tiles, t_all) = (ty * tx, count * tiles.per_image());
    let stride = spaced(c * t_all);
    assert_eq!(slots.len(), count * c * oh * ow, "winograd: output size");
    // Aᵀ over the rows for each column of the tile (s[a * 4 + col]), then the tile's pixels
    // (y[a * 2 + b]).
    let mut s = vec![T::ZERO; 8 * plane_tiles];
    let mut y = vec![T::ZERO; 4 * plane_tiles];
    for img in 0..count {
        for ch in 0..c {
            let at = ch * t_all + img * tiles.per_image();
            let run = |xi: usize| &m[xi * stride + at..][..plane_tiles];
            for col in 0..4 {
                let parts = [run(col), run(4 + col), run(8 + col), run(12 + col)];
                lanes4(
                    &mut s[col * plane_tiles..][..plane_tiles],
                    parts,
                    |a, b, c, _| a + b + c,
                );
                lanes4(
                    &mut s[(4 + col) * plane_tiles..][..plane_tiles],
                    parts,
                    |_, b, c, d| b - c - d,
                );
            }
            for a in 0..2 {
                let part = |col: usize| &s[(4 * a + col) * plane_tiles..][..plane_tiles];
                let parts = [part(0), part(1), part(2), part(3)];
                lanes4(
                    &mut y[2 * a * plane_tiles..][..plane_tiles],
                    parts,
                    |p, q, r, _| p + q + r,
                );
                lanes4(
                    &mut y[(2 * a + 1) * plane_tiles..][..plane_tiles],
                    parts,
                    |_, q, r, t| q - r - t,
                );
            }
            let plane = &mut slots[(img * c + ch) * oh * ow..][..oh * ow];
            for (oy, out) in plane.chunks_exact_mut(ow.max(1)).enumerate() {
                let (i, a) = (oy / 2, oy % 2);
                let left = &y[2 * a * plane_tiles + i * tx..][..tx];
                let right = &y[(2 * a + 1) * plane_tiles + i * tx..][..tx];
                interleave(out, left, right);
            }
        }
    }
    // SAFETY: `interleave` wrote every slot of every output row (`2 tx >= OW`) of every plane of
    // the `count` images, so all of `slots` is written.
    unsafe { &mut *(std::ptr::from_mut(slots) as *mut [T]) }
}

/// `out[2j] = left[j]`, `out[2j + 1] = right[j]` for every slot of `out` (`left` and `right`
/// hold at least `ceil(out.len() / 2)` values).
#[inline(always)]
fn interleave<T: Elem>(out: &mut [MaybeUninit<T>], left: &[T], right: &[T]) {
    let pairs = out.len() / 2;
    let (body, tail) = out.split_at_mut(2 * pairs);
    let (l, r) = (&left[..pairs], &right[..pairs]);
    for j in 0..pairs {
        body[2 * j].write(l[j]);
        body[2 * j + 1].write(r[j]);
    }
    if let Some(last) = tail.first_mut() {
        last.write(left[pairs]);
    }
}

/// `Bᵀ d B` for a row-major 4x4 `d`, with `Bᵀ = [[1,0,-1,0], [0,1,1,0], [0,-1,1,0], [0,1,0,-1]]`.
#[cfg(test)]
fn patch_transform<T: Elem>(d: &[T; 16]) -> [T; 16] {
    let bt = |a: T, b: T, c: T, e: T| [a - c, b + c, c - b, b - e];
    let mut rows = [T::ZERO; 16];
    for col in 0..4 {
        let r = bt(d[col], d[4 + col], d[8 + col], d[12 + col]);
        for (i, v) in r.into_iter().enumerate() {
            rows[4 * i + col] = v;
        }
    }
    let mut out = [T::ZERO; 16];
    for row in 0..4 {
        let r = &rows[4 * row..][..4];
        out[4 * row..][..4].copy_from_slice(&bt(r[0], r[1], r[2], r[3]));
    }
    out
}

/// `G g Gᵀ` for a row-major 3x3 `g`, with `G = [[1,0,0], [½,½,½], [½,-½,½], [0,0,1]]`.
pub(super) fn kernel_transform<T: Elem>(g: &[T; 9]) -> [T; 16] {
    let half = T::from_f64(0.5);
    let gm = |a: T, b: T, c: T| [a, (a + b + c) * half, (a - b + c) * half, c];
    let mut rows = [T::ZERO; 12];
    for col in 0..3 {
        let r = gm(g[col], g[3 + col], g[6 + col]);
        for (i, v) in r.into_iter().enumerate() {
            rows[3 * i + col] = v;
        }
    }
    let mut out = [T::ZERO; 16];
    for row in 0..4 {
        let r = &rows[3 * row..][..3];
        out[4 * row..][..4].copy_from_slice(&gm(r[0], r[1], r[2]));
    }
    out
}

/// `Aᵀ m A` for a row-major 4x4 `m`, with `Aᵀ = [[1,1,1,0], [0,1,-1,-1]]`: the 2x2 tile.
#[cfg(test)]
fn output_transform<T: Elem>(m: &[T; 16]) -> [T; 4] {
    let at = |a: T, b: T, c: T, d: T| [a + b + c, b - c - d];
    let mut rows = [T::ZERO; 8];
    for col in 0..4 {
        let r = at(m[col], m[4 + col], m[8 + col], m[12 + col]);
        rows[col] = r[0];
        rows[4 + col] = r[1];
    }
    let top = at(rows[0], rows[1], rows[2], rows[3]);
    let bottom = at(rows[4], rows[5], rows[6], rows[7]);
    [top[0], top[1], bottom[0], bottom[1]]
}

/// `A e Aᵀ` for a row-major 2x2 `e`, with `A = [[1,0], [1,1], [1,-1], [0,-1]]`.
#[cfg(test)]
fn output_grad_transform<T: Elem>(e: &[T; 4]) -> [T; 16] {
    let a = |p: T, q: T| [p, p + q, p - q, T::ZERO - q];
    let (top, bottom) = (a(e[0], e[1]), a(e[2], e[3]));
    let mut out = [T::ZERO; 16];
    for col in 0..4 {
        let r = a(top[col], bottom[col]);
        for (i, v) in r.into_iter().enumerate() {
            out[4 * i + col] = v;
        }
    }
    out
}

/// `Gᵀ m G` for a row-major 4x4 `m`: the 3x3 weight-gradient kernel.
pub(super) fn kernel_from_transformed<T: Elem>(m: &[T; 16]) -> [T; 9] {
    let half = T::from_f64(0.5);
    let gt = |a: T, b: T, c: T, d: T| {
        let s = (b + c) * half;
        [a + s, (b - c) * half, s + d]
    };
    let mut rows = [T::ZERO; 12];
    for col in 0..4 {
        let r = gt(m[col], m[4 + col], m[8 + col], m[12 + col]);
        for (i, v) in r.into_iter().enumerate() {
            rows[4 * i + col] = v;
        }
    }
    let mut out = [T::ZERO; 9];
    for row in 0..3 {
        let r = &rows[4 * row..][..4];
        out[3 * row..][..3].copy_from_slice(&gt(r[0], r[1], r[2], r[3]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transforms_reproduce_a_one_tile_convolution() {
        // One 4x4 patch and one 3x3 kernel: Aᵀ ((G g Gᵀ) ⊙ (Bᵀ d B)) A is the 2x2 valid output.
        let d: [f64; 16] = std::array::from_fn(|i| (i * i % 7) as f64 - 2.0);
        let g: [f64; 9] = std::array::from_fn(|i| (i % 4) as f64 * 0.5 - 0.25);
        let (u, v) = (kernel_transform(&g), patch_transform(&d));
        let y = output_transform(&std::array::from_fn(|i| u[i] * v[i]));
        for (a, b) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let want: f64 = (0..9).map(|t| g[t] * d[(a + t / 3) * 4 + b + t % 3]).sum();
            assert!((y[2 * a + b] - want).abs() < 1e-12);
        }
        // And F(3x3, 2x2): Gᵀ ((A e Aᵀ) ⊙ (Bᵀ d B)) G is the 3x3 correlation of d with e.
        let e = [0.5, -1.0, 2.0, 0.25];
        let w = kernel_from_transformed(&std::array::from_fn(|i| {
            output_grad_transform(&e)[i] * v[i]
        }));
        for (t, &got) in w.iter().enumerate() {
            let (i, j) = (t / 3, t % 3);
            let want: f64 = (0..4).map(|q| e[q] * d[(i + q / 2) * 4 + j + q % 2]).sum();
            assert!((got - want).abs() < 1e-12, "tap {t}: {got} != {want}");
        }
    }
}
