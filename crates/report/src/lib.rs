//! Reports and the recall regression check, from a grid's Parquet results only.
//!
//! [`write_report`] reads `<results>/<grid>/` once ([`input::ReportInput`]: [`GridResults`], the
//! merged summary, the plan the last sweep wrote, and each finished run's history, per-class,
//! confusion and predictions tables; and the few run files the report needs beyond them),
//! computes every section ([`markdown::Document`]; each section renders itself beside the code
//! that computes it), then draws the figures and writes `report/`: four grid figures
//! ([`figures`]: time per epoch, trainable parameters, test micro-recall with intervals, epochs
//! to converge; one line per model against the number of frozen stages, the CNN as a reference
//! line), each run's figures ([`run_figures`]: learning curves, confusion heatmap, reliability
//! diagram), and `report.md` with tables and a comparison paragraph generated from the numbers
//! ([`comparison`]). Grids with other axes get one set of figures per value of those axes
//! ([`facet`]). `report.html` ([`html_page`]) is the same report as one self-contained page
//! that opens offline: `report.md` rendered with its figures inlined ([`markdown_html`]), plus
//! a sortable, filterable runs table, each run's detail, overlaid learning curves of the runs a
//! reader ticks, and the freeze-depth and transfer charts with every seed as a point, drawn by
//! its script from the runs' data embedded as JSON ([`html_data`]).
//! Autoencoder (pretraining) runs have no recall: they stay out of the figures, the comparison
//! and the check, and get their own table in `report.md` ([`pretraining`]) with their reconstruction error,
//! reconstruction-loss curves and a copy of their `reconstructions.png`.
//!
//! Classic-head runs (a logistic regression, SVM, random forest or kNN fitted on a frozen
//! backbone's features) have no epochs: they stay out of the per-epoch figures and the freeze
//! comparison, and get a table per backbone ([`heads`], [`classic_heads`]: which head wins, by how much) and the
//! backbone's 2-D feature maps ([`feature_map`]: PCA and t-SNE of `features.parquet`).
//!
//! Cross-validation grids (`[split] folds = k`, one run per test fold) get a table per
//! configuration of the recall pooled over its folds and seeds ([`cross_validation`]: mean and
//! standard deviation), also written to `report/cross_validation.parquet`. Elsewhere folds are
//! pooled with seeds as repeated measurements (figures, comparison), or averaged per seed
//! before an interval over seeds (transfer and classic-head tables).
//!
//! Multi-label runs (`task = "multilabel"`: a logit per finding) are read in their own tables
//! (`per_finding.parquet`, and `predictions.parquet` with a row per film and finding) and
//! turned into numbers per finding by [`finding_scores`]. Their facets add a mean-AUROC figure
//! against frozen stages, a per-finding AUROC table of each line's best run by validation mean
//! AUROC with those runs' ROC curves ([`per_finding`], [`roc`]), and paired AUROC comparisons:
//! DeLong per finding and for the mean, and the patient bootstrap of the mean-AUROC difference
//! ([`auroc_comparison`]). A cross-validated grid split both by patient and by film gets the
//! split-leak table ([`leak`]). Recall and AUROC comparisons share `comparisons.parquet`
//! ([`comparisons_file`]).
//!
//! [`check()`] compares a grid's test recall (and a multi-label run's mean AUROC) with a
//! committed baseline file ([`baseline`]) and says which runs regressed; the CLI turns that into
//! an exit code for CI.
//!
//! Figures are drawn once per backend from the same code ([`canvas`]), so PNG and SVG agree,
//! with an embedded font so they render the same on a machine without system fonts. That style
//! ([`style`]: font and sizes; [`colormap`]: colour maps and their colour bar) is the project's
//! one way of drawing: `cxr-inference` draws its Grad-CAM figure's title and colour bar with it
//! ([`canvas::draw_over`]). This crate never trains or reads images: it depends on
//! `cxr-results`, `cxr-metrics` and `cxr-seed` (the named seed streams of its bootstrap and
//! t-SNE), never on candle.
//!
//! ```no_run
//! let out = cxr_report::write_report(std::path::Path::new("results/demo"))?;
//! println!("{}", out.markdown.display());
//! # Ok::<(), cxr_report::ReportError>(())
//! ```

pub mod auroc_comparison;
pub mod auroc_paragraph;
pub mod baseline;
pub mod calibration;
pub mod canvas;
pub mod check;
pub mod classic_heads;
pub mod colormap;
pub mod comparison;
pub mod comparisons_file;
pub mod cross_validation;
pub mod embedding;
pub mod error;
pub mod estimate;
pub mod facet;
pub mod feature_map;
pub mod figures;
pub mod finding_scores;
pub mod grid_results;
pub mod headline;
pub mod heads;
pub mod heatmap;
pub mod html_data;
pub mod html_page;
pub mod html_run_parts;
pub mod input;
pub mod leak;
pub mod legend;
pub mod line_chart;
pub mod markdown;
pub mod markdown_html;
pub mod numbers;
pub mod order;
pub mod paired;
pub mod paired_scores;
pub mod per_finding;
pub mod pretraining;
pub mod reliability;
pub mod report;
pub mod roc;
pub mod run_figures;
pub mod stats;
pub mod style;
pub mod transfer;
pub mod verdict;

pub use auroc_comparison::AurocComparison;
pub use baseline::{Baseline, BaselineRun, RunKey};
pub use check::{check, CheckReport, CheckRow, DEFAULT_TOLERANCE};
pub use comparisons_file::{read_auroc_comparisons, read_comparisons};
pub use embedding::{pca_2d, tsne_2d};
pub use error::{ReportError, Result};
pub use feature_map::draw_feature_maps;
pub use grid_results::{GridResults, RunResults};
pub use paired::{paired_comparisons, PairedComparison};
pub use reliability::ReliabilityDiagram;
pub use report::{write_report, ReportOutput};
pub use verdict::Verdict;
