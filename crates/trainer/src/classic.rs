//! Classic heads (`[model] head = "logistic"`, `"svm_linear"`, `"svm_rbf"`, `"random_forest"`,
//! `"knn"`): the fully frozen backbone embeds every image once ([`crate::embed`]), the head's
//! hyperparameter candidates are each fitted on the training split's features, standardised
//! with the training split's statistics only, and scored on the validation split; the best
//! one (`cxr-heads`' rule) predicts the test split once. No epochs, no Adam: the outcome has a
//! fit time and no epochs, and no `history.parquet` is written.
//!
//! The run writes what any classifier run writes about its test split (per-class table,
//! confusion matrix, recalls with bootstrap intervals) and the embeddings of every image,
//! `features.parquet`, from which the report draws the backbone's feature maps. It writes no
//! `model.safetensors`: the backbone is its starting weights unchanged, and the fitted head is
//! not a network.

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

/// Images per embedding batch (eval mode: memory, not statistics, bounds it).
const EMBED_BATCH: usize = 64;

/// Embeds every image with the frozen `model`, fits `search` on the training features, and
/// records the test results and the features; returns them with the chosen hyperparameters.
pub(crate) fn fit_classic(
    model: &Model,
    search: &HeadSearch,
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
    let test_predictions = head.predict(&all.select(&split.test))?;
    dir.write_features(&feature_table(data.set, split, &all))?;

    let results = TestResults {
        set: data.set,
        indices: &split.test,
        labels: &test,
        predictions: &test_predictions,
        // The heads predict classes; none of them reports probabilities.
        probabilities: None,
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
