//! Times every head's default grid on synthetic features of the size the heads meet in cxr:
//! 630 training and 135 validation rows of 512 features (ResNet18/34), 3 classes.
//!
//! ```text
//! cargo run --release -p cxr-heads --example default_grids            # 512 features
//! cargo run --release -p cxr-heads --example default_grids -- 2048    # ResNet50's width
//! ```
//!
//! The classes are Gaussian clusters whose means differ by small random shifts in every
//! feature, so the problem is hard enough (validation micro-recall around 0.6) that solvers
//! have work to do.

use std::time::Instant;

use cxr_heads::{fit_search, HeadKind, HeadSearch, Matrix};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const TRAIN: usize = 630;
const VAL: usize = 135;
const CLASSES: usize = 3;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let features: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 512,
    };
    let noise = Normal::new(0.0f32, 1.0)?;
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let means: Vec<Vec<f32>> = (0..CLASSES)
        .map(|_| {
            (0..features)
                .map(|_| 0.08 * noise.sample(&mut rng))
                .collect()
        })
        .collect();
    let mut split = |rows: usize| -> Result<(Matrix, Vec<u32>), cxr_heads::HeadError> {
        let mut data = Vec::with_capacity(rows * features);
        for i in 0..rows {
            data.extend(
                means[i % CLASSES]
                    .iter()
                    .map(|m| m + noise.sample(&mut rng)),
            );
        }
        let labels = (0..rows).map(|i| (i % CLASSES) as u32).collect();
        Ok((Matrix::new(rows, features, data)?, labels))
    };
    let (train, train_labels) = split(TRAIN)?;
    let (val, val_labels) = split(VAL)?;
    println!(
        "{TRAIN} train x {VAL} val rows, {features} features, {CLASSES} classes, {} threads",
        rayon::current_num_threads()
    );

    let all = Instant::now();
    for kind in HeadKind::ALL {
        let search = HeadSearch::default_for(kind);
        let selection = fit_search(
            &search,
            &train,
            &train_labels,
            &val,
            &val_labels,
            CLASSES,
            7,
        )?;
        let chosen = selection.head.hyper();
        let best = selection.chosen().map_or(0.0, |t| t.val_micro_recall);
        let fits: f64 = selection.trials.iter().map(|t| t.fit_time_s).sum();
        println!(
            "{kind:>13}: {:>2} candidates in {:>5.1} s wall ({fits:>5.1} s of fits), \
             chose {chosen} (val micro-recall {best:.3}, {} parameters)",
            selection.trials.len(),
            selection.fit_time_s,
            selection.head.parameter_count(),
        );
    }
    println!(
        "all five default grids: {:.1} s",
        all.elapsed().as_secs_f64()
    );
    Ok(())
}
