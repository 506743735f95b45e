//! `cxr report`: reads a grid folder's Parquet files and writes `report/` beside them.

use std::path::{Path, PathBuf};

use cxr_results::{GridDir, ReportFigure};

use crate::canvas::{save, slug};
use crate::comparison::comparison_paragraph;
use crate::cross_validation::{add_out_of_fold, cross_validation_rows, out_of_fold_rows};
use crate::error::{ReportError, Result};
use crate::feature_map::draw_feature_maps;
use crate::figures::{grid_figure, Metric, RunCurves};
use crate::grid_results::{GridResults, RunResults};
use crate::heads::{head_rows, map_sources};
use crate::heatmap::ConfusionHeatmap;
use crate::markdown::{render, FacetSection};
use crate::paired::{head_comparisons, paired_comparisons, write_comparisons, PairedComparison};
use crate::reliability::ReliabilityDiagram;
use crate::stats::config_stats;

/// What a report wrote.
#[derive(Debug, Clone)]
pub struct ReportOutput {
    /// `<grid>/report/`.
    pub dir: PathBuf,
    /// `report.md`.
    pub markdown: PathBuf,
    /// Every figure file written (PNG and SVG).
    pub figures: Vec<PathBuf>,
    /// `cross_validation.parquet`, when the grid cross-validates.
    pub cross_validation: Option<PathBuf>,
    /// The generated comparison, one per facet.
    pub paragraphs: Vec<String>,
    /// Finished runs reported.
    pub runs: usize,
    /// Planned runs not finished.
    pub missing: usize,
}

