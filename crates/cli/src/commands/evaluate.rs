//! `cxr evaluate`: score a trained run on another dataset and print (and store) the metrics.

use std::path::Path;

use cxr_inference::{
    evaluate_external, evaluate_table, write_evaluation, write_predictions, ExternalEvaluation,
    TableEvaluation, TrainedModel,
};
use cxr_report::canvas::save;
use cxr_report::ReliabilityDiagram;

use crate::cli::EvaluateArgs;
use crate::exit::ExitStatus;
use crate::stdout::outln;

/// Runs `cxr evaluate`.
pub fn run(args: EvaluateArgs) -> anyhow::Result<ExitStatus> {
    let cache_dir = args.cache.resolve();
    let model = super::open_run(&args.run, &cache_dir, &args.mirror)?;
    if let Some(labels) = &args.labels {
        return on_table(&model, &args, labels, &cache_dir);
    }
    let eval = evaluate_external(&model, &args.data, &cache_dir)?;
    print_report(&eval);
    if let Some(out) = &args.out {
        write_evaluation(out, &eval)?;
        outln!("wrote {}", out.display());
    }
    if let Some(out) = &args.predictions {
        write_predictions(out, &eval)?;
        outln!("wrote {}", out.display());
    }
    if let Some(stem) = &args.reliability {
        let classes = eval.classes.len();
        let e = &eval.evaluation;
        let title = format!("Reliability: {} on {}", eval.run_id, eval.data.display());
        match ReliabilityDiagram::new(
            title,
            &e.probabilities,
            &e.labels,
            classes,
            eval.temperature,
        ) {
            Some(diagram) => {
                for path in save(&diagram, stem)? {
                    outln!("wrote {}", path.display());
                }
            }
            None => outln!("no images evaluated: no reliability diagram"),
        }
    }
    Ok(ExitStatus::Success)
}

fn print_report(eval: &ExternalEvaluation) {
    outln!(
        "run {} on {}: {} image(s)",
        eval.run_id,
        eval.data.display(),
        eval.images()
    );
    let matched: Vec<String> = eval
        .matching
        .matched
        .iter()
        .map(|(folder, i)| format!("{folder:?} -> {}", eval.classes[*i]))
        .collect();
    outln!("classes matched: {}", matched.join(", "));
    if !eval.matching.unknown.is_empty() {
        outln!(
            "folders the model does not know (left out): {}",
            eval.matching.unknown.join(", ")
        );
    }
    if !eval.matching.without_images.is_empty() {
        outln!(
            "model classes with no images here: {}",
            eval.matching.without_images.join(", ")
        );
    }
    if let Some(first) = eval.skipped.first() {
        outln!(
            "skipped {} unreadable file(s), first {}: {}",
            eval.skipped.len(),
            first.path.display(),
            first.reason
        );
    }
    outln!();
    let ci = |i: Option<cxr_metrics::Interval>| match i {
        Some(i) => format!("  (95% bootstrap CI {:.4} - {:.4})", i.low, i.high),
        None => String::new(),
    };
    outln!(
        "micro-recall {:.4}{}",
        eval.micro_recall(),
        ci(eval.intervals.map(|c| c.micro))
    );
    outln!(
        "macro-recall {:.4}{}",
        eval.macro_recall(),
        ci(eval.intervals.map(|c| c.macro_))
    );
    if let Some(c) = &eval.calibration {
        let scaled = eval
            .temperature
            .map(|t| format!(" (probabilities scaled by the run's temperature {t:.3})"))
            .unwrap_or_default();
        outln!("expected calibration error (15 bins) {:.4}{scaled}", c.ece);
    }
    outln!();
    let width = eval
        .classes
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(5)
        .max(5);
    outln!(
        "{:<width$}  {:>9}  {:>6}  {:>6}  {:>7}  {:>7}",
        "class",
        "precision",
        "recall",
        "f1",
        "support",
        "roc_auc"
    );
    for ((class, m), auc) in eval.classes.iter().zip(eval.per_class()).zip(&eval.roc_auc) {
        let auc = auc.map_or_else(|| "-".to_string(), |a| format!("{a:.4}"));
        outln!(
            "{class:<width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}  {auc:>7}",
            m.precision,
            m.recall,
            m.f1,
            m.support
        );
    }
    outln!();
    outln!("confusion matrix (rows = true class, columns = predicted)");
    let col = eval
        .classes
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(5)
        .max(6);
    let header: Vec<String> = eval.classes.iter().map(|c| format!("{c:>col$}")).collect();
    outln!("{:<width$}  {}", "", header.join("  "));
    for (class, row) in eval.classes.iter().zip(&eval.evaluation.confusion.matrix) {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>col$}")).collect();
        outln!("{class:<width$}  {}", cells.join("  "));
    }
}

/// `cxr evaluate --labels`: a multi-label run on a label table.
fn on_table(
    model: &TrainedModel,
    args: &EvaluateArgs,
    labels: &Path,
    cache_dir: &Path,
) -> anyhow::Result<ExitStatus> {
    if args.predictions.is_some() || args.reliability.is_some() {
        anyhow::bail!(
            "--predictions and --reliability apply to class folders; with --labels use --out"
        );
    }
    let eval = evaluate_table(model, &args.data, labels, cache_dir)?;
    print_table_report(&eval);
    if let Some(out) = &args.out {
        cxr_results::write_evaluation(out, &eval.run_id, &eval.table, &eval.metric_rows())?;
        outln!("wrote {}", out.display());
    }
    Ok(ExitStatus::Success)
}

fn print_table_report(eval: &TableEvaluation) {
    let patients = eval.patients.map_or_else(
        || "no patient column".to_string(),
        |p| format!("{p} patients"),
    );
    outln!(
        "run {} on {}: {} film(s), {patients}",
        eval.run_id,
        eval.table.display(),
        eval.films
    );
    if !eval.unknown.is_empty() {
        outln!(
            "findings the run does not predict (left out): {}",
            eval.unknown.join(", ")
        );
    }
    let resampled = if eval.patients.is_some() {
        "patients"
    } else {
        "films"
    };
    let ci = |i: Option<cxr_metrics::Interval>| match i {
        Some(i) => format!("{:.4} - {:.4}", i.low, i.high),
        None => "-".to_string(),
    };
    let num = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"));
    outln!(
        "mean AUROC {} (95% bootstrap CI {}, {resampled} resampled)",
        num(eval.mean_auroc),
        ci(eval.mean_interval)
    );
    outln!();
    let width = eval
        .findings
        .iter()
        .map(|f| f.finding.len())
        .max()
        .unwrap_or(7)
        .max(7);
    outln!(
        "{:<width$}  {:>4}  {:>5}  {:>6}  {:>15}  {:>9}  {:>11}  {:>11}  {:>9}",
        "finding",
        "pos",
        "neg",
        "auroc",
        "95% CI",
        "threshold",
        "sensitivity",
        "specificity",
        "precision"
    );
    for f in &eval.findings {
        let at = f.at_threshold;
        outln!(
            "{:<width$}  {:>4}  {:>5}  {:>6}  {:>15}  {:>9.4}  {:>11}  {:>11}  {:>9}",
            f.finding,
            f.positives,
            f.negatives,
            num(f.auroc),
            ci(f.interval),
            f.threshold,
            num(at.and_then(|s| s.sensitivity())),
            num(at.and_then(|s| s.specificity())),
            num(at.and_then(|s| s.precision()))
        );
    }
}
