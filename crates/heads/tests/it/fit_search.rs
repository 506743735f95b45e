//! `fit_search` end to end on synthetic features: accuracy on separable clusters,
//! reproducibility, training-only standardisation and the selection rule.

use cxr_heads::{fit_search, HeadKind, HeadSearch, Hyper, Matrix, Result, Standardizer};

use crate::support::{accuracy, clusters, Split};

const CLASSES: usize = 3;

/// Three well-separated clusters in 20-d (means 8 apart along their own axis, unit noise, all
/// offset by 50 so unstandardised features would be far from 0): train, validation, test.
fn separable() -> Result<(Split, Split, Split)> {
    Ok((
        clusters(150, 20, CLASSES, 8.0, 50.0, 1)?,
        clusters(60, 20, CLASSES, 8.0, 50.0, 2)?,
        clusters(150, 20, CLASSES, 8.0, 50.0, 3)?,
    ))
}

/// Overlapping clusters, where heads disagree and randomness shows.
fn noisy() -> Result<(Split, Split)> {
    Ok((
        clusters(150, 20, CLASSES, 1.0, 0.0, 4)?,
        clusters(60, 20, CLASSES, 1.0, 0.0, 5)?,
    ))
}

fn search(kind: HeadKind, train: &Split, val: &Split, seed: u64) -> Result<cxr_heads::Selection> {
    fit_search(
        &HeadSearch::default_for(kind),
        &train.features,
        &train.labels,
        &val.features,
        &val.labels,
        CLASSES,
        seed,
    )
}

#[test]
fn every_head_separates_well_separated_clusters() -> Result<()> {
    let (train, val, test) = separable()?;
    for kind in HeadKind::ALL {
        let selection = search(kind, &train, &val, 7)?;
        let acc = accuracy(&test.labels, &selection.head.predict(&test.features)?);
        let needed = match kind {
            HeadKind::Logistic | HeadKind::SvmLinear => 1.0,
            _ => 0.95,
        };
        assert!(acc >= needed, "{kind}: test accuracy {acc} < {needed}");
        assert_eq!(selection.head.kind(), kind);
        assert_eq!(
            selection.trials.len(),
            HeadSearch::default_for(kind).candidates().len()
        );
        assert!(selection.head.parameter_count() > 0);
    }
    Ok(())
}

#[test]
fn same_seed_same_predictions() -> Result<()> {
    let (train, val) = noisy()?;
    for kind in HeadKind::ALL {
        let a = search(kind, &train, &val, 11)?;
        let b = search(kind, &train, &val, 11)?;
        assert_eq!(a.head.hyper(), b.head.hyper(), "{kind}");
        assert_eq!(
            a.head.predict(&val.features)?,
            b.head.predict(&val.features)?,
            "{kind}"
        );
        assert_eq!(a.head.parameter_count(), b.head.parameter_count(), "{kind}");
        let scores = |s: &cxr_heads::Selection| -> Vec<(f64, f64)> {
            s.trials
                .iter()
                .map(|t| (t.val_micro_recall, t.val_macro_recall))
                .collect()
        };
        assert_eq!(scores(&a), scores(&b), "{kind}");
    }
    Ok(())
}

#[test]
fn the_forest_seed_matters() -> Result<()> {
    let (train, val) = noisy()?;
    let forest = |seed| {
        let search = HeadSearch::RandomForest { trees: vec![10] };
        fit_search(
            &search,
            &train.features,
            &train.labels,
            &val.features,
            &val.labels,
            CLASSES,
            seed,
        )
    };
    let (a, b) = (forest(1)?, forest(2)?);
    let differs = a.head.predict(&train.features)? != b.head.predict(&train.features)?
        || a.head.predict(&val.features)? != b.head.predict(&val.features)?
        || a.head.parameter_count() != b.head.parameter_count();
    assert!(differs, "seeds 1 and 2 grew the same forest");
    Ok(())
}

