//! [`HeadSearch`]: a head and the hyperparameter values its fit chooses from; [`Hyper`]: one
//! setting of them.

use std::fmt;

use crate::kind::HeadKind;

/// Default `c` of the logistic head (inverse L2 strength, scikit-learn's `C`).
pub const DEFAULT_LOGISTIC_C: [f64; 4] = [0.01, 0.1, 1.0, 10.0];
/// Default `c` of the linear SVM.
pub const DEFAULT_SVM_LINEAR_C: [f64; 4] = [0.01, 0.1, 1.0, 10.0];
/// Default `c` of the RBF SVM.
pub const DEFAULT_SVM_RBF_C: [f64; 3] = [0.1, 1.0, 10.0];
/// Default `gamma_scale` of the RBF SVM (`gamma = gamma_scale / features`).
pub const DEFAULT_SVM_RBF_GAMMA_SCALE: [f64; 3] = [0.1, 1.0, 10.0];
/// Default number of trees of the random forest.
pub const DEFAULT_FOREST_TREES: [usize; 2] = [100, 300];
/// Default `k` of the nearest-neighbour head.
pub const DEFAULT_KNN_K: [usize; 5] = [1, 3, 5, 11, 21];

/// smartcore stores a forest's tree count as `u16`.
const MAX_TREES: usize = u16::MAX as usize;

/// A head and the hyperparameter values its fit chooses from on the validation split.
///
/// Part of a run's resolved config (serialised into `config.toml`, hashed into the run id), so
/// it is plain data: `kind = "svm_rbf"`, then the lists. A list left out takes its default
/// ([`HeadSearch::default_for`]); an unknown key is an error. [`HeadSearch::validate`] checks
/// the values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum HeadSearch {
    /// Logistic regression; `c` is scikit-learn's `C` (inverse L2 strength).
    Logistic {
        /// Values of `C` to try.
        #[serde(default = "default_logistic_c")]
        c: Vec<f64>,
    },
    /// Linear-kernel SVM; `c` is the soft-margin `C`.
    SvmLinear {
        /// Values of `C` to try.
        #[serde(default = "default_svm_linear_c")]
        c: Vec<f64>,
    },
    /// RBF-kernel SVM; every `c` is tried with every `gamma_scale`.
    SvmRbf {
        /// Values of `C` to try.
        #[serde(default = "default_svm_rbf_c")]
        c: Vec<f64>,
        /// Values of `gamma * features` to try: `gamma = gamma_scale / features`, so 1 is
        /// scikit-learn's `gamma = "scale"` on standardised features.
        #[serde(default = "default_svm_rbf_gamma_scale")]
        gamma_scale: Vec<f64>,
    },
    /// Random forest; `trees` is the number of trees.
    RandomForest {
        /// Forest sizes to try.
        #[serde(default = "default_forest_trees")]
        trees: Vec<usize>,
    },
    /// k nearest neighbours.
    Knn {
        /// Values of `k` to try.
        #[serde(default = "default_knn_k")]
        k: Vec<usize>,
    },
}

fn default_logistic_c() -> Vec<f64> {
    DEFAULT_LOGISTIC_C.to_vec()
}
fn default_svm_linear_c() -> Vec<f64> {
    DEFAULT_SVM_LINEAR_C.to_vec()
}
fn default_svm_rbf_c() -> Vec<f64> {
    DEFAULT_SVM_RBF_C.to_vec()
}
fn default_svm_rbf_gamma_scale() -> Vec<f64> {
    DEFAULT_SVM_RBF_GAMMA_SCALE.to_vec()
}
fn default_forest_trees() -> Vec<usize> {
    DEFAULT_FOREST_TREES.to_vec()
}
fn default_knn_k() -> Vec<usize> {
    DEFAULT_KNN_K.to_vec()
}

impl HeadSearch {
    /// The declared default grid of `kind` (the table in the crate documentation).
    pub fn default_for(kind: HeadKind) -> Self {
        match kind {
            HeadKind::Logistic => Self::Logistic {
                c: default_logistic_c(),
            },
            HeadKind::SvmLinear => Self::SvmLinear {
                c: default_svm_linear_c(),
            },
            HeadKind::SvmRbf => Self::SvmRbf {
                c: default_svm_rbf_c(),
                gamma_scale: default_svm_rbf_gamma_scale(),
            },
            HeadKind::RandomForest => Self::RandomForest {
                trees: default_forest_trees(),
            },
            HeadKind::Knn => Self::Knn { k: default_knn_k() },
        }
    }

