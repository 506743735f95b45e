//! The generated comparison of a multi-label facet, stated in mean AUROC from the
//! aggregated configurations and their paired AUROC comparisons ([`crate::auroc_comparison`]):
//! the best ResNet configuration against the CNN with both paired tests, and what freezing
//! does to each ResNet's mean AUROC. Every number comes from the results.

use std::fmt::Write as _;

use crate::auroc_comparison::{p_text, signed, AurocComparison, MEAN_AUROC};
use crate::stats::ConfigStats;

/// The generated comparison of a multi-label facet: the best ResNet against the CNN by test
/// mean AUROC with the paired tests, and what freezing does to each ResNet's mean AUROC.
pub fn auroc_paragraph(stats: &[ConfigStats], rows: &[AurocComparison]) -> String {
    let stats: Vec<&ConfigStats> = stats.iter().filter(|s| s.multilabel).collect();

    let cnn = best(stats.iter().copied().filter(|s| s.is_reference()).collect());
    let resnet = best(
        stats
            .iter()
            .copied()
            .filter(|s| !s.is_reference())
            .collect(),
    );
    let auroc = |s: &ConfigStats| crate::numbers::opt(s.mean_auroc, 3);
    let mut text = match (resnet, cnn) {
        (Some(r), Some(c)) => {
            let mut t = format!(
                "By test mean AUROC over the findings, the best ResNet configuration is {} with \
                 {} frozen stage{} ({}), against the CNN's {}.",
                r.line,
                r.freeze,
                crate::numbers::plural(r.freeze as usize),
                auroc(r),
                auroc(c)
            );
            let test = rows.iter().find(|p| {
                p.metric == MEAN_AUROC
                    && p.kind == "best_resnet_vs_cnn"
                    && (
                        p.a_model.as_str(),
                        p.a_freeze,
                        p.b_model.as_str(),
                        p.b_freeze,
                    ) == (r.line.as_str(), r.freeze, c.line.as_str(), c.freeze)
            });
            if let Some(p) = test {
                let _ = write!(
                    t,
                    " Paired on the same {} test films of {} patients, the difference in mean \
                     AUROC is {}{}, DeLong's p = {}: {}.",
                    p.images,
                    p.patients,
                    signed(p.auroc_diff),
                    p.interval().map_or_else(String::new, |(lo, hi)| format!(
                        " (95% patient bootstrap {} to {})",
                        signed(Some(lo)),
                        signed(Some(hi))
                    )),
                    p_text(p.delong_p),
                    match p.verdict() {
                        "different" => "both tests call the difference real at the 5% level",
                        "tests disagree" => "the two tests disagree at the 5% level",
                        _ => "the paired tests cannot separate them at the 5% level",
                    }
                );
            }
            t
        }
        (Some(r), None) => format!(
            "The best configuration by test mean AUROC is {} with {} frozen stages ({}); no \
             CNN reference finished.",
            r.line,
            r.freeze,
            auroc(r)
        ),
        (None, Some(c)) => format!(
            "Only the CNN has finished multi-label runs (test mean AUROC {}).",
            auroc(c)
        ),
        (None, None) => return String::new(),
    };
    let lines = crate::order::first_seen(
        stats
            .iter()
            .filter(|s| !s.is_reference())
            .map(|s| s.line.clone()),
    );
    for line in lines {
        let of: Vec<&ConfigStats> = stats.iter().copied().filter(|s| s.line == line).collect();
        let (Some(first), Some(last), Some(top)) = (
            of.iter().min_by_key(|s| s.freeze),
            of.iter().max_by_key(|s| s.freeze),
            best(of.clone()),
        ) else {
            continue;
        };
        if of.len() < 2 {
            continue;
        }
        let _ = write!(
            text,
            " For {line}, freezing {} instead of {} stages moves test mean AUROC from {} to {}; \
             its best depth here is {} frozen stage{}.",
            last.freeze,
            first.freeze,
            auroc(first),
            auroc(last),
            top.freeze,
            crate::numbers::plural(top.freeze as usize)
        );
    }
    text
}

/// The highest headline of `rows` (mean AUROC of multi-label configurations).
fn best(rows: Vec<&ConfigStats>) -> Option<&ConfigStats> {
    rows.into_iter()
        .max_by(|x, y| x.headline().total_cmp(&y.headline()))
}
