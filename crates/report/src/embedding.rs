//! Two-dimensional embeddings of a dataset's features ([`FeatureTable`]), what the feature maps
//! ([`crate::feature_map`]) draw: PCA and t-SNE, one point per image.
//!
//! Features are standardised with the training rows' mean and standard deviation, so test rows
//! are placed exactly as a model fitted on the training rows would see them. The PCA is fitted
//! on the training rows and applied to every row; a t-SNE cannot place new points, so it embeds
//! the training and test rows together, once. Validation rows are in neither: they chose the
//! kept epoch, so they are neither the data fitted nor truly held out.
//!
//! The algorithms are linfa's: [`linfa_reduction::Pca`] (pure Rust, LOBPCG) and
//! [`linfa_tsne`] (the `bhtsne` crate's exact t-SNE, on at most [`TSNE_MAX_ROWS`] rows, so a
//! seed gives one map).

use cxr_results::{split_name, FeatureTable};
use linfa::traits::{Fit, Predict, Transformer};
use linfa::DatasetBase;
use linfa_reduction::Pca;
use linfa_tsne::TSneParams;
use ndarray::Array2;
use ndarray_rand::rand::{rngs::SmallRng, seq::SliceRandom, SeedableRng};

use crate::error::{ReportError, Result};

/// Fewest training rows a map is computed from: below this the training statistics, the PCA
/// and the t-SNE's neighbourhoods mean nothing.
pub const MIN_ROWS: usize = 5;

/// The t-SNE's largest perplexity (its effective number of neighbours), the usual default;
/// smaller tables get `(n - 1) / 3`, the most the algorithm accepts.
const PERPLEXITY: usize = 30;

/// Gradient steps of the t-SNE (scikit-learn's and bhtsne's default); the first 250 exaggerate
/// the neighbourhoods (linfa's default), the rest refine them.
const TSNE_ITERATIONS: usize = 1000;

/// Most rows a t-SNE embeds; larger tables are embedded through a seeded random sample of
/// this many training and test rows. The t-SNE is exact, quadratic in the rows and
/// single-threaded: 8-13 s for 900 rows of 512 features on a busy 2-core machine, so about a
/// minute for 2000, with two `n x n` matrices of f64 (64 MB at 2000).
///
/// Why not Barnes-Hut (linfa's default, `n log n`): in bhtsne 0.4.1 the vantage-point tree of
/// its neighbour search draws vantage points from `rand::thread_rng()`, which no seed reaches,
/// and selects each node's median with an absolute index into a sub-slice, so the tree does
/// not split at its thresholds and the search is approximate and changes from run to run.
/// Measured: 900 rows of 512 features, same seed, two different maps; 240 rows of 64 features
/// likewise (the fixture of `feature_map_tsne_is_deterministic_by_seed`); and a stack overflow
/// (an abort, not an error) on 240 rows of 512 features in a test thread. The exact t-SNE has
/// no tree.
pub const TSNE_MAX_ROWS: usize = 2000;

/// The PCA coordinates of every row of `table`, in table order (validation rows included;
/// [`crate::feature_map::draw_feature_maps`] leaves them out). Features are standardised with the training rows'
/// mean and standard deviation and the PCA is fitted on the training rows only, so test rows
/// do not move the axes.
pub fn pca_2d(table: &FeatureTable) -> Result<Vec<[f64; 2]>> {
    Ok(PcaMap::fit(table)?.points)
}

/// The t-SNE coordinates of the training and test rows, as (table row, coordinates) in table
/// order; validation rows are left out, and of a table with more than [`TSNE_MAX_ROWS`]
/// training and test rows, a random sample of that many drawn with `seed`. Features are
/// standardised with the training rows' mean and standard deviation, then training and test
/// rows are embedded together, once (a t-SNE cannot place new points). Exact t-SNE, perplexity
/// min(30, (n - 1) / 3), 1000 iterations (the first 250 with exaggerated neighbourhoods); the
/// same `seed` gives the same coordinates (it draws the sample and the starting positions).
pub fn tsne_2d(table: &FeatureTable, seed: u64) -> Result<Vec<(usize, [f64; 2])>> {
    tsne_sample(table, seed, TSNE_MAX_ROWS)
}

