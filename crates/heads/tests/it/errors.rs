//! `fit_search` and `FittedHead::predict` refuse bad input with one-line errors.

use cxr_heads::{fit_search, HeadError, HeadKind, HeadSearch, Matrix, Result};

use crate::support::clusters;

fn knn() -> HeadSearch {
    HeadSearch::Knn { k: vec![1] }
}

/// The error of fitting `search` on the given splits with 3 classes.
fn error_of(
    search: &HeadSearch,
    train: &Matrix,
    train_labels: &[u32],
    val: &Matrix,
    val_labels: &[u32],
) -> Option<HeadError> {
    fit_search(search, train, train_labels, val, val_labels, 3, 0).err()
}

#[test]
fn shape_errors_name_the_split_and_the_sizes() -> Result<()> {
    let train = clusters(6, 4, 3, 5.0, 0.0, 1)?;
    let val = clusters(3, 4, 3, 5.0, 0.0, 2)?;
    let (x, y) = (&train.features, &train.labels);
    let (vx, vy) = (&val.features, &val.labels);

    let err = error_of(&knn(), x, &y[..5], vx, vy);
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("train split has 6 feature rows but 5 labels; pass one label per row")
    );
    let err = error_of(&knn(), x, y, vx, &vy[..2]);
    assert!(matches!(
        err,
        Some(HeadError::LabelCount {
            split: "validation",
            rows: 3,
            labels: 2
        })
    ));

    let narrow = Matrix::new(3, 3, vec![0.0; 9])?;
    let err = error_of(&knn(), x, y, &narrow, vy);
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some(
            "validation features have 3 columns but the training features have 4; \
             extract every split with the same backbone"
        )
    );

    let empty = Matrix::new(0, 4, vec![])?;
    let err = error_of(&knn(), &empty, &[], vx, vy);
    assert!(matches!(
        err,
        Some(HeadError::EmptySplit { split: "train" })
    ));
    let err = error_of(&knn(), x, y, &empty, &[]);
    assert!(matches!(
        err,
        Some(HeadError::EmptySplit {
            split: "validation"
        })
    ));

    let no_features = Matrix::new(6, 0, vec![])?;
    let err = error_of(&knn(), &no_features, y, &Matrix::new(3, 0, vec![])?, vy);
    assert!(matches!(err, Some(HeadError::NoFeatures)));
    Ok(())
}

#[test]
fn label_and_value_errors() -> Result<()> {
    let train = clusters(6, 4, 3, 5.0, 0.0, 1)?;
    let val = clusters(3, 4, 3, 5.0, 0.0, 2)?;
    let (x, vx, vy) = (&train.features, &val.features, &val.labels);

    let err = error_of(&knn(), x, &[0, 1, 2, 0, 3, 1], vx, vy);
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("train label 3 at row 4 is not a class index: labels must be < classes = 3")
    );
    let err = error_of(&knn(), x, &train.labels, vx, &[0, 7, 1]);
    assert!(matches!(
        err,
        Some(HeadError::LabelOutOfRange {
            split: "validation",
            row: 1,
            label: 7,
            ..
        })
    ));

    let err = error_of(&knn(), x, &[2; 6], vx, vy);
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("the training split holds 1 class(es) ([2]); a classifier needs at least 2")
    );

    let mut data = x.data().to_vec();
    data[5] = f32::NAN;
    let err = error_of(&knn(), &Matrix::new(6, 4, data)?, &train.labels, vx, vy);
    assert!(matches!(
        err,
        Some(HeadError::NonFinite {
            split: "train",
            row: 1,
            col: 1,
            ..
        })
    ));
    Ok(())
}

#[test]
fn search_errors_come_before_any_fit() -> Result<()> {
    let train = clusters(6, 4, 3, 5.0, 0.0, 1)?;
    let val = clusters(3, 4, 3, 5.0, 0.0, 2)?;
    let (x, y, vx, vy) = (&train.features, &train.labels, &val.features, &val.labels);

    let err = error_of(&HeadSearch::Knn { k: vec![1, 7] }, x, y, vx, vy);
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("knn k = 7 exceeds the 6 training rows; use k <= 6")
    );
    let err = error_of(&HeadSearch::SvmLinear { c: vec![1.0, -1.0] }, x, y, vx, vy);
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("invalid svm_linear search: c must be > 0, got -1")
    );
    let err = error_of(&HeadSearch::RandomForest { trees: vec![] }, x, y, vx, vy);
    assert!(matches!(
        err,
        Some(HeadError::InvalidSearch {
            kind: HeadKind::RandomForest,
            ..
        })
    ));
    Ok(())
}

#[test]
fn predict_checks_its_input() -> Result<()> {
    let train = clusters(6, 4, 3, 5.0, 0.0, 1)?;
    let val = clusters(3, 4, 3, 5.0, 0.0, 2)?;
    let selection = fit_search(
        &knn(),
        &train.features,
        &train.labels,
        &val.features,
        &val.labels,
        3,
        0,
    )?;
    let err = selection
        .head
        .predict(&Matrix::new(1, 5, vec![0.0; 5])?)
        .err();
    assert!(matches!(
        err,
        Some(HeadError::ColumnMismatch {
            split: "predict",
            expected: 4,
            found: 5
        })
    ));
    let err = selection
        .head
        .predict(&Matrix::new(1, 4, vec![0.0, f32::INFINITY, 0.0, 0.0])?)
        .err();
    assert!(matches!(
        err,
        Some(HeadError::NonFinite {
            split: "predict",
            col: 1,
            ..
        })
    ));
    assert_eq!(
        selection.head.predict(&Matrix::new(0, 4, vec![])?)?,
        Vec::<u32>::new()
    );
    Ok(())
}
