//! Winograd F(2x2, 3x3) for stride-1 3x3 convolutions (Lavin and Gray, "Fast Algorithms for
//! Convolutional Neural Networks", 2016), all three passes. At 128 px these are the 3x3
//! convolutions of ResNet's first three stages (64% of ResNet18's multiply-adds; the fourth
//! stage's 4x4 maps stay with im2col, see [`MIN_TILES`]) and the CNN's last three layers.
//!
//! Each 2x2 block of output pixels (a *tile*) needs a 4x4 patch of the input. Transformed, a
//! patch `d` becomes `V = Bᵀ d B` and a 3x3 kernel `g` becomes `U = G g Gᵀ` (both 4x4); the
//! tile's output is `Aᵀ (Σ_c U ⊙ V) A`. The sum over input channels of the 16 elementwise
//! products is 16 GEMMs, `M[ξ] (Cout, T) = U[ξ] (Cout, Cin) * V[ξ] (Cin, T)` over `T` tiles:
//! 16 multiplications per tile and channel pair where im2col's GEMM does 36, so 2.25 times fewer.
//!
//! - forward: as above;
//! - input gradient: the same convolution of the output gradient with the kernel flipped and its
//!   channels swapped, padding `2 - p` (which makes it "full" for `p = 0`, "same" for `p = 1`);
//! - weight gradient: `dW = Gᵀ (Σ_tiles (A e Aᵀ) ⊙ (Bᵀ d B)) G` for the 2x2 output-gradient tile
//!   `e` and input patch `d` (F(3x3, 2x2), the same trilinear form read another way), so the sum
//!   over tiles is again 16 GEMMs, `Mw[ξ] (Cout, Cin) += E[ξ] (Cout, T) * V[ξ]ᵀ (T, Cin)`,
//!   summed in the transformed domain and transformed back once.
//!
//! The transforms only add, subtract and halve, so the results differ from im2col's in rounding
//! only (the tests bound it). Set `CXR_WINOGRAD=0` to compute these convolutions by im2col
//! instead (the results of cxr before Winograd, bit for bit).

use std::mem::MaybeUninit;
use std::sync::OnceLock;

use multiversion::multiversion;
use rayon::prelude::*;

use super::forward::{apply, Epilogue};
use super::group::Plan;
use crate::elem::{scratch, zeros, Elem};
use crate::im2col::ConvGeometry;
use crate::matmul::{matmul, Mat};

/// Tiles per GEMM at least (images are grouped until their tiles reach it): wide enough that
/// packing `U[ξ]` is paid over many columns, small enough that a group's `V` and `M` (16 x
/// channels x tiles each) stay near the core's cache.
const TARGET_TILES: usize = 256;

/// The distance between two of the 16 transformed matrices of `len` values: one cache line more
/// than `len`, so that the 16 runs a transform writes (and the output transform reads) side by
/// side do not all fall in the same cache set, as they do when `len` is a multiple of 4 KiB
/// (ResNet's layers: measured at a third of the transforms' time).
fn spaced(len: usize) -> usize {
    len + 16
}

/// Fewest tiles per image for Winograd to pay: below it (ResNet's last stage at 128 px, 2x2
/// tiles of a 4x4 map) the 16 GEMMs are too narrow for their packed operands and im2col's one
/// deep GEMM is faster (`cargo run --release -p cxr-kernels --example conv_layers`).
const MIN_TILES: usize = 16;

/// Whether `g` is computed here: 3x3, stride 1, padding at most 2, at least [`MIN_TILES`]
/// tiles per image, and not switched off.
pub(super) fn applies(g: &ConvGeometry) -> bool {
    g.kh == 3
        && g.kw == 3
        && g.stride == 1
        && g.padding <= 2
        && Tiles::new(g).per_image() >= MIN_TILES
        && enabled()
}

/// `CXR_WINOGRAD=0` (read once) switches Winograd off.
fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("CXR_WINOGRAD").map_or(true, |v| v.trim() != "0"))
}

/// Where the tiles of one image lie: `ty x tx` tiles of 2x2 output pixels, tile `(i, j)` reading
/// the input patch whose top-left corner is `(2i - p, 2j - p)`.
#[derive(Clone, Copy)]
struct Tiles {
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    pad: usize,
    ty: usize,
    tx: usize,
}

impl Tiles {
    fn new(g: &ConvGeometry) -> Self {
        let (oh, ow) = (g.oh(), g.ow());
        Self {
            h: g.h,
            w: g.w,
            oh,
            ow,
            pad: g.padding,
            ty: oh.div_ceil(2),
            tx: ow.div_ceil(2),
        }
    }

