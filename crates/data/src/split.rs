//! Stratified train/validation/test splits: one split by fractions ([`stratified_split`]), or
//! k folds for cross-validation ([`stratified_folds`]).

use rand::seq::SliceRandom;

use crate::error::{DataError, Result};

/// Fractions of each class that go to train, validation and test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitFractions {
    /// Training fraction.
    pub train: f64,
    /// Validation fraction (early stopping, model selection).
    pub val: f64,
    /// Test fraction (reported once, with the kept weights).
    pub test: f64,
}

impl Default for SplitFractions {
    fn default() -> Self {
        Self {
            train: 0.7,
            val: 0.1,
            test: 0.2,
        }
    }
}

impl SplitFractions {
    /// Checks that each fraction is in (0, 1) and that they sum to 1.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("split.train", self.train),
            ("split.val", self.val),
            ("split.test", self.test),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(DataError::InvalidSetting {
                    setting: name,
                    message: format!("{v} is outside (0, 1)"),
                });
            }
        }
        let sum = self.train + self.val + self.test;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(DataError::InvalidSetting {
                setting: "split",
                message: format!("train + val + test = {sum}, must be 1"),
            });
        }
        Ok(())
    }
}

/// Indices into a dataset, per split, each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// Training images.
    pub train: Vec<usize>,
    /// Validation images.
    pub val: Vec<usize>,
    /// Test images.
    pub test: Vec<usize>,
}

/// Splits each class by `fractions` with a generator seeded by the caller, so every class is in
/// every split. Validation and test get `round(n * fraction)` images of a class, at least one
/// each; train gets the rest. A class with fewer than 3 images is an error.
pub fn stratified_split(
    labels: &[u32],
    classes: &[String],
    fractions: SplitFractions,
    rng: &mut impl rand::Rng,
) -> Result<Split> {
    fractions.validate()?;
    let mut split = Split::default();
    for (label, class) in classes.iter().enumerate() {
        let mut members: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] as usize == label)
            .collect();
        let n = members.len();
        if n < 3 {
            return Err(DataError::ClassTooSmall {
                class: class.clone(),
                count: n,
            });
        }
        members.shuffle(rng);
        let n_val = ((n as f64 * fractions.val).round() as usize).max(1);
        let n_test = ((n as f64 * fractions.test).round() as usize).max(1);
        let n_test = n_test.min(n - n_val - 1);
        let (val, rest) = members.split_at(n_val);
        let (test, train) = rest.split_at(n_test);
        split.val.extend(val);
        split.test.extend(test);
        split.train.extend(train);
    }
    split.train.sort_unstable();
    split.val.sort_unstable();
    split.test.sort_unstable();
    Ok(split)
}

/// The settings every k-fold partition needs (stratified by class or grouped by patient):
/// `k` at least 2, and a validation fraction in (0, 1).
pub(crate) fn check_fold_settings(k: usize, val: f64) -> Result<()> {
    if k < 2 {
        return Err(DataError::InvalidSetting {
            setting: "split.folds",
            message: format!("{k} fold(s): cross-validation needs at least 2"),
        });
    }
    if !(val > 0.0 && val < 1.0) {
        return Err(DataError::InvalidSetting {
            setting: "split.val",
            message: format!("{val} is outside (0, 1)"),
        });
    }
    Ok(())
}

