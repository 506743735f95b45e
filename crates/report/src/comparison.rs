//! The generated paragraph that compares the best ResNet with the CNN the way the reference
//! study's conclusion does: recall gained, at what parameter and time cost, and what freezing buys.
//! Every number comes from the aggregated results; nothing is written by hand.

use crate::line_chart::format_count;
use crate::numbers::seconds;
use crate::order::first_seen;
use crate::paired::PairedComparison;
use crate::stats::{ConfigStats, Spread};

/// The comparison for the configurations of one facet. `paired` holds the facet's paired
/// comparisons ([`crate::paired`]): the best ResNet against the CNN is stated from its paired
/// test when there is one (runs with `predictions.parquet`), else from the two intervals.
pub fn comparison_paragraph(stats: &[ConfigStats], paired: &[PairedComparison]) -> String {
    let cnn = best_of(stats.iter().filter(|s| s.is_reference()));
    let resnet = best_of(stats.iter().filter(|s| !s.is_reference()));
    let mut text = match (resnet, cnn) {
        (Some(r), Some(c)) => {
            let points = (r.micro - c.micro) * 100.0;
            let direction = if points >= 0.0 { "above" } else { "below" };
            let mut t = format!(
                "The best ResNet configuration, {} with {} frozen stage{}, reached a test \
                 micro-recall of {:.3} ({}), {:.1} percentage points {direction} the CNN's {:.3} \
                 ({}). It trains {} parameters, {:.1}x the CNN's {}, and takes {} s per \
                 epoch{}, {:.2}x the CNN's {} s.",
                r.line,
                r.freeze,
                if r.freeze == 1 { "" } else { "s" },
                r.micro,
                describe_interval(r),
                points.abs(),
                c.micro,
                describe_interval(c),
                format_count(r.trainable_params as f64),
                r.trainable_params as f64 / c.trainable_params.max(1) as f64,
                format_count(c.trainable_params as f64),
                seconds(r.epoch_time_s),
                prefix_note(r),
                r.epoch_time_s / c.epoch_time_s,
                seconds(c.epoch_time_s),
            );
            let test = paired.iter().find(|p| {
                p.kind == "best_resnet_vs_cnn"
                    && (
                        p.a_model.as_str(),
                        p.a_freeze,
                        p.b_model.as_str(),
                        p.b_freeze,
                    ) == (r.line.as_str(), r.freeze, c.line.as_str(), c.freeze)
            });
            if let Some(test) = test {
                t.push(' ');
                t.push_str(&test.sentence(&format!("{} f{}", r.line, r.freeze), "the CNN"));
            } else if let (Some(rl), Some(rh), Some(cl), Some(ch)) =
                (r.micro_low, r.micro_high, c.micro_low, c.micro_high)
            {
                t.push_str(if rl <= ch && cl <= rh {
                    " The two intervals overlap; without per-image predictions (runs from \
                     before predictions.parquet) no paired test could be made."
                } else {
                    " The two intervals do not overlap."
                });
            }
            t
        }
        (None, Some(c)) => format!(
            "Only the CNN has finished runs (test micro-recall {:.3}); there is no ResNet to \
             compare it with.",
            c.micro
        ),
        (Some(r), None) => format!(
            "No CNN run trained end to end has finished, so the gain over the handcrafted CNN \
             cannot be computed; \
             the best ResNet configuration is {} with {} frozen stages (test micro-recall {:.3}).",
            r.line, r.freeze, r.micro
        ),
        (None, None) => "No run finished successfully; there is nothing to compare.".to_string(),
    };
    for sentence in freezing_sentences(stats) {
        text.push(' ');
        text.push_str(&sentence);
    }
    text
}

fn best_of<'a>(rows: impl Iterator<Item = &'a ConfigStats>) -> Option<&'a ConfigStats> {
    rows.max_by(|a, b| a.micro.total_cmp(&b.micro))
}

/// One sentence per ResNet with at least two freeze depths.
fn freezing_sentences(stats: &[ConfigStats]) -> Vec<String> {
    let models = first_seen(
        stats
            .iter()
            .filter(|s| !s.is_reference())
            .map(|s| s.line.as_str()),
    );
    models
        .into_iter()
        .filter_map(|model| {
            let rows: Vec<&ConfigStats> = stats.iter().filter(|s| s.line == model).collect();
            if rows.len() < 2 {
                return None;
            }
            let first = rows.iter().min_by_key(|s| s.freeze)?;
            let last = rows.iter().max_by_key(|s| s.freeze)?;
            let best = rows.iter().max_by(|a, b| a.micro.total_cmp(&b.micro))?;
            Some(format!(
                "For {model}, freezing {} instead of {} stages moves test micro-recall from \
                 {:.3} to {:.3}, trainable parameters from {} to {} and time per epoch from \
                 {} s to {} s{}; its best depth here is {} frozen stage{}.",
                last.freeze,
                first.freeze,
                first.micro,
                last.micro,
                format_count(first.trainable_params as f64),
                format_count(last.trainable_params as f64),
                seconds(first.epoch_time_s),
                seconds(last.epoch_time_s),
                prefix_note(last),
                best.freeze,
                if best.freeze == 1 { "" } else { "s" },
            ))
        })
        .collect()
}

