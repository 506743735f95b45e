//! From stored DICOM pixel values to 8-bit grey levels, in the order PS3.4 (N.2) prescribes:
//!
//! 1. **stored values**: the samples as the file holds them, `BitsStored` significant bits,
//!    two's complement when `PixelRepresentation` is 1;
//! 2. **Modality LUT**: `value = stored * RescaleSlope + RescaleIntercept` (slope 1 and intercept
//!    0 when absent), giving the modality's own units;
//! 3. **VOI**: the values of interest mapped onto 0..=255, chosen by [`DicomWindow`]: the file's
//!    VOI LUT Sequence, else its first Window Center/Width (with its VOI LUT Function: LINEAR,
//!    LINEAR_EXACT or SIGMOID), else the full range of the image; or always the full range; or
//!    a window between two percentiles of the image's values;
//! 4. **MONOCHROME1** images are inverted (`255 - v`) so that bone is bright, as in MONOCHROME2;
//! 5. rounding to the nearest integer grey level.
//!
//! The result is 8-bit, like a PNG, and goes through the same resize and cache. Every stored
//! value is mapped once through a look-up table spanning the image's stored range, so a 12-bit
//! image costs one table of at most 4096 entries and one pass over its pixels.

use crate::error::{DataError, Result};

/// How a DICOM image's values are mapped onto 256 grey levels (`[data] dicom_window`).
///
/// ```toml
/// dicom_window = "file"                          # default
/// dicom_window = "full"
/// dicom_window = { percentiles = [0.5, 99.5] }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DicomWindow {
    /// The window the file carries (VOI LUT Sequence, else the first Window Center/Width),
    /// else the full range of the image: how the modality meant the film to be viewed.
    #[default]
    File,
    /// The full range of the image's values (minimum black, maximum white), ignoring the file.
    Full,
    /// From the lower to the upper percentile (0..=100, numpy's linear interpolation) of the
    /// image's values: robust to a few hot or dead pixels and to burnt-in labels.
    Percentiles([f64; 2]),
}

impl DicomWindow {
    /// True for the default ([`DicomWindow::File`]), which configs leave out when serialised.
    pub fn is_file(&self) -> bool {
        *self == DicomWindow::File
    }

    /// Checks that percentiles lie in 0..=100 with the lower one below the upper one.
    pub fn validate(&self) -> Result<()> {
        if let DicomWindow::Percentiles([lo, hi]) = *self {
            if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi && hi <= 100.0) {
                return Err(DataError::InvalidSetting {
                    setting: "dicom_window",
                    message: format!(
                        "percentiles [{lo}, {hi}] must satisfy 0 <= lower < upper <= 100"
                    ),
                });
            }
        }
        Ok(())
    }

    /// A stable text form for cache keys: `file`, `full`, `percentiles 0.5 99.5`.
    pub fn key(&self) -> String {
        match self {
            DicomWindow::File => "file".into(),
            DicomWindow::Full => "full".into(),
            DicomWindow::Percentiles([lo, hi]) => format!("percentiles {lo} {hi}"),
        }
    }
}

impl std::str::FromStr for DicomWindow {
    type Err = DataError;

    /// `file`, `full`, or two percentiles `LOWER,UPPER` (e.g. `0.5,99.5`): the command-line form.
    fn from_str(s: &str) -> Result<Self> {
        let window = match s.trim() {
            "file" => DicomWindow::File,
            "full" => DicomWindow::Full,
            other => {
                let bounds: Option<Vec<f64>> = other
                    .split(',')
                    .map(|p| p.trim().parse::<f64>().ok())
                    .collect();
                match bounds.as_deref() {
                    Some(&[lo, hi]) => DicomWindow::Percentiles([lo, hi]),
                    _ => {
                        return Err(DataError::InvalidSetting {
                            setting: "dicom_window",
                            message: format!(
                                "{other:?} is not file, full or two percentiles LOWER,UPPER (e.g. 0.5,99.5)"
                            ),
                        })
                    }
                }
            }
        };
        window.validate()?;
        Ok(window)
    }
}

