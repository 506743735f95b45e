//! `cxr predict`: classify radiographs with a trained run, one line per image.

use std::io::Write;
use std::ops::ControlFlow;

use cxr_inference::{collect_images, predict, Prediction};

use crate::cli::PredictArgs;
use crate::exit::ExitStatus;

/// Runs `cxr predict`. Exit 0 when every image was classified, 1 when some were unreadable
/// (each reported on stderr, the rest still classified), 2 when none could be.
pub fn run(args: PredictArgs) -> anyhow::Result<ExitStatus> {
    let cache_dir = args.cache.resolve();
    let model = super::open_run(&args.run, &cache_dir, &args.mirror)?;
    let images = collect_images(&args.inputs)?;
    if images.is_empty() {
        anyhow::bail!("no PNG/JPEG images found in the given folder(s)");
    }
    let (mut predicted, mut skipped) = (0usize, 0usize);
    let mut stdout = std::io::stdout().lock();
    predict(&model, &images, |outcome| {
        match outcome {
            Ok(p) => {
                predicted += 1;
                // A closed pipe (`| head`) ends the work instead of panicking in println!.
                if writeln!(stdout, "{}", render(&p, &args)).is_err() {
                    return ControlFlow::Break(());
                }
            }
            Err(bad) => {
                skipped += 1;
                eprintln!(
                    "error: cannot read image {}: {}",
                    bad.path.display(),
                    bad.reason
                );
            }
        }
        ControlFlow::Continue(())
    })?;
    if skipped > 0 && predicted > 0 {
        eprintln!("{predicted} image(s) classified, {skipped} skipped");
    }
    Ok(match (predicted, skipped) {
        (_, 0) => ExitStatus::Success,
        (0, _) => ExitStatus::Error,
        _ => ExitStatus::Failure,
    })
}

fn render(p: &Prediction, args: &PredictArgs) -> String {
    let shown = match args.top {
        Some(k) => p.top(k),
        None => p.probabilities.clone(),
    };
    if args.json {
        let shown = Prediction {
            probabilities: shown,
            ..p.clone()
        };
        return shown.to_json().to_string();
    }
    let called = |class: &str| {
        p.findings()
            .find(|(f, _, _)| *f == class)
            .map(|(_, _, c)| if c { " yes" } else { " no" })
            .unwrap_or_default()
    };
    // A multi-label run: each finding's probability and call (`Effusion=0.8123 yes`).
    let probabilities: Vec<String> = shown
        .iter()
        .map(|(c, v)| format!("{c}={v:.4}{}", called(c)))
        .collect();
    format!(
        "{}: {} [{}]",
        p.path.display(),
        p.predicted,
        probabilities.join(", ")
    )
}