    fn per_image(&self) -> usize {
        self.ty * self.tx
    }
}

/// The forward pass: the convolution of `x` with `w` (`Cout` rows of `w_ld` values, the first
/// `Cin * 9` used), then `epilogue`, written once into a fresh vector.
pub(super) fn forward<T: Elem>(
    g: &ConvGeometry,
    x: &[T],
    w: &[T],
    w_ld: usize,
    epilogue: Epilogue<'_, T>,
) -> Vec<T> {
    let u = transform_kernels(g.c_out, g.c_in, |k, c| {
        let taps = &w[k * w_ld + c * 9..][..9];
        std::array::from_fn(|t| taps[t])
    });
    convolve(g, x, &u, epilogue)
}

/// The input gradient: `dy` convolved with the flipped, channel-swapped kernel, padding `2 - p`.
pub(super) fn input_grad<T: Elem>(g: &ConvGeometry, w: &[T], dy: &[T]) -> Vec<T> {
    let back = ConvGeometry {
        n: g.n,
        c_in: g.c_out,
        h: g.oh(),
        w: g.ow(),
        c_out: g.c_in,
        kh: 3,
        kw: 3,
        stride: 1,
        padding: 2 - g.padding,
    };
    debug_assert_eq!((back.oh(), back.ow()), (g.h, g.w));
    let u = transform_kernels(g.c_in, g.c_out, |ci, co| {
        let taps = &w[(co * g.c_in + ci) * 9..][..9];
        std::array::from_fn(|t| taps[8 - t])
    });
    convolve(&back, dy, &u, Epilogue::NONE)
}

/// The weight gradient `(Cout, Cin, 3, 3)` from the input and the output gradient.
pub(super) fn weight_grad<T: Elem>(g: &ConvGeometry, x: &[T], dy: &[T]) -> Vec<T> {
    let tiles = Tiles::new(g);
    let plan = Plan::grouping(g.n, tiles.per_image(), TARGET_TILES);
    let (c_in, c_out) = (g.c_in, g.c_out);
    let init = || vec![T::ZERO; 16 * c_out * c_in];
    let partials = plan.fold_tasks(g.n, init, |mw, first, count, v_buf, e_buf| {
        let t = count * tiles.per_image();
        let x = &x[first * g.in_image()..][..count * g.in_image()];
        let dy = &dy[first * g.out_image()..][..count * g.out_image()];
        let v = scratch(v_buf, 16 * spaced(c_in * t));
        transform_patches(&tiles, x, c_in, count, v);
        let e = scratch(e_buf, 16 * spaced(c_out * t));
        transform_output_grads(&tiles, dy, c_out, count, e);
        for xi in 0..16 {
            matmul(
                &mut mw[xi * c_out * c_in..][..c_out * c_in],
                c_in,
                Mat::rows(&e[xi * spaced(c_out * t)..][..c_out * t], c_out, t, t),
                Mat::rows(&v[xi * spaced(c_in * t)..][..c_in * t], c_in, t, t).t(),
                true,
            );
        }
    });
    // dW[k][c] = Gᵀ (Σ_tasks Mw[·][k][c]) G, a block of output channels per rayon task.
    let mut dw = zeros(c_out * c_in * 9);
    let pairs = c_out * c_in;
    dw.par_chunks_mut(9 * c_in.max(1))
        .enumerate()
        .for_each(|(k, out)| {
            for c in 0..c_in {
                let pair = k * c_in + c;
                let m: [T; 16] = std::array::from_fn(|xi| {
                    partials
                        .iter()
                        .fold(T::ZERO, |acc, part| acc + part[xi * pairs + pair])
                });
                out[c * 9..][..9].copy_from_slice(&kernel_from_transformed(&m));
            }
        });
    dw
}