/// `k` stratified cross-validation folds: each class is shuffled once by `rng` and dealt
/// round-robin into `k` test folds, so every image is in exactly one fold's test split and each
/// class's count differs by at most one between folds. Fold `f`'s validation split is carved
/// from the other folds, `round(n * val)` images of a class of `n` (at least one); its
/// training split is the rest. A class needs at least `k` images and two outside each test
/// fold; `k` must be at least 2.
pub fn stratified_folds(
    labels: &[u32],
    classes: &[String],
    k: usize,
    val: f64,
    rng: &mut impl rand::Rng,
) -> Result<Vec<Split>> {
    check_fold_settings(k, val)?;
    let mut folds = vec![Split::default(); k];
    for (label, class) in classes.iter().enumerate() {
        let mut members: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] as usize == label)
            .collect();
        let n = members.len();
        if n < k || n - n.div_ceil(k) < 2 {
            return Err(DataError::ClassTooSmallForFolds {
                class: class.clone(),
                count: n,
                folds: k,
            });
        }
        members.shuffle(rng);
        for (f, fold) in folds.iter_mut().enumerate() {
            let (mut test, mut rest) = (Vec::new(), Vec::new());
            for (position, &i) in members.iter().enumerate() {
                if position % k == f {
                    test.push(i);
                } else {
                    rest.push(i);
                }
            }
            let n_val = ((n as f64 * val).round() as usize).clamp(1, rest.len() - 1);
            fold.test.extend(test);
            fold.val.extend(&rest[..n_val]);
            fold.train.extend(&rest[n_val..]);
        }
    }
    for fold in &mut folds {
        fold.train.sort_unstable();
        fold.val.sort_unstable();
        fold.test.sort_unstable();
    }
    Ok(folds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{self, Stream};

    fn classes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    #[test]
    fn stratified_counts_and_disjoint_cover() -> Result<()> {
        let labels: Vec<u32> = (0..100).map(|i| u32::from(i >= 70)).collect(); // 70 + 30
        let s = stratified_split(
            &labels,
            &classes(2),
            SplitFractions::default(),
            &mut seed::rng(0, Stream::Split),
        )?;
        let count = |idx: &[usize], c: u32| idx.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!(
            (count(&s.train, 0), count(&s.val, 0), count(&s.test, 0)),
            (49, 7, 14)
        );
        assert_eq!(
            (count(&s.train, 1), count(&s.val, 1), count(&s.test, 1)),
            (21, 3, 6)
        );
        let mut all: Vec<usize> = s
            .train
            .iter()
            .chain(&s.val)
            .chain(&s.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        Ok(())
    }

    #[test]
    fn same_seed_same_split_other_seed_other_split() -> Result<()> {
        let labels: Vec<u32> = (0..60).map(|i| i % 3).collect();
        let f = SplitFractions::default();
        let a = stratified_split(&labels, &classes(3), f, &mut seed::rng(1, Stream::Split))?;
        let b = stratified_split(&labels, &classes(3), f, &mut seed::rng(1, Stream::Split))?;
        let c = stratified_split(&labels, &classes(3), f, &mut seed::rng(2, Stream::Split))?;
        assert_eq!(a, b);
        assert_ne!(a.test, c.test);
        Ok(())
    }

    #[test]
    fn three_images_put_one_in_each_split_and_two_is_an_error() -> Result<()> {
        let s = stratified_split(
            &[0, 0, 0],
            &classes(1),
            SplitFractions::default(),
            &mut seed::rng(0, Stream::Split),
        )?;
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (1, 1, 1));
        let err = stratified_split(
            &[0, 0, 1, 1, 1],
            &classes(2),
            SplitFractions::default(),
            &mut seed::rng(0, Stream::Split),
        );
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("\"c0\" has 2 image(s)"), "{msg}");
        Ok(())
    }

    #[test]
    fn bad_fractions_name_the_setting() {
        let f = SplitFractions {
            train: 0.8,
            val: 0.1,
            test: 0.2,
        };
        let msg = f
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("invalid setting split"), "{msg}");
        let f = SplitFractions {
            train: 1.0,
            val: 0.0,
            test: 0.0,
        };
        let msg = f
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("split.train"), "{msg}");
    }

    #[test]
    fn folds_partition_the_dataset_stratified_and_disjoint() -> Result<()> {
        // 3 classes of 23, 17 and 10 images, 5 folds, 10% validation.
        let labels: Vec<u32> = (0..50)
            .map(|i| match i {
                0..23 => 0,
                23..40 => 1,
                _ => 2,
            })
            .collect();
        let folds = stratified_folds(
            &labels,
            &classes(3),
            5,
            0.1,
            &mut seed::rng(4, Stream::Split),
        )?;
        assert_eq!(folds.len(), 5);
        // Every image in exactly one test fold.
        let mut tests: Vec<usize> = folds.iter().flat_map(|f| f.test.iter().copied()).collect();
        tests.sort_unstable();
        assert_eq!(tests, (0..50).collect::<Vec<_>>());
        for fold in &folds {
            // Each fold's train, val and test partition the dataset.
            let mut all: Vec<usize> = fold
                .train
                .iter()
                .chain(&fold.val)
                .chain(&fold.test)
                .copied()
                .collect();
            all.sort_unstable();
            assert_eq!(all, (0..50).collect::<Vec<_>>());
            for c in 0..3u32 {
                let count = |idx: &[usize]| idx.iter().filter(|&&i| labels[i] == c).count();
                let n = labels.iter().filter(|&&l| l == c).count();
                // Stratified: a class's test count is floor or ceil of n / 5.
                let t = count(&fold.test);
                assert!(t == n / 5 || t == n.div_ceil(5), "class {c}: {t} of {n}");
                assert_eq!(count(&fold.val), ((n as f64 * 0.1).round() as usize).max(1));
                assert!(count(&fold.train) > 0);
            }
        }
        // Same seed, same folds; another seed, other folds.
        let again = stratified_folds(
            &labels,
            &classes(3),
            5,
            0.1,
            &mut seed::rng(4, Stream::Split),
        )?;
        assert_eq!(again, folds);
        let other = stratified_folds(
            &labels,
            &classes(3),
            5,
            0.1,
            &mut seed::rng(5, Stream::Split),
        )?;
        assert_ne!(other, folds);
        Ok(())
    }

    #[test]
    fn folds_refuse_too_few_folds_or_images() {
        let labels: Vec<u32> = (0..20).map(|i| u32::from(i >= 17)).collect(); // 17 + 3
        let mut rng = seed::rng(0, Stream::Split);
        let err = |k: usize, rng: &mut rand_chacha::ChaCha8Rng| {
            stratified_folds(&labels, &classes(2), k, 0.1, rng)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err(1, &mut rng).contains("split.folds"));
        // 3 images cannot fill 5 test folds.
        let msg = err(5, &mut rng);
        assert!(
            msg.contains("\"c1\" has 3 image(s)") && msg.contains("use fewer folds"),
            "{msg}"
        );
        // 3 images in 3 folds leave 2 outside each test fold: enough.
        assert!(stratified_folds(&labels, &classes(2), 3, 0.1, &mut rng).is_ok());
    }
}
