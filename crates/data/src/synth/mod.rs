//! Synthetic chest X-ray phantoms with class-conditional lesion patterns, written in the layout of
//! the COVID-19 Radiography Dataset (Kaggle):
//!
//! ```text
//! <out>/<Class>/images/<Class>-<n>.png    8-bit grayscale radiograph, size x size
//! <out>/<Class>/masks/<Class>-<n>.png     lung mask: 255 inside the lungs, 0 outside
//! <out>/<Class>/lesions/<Class>-<n>.png   where the class pattern was drawn (all zero for Normal)
//! <out>/README.md                         generator, seed, classes, counts
//! ```
//!
//! The real dataset is large and licensed, and its lesions are not annotated; these phantoms give
//! smoke runs and tests a dataset of any size whose ground truth (lungs, lesion locations) is known
//! exactly, so that Grad-CAM maps can be scored against `lesions/`.
//!
//! Image `k` of class `c` depends only on `(seed, c, k)`: each image gets its own [`ChaCha8Rng`]
//! seeded from a SplitMix64 mix of the three, so generation runs in parallel and is byte-identical
//! from run to run. Difficulty is set by [`LESION_STRENGTH`], [`FAINT_LESION_FRACTION`] and
//! [`NORMAL_VARIATION_FRACTION`]; [`render_phantom_with_strength`] takes the strength as an argument
//! for tuning experiments.
//!
//! The code, one part per file: `writer` (settings, files, README), `pattern` (what each class
//! draws), `anatomy` with `lung` and `bone` (the normal chest), `canvas` (primitives drawn over
//! their bounding box), `film` (texture, blur, exposure), and `render`, which puts one image
//! together. `cache` keeps the generated set under the cache folder ([`cached_root`]), so a
//! sweep generates it once.

use image::GrayImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod anatomy;
mod bone;
mod cache;
mod canvas;
mod film;
mod lung;
mod pattern;
mod render;
mod writer;

pub use cache::cached_root;
pub use writer::{write_synthetic, SynthConfig, SynthSummary};

use pattern::Pattern;

/// Bump when a change to the generator changes the images it writes: cached synthetic sets are
/// keyed by it, so an old set is never mistaken for a new one.
pub const GENERATOR_VERSION: u32 = 1;

/// Images per class when none is given ([`SynthConfig`]'s default, and a grid's
/// `[data.synthetic] per_class`).
pub const DEFAULT_PER_CLASS: usize = 200;

/// The four classes of the COVID-19 Radiography Dataset, in its folder order.
pub const DEFAULT_CLASSES: [&str; 4] = ["COVID", "Lung_Opacity", "Normal", "Viral Pneumonia"];

/// Multiplier on every lesion's contrast. 1.0 aims at a small CNN reaching roughly 75-95 % test
/// accuracy at 128x128 with 200 images per class; raise it for an easier task, lower it for a harder.
pub const LESION_STRENGTH: f32 = 1.0;

/// Fraction of lesion-class images whose lesion is drawn near the noise floor, so that some images
/// are honestly ambiguous and accuracy cannot reach 100 %.
pub const FAINT_LESION_FRACTION: f64 = 0.15;

/// Fraction of `Normal` images given a benign finding (a denser lung zone or a tiny nodule), so that
/// "any texture in the lungs" is not by itself a sign of disease.
pub const NORMAL_VARIATION_FRACTION: f64 = 0.10;

/// One rendered phantom: the radiograph and its two masks, all `size x size`.
#[derive(Debug, Clone)]
pub struct Phantom {
    /// The radiograph: dark background and lungs, bright soft tissue and bone.
    pub image: GrayImage,
    /// 255 inside the lung fields, 0 elsewhere.
    pub lung_mask: GrayImage,
    /// 255 where the class pattern was drawn (always inside `lung_mask`), 0 elsewhere.
    pub lesion_mask: GrayImage,
}

/// The random stream of image `index` of class `class_index`: a function of the three numbers only,
/// so images can be rendered in any order or in parallel.
pub fn image_rng(seed: u64, class_index: usize, index: usize) -> ChaCha8Rng {
    let mut h = splitmix64(seed ^ 0x6378_725f_7379_6e74); // "cxr_synt": keeps seed 0 away from 0
    h = splitmix64(h ^ class_index as u64);
    h = splitmix64(h ^ index as u64);
    ChaCha8Rng::seed_from_u64(h)
}

