//! 2-D maps of a dataset's embeddings ([`FeatureTable`]): PCA and t-SNE ([`crate::embedding`]),
//! one point per image, coloured by class, the training images beside the test images on the
//! same axes. Validation rows appear in neither panel.

use std::path::{Path, PathBuf};

use cxr_results::{split_name, FeatureTable, GridDir, ReportFigure};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::canvas::{save, slug, DrawResult, Figure};
use crate::embedding::{tsne_2d, PcaMap};
use crate::error::Result;
use crate::input::FeatureSource;
use crate::style::{font, series_style, text};

/// Writes 2-D maps of `table`: `<pca>.{png,svg}` and `<tsne>.{png,svg}` (`stems`, without
/// extension). Each figure has two panels side by side, "training" and
/// "test" (same axes in both), points coloured by class with a legend, `title` on top (e.g.
/// "resnet18 from tb-supervised, frozen: test and training features"). Validation rows are in
/// neither panel. The t-SNE is seeded from `run_seed`, the seed of the run whose features
/// `table` holds ([`cxr_seed::feature_map_seed`]). Returns the written paths.
pub fn draw_feature_maps(
    table: &FeatureTable,
    title: &str,
    stems: [&Path; 2],
    run_seed: u64,
) -> Result<Vec<PathBuf>> {
    let pca = PcaMap::fit(table)?;
    let pca_rows: Vec<usize> = (0..table.len()).collect();
    let [pc1, pc2] = pca.explained.map(|share| share * 100.0);
    let pca_figure = MapFigure::new(
        table,
        title,
        (format!("PC1 ({pc1:.0}%)"), format!("PC2 ({pc2:.0}%)")),
        true,
        &pca_rows,
        &pca.points,
    );
    let (tsne_rows, tsne_points): (Vec<usize>, Vec<[f64; 2]>) =
        tsne_2d(table, cxr_seed::feature_map_seed(run_seed))?
            .into_iter()
            .unzip();
    let tsne_figure = MapFigure::new(
        table,
        title,
        ("t-SNE 1".into(), "t-SNE 2".into()),
        // t-SNE coordinates have no unit and no meaning beyond nearness: no tick labels.
        false,
        &tsne_rows,
        &tsne_points,
    );
    let [pca_stem, tsne_stem] = stems;
    let mut written = save(&pca_figure, pca_stem)?;
    written.extend(save(&tsne_figure, tsne_stem)?);
    Ok(written)
}

/// A backbone's two maps in the report, `features/<backbone slug>-{pca,tsne}.{png,svg}`, drawn
/// from its [`FeatureSource`].
#[derive(Debug, Clone)]
pub struct BackboneMaps<'a> {
    /// The backbone's features.
    pub source: &'a FeatureSource,
}

impl BackboneMaps<'_> {
    /// The maps' methods, in file order.
    const METHODS: [&'static str; 2] = ["pca", "tsne"];

    fn stem(&self) -> String {
        slug(&self.source.backbone)
    }

    /// Each map's alt text and PNG path relative to the report folder.
    pub fn links(&self) -> Vec<(String, String)> {
        let (backbone, stem) = (&self.source.backbone, self.stem());
        Self::METHODS
            .iter()
            .map(|method| {
                (
                    format!("{backbone}, {method}"),
                    ReportFigure::FeatureMap {
                        backbone: &stem,
                        method,
                    }
                    .png(),
                )
            })
            .collect()
    }

    /// Draws both maps into the grid's report folder (the t-SNE seeded by the source run's
    /// seed). Returns the written paths.
    pub fn draw(&self, grid: &GridDir) -> Result<Vec<PathBuf>> {
        let FeatureSource {
            backbone,
            seed,
            table,
            ..
        } = self.source;
        let title =
            format!("{backbone}: frozen features of the training and test images (seed {seed})");
        let stem = self.stem();
        let [pca, tsne] = Self::METHODS.map(|method| {
            grid.report_figure(&ReportFigure::FeatureMap {
                backbone: &stem,
                method,
            })
        });
        draw_feature_maps(table, &title, [&pca, &tsne], *seed as u64)
    }
}

/// One panel: its caption and its points as (class index, coordinates).
struct Panel {
    caption: String,
    points: Vec<(usize, [f64; 2])>,
}

/// A map figure: a title, a class legend and two panels on shared axes.
struct MapFigure {
    title: String,
    axis_labels: (String, String),
    tick_labels: bool,
    /// Class names and how many drawn points each has.
    classes: Vec<(String, usize)>,
    panels: [Panel; 2],
}

/// Size of a drawn point, pixels, and its opacity: 900 overlapping points stay readable.
const POINT_RADIUS: i32 = 3;
const POINT_OPACITY: f64 = 0.6;

