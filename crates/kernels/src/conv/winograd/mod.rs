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

use rayon::prelude::*;

use super::forward::{apply, Epilogue};
use super::group::Plan;
use crate::elem::{scratch, zeros, Elem};
use crate::im2col::ConvGeometry;
use crate::matmul::{matmul, Mat};
use transforms::{
    kernel_from_transformed, kernel_transform, transform_output_grads, transform_patches,
    write_outputs,
};

mod transforms;

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
}
