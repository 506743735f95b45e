//! `cxr explain`: Grad-CAM overlay of one radiograph for the predicted or a named class.

use cxr_inference::explain;

use crate::cli::ExplainArgs;
use crate::exit::ExitStatus;
use crate::stdout::outln;

/// Runs `cxr explain`.
pub fn run(args: ExplainArgs) -> anyhow::Result<ExitStatus> {
    let cache_dir = args.cache.resolve();
    let model = super::open_run(&args.run, &cache_dir, &args.mirror)?;
    let explanation = explain(&model, &args.image, args.class.as_deref())?;
    explanation.save(&args.out)?;
    outln!(
        "wrote {}: Grad-CAM for {} (p={:.3}); {} {}",
        args.out.display(),
        explanation.class,
        explanation.cam.probability(),
        if explanation.multilabel {
            "called"
        } else {
            "predicted"
        },
        explanation.predicted
    );
    if explanation.cam.is_blank() {
        outln!("note: the map is blank: no location raises this class's score");
    }
    Ok(ExitStatus::Success)
}
