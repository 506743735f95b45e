//! The order a report lists things in: facets, lines, seeds and folds as the grid's results
//! first name them, never sorted by a name a reader did not choose.

/// The distinct items, in the order they first appear.
pub fn first_seen<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}
