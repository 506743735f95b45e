//! The drawing: anatomy evaluated per pixel, thin structures and lesions splatted into their
//! own buffers (so each costs only its bounding box), then texture, blur, noise and a random
//! film response. Geometry is in normalised coordinates (0..1 across the image) so that every
//! size shows the same anatomy; the image's right is the patient's left, as on a PA film.

use image::{GrayImage, Luma};
use rand::Rng;
use rand_distr::StandardNormal;

use super::anatomy::{draw_vessels, paint_anatomy, Anatomy};
use super::canvas::Canvas;
use super::film::{expose, gaussian_blur, value_noise};
use super::pattern::{draw_benign, draw_lesions, Family, Pattern};
use super::{uni, Phantom, FAINT_LESION_FRACTION, NORMAL_VARIATION_FRACTION};

/// One phantom of `n x n` pixels drawing `pattern` at contrast multiplier `strength`.
pub(super) fn render<R: Rng>(pattern: Pattern, n: usize, strength: f32, rng: &mut R) -> Phantom {
    let side = n as u32;
    if n == 0 {
        let empty = GrayImage::new(0, 0);
        return Phantom {
            image: empty.clone(),
            lung_mask: empty.clone(),
            lesion_mask: empty,
        };
    }
    let a = Anatomy::sample(rng);
    let (mut val, lung_soft, lung_hard) = paint_anatomy(&a, n);

    let mut vessels = Canvas::new(n);
    draw_vessels(&a, &mut vessels, rng);
    let normal = Pattern {
        family: Family::Clear,
        variant: 0,
    };
    if pattern == normal && rng.random_bool(NORMAL_VARIATION_FRACTION) {
        draw_benign(&a, n, &mut vessels, rng);
    }

    let faint = rng.random_bool(FAINT_LESION_FRACTION);
    let base = if faint {
        uni(rng, 0.02, 0.05)
    } else {
        uni(rng, 0.13, 0.3)
    };
    let mut lesions = Canvas::new(n);
    let mut gain = 0.0;
    // Retry in the (practically unreachable) case that clipping by the heart left no lesion
    // pixel inside the lungs: the lesion mask of a disease class must never be empty.
    for _ in 0..8 {
        lesions.clear();
        gain = draw_lesions(pattern, &a, n, &mut lesions, rng);
        let hit = lesions.region.iter().zip(&lung_hard).any(|(r, l)| *r && *l);
        if gain == 0.0 || hit {
            break;
        }
    }
    let contrast = strength * base * gain;
    let ground_glass =
        (pattern.family == Family::GroundGlass).then(|| value_noise(n, (n / 6).clamp(4, 64), rng));

    let coarse = value_noise(n, 5, rng);
    let fine = value_noise(n, 12, rng);
    let (amp_coarse, amp_fine) = (uni(rng, 0.02, 0.04), uni(rng, 0.01, 0.02));
    let noise_pre = uni(rng, 0.02, 0.04);
    for i in 0..n * n {
        let mottle = ground_glass.as_ref().map_or(1.0, |g| 0.65 + 0.35 * g[i]);
        val[i] += (vessels.val[i] + contrast * lesions.val[i] * mottle) * lung_soft[i];
        val[i] += amp_coarse * coarse[i] + amp_fine * fine[i];
        val[i] += noise_pre * rng.sample::<f32, _>(StandardNormal);
    }
    if n > 1 {
        gaussian_blur(&mut val, n, (0.65 * n as f32 / 128.0).max(0.4));
    }

    let mask = |on: &dyn Fn(usize) -> bool| {
        GrayImage::from_fn(side, side, |x, y| {
            Luma([if on(y as usize * n + x as usize) {
                255
            } else {
                0
            }])
        })
    };
    Phantom {
        image: expose(&val, n, rng),
        lung_mask: mask(&|i| lung_hard[i]),
        lesion_mask: mask(&|i| gain > 0.0 && lesions.region[i] && lung_hard[i]),
    }
}
