//! Sums over a plane written so the compiler vectorises them: 16 independent partial sums in the
//! element type (a single f64 running sum is one dependent add per element, four times slower),
//! combined in f64 at the end. A plane holds at most a few tens of thousands of values, so 16
//! f32 partials lose nothing measurable against the 1e-4 tolerance the tests hold.

use multiversion::multiversion;

use crate::elem::Elem;

const LANES: usize = 16;

/// Values summed into the lanes before they are folded into the f64 totals: a plane of up to
/// 64K values (every plane cxr makes) is summed exactly as on its own, and many small planes of
/// one channel (4x4 at ResNet's last stage) share one fold instead of paying one per plane.
const FLUSH: usize = 1 << 16;

/// `sum f(a[i], b[i], c[i])` over three slices of equal length.
#[inline]
pub(crate) fn sum3<T: Elem>(a: &[T], b: &[T], c: &[T], f: impl Fn(T, T, T) -> T) -> f64 {
    sum3_runs([(a, b, c)], f)
}

/// `sum f(a[i], b[i], c[i])` over every run of three equal-length slices.
#[inline]
pub(crate) fn sum3_runs<'a, T: Elem + 'a>(
    runs: impl IntoIterator<Item = (&'a [T], &'a [T], &'a [T])>,
    f: impl Fn(T, T, T) -> T,
) -> f64 {
    let (total, _) = sum3_pair_runs(runs, f, |_, _, _| T::ZERO);
    total
}

/// `(sum f(a[i], b[i], c[i]), sum h(a[i], b[i], c[i]))` over every run of three equal-length
/// slices, in one pass and one set of lanes. Compiled
/// for AVX2 and SSE4.2 too, chosen at run time (as every kernel loop: see `lib.rs`).
#[multiversion(targets = "simd")]
pub(crate) fn sum3_pair_runs<'a, T: Elem + 'a>(
    runs: impl IntoIterator<Item = (&'a [T], &'a [T], &'a [T])>,
    f: impl Fn(T, T, T) -> T,
    h: impl Fn(T, T, T) -> T,
) -> (f64, f64) {
    let mut acc_f = [T::ZERO; LANES];
    let mut acc_h = [T::ZERO; LANES];
    let (mut sf, mut sh) = (0.0, 0.0);
    let fold = |acc: &mut [T; LANES], tail: f64| {
        let total = acc.iter().fold(tail, |s, v| s + v.to_f64());
        *acc = [T::ZERO; LANES];
        total
    };
    let mut pending = 0;
    for (a, b, c) in runs {
        let n = a.len().min(b.len()).min(c.len());
        let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
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
        for i in whole..n {
            sf += f(a[i], b[i], c[i]).to_f64();
            sh += h(a[i], b[i], c[i]).to_f64();
        }
        pending += whole;
        if pending >= FLUSH {
            (sf, sh) = (fold(&mut acc_f, sf), fold(&mut acc_h, sh));
            pending = 0;
        }
    }
    (fold(&mut acc_f, sf), fold(&mut acc_h, sh))
}

/// `sum f(a[i])`.
#[inline]
pub(crate) fn sum1<T: Elem>(a: &[T], f: impl Fn(T) -> T) -> f64 {
    sum3(a, a, a, |x, _, _| f(x))
}

/// `sum f(a[i])` over every run.
#[inline]
pub(crate) fn sum1_runs<'a, T: Elem + 'a>(
    runs: impl IntoIterator<Item = &'a [T]>,
    f: impl Fn(T) -> T,
) -> f64 {
    sum3_runs(runs.into_iter().map(|a| (a, a, a)), |x, _, _| f(x))
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

    #[test]
    fn runs_sum_like_their_concatenation_across_flushes() {
        // Runs of every tail length, long enough together to fold the lanes several times.
        let runs: Vec<Vec<f64>> = (0..80)
            .map(|r| {
                (0..(r * 997) % 9000 + r % 17)
                    .map(|i| ((i * 7 + r) % 13) as f64)
                    .collect()
            })
            .collect();
        let all: Vec<f64> = runs.concat();
        assert!(all.len() > 3 * FLUSH);
        let want: f64 = all.iter().sum();
        let want_sq: f64 = all.iter().map(|v| v * v).sum();
        assert_eq!(sum1_runs(runs.iter().map(Vec::as_slice), |v| v), want);
        let pairs = runs
            .iter()
            .map(|r| (r.as_slice(), r.as_slice(), r.as_slice()));
        assert_eq!(
            sum3_pair_runs(pairs, |x, _, _| x, |x, y, _| x * y),
            (want, want_sq)
        );
    }
}
