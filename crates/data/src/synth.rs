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

use std::path::{Path, PathBuf};

use image::{GrayImage, ImageFormat};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::{DataError, Result};

/// Bump when a change to the generator changes the images it writes: cached synthetic sets are
/// keyed by it, so an old set is never mistaken for a new one.
pub const GENERATOR_VERSION: u32 = 1;

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

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Images per class (at least 1).
    pub per_class: usize,
    /// Side of the square images in pixels (32 to 1024).
    pub size: u32,
    /// Seed of every random choice; the same seed gives byte-identical files.
    pub seed: u64,
    /// Class folder names; the four default names get their own patterns, others are assigned one
    /// by index (see [`render_phantom`]).
    pub classes: Vec<String>,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            per_class: 200,
            size: 128,
            seed: 0,
            classes: DEFAULT_CLASSES.iter().map(|c| c.to_string()).collect(),
        }
    }
}

impl SynthConfig {
    /// Checks every setting, naming the first one out of range.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |setting, message: String| Err(DataError::InvalidSetting { setting, message });
        if self.per_class == 0 {
            return invalid("per_class", "must be at least 1".into());
        }
        if !(32..=1024).contains(&self.size) {
            return invalid(
                "size",
                format!("must be 32 to 1024 pixels, got {}", self.size),
            );
        }
        if self.classes.is_empty() {
            return invalid("classes", "at least one class is needed".into());
        }
        for (i, name) in self.classes.iter().enumerate() {
            // Names become folder and file names: anything that could escape `out` is refused.
            let bad = name.trim().is_empty()
                || name == "."
                || name == ".."
                || name.contains(['/', '\\', '\0']);
            if bad {
                return invalid(
                    "classes",
                    format!("{name:?} is not usable as a folder name"),
                );
            }
            if self.classes[..i].contains(name) {
                return invalid("classes", format!("{name:?} is listed twice"));
            }
        }
        Ok(())
    }
}

/// What [`write_synthetic`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSummary {
    /// The dataset root (`out`).
    pub root: PathBuf,
    /// Class names, in config order.
    pub classes: Vec<String>,
    /// Images written per class.
    pub images_per_class: usize,
}

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

/// Generates `cfg.per_class` phantoms per class under `out` (created if missing; files of an earlier
/// run are overwritten) and a README describing them.
pub fn write_synthetic(out: &Path, cfg: &SynthConfig) -> Result<SynthSummary> {
    cfg.validate()?;
    for class in &cfg.classes {
        for sub in ["images", "masks", "lesions"] {
            let dir = out.join(class).join(sub);
            std::fs::create_dir_all(&dir).map_err(DataError::io(&dir))?;
        }
    }
    let jobs: Vec<(usize, usize)> = (0..cfg.classes.len())
        .flat_map(|c| (0..cfg.per_class).map(move |k| (c, k)))
        .collect();
    jobs.par_iter().try_for_each(|&(c, k)| {
        let name = &cfg.classes[c];
        let phantom = render_phantom(c, name, cfg.size, &mut image_rng(cfg.seed, c, k));
        let file = format!("{name}-{}.png", k + 1);
        let class_dir = out.join(name);
        save_png(&phantom.image, &class_dir.join("images").join(&file))?;
        save_png(&phantom.lung_mask, &class_dir.join("masks").join(&file))?;
        save_png(&phantom.lesion_mask, &class_dir.join("lesions").join(&file))
    })?;
    let readme = out.join("README.md");
    std::fs::write(&readme, readme_text(cfg)).map_err(DataError::io(&readme))?;
    tracing::info!(root = %out.display(), classes = cfg.classes.len(), per_class = cfg.per_class, "wrote synthetic dataset");
    Ok(SynthSummary {
        root: out.to_path_buf(),
        classes: cfg.classes.clone(),
        images_per_class: cfg.per_class,
    })
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

/// The lesion pattern family of a class and its variant (0 for the four real classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pattern {
    family: Family,
    variant: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    GroundGlass,
    Consolidation,
    Clear,
    Interstitial,
}

impl Pattern {
    fn for_class(class_index: usize, class_name: &str) -> Self {
        const FAMILIES: [Family; 4] = [
            Family::GroundGlass,
            Family::Consolidation,
            Family::Clear,
            Family::Interstitial,
        ];
        match DEFAULT_CLASSES.iter().position(|c| *c == class_name) {
            Some(i) => Pattern {
                family: FAMILIES[i],
                variant: 0,
            },
            // Variant >= 1 keeps a user class from copying a default class at the same index.
            None => Pattern {
                family: FAMILIES[class_index % 4],
                variant: (class_index / 4 + 1).min(u32::MAX as usize) as u32,
            },
        }
    }

    /// One line for the README's class table.
    fn describe(self) -> String {
        match (self.family, self.variant) {
            (Family::GroundGlass, 0) => "bilateral peripheral lower-zone ground-glass haze".into(),
            (Family::GroundGlass, v) => match v % 3 {
                1 => "peripheral upper-zone ground-glass haze".into(),
                2 => "central mid-zone ground-glass haze".into(),
                _ => "medial lower-zone ground-glass haze".into(),
            },
            (Family::Consolidation, 0) => "one or two focal dense consolidations, one lung".into(),
            (Family::Consolidation, v) => {
                format!("{} small opacities in both lungs", (v as usize + 2).min(12))
            }
            (Family::Clear, 0) => "clear lungs (a few with a benign finding, not marked)".into(),
            (Family::Clear, _) => "miliary nodules in both lungs".into(),
            (Family::Interstitial, 0) => "perihilar interstitial streaks, reticular pattern".into(),
            (Family::Interstitial, _) => "basal septal (Kerley B-like) lines".into(),
        }
    }
}