#[test]
fn standardisation_uses_the_training_split_only() -> Result<()> {
    let (train, val, test) = separable()?;
    // Validation features shifted by 1000 on every axis: wildly different statistics.
    let shifted = Matrix::new(
        val.features.rows(),
        val.features.cols(),
        val.features.data().iter().map(|v| v + 1000.0).collect(),
    )?;
    let expected = Standardizer::fit(&train.features);
    for kind in HeadKind::ALL {
        // One candidate, so the shifted validation cannot change which one is chosen.
        let single = HeadSearch::default_for(kind).candidates()[0];
        let search = match single {
            Hyper::Logistic { c } => HeadSearch::Logistic { c: vec![c] },
            Hyper::SvmLinear { c } => HeadSearch::SvmLinear { c: vec![c] },
            Hyper::SvmRbf { c, gamma_scale } => HeadSearch::SvmRbf {
                c: vec![c],
                gamma_scale: vec![gamma_scale],
            },
            Hyper::RandomForest { trees } => HeadSearch::RandomForest { trees: vec![trees] },
            Hyper::Knn { k } => HeadSearch::Knn { k: vec![k] },
        };
        let fit = |val_features: &Matrix| {
            fit_search(
                &search,
                &train.features,
                &train.labels,
                val_features,
                &val.labels,
                CLASSES,
                5,
            )
        };
        let (plain, wild) = (fit(&val.features)?, fit(&shifted)?);
        assert_eq!(plain.head.standardizer(), &expected, "{kind}");
        assert_eq!(wild.head.standardizer(), &expected, "{kind}");
        assert_eq!(
            plain.head.predict(&train.features)?,
            wild.head.predict(&train.features)?,
            "{kind}"
        );
        assert_eq!(
            plain.head.predict(&test.features)?,
            wild.head.predict(&test.features)?,
            "{kind}"
        );
        // And the shifted split is scored against the training statistics: far off, so wrong.
        assert!(
            wild.trials[0].val_micro_recall < plain.trials[0].val_micro_recall,
            "{kind} {:?} {:?}",
            wild.trials,
            plain.trials
        );
    }
    Ok(())
}

/// One feature; labels alternate in blocks of three training points, so a point's nearest
/// neighbour shares its label but most of its 21 nearest do not.
fn checkerboard() -> Result<(Split, Split)> {
    let block = |x: f32| ((x / 3.0).floor() as u32) % 2;
    let train_x: Vec<f32> = (0..60).map(|i| i as f32).collect();
    let val_x: Vec<f32> = (0..20).map(|b| 3.0 * b as f32 + 1.2).collect();
    let split = |xs: Vec<f32>| -> Result<Split> {
        let labels = xs.iter().map(|&x| block(x)).collect();
        Ok(Split {
            features: Matrix::new(xs.len(), 1, xs)?,
            labels,
        })
    };
    Ok((split(train_x)?, split(val_x)?))
}

#[test]
fn selection_keeps_the_best_candidate() -> Result<()> {
    let (train, val) = checkerboard()?;
    let search = HeadSearch::Knn { k: vec![21, 1] };
    let selection = fit_search(
        &search,
        &train.features,
        &train.labels,
        &val.features,
        &val.labels,
        2,
        0,
    )?;
    assert_eq!(selection.head.hyper(), Hyper::Knn { k: 1 });
    let tried: Vec<Hyper> = selection.trials.iter().map(|t| t.hyper).collect();
    assert_eq!(tried, [Hyper::Knn { k: 21 }, Hyper::Knn { k: 1 }]);
    assert_eq!(selection.trials[1].val_micro_recall, 1.0);
    assert!(selection.trials[0].val_micro_recall < 0.8);
    assert_eq!(selection.chosen(), Some(&selection.trials[1]));
    assert!(selection.fit_time_s >= selection.trials[1].fit_time_s);
    Ok(())
}