/// [`tsne_2d`] on at most `max_rows` rows.
fn tsne_sample(table: &FeatureTable, seed: u64, max_rows: usize) -> Result<Vec<(usize, [f64; 2])>> {
    let stats = TrainingStats::of(table)?;
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut rows: Vec<usize> = (0..table.len())
        .filter(|&i| table.splits[i] != split_name::VAL)
        .collect();
    if rows.len() > max_rows {
        rows = rows.choose_multiple(&mut rng, max_rows).copied().collect();
        rows.sort_unstable();
    }
    let x = stats.standardise(table, &rows)?;
    if x.rows().into_iter().all(|r| r == x.row(0)) {
        return Err(invalid("every training and test row has the same features"));
    }
    let perplexity = PERPLEXITY.min((rows.len() - 1) / 3);
    let embedding = TSneParams::embedding_size_with_rng(2, rng)
        .perplexity(perplexity as f64)
        .approx_threshold(0.0) // exact: see TSNE_MAX_ROWS
        .max_iter(TSNE_ITERATIONS)
        .transform(x)
        .map_err(|e| invalid(format!("t-SNE failed: {e}")))?;
    let points = embedding.rows().into_iter().map(|r| [r[0], r[1]]);
    Ok(rows.into_iter().zip(points).collect())
}

fn invalid(why: impl Into<String>) -> ReportError {
    ReportError::FeatureMap(why.into())
}

/// Per-feature mean and scale of the training rows.
struct TrainingStats {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl TrainingStats {
    /// Checks that `table` can be mapped (two features, [`MIN_ROWS`] training rows) and
    /// measures its training rows.
    fn of(table: &FeatureTable) -> Result<Self> {
        if table.dim < 2 {
            return Err(invalid(format!(
                "a 2-D map needs at least 2 features per image, the table has {}",
                table.dim
            )));
        }
        let train = table.rows_in(split_name::TRAIN);
        if train.len() < MIN_ROWS {
            return Err(invalid(format!(
                "a 2-D map needs at least {MIN_ROWS} training rows, the table has {}",
                train.len()
            )));
        }
        let n = train.len() as f64;
        let mut mean = vec![0.0; table.dim];
        for &i in &train {
            for (m, &v) in mean.iter_mut().zip(table.row(i)) {
                *m += f64::from(v) / n;
            }
        }
        let mut var = vec![0.0; table.dim];
        for &i in &train {
            for ((s, &v), m) in var.iter_mut().zip(table.row(i)).zip(&mean) {
                *s += (f64::from(v) - m).powi(2) / n;
            }
        }
        // A feature constant over the training rows carries no information there; scaling it
        // by 1 keeps it from dividing by zero and leaves test rows' deviations visible.
        let scale = var
            .iter()
            .map(|v| if *v > 1e-24 { v.sqrt() } else { 1.0 })
            .collect();
        Ok(Self { mean, scale })
    }

    /// `rows` of `table`, standardised: (rows.len(), dim). Fails on a non-finite value.
    fn standardise(&self, table: &FeatureTable, rows: &[usize]) -> Result<Array2<f64>> {
        let mut x = Array2::zeros((rows.len(), table.dim));
        for (mut out, &i) in x.rows_mut().into_iter().zip(rows) {
            let row = table.row(i);
            if row.iter().any(|v| !v.is_finite()) {
                return Err(invalid(format!(
                    "row {i} ({}) has a non-finite feature",
                    table.paths[i]
                )));
            }
            for (j, &v) in row.iter().enumerate() {
                out[j] = (f64::from(v) - self.mean[j]) / self.scale[j];
            }
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(invalid("standardised features overflow"));
        }
        Ok(x)
    }
}

/// A fitted PCA's coordinates and how much of the training variance each axis holds.
pub(crate) struct PcaMap {
    /// One per table row.
    pub(crate) points: Vec<[f64; 2]>,
    /// Share of the standardised training rows' total variance along PC1 and PC2.
    pub(crate) explained: [f64; 2],
}

impl PcaMap {
    pub(crate) fn fit(table: &FeatureTable) -> Result<Self> {
        let stats = TrainingStats::of(table)?;
        let train = stats.standardise(table, &table.rows_in(split_name::TRAIN))?;
        // Training rows are centred by construction: their sum of squares is the total variance
        // (times n), as sigma_k squared is PC k's, so their ratio is PC k's share.
        let total: f64 = train.iter().map(|v| v * v).sum();
        if total <= 0.0 {
            return Err(invalid("every training row has the same features"));
        }
        let pca = Pca::params(2)
            .fit(&DatasetBase::from(train))
            .map_err(|e| invalid(format!("PCA failed: {e}")))?;
        // linfa's `explained_variance_ratio` is relative to the kept components only (it sums
        // to 1 over PC1 and PC2); the axis labels want the share of all the variance.
        let sigma = pca.singular_values();
        let explained = [0, 1].map(|k| sigma.get(k).map_or(0.0, |s| s * s / total));
        let all: Vec<usize> = (0..table.len()).collect();
        let projected = pca.predict(&stats.standardise(table, &all)?);
        let points = projected.rows().into_iter().map(|r| [r[0], r[1]]).collect();
        Ok(Self { points, explained })
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Feature tables with known clusters, for the embedding and feature-map tests.

    use cxr_results::split_name::{TEST, TRAIN, VAL};
    use cxr_results::FeatureTable;

    /// A small deterministic generator (SplitMix64), so fixtures need no RNG crate.
    struct Noise(u64);

    impl Noise {
        /// Uniform in [-1, 1).
        fn next(&mut self) -> f32 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        }
    }

