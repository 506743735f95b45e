//! Sums over a plane written so the compiler vectorises them: 16 independent partial sums in the
//! element type (a single f64 running sum is one dependent add per element, four times slower),
//! combined in f64 at the end. A plane holds at most a few tens of thousands of values, so 16
//! f32 partials lose nothing measurable against the 1e-4 tolerance the tests hold.

use multiversion::multiversion;

use crate::elem::Elem;

const LANES: usize = 16;

/// `sum f(a[i], b[i], c[i])` over three slices of equal length. Compiled for AVX2 and SSE4.2
/// too, as [`sum3_pair`].
#[multiversion(targets = "simd")]
pub(crate) fn sum3<T: Elem>(a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) -> f64 {
    let n = a.len().min(b.len()).min(c.len());
    let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
    let mut acc = [T::ZERO; LANES];
    let whole = n - n % LANES;
    for ((a, b), c) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
        .zip(c[..whole].chunks_exact(LANES))
    {
        for i in 0..LANES {
            acc[i] += f(a[i], b[i], c[i]);
        }
    }
    let tail = (whole..n).fold(0.0, |s, i| s + f(a[i], b[i], c[i]).to_f64());
    acc.iter().fold(tail, |s, v| s + v.to_f64())
}

/// `(sum f(a[i], b[i], c[i]), sum h(a[i], b[i], c[i]))` in one pass over the three slices.
/// Compiled for AVX2 and SSE4.2 too, chosen at run time (the same sums in the same order, so
/// every version rounds alike).
#[multiversion(targets = "simd")]
pub(crate) fn sum3_pair<T: Elem>(
    a: &[T],
    b: &[T],
    c: &[T],
    f: impl Fn(T, T, T) -> T,
    h: impl Fn(T, T, T) -> T,
) -> (f64, f64) {
    let n = a.len().min(b.len()).min(c.len());
    let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
    let mut acc_f = [T::ZERO; LANES];
    let mut acc_h = [T::ZERO; LANES];
    let whole = n - n % LANES;
    for ((a, b), c) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
        .zip(c[..whole].chunks_exact(LANES))
    {
        for i in 0..LANES {
            acc_f[i] += f(a[i], b[i], c[i]);
            acc_h[i] += h(a[i], b[i], c[i]);
        }
    }
    let (mut sf, mut sh) = (0.0, 0.0);
    for i in whole..n {
        sf += f(a[i], b[i], c[i]).to_f64();
        sh += h(a[i], b[i], c[i]).to_f64();
    }
    let total = |acc: &[T; LANES], tail: f64| acc.iter().fold(tail, |s, v| s + v.to_f64());
    (total(&acc_f, sf), total(&acc_h, sh))
}

/// `sum f(a[i])`.
#[inline]
pub(crate) fn sum1<T: Elem>(a: &[T], f: impl Fn(T) -> T) -> f64 {
    sum3(a, a, a, |x, _, _| f(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_match_a_plain_loop_for_every_tail_length() {
        for n in [0, 1, 15, 16, 17, 100] {
            let a: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
            let want: f64 = a.iter().map(|v| v * v).sum();
            assert_eq!(sum1(&a, |v| v * v), want, "n = {n}");
            let want3: f64 = a.iter().map(|v| v * 2.0 - 1.0).sum();
            assert_eq!(sum3(&a, &a, &a, |x, y, z| x + y - z * 0.0 - 1.0), want3);
        }
    }
}