#[test]
fn a_tie_goes_to_the_first_declared_candidate() -> Result<()> {
    // Three clusters 10 apart in 3-d (no noise-only axes for standardisation to inflate):
    // every candidate is perfect on validation.
    let train = clusters(150, 3, CLASSES, 10.0, 0.0, 1)?;
    let val = clusters(60, 3, CLASSES, 10.0, 0.0, 2)?;
    for (search, first) in [
        (HeadSearch::Knn { k: vec![3, 1, 5] }, Hyper::Knn { k: 3 }),
        (
            HeadSearch::Logistic { c: vec![10.0, 1.0] },
            Hyper::Logistic { c: 10.0 },
        ),
    ] {
        let selection = fit_search(
            &search,
            &train.features,
            &train.labels,
            &val.features,
            &val.labels,
            CLASSES,
            0,
        )?;
        assert!(
            selection.trials.iter().all(|t| t.val_micro_recall == 1.0),
            "{:?}",
            selection.trials
        );
        assert_eq!(selection.head.hyper(), first);
    }
    Ok(())
}

#[test]
fn macro_recall_breaks_a_micro_recall_tie() -> Result<()> {
    // Validation: four of class 0, one of class 1. k=1 misses the class-0 point at 5.1 (its
    // nearest neighbour is the lone class-1 point at 5) but gets the class-1 point at 2.05;
    // k=3 outvotes both. Micro-recall 0.8 each; macro 0.875 for k=1, 0.5 for k=3.
    let train = Split {
        features: Matrix::new(7, 1, vec![0.0, 1.0, 2.0, 2.2, 4.0, 5.0, 6.0])?,
        labels: vec![0, 0, 1, 0, 0, 1, 0],
    };
    let val = Split {
        features: Matrix::new(5, 1, vec![0.1, 0.9, 5.1, 6.5, 2.05])?,
        labels: vec![0, 0, 0, 0, 1],
    };
    let selection = fit_search(
        &HeadSearch::Knn { k: vec![3, 1] },
        &train.features,
        &train.labels,
        &val.features,
        &val.labels,
        2,
        0,
    )?;
    let scores: Vec<(f64, f64)> = selection
        .trials
        .iter()
        .map(|t| (t.val_micro_recall, t.val_macro_recall))
        .collect();
    assert_eq!(scores, [(0.8, 0.5), (0.8, 0.875)]);
    assert_eq!(selection.head.hyper(), Hyper::Knn { k: 1 });
    Ok(())
}

#[test]
fn fitted_heads_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<cxr_heads::FittedHead>();
    send_sync::<cxr_heads::Selection>();
}

/// A rare class: 1 row in 10 is class 1 (cluster 1 of ten, shifted 1.5 along its axis).
fn rare(rows: usize, seed: u64) -> Result<Split> {
    let mut split = clusters(rows, 10, 10, 1.5, 0.0, seed)?;
    for label in &mut split.labels {
        *label = u32::from(*label == 1);
    }
    Ok(split)
}

#[test]
fn choosing_by_auroc_keeps_the_best_ranking_candidate() -> Result<()> {
    let (train, val) = (rare(300, 11)?, rare(200, 12)?);
    let data = cxr_heads::Splits {
        train: &train.features,
        train_labels: &train.labels,
        val: &val.features,
        val_labels: &val.labels,
    };
    for kind in [HeadKind::Logistic, HeadKind::SvmRbf, HeadKind::Knn] {
        let search = HeadSearch::default_for(kind);
        let selection =
            cxr_heads::fit_search_by(&search, &data, 2, 0, cxr_heads::Criterion::Auroc)?;
        let aurocs: Vec<f64> = selection
            .trials
            .iter()
            .map(|t| t.val_auroc.unwrap_or(f64::NAN))
            .collect();
        assert!(
            aurocs.iter().all(|a| (0.0..=1.0).contains(a)),
            "{kind}: {aurocs:?}"
        );
        let best = aurocs.iter().copied().fold(f64::MIN, f64::max);
        let chosen = selection.chosen().and_then(|t| t.val_auroc);
        assert_eq!(chosen, Some(best), "{kind}: {aurocs:?}");
        // The first candidate reaching the best AUROC, then the higher recall, is kept.
        assert!(best > 0.6, "{kind}: the rare class is learnable: {best}");
    }
    // AUROC ranks two classes only.
    let err = cxr_heads::fit_search_by(
        &HeadSearch::default_for(HeadKind::Logistic),
        &data,
        3,
        0,
        cxr_heads::Criterion::Auroc,
    )
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("invalid logistic search: choosing by AUROC needs two classes, got 3")
    );
    Ok(())
}
