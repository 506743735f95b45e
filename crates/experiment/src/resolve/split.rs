//! `[split]`: train/validation/test fractions, or one fold of k-fold cross-validation.

use cxr_data::SplitFractions;

use super::{Resolver, MAX_FOLDS};
use crate::error::Result;
use crate::raw::{RawRun, RawSplit};
use crate::split::{FoldSplit, SplitSettings};

impl Resolver<'_> {
    /// The split by fractions (`SplitFractions`' defaults), or with `folds` the cell's fold.
    pub(super) fn split(&self, raw: &RawRun) -> Result<SplitSettings> {
        let s = raw.split.clone().unwrap_or_default();
        let def = SplitFractions::default();
        match (s.folds, s.fold) {
            (Some(folds), fold) => return self.fold_split(&s, folds, fold).map(SplitSettings::Fold),
            (None, Some(fold)) => {
                return Err(self.invalid(
                    "split.fold",
                    fold,
                    "a fold is one of k cross-validation folds: set [split] folds = k, or leave fold out",
                ))
            }
            (None, None) => {}
        }
        let f = SplitFractions {
            train: s.train.unwrap_or(def.train),
            val: s.val.unwrap_or(def.val),
            test: s.test.unwrap_or(def.test),
        };
        f.validate().map_err(|e| {
            self.invalid(
                "split",
                format!("{}/{}/{}", f.train, f.val, f.test),
                e.to_string(),
            )
        })?;
        Ok(SplitSettings::Fractions(f))
    }

    /// `[split] folds = k` with the cell's test fold: the validation fraction must leave
    /// training images in the other folds, and fractions of train and test have no meaning.
    fn fold_split(&self, s: &RawSplit, folds: usize, fold: Option<usize>) -> Result<FoldSplit> {
        let folds = self.range("split.folds", folds, 2, MAX_FOLDS)?;
        for (setting, given) in [("split.train", s.train), ("split.test", s.test)] {
            if let Some(v) = given {
                return Err(self.invalid(
                    setting,
                    v,
                    format!(
                        "with split.folds = {folds} each run tests on one fold (1/{folds} of each class) and trains on the rest: leave split.train and split.test out"
                    ),
                ));
            }
        }
        let fold = fold.ok_or_else(|| {
            self.invalid(
                "split.fold",
                "(missing)",
                "a cross-validation run needs its test fold: list fold = [...] in [grid] or leave it to the expansion",
            )
        })?;
        if fold >= folds {
            return Err(self.invalid(
                "split.fold",
                fold,
                format!("allowed range is 0..={} (split.folds = {folds})", folds - 1),
            ));
        }
        let val = s.val.unwrap_or(SplitFractions::default().val);
        let outside = (folds - 1) as f64 / folds as f64;
        if !(val > 0.0 && val < outside) {
            return Err(self.invalid(
                "split.val",
                val,
                format!(
                    "with split.folds = {folds} validation is carved from the other folds ({outside:.3} of each class): allowed range is (0, {outside:.3}), leaving training images"
                ),
            ));
        }
        Ok(FoldSplit { val, folds, fold })
    }
}
