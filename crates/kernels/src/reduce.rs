//! Sums over a plane written so the compiler vectorises them: 16 independent partial sums in the
//! element type (a single f64 running sum is one dependent add per element, four times slower),
//! combined in f64 at the end. A plane holds at most a few tens of thousands of values, so 16
//! f32 partials lose nothing measurable against the 1e-4 tolerance the tests hold.

use crate::elem::Elem;

const LANES: usize = 16;

/// `S` sums in one pass over three slices of equal length: sum `j` adds up `f(a[i], b[i],
/// c[i])[j]`. `S` is a constant, so each sum keeps its own `LANES` registers (no loop over it
/// survives the optimiser).
#[inline]
fn sums3<T: Elem, const S: usize>(
    a: &[T],
    b: &[T],
    c: &[T],
    f: impl Fn(T, T, T) -> [T; S],
) -> [f64; S] {
    let n = a.len().min(b.len()).min(c.len());
    let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
    let mut acc = [[T::ZERO; LANES]; S];
    let whole = n - n % LANES;
    for ((a, b), c) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
        .zip(c[..whole].chunks_exact(LANES))
    {
        for i in 0..LANES {
            for (acc, v) in acc.iter_mut().zip(f(a[i], b[i], c[i])) {
                acc[i] += v;
            }
        }
    }
    let mut tail = [0.0; S];
    for i in whole..n {
        for (tail, v) in tail.iter_mut().zip(f(a[i], b[i], c[i])) {
            *tail += v.to_f64();
        }
    }
    std::array::from_fn(|j| acc[j].iter().fold(tail[j], |s, v| s + v.to_f64()))
}

/// `(sum f(a[i], b[i], c[i]), sum h(a[i], b[i], c[i]))` in one pass over the three slices.
#[inline]
pub(crate) fn sum3_pair<T: Elem>(
    a: &[T],
    b: &[T],
    c: &[T],
    f: impl Fn(T, T, T) -> T,
    h: impl Fn(T, T, T) -> T,
) -> (f64, f64) {
    let [sf, sh] = sums3(a, b, c, |x, y, z| [f(x, y, z), h(x, y, z)]);
    (sf, sh)
}

/// `sum f(a[i])`.
#[inline]
pub(crate) fn sum1<T: Elem>(a: &[T], f: impl Fn(T) -> T) -> f64 {
    let [sum] = sums3(a, a, a, |x, _, _| [f(x)]);
    sum
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
            let (sum, sum_twice) =
                sum3_pair(&a, &a, &a, |x, y, z| x + y - z * 0.0 - 1.0, |x, _, _| x + x);
            assert_eq!(sum, want3);
            assert_eq!(sum_twice, 2.0 * a.iter().sum::<f64>(), "n = {n}");
        }
    }
}
