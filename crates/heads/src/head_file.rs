//! A fitted head as bytes: [`FittedHead::to_bytes`] and [`FittedHead::from_bytes`], the
//! contents of a classic-head run's `head.safetensors`.
//!
//! # Format, version 1
//!
//! A [safetensors](https://github.com/huggingface/safetensors) file (readable with
//! `safetensors.numpy.load_file` and `safe_open(...).metadata()`). Its metadata:
//!
//! | key | value |
//! |-----|-------|
//! | `format` | `cxr-head` |
//! | `version` | `1` |
//! | `kind` | `logistic`, `svm_linear`, `svm_rbf`, `random_forest` or `knn` |
//! | `classes` | the number of classes the run predicts (probability rows have this width) |
//! | `c`, `gamma_scale`, `trees`, `k` | the chosen hyperparameters the kind has |
//!
//! Its tensors (`F` features, class indices are the run's, `preprocessing.json`'s order):
//!
//! | tensor | dtype, shape | meaning |
//! |--------|--------------|---------|
//! | `standardizer.mean`, `standardizer.std` | F32 `[F]` | features are used as `(x - mean) / std` |
//! | `logistic.classes` | I64 `[K]` | the training classes, ascending |
//! | `logistic.coefficients` | F64 `[R, F]` | `R = 1` for two classes (the logit of the second), else `R = K` (softmax) |
//! | `logistic.intercepts` | F64 `[R]` | |
//! | `svm.pairs` | I64 `[P, 2]` | `(negative, positive)` class of each one-vs-one SVM |
//! | `svm.rho` | F64 `[P]` | decision value = `sum dual * K(sv, x) - rho`; `>= 0` votes positive |
//! | `svm.platt` | F64 `[P, 2]` | Platt's `(A, B)`: `P(positive) = 1 / (1 + exp(A f + B))` (absent when not calibrated) |
//! | `svm.support_vectors` | F32 `[S, F]` | distinct standardised support vectors, in training order |
//! | `svm.dual_pair`, `svm.dual_vector`, `svm.dual` | I64, I64, F64 `[D]` | each pair's signed duals (`alpha * y`) and their support vector |
//! | `svm.weights` | F64 `[P, F]` | linear kernel only: each pair's hyperplane, `sum dual * sv` |
//! | (RBF kernel) | | `K(a, b) = exp(-gamma_scale / F * |a - b|^2)` |
//! | `forest.classes` | I64 `[C]` | the training classes, ascending: what `forest.output` indexes |
//! | `forest.tree_nodes` | I64 `[T]` | nodes per tree; the nodes below are tree after tree, each root first |
//! | `forest.feature`, `forest.threshold` | I64, F64 `[N]` | a split sends a film to `true_child` when `x[feature] <= threshold` |
//! | `forest.true_child`, `forest.false_child` | I64 `[N]` | node index within the tree; -1 for a leaf |
//! | `forest.output` | I64 `[N]` | a leaf's answer (index into `forest.classes`); the forest's probability is the share of trees |
//! | `knn.features` | F32 `[R, F]` | the standardised training features |
//! | `knn.labels` | I64 `[R]` | their classes; `k` neighbours by Euclidean distance vote, ties to the lowest class |
//!
//! A reader refuses another `format`, a newer `version`, and missing or misshapen tensors,
//! each in one line.

use std::collections::HashMap;

use crate::error::{HeadError, Result};
use crate::fitted_head::{FittedHead, Model};
use crate::forest::{ForestModel, Tree};
use crate::head_container::{finish, header, metadata, open, parse, Reader, Writer};
pub use crate::head_container::{HEAD_FORMAT, HEAD_FORMAT_VERSION};
use crate::kind::HeadKind;
use crate::knn::KnnModel;
use crate::logistic::LogisticModel;
use crate::matrix::Matrix;
use crate::search::Hyper;
use crate::standardizer::Standardizer;
use crate::svm::{PairSvm, SvmKernel, SvmModel};
use ndarray::Array2;

fn idx(i: impl TryInto<i64>) -> i64 {
    i.try_into().unwrap_or(i64::MAX)
}