/// Builds the report of the grid results in `grid_dir`, replacing any earlier one.
pub fn write_report(grid_dir: &Path) -> Result<ReportOutput> {
    let results = GridResults::load(grid_dir)?;
    let grid = GridDir::at(grid_dir);
    let dir = grid.report_dir();
    if dir.exists() {
        // The folder is wholly generated; clearing it drops figures of runs no longer listed.
        std::fs::remove_dir_all(&dir).map_err(ReportError::io(&dir))?;
    }
    std::fs::create_dir_all(&dir).map_err(ReportError::io(&dir))?;

    let mut figures = Vec::new();
    let mut sections = Vec::new();
    let mut paragraphs = Vec::new();
    let all_stats = config_stats(&results.runs);
    let paired = paired_comparisons(&results, &all_stats);
    let paired_of = |facet: &str| -> Vec<PairedComparison> {
        paired
            .iter()
            .filter(|p| p.facet == facet)
            .cloned()
            .collect()
    };
    for facet in results.facets() {
        let stats: Vec<_> = all_stats
            .iter()
            .filter(|s| s.facet == facet)
            .cloned()
            .collect();
        if stats.is_empty() {
            continue; // every run of this facet failed
        }
        let mut section_figures = Vec::new();
        for metric in Metric::ALL {
            let chart = grid_figure(metric, &stats, &facet);
            let facet_slug = slug(&facet);
            let figure = ReportFigure::Metric {
                metric: metric.stem(),
                facet: (!facet.is_empty()).then_some(facet_slug.as_str()),
            };
            figures.extend(save(&chart, &grid.report_figure(&figure))?);
            section_figures.push((chart.title.clone(), figure.png()));
        }
        let facet_paired = paired_of(&facet);
        paragraphs.push(comparison_paragraph(&stats, &facet_paired));
        sections.push(FacetSection {
            paired: facet_paired,
            facet,
            stats,
            figures: section_figures,
        });
    }
    let head_paired = head_comparisons(&results, &head_rows(&results));
    let all_paired: Vec<PairedComparison> = paired.iter().chain(&head_paired).cloned().collect();
    if !all_paired.is_empty() {
        write_comparisons(&grid.comparisons_path(), &all_paired)?;
    }

    let mut run_figures = Vec::new();
    for run in &results.runs {
        let id = &run.summary.run_id;
        let mut files = Vec::new();
        if let Some(curves) = RunCurves::of(run) {
            let figure = ReportFigure::Curves(id);
            figures.extend(save(&curves, &grid.report_figure(&figure))?);
            files.push(figure.png());
        }
        if let Some(heatmap) = ConfusionHeatmap::of(run) {
            let figure = ReportFigure::Confusion(id);
            figures.extend(save(&heatmap, &grid.report_figure(&figure))?);
            files.push(figure.png());
        }
        if let Some(diagram) = reliability_of(run, grid_dir)? {
            let figure = ReportFigure::Reliability(id);
            figures.extend(save(&diagram, &grid.report_figure(&figure))?);
            files.push(figure.png());
        }
        let reconstructions = GridDir::at(grid_dir).run(id).reconstructions_path();
        if run.is_autoencoder() && reconstructions.is_file() {
            // Copied, not linked: the report folder stays whole when moved or archived.
            let figure = ReportFigure::Reconstructions(id);
            let target = dir.join(figure.png());
            if let Some(folder) = target.parent() {
                std::fs::create_dir_all(folder).map_err(ReportError::io(folder))?;
            }
            std::fs::copy(&reconstructions, &target).map_err(ReportError::io(&target))?;
            figures.push(target);
            files.push(figure.png());
        }
        if !files.is_empty() {
            run_figures.push((id.clone(), files));
        }
    }

    let mut feature_maps = Vec::new();
    for (backbone, run_id, seed) in map_sources(&results, grid_dir) {
        let table = GridDir::at(grid_dir).run(&run_id).read_features()?;
        let title =
            format!("{backbone}: frozen features of the training and test images (seed {seed})");
        let stem = slug(&backbone);
        let figure = |method: &'static str| ReportFigure::FeatureMap {
            backbone: &stem,
            method,
        };
        let written = draw_feature_maps(
            &table,
            &title,
            |method| grid.report_figure(&figure(method)),
            seed as u64,
        )?;
        for method in ["pca", "tsne"] {
            feature_maps.push((format!("{backbone}, {method}"), figure(method).png()));
        }
        figures.extend(written);
    }

    let mut folds = cross_validation_rows(&results);
    let cross_validation = if folds.is_empty() {
        None
    } else {
        let oof = out_of_fold_rows(&results);
        add_out_of_fold(&mut folds, &oof);
        if !oof.is_empty() {
            grid.write_out_of_fold(&oof)?;
        }
        grid.write_cross_validation(&folds)?;
        Some(grid.cross_validation_path())
    };

    let markdown = grid.report_md_path();
    let text = render(
        &results,
        &sections,
        &folds,
        &head_paired,
        &run_figures,
        &feature_maps,
    );
    cxr_results::write_atomic(&markdown, text.as_bytes())?;
    Ok(ReportOutput {
        dir,
        markdown,
        figures,
        cross_validation,
        paragraphs,
        runs: results.runs.len(),
        missing: results.missing.len(),
    })
}

/// The reliability diagram of an ok classifier run's test predictions, when it recorded
/// probabilities (`predictions.parquet`; classic heads have none) and its
/// class order (`preprocessing.json`).
fn reliability_of(run: &RunResults, grid_dir: &Path) -> Result<Option<ReliabilityDiagram>> {
    if !run.ok_classifier() || run.summary.test_ece.is_none() {
        return Ok(None);
    }
    let dir = GridDir::at(grid_dir).run(&run.summary.run_id);
    let Some(rows) = &run.predictions else {
        return Ok(None);
    };
    if !dir.preprocessing_path().is_file() {
        return Ok(None);
    }
    let classes = dir.read_preprocessing()?.classes;
    Ok(ReliabilityDiagram::of_predictions(
        format!("Test reliability: {}", run.summary.run_id),
        rows,
        &classes,
        run.summary.temperature,
    ))
}