/// The VOI LUT Function of a window (PS3.3 C.11.2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowFunction {
    /// `LINEAR` (the default), defined on `width - 1`.
    Linear,
    /// `LINEAR_EXACT`.
    LinearExact,
    /// `SIGMOID`.
    Sigmoid,
}

/// A VOI transformation of modality values onto 0..=255.
#[derive(Debug, Clone, PartialEq)]
pub enum Voi {
    /// Window Center/Width with its function.
    Window {
        /// Window Center.
        center: f64,
        /// Window Width.
        width: f64,
        /// VOI LUT Function.
        function: WindowFunction,
    },
    /// A VOI LUT: modality values at or below `first` take `data[0]`, each next value the next
    /// entry, values past the end the last one; entries span `bits` bits.
    Lut {
        /// First value mapped (the LUT Descriptor's second number).
        first: i32,
        /// Significant bits of the entries.
        bits: u8,
        /// The entries.
        data: Vec<u16>,
    },
    /// Linear from `lo` (black) to `hi` (white).
    Range {
        /// Mapped to 0.
        lo: f64,
        /// Mapped to 255.
        hi: f64,
    },
}

impl Voi {
    /// The grey level (0..=255, not yet rounded) of modality value `x`.
    pub fn apply(&self, x: f64) -> f64 {
        match self {
            Voi::Window {
                center,
                width,
                function,
            } => window(x, *center, *width, *function),
            Voi::Lut { first, bits, data } => {
                let last = data.len().saturating_sub(1) as f64;
                let i = (x.round() - f64::from(*first)).clamp(0.0, last) as usize;
                let top = ((1u32 << (*bits).clamp(1, 16)) - 1) as f64;
                data.get(i).map_or(0.0, |&v| f64::from(v) / top * 255.0)
            }
            Voi::Range { lo, hi } => {
                if hi > lo {
                    (x - lo) / (hi - lo) * 255.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT, SIGMOID) with output range 0..=255.
/// A LINEAR width below 1 is meaningless (the function divides by `width - 1`), so such windows
/// use LINEAR_EXACT, as dicom-rs does.
fn window(x: f64, c: f64, w: f64, function: WindowFunction) -> f64 {
    match function {
        WindowFunction::Linear if w >= 1.0 => {
            if x <= c - 0.5 - (w - 1.0) / 2.0 {
                0.0
            } else if x > c - 0.5 + (w - 1.0) / 2.0 {
                255.0
            } else {
                ((x - (c - 0.5)) / (w - 1.0) + 0.5) * 255.0
            }
        }
        WindowFunction::Linear | WindowFunction::LinearExact => {
            if w <= 0.0 {
                if x > c {
                    255.0
                } else {
                    0.0
                }
            } else if x <= c - w / 2.0 {
                0.0
            } else if x > c + w / 2.0 {
                255.0
            } else {
                ((x - c) / w + 0.5) * 255.0
            }
        }
        WindowFunction::Sigmoid => {
            255.0 / (1.0 + (-4.0 * (x - c) / w.max(f64::MIN_POSITIVE)).exp())
        }
    }
}

/// Where the VOI of an image comes from, once [`DicomWindow`] has been applied to the file.
#[derive(Debug, Clone, PartialEq)]
pub enum VoiChoice {
    /// A transformation given by the file.
    File(Voi),
    /// The full range of the image's modality values.
    Full,
    /// Between two percentiles of the image's modality values.
    Percentiles([f64; 2]),
}

/// Steps 2-5 of the pipeline for one image: `stored` samples (already sign-extended) to 8-bit
/// grey levels.
#[derive(Debug, Clone, PartialEq)]
pub struct GreyMapping {
    /// Rescale Slope.
    pub slope: f64,
    /// Rescale Intercept.
    pub intercept: f64,
    /// The VOI.
    pub voi: VoiChoice,
    /// MONOCHROME1: invert after the VOI.
    pub invert: bool,
}

impl GreyMapping {
    /// Maps every stored sample to its grey level.
    pub fn apply(&self, stored: &[i32]) -> Vec<u8> {
        let (Some(&min), Some(&max)) = (stored.iter().min(), stored.iter().max()) else {
            return Vec::new();
        };
        let modality = |s: i32| self.slope * f64::from(s) + self.intercept;
        let voi = match &self.voi {
            VoiChoice::File(voi) => voi.clone(),
            VoiChoice::Full => {
                let (a, b) = (modality(min), modality(max));
                Voi::Range {
                    lo: a.min(b),
                    hi: a.max(b),
                }
            }
            VoiChoice::Percentiles([lo, hi]) => {
                let hist = histogram(stored, min, max);
                Voi::Range {
                    lo: percentile(&hist, min, *lo, self.slope, self.intercept),
                    hi: percentile(&hist, min, *hi, self.slope, self.intercept),
                }
            }
        };
        let lut: Vec<u8> = (min..=max)
            .map(|s| {
                let v = voi.apply(modality(s)).clamp(0.0, 255.0);
                // Inverted before rounding, so MONOCHROME1 rounds halves as MONOCHROME2 does.
                let v = if self.invert { 255.0 - v } else { v };
                v.round() as u8
            })
            .collect();
        stored.iter().map(|&s| lut[(s - min) as usize]).collect()
    }
}

fn histogram(stored: &[i32], min: i32, max: i32) -> Vec<u64> {
    let mut hist = vec![0u64; (max - min) as usize + 1];
    for &s in stored {
        hist[(s - min) as usize] += 1;
    }
    hist
}

/// The `q`-th percentile (0..=100) of the modality values whose stored values are counted in
/// `hist` (from `min` up), interpolated linearly between order statistics as numpy's default.
fn percentile(hist: &[u64], min: i32, q: f64, slope: f64, intercept: f64) -> f64 {
    let n: u64 = hist.iter().sum();
    // Modality values in ascending order: stored ascending, or descending for a negative slope.
    let ascending: Box<dyn Iterator<Item = (usize, &u64)>> = if slope >= 0.0 {
        Box::new(hist.iter().enumerate())
    } else {
        Box::new(hist.iter().enumerate().rev())
    };
    let pos = q / 100.0 * (n.saturating_sub(1)) as f64;
    let (k, frac) = (pos.floor() as u64, pos - pos.floor());
    let (mut lower, mut upper) = (None, None);
    let mut seen = 0u64;
    for (i, &count) in ascending {
        if count == 0 {
            continue;
        }
        let value = slope * f64::from(min + i as i32) + intercept;
        seen += count;
        if lower.is_none() && seen > k {
            lower = Some(value);
        }
        if seen > k + 1 {
            upper = Some(value);
            break;
        }
    }
    let lower = lower.unwrap_or(intercept);
    lower + frac * (upper.unwrap_or(lower) - lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(voi: VoiChoice) -> GreyMapping {
        GreyMapping {
            slope: 1.0,
            intercept: 0.0,
            voi,
            invert: false,
        }
    }

    #[test]
    fn linear_window_follows_the_standard() {
        // PS3.3 C.11.2.1.2.1 with c = 2048, w = 4096 on 12-bit values: 0 and 4095 are the ends,
        // c - 0.5 is mid-grey.
        let m = mapping(VoiChoice::File(Voi::Window {
            center: 2048.0,
            width: 4096.0,
            function: WindowFunction::Linear,
        }));
        assert_eq!(
            m.apply(&[0, 2047, 2048, 4095, 5000, -3]),
            [0, 127, 128, 255, 255, 0]
        );
        // The window that maps 16 * p back to p exactly (c = 2040.5, w = 4081): what the
        // round-trip fixtures write.
        let m = mapping(VoiChoice::File(Voi::Window {
            center: 2040.5,
            width: 4081.0,
            function: WindowFunction::Linear,
        }));
        let stored: Vec<i32> = (0..256).map(|p| p * 16).collect();
        let expected: Vec<u8> = (0..=255).collect();
        assert_eq!(m.apply(&stored), expected);
    }

    #[test]
    fn linear_exact_and_sigmoid() {
        let exact = Voi::Window {
            center: 100.0,
            width: 200.0,
            function: WindowFunction::LinearExact,
        };
        assert_eq!(exact.apply(0.0), 0.0);
        assert_eq!(exact.apply(100.0), 127.5);
        assert_eq!(exact.apply(200.0), 255.0);
        let sigmoid = Voi::Window {
            center: 100.0,
            width: 200.0,
            function: WindowFunction::Sigmoid,
        };
        assert_eq!(sigmoid.apply(100.0), 127.5);
        // 255 / (1 + e^-2) at one half-width above the centre.
        assert!((sigmoid.apply(200.0) - 224.6032).abs() < 1e-3);
    }

    #[test]
    fn rescale_then_full_range_then_inversion() {
        // stored 10..=20, slope -2: modality -20..=-40; full range maps -40 to 0, so stored 20
        // is black before inversion and white after (15 is 127.5, inverted to 127.5, then
        // rounded half away from zero as MONOCHROME2 would be).
        let m = GreyMapping {
            slope: -2.0,
            intercept: 0.0,
            voi: VoiChoice::Full,
            invert: true,
        };
        assert_eq!(m.apply(&[10, 15, 20]), [0, 128, 255]);
        let flat = mapping(VoiChoice::Full);
        assert_eq!(flat.apply(&[7, 7]), [0, 0], "a constant image is black");
    }

    #[test]
    fn percentiles_match_numpy() {
        // numpy.percentile(np.r_[np.arange(101), 1000], [5, 95, 100]) == [5.05, 95.95, 1000]:
        // the hot pixel moves the maximum, not the 95th percentile.
        let mut stored: Vec<i32> = (0..=100).collect();
        stored.push(1000);
        let hist = histogram(&stored, 0, 1000);
        assert!((percentile(&hist, 0, 5.0, 1.0, 0.0) - 5.05).abs() < 1e-9);
        assert!((percentile(&hist, 0, 95.0, 1.0, 0.0) - 95.95).abs() < 1e-9);
        assert_eq!(percentile(&hist, 0, 100.0, 1.0, 0.0), 1000.0);
        assert_eq!(percentile(&hist, 0, 0.0, 1.0, 0.0), 0.0);
        // A negative slope reverses the order: the 0th percentile is the largest stored value.
        assert_eq!(percentile(&hist, 0, 0.0, -1.0, 0.0), -1000.0);
        let m = mapping(VoiChoice::Percentiles([5.0, 95.0]));
        let out = m.apply(&stored);
        // (50 - 5.05) / (95.95 - 5.05) * 255 = 126.1
        assert_eq!((out[0], out[50], out[101]), (0, 126, 255));
    }

    #[test]
    fn voi_lut_uses_its_significant_bits() {
        let lut = Voi::Lut {
            first: 100,
            bits: 12,
            data: vec![0, 4095],
        };
        assert_eq!(lut.apply(50.0), 0.0);
        assert_eq!(lut.apply(101.0), 255.0);
        assert_eq!(lut.apply(9999.0), 255.0);
    }

    #[test]
    fn window_settings_validate_and_key() {
        assert!(DicomWindow::Percentiles([0.5, 99.5]).validate().is_ok());
        let bad = DicomWindow::Percentiles([50.0, 10.0]).validate();
        assert!(bad
            .err()
            .is_some_and(|e| e.to_string().contains("dicom_window")));
        assert_eq!(
            DicomWindow::Percentiles([0.5, 99.5]).key(),
            "percentiles 0.5 99.5"
        );
        assert!(DicomWindow::default().is_file());
        assert_eq!("full".parse::<DicomWindow>().ok(), Some(DicomWindow::Full));
        assert_eq!(
            "1, 99".parse::<DicomWindow>().ok(),
            Some(DicomWindow::Percentiles([1.0, 99.0]))
        );
        assert!("99,1".parse::<DicomWindow>().is_err());
        assert!("auto".parse::<DicomWindow>().is_err());
    }
}