impl FittedHead {
    /// The head as a `head.safetensors` file's bytes (the module documentation gives the
    /// format).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.to_bytes_with(&[])
    }

    /// [`FittedHead::to_bytes`] with the caller's `notes` added to the metadata (keys must not
    /// be the format's own), e.g. what the features came from; [`read_notes`] reads them back.
    pub fn to_bytes_with(&self, notes: &[(&str, String)]) -> Result<Vec<u8>> {
        let mut meta = header(notes);
        let mut w = Writer::default();
        self.write_into(&mut w, &mut meta);
        finish(w, meta)
    }

    /// Writes this head's metadata and tensors, their names after `w.prefix`.
    fn write_into(&self, w: &mut Writer, meta: &mut HashMap<String, String>) {
        let f = self.features();
        let mut put = |key: &str, value: String| {
            meta.insert(format!("{}{key}", w.prefix), value);
        };
        put("kind", self.kind().name().to_string());
        put("classes", self.classes.to_string());
        match self.hyper {
            Hyper::Logistic { c } | Hyper::SvmLinear { c } => put("c", c.to_string()),
            Hyper::SvmRbf { c, gamma_scale } => {
                put("c", c.to_string());
                put("gamma_scale", gamma_scale.to_string());
            }
            Hyper::RandomForest { trees } => put("trees", trees.to_string()),
            Hyper::Knn { k } => put("k", k.to_string()),
        }
        w.f32(
            "standardizer.mean",
            vec![f],
            self.standardizer.mean.iter().copied(),
        );
        w.f32(
            "standardizer.std",
            vec![f],
            self.standardizer.std.iter().copied(),
        );
        match &self.model {
            Model::Logistic(m) => {
                let rows = m.intercepts.len();
                w.i64(
                    "logistic.classes",
                    vec![m.classes.len()],
                    m.classes.iter().map(|&c| i64::from(c)),
                );
                w.f64(
                    "logistic.coefficients",
                    vec![rows, f],
                    m.coefficients.iter().copied(),
                );
                w.f64(
                    "logistic.intercepts",
                    vec![rows],
                    m.intercepts.iter().copied(),
                );
            }
            Model::Svm(m) => {
                let p = m.pairs.len();
                let pairs = m
                    .pairs
                    .iter()
                    .flat_map(|q| [i64::from(q.negative), i64::from(q.positive)]);
                w.i64("svm.pairs", vec![p, 2], pairs);
                w.f64("svm.rho", vec![p], m.pairs.iter().map(|q| q.rho));
                if let Some(platt) = m.pairs.iter().map(|q| q.platt).collect::<Option<Vec<_>>>() {
                    w.f64(
                        "svm.platt",
                        vec![p, 2],
                        platt.into_iter().flat_map(|(a, b)| [a, b]),
                    );
                }
                let sv = &m.support_vectors;
                w.f32(
                    "svm.support_vectors",
                    vec![sv.nrows(), sv.ncols()],
                    sv.iter().map(|&v| v as f32),
                );
                let duals: Vec<(usize, usize, f64)> = m
                    .pairs
                    .iter()
                    .enumerate()
                    .flat_map(|(k, q)| q.duals.iter().map(move |&(v, d)| (k, v, d)))
                    .collect();
                let d = duals.len();
                w.i64("svm.dual_pair", vec![d], duals.iter().map(|t| idx(t.0)));
                w.i64("svm.dual_vector", vec![d], duals.iter().map(|t| idx(t.1)));
                w.f64("svm.dual", vec![d], duals.iter().map(|t| t.2));
                if m.kernel == SvmKernel::Linear {
                    let weights = m.pairs.iter().flat_map(|q| q.weights.iter().copied());
                    w.f64("svm.weights", vec![p, f], weights);
                }
            }
            Model::Forest(m) => {
                w.i64(
                    "forest.classes",
                    vec![m.classes.len()],
                    m.classes.iter().map(|&c| i64::from(c)),
                );
                w.i64(
                    "forest.tree_nodes",
                    vec![m.trees.len()],
                    m.trees.iter().map(|t| idx(t.len())),
                );
                let n = m.nodes();
                let all = |get: fn(&Tree) -> &Vec<i64>| {
                    m.trees.iter().flat_map(move |t| get(t).iter().copied())
                };
                w.i64("forest.feature", vec![n], all(|t| &t.feature));
                w.f64(
                    "forest.threshold",
                    vec![n],
                    m.trees.iter().flat_map(|t| t.threshold.iter().copied()),
                );
                w.i64("forest.true_child", vec![n], all(|t| &t.true_child));
                w.i64("forest.false_child", vec![n], all(|t| &t.false_child));
                w.i64("forest.output", vec![n], all(|t| &t.output));
            }
            Model::Knn(m) => {
                let rows = m.features.rows();
                w.f32(
                    "knn.features",
                    vec![rows, f],
                    m.features.data().iter().copied(),
                );
                w.i64(
                    "knn.labels",
                    vec![rows],
                    m.labels.iter().map(|&l| i64::from(l)),
                );
            }
        }
    }

    /// Reads a head written by [`FittedHead::to_bytes`]. An error (one line, without the
    /// file's name, which the caller adds) for another format, a newer version, or a missing
    /// or misshapen tensor.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (meta, file) = open(bytes)?;
        if let Some(n) = meta.get(FINDINGS) {
            return Err(HeadError::Format(format!(
                "holds one head per finding ({n}), not one head"
            )));
        }
        Self::read_from(
            &Reader {
                file: &file,
                prefix: String::new(),
            },
            &meta,
        )
    }

    /// Reads the head whose metadata keys and tensor names start with `r.prefix`.
    fn read_from(r: &Reader<'_>, meta: &HashMap<String, String>) -> Result<Self> {
        let bad = |message: String| HeadError::Format(message);
        let get = |key: &str| -> Result<&String> {
            let full = format!("{}{key}", r.prefix);
            meta.get(&full)
                .ok_or_else(|| bad(format!("metadata has no `{full}`; not a cxr head file")))
        };
        let kind: HeadKind = get("kind")?.parse()?;
        let classes: usize = parse(get("classes")?, "classes")?;
        let hyper = match kind {
            HeadKind::Logistic => Hyper::Logistic {
                c: parse(get("c")?, "c")?,
            },
            HeadKind::SvmLinear => Hyper::SvmLinear {
                c: parse(get("c")?, "c")?,
            },
            HeadKind::SvmRbf => Hyper::SvmRbf {
                c: parse(get("c")?, "c")?,
                gamma_scale: parse(get("gamma_scale")?, "gamma_scale")?,
            },
            HeadKind::RandomForest => Hyper::RandomForest {
                trees: parse(get("trees")?, "trees")?,
            },
            HeadKind::Knn => Hyper::Knn {
                k: parse(get("k")?, "k")?,
            },
        };
        let mean = r.f32("standardizer.mean", &[None])?;
        let f = mean.len();
        let std = r.f32("standardizer.std", &[Some(f)])?;
        let standardizer = Standardizer { mean, std };
        let class = |v: i64, what: &str| -> Result<u32> {
            u32::try_from(v)
                .ok()
                .filter(|&c| (c as usize) < classes)
                .ok_or_else(|| {
                    bad(format!(
                        "{what} holds class {v}, not below classes = {classes}"
                    ))
                })
        };
        let model = match kind {
            HeadKind::Logistic => {
                let present = r.i64("logistic.classes", &[None])?;
                let present = present
                    .iter()
                    .map(|&c| class(c, "logistic.classes"))
                    .collect::<Result<Vec<u32>>>()?;
                let rows = if present.len() == 2 { 1 } else { present.len() };
                Model::Logistic(LogisticModel {
                    classes: present,
                    coefficients: r.f64("logistic.coefficients", &[Some(rows), Some(f)])?,
                    intercepts: r.f64("logistic.intercepts", &[Some(rows)])?,
                })
            }
            HeadKind::SvmLinear | HeadKind::SvmRbf => {
                let pairs = r.i64("svm.pairs", &[None, Some(2)])?;
                let p = pairs.len() / 2;
                let rho = r.f64("svm.rho", &[Some(p)])?;
                let platt = if r.has("svm.platt") {
                    Some(r.f64("svm.platt", &[Some(p), Some(2)])?)
                } else {
                    None
                };
                let sv = r.f32("svm.support_vectors", &[None, Some(f)])?;
                let s = sv.len() / f.max(1);
                let support_vectors =
                    Array2::from_shape_vec((s, f), sv.into_iter().map(f64::from).collect())
                        .map_err(|e| bad(e.to_string()))?;
                let dual_pair = r.i64("svm.dual_pair", &[None])?;
                let d = dual_pair.len();
                let dual_vector = r.i64("svm.dual_vector", &[Some(d)])?;
                let dual = r.f64("svm.dual", &[Some(d)])?;
                let (kernel, weights) = match hyper {
                    Hyper::SvmRbf { gamma_scale, .. } => (
                        SvmKernel::Rbf {
                            gamma: gamma_scale / f as f64,
                        },
                        None,
                    ),
                    _ => (
                        SvmKernel::Linear,
                        Some(r.f64("svm.weights", &[Some(p), Some(f)])?),
                    ),
                };
                let mut built = Vec::with_capacity(p);
                for k in 0..p {
                    let duals = dual_pair
                        .iter()
                        .zip(&dual_vector)
                        .zip(&dual)
                        .filter(|((&q, _), _)| q == idx(k))
                        .map(|((_, &v), &d)| {
                            usize::try_from(v)
                                .ok()
                                .filter(|&v| v < s)
                                .map(|v| (v, d))
                                .ok_or_else(|| {
                                    bad(format!(
                                        "svm.dual_vector holds {v}, not below {s} support vectors"
                                    ))
                                })
                        })
                        .collect::<Result<Vec<_>>>()?;
                    built.push(PairSvm {
                        negative: class(pairs[2 * k], "svm.pairs")?,
                        positive: class(pairs[2 * k + 1], "svm.pairs")?,
                        duals,
                        rho: rho[k],
                        weights: weights
                            .as_ref()
                            .map_or_else(Vec::new, |w| w[k * f..(k + 1) * f].to_vec()),
                        platt: platt.as_ref().map(|pl| (pl[2 * k], pl[2 * k + 1])),
                    });
                }
                Model::Svm(SvmModel {
                    kernel,
                    pairs: built,
                    support_vectors,
                })
            }
            HeadKind::RandomForest => {
                let present = r.i64("forest.classes", &[None])?;
                let present = present
                    .iter()
                    .map(|&c| class(c, "forest.classes"))
                    .collect::<Result<Vec<u32>>>()?;
                let sizes = r.i64("forest.tree_nodes", &[None])?;
                let feature = r.i64("forest.feature", &[None])?;
                let n = feature.len();
                let threshold = r.f64("forest.threshold", &[Some(n)])?;
                let true_child = r.i64("forest.true_child", &[Some(n)])?;
                let false_child = r.i64("forest.false_child", &[Some(n)])?;
                let output = r.i64("forest.output", &[Some(n)])?;
                let total: i64 = sizes.iter().sum();
                if total != idx(n) || sizes.iter().any(|&s| s < 1) {
                    return Err(bad(format!(
                        "forest.tree_nodes sums to {total}, but the trees hold {n} nodes"
                    )));
                }
                if let Some(bad_node) = output
                    .iter()
                    .find(|&&o| usize::try_from(o).map_or(true, |o| o >= present.len()))
                {
                    return Err(bad(format!(
                        "forest.output holds {bad_node}, not below {} classes",
                        present.len()
                    )));
                }
                let mut trees = Vec::with_capacity(sizes.len());
                let mut at = 0usize;
                for &size in &sizes {
                    let end = at + usize::try_from(size).unwrap_or(0);
                    trees.push(Tree {
                        feature: feature[at..end].to_vec(),
                        threshold: threshold[at..end].to_vec(),
                        true_child: true_child[at..end].to_vec(),
                        false_child: false_child[at..end].to_vec(),
                        output: output[at..end].to_vec(),
                    });
                    at = end;
                }
                Model::Forest(ForestModel {
                    classes: present,
                    trees,
                })
            }
            HeadKind::Knn => {
                let values = r.f32("knn.features", &[None, Some(f)])?;
                let rows = values.len() / f.max(1);
                let labels = r.i64("knn.labels", &[Some(rows)])?;
                let labels = labels
                    .iter()
                    .map(|&c| class(c, "knn.labels"))
                    .collect::<Result<Vec<u32>>>()?;
                let Hyper::Knn { k } = hyper else {
                    return Err(bad("a knn head without k".to_string()));
                };
                if k == 0 || k > rows {
                    return Err(bad(format!("k = {k} but the file holds {rows} neighbours")));
                }
                let features = Matrix::new(rows, f, values)?;
                Model::Knn(KnnModel::fit(k, features, labels).map_err(bad)?)
            }
        };
        Ok(FittedHead {
            standardizer,
            hyper,
            classes,
            model,
        })
    }
}

