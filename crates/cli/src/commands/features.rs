//! `cxr features`: every image's pooled features, from a run or from named weights, to Parquet.

use anyhow::Context as _;
use cxr_inference::{named_features, run_features, NamedBackbone};
use cxr_results::split_name;
use cxr_trainer::RunEnv;

use crate::cli::FeaturesArgs;
use crate::download_bar::DownloadBar;
use crate::exit::ExitStatus;
use crate::stdout::outln;

/// Runs `cxr features`.
pub fn run(args: FeaturesArgs) -> anyhow::Result<ExitStatus> {
    let cache_dir = args.cache.resolve();
    let weights_mirror = args.mirror.resolve();
    let registry = cxr_weights::Registry::from_env();
    let env = RunEnv {
        cache_dir: &cache_dir,
        results_dir: &args.results,
        weights_mirror: weights_mirror.as_deref(),
        downloads: &DownloadBar,
        registry: &registry,
        earlier_ids: &cxr_trainer::NO_EARLIER_IDS,
    };
    let table = match (&args.run, args.model, &args.weights) {
        (Some(run), _, _) => {
            // A classic-head run opens as its backbone: the features its head was fitted on.
            let model = super::open_run(run, &cache_dir, &args.mirror)?;
            run_features(&model, &args.data, &cache_dir)?
        }
        (None, Some(model), Some(weights)) => {
            let named = NamedBackbone {
                model,
                weights: weights.clone(),
                image_size: args.image_size,
                mask: args.mask,
                seed: args.seed,
            };
            named_features(&named, &args.data, &env)?
        }
        // clap requires --run, or --model with --weights.
        _ => anyhow::bail!("give --run RUN_DIR, or --model NAME with --weights W"),
    };
    cxr_results::write_features(&args.out, &table)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let count = |split: &str| table.splits.iter().filter(|s| *s == split).count();
    outln!(
        "wrote {}: {} image(s) x {} features ({} train, {} val, {} test)",
        args.out.display(),
        table.len(),
        table.dim,
        count(split_name::TRAIN),
        count(split_name::VAL),
        count(split_name::TEST)
    );
    Ok(ExitStatus::Success)
}