impl MapFigure {
    /// The training and test rows among `rows` (whose coordinates are `points`).
    fn new(
        table: &FeatureTable,
        title: &str,
        axis_labels: (String, String),
        tick_labels: bool,
        rows: &[usize],
        points: &[[f64; 2]],
    ) -> Self {
        let names = table.class_names();
        let class_of = |i: usize| names.iter().position(|c| *c == table.classes[i]);
        let panel = |split: &str, caption: &str| {
            let points: Vec<(usize, [f64; 2])> = rows
                .iter()
                .zip(points)
                .filter(|(&i, _)| table.splits[i] == split)
                .filter_map(|(&i, &p)| Some((class_of(i)?, p)))
                .collect();
            let total = table.rows_in(split).len();
            let caption = if points.len() < total {
                format!("{caption} ({} of {total} images, sampled)", points.len())
            } else {
                format!("{caption} ({total} images)")
            };
            Panel { caption, points }
        };
        let panels = [
            panel(split_name::TRAIN, "training"),
            panel(split_name::TEST, "test"),
        ];
        let classes = names
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let count = panels
                    .iter()
                    .flat_map(|p| &p.points)
                    .filter(|(c, _)| *c == k)
                    .count();
                (name.clone(), count)
            })
            .collect();
        Self {
            title: title.to_string(),
            axis_labels,
            tick_labels,
            classes,
            panels,
        }
    }

    /// The shared axis ranges: every drawn point, padded by 5%.
    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let points = self.panels.iter().flat_map(|p| &p.points);
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for (_, p) in points {
            for d in 0..2 {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        let range = |d: usize| {
            if !lo[d].is_finite() || !hi[d].is_finite() {
                return (-1.0, 1.0);
            }
            let pad = ((hi[d] - lo[d]) * 0.05).max(1e-6);
            (lo[d] - pad, hi[d] + pad)
        };
        (range(0), range(1))
    }

    fn draw_legend<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let style = text(font::LABEL).pos(Pos::new(HPos::Left, VPos::Center));
        let labels: Vec<String> = self
            .classes
            .iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect();
        let mut widths = Vec::new();
        for label in &labels {
            widths.push(area.estimate_text_size(label, &style)?.0 as i32 + 20 + 30);
        }
        let (width, height) = area.dim_in_pixel();
        let y = height as i32 / 2;
        let mut x = (width as i32 - widths.iter().sum::<i32>()).max(0) / 2;
        for (k, (label, w)) in labels.iter().zip(widths).enumerate() {
            let colour = series_style(k).color;
            area.draw(&Circle::new((x + 6, y), 6, colour.filled()))?;
            area.draw_text(label, &style, (x + 20, y))?;
            x += w;
        }
        Ok(())
    }
}

impl Figure for MapFigure {
    fn size(&self) -> (u32, u32) {
        (1400, 780)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let area = area
            .margin(10, 0, 10, 10)
            .titled(&self.title, text(font::TITLE))?;
        let (legend, plots) = area.split_vertically(40);
        self.draw_legend(&legend)?;
        let ((x0, x1), (y0, y1)) = self.ranges();
        for (panel, panel_area) in self.panels.iter().zip(plots.split_evenly((1, 2))) {
            let mut chart = ChartBuilder::on(&panel_area)
                .margin(12)
                .caption(&panel.caption, text(font::LABEL))
                .x_label_area_size(if self.tick_labels { 52 } else { 30 })
                .y_label_area_size(if self.tick_labels { 70 } else { 30 })
                .build_cartesian_2d(x0..x1, y0..y1)?;
            let mut mesh = chart.configure_mesh();
            mesh.light_line_style(WHITE)
                .bold_line_style(RGBColor(225, 225, 225))
                .x_desc(self.axis_labels.0.as_str())
                .y_desc(self.axis_labels.1.as_str())
                .axis_desc_style(text(font::LABEL))
                .label_style(text(font::TICK));
            if !self.tick_labels {
                mesh.x_labels(0).y_labels(0);
            }
            mesh.draw()?;
            // Interleaved (a fixed multiplicative hash of the index), so no class is always
            // drawn on top of the others.
            let mut order: Vec<usize> = (0..panel.points.len()).collect();
            order.sort_by_key(|&i| (i as u32).wrapping_mul(2_654_435_761));
            chart.draw_series(order.into_iter().map(|i| {
                let (class, [x, y]) = panel.points[i];
                let colour = series_style(class).color.mix(POINT_OPACITY);
                Circle::new((x, y), POINT_RADIUS, colour.filled())
            }))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedding::fixture::clusters;

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn feature_map_draws_four_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let table = clusters(&[-4.0, 0.0, 4.0], 20, 8, 4, 1.0);
        let written = draw_feature_maps(
            &table,
            "cnn: features",
            [&dir.path().join("map-pca"), &dir.path().join("map-tsne")],
            1,
        )?;
        let names: Vec<String> = written
            .iter()
            .filter_map(|p| Some(p.file_name()?.to_str()?.to_string()))
            .collect();
        assert_eq!(
            names,
            ["map-pca.png", "map-pca.svg", "map-tsne.png", "map-tsne.svg"]
        );
        for path in &written {
            assert_eq!(path.parent(), Some(dir.path()));
            if path.extension().is_some_and(|e| e == "png") {
                let image = image::open(path)?;
                assert_eq!((image.width(), image.height()), (1400, 780));
            } else {
                let svg = std::fs::read_to_string(path)?;
                assert!(svg.contains("<svg"));
                // 20 per class: 12 training, 4 validation (not drawn), 4 test.
                assert!(svg.contains("class2 (16)"), "legend with counts");
            }
        }
        let pca_svg = std::fs::read_to_string(dir.path().join("map-pca.svg"))?;
        assert!(pca_svg.contains("PC1 ("), "explained variance on the axis");
        Ok(())
    }
}