/// `U = G g Gᵀ` of every `(k, c)` kernel (`taps(k, c)`, row-major 3x3) into 16 matrices
/// `(rows, cols)` back to back: `U[ξ][k][c]`.
fn transform_kernels<T: Elem>(
    rows: usize,
    cols: usize,
    taps: impl Fn(usize, usize) -> [T; 9] + Sync,
) -> Vec<T> {
    let pairs = rows * cols;
    let mut u = Vec::with_capacity(16 * pairs);
    let slots = &mut u.spare_capacity_mut()[..16 * pairs];
    // Each of the 16 matrices cut into its `rows` runs of `cols` slots, and the runs regrouped
    // by row: row `k`'s 16 runs are disjoint from every other row's, so rayon can give each row
    // to a task, which transforms the row's kernels and writes value `ξ` of each to run `ξ`.
    let mut per_xi: Vec<&mut [MaybeUninit<T>]> = slots.chunks_mut(pairs.max(1)).collect();
    let mut rows_of: Vec<Vec<&mut [MaybeUninit<T>]>> = (0..rows).map(|_| Vec::new()).collect();
    for matrix in &mut per_xi {
        for (k, run) in std::mem::take(matrix).chunks_mut(cols.max(1)).enumerate() {
            rows_of[k].push(run);
        }
    }
    rows_of.par_iter_mut().enumerate().for_each(|(k, runs)| {
        for c in 0..cols {
            let t = kernel_transform(&taps(k, c));
            for (xi, run) in runs.iter_mut().enumerate() {
                run[c].write(t[xi]);
            }
        }
    });
    // SAFETY: `rows_of[k]` holds the 16 runs `U[ξ][k][..]` (each matrix cut into `rows` runs of
    // `cols`, so together every one of the `16 * pairs` slots), and the loop wrote each run
    // whole (`c` over all `cols`).
    unsafe { u.set_len(16 * pairs) };
    u
}

/// The output of convolving `x` (`g`'s input) with the transformed kernels `u`, then
/// `epilogue`: per group, `V` of its patches, the 16 GEMMs, and `Aᵀ M A` written to the output.
fn convolve<T: Elem>(g: &ConvGeometry, x: &[T], u: &[T], epilogue: Epilogue<'_, T>) -> Vec<T> {
    let tiles = Tiles::new(g);
    let plan = Plan::grouping(g.n, tiles.per_image(), TARGET_TILES);
    let (c_in, c_out) = (g.c_in, g.c_out);
    let total = g.n * g.out_image();
    let mut out = Vec::with_capacity(total);
    let all = &mut out.spare_capacity_mut()[..total];
    plan.for_each_group(all, g.out_image(), |first, count, slots, v_buf, m_buf| {
        let t = count * tiles.per_image();
        let x = &x[first * g.in_image()..][..count * g.in_image()];
        let v = scratch(v_buf, 16 * spaced(c_in * t));
        transform_patches(&tiles, x, c_in, count, v);
        let m = scratch(m_buf, 16 * spaced(c_out * t));
        for xi in 0..16 {
            matmul(
                &mut m[xi * spaced(c_out * t)..][..c_out * t],
                t,
                Mat::rows(&u[xi * c_out * c_in..][..c_out * c_in], c_out, c_in, c_in),
                Mat::rows(&v[xi * spaced(c_in * t)..][..c_in * t], c_in, t, t),
                false,
            );
        }
        let written = write_outputs(&tiles, m, c_out, count, slots);
        apply(written, g.out_pixels(), c_out, epilogue);
    });
    // SAFETY: the tasks' chunks cover all `total` slots, and `write_outputs` wrote every pixel
    // of every plane of each group's images.
    unsafe { out.set_len(total) };
    out
}