    /// Which head this searches.
    pub fn kind(&self) -> HeadKind {
        match self {
            Self::Logistic { .. } => HeadKind::Logistic,
            Self::SvmLinear { .. } => HeadKind::SvmLinear,
            Self::SvmRbf { .. } => HeadKind::SvmRbf,
            Self::RandomForest { .. } => HeadKind::RandomForest,
            Self::Knn { .. } => HeadKind::Knn,
        }
    }

    /// Every setting to try, in declared order (for the RBF SVM, `c` outer and `gamma_scale`
    /// inner). Ties in validation score go to the earlier one.
    pub fn candidates(&self) -> Vec<Hyper> {
        match self {
            Self::Logistic { c } => c.iter().map(|&c| Hyper::Logistic { c }).collect(),
            Self::SvmLinear { c } => c.iter().map(|&c| Hyper::SvmLinear { c }).collect(),
            Self::SvmRbf { c, gamma_scale } => c
                .iter()
                .flat_map(|&c| {
                    gamma_scale
                        .iter()
                        .map(move |&gamma_scale| Hyper::SvmRbf { c, gamma_scale })
                })
                .collect(),
            Self::RandomForest { trees } => trees
                .iter()
                .map(|&trees| Hyper::RandomForest { trees })
                .collect(),
            Self::Knn { k } => k.iter().map(|&k| Hyper::Knn { k }).collect(),
        }
    }

    /// Checks every list is non-empty and every value in range: `c` and `gamma_scale` finite
    /// and positive, `trees` in 1..=65535 (smartcore's `u16`), `k` at least 1. The message
    /// names the key, e.g. `c must be > 0, got -1`. (Whether `k` fits the training rows is
    /// checked at fit time.)
    pub fn validate(&self) -> std::result::Result<(), String> {
        match self {
            Self::Logistic { c } | Self::SvmLinear { c } => positive_reals("c", c),
            Self::SvmRbf { c, gamma_scale } => {
                positive_reals("c", c)?;
                positive_reals("gamma_scale", gamma_scale)
            }
            Self::RandomForest { trees } => counts("trees", trees, MAX_TREES),
            Self::Knn { k } => counts("k", k, usize::MAX),
        }
    }
}

fn non_empty<T>(key: &str, values: &[T]) -> std::result::Result<(), String> {
    if values.is_empty() {
        return Err(format!("{key} must list at least one value, got []"));
    }
    Ok(())
}

fn positive_reals(key: &str, values: &[f64]) -> std::result::Result<(), String> {
    non_empty(key, values)?;
    for &v in values {
        if !v.is_finite() {
            return Err(format!("{key} must be a finite number, got {v}"));
        }
        if v <= 0.0 {
            return Err(format!("{key} must be > 0, got {v}"));
        }
    }
    Ok(())
}

fn counts(key: &str, values: &[usize], max: usize) -> std::result::Result<(), String> {
    non_empty(key, values)?;
    for &v in values {
        if v == 0 {
            return Err(format!("{key} must be >= 1, got 0"));
        }
        if v > max {
            return Err(format!("{key} must be <= {max}, got {v}"));
        }
    }
    Ok(())
}

/// One hyperparameter setting of a head. Displays as `c=0.1`, `c=1, gamma_scale=0.1`,
/// `trees=100`, `k=5`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Hyper {
    /// Logistic regression with `C = c`.
    Logistic {
        /// Inverse L2 strength.
        c: f64,
    },
    /// Linear SVM with `C = c`.
    SvmLinear {
        /// Soft-margin penalty.
        c: f64,
    },
    /// RBF SVM with `C = c` and `gamma = gamma_scale / features`.
    SvmRbf {
        /// Soft-margin penalty.
        c: f64,
        /// `gamma * features`.
        gamma_scale: f64,
    },
    /// Random forest of `trees` trees.
    RandomForest {
        /// Number of trees.
        trees: usize,
    },
    /// k nearest neighbours.
    Knn {
        /// Number of neighbours that vote.
        k: usize,
    },
}

impl Hyper {
    /// Which head this setting belongs to.
    pub fn kind(self) -> HeadKind {
        match self {
            Self::Logistic { .. } => HeadKind::Logistic,
            Self::SvmLinear { .. } => HeadKind::SvmLinear,
            Self::SvmRbf { .. } => HeadKind::SvmRbf,
            Self::RandomForest { .. } => HeadKind::RandomForest,
            Self::Knn { .. } => HeadKind::Knn,
        }
    }
}