/// ` (after a one-time 2.1 s frozen-prefix pass)` when the configuration used the cache.
fn prefix_note(s: &ConfigStats) -> String {
    s.prefix_time_s
        .map(|t| format!(" (after a one-time {} s frozen-prefix pass)", seconds(t)))
        .unwrap_or_default()
}

/// `95% bootstrap interval 0.80-0.91`, `mean of 3 seeds, sd 0.020`, or with cross-validation
/// `mean of 5 folds, sd 0.031` (`mean of 10 runs: 2 seeds x 5 folds, sd 0.031`).
pub fn describe_interval(s: &ConfigStats) -> String {
    match (s.spread, s.micro_low, s.micro_high) {
        (Spread::Seeds, Some(lo), _) => {
            format!("mean of {} seeds, sd {:.3}", s.seeds, s.micro - lo)
        }
        (Spread::Folds, Some(lo), _) if s.seeds == 1 => {
            format!("mean of {} folds, sd {:.3}", s.runs, s.micro - lo)
        }
        (Spread::Folds, Some(lo), _) => format!(
            "mean of {} runs: {} seeds x {} folds, sd {:.3}",
            s.runs,
            s.seeds,
            s.folds,
            s.micro - lo
        ),
        (Spread::Bootstrap, Some(lo), Some(hi)) => {
            format!("95% bootstrap interval {lo:.3}-{hi:.3}")
        }
        _ => "one seed, no interval".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(model: &str, freeze: i64, micro: f64, params: i64, time: f64) -> ConfigStats {
        ConfigStats {
            facet: String::new(),
            model: model.into(),
            line: model.into(),
            freeze,
            seeds: 1,
            folds: 0,
            runs: 1,
            micro,
            micro_low: Some(micro - 0.04),
            micro_high: Some(micro + 0.04),
            spread: Spread::Bootstrap,
            macro_: micro,
            epochs_to_converge: 5.0,
            epoch_time_s: time,
            prefix_time_s: None,
            trainable_params: params,
            multilabel: false,
            mean_auroc: None,
            mean_auroc_low: None,
            mean_auroc_high: None,
        }
    }

    #[test]
    fn paragraph_states_gain_cost_and_freezing_from_the_numbers() {
        let stats = [
            config("cnn", 0, 0.80, 1_600_000, 10.0),
            config("resnet18", 0, 0.90, 11_200_000, 40.0),
            config("resnet18", 4, 0.70, 2_000, 5.0),
        ];
        let text = comparison_paragraph(&stats, &[]);
        assert!(text.contains("resnet18 with 0 frozen stages"), "{text}");
        assert!(text.contains("0.900"), "{text}");
        assert!(
            text.contains("10.0 percentage points above the CNN's 0.800"),
            "{text}"
        );
        assert!(text.contains("7.0x the CNN's 1.6M"), "{text}");
        assert!(text.contains("4.00x the CNN's 10.0 s"), "{text}");
        assert!(text.contains("do not overlap"), "{text}");
        assert!(text.contains("from 0.900 to 0.700"), "{text}");
        assert!(
            text.contains("best depth here is 0 frozen stages"),
            "{text}"
        );
    }

    #[test]
    fn intervals_name_seeds_and_folds() {
        let folds = ConfigStats {
            spread: Spread::Folds,
            folds: 5,
            runs: 5,
            micro_low: Some(0.77),
            micro_high: Some(0.83),
            ..config("cnn", 0, 0.80, 1, 1.0)
        };
        assert_eq!(describe_interval(&folds), "mean of 5 folds, sd 0.030");
        let seeds_and_folds = ConfigStats {
            seeds: 2,
            runs: 9,
            ..folds.clone()
        };
        assert_eq!(
            describe_interval(&seeds_and_folds),
            "mean of 9 runs: 2 seeds x 5 folds, sd 0.030"
        );
        let seeds = ConfigStats {
            spread: Spread::Seeds,
            folds: 0,
            seeds: 3,
            runs: 3,
            ..folds
        };
        assert_eq!(describe_interval(&seeds), "mean of 3 seeds, sd 0.030");
    }

    #[test]
    fn paragraph_says_below_when_the_cnn_wins_and_handles_missing_models() {
        let stats = [
            config("cnn", 0, 0.85, 1_600_000, 10.0),
            config("resnet34", 2, 0.83, 20_000_000, 30.0),
        ];
        let text = comparison_paragraph(&stats, &[]);
        assert!(text.contains("2.0 percentage points below"), "{text}");
        assert!(
            text.contains("intervals overlap; without per-image predictions"),
            "{text}"
        );
        assert!(comparison_paragraph(&stats[..1], &[]).contains("no ResNet"));
        assert!(comparison_paragraph(&stats[1..], &[]).contains("No CNN run"));
    }
}
