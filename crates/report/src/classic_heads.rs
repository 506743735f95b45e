//! The classic-heads section of `report.md`: the heads per backbone ([`crate::heads`]), which
//! one wins and by how much over the runner-up and the linear head, with the paired test of
//! each margin ([`crate::paired`]), and the backbones' feature maps ([`crate::feature_map`]).

use std::fmt::Write as _;

use cxr_results::LINEAR_HEAD;

use crate::feature_map::BackboneMaps;
use crate::grid_results::GridResults;
use crate::heads::{head_rows, HeadRow};
use crate::input::FeatureSource;
use crate::numbers::seconds;
use crate::order::first_seen;
use crate::paired::{compare, format_p, PairedComparison, Side, HEAD_VS_BEST};

/// The classic-heads section, computed.
#[derive(Debug, Clone)]
pub struct HeadsSection<'a> {
    /// Every backbone's heads, best first ([`head_rows`]); empty without classic heads.
    pub rows: Vec<HeadRow>,
    /// The paired tests behind the verdicts ([`head_comparisons`]).
    pub paired: Vec<PairedComparison>,
    /// One sentence per backbone ([`verdicts`]).
    pub verdicts: Vec<String>,
    /// The backbones' feature maps.
    pub maps: Vec<BackboneMaps<'a>>,
}

impl<'a> HeadsSection<'a> {
    /// The section of `results`, with a map of each backbone in `features`.
    pub fn of(results: &GridResults, features: &'a [FeatureSource]) -> Self {
        let rows = head_rows(results);
        let paired = head_comparisons(results, &rows);
        Self {
            verdicts: verdicts(&rows, &paired),
            maps: features
                .iter()
                .map(|source| BackboneMaps { source })
                .collect(),
            rows,
            paired,
        }
    }