impl fmt::Display for Hyper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Logistic { c } | Self::SvmLinear { c } => write!(f, "c={c}"),
            Self::SvmRbf { c, gamma_scale } => write!(f, "c={c}, gamma_scale={gamma_scale}"),
            Self::RandomForest { trees } => write!(f, "trees={trees}"),
            Self::Knn { k } => write!(f, "k={k}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn defaults_are_the_declared_grids() {
        let sizes: Vec<usize> = HeadKind::ALL
            .iter()
            .map(|&k| HeadSearch::default_for(k).candidates().len())
            .collect();
        assert_eq!(sizes, [4, 4, 9, 2, 5]);
        for kind in HeadKind::ALL {
            let search = HeadSearch::default_for(kind);
            assert_eq!(search.kind(), kind);
            assert_eq!(search.validate(), Ok(()));
            assert!(search.candidates().iter().all(|h| h.kind() == kind));
        }
    }

    #[test]
    fn rbf_candidates_vary_gamma_fastest_and_display_plainly() {
        let search = HeadSearch::SvmRbf {
            c: vec![1.0, 10.0],
            gamma_scale: vec![0.1, 1.0],
        };
        let shown: Vec<String> = search.candidates().iter().map(|h| h.to_string()).collect();
        assert_eq!(
            shown,
            [
                "c=1, gamma_scale=0.1",
                "c=1, gamma_scale=1",
                "c=10, gamma_scale=0.1",
                "c=10, gamma_scale=1"
            ]
        );
        assert_eq!(Hyper::Logistic { c: 0.1 }.to_string(), "c=0.1");
        assert_eq!(Hyper::RandomForest { trees: 100 }.to_string(), "trees=100");
        assert_eq!(Hyper::Knn { k: 5 }.to_string(), "k=5");
    }

    #[test]
    fn validate_names_the_key_and_the_value() {
        let cases = [
            (
                HeadSearch::Logistic { c: vec![1.0, -1.0] },
                "c must be > 0, got -1",
            ),
            (
                HeadSearch::SvmLinear { c: vec![0.0] },
                "c must be > 0, got 0",
            ),
            (
                HeadSearch::SvmLinear { c: vec![] },
                "c must list at least one value, got []",
            ),
            (
                HeadSearch::SvmRbf {
                    c: vec![1.0],
                    gamma_scale: vec![f64::NAN],
                },
                "gamma_scale must be a finite number, got NaN",
            ),
            (
                HeadSearch::SvmRbf {
                    c: vec![f64::INFINITY],
                    gamma_scale: vec![1.0],
                },
                "c must be a finite number, got inf",
            ),
            (
                HeadSearch::RandomForest {
                    trees: vec![100, 0],
                },
                "trees must be >= 1, got 0",
            ),
            (
                HeadSearch::RandomForest {
                    trees: vec![70_000],
                },
                "trees must be <= 65535, got 70000",
            ),
            (HeadSearch::Knn { k: vec![0] }, "k must be >= 1, got 0"),
            (
                HeadSearch::Knn { k: vec![] },
                "k must list at least one value, got []",
            ),
        ];
        for (search, message) in cases {
            assert_eq!(search.validate(), Err(message.to_string()), "{search:?}");
        }
    }

    #[test]
    fn toml_round_trip_with_defaults_and_unknown_keys_rejected() -> TestResult {
        let search: HeadSearch =
            toml::from_str("kind = \"svm_rbf\"\nc = [1.0]\ngamma_scale = [0.1]")?;
        assert_eq!(
            search,
            HeadSearch::SvmRbf {
                c: vec![1.0],
                gamma_scale: vec![0.1]
            }
        );
        for kind in HeadKind::ALL {
            let search = HeadSearch::default_for(kind);
            let text = toml::to_string(&search)?;
            assert!(text.starts_with(&format!("kind = \"{kind}\"")), "{text}");
            assert_eq!(toml::from_str::<HeadSearch>(&text)?, search);
            // A list left out takes its default.
            let bare: HeadSearch = toml::from_str(&format!("kind = \"{kind}\""))?;
            assert_eq!(bare, search);
        }

        let typo =
            toml::from_str::<HeadSearch>("kind = \"svm_rbf\"\nc = [1.0]\ngama_scale = [0.1]");
        let message = typo.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("unknown field `gama_scale`"), "{message}");
        // A key of another head is as unknown.
        let other = toml::from_str::<HeadSearch>("kind = \"logistic\"\nk = [1]");
        assert!(other.is_err());
        let kind = toml::from_str::<HeadSearch>("kind = \"svm\"");
        assert!(kind
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("unknown variant `svm`"));
        Ok(())
    }
}
