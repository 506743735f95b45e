//! Grad-CAM honesty: on synthetic phantoms whose lesion locations are known (the generator's
//! `lesions/` masks), a CNN trained in the test must point at the lesions far more often than
//! chance and put more of its heatmap mass on them than chance, and the map must depend on the
//! class asked about.
//!
//! At 64 px the CNN's Grad-CAM stage is 4x4, so a map cell is 16x16 pixels: the map can say
//! which part of the chest, not which pixel. The lesion region is therefore scored at the map's
//! own resolution (a cell is lesion when any of its pixels is), and chance is the share of such
//! cells, which is what a uniform or randomly placed map would score. Scored on the test images
//! the model classifies correctly (an explanation of a wrong answer explains something else).
//! Numbers seen when this test was written are quoted beside each threshold.
//!
//! Why it is ignored (issue 7; measured 2026-11-26 on the AVX-512 kernel build, one thread,
//! about a minute): every cell of the 4x4 `block5` map sees the whole 64 px image, and the maps
//! are close to one spatial template per class. Mass on lesion cells, chance in brackets:
//! COVID 0.535 (0.388), Lung_Opacity 0.273 (0.154), Viral Pneumonia 0.677 (0.456); the class's
//! mean map scored on each image in place of the image's own map does as well: 0.556, 0.231,
//! 0.687. The "mostly" (mass > 0.5) is also out of reach for Lung_Opacity at this
//! resolution: the true lesion map spread over its neighbours by a `[1 2 1]^2` kernel scores
//! only 0.43. Training at 128 px (8x8 map, 25 epochs, about 7 CPU-minutes) gives
//! Lung_Opacity 0.345 (0.071) but COVID 0.220 (0.142).

use cxr_data::decode::read_luma;
use cxr_experiment::{Grid, Overrides};
use cxr_inference::{grad_cam, GradCam, TrainedModel};
use cxr_results::GridDir;
use cxr_trainer::prepare::DataMemo;
use cxr_trainer::{sweep, Silent, SweepOptions};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Images per class. 100 x 4 classes at 64 px and at most 15 epochs trains the CNN to about
/// 85 % test accuracy (about 4 CPU-minutes, the slowest test of the workspace). Weaker models
/// explain less: with 60 per class and 12 epochs the Viral Pneumonia maps never peaked on the
/// streaks, with 80 per class the Lung_Opacity maps never peaked on the consolidation. A
/// heatmap honesty test needs a model that has learnt the lesions.
const PER_CLASS: usize = 100;
const SIZE: usize = 64;

fn grid_text() -> String {
    format!(
        "name = \"cam\"\nseed = 0\n[data]\nimage_size = {SIZE}\n\
         [data.synthetic]\nper_class = {PER_CLASS}\nsize = {SIZE}\n\
         [train]\nmax_epochs = 15\npatience = 6\nbatch_size = 16\nlr = 0.001\n\
         [grid]\nmodel = [\"cnn\"]\n"
    )
}

/// Share of `heat` (non-negative) that falls where `mask` is set.
fn mass_inside(heat: &[f32], mask: &[bool]) -> f64 {
    let total: f64 = heat.iter().map(|&v| f64::from(v)).sum();
    let inside: f64 = heat
        .iter()
        .zip(mask)
        .filter(|(_, &m)| m)
        .map(|(&v, _)| f64::from(v))
        .sum();
    if total > 0.0 {
        inside / total
    } else {
        0.0
    }
}

/// The lesion mask at the map's own resolution: a map cell is lesion when any of its pixels is.
fn lesion_cells(mask: &[bool], cam: &GradCam) -> Vec<bool> {
    let (rows, cols) = (cam.height, cam.width);
    let mut cells = vec![false; rows * cols];
    for y in 0..SIZE {
        for x in 0..SIZE {
            if mask[y * SIZE + x] {
                cells[(y * rows / SIZE) * cols + x * cols / SIZE] = true;
            }
        }
    }
    cells
}

fn share(mask: &[bool]) -> f64 {
    mask.iter().filter(|&&m| m).count() as f64 / mask.len().max(1) as f64
}

/// What one lesion class's heatmaps scored.
#[derive(Debug, Default)]
struct ClassScore {
    images: usize,
    /// Maps whose peak cell is a lesion cell.
    peak_on_lesion: usize,
    /// Sum over images of the map's mass on lesion cells.
    mass_on_lesion: f64,
    /// Sum over images of the share of lesion cells (chance for both scores above).
    lesion_share: f64,
    /// Sums over images of the upsampled map's mass on the exact lesion pixels, and their share.
    exact_mass: f64,
    exact_share: f64,
}

#[test]
#[ignore = "issue 7 open: the 4x4 maps are close to one template per class (see the module \
            doc); the COVID maps peak on lesions in 7 of 15 images against chance 0.39 \
            (binomial p = 0.35); run with \
            `cargo test --release -p cxr-inference --test gradcam -- --ignored`"]