    /// `per_class` rows of each of `centres.len()` classes in `dim` features: class `k` sits at
    /// `centres[k]` along each of the first `separating` features (one direction), with uniform
    /// noise of amplitude `noise` in every feature; splits cycle train, train, train, val, test.
    /// (Standardising gives every feature unit variance, so a class offset in one feature
    /// alone would weigh no more than one noise feature.)
    pub(crate) fn clusters(
        centres: &[f32],
        per_class: usize,
        dim: usize,
        separating: usize,
        noise: f32,
    ) -> FeatureTable {
        let mut rng = Noise(7);
        let mut t = FeatureTable {
            paths: Vec::new(),
            classes: Vec::new(),
            splits: Vec::new(),
            dim,
            values: Vec::new(),
        };
        for i in 0..per_class {
            for (k, centre) in centres.iter().enumerate() {
                t.paths.push(format!("c{k}/{i}.png"));
                t.classes.push(format!("class{k}"));
                t.splits
                    .push([TRAIN, TRAIN, TRAIN, VAL, TEST][i % 5].into());
                for j in 0..dim {
                    let at = if j < separating { *centre } else { 0.0 };
                    t.values.push(at + noise * rng.next());
                }
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::clusters;
    use super::*;
    use cxr_results::split_name::{TEST, TRAIN, VAL};

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    fn class_mean(table: &FeatureTable, points: &[[f64; 2]], rows: &[usize], class: &str) -> f64 {
        let xs: Vec<f64> = rows
            .iter()
            .zip(points)
            .filter(|(&i, _)| table.classes[i] == class)
            .map(|(_, p)| p[0])
            .collect();
        xs.iter().sum::<f64>() / xs.len() as f64
    }

    #[test]
    fn feature_map_pca_separates_classes_along_pc1() -> TestResult {
        let table = clusters(&[-3.0, 0.0, 3.0], 40, 8, 4, 1.0);
        let points = pca_2d(&table)?;
        assert_eq!(points.len(), table.len());
        let all: Vec<usize> = (0..table.len()).collect();
        let means: Vec<f64> = ["class0", "class1", "class2"]
            .iter()
            .map(|c| class_mean(&table, &points, &all, c))
            .collect();
        // The sign of a principal component is arbitrary: the order is either way round.
        let ordered = (means[0] < means[1] && means[1] < means[2])
            || (means[0] > means[1] && means[1] > means[2]);
        assert!(ordered, "class means along PC1: {means:?}");
        // Classes 3 apart in 4 of the 8 features against uniform noise of spread 0.58: PC1 is
        // that direction; standardised, the centres sit about 2.4 from the middle class on it.
        let spread = |c: usize| (means[c] - means[1]).abs();
        assert!(spread(0) > 1.0 && spread(2) > 1.0, "{means:?}");
        let pca = PcaMap::fit(&table)?;
        // Each separating feature has variance 6 between classes (centres -3, 0, 3) and 1/3 of
        // noise, so standardised its shared part is 6 / 6.33 = 0.95; PC1 holds 4 x 0.95 of the
        // total 8, about 47%, and PC2 one noise direction, far less.
        let [pc1, pc2] = pca.explained;
        assert!((pc1 - 0.47).abs() < 0.04, "PC1 share {pc1}");
        assert!(pc2 < 0.25, "PC2 share {pc2}");
        Ok(())
    }

    #[test]
    fn feature_map_pca_uses_training_rows_only() -> TestResult {
        let table = clusters(&[-3.0, 0.0, 3.0], 20, 6, 3, 1.0);
        let before = pca_2d(&table)?;
        let mut moved = table.clone();
        for i in moved.rows_in(TEST).into_iter().chain(moved.rows_in(VAL)) {
            for j in 0..moved.dim {
                moved.values[i * moved.dim + j] *= 50.0;
            }
        }
        let after = pca_2d(&moved)?;
        for i in table.rows_in(TRAIN) {
            assert_eq!(before[i], after[i], "training row {i} moved");
        }
        let test = table.rows_in(TEST)[0];
        assert_ne!(
            before[test], after[test],
            "test rows are projected, not fitted"
        );
        Ok(())
    }

    #[test]
    fn feature_map_tsne_is_deterministic_by_seed() -> TestResult {
        // Overlapping classes in 64 features: on this table bhtsne's Barnes-Hut t-SNE gave two
        // different maps for one seed (see TSNE_MAX_ROWS); the exact one must not.
        let table = clusters(&[-1.0, 0.0, 1.0], 100, 64, 8, 1.0);
        let a = tsne_2d(&table, 3)?;
        let rows: Vec<usize> = a.iter().map(|(i, _)| *i).collect();
        assert_eq!(rows.len(), table.len() - table.rows_in(VAL).len());
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "table order");
        assert!(rows.iter().all(|&i| table.splits[i] != VAL));
        assert_eq!(a, tsne_2d(&table, 3)?, "same seed, same map");
        assert_ne!(a, tsne_2d(&table, 4)?, "the seed reaches the map");
        Ok(())
    }

    #[test]
    fn feature_map_tsne_separates_clusters() -> TestResult {
        let table = clusters(&[-3.0, 0.0, 3.0], 40, 16, 16, 1.0);
        let map = tsne_2d(&table, 3)?;
        let names = table.class_names();
        let class = |i: usize| names.iter().position(|c| *c == table.classes[i]);
        let mut sums = vec![[0.0f64; 3]; names.len()];
        for &(i, [x, y]) in &map {
            let k = class(i).ok_or("unknown class")?;
            sums[k] = [sums[k][0] + x, sums[k][1] + y, sums[k][2] + 1.0];
        }
        let centroids: Vec<[f64; 2]> = sums.iter().map(|s| [s[0] / s[2], s[1] / s[2]]).collect();
        let nearest = |p: [f64; 2]| {
            let dist = |c: &[f64; 2]| (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2);
            (0..centroids.len())
                .min_by(|&x, &y| dist(&centroids[x]).total_cmp(&dist(&centroids[y])))
        };
        let right = map.iter().filter(|(i, p)| nearest(*p) == class(*i)).count();
        let accuracy = right as f64 / map.len() as f64;
        assert!(accuracy >= 0.95, "nearest-centroid accuracy {accuracy}");
        Ok(())
    }

    #[test]
    fn feature_map_tsne_samples_large_tables_by_seed() -> TestResult {
        let table = clusters(&[-3.0, 0.0, 3.0], 40, 8, 8, 1.0);
        let sample = |seed| -> Result<Vec<usize>> {
            Ok(tsne_sample(&table, seed, 50)?
                .into_iter()
                .map(|(i, _)| i)
                .collect())
        };
        let rows = sample(1)?;
        assert_eq!(rows.len(), 50);
        assert!(
            rows.windows(2).all(|w| w[0] < w[1]),
            "table order, no repeats"
        );
        assert!(rows.iter().all(|&i| table.splits[i] != VAL));
        assert_eq!(rows, sample(1)?);
        assert_ne!(rows, sample(2)?);
        Ok(())
    }

    #[test]
    fn feature_map_refuses_tables_too_small_to_map() {
        let narrow = clusters(&[-3.0, 3.0], 10, 1, 1, 1.0);
        let few = clusters(&[-3.0, 3.0], 2, 4, 2, 1.0);
        for (table, why) in [(&narrow, "2 features"), (&few, "5 training rows")] {
            let errors = [pca_2d(table).err(), tsne_2d(table, 0).err()];
            for error in errors {
                let message = error.map(|e| e.to_string()).unwrap_or_default();
                assert!(message.contains(why), "{message:?}");
            }
        }
        let mut broken = clusters(&[-3.0, 3.0], 10, 4, 2, 1.0);
        broken.values[1] = f32::NAN; // row 0, c0/0.png
        let message = pca_2d(&broken).err().map(|e| e.to_string());
        assert!(message.is_some_and(|m| m.contains("c0/0.png")));
        let same = FeatureTable {
            values: vec![1.0; broken.values.len()],
            ..broken
        };
        assert!(tsne_2d(&same, 0).is_err() && pca_2d(&same).is_err());
    }
}
