//! A mean over seeds with its 95% Student-t interval: the transfer and classic-head tables'
//! numbers, and how `report.md` writes them.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::stats::{mean, std_dev};

/// A mean over seeds with its 95% t-interval (`None` for fewer than two seeds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Mean over seeds.
    pub mean: f64,
    /// 95% interval of the mean.
    pub interval: Option<(f64, f64)>,
}

impl Estimate {
    /// The mean of `values` and its 95% Student-t interval.
    pub fn of(values: &[f64]) -> Self {
        let m = mean(values);
        let interval = (values.len() >= 2).then(|| {
            let n = values.len() as f64;
            let half = t_975(values.len() - 1) * std_dev(values) / n.sqrt();
            (m - half, m + half)
        });
        Self { mean: m, interval }
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (12.706 for 1, 4.303 for 2).
fn t_975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
}

impl Estimate {
    /// `value (low to high)`, or the value alone without an interval; `signed` writes a `+`
    /// on positive numbers (a gain).
    pub fn text(&self, signed: bool) -> String {
        let v = |x: f64| {
            if signed {
                format!("{x:+.3}")
            } else {
                format!("{x:.3}")
            }
        };
        match self.interval {
            Some((lo, hi)) => format!("{} ({} to {})", v(self.mean), v(lo), v(hi)),
            None => v(self.mean),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_matches_the_tables() {
        assert!((t_975(1) - 12.706).abs() < 1e-3);
        assert!((t_975(2) - 4.303).abs() < 1e-3);
        let e = Estimate::of(&[0.1, 0.2, 0.3]);
        let (lo, hi) = e.interval.unwrap_or_default();
        // mean 0.2, sd 0.1, half-width 4.303 * 0.1 / sqrt(3) = 0.2484
        assert!((e.mean - 0.2).abs() < 1e-12);
        assert!((hi - 0.2 - 0.2484).abs() < 1e-3 && (0.2 - lo - 0.2484).abs() < 1e-3);
        assert_eq!(Estimate::of(&[0.5]).interval, None);
    }

    #[test]
    fn text_writes_the_interval_when_there_is_one() {
        let e = Estimate {
            mean: 0.05,
            interval: Some((-0.01, 0.11)),
        };
        assert_eq!(e.text(true), "+0.050 (-0.010 to +0.110)");
        assert_eq!(e.text(false), "0.050 (-0.010 to 0.110)");
        let one = Estimate {
            mean: 0.5,
            interval: None,
        };
        assert_eq!(one.text(false), "0.500");
    }
}