/// Renders one phantom of `size x size` pixels with the default [`LESION_STRENGTH`].
///
/// The pattern follows `class_name` when it is one of [`DEFAULT_CLASSES`] (COVID: peripheral
/// lower-zone ground glass; Lung_Opacity: focal consolidation; Normal: clear lungs; Viral Pneumonia:
/// interstitial streaks). Any other name gets pattern family `class_index % 4` in variant
/// `class_index / 4 + 1` (upper/central ground glass, several small opacities, miliary nodules,
/// basal septal lines...), so every class of a config draws a different pattern.
pub fn render_phantom(
    class_index: usize,
    class_name: &str,
    size: u32,
    rng: &mut impl Rng,
) -> Phantom {
    render_phantom_with_strength(class_index, class_name, size, LESION_STRENGTH, rng)
}

/// [`render_phantom`] with the lesion contrast multiplier given explicitly (1.0 = default).
pub fn render_phantom_with_strength(
    class_index: usize,
    class_name: &str,
    size: u32,
    strength: f32,
    rng: &mut impl Rng,
) -> Phantom {
    let pattern = Pattern::for_class(class_index, class_name);
    render::render(pattern, size as usize, strength, rng)
}

/// SplitMix64's finaliser: neighbouring inputs (seed 0 and 1, image 7 and 8) come out unrelated, so
/// per-image streams are independent however the seed and indices are chosen.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform draw from `lo..hi`.
fn uni<R: Rng>(rng: &mut R, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.random::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phantom(seed: u64, class: usize, index: usize, size: u32) -> Phantom {
        render_phantom(
            class,
            DEFAULT_CLASSES[class % 4],
            size,
            &mut image_rng(seed, class, index),
        )
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = phantom(7, 0, 3, 64);
        let b = phantom(7, 0, 3, 64);
        assert_eq!(a.image.as_raw(), b.image.as_raw());
        assert_eq!(a.lung_mask.as_raw(), b.lung_mask.as_raw());
        assert_eq!(a.lesion_mask.as_raw(), b.lesion_mask.as_raw());
        assert_ne!(a.image.as_raw(), phantom(8, 0, 3, 64).image.as_raw());
        assert_ne!(a.image.as_raw(), phantom(7, 0, 4, 64).image.as_raw());
    }

    #[test]
    fn zero_size_renders_empty_images() {
        // `render_phantom` is public and unvalidated: size 0 must not panic.
        let p = render_phantom(1, "Lung_Opacity", 0, &mut image_rng(0, 1, 0));
        assert_eq!(p.image.dimensions(), (0, 0));
        assert_eq!(p.lesion_mask.dimensions(), (0, 0));
    }

    #[test]
    fn lesion_masks_are_never_empty_even_small() {
        // 32 px is the smallest allowed size, where thin lines and small blobs are hardest to hit.
        for class in [0, 1, 3] {
            for k in 0..40 {
                let p = phantom(11, class, k, 32);
                let hits = p
                    .lesion_mask
                    .iter()
                    .zip(p.lung_mask.iter())
                    .filter(|(&l, &m)| l == 255 && m == 255)
                    .count();
                assert!(hits > 0, "class {class} image {k}");
            }
        }
    }

    /// Mean of the lower half of the lung field minus the mean of the upper half: ground glass in
    /// the lower zones raises it; normalising by the upper half cancels the random film response.
    fn lower_zone_excess(p: &Phantom) -> f64 {
        let n = p.image.width();
        let rows: Vec<u32> = (0..n)
            .filter(|&y| (0..n).any(|x| p.lung_mask.get_pixel(x, y)[0] == 255))
            .collect();
        let (top, bottom) = (rows[0], rows[rows.len() - 1]);
        let split = (top + bottom) / 2;
        let (mut sums, mut counts) = ([0.0; 2], [0.0; 2]);
        for y in top..=bottom {
            for x in 0..n {
                if p.lung_mask.get_pixel(x, y)[0] == 255 {
                    let half = usize::from(y > split);
                    sums[half] += f64::from(p.image.get_pixel(x, y)[0]);
                    counts[half] += 1.0;
                }
            }
        }
        sums[1] / counts[1] - sums[0] / counts[0]
    }

    #[test]
    fn covid_lower_zones_are_denser_than_normal() {
        let mean = |class: usize| {
            (0..20)
                .map(|k| lower_zone_excess(&phantom(3, class, k, 96)))
                .sum::<f64>()
                / 20.0
        };
        let (covid, normal) = (mean(0), mean(2));
        // Seen at the time of writing: covid 24.1, normal 14.9 grey levels. Subtle lesions, but
        // 20 images must still separate the classes by a clear margin.
        assert!(
            covid > normal + 4.0,
            "covid {covid:.2} vs normal {normal:.2}"
        );
    }
}
