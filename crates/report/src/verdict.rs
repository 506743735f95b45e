//! How a measurement compares with its reference, one enum for the whole crate: a run's test
//! recall against its committed baseline ([`crate::check`]), and a weights source's paired gain
//! against random init ([`crate::transfer`]). Each caller words it for its own table.

/// What a comparison with a reference shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No difference shown: within the check's tolerance, or a gain whose interval contains 0
    /// (no difference beyond the seed spread).
    Ok,
    /// Better than the reference: by more than the tolerance (consider `--update`), or a gain
    /// whose interval lies above 0.
    Improved,
    /// Worse than the reference: micro-recall dropped by more than the tolerance, or a gain
    /// whose interval lies below 0.
    Regressed,
    /// Too few paired seeds (fewer than two) for an interval of the gain.
    TooFewSeeds,
    /// Baselined but not finished.
    Missing,
    /// Baselined but the run failed.
    Failed,
    /// Finished but not in the baseline.
    New,
    /// Not in the baseline, accepted by `--allow-new`.
    NewAllowed,
}

impl Verdict {
    /// The check's verdict on micro-recall `delta` (now minus baseline) with `tolerance`.
    pub fn of_delta(delta: f64, tolerance: f64) -> Self {
        // Baselines store recall to 4 decimals, so a delta within half the last one is the
        // baseline's own rounding, not a change: an exact rerun passes `--tolerance 0` (it
        // printed "-0.0000 REGRESSED"), and a drop of exactly the tolerance as printed passes.
        const ROUNDING: f64 = 0.5e-4;
        if delta.is_nan() || delta < -tolerance - ROUNDING {
            Self::Regressed
        } else if delta > tolerance + ROUNDING {
            Self::Improved
        } else {
            Self::Ok
        }
    }

    /// The verdict of a paired gain's interval (`None` for fewer than two paired seeds).
    pub fn of_interval(interval: Option<(f64, f64)>) -> Self {
        match interval {
            None => Self::TooFewSeeds,
            Some((lo, _)) if lo > 0.0 => Self::Improved,
            Some((_, hi)) if hi < 0.0 => Self::Regressed,
            Some(_) => Self::Ok,
        }
    }

    /// Whether this verdict fails the regression check.
    pub fn fails(self) -> bool {
        matches!(
            self,
            Self::Regressed | Self::Missing | Self::Failed | Self::New
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_and_intervals_give_the_same_three_verdicts() {
        assert_eq!(Verdict::of_delta(-0.02, 0.02), Verdict::Ok);
        assert_eq!(Verdict::of_delta(-0.021, 0.02), Verdict::Regressed);
        // An exact rerun against a baseline rounded to 4 decimals (0.56666.. stored as 0.5667).
        assert_eq!(Verdict::of_delta(0.566_666_7 - 0.5667, 0.0), Verdict::Ok);
        assert_eq!(Verdict::of_delta(0.5666 - 0.5667, 0.0), Verdict::Regressed);
        assert_eq!(Verdict::of_delta(0.5668 - 0.5667, 0.0), Verdict::Improved);
        assert_eq!(Verdict::of_delta(f64::NAN, 0.02), Verdict::Regressed);
        assert_eq!(Verdict::of_delta(0.03, 0.02), Verdict::Improved);
        assert_eq!(Verdict::of_interval(None), Verdict::TooFewSeeds);
        assert_eq!(Verdict::of_interval(Some((0.01, 0.2))), Verdict::Improved);
        assert_eq!(
            Verdict::of_interval(Some((-0.2, -0.01))),
            Verdict::Regressed
        );
        assert_eq!(Verdict::of_interval(Some((-0.1, 0.1))), Verdict::Ok);
        assert!(!Verdict::TooFewSeeds.fails() && Verdict::New.fails());
    }
}
