//! How a run splits its dataset: one stratified split by fractions, or one fold of k-fold
//! cross-validation ([`SplitSettings`], the `[split]` table of a run's `config.toml`), and the
//! train/validation/test indices it draws ([`SplitSettings::partition`]).

use cxr_data::{
    grouped_folds, grouped_split, stratified_folds, stratified_split, DataError, FindingMatrix,
    Groups, Split, SplitFractions,
};

/// How a run splits its dataset into train, validation and test: one stratified split by
/// fractions, or one fold of stratified k-fold cross-validation. The `[split]` table of
/// `config.toml`: `train`, `val`, `test` for fractions (exactly as before cross-validation
/// existed, so those runs keep their ids), `val`, `folds`, `fold` for a fold.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum SplitSettings {
    /// One split: these fractions of each class go to train, validation and test.
    Fractions(SplitFractions),
    /// Fold `fold` of `folds`: its test split is that fold.
    Fold(FoldSplit),
}

/// One fold of k-fold cross-validation ([`cxr_data::stratified_folds`]): each class is dealt
/// into `folds` test folds (every image in exactly one), this run tests on fold `fold`, takes
/// `val` of each class from the other folds for validation and trains on the rest. The runs of
/// one seed share one partition.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoldSplit {
    /// Validation fraction of each class, carved from the training folds.
    pub val: f64,
    /// Number of folds (at least 2).
    pub folds: usize,
    /// This run's test fold, `0..folds`.
    pub fold: usize,
}

impl FoldSplit {
    /// This run's fold of a seed's partition into `folds` (as the k-fold splitters return it).
    fn pick(&self, folds: Vec<Split>) -> cxr_data::Result<Split> {
        folds
            .into_iter()
            .nth(self.fold)
            .ok_or_else(|| DataError::InvalidSetting {
                setting: "split.fold",
                message: format!(
                    "fold {} of {} folds: folds are 0..{}",
                    self.fold, self.folds, self.folds
                ),
            })
    }
}

impl Default for SplitSettings {
    fn default() -> Self {
        Self::Fractions(SplitFractions::default())
    }
}

impl SplitSettings {
    /// The fold this run tests on, when it cross-validates.
    pub fn fold(&self) -> Option<FoldSplit> {
        match self {
            Self::Fractions(_) => None,
            Self::Fold(fold) => Some(*fold),
        }
    }

    /// The run's train/validation/test indices into a dataset with `labels` (indices into
    /// `classes`), drawn with `rng` (the run seed's split stream): a stratified split, or
    /// fold `fold` of the seed's k-fold partition.
    pub fn partition(
        &self,
        labels: &[u32],
        classes: &[String],
        rng: &mut impl rand::Rng,
    ) -> cxr_data::Result<Split> {
        match self {
            Self::Fractions(fractions) => stratified_split(labels, classes, *fractions, rng),
            Self::Fold(f) => f.pick(stratified_folds(labels, classes, f.folds, f.val, rng)?),
        }
    }
}

impl SplitSettings {
    /// The same partition as [`SplitSettings::partition`], keeping every group's (patient's)
    /// films in one part and stratifying over the groups by their findings
    /// ([`cxr_data::grouped_split`], [`cxr_data::grouped_folds`]).
    pub fn partition_grouped(
        &self,
        groups: &Groups,
        findings: &FindingMatrix,
        rng: &mut impl rand::Rng,
    ) -> cxr_data::Result<Split> {
        match self {
            Self::Fractions(fractions) => grouped_split(groups, findings, *fractions, rng),
            Self::Fold(f) => f.pick(grouped_folds(groups, findings, f.folds, f.val, rng)?),
        }
    }
}

impl std::fmt::Display for SplitSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Fractions(s) => write!(f, "train/val/test {}/{}/{}", s.train, s.val, s.test),
            Self::Fold(s) => write!(f, "fold {} of {} (val {})", s.fold, s.folds, s.val),
        }
    }
}

/// `[split]` as read back from a `config.toml`: fractions, or a fold with its fold count. A
/// key neither form has, or one form's key in the other, is an error (a config from a newer
/// cxr must fail to load rather than drop a setting).
impl<'de> serde::Deserialize<'de> for SplitSettings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Written {
            train: Option<f64>,
            val: f64,
            test: Option<f64>,
            folds: Option<usize>,
            fold: Option<usize>,
        }
        use serde::de::Error as _;
        let w = Written::deserialize(deserializer)?;
        match (w.train, w.test, w.folds, w.fold) {
            (Some(train), Some(test), None, None) => Ok(Self::Fractions(SplitFractions {
                train,
                val: w.val,
                test,
            })),
            (None, None, Some(folds), Some(fold)) => Ok(Self::Fold(FoldSplit {
                val: w.val,
                folds,
                fold,
            })),
            _ => Err(D::Error::custom(
                "[split] holds either train, val and test, or val, folds and fold",
            )),
        }
    }
}
