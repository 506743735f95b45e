//! Cross-validation runs pick their fold of one partition per seed: across the runs of a seed
//! the test folds are disjoint and cover the dataset, and no run tests on an image it trains or
//! validates on.

use std::collections::BTreeSet;

use cxr_experiment::{Grid, Overrides};
use cxr_trainer::prepare::DataMemo;

use crate::support::TestResult;

#[test]
fn the_test_folds_of_a_seed_partition_the_dataset() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let text =
        "name = \"cv\"\n[data]\nimage_size = 32\n[data.synthetic]\nper_class = 10\nsize = 32\n\
                [model]\nname = \"cnn\"\n[split]\nfolds = 4\nval = 0.2\n[grid]\nseed = [0, 1]\n";
    let path = tmp.path().join("cv.toml");
    std::fs::write(&path, text)?;
    let grid = Grid::from_file(&path, &Overrides::default())?;
    assert_eq!(grid.runs.len(), 8);
    let cache = tmp.path().join("cache");
    let mut memo = DataMemo::default();
    let mut first_folds = Vec::new();
    for seed in [0, 1] {
        let mut tested = BTreeSet::new();
        let mut total = 0;
        for run in grid.runs.iter().filter(|r| r.config.seed == seed) {
            let data = memo.prepare(&run.config, &cache)?;
            let n = data.set.len();
            assert_eq!(n, 40, "4 classes x 10");
            let (train, val, test): (BTreeSet<usize>, BTreeSet<usize>, BTreeSet<usize>) = (
                data.split.train.iter().copied().collect(),
                data.split.val.iter().copied().collect(),
                data.split.test.iter().copied().collect(),
            );
            // A class's 10 shuffled images are dealt round-robin into 4 folds: 3, 3, 2, 2.
            let fold = run.config.split.fold().map_or(99, |f| f.fold);
            assert_eq!(test.len(), [12, 12, 8, 8][fold], "{}", run.id);
            // round(10 * 0.2) = 2 validation images per class, from the other folds.
            assert_eq!(val.len(), 8, "{}", run.id);
            assert!(train.is_disjoint(&test) && val.is_disjoint(&test) && train.is_disjoint(&val));
            assert_eq!(train.len() + val.len() + test.len(), n);
            total += test.len();
            tested.extend(test.iter().copied());
            if fold == 0 {
                first_folds.push(test);
            }
        }
        assert_eq!(total, 40, "seed {seed}: test folds overlap");
        assert_eq!(
            tested,
            (0..40).collect(),
            "seed {seed}: every image in one test fold"
        );
    }
    // Each seed draws its own partition from its split stream.
    assert_eq!(first_folds.len(), 2);
    assert_ne!(first_folds[0], first_folds[1]);
    Ok(())
}