fn readme_text(cfg: &SynthConfig) -> String {
    let mut rows = String::new();
    for (i, class) in cfg.classes.iter().enumerate() {
        let pattern = Pattern::for_class(i, class).describe();
        rows.push_str(&format!("| {class} | {pattern} | {} |\n", cfg.per_class));
    }
    format!(
        "# Synthetic chest X-ray phantoms\n\n\
         Generated by `cxr_data::synth::write_synthetic`: class-conditional phantoms (body outline, \
         lungs, heart, ribs, clavicles, radiographic noise) in the COVID-19 Radiography Dataset \
         layout. Not real patients; for tests, smoke runs and explainability checks only.\n\n\
         - seed: {seed}\n- image size: {size}x{size}, 8-bit grayscale PNG\n\
         - images per class: {n}\n- total images: {total}\n\
         - lesion strength: {LESION_STRENGTH} (faint-lesion fraction {FAINT_LESION_FRACTION}, \
         benign Normal variation fraction {NORMAL_VARIATION_FRACTION})\n\n\
         | class | pattern | images |\n|---|---|---|\n{rows}\n\
         ## Layout\n\n\
         - `<Class>/images/<Class>-<n>.png`: the radiograph (n starts at 1)\n\
         - `<Class>/masks/<Class>-<n>.png`: lung mask, 255 inside the lungs\n\
         - `<Class>/lesions/<Class>-<n>.png`: 255 where the class pattern was drawn, always \
         inside the lung mask; all zero for clear-lung classes\n\n\
         Image n of class c depends only on (seed, c, n): the same seed gives identical bytes.\n",
        seed = cfg.seed,
        size = cfg.size,
        n = cfg.per_class,
        total = cfg.per_class.saturating_mul(cfg.classes.len()),
    )
}