/// `V = Bᵀ d B` of the patch under every tile of `count` images of `x` (`c` planes each) into
/// `v`: 16 matrices `(c, T)` back to back, tile `img * per_image + i * tx + j`.
///
/// A plane at a time, each of the 16 outputs one contiguous pass over all the plane's tiles
/// (short per-row loops were mostly loop overhead at these sizes). Every padded input row `y`
/// is first split four ways, `E[j]`, `O[j]`, `E[j+1]`, `O[j+1]` (columns `2j`, `2j+1`, `2j+2`,
/// `2j+3` of the padded row: tile `j`'s four), stored by the parity of `y` so that rows `2i + a`
/// for `i = 0..ty` are one contiguous run for each `a`.
#[multiversion(targets = "simd")]
fn transform_patches<T: Elem>(tiles: &Tiles, x: &[T], c: usize, count: usize, v: &mut [T]) {
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
fn transform_output_grads<T: Elem>(
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
fn write_outputs<'d, T: Elem>(
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
fn kernel_transform<T: Elem>(g: &[T; 9]) -> [T; 16] {
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
fn kernel_from_transformed<T: Elem>(m: &[T; 16]) -> [T; 9] {
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

    /// The direct definition: `out[n][k][y][x] = Σ_c Σ_ij w[k][c][i][j] x[n][c][y+i-p][x+j-p]`.
    fn direct(g: &ConvGeometry, x: &[f64], w: &[f64]) -> Vec<f64> {
        let (oh, ow) = (g.oh(), g.ow());
        let mut out = vec![0.0; g.n * g.out_image()];
        for n in 0..g.n {
            for k in 0..g.c_out {
                for y in 0..oh {
                    for xo in 0..ow {
                        let mut s = 0.0;
                        for c in 0..g.c_in {
                            for i in 0..3 {
                                for j in 0..3 {
                                    let (iy, ix) = (y + i, xo + j);
                                    if iy < g.padding || ix < g.padding {
                                        continue;
                                    }
                                    let (iy, ix) = (iy - g.padding, ix - g.padding);
                                    if iy >= g.h || ix >= g.w {
                                        continue;
                                    }
                                    s += w[((k * g.c_in + c) * 3 + i) * 3 + j]
                                        * x[((n * g.c_in + c) * g.h + iy) * g.w + ix];
                                }
                            }
                        }
                        out[((n * g.c_out + k) * oh + y) * ow + xo] = s;
                    }
                }
            }
        }
        out
    }

    fn values(len: usize, seed: u64) -> Vec<f64> {
        (0..len)
            .map(|i| {
                let v = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15 ^ seed);
                ((v >> 40) as f64 / (1u64 << 24) as f64) - 0.5
            })
            .collect()
    }

    fn geometry(n: usize, c_in: usize, h: usize, w: usize, c_out: usize, p: usize) -> ConvGeometry {
        ConvGeometry {
            n,
            c_in,
            h,
            w,
            c_out,
            kh: 3,
            kw: 3,
            stride: 1,
            padding: p,
        }
    }

    fn assert_near(what: &str, ours: &[f64], want: &[f64]) {
        assert_eq!(ours.len(), want.len(), "{what}: length");
        for (i, (a, b)) in ours.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
                "{what}[{i}]: {a} != {b}"
            );
        }
    }

    /// Odd and even sides, 1x1 and 2x2 images, every padding, and batches that make a task
    /// group several images.
    const CASES: [(usize, usize, usize, usize, usize, usize); 7] = [
        (1, 1, 4, 4, 1, 0),
        (2, 3, 7, 9, 5, 1),
        (3, 2, 1, 1, 3, 1),
        (5, 4, 2, 3, 2, 1),
        (2, 3, 5, 6, 4, 2),
        (1, 2, 6, 5, 3, 0),
        (9, 3, 4, 4, 6, 1),
    ];

    #[test]
    fn the_forward_pass_is_the_direct_convolution() {
        for (s, &(n, ci, h, w, co, p)) in CASES.iter().enumerate() {
            let g = geometry(n, ci, h, w, co, p);
            let x = values(g.n * g.in_image(), s as u64);
            let wt = values(co * ci * 9, 100 + s as u64);
            let ours = forward(&g, &x, &wt, ci * 9, Epilogue::NONE);
            assert_near(
                &format!("forward {:?}", CASES[s]),
                &ours,
                &direct(&g, &x, &wt),
            );
        }
    }

    /// `<conv(x, w), r>` is bilinear, so its gradients are exact: `dx = conv_inputᵀ r`, `dw` the
    /// sum over pixels. Checked against the direct convolution's adjoint identity
    /// `<conv(x, w), r> = <x, dx> = <w, dw>`, component by component via unit vectors.
    #[test]
    fn the_gradients_are_the_adjoints_of_the_forward_pass() {
        for (s, &(n, ci, h, w, co, p)) in CASES.iter().enumerate() {
            let g = geometry(n, ci, h, w, co, p);
            let x = values(g.n * g.in_image(), s as u64);
            let wt = values(co * ci * 9, 100 + s as u64);
            let r = values(g.n * g.out_image(), 200 + s as u64);
            let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
            let dx = input_grad(&g, &wt, &r);
            let want_dx: Vec<f64> = (0..x.len())
                .map(|i| {
                    let mut unit = vec![0.0; x.len()];
                    unit[i] = 1.0;
                    dot(&direct(&g, &unit, &wt), &r)
                })
                .collect();
            assert_near(&format!("input grad {:?}", CASES[s]), &dx, &want_dx);
            let dw = weight_grad(&g, &x, &r);
            let want_dw: Vec<f64> = (0..wt.len())
                .map(|i| {
                    let mut unit = vec![0.0; wt.len()];
                    unit[i] = 1.0;
                    dot(&direct(&g, &x, &unit), &r)
                })
                .collect();
            assert_near(&format!("weight grad {:?}", CASES[s]), &dw, &want_dw);
        }
    }

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
