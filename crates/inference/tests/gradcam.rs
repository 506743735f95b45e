//! Grad-CAM honesty: on synthetic phantoms whose lesion locations are known (the generator's
//! `lesions/` masks), a CNN trained in the test must put its heatmap mass on the lesions far
//! more than chance, and the map must depend on the class asked about.

use cxr_data::decode::read_luma;
use cxr_experiment::{Grid, Overrides};
use cxr_inference::{grad_cam, TrainedModel};
use cxr_results::GridDir;
use cxr_trainer::prepare::DataMemo;
use cxr_trainer::{sweep, SweepOptions};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 64 px phantoms: the CNN's Grad-CAM stage is then 4x4, the coarsest map that still separates
/// lung zones; 60 per class and 12 epochs train it to well above chance in about a minute.
const GRID: &str = "name = \"cam\"\nseed = 0\n[data]\nimage_size = 64\n\
    [data.synthetic]\nper_class = 60\nsize = 64\n\
    [train]\nmax_epochs = 12\npatience = 12\nbatch_size = 16\nlr = 0.001\n\
    [grid]\nmodel = [\"cnn\"]\n";

/// Share of `heat` (any non-negative map) that falls where `mask` is set.
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

#[test]
fn heatmap_mass_falls_on_the_lesions_and_follows_the_class() -> TestResult {
    let tmp = std::path::PathBuf::from("/tmp/predict-cam");
    std::fs::create_dir_all(&tmp)?;
    let tmp = &tmp;
    let grid_path = tmp.join("cam.toml");
    std::fs::write(&grid_path, GRID)?;
    let grid = Grid::from_file(&grid_path, &Overrides::default())?;
    let cache = tmp.join("cache");
    let options = SweepOptions {
        results_dir: tmp.join("results"),
        cache_dir: cache.clone(),
        force: false,
        cell: None,
        quiet: true,
    };
    sweep(&grid, &options)?;
    let planned = &grid.runs[0];
    let run_dir = GridDir::new(&options.results_dir, "cam").run(&planned.id);
    let model = TrainedModel::open(run_dir.path(), &cache)?;

    // The run's own test images, and where the generator put their lesions.
    let data = DataMemo::default().prepare(&planned.config, &cache)?;
    let root = cxr_trainer::prepare::synthetic_root(60, 64, 0, &cache)?;
    let (mut inside, mut chance, mut explained) = (0.0, 0.0, 0usize);
    let mut differs = 0usize;
    for &i in &data.split.test {
        let class = data.set.classes[data.set.labels[i] as usize].clone();
        let file = root.join(&data.set.files[i]);
        let name = file.file_name().ok_or("file name")?;
        let lesions = root.join(&class).join("lesions").join(name);
        let (mask, _) = read_luma(&lesions)?;
        let mask: Vec<bool> = mask.as_raw().iter().map(|&v| v > 0.5).collect();
        let lesion_fraction = mask.iter().filter(|&&m| m).count() as f64 / mask.len() as f64;
        let input = model.input(vec![model.preprocess(&file)?], vec![file.clone()])?;
        let label = data.set.labels[i] as usize;
        let cam = grad_cam(&model.model, &input, Some(label))?;
        if lesion_fraction > 0.0 {
            // cell-level
            let (h, w) = (cam.height, cam.width);
            let cell = 64 / h;
            let mut cells = vec![false; h * w];
            for y in 0..64 {
                for x in 0..64 {
                    if mask[y * 64 + x] {
                        cells[(y / cell) * w + x / cell] = true;
                    }
                }
            }
            let cell_in = mass_inside(&cam.map, &cells);
            let cell_chance = cells.iter().filter(|&&c| c).count() as f64 / cells.len() as f64;
            let argmax = cam
                .map
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            let heat = cam.upsample(64, 64);
            eprintln!(
                "{class:16} ok={} exact {:.3}/{:.3} cells {:.3}/{:.3} point {}",
                cam.predicted() == label,
                mass_inside(&heat, &mask),
                lesion_fraction,
                cell_in,
                cell_chance,
                cells[argmax]
            );
        }
        if lesion_fraction > 0.0 && cam.predicted() == label {
            let heat = cam.upsample(64, 64);
            inside += mass_inside(&heat, &mask);
            chance += lesion_fraction;
            explained += 1;
        }
        let other = grad_cam(&model.model, &input, Some((label + 1) % 4))?;
        if other.map != cam.map {
            differs += 1;
        }
    }
    eprintln!("explained {explained} differs {differs} inside {inside} chance {chance}");
    assert!(
        explained >= 10,
        "only {explained} correctly classified lesion images"
    );
    let (inside, chance) = (inside / explained as f64, chance / explained as f64);
    eprintln!(
        "Grad-CAM mass on lesions: {inside:.3} vs chance {chance:.3} over {explained} images"
    );
    assert!(
        inside > 3.0 * chance,
        "heatmap mass on lesions {inside:.3} is not far above chance {chance:.3}"
    );
    assert_eq!(
        differs,
        data.split.test.len(),
        "the map must change with the class"
    );
    Ok(())
}