fn heatmaps_point_at_the_lesions_and_follow_the_class() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let tmp = tmp.path();
    let grid_path = tmp.join("cam.toml");
    std::fs::write(&grid_path, grid_text())?;
    let grid = Grid::from_file(&grid_path, &Overrides::default())?;
    let cache = tmp.join("cache");
    let options = SweepOptions::new(tmp.join("results"), cache.clone());
    sweep(&grid, &options, &mut Silent::each)?;
    let planned = &grid.runs[0];
    let run_dir = GridDir::new(&options.results_dir, "cam").run(&planned.id);
    let registry = cxr_weights::Registry::from_env();
    let env = cxr_trainer::RunEnv::new(&cache, &options.results_dir, &registry);
    let model = TrainedModel::open(run_dir.path(), &env, &candle_core::Device::Cpu)?;

    // The run's own test images, and where the generator put their lesions.
    let data = DataMemo::default().prepare(&planned.config, &cache)?;
    let root = cxr_data::synth::cached_root(PER_CLASS, SIZE as u32, 0, &cache)?;
    let classes = data.set.classes.len();
    let mut scores: Vec<ClassScore> = (0..classes).map(|_| ClassScore::default()).collect();
    let mut unchanged = Vec::new();
    for &i in &data.split.test {
        let label = data.set.labels[i] as usize;
        let file = root.join(&data.set.files[i]);
        let name = file.file_name().ok_or("file name")?;
        let lesions = root
            .join(&data.set.classes[label])
            .join("lesions")
            .join(name);
        let mask: Vec<bool> = read_luma(&lesions)?
            .0
            .as_raw()
            .iter()
            .map(|&v| v > 0.5)
            .collect();
        let pixels = model.preprocess(&file)?;
        let input = model.input(&[&pixels])?;
        let cam = grad_cam(&model.model, &input, Some(label))?;
        if grad_cam(&model.model, &input, Some((label + 1) % classes))?.map == cam.map {
            unchanged.push(file.clone());
        }
        if share(&mask) == 0.0 || cam.predicted() != label {
            continue;
        }
        let cells = lesion_cells(&mask, &cam);
        let peak = cam
            .map
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        let s = &mut scores[label];
        s.images += 1;
        s.peak_on_lesion += usize::from(cells[peak]);
        s.mass_on_lesion += mass_inside(&cam.map, &cells);
        s.lesion_share += share(&cells);
        s.exact_mass += mass_inside(&cam.upsample(SIZE, SIZE), &mask);
        s.exact_share += share(&mask);
    }
    assert!(
        unchanged.is_empty(),
        "maps equal across classes: {unchanged:?}"
    );

    let (mut exact_mass, mut exact_share) = (0.0, 0.0);
    for (class, s) in data.set.classes.iter().zip(&scores) {
        if class == "Normal" {
            continue; // no lesions to point at
        }
        let n = s.images as f64;
        let (peak, mass, chance) = (
            s.peak_on_lesion as f64 / n,
            s.mass_on_lesion / n,
            s.lesion_share / n,
        );
        eprintln!(
            "{class}: {} images, peak on lesion {peak:.2}, mass on lesion cells {mass:.3}, \
             chance {chance:.3}, exact-pixel mass {:.3} vs share {:.3}",
            s.images,
            s.exact_mass / n,
            s.exact_share / n
        );
        assert!(
            s.images >= 8,
            "{class}: only {} correct test images",
            s.images
        );
        // Seen: COVID 0.80 vs chance 0.39, Lung_Opacity 0.88 vs 0.16, Viral Pneumonia 0.88 vs 0.46
        // (plain candle); COVID 0.65 vs 0.36 with the CPU kernels' rounding. "Far above chance"
        // as a one-sided binomial test on the images (p < 0.01) plus a margin of 0.2, rather than
        // a fixed rate tuned to one build's numerics.
        let p_value = binomial_upper_tail(s.images, s.peak_on_lesion, chance);
        assert!(
            p_value < 0.01 && peak >= chance + 0.2,
            "{class}: the map peaks on the lesions in {peak:.2} of images, chance {chance:.2}, \
             binomial p = {p_value:.4}"
        );
        // Seen: 1.4x to 1.9x chance. A 16-pixel cell spreads mass over its neighbours, so the
        // mass cannot concentrate as much as the peak does.
        assert!(
            mass > 1.15 * chance,
            "{class}: mass on lesion cells {mass:.3} is not above chance {chance:.3}"
        );
        exact_mass += s.exact_mass;
        exact_share += s.exact_share;
    }
    // On the exact lesion pixels, the upsampled maps' mass over the pixels' share. Seen: 1.5.
    let enrichment = exact_mass / exact_share;
    assert!(enrichment > 1.2, "exact-pixel enrichment {enrichment:.2}");
    Ok(())
}

/// P(X >= k) for X ~ Binomial(n, p): how likely `k` of `n` peaks land on lesions by chance.
fn binomial_upper_tail(n: usize, k: usize, p: f64) -> f64 {
    let ln_choose =
        |n: usize, i: usize| -> f64 { (1..=i).map(|j| ((n - i + j) as f64 / j as f64).ln()).sum() };
    (k..=n)
        .map(|i| (ln_choose(n, i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp())
        .sum()
}

#[test]
fn binomial_tail_matches_hand_values() {
    // P(X >= 2), X ~ Bin(2, 0.5) = 0.25; P(X >= 0) = 1; P(X >= 3), Bin(3, 0.1) = 0.001.
    assert!((binomial_upper_tail(2, 2, 0.5) - 0.25).abs() < 1e-12);
    assert!((binomial_upper_tail(5, 0, 0.3) - 1.0).abs() < 1e-12);
    assert!((binomial_upper_tail(3, 3, 0.1) - 0.001).abs() < 1e-12);
}
