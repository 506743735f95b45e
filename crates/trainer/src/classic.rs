//! Classic heads (`[model] head = "logistic"`, `"svm_linear"`, `"svm_rbf"`, `"random_forest"`,
//! `"knn"`): the fully frozen backbone embeds every image once ([`crate::embed`]), the head's
//! hyperparameter candidates are each fitted on the training split's features, standardised
//! with the training split's statistics only, and scored on the validation split; the best
//! one (`cxr-heads`' rule) predicts the test split once. No epochs, no Adam: the outcome has a
//! fit time and no epochs, and no `history.parquet` is written.
//!
//! The run writes what any classifier run writes about its test split (per-class table,
//! confusion matrix, recalls with bootstrap intervals, `predictions.parquet` with each head's
//! probabilities, so ECE and calibration cover classic heads too), the embeddings of every
//! image, `features.parquet`, from which the report draws the backbone's feature maps, and the
//! fitted head, `head.safetensors` (`cxr_heads::FittedHead::to_bytes`), noting what its
//! features came from: the architecture, the starting weights' reference and their BLAKE3
//! hash, so `cxr predict` rebuilds the exact model and refuses weights that changed since. It
//! writes no `model.safetensors`: the backbone is its starting weights unchanged (or the
//! seed's random init), recorded by reference, and the fitted head is not a network.

use cxr_data::seed::{self, Stream};
use cxr_experiment::{HeadSearch, RunConfig};
use cxr_heads::{fit_search, Matrix};
use cxr_models::{Model, ParamCount};
use cxr_results::RunDir;

use crate::embed::{embed_set, feature_table};
use crate::error::Result;
use crate::fit::FitData;
use crate::outcome::HeadOutcome;
use crate::test_results::{record_test, TestResults};
use crate::weights::StartingWeights;

/// Images per embedding batch (eval mode: memory, not statistics, bounds it).
pub(crate) const EMBED_BATCH: usize = 64;

/// Embeds every image with the frozen `model`, fits `search` on the training features, and
/// records the test results and the features; returns them with the chosen hyperparameters.
pub(crate) fn fit_classic(
    model: &Model,
    search: &HeadSearch,
    start_from: Option<&StartingWeights>,
    data: FitData<'_>,
    cfg: &RunConfig,
    dir: &RunDir,
) -> Result<HeadOutcome> {
    let embeddings = embed_set(model, data.set, data.spec, EMBED_BATCH)?;
    tracing::info!(
        images = data.set.len(),
        dim = embeddings.dim,
        "features computed in {:.1} s",
        embeddings.time_s
    );
    let all = Matrix::new(data.set.len(), embeddings.dim, embeddings.values)?;
    let labels =
        |indices: &[usize]| -> Vec<u32> { indices.iter().map(|&i| data.set.labels[i]).collect() };
    let split = data.split;
    let classes = data.set.classes.len();
    let selection = fit_search(
        search,
        &all.select(&split.train),
        &labels(&split.train),
        &all.select(&split.val),
        &labels(&split.val),
        classes,
        seed::sub_seed(cfg.seed, Stream::Head),
    )?;
    for trial in &selection.trials {
        tracing::info!(
            head = %search.kind(),
            "{}: validation micro-recall {:.4}, macro-recall {:.4}, fitted in {:.2} s",
            trial.hyper,
            trial.val_micro_recall,
            trial.val_macro_recall,
            trial.fit_time_s
        );
    }
    let head = &selection.head;
    tracing::info!(head = %search.kind(), "chose {} on the validation split", head.hyper());
    let test = labels(&split.test);
    let test_features = all.select(&split.test);
    let test_predictions = head.predict(&test_features)?;
    let test_probabilities = head.probabilities(&test_features)?;
    dir.write_features(&feature_table(data.set, split, &all))?;
    let notes = backbone_notes(cfg, start_from)?;
    let bytes = head.to_bytes_with(&notes)?;
    cxr_results::write_atomic(&dir.head_path(), &bytes)?;

    let results = TestResults {
        set: data.set,
        indices: &split.test,
        labels: &test,
        predictions: &test_predictions,
        probabilities: test_probabilities.as_deref(),
    };
    let fitted = head.parameter_count();
    // The search already scored the chosen head on the validation split.
    let chosen = selection.chosen();
    Ok(HeadOutcome {
        params: ParamCount {
            trainable: fitted,
            total: model.param_count().total + fitted,
        },
        hyper: head.hyper().to_string(),
        embed_time_s: embeddings.time_s,
        fit_time_s: selection.fit_time_s,
        val_micro_recall: chosen.map(|t| t.val_micro_recall),
        val_macro_recall: chosen.map(|t| t.val_macro_recall),
        test: record_test(dir, &results, cfg.seed)?,
    })
}

/// The head file's note naming the backbone's architecture.
pub const NOTE_MODEL: &str = "backbone.model";
/// The head file's note naming the backbone's starting weights (`random` for the seed's init).
pub const NOTE_WEIGHTS: &str = "backbone.weights";
/// The head file's note holding the BLAKE3 hash of the starting weights' file.
pub const NOTE_WEIGHTS_BLAKE3: &str = "backbone.weights_blake3";

/// What the head's features came from, for `head.safetensors`' metadata.
pub(crate) fn backbone_notes(
    cfg: &RunConfig,
    start_from: Option<&StartingWeights>,
) -> Result<Vec<(&'static str, String)>> {
    let mut notes = vec![
        (NOTE_MODEL, cfg.model.name.name().to_string()),
        (
            NOTE_WEIGHTS,
            cfg.model
                .weights
                .as_ref()
                .map_or_else(|| "random".to_string(), ToString::to_string),
        ),
    ];
    if let Some(weights) = start_from {
        notes.push((NOTE_WEIGHTS_BLAKE3, weights_hash(&weights.file)?));
    }
    Ok(notes)
}

/// The BLAKE3 hash of a weights file, hex.
pub fn weights_hash(path: &std::path::Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|source| crate::error::TrainerError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}