/// The metadata key of a file of per-finding heads: how many.
const FINDINGS: &str = "findings";

/// One head per finding of a multi-label run (one-vs-rest), as one file: metadata `findings`
/// (how many) and `finding.<k>.name`, and each head's metadata keys and tensors under the
/// prefix `finding.<k>.` (the single-head layout otherwise).
pub fn findings_to_bytes(
    heads: &[(String, FittedHead)],
    notes: &[(&str, String)],
) -> Result<Vec<u8>> {
    let mut meta = header(notes);
    meta.insert(FINDINGS.into(), heads.len().to_string());
    let mut w = Writer::default();
    for (k, (name, head)) in heads.iter().enumerate() {
        w.prefix = format!("finding.{k}.");
        meta.insert(format!("finding.{k}.name"), name.clone());
        head.write_into(&mut w, &mut meta);
    }
    finish(w, meta)
}

/// Reads the per-finding heads [`findings_to_bytes`] wrote, in finding order, with their names.
pub fn findings_from_bytes(bytes: &[u8]) -> Result<Vec<(String, FittedHead)>> {
    let (meta, file) = open(bytes)?;
    let Some(n) = meta.get(FINDINGS) else {
        return Err(HeadError::Format(
            "holds one head, not one per finding".to_string(),
        ));
    };
    let n: usize = parse(n, FINDINGS)?;
    (0..n)
        .map(|k| {
            let prefix = format!("finding.{k}.");
            let name = meta
                .get(&format!("{prefix}name"))
                .cloned()
                .ok_or_else(|| HeadError::Format(format!("metadata has no `{prefix}name`")))?;
            let head = FittedHead::read_from(
                &Reader {
                    file: &file,
                    prefix,
                },
                &meta,
            )?;
            Ok((name, head))
        })
        .collect()
}

