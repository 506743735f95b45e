//! Our results beside PyTorch's: the printed table and `bench/last.json`.

use serde::Serialize;

use crate::case::{Case, Mode};
use crate::flops::gflop_per_image;
use crate::suite::Suite;

/// One row of `bench/last.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Model name.
    pub model: String,
    /// Freeze depth.
    pub freeze: usize,
    /// `train`, `infer` or `epoch`.
    pub mode: String,
    /// Our images per second.
    pub ours_img_s: f64,
    /// PyTorch's images per second (None when it did not run this case).
    pub torch_img_s: Option<f64>,
    /// Our peak resident memory, MiB.
    pub ours_peak_mb: f64,
    /// PyTorch's peak resident memory, MiB.
    pub torch_peak_mb: Option<f64>,
    /// `ours_img_s / torch_img_s`.
    pub ratio: Option<f64>,
    /// Convolution GFLOP per image (see `flops.rs`).
    pub gflop_per_image: Option<f64>,
}

/// Pairs every case we measured with PyTorch's result for the same case, if any.
pub fn rows(ours: &Suite, torch: Option<&Suite>) -> Vec<Row> {
    ours.results
        .iter()
        .map(|m| {
            // PyTorch has no prefix cache: every epoch runs its training step, so an `epoch`
            // row is compared with PyTorch's `train` row of the same model and freeze.
            let wanted = Case {
                mode: if m.case.mode == Mode::Epoch {
                    Mode::Train
                } else {
                    m.case.mode
                },
                ..m.case.clone()
            };
            let theirs = torch.and_then(|t| {
                t.results
                    .iter()
                    .find(|r| r.case == m.case)
                    .or_else(|| t.results.iter().find(|r| r.case == wanted))
            });
            Row {
                model: m.case.model.clone(),
                freeze: m.case.freeze,
                mode: m.case.mode.to_string(),
                ours_img_s: m.img_s,
                torch_img_s: theirs.map(|t| t.img_s),
                ours_peak_mb: m.peak_mb,
                torch_peak_mb: theirs.map(|t| t.peak_mb),
                ratio: theirs.map(|t| m.img_s / t.img_s),
                gflop_per_image: gflop_per_image(&m.case),
            }
        })
        .collect()
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.digits$}"))
}

/// A Markdown table of `rows`, with throughput as a share of `peak_gflops`.
pub fn table(rows: &[Row], peak_gflops: f64) -> String {
    let mut out = String::from(
        "| model | freeze | mode | ours img/s | torch img/s | ratio | ours % peak | torch % peak | ours peak MB | torch peak MB |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let pct = |img_s: Option<f64>, g: Option<f64>| {
        opt(img_s.zip(g).map(|(i, g)| 100.0 * i * g / peak_gflops), 0)
    };
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} | {} | {} | {} | {} | {:.0} | {} |\n",
            r.model,
            r.freeze,
            r.mode,
            r.ours_img_s,
            opt(r.torch_img_s, 1),
            opt(r.ratio, 2),
            pct(Some(r.ours_img_s), r.gflop_per_image),
            pct(r.torch_img_s, r.gflop_per_image),
            r.ours_peak_mb,
            opt(r.torch_peak_mb, 0),
        ));
    }
    out
}
