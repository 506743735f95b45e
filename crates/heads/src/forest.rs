//! [`ForestModel`]: a fitted random forest as its trees.
//!
//! smartcore keeps a forest's trees private; its `serde` feature serialises them, so the
//! fitted forest is turned into a `serde_json::Value` (numbers kept as `f64`, never printed)
//! and read back into the mirror structs below. A tree is walked as smartcore walks it (a
//! film goes to the `true` child when its feature is `<=` the threshold; a leaf answers its
//! class) and the forest votes as smartcore votes (the first class with the most trees), so
//! both call every film alike; the vote shares are the forest's probabilities.

use serde::Deserialize;
use smartcore::ensemble::random_forest_classifier::RandomForestClassifier;
use smartcore::linalg::basic::matrix::DenseMatrix;

/// smartcore's fitted random forest.
pub(crate) type Forest = RandomForestClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

/// A node with no child.
pub(crate) const LEAF: i64 = -1;

/// One tree, its nodes in smartcore's order (the root first).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    /// The feature each split node tests (0 for a leaf).
    pub(crate) feature: Vec<i64>,
    /// The threshold of each split node (`NaN` for a leaf).
    pub(crate) threshold: Vec<f64>,
    /// The node taken when the feature is `<=` the threshold; [`LEAF`] for a leaf.
    pub(crate) true_child: Vec<i64>,
    /// The node taken otherwise; [`LEAF`] for a leaf.
    pub(crate) false_child: Vec<i64>,
    /// The index into [`ForestModel::classes`] a leaf answers (a split node's majority).
    pub(crate) output: Vec<i64>,
}

impl Tree {
    /// The class index the tree answers for one standardised row.
    fn answer(&self, x: &[f64]) -> Option<usize> {
        let mut node = 0usize;
        // A well-formed tree reaches a leaf in fewer steps than it has nodes.
        for _ in 0..=self.output.len() {
            let next = *self.true_child.get(node)?;
            if next == LEAF {
                return usize::try_from(self.output[node]).ok();
            }
            let value = *x.get(usize::try_from(self.feature[node]).ok()?)?;
            node = if value <= self.threshold[node] {
                usize::try_from(next).ok()?
            } else {
                usize::try_from(self.false_child[node]).ok()?
            };
        }
        None
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.output.len()
    }
}

/// A fitted random forest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ForestModel {
    /// The training classes, ascending (smartcore's `classes`): what the trees' outputs index.
    pub(crate) classes: Vec<u32>,
    pub(crate) trees: Vec<Tree>,
}

#[derive(Deserialize)]
struct SmartcoreForest {
    trees: Option<Vec<SmartcoreTree>>,
    classes: Option<Vec<u32>>,
}

#[derive(Deserialize)]
struct SmartcoreTree {
    nodes: Vec<SmartcoreNode>,
}

#[derive(Deserialize)]
struct SmartcoreNode {
    output: usize,
    split_feature: usize,
    split_value: Option<f64>,
    true_child: Option<usize>,
    false_child: Option<usize>,
}

impl ForestModel {
    /// The trees of `fitted`.
    pub(crate) fn from_smartcore(fitted: &Forest) -> Result<Self, String> {
        let value = serde_json::to_value(fitted).map_err(|e| e.to_string())?;
        let mirror: SmartcoreForest = serde_json::from_value(value)
            .map_err(|e| format!("reading smartcore's forest: {e}"))?;
        let (Some(trees), Some(classes)) = (mirror.trees, mirror.classes) else {
            return Err("the forest has no trees".to_string());
        };
        let index = |i: Option<usize>| i.map_or(Ok(LEAF), i64::try_from);
        let trees = trees
            .into_iter()
            .map(|tree| -> Result<Tree, std::num::TryFromIntError> {
                let n = tree.nodes.len();
                let mut out = Tree {
                    feature: Vec::with_capacity(n),
                    threshold: Vec::with_capacity(n),
                    true_child: Vec::with_capacity(n),
                    false_child: Vec::with_capacity(n),
                    output: Vec::with_capacity(n),
                };
                for node in tree.nodes {
                    let leaf = node.true_child.is_none();
                    out.feature.push(if leaf {
                        0
                    } else {
                        i64::try_from(node.split_feature)?
                    });
                    // smartcore compares with `split_value.unwrap_or(NaN)`: never `<=`.
                    out.threshold.push(if leaf {
                        f64::NAN
                    } else {
                        node.split_value.unwrap_or(f64::NAN)
                    });
                    out.true_child.push(index(node.true_child)?);
                    out.false_child
                        .push(if leaf { LEAF } else { index(node.false_child)? });
                    out.output.push(i64::try_from(node.output)?);
                }
                Ok(out)
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        Ok(Self { classes, trees })
    }

    /// Votes per training class for one standardised row, or `None` for a malformed tree.
    fn votes(&self, x: &[f64]) -> Option<Vec<usize>> {
        let mut votes = vec![0usize; self.classes.len()];
        for tree in &self.trees {
            *votes.get_mut(tree.answer(x)?)? += 1;
        }
        Some(votes)
    }

    /// The class most trees answer for one standardised row (the first such, as smartcore's
    /// `which_max`).
    pub(crate) fn predict(&self, x: &[f64]) -> Option<u32> {
        let votes = self.votes(x)?;
        let mut best = (0, votes.first().copied()?);
        for (k, &v) in votes.iter().enumerate().skip(1) {
            if v > best.1 {
                best = (k, v);
            }
        }
        self.classes.get(best.0).copied()
    }

    /// The share of trees answering each class for one standardised row, written into `out`
    /// at the class indices; `None` for a malformed tree.
    pub(crate) fn probabilities(&self, x: &[f64], out: &mut [f32]) -> Option<()> {
        let votes = self.votes(x)?;
        let trees = self.trees.len().max(1) as f64;
        for (&class, v) in self.classes.iter().zip(votes) {
            if let Some(slot) = out.get_mut(class as usize) {
                *slot = (v as f64 / trees) as f32;
            }
        }
        Some(())
    }

    /// Total nodes of all trees.
    pub(crate) fn nodes(&self) -> usize {
        self.trees.iter().map(Tree::len).sum()
    }
}