/// The metadata of a head file's `bytes`: the format's keys and the notes it was written with
/// ([`FittedHead::to_bytes_with`]).
pub fn read_notes(bytes: &[u8]) -> Result<std::collections::BTreeMap<String, String>> {
    Ok(metadata(bytes)?.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use safetensors::tensor::TensorView;
    use safetensors::SafeTensors;

    use super::*;
    use crate::fitted_head::tests::overlapping_from;
    use crate::fitted_head::Training;
    use crate::head_container::Owned;

    /// Every kind, fitted on three of four classes (class 3 never seen), calibrated.
    fn heads() -> Result<(Vec<FittedHead>, Matrix)> {
        let (x, labels) = overlapping_from(90, 6, 5)?;
        let (val, val_labels) = overlapping_from(45, 6, 6)?;
        let (unseen, _) = overlapping_from(60, 6, 7)?;
        let training = Training::new(&x, &labels, 4)?;
        let hypers = [
            Hyper::Logistic { c: 1.0 },
            Hyper::SvmLinear { c: 0.1 },
            Hyper::SvmRbf {
                c: 10.0,
                gamma_scale: 1.0,
            },
            Hyper::RandomForest { trees: 25 },
            Hyper::Knn { k: 5 },
        ];
        let mut heads = Vec::new();
        for hyper in hypers {
            let mut head = FittedHead::fit(&training, hyper, 4)?;
            head.calibrate(&val, &val_labels)?;
            heads.push(head);
        }
        Ok((heads, unseen))
    }

    #[test]
    fn a_head_read_back_predicts_the_same_classes_and_probabilities() -> Result<()> {
        let (heads, unseen) = heads()?;
        for head in heads {
            let bytes = head.to_bytes()?;
            // Same head, same bytes (the header's keys are sorted).
            assert_eq!(bytes, head.to_bytes()?, "{}", head.hyper());
            let read = FittedHead::from_bytes(&bytes)?;
            assert_eq!(read.hyper(), head.hyper());
            assert_eq!(read.classes(), 4);
            assert_eq!(
                read.parameter_count(),
                head.parameter_count(),
                "{}",
                head.hyper()
            );
            let predicted = head.predict(&unseen)?;
            assert_eq!(read.predict(&unseen)?, predicted, "{}", head.hyper());
            let p = head.probabilities(&unseen)?.ok_or(HeadError::NoFeatures)?;
            assert_eq!(
                read.probabilities(&unseen)?,
                Some(p.clone()),
                "{}",
                head.hyper()
            );
            assert_eq!(read.to_bytes()?, bytes, "{}", head.hyper());
            let noted = head.to_bytes_with(&[("backbone", "imagenet".to_string())])?;
            assert_eq!(
                read_notes(&noted)?.get("backbone").map(String::as_str),
                Some("imagenet")
            );
            assert_eq!(
                read_notes(&noted)?.get("kind").map(String::as_str),
                Some(head.kind().name())
            );
            for (row, &class) in p.chunks_exact(4).zip(&predicted) {
                let total: f32 = row.iter().sum();
                assert!((total - 1.0).abs() < 1e-5, "{}: {row:?}", head.hyper());
                assert_eq!(row[3], 0.0, "{}: an unseen class gets 0", head.hyper());
                assert!(class < 3);
            }
        }
        Ok(())
    }

    /// The heads whose probabilities come from the same votes as their classes name the most
    /// probable class (the SVMs' coupled probabilities may disagree with their vote, as in
    /// libsvm).
    #[test]
    fn vote_shares_and_the_softmax_agree_with_the_predicted_class() -> Result<()> {
        let (heads, unseen) = heads()?;
        for head in heads
            .iter()
            .filter(|h| !matches!(h.kind(), HeadKind::SvmLinear | HeadKind::SvmRbf))
        {
            let p = head.probabilities(&unseen)?.ok_or(HeadError::NoFeatures)?;
            for (row, class) in p.chunks_exact(4).zip(head.predict(&unseen)?) {
                let top = row.iter().copied().fold(f32::MIN, f32::max);
                assert_eq!(row[class as usize], top, "{}: {row:?}", head.hyper());
            }
        }
        Ok(())
    }

    #[test]
    fn per_finding_heads_read_back_in_order_with_their_names() -> Result<()> {
        let (x, labels) = overlapping_from(60, 4, 8)?;
        let (val, val_labels) = overlapping_from(30, 4, 9)?;
        let mut heads = Vec::new();
        for (name, positive, hyper) in [
            (
                "Effusion",
                0,
                Hyper::SvmRbf {
                    c: 1.0,
                    gamma_scale: 1.0,
                },
            ),
            ("Mass", 2, Hyper::Logistic { c: 1.0 }),
        ] {
            let binary: Vec<u32> = labels.iter().map(|&l| u32::from(l == positive)).collect();
            let val_binary: Vec<u32> = val_labels
                .iter()
                .map(|&l| u32::from(l == positive))
                .collect();
            let mut head = FittedHead::fit(&Training::new(&x, &binary, 2)?, hyper, 0)?;
            head.calibrate(&val, &val_binary)?;
            heads.push((name.to_string(), head));
        }
        let bytes = findings_to_bytes(&heads, &[("backbone.model", "cnn".to_string())])?;
        let read = findings_from_bytes(&bytes)?;
        assert_eq!(read.len(), 2);
        for ((name, head), (read_name, read_head)) in heads.iter().zip(&read) {
            assert_eq!(name, read_name);
            assert_eq!(read_head.hyper(), head.hyper());
            assert_eq!(read_head.probabilities(&val)?, head.probabilities(&val)?);
            assert_eq!(read_head.scores(&val)?, head.scores(&val)?);
        }
        // Either layout refuses the other in one line.
        let single = FittedHead::from_bytes(&bytes).err().map(|e| e.to_string());
        assert_eq!(
            single.as_deref(),
            Some("holds one head per finding (2), not one head")
        );
        let many = findings_from_bytes(&heads[0].1.to_bytes()?)
            .err()
            .map(|e| e.to_string());
        assert_eq!(many.as_deref(), Some("holds one head, not one per finding"));
        Ok(())
    }

    #[test]
    fn an_uncalibrated_svm_has_no_probabilities() -> Result<()> {
        let (x, labels) = overlapping_from(30, 3, 1)?;
        let training = Training::new(&x, &labels, 3)?;
        let head = FittedHead::fit(&training, Hyper::SvmLinear { c: 1.0 }, 0)?;
        assert_eq!(head.probabilities(&x)?, None);
        let read = FittedHead::from_bytes(&head.to_bytes()?)?;
        assert_eq!(read.probabilities(&x)?, None);
        Ok(())
    }

    /// A change to a head file's metadata and tensors.
    type Edit = dyn Fn(&mut HashMap<String, String>, &mut Vec<(String, Owned)>);

    #[test]
    fn damaged_files_are_refused_in_one_line() -> Result<()> {
        let (heads, _) = heads()?;
        let bytes = heads[1].to_bytes()?;
        let message = |bytes: &[u8]| {
            FittedHead::from_bytes(bytes)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(message(&bytes[..bytes.len() / 2]).starts_with("not a safetensors file"));
        assert!(message(b"not a head").starts_with("not a safetensors file"));

        let rewrite = |edit: &Edit| {
            let file =
                SafeTensors::deserialize(&bytes).map_err(|e| HeadError::Format(e.to_string()))?;
            let (_, metadata) =
                SafeTensors::read_metadata(&bytes).map_err(|e| HeadError::Format(e.to_string()))?;
            let mut meta = metadata.metadata().clone().unwrap_or_default();
            let mut tensors: Vec<(String, Owned)> = file
                .tensors()
                .into_iter()
                .map(|(name, t)| {
                    let owned = Owned {
                        dtype: t.dtype(),
                        shape: t.shape().to_vec(),
                        bytes: t.data().to_vec(),
                    };
                    (name, owned)
                })
                .collect();
            edit(&mut meta, &mut tensors);
            let views: Vec<(String, TensorView<'_>)> = tensors
                .iter()
                .filter_map(|(n, t)| {
                    TensorView::new(t.dtype, t.shape.clone(), &t.bytes)
                        .ok()
                        .map(|v| (n.clone(), v))
                })
                .collect();
            safetensors::serialize(views, Some(meta)).map_err(|e| HeadError::Format(e.to_string()))
        };
        let newer = rewrite(&|meta, _| {
            meta.insert("version".into(), "2".into());
        })?;
        assert_eq!(
            message(&newer),
            "format version 2 is newer than this cxr reads (1); update cxr"
        );
        let other = rewrite(&|meta, _| {
            meta.insert("format".into(), "weights".into());
        })?;
        assert_eq!(message(&other), "format is \"weights\", not \"cxr-head\"");
        let missing = rewrite(&|_, tensors| tensors.retain(|(n, _)| n != "svm.rho"))?;
        assert_eq!(message(&missing), "tensor `svm.rho` is missing");
        let misshapen = rewrite(&|_, tensors| {
            for (n, t) in tensors.iter_mut() {
                if n == "standardizer.std" {
                    t.bytes.truncate(4);
                    t.shape = vec![1];
                }
            }
        })?;
        assert_eq!(
            message(&misshapen),
            "tensor `standardizer.std` is F32 [1], expected F32 6"
        );
        let out_of_range = rewrite(&|_, tensors| {
            for (n, t) in tensors.iter_mut() {
                if n == "svm.pairs" {
                    t.bytes[..8].copy_from_slice(&7i64.to_le_bytes());
                }
            }
        })?;
        assert_eq!(
            message(&out_of_range),
            "svm.pairs holds class 7, not below classes = 4"
        );
        for text in [message(&newer), message(&missing), message(&misshapen)] {
            assert!(!text.contains('\n'));
        }
        Ok(())
    }
}
