//! Seeded training-time augmentation: small rotation, random resized crop, brightness/contrast.
//!
//! Off by default (the reference study trained without it). Rotation and crop are one affine map
//! sampled bilinearly, so an image is resampled once, not twice.

use crate::error::{DataError, Result};

/// Augmentation strengths; all draws are uniform in the stated ranges.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Augment {
    /// Rotation angle drawn from [-rotation_deg, rotation_deg] degrees.
    pub rotation_deg: f32,
    /// Crop area as a fraction of the image, drawn from [crop_scale_min, 1]; aspect ratio from
    /// [3/4, 4/3]. The crop is resized back to the full image.
    pub crop_scale_min: f32,
    /// Brightness factor drawn from [1 - brightness, 1 + brightness].
    pub brightness: f32,
    /// Contrast factor drawn from [1 - contrast, 1 + contrast], around the image mean.
    pub contrast: f32,
}

impl Default for Augment {
    fn default() -> Self {
        Self {
            rotation_deg: 7.0,
            crop_scale_min: 0.85,
            brightness: 0.1,
            contrast: 0.1,
        }
    }
}

impl Augment {
    /// Checks each strength against its allowed range.
    pub fn validate(&self) -> Result<()> {
        let check = |setting: &'static str, v: f32, lo: f32, hi: f32| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(DataError::InvalidSetting {
                    setting,
                    message: format!("{v} is outside {lo}..={hi}"),
                })
            }
        };
        check("augment.rotation_deg", self.rotation_deg, 0.0, 45.0)?;
        check("augment.crop_scale_min", self.crop_scale_min, 0.1, 1.0)?;
        check("augment.brightness", self.brightness, 0.0, 0.9)?;
        check("augment.contrast", self.contrast, 0.0, 0.9)
    }

    /// Augments one `size` x `size` 8-bit image into [0, 1] floats.
    pub fn apply(&self, src: &[u8], size: usize, rng: &mut impl rand::Rng) -> Vec<f32> {
        let s = size as f32;
        let angle = rng.random_range(-1.0..=1.0) * self.rotation_deg.to_radians();
        let area = rng.random_range(self.crop_scale_min..=1.0);
        let log_ratio = rng.random_range((0.75f32).ln()..=(4.0f32 / 3.0).ln());
        let ratio = log_ratio.exp();
        let cw = (s * (area * ratio).sqrt()).min(s);
        let ch = (s * (area / ratio).sqrt()).min(s);
        let cx = rng.random_range(cw / 2.0..=s - cw / 2.0);
        let cy = rng.random_range(ch / 2.0..=s - ch / 2.0);
        let brightness = 1.0 + rng.random_range(-1.0..=1.0) * self.brightness;
        let contrast = 1.0 + rng.random_range(-1.0..=1.0) * self.contrast;
        let (sin, cos) = angle.sin_cos();
        let mut out = Vec::with_capacity(size * size);
        for y in 0..size {
            for x in 0..size {
                let u = ((x as f32 + 0.5) / s - 0.5) * cw;
                let v = ((y as f32 + 0.5) / s - 0.5) * ch;
                let sx = cx + cos * u - sin * v - 0.5;
                let sy = cy + sin * u + cos * v - 0.5;
                out.push(bilinear(src, size, sx, sy));
            }
        }
        let mean = out.iter().sum::<f32>() / out.len().max(1) as f32;
        for p in &mut out {
            *p = (((*p - mean) * contrast + mean) * brightness).clamp(0.0, 1.0);
        }
        out
    }
}

/// Bilinear sample at pixel-centre coordinates (x, y); zero outside the image.
fn bilinear(src: &[u8], size: usize, x: f32, y: f32) -> f32 {
    let x0 = x.floor();
    let y0 = y.floor();
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f32, yi: f32| -> f32 {
        if xi < 0.0 || yi < 0.0 || xi >= size as f32 || yi >= size as f32 {
            0.0
        } else {
            f32::from(src[yi as usize * size + xi as usize]) / 255.0
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, Stream};

    #[test]
    fn zero_strength_is_identity_and_draws_are_seeded() {
        let src: Vec<u8> = (0..64u32 * 64).map(|i| (i * 7 % 251) as u8).collect();
        let none = Augment {
            rotation_deg: 0.0,
            crop_scale_min: 1.0,
            brightness: 0.0,
            contrast: 0.0,
        };
        // With every strength at zero only the aspect-ratio draw of the crop remains, a mild
        // stretch: the mean intensity must survive it.
        let out = none.apply(&src, 64, &mut seed::rng(0, Stream::Augment));
        let mean_in = src.iter().map(|&v| f32::from(v) / 255.0).sum::<f32>() / src.len() as f32;
        let mean_out = out.iter().sum::<f32>() / out.len() as f32;
        assert!((mean_in - mean_out).abs() < 0.05, "{mean_in} vs {mean_out}");

        let aug = Augment::default();
        let a = aug.apply(&src, 64, &mut seed::rng(1, Stream::Augment));
        let b = aug.apply(&src, 64, &mut seed::rng(1, Stream::Augment));
        let c = aug.apply(&src, 64, &mut seed::rng(2, Stream::Augment));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn constant_image_interior_survives_rotation() {
        let src = vec![200u8; 32 * 32];
        let aug = Augment {
            rotation_deg: 10.0,
            crop_scale_min: 0.9,
            brightness: 0.0,
            contrast: 0.0,
        };
        let out = aug.apply(&src, 32, &mut seed::rng(5, Stream::Augment));
        // The centre maps inside the source, so it keeps its value (up to the contrast step,
        // which is 1 here).
        assert!((out[16 * 32 + 16] - 200.0 / 255.0).abs() < 1e-5);
    }

    #[test]
    fn validate_names_the_setting() {
        let bad = Augment {
            rotation_deg: 90.0,
            ..Augment::default()
        };
        let msg = bad
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("augment.rotation_deg"), "{msg}");
    }
}