fn save_png(img: &GrayImage, path: &Path) -> Result<()> {
    img.save_with_format(path, ImageFormat::Png)
        .map_err(|e| DataError::Encode {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

/// SplitMix64's finaliser: neighbouring inputs (seed 0 and 1, image 7 and 8) come out unrelated, so
/// per-image streams are independent however the seed and indices are chosen.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

mod render {
    //! The drawing: anatomy evaluated per pixel, thin structures and lesions splatted into their
    //! own buffers (so each costs only its bounding box), then texture, blur, noise and a random
    //! film response. Geometry is in normalised coordinates (0..1 across the image) so that every
    //! size shows the same anatomy; the image's right is the patient's left, as on a PA film.

    use std::f32::consts::{PI, TAU};

    use image::{GrayImage, Luma};
    use rand::Rng;
    use rand_distr::StandardNormal;

    use super::{Family, Pattern, Phantom, FAINT_LESION_FRACTION, NORMAL_VARIATION_FRACTION};

    fn uni<R: Rng>(rng: &mut R, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * rng.random::<f32>()
    }

    #[inline]
    fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
        let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
        t * t * (3.0 - 2.0 * t)
    }

    /// One lung field in "lung coordinates": `p` runs medial (0) to lateral (1), `t` apex (0) to
    /// base (1). The lateral border is a quarter ellipse, so the apex is rounded and narrow.
    #[derive(Debug, Clone, Copy)]
    struct Lung {
        side: f32,
        mid: f32,
        q_med: f32,
        width: f32,
        apex: f32,
        base: f32,
        dome: f32,
        tilt: f32,
    }

    impl Lung {
        /// (medial, lateral) border at height `t`, as distances from the midline. Both borders
        /// follow a quarter ellipse around a line 40 % of the way out, so the apex is a rounded dome
        /// and the medial border is nearly straight lower down.
        fn borders(&self, t: f32) -> (f32, f32) {
            let t = t.clamp(0.0, 1.0);
            let g = (t * (2.0 - t)).sqrt();
            let centre = self.q_med + 0.4 * self.width;
            (centre - 0.4 * self.width * g, centre + 0.6 * self.width * g)
        }

        /// (approximate distance inside the border, p, t) of image point (u, v).
        fn locate(&self, u: f32, v: f32) -> (f32, f32, f32) {
            let t = (v - self.apex) / (self.base - self.apex);
            let q = self.side * (u - self.mid) - self.tilt * (v - self.apex);
            let (medial, lateral) = self.borders(t);
            let rel = ((q - self.q_med) / self.width).clamp(0.0, 1.0);
            // Diaphragm dome: highest mid-lung, deepest at the lateral costophrenic angle.
            let floor = self.base + 0.03 * rel - self.dome * 4.0 * rel * (1.0 - rel);
            let d = (q - medial).min(lateral - q).min(floor - v);
            let p = ((q - medial) / (lateral - medial).max(1e-4)).clamp(0.0, 1.0);
            (d, p, t)
        }

        fn point(&self, p: f32, t: f32) -> (f32, f32) {
            let v = self.apex + t * (self.base - self.apex);
            let (medial, lateral) = self.borders(t);
            let q = medial + p * (lateral - medial);
            (self.mid + self.side * (q + self.tilt * (v - self.apex)), v)
        }
    }

    #[derive(Debug, Clone, Copy)]
    struct Ellipse {
        cx: f32,
        cy: f32,
        a: f32,
        b: f32,
    }

    impl Ellipse {
        fn sd(&self, u: f32, v: f32) -> f32 {
            let (du, dv) = ((u - self.cx) / self.a, (v - self.cy) / self.b);
            (1.0 - (du * du + dv * dv).sqrt()) * self.a.min(self.b)
        }
    }

    /// A bone drawn as a band around a curve `v = f(q)`, `q` = distance from the midline.
    #[derive(Debug, Clone, Copy)]
    enum Curve {
        /// Posterior rib: leaves the spine, rises to `q_peak`, then falls laterally.
        Posterior { v0: f32, lift: f32, q_peak: f32 },
        /// Anterior rib: highest laterally, falls towards the sternum.
        Anterior { v0: f32, fall: f32, q_end: f32 },
        /// Clavicle: rises laterally with a gentle S.
        Clavicle { v0: f32, slope: f32 },
    }

    #[derive(Debug, Clone, Copy)]
    struct Bone {
        curve: Curve,
        half: f32,
        q_min: f32,
        q_max: f32,
        level: f32,
    }

    impl Bone {
        /// Where the bone crosses column `q` and how strongly it shows there (zero past its ends).
        fn crossing(&self, q: f32) -> (f32, f32) {
            if q < self.q_min || q > self.q_max {
                return (0.0, 0.0);
            }
            let c = match self.curve {
                Curve::Posterior { v0, lift, q_peak } => v0 - lift * q * (2.0 * q_peak - q),
                Curve::Anterior { v0, fall, q_end } => v0 + fall * (q_end - q).powi(2),
                Curve::Clavicle { v0, slope } => {
                    v0 - slope * (q - self.q_min) + 0.012 * (PI * (q - self.q_min) / 0.3).sin()
                }
            };
            // Ends fade instead of stopping in a hard edge.
            let fade = smoothstep(self.q_max, self.q_max - 0.04, q)
                * smoothstep(self.q_min, self.q_min + 0.02, q);
            (c, self.level * fade)
        }

        /// Intensity at vertical distance `dd` from the centre line: cortex brighter than marrow.
        fn profile(&self, dd: f32) -> f32 {
            if dd >= self.half {
                return 0.0;
            }
            (1.0 - smoothstep(0.5 * self.half, self.half, dd)) * (0.8 + 0.2 * dd / self.half)
        }
    }

    #[derive(Debug, Clone)]
    struct Anatomy {
        mid: f32,
        body: Ellipse,
        body_squareness: f32,
        lungs: [Lung; 2],
        heart: Ellipse,
        med_half: f32,
        spine_half: f32,
        vertebra: (f32, f32),
        bones: [Vec<Bone>; 2],
        background: f32,
        tissue: f32,
        lung_dark: f32,
        mediastinum: f32,
        heart_level: f32,
        spine: f32,
    }

    impl Anatomy {
        fn sample<R: Rng>(rng: &mut R) -> Self {
            let mid = 0.5 + uni(rng, -0.02, 0.02);
            let (sw, sh) = (uni(rng, 0.92, 1.08), uni(rng, 0.92, 1.08));
            let body = Ellipse {
                cx: mid,
                cy: 0.6 + uni(rng, -0.02, 0.02),
                a: 0.47 * sw,
                b: 0.58 * sh,
            };
            let apex = 0.16 + uni(rng, -0.025, 0.025);
            let base = apex + 0.58 * sh * uni(rng, 0.95, 1.05);
            let lung_w = 0.3 * sw * uni(rng, 0.95, 1.05);
            // The patient's right hemidiaphragm (image left) usually sits higher.
            let lung = |side: f32, base: f32, w: f32, rng: &mut R| Lung {
                side,
                mid,
                q_med: 0.04 + uni(rng, -0.01, 0.01),
                width: w * uni(rng, 0.95, 1.05),
                apex: apex + uni(rng, -0.012, 0.012),
                base: base + uni(rng, -0.015, 0.015),
                dome: uni(rng, 0.04, 0.08),
                tilt: uni(rng, 0.03, 0.1),
            };
            let lungs = [
                lung(-1.0, base - 0.02, lung_w, rng),
                lung(1.0, base + 0.01, lung_w * 0.96, rng),
            ];
            let heart = Ellipse {
                cx: mid + 0.075 + uni(rng, -0.015, 0.015),
                cy: lungs[1].base - 0.05 + uni(rng, -0.02, 0.02),
                a: 0.17 * uni(rng, 0.9, 1.1),
                b: 0.13 * uni(rng, 0.9, 1.1),
            };
            let bones = [
                Self::bones(apex, base, lungs[0], rng),
                Self::bones(apex, base, lungs[1], rng),
            ];
            Anatomy {
                mid,
                body,
                body_squareness: uni(rng, 0.4, 0.9),
                lungs,
                heart,
                med_half: 0.065 + uni(rng, -0.008, 0.008),
                spine_half: 0.028,
                vertebra: (uni(rng, 0.045, 0.055), uni(rng, 0.0, 1.0)),
                bones,
                background: uni(rng, 0.02, 0.06),
                tissue: uni(rng, 0.5, 0.62),
                lung_dark: uni(rng, 0.3, 0.4),
                mediastinum: uni(rng, 0.12, 0.18),
                heart_level: uni(rng, 0.02, 0.04),
                spine: uni(rng, 0.04, 0.07),
            }
        }

        fn bones<R: Rng>(apex: f32, base: f32, lung: Lung, rng: &mut R) -> Vec<Bone> {
            let lateral = lung.q_med + lung.width + lung.tilt * (base - apex) + 0.03;
            let spacing = (base - apex + 0.06) / 9.0 * uni(rng, 0.93, 1.07);
            let (lift, q_peak) = (uni(rng, 2.5, 4.0), uni(rng, 0.09, 0.14));
            let rib_level = uni(rng, 0.07, 0.11);
            let first = apex - 0.03 + uni(rng, -0.012, 0.012);
            let mut bones = Vec::with_capacity(17);
            for k in 0..10 {
                let curve = Curve::Posterior {
                    v0: first + k as f32 * spacing + uni(rng, -0.006, 0.006),
                    lift: lift * (1.0 + 0.04 * k as f32) * uni(rng, 0.92, 1.08),
                    q_peak,
                };
                let half = 0.012 * uni(rng, 0.85, 1.15);
                bones.push(Bone {
                    curve,
                    half,
                    q_min: 0.015,
                    q_max: lateral,
                    level: rib_level,
                });
            }
            let (fall, ant_level) = (uni(rng, 0.8, 1.4), uni(rng, 0.025, 0.045));
            let ant_first = apex + 0.05 + uni(rng, -0.015, 0.015);
            for k in 0..6 {
                let v0 = ant_first + k as f32 * spacing * 1.2;
                let curve = Curve::Anterior {
                    v0,
                    fall,
                    q_end: lateral,
                };
                bones.push(Bone {
                    curve,
                    half: 0.011,
                    q_min: 0.1,
                    q_max: lateral,
                    level: ant_level,
                });
            }
            let clavicle = Curve::Clavicle {
                v0: apex + 0.01 + uni(rng, -0.015, 0.015),
                slope: uni(rng, 0.1, 0.25),
            };
            bones.push(Bone {
                curve: clavicle,
                half: 0.016,
                q_min: 0.03,
                q_max: 0.33,
                level: uni(rng, 0.1, 0.15),
            });
            bones
        }

        fn body_sd(&self, u: f32, v: f32) -> f32 {
            // Shoulders narrow the trunk near the top; the neck is a plain vertical band.
            let a = self.body.a * (0.82 + 0.18 * smoothstep(0.02, 0.3, v));
            let du = ((u - self.body.cx) / a).powi(2);
            let dv = ((v - self.body.cy) / self.body.b).powi(2);
            // A blend of the ellipse and the squarer 4-norm: a rounded-rectangle trunk without
            // the cost of powf on every pixel.
            let ellipse = (du + dv).sqrt();
            let boxy = (du * du + dv * dv).sqrt().sqrt();
            let r = ellipse + (boxy - ellipse) * self.body_squareness;
            let trunk = (1.0 - r) * a.min(self.body.b);
            trunk.max(0.1 - (u - self.mid).abs())
        }

        /// Distance inside the nearer lung field, the heart cut out (negative outside the lungs).
        fn lung_sd(&self, u: f32, v: f32) -> f32 {
            let heart = -self.heart.sd(u, v);
            self.lungs
                .iter()
                .map(|l| l.locate(u, v).0.min(heart))
                .fold(f32::MIN, f32::max)
        }

        /// A point of lung `which` in the given (p, t) window at least `margin` inside the field,
        /// so that a lesion centred there always has lung pixels under it.
        fn sample_in_lung<R: Rng>(
            &self,
            which: usize,
            p: (f32, f32),
            t: (f32, f32),
            margin: f32,
            rng: &mut R,
        ) -> (f32, f32) {
            let lung = self.lungs[which % 2];
            for _ in 0..64 {
                let (u, v) = lung.point(uni(rng, p.0, p.1), uni(rng, t.0, t.1));
                if self.lung_sd(u, v) > margin {
                    return (u, v);
                }
            }
            // Upper-lateral lung is never under the heart or diaphragm.
            lung.point(0.6, 0.35)
        }
    }

    /// An elliptical blob in normalised coordinates (`angle` in radians). Soft blobs are gaussian
    /// (haze); dense ones have a lobulated, fairly sharp edge (consolidation).
    #[derive(Debug, Clone, Copy)]
    struct Blob {
        centre: (f32, f32),
        radii: (f32, f32),
        angle: f32,
        dense: bool,
        /// Amplitude and phase of a three-lobed border (dense blobs only).
        lobes: (f32, f32),
        weight: f32,
    }

    impl Blob {
        fn soft(centre: (f32, f32), radii: (f32, f32), weight: f32) -> Self {
            Blob {
                centre,
                radii,
                angle: 0.0,
                dense: false,
                lobes: (0.0, 0.0),
                weight,
            }
        }
    }

    /// An additive layer drawn primitive by primitive over each one's bounding box only. Values
    /// combine by max so that crossing lines do not produce hot spots.
    struct Canvas {
        n: usize,
        val: Vec<f32>,
        region: Vec<bool>,
    }

    impl Canvas {
        fn new(n: usize) -> Self {
            Canvas {
                n,
                val: vec![0.0; n * n],
                region: vec![false; n * n],
            }
        }

        fn clear(&mut self) {
            self.val.fill(0.0);
            self.region.fill(false);
        }

        fn put(&mut self, x: usize, y: usize, value: f32, mark: bool) {
            let i = y * self.n + x;
            self.val[i] = self.val[i].max(value);
            self.region[i] |= mark;
        }

        /// Pixel bounding box of a disc (centre in pixels, radius in pixels), clipped to the image.
        fn bbox(&self, cx: f32, cy: f32, r: f32) -> (usize, usize, usize, usize) {
            let hi = self.n as f32 - 1.0;
            let lo = |c: f32| (c - r).floor().clamp(0.0, hi) as usize;
            let up = |c: f32| (c + r).ceil().clamp(0.0, hi) as usize;
            (lo(cx), up(cx), lo(cy), up(cy))
        }

        /// A line from `a` to `b` (normalised), gaussian cross-section of `width`, weight fading from
        /// `w0` to `w1`; `mark` records it in the region within 2.5 widths (at least a pixel).
        fn segment(
            &mut self,
            a: (f32, f32),
            b: (f32, f32),
            width: f32,
            w0: f32,
            w1: f32,
            mark: bool,
        ) {
            let s = self.n as f32;
            let (ax, ay, bx, by) = (a.0 * s - 0.5, a.1 * s - 0.5, b.0 * s - 0.5, b.1 * s - 0.5);
            let sigma = (width * s).max(0.5);
            let reach = (2.5 * sigma).max(1.0);
            let (dx, dy) = (bx - ax, by - ay);
            let len2 = (dx * dx + dy * dy).max(1e-6);
            let r = 3.0 * sigma + 1.0;
            let (x0, _, y0, _) = self.bbox(ax.min(bx), ay.min(by), r);
            let (_, x1, _, y1) = self.bbox(ax.max(bx), ay.max(by), r);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let (px, py) = (x as f32 - ax, y as f32 - ay);
                    let f = ((px * dx + py * dy) / len2).clamp(0.0, 1.0);
                    let (ex, ey) = (px - f * dx, py - f * dy);
                    let d2 = ex * ex + ey * ey;
                    if d2 > r * r {
                        continue;
                    }
                    let value = (w0 + (w1 - w0) * f) * (-d2 / (2.0 * sigma * sigma)).exp();
                    self.put(x, y, value, mark && d2 < reach * reach);
                }
            }
        }

        /// Draws `b`; `mark` records it in the region.
        fn blob(&mut self, b: Blob, mark: bool) {
            let Blob {
                centre: c,
                radii,
                angle,
                dense,
                lobes,
                weight,
            } = b;
            let s = self.n as f32;
            let (cx, cy) = (c.0 * s - 0.5, c.1 * s - 0.5);
            let (rx, ry) = ((radii.0 * s).max(0.7), (radii.1 * s).max(0.7));
            let (sin, cos) = angle.sin_cos();
            let extent = rx.max(ry) * if dense { 1.4 * (1.0 + lobes.0) } else { 3.2 } + 1.0;
            let (x0, x1, y0, y1) = self.bbox(cx, cy, extent);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let (px, py) = (x as f32 - cx, y as f32 - cy);
                    let (lx, ly) = ((px * cos + py * sin) / rx, (py * cos - px * sin) / ry);
                    let mut r = (lx * lx + ly * ly).sqrt();
                    let (value, inside) = if dense {
                        r /= 1.0 + lobes.0 * (3.0 * ly.atan2(lx) + lobes.1).sin();
                        (1.0 - smoothstep(0.7, 1.15, r), r < 1.1)
                    } else {
                        ((-0.5 * r * r).exp(), r < 1.5)
                    };
                    // The centre pixel always counts, so a tiny lesion never vanishes from the mask.
                    let centre = px * px + py * py <= 1.0;
                    self.put(x, y, weight * value, mark && (inside || centre));
                }
            }
        }
    }

    /// Smooth random field in [-1, 1]: bilinear-smoothstep interpolation of a `cells`-wide grid.
    fn value_noise<R: Rng>(n: usize, cells: usize, rng: &mut R) -> Vec<f32> {
        let g = cells + 1;
        let grid: Vec<f32> = (0..g * g).map(|_| uni(rng, -1.0, 1.0)).collect();
        let mut out = vec![0.0; n * n];
        for y in 0..n {
            let gy = (y as f32 + 0.5) / n as f32 * cells as f32;
            let (iy, fy) = (
                (gy.floor() as usize).min(cells - 1),
                smoothstep(0.0, 1.0, gy.fract()),
            );
            for x in 0..n {
                let gx = (x as f32 + 0.5) / n as f32 * cells as f32;
                let (ix, fx) = (
                    (gx.floor() as usize).min(cells - 1),
                    smoothstep(0.0, 1.0, gx.fract()),
                );
                let at = |i: usize, j: usize| grid[j * g + i];
                let top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * fx;
                let bottom = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * fx;
                out[y * n + x] = top + (bottom - top) * fy;
            }
        }
        out
    }

    fn gaussian_blur(buf: &mut [f32], n: usize, sigma: f32) {
        let r = (2.5 * sigma).ceil() as isize;
        let kernel: Vec<f32> = (-r..=r)
            .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
            .collect();
        let total: f32 = kernel.iter().sum();
        let mut tmp = vec![0.0; buf.len()];
        let last = n as isize - 1;
        // Two 1-D passes; edges repeat the border pixel.
        for pass in 0..2 {
            let (src, dst): (&[f32], &mut [f32]) = if pass == 0 {
                (&*buf, &mut tmp)
            } else {
                (&tmp, &mut *buf)
            };
            for y in 0..n {
                for x in 0..n {
                    let mut acc = 0.0;
                    for (k, w) in kernel.iter().enumerate() {
                        let o = k as isize - r;
                        let (sx, sy) = if pass == 0 {
                            ((x as isize + o).clamp(0, last) as usize, y)
                        } else {
                            (x, (y as isize + o).clamp(0, last) as usize)
                        };
                        acc += w * src[sy * n + sx];
                    }
                    dst[y * n + x] = acc / total;
                }
            }
        }
    }

    /// Normal anatomy shared by every class: vessels fanning out of each hilum, tapering.
    fn draw_vessels<R: Rng>(a: &Anatomy, canvas: &mut Canvas, rng: &mut R) {
        let level = uni(rng, 0.03, 0.05);
        for which in 0..2 {
            let lung = a.lungs[which];
            let hilum = lung.point(uni(rng, 0.05, 0.15), uni(rng, 0.4, 0.55));
            canvas.blob(Blob::soft(hilum, (0.025, 0.035), level), false);
            for _ in 0..rng.random_range(7..=11) {
                let target = lung.point(uni(rng, 0.3, 0.85), uni(rng, 0.1, 0.95));
                let reach = uni(rng, 0.6, 1.0);
                let end = (
                    hilum.0 + (target.0 - hilum.0) * reach,
                    hilum.1 + (target.1 - hilum.1) * reach,
                );
                let width = uni(rng, 0.004, 0.007);
                canvas.segment(hilum, end, width, level, 0.2 * level, false);
                let fork = ((hilum.0 + end.0) / 2.0, (hilum.1 + end.1) / 2.0);
                let twig = (end.0 + uni(rng, -0.08, 0.08), end.1 + uni(rng, -0.06, 0.06));
                canvas.segment(fork, twig, width * 0.7, 0.6 * level, 0.1 * level, false);
            }
        }
    }

    /// A benign finding on some Normal films: a slightly denser zone or a tiny nodule.
    fn draw_benign<R: Rng>(a: &Anatomy, n: usize, canvas: &mut Canvas, rng: &mut R) {
        let which = rng.random_range(0..2);
        let margin = 1.5 / n as f32;
        if rng.random_bool(0.5) {
            let c = a.sample_in_lung(which, (0.2, 0.9), (0.4, 0.9), margin, rng);
            let r = (uni(rng, 0.06, 0.1), uni(rng, 0.06, 0.1));
            canvas.blob(Blob::soft(c, r, uni(rng, 0.02, 0.045)), false);
        } else {
            let c = a.sample_in_lung(which, (0.1, 0.9), (0.15, 0.9), margin, rng);
            let r = uni(rng, 0.006, 0.01);
            canvas.blob(Blob::soft(c, (r, r), uni(rng, 0.05, 0.09)), false);
        }
    }

    /// Draws the class pattern (unit weights; contrast is applied by the caller) and returns the
    /// family's contrast gain: thin or small marks need more contrast to be as visible as haze.
    fn draw_lesions<R: Rng>(
        pattern: Pattern,
        a: &Anatomy,
        n: usize,
        canvas: &mut Canvas,
        rng: &mut R,
    ) -> f32 {
        let margin = 1.5 / n as f32;
        let v = pattern.variant;
        match pattern.family {
            Family::GroundGlass => {
                let (p, t) = match (v, v % 3) {
                    (0, _) => ((0.68, 0.97), (0.5, 0.92)),
                    (_, 1) => ((0.65, 0.97), (0.12, 0.45)),
                    (_, 2) => ((0.15, 0.5), (0.35, 0.7)),
                    _ => ((0.1, 0.45), (0.6, 0.92)),
                };
                let mut present = [rng.random_bool(0.85), rng.random_bool(0.85)];
                if !present[0] && !present[1] {
                    present[rng.random_range(0..2)] = true;
                }
                for which in (0..2).filter(|&w| present[w]) {
                    for _ in 0..rng.random_range(1..=3) {
                        let c = a.sample_in_lung(which, p, t, margin, rng);
                        let r = (uni(rng, 0.03, 0.055), uni(rng, 0.045, 0.085));
                        let angle = uni(rng, -0.4, 0.4);
                        canvas.blob(
                            Blob {
                                angle,
                                ..Blob::soft(c, r, uni(rng, 0.6, 1.0))
                            },
                            true,
                        );
                    }
                }
                1.8
            }
            Family::Consolidation => {
                let (count, radius) = if v == 0 {
                    (rng.random_range(1..=2), (0.025, 0.055))
                } else {
                    ((v as usize + 2).min(12), (0.015, 0.03))
                };
                let first = rng.random_range(0..2);
                for k in 0..count {
                    // The real class keeps to one lung; variants spread over both.
                    let which = if v == 0 { first } else { first + k };
                    let c = a.sample_in_lung(which, (0.15, 0.9), (0.15, 0.9), margin, rng);
                    let r = uni(rng, radius.0, radius.1);
                    let radii = (r * uni(rng, 0.8, 1.25), r * uni(rng, 0.8, 1.25));
                    let lobes = (uni(rng, 0.05, 0.2), uni(rng, 0.0, TAU));
                    let (angle, weight) = (uni(rng, 0.0, PI), uni(rng, 0.75, 1.0));
                    canvas.blob(
                        Blob {
                            centre: c,
                            radii,
                            angle,
                            dense: true,
                            lobes,
                            weight,
                        },
                        true,
                    );
                }
                1.8
            }
            Family::Interstitial if v == 0 => {
                for which in 0..2 {
                    let lung = a.lungs[which];
                    for _ in 0..rng.random_range(10..=18) {
                        let start = a.sample_in_lung(which, (0.02, 0.35), (0.3, 0.65), margin, rng);
                        let target = lung.point(uni(rng, 0.4, 0.95), uni(rng, 0.1, 0.95));
                        let f = uni(rng, 0.4, 0.8);
                        let end = (
                            start.0 + (target.0 - start.0) * f,
                            start.1 + (target.1 - start.1) * f,
                        );
                        let w = uni(rng, 0.6, 1.0);
                        canvas.segment(start, end, uni(rng, 0.003, 0.006), w, 0.5 * w, true);
                    }
                    // Reticular cross-links between the streaks.
                    for _ in 0..rng.random_range(8..=14) {
                        let c = a.sample_in_lung(which, (0.1, 0.7), (0.2, 0.85), margin, rng);
                        let (len, ang) = (uni(rng, 0.02, 0.05), uni(rng, 0.0, PI));
                        let d = (0.5 * len * ang.cos(), 0.5 * len * ang.sin());
                        let w = uni(rng, 0.5, 0.9);
                        canvas.segment(
                            (c.0 - d.0, c.1 - d.1),
                            (c.0 + d.0, c.1 + d.1),
                            0.004,
                            w,
                            w,
                            true,
                        );
                    }
                }
                1.6
            }
            Family::Interstitial => {
                // Septal lines: short horizontals running in from the lateral border at the bases.
                for which in 0..2 {
                    let side = a.lungs[which].side;
                    for _ in 0..(6 + 3 * v as usize).min(30) {
                        let start = a.sample_in_lung(which, (0.8, 0.98), (0.65, 0.95), margin, rng);
                        let end = (
                            start.0 - side * uni(rng, 0.02, 0.045),
                            start.1 + uni(rng, -0.004, 0.004),
                        );
                        let w = uni(rng, 0.6, 1.0);
                        canvas.segment(start, end, 0.004, w, w, true);
                    }
                }
                1.6
            }
            Family::Clear if v == 0 => 0.0,
            Family::Clear => {
                for k in 0..(12 + 6 * v as usize).min(60) {
                    let c = a.sample_in_lung(k % 2, (0.05, 0.95), (0.1, 0.95), margin, rng);
                    let r = uni(rng, 0.006, 0.01);
                    canvas.blob(Blob::soft(c, (r, r), uni(rng, 0.7, 1.0)), true);
                }
                1.3
            }
        }
    }

    pub(super) fn render<R: Rng>(
        pattern: Pattern,
        n: usize,
        strength: f32,
        rng: &mut R,
    ) -> Phantom {
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
        let ground_glass = (pattern.family == Family::GroundGlass)
            .then(|| value_noise(n, (n / 6).clamp(4, 64), rng));

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

    /// Per-pixel anatomy: (radiograph before texture and noise, soft lung coverage, lung mask).
    fn paint_anatomy(a: &Anatomy, n: usize) -> (Vec<f32>, Vec<f32>, Vec<bool>) {
        let inv = 1.0 / n as f32;
        let edge = 1.2 * inv;
        let mut val = vec![0.0f32; n * n];
        let mut lung_soft = vec![0.0f32; n * n];
        let mut lung_hard = vec![false; n * n];
        // Bone centre lines depend on the column only: computed once per column, not per pixel.
        let bones_per_side = a.bones[0].len().max(a.bones[1].len());
        let mut columns = vec![(0.0, 0.0); n * bones_per_side];
        for x in 0..n {
            let u = (x as f32 + 0.5) * inv;
            let side = usize::from(u >= a.mid);
            for (k, bone) in a.bones[side].iter().enumerate() {
                columns[x * bones_per_side + k] = bone.crossing((u - a.mid).abs());
            }
        }
        for y in 0..n {
            let v = (y as f32 + 0.5) * inv;
            for x in 0..n {
                let u = (x as f32 + 0.5) * inv;
                let i = y * n + x;
                let body = smoothstep(-edge, edge, a.body_sd(u, v));
                // Thicker tissue towards the abdomen.
                let tissue = a.tissue * (0.88 + 0.2 * v);
                let mut g = a.background + (tissue - a.background) * body;
                let q = (u - a.mid).abs();
                g += a.mediastinum * smoothstep(edge, -edge, q - a.med_half) * body;
                let vertebra = 0.75 + 0.25 * (TAU * (v / a.vertebra.0 + a.vertebra.1)).cos();
                g += a.spine * smoothstep(edge, -edge, q - a.spine_half) * vertebra * body;
                let heart_sd = a.heart.sd(u, v);
                g += a.heart_level * smoothstep(-edge, edge, heart_sd) * body;
                for lung in &a.lungs {
                    let (d, p, t) = lung.locate(u, v);
                    let d = d.min(-heart_sd);
                    let s = smoothstep(-edge, edge, d);
                    if s > 0.0 {
                        // Bases and the medial lung overlie more tissue, so they are less dark.
                        let t = t.clamp(0.0, 1.0);
                        let dark = a.lung_dark * (1.0 - 0.25 * t * t - 0.2 * (1.0 - p).powi(3));
                        g -= dark * s;
                        lung_soft[i] = lung_soft[i].max(s);
                    }
                    lung_hard[i] |= d > 0.0;
                }
                // Bone shows best against air and fades into the upper abdomen.
                let side = usize::from(u >= a.mid);
                let crossings = &columns[x * bones_per_side..(x + 1) * bones_per_side];
                let bones: f32 = a.bones[side]
                    .iter()
                    .zip(crossings)
                    .filter(|(_, &(_, level))| level > 0.0)
                    .map(|(b, &(c, level))| level * b.profile((v - c).abs()))
                    .sum();
                let base = a.lungs[side].base;
                g += bones
                    * body
                    * (0.5 + 0.5 * lung_soft[i])
                    * smoothstep(base + 0.1, base - 0.02, v);
                val[i] = g;
            }
        }
        (val, lung_soft, lung_hard)
    }

    /// The film: a little more quantum noise, then a random contrast, brightness and gamma per
    /// image (scanners and exposures differ), quantised to 8 bits.
    fn expose<R: Rng>(val: &[f32], n: usize, rng: &mut R) -> GrayImage {
        let noise = uni(rng, 0.006, 0.015);
        let (gain, offset, gamma) = (
            uni(rng, 0.85, 1.15),
            uni(rng, -0.06, 0.06),
            uni(rng, 0.8, 1.25),
        );
        let mut image = GrayImage::new(n as u32, n as u32);
        for (i, g) in val.iter().enumerate() {
            let g = g + noise * rng.sample::<f32, _>(StandardNormal);
            let film = ((g - 0.5) * gain + 0.5 + offset)
                .clamp(0.0, 1.0)
                .powf(gamma);
            image.put_pixel(
                (i % n) as u32,
                (i / n) as u32,
                Luma([(film * 255.0).round() as u8]),
            );
        }
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn config(per_class: usize, size: u32) -> SynthConfig {
        SynthConfig {
            per_class,
            size,
            ..SynthConfig::default()
        }
    }

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
    fn parallel_writes_are_reproducible() -> TestResult {
        let (a, b) = (tempfile::tempdir()?, tempfile::tempdir()?);
        let cfg = config(3, 40);
        write_synthetic(a.path(), &cfg)?;
        write_synthetic(b.path(), &cfg)?;
        for class in &cfg.classes {
            for sub in ["images", "masks", "lesions"] {
                let file = Path::new(class).join(sub).join(format!("{class}-3.png"));
                assert_eq!(
                    std::fs::read(a.path().join(&file))?,
                    std::fs::read(b.path().join(&file))?,
                    "{file:?}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn writes_the_kaggle_layout() -> TestResult {
        let dir = tempfile::tempdir()?;
        let cfg = config(3, 48);
        let summary = write_synthetic(dir.path(), &cfg)?;
        assert_eq!(
            summary,
            SynthSummary {
                root: dir.path().to_path_buf(),
                classes: cfg.classes.clone(),
                images_per_class: 3
            }
        );
        let readme = std::fs::read_to_string(dir.path().join("README.md"))?;
        assert!(
            readme.contains("seed: 0") && readme.contains("| Viral Pneumonia |"),
            "{readme}"
        );
        for class in &cfg.classes {
            let pngs = std::fs::read_dir(dir.path().join(class).join("images"))?.count();
            assert_eq!(pngs, 3, "{class}");
            for n in 1..=3 {
                let file = format!("{class}-{n}.png");
                let open = |sub: &str| {
                    image::open(dir.path().join(class).join(sub).join(&file))
                        .map(|i| i.into_luma8())
                };
                let (img, lungs, lesions) = (open("images")?, open("masks")?, open("lesions")?);
                for m in [&img, &lungs, &lesions] {
                    assert_eq!(m.dimensions(), (48, 48), "{file}");
                }
                assert!(
                    lungs
                        .iter()
                        .chain(lesions.iter())
                        .all(|&p| p == 0 || p == 255),
                    "{file}: masks must be binary"
                );
                let lung_px = lungs.iter().filter(|&&p| p == 255).count();
                assert!(lung_px > 48 * 48 / 10, "{file}: only {lung_px} lung pixels");
                let lesion_px = lesions.iter().filter(|&&p| p == 255).count();
                if class == "Normal" {
                    assert_eq!(lesion_px, 0, "{file}");
                } else {
                    assert!(lesion_px > 0, "{file}: empty lesion mask");
                }
                let outside = lesions
                    .iter()
                    .zip(lungs.iter())
                    .filter(|(&l, &m)| l == 255 && m == 0)
                    .count();
                assert_eq!(outside, 0, "{file}: lesion pixels outside the lungs");
            }
        }
        Ok(())
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

    #[test]
    fn user_classes_get_distinct_patterns() {
        let cfg = SynthConfig {
            classes: (0..9).map(|i| format!("class{i}")).collect(),
            ..SynthConfig::default()
        };
        let patterns: Vec<Pattern> = cfg
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| Pattern::for_class(i, c))
            .collect();
        let defaults: Vec<Pattern> = DEFAULT_CLASSES
            .iter()
            .enumerate()
            .map(|(i, c)| Pattern::for_class(i, c))
            .collect();
        for (i, p) in patterns.iter().enumerate() {
            assert!(
                !patterns[..i].contains(p) && !defaults.contains(p),
                "class{i}: {p:?}"
            );
        }
        // Family "clear" in a user class draws miliary nodules, which must show in the mask.
        let p = render_phantom(2, "class2", 64, &mut image_rng(0, 2, 0));
        assert!(p.lesion_mask.contains(&255));
        // A default name keeps its pattern wherever it sits in the list.
        assert_eq!(Pattern::for_class(0, "Normal").family, Family::Clear);
    }

    #[test]
    fn invalid_settings_are_named() {
        let cases = [
            (
                "per_class",
                SynthConfig {
                    per_class: 0,
                    ..SynthConfig::default()
                },
            ),
            ("size", config(1, 31)),
            ("size", config(1, 1025)),
            (
                "classes",
                SynthConfig {
                    classes: vec![],
                    ..SynthConfig::default()
                },
            ),
            (
                "classes",
                SynthConfig {
                    classes: vec!["a/b".into()],
                    ..SynthConfig::default()
                },
            ),
            (
                "classes",
                SynthConfig {
                    classes: vec!["..".into()],
                    ..SynthConfig::default()
                },
            ),
            (
                "classes",
                SynthConfig {
                    classes: vec![" ".into()],
                    ..SynthConfig::default()
                },
            ),
            (
                "classes",
                SynthConfig {
                    classes: vec!["A".into(), "A".into()],
                    ..SynthConfig::default()
                },
            ),
        ];
        for (expected, cfg) in cases {
            let dir = std::env::temp_dir().join("cxr-synth-never-written");
            match write_synthetic(&dir, &cfg) {
                Err(DataError::InvalidSetting { setting, .. }) => {
                    assert_eq!(setting, expected, "{cfg:?}")
                }
                other => panic!("{cfg:?}: expected InvalidSetting({expected}), got {other:?}"),
            }
            assert!(
                !dir.exists(),
                "validation must happen before anything is written"
            );
        }
        assert!(config(1, 32).validate().is_ok() && config(1, 1024).validate().is_ok());
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
