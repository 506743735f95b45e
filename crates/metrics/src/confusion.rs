//! Classification metrics as pure functions over (true, predicted) label pairs.
//!
//! For single-label data micro-averaged recall equals accuracy (every sample is a true positive
//! of exactly one class or a false negative of exactly one class); macro recall averages the
//! per-class recalls, so a rare class counts as much as a common one.

/// `matrix[t][p]` = number of samples of true class `t` predicted as `p`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// Counts, rows = true class, columns = predicted class.
    pub matrix: Vec<Vec<u64>>,
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassMetrics {
    /// TP / (TP + FP); 0 when the class was never predicted.
    pub precision: f64,
    /// TP / (TP + FN); 0 when the class has no samples.
    pub recall: f64,
    /// Harmonic mean of precision and recall; 0 when both are 0.
    pub f1: f64,
    /// Number of samples of the class.
    pub support: u64,
}

impl ConfusionMatrix {
    /// Tallies `truth` against `predicted` for `classes` classes.
    pub fn new(truth: &[u32], predicted: &[u32], classes: usize) -> Self {
        let mut matrix = vec![vec![0u64; classes]; classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            matrix[t as usize][p as usize] += 1;
        }
        Self { matrix }
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.matrix.len()
    }

    /// Total number of samples.
    pub fn total(&self) -> u64 {
        self.matrix.iter().flatten().sum()
    }

    /// Per-class precision, recall, F1 and support.
    pub fn per_class(&self) -> Vec<ClassMetrics> {
        (0..self.classes())
            .map(|c| {
                let tp = self.matrix[c][c] as f64;
                let support: u64 = self.matrix[c].iter().sum();
                let predicted: u64 = self.matrix.iter().map(|row| row[c]).sum();
                let precision = ratio(tp, predicted as f64);
                let recall = ratio(tp, support as f64);
                let f1 = ratio(2.0 * precision * recall, precision + recall);
                ClassMetrics {
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect()
    }

    /// Micro-averaged recall: total true positives over total samples (= accuracy).
    pub fn micro_recall(&self) -> f64 {
        let tp: u64 = (0..self.classes()).map(|c| self.matrix[c][c]).sum();
        ratio(tp as f64, self.total() as f64)
    }

    /// Macro-averaged recall over the classes that have samples.
    pub fn macro_recall(&self) -> f64 {
        let present: Vec<f64> = self
            .per_class()
            .iter()
            .filter(|m| m.support > 0)
            .map(|m| m.recall)
            .collect();
        ratio(present.iter().sum(), present.len() as f64)
    }
}

/// Plain accuracy, for cross-checking micro recall.
pub fn accuracy(truth: &[u32], predicted: &[u32]) -> f64 {
    let hits = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    ratio(hits as f64, truth.len() as f64)
}

fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        truth: &'static [u32],
        predicted: &'static [u32],
        classes: usize,
        micro: f64,
        macro_: f64,
    }

    // Expected values computed by hand; cross-checked with
    // sklearn.metrics.recall_score(average="micro"/"macro").
    const CASES: &[Case] = &[
        Case {
            name: "perfect",
            truth: &[0, 1, 2],
            predicted: &[0, 1, 2],
            classes: 3,
            micro: 1.0,
            macro_: 1.0,
        },
        Case {
            name: "all wrong",
            truth: &[0, 1],
            predicted: &[1, 0],
            classes: 2,
            micro: 0.0,
            macro_: 0.0,
        },
        Case {
            name: "imbalanced: majority right, minority wrong",
            truth: &[0, 0, 0, 0, 1],
            predicted: &[0, 0, 0, 0, 0],
            classes: 2,
            micro: 0.8,
            macro_: 0.5,
        },
        Case {
            name: "three classes mixed",
            truth: &[0, 0, 1, 1, 2, 2],
            predicted: &[0, 1, 1, 1, 0, 2],
            classes: 3,
            micro: 4.0 / 6.0,
            macro_: (0.5 + 1.0 + 0.5) / 3.0,
        },
        Case {
            name: "absent class ignored by macro",
            truth: &[0, 0, 1],
            predicted: &[0, 2, 1],
            classes: 3,
            micro: 2.0 / 3.0,
            macro_: 0.75,
        },
    ];

    #[test]
    fn micro_and_macro_recall_table() {
        for c in CASES {
            let m = ConfusionMatrix::new(c.truth, c.predicted, c.classes);
            assert!(
                (m.micro_recall() - c.micro).abs() < 1e-12,
                "{}: micro {}",
                c.name,
                m.micro_recall()
            );
            assert!(
                (m.macro_recall() - c.macro_).abs() < 1e-12,
                "{}: macro {}",
                c.name,
                m.macro_recall()
            );
            assert!(
                (m.micro_recall() - accuracy(c.truth, c.predicted)).abs() < 1e-12,
                "{}: micro = accuracy",
                c.name
            );
        }
    }

    #[test]
    fn per_class_precision_recall_f1_support() {
        let m = ConfusionMatrix::new(&[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 0, 2], 3);
        assert_eq!(m.matrix, vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 1]]);
        let pc = m.per_class();
        assert_eq!(pc[1].support, 2);
        assert!((pc[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((pc[1].recall - 1.0).abs() < 1e-12);
        assert!((pc[1].f1 - 0.8).abs() < 1e-12);
        assert!((pc[2].precision - 1.0).abs() < 1e-12 && (pc[2].recall - 0.5).abs() < 1e-12);
        let never = ConfusionMatrix::new(&[0, 1], &[0, 0], 2).per_class();
        assert_eq!((never[1].precision, never[1].f1), (0.0, 0.0));
    }
}