    /// Appends the section to `md`, when the grid has classic heads.
    pub fn render(&self, md: &mut String) {
        if self.rows.is_empty() {
            return;
        }
        let _ = writeln!(
            md,
            "## Classic heads on frozen features\n\n\
             Each classic head is fitted on the pooled features of the fully frozen backbone, \
             standardised with the training split's statistics; its hyperparameters are chosen on \
             the validation split from the declared values, and the test split is scored once. \
             Classic heads have no epochs: they are fitted to convergence by their own solvers, so \
             epochs to converge and time per epoch do not apply (they are absent from the \
             per-epoch figures, not plotted as zeros); the fit time of all candidates is given \
             instead (for `linear` rows, the network's own `fc` trained by Adam on the same frozen \
             features, the training time of all epochs). Test recall: one seed's 95% bootstrap \
             interval, or with several seeds the mean and its 95% t-interval over seeds.\n"
        );
        let multilabel = self.rows.iter().any(|r| r.mean_auroc.is_some());
        if multilabel {
            let _ = writeln!(
                md,
                "With several findings per film, each head is fitted per finding (one-vs-rest) \
                 and its values are chosen on that finding's validation AUROC; rows rank by test \
                 mean AUROC over the findings (a seed's folds averaged), and recall is at each \
                 finding's threshold chosen on validation.\n"
            );
        }
        for verdict in &self.verdicts {
            let _ = writeln!(md, "{verdict}\n");
        }
        let _ = writeln!(
            md,
            "| backbone | freeze | head | seeds |{} test micro-recall | test macro-recall | chosen on validation | fit time (s) |",
            if multilabel { " test mean AUROC |" } else { "" }
        );
        let _ = writeln!(
            md,
            "|---|---|---|---|{}---|---|---|---|",
            if multilabel { "---|" } else { "" }
        );
        for r in &self.rows {
            let auroc = match (&r.mean_auroc, multilabel) {
                (Some(a), true) => format!(" {} |", a.text(false)),
                (None, true) => " - |".to_string(),
                (_, false) => String::new(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |{auroc} {} | {} | {} | {} |",
                r.backbone,
                r.freeze,
                r.head,
                r.seeds,
                r.micro.text(false),
                r.macro_.text(false),
                r.chosen,
                seconds(r.fit_time_s)
            );
        }
        md.push('\n');
        if !self.maps.is_empty() {
            let _ = writeln!(
                md,
                "### Feature maps\n\n\
                 Each backbone's features of the training and test images in two dimensions, \
                 coloured by class: PCA fitted on the training features (standardised), and t-SNE \
                 of training and test features together. Classes that separate here are what a \
                 head on these features can learn.\n"
            );
            for maps in &self.maps {
                for (title, file) in maps.links() {
                    let _ = writeln!(md, "![{title}]({file})\n");
                }
            }
        }
    }
}

/// The paired tests behind the classic-heads verdicts ([`crate::heads::verdicts`]): each
/// backbone's winning head against its runner-up and against the linear head.
pub fn head_comparisons(results: &GridResults, rows: &[HeadRow]) -> Vec<PairedComparison> {
    let mut out = Vec::new();
    for (winner, other) in verdict_pairs(rows) {
        let side = |row: &HeadRow| Side {
            model: row.backbone.clone(),
            freeze: row.freeze,
            head: row.head.clone(),
            runs: results
                .runs
                .iter()
                .filter(|r| row.run_ids.contains(&r.summary.run_id))
                .collect(),
        };
        out.extend(compare(HEAD_VS_BEST, "", side(winner), side(other)));
    }
    out
}

/// The comparisons the verdicts make, per backbone: the winning head against the runner-up,
/// and against the linear head when it is not the runner-up. `(winner, other)` pairs.
pub fn verdict_pairs(rows: &[HeadRow]) -> Vec<(&HeadRow, &HeadRow)> {
    // Several findings per film have no per-image class to pair: no McNemar there.
    let rows: Vec<&HeadRow> = rows.iter().filter(|r| r.mean_auroc.is_none()).collect();
    let backbones = first_seen(rows.iter().map(|r| (r.backbone.clone(), r.freeze)));
    let mut out = Vec::new();
    for (backbone, freeze) in backbones {
        let of: Vec<&HeadRow> = rows
            .iter()
            .copied()
            .filter(|r| r.backbone == backbone && r.freeze == freeze)
            .collect();
        let Some((best, rest)) = of.split_first() else {
            continue;
        };
        if let Some(second) = rest.first() {
            out.push((*best, *second));
        }
        if let Some(linear) = rest.iter().skip(1).find(|r| r.head == LINEAR_HEAD) {
            out.push((*best, *linear));
        }
    }
    out
}

/// One sentence per backbone: which head wins and by how much over the runner-up (and over
/// the linear head when it is not the runner-up), with the paired test of each margin from
/// `paired` (the [`crate::paired::head_comparisons`] of these rows) where there is one.
pub fn verdicts(rows: &[HeadRow], paired: &[PairedComparison]) -> Vec<String> {
    let backbones = first_seen(rows.iter().map(|r| r.backbone.clone()));
    let pairs = verdict_pairs(rows);
    let mut out = Vec::new();
    for backbone in backbones {
        let Some(best) = rows.iter().find(|r| r.backbone == backbone) else {
            continue;
        };
        let margins: Vec<String> = pairs
            .iter()
            .filter(|(winner, _)| winner.backbone == backbone)
            .map(|(winner, other)| {
                let name = if other.head == LINEAR_HEAD {
                    "the linear head trained by Adam"
                } else {
                    other.head.as_str()
                };
                let test = paired.iter().find(|p| {
                    p.kind == HEAD_VS_BEST
                        && p.a_model == winner.backbone
                        && p.a_head == winner.head
                        && p.b_head == other.head
                });
                margin(winner, other, name, test)
            })
            .collect();
        if let Some(auroc) = &best.mean_auroc {
            // Several findings per film: the rows' AUROC ranks them; the paired tests of the
            // grid's multi-label sections compare configurations.
            out.push(format!(
                "On {backbone}, {} ranks first with test mean AUROC {:.3}.",
                best.head, auroc.mean
            ));
            continue;
        }
        let mut sentence = format!(
            "On {backbone}, {} wins with test micro-recall {:.3}",
            best.head, best.micro.mean
        );
        if !margins.is_empty() {
            sentence.push_str(": ");
            sentence.push_str(&margins.join(", "));
        }
        sentence.push('.');
        out.push(sentence);
    }
    out
}

/// `+0.013 over logistic (0.867; paired over 540 images, McNemar p = 0.310: not separated)`,
/// or, for runs without predictions, whether the two intervals overlap.
fn margin(best: &HeadRow, other: &HeadRow, name: &str, test: Option<&PairedComparison>) -> String {
    let detail = match (test, best.micro.interval, other.micro.interval) {
        (Some(t), _, _) => format!(
            "; paired over {} test images, {:+.1} points (95% {:+.1} to {:+.1}), McNemar p = {}: {}",
            t.images,
            t.micro_diff * 100.0,
            t.micro_low * 100.0,
            t.micro_high * 100.0,
            format_p(t.p_value),
            t.verdict()
        ),
        (None, Some((a_low, a_high)), Some((b_low, b_high))) if a_low > b_high || b_low > a_high => {
            "; the intervals do not overlap".to_string()
        }
        (None, Some(_), Some(_)) => {
            "; the intervals overlap (no per-image predictions for a paired test)".to_string()
        }
        _ => String::new(),
    };
    format!(
        "{:+.3} over {name} ({:.3}{detail})",
        best.micro.mean - other.micro.mean,
        other.micro.mean
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heads::fixture::{results, run};

    #[test]
    fn verdicts_state_the_margins() {
        let results = results(vec![
            run("tb", "linear", 0, 0.70, 0.05),
            run("tb", "logistic", 0, 0.80, 0.05),
            run("tb", "svm_rbf", 0, 0.90, 0.02),
            run("random", "knn", 0, 0.60, 0.05),
        ]);
        let rows = head_rows(&results);
        let verdicts = verdicts(&rows, &[]);
        assert_eq!(verdicts.len(), 2);
        assert_eq!(
            verdicts[0],
            "On resnet18 (tb), svm_rbf wins with test micro-recall 0.900: +0.100 over logistic \
             (0.800; the intervals do not overlap), +0.200 over the linear head trained by Adam \
             (0.700; the intervals do not overlap)."
        );
        assert_eq!(
            verdicts[1],
            "On resnet18 (random init), knn wins with test micro-recall 0.600."
        );
    }
}
