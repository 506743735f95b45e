//! `cxr data inspect | synth | prepare`.

use std::time::Instant;

use anyhow::Context;

use crate::cli::{DataCommand, InspectArgs, PrepareArgs, SynthArgs};
use crate::exit::ExitStatus;
use crate::stdout::outln;

/// Runs a `cxr data` subcommand.
pub fn run(cmd: DataCommand) -> anyhow::Result<ExitStatus> {
    match cmd {
        DataCommand::Inspect(args) => inspect(args),
        DataCommand::Synth(args) => synth(args),
        DataCommand::Prepare(args) => prepare(args),
    }
}

fn inspect(args: InspectArgs) -> anyhow::Result<ExitStatus> {
    if let Some(labels) = &args.labels {
        return inspect_labels(&args, labels);
    }
    let report = cxr_data::inspect(&args.dir, args.classes.as_deref())?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitStatus::Success);
    }
    outln!("{}", report.root.display());
    outln!(
        "{:<24} {:>7} {:>6}  {:<10} sizes / pixel types / file types",
        "class",
        "images",
        "masks",
        "layout"
    );
    for c in &report.classes {
        let sizes = tally(c.sizes.iter().map(|(k, v)| (k.clone(), *v)));
        let pixel_types = tally(c.pixel_types.iter().map(|(k, v)| (k.clone(), *v)));
        let file_types = tally(c.file_types.iter().map(|(k, v)| (k.clone(), *v)));
        outln!(
            "{:<24} {:>7} {:>6}  {:<10} {sizes} / {pixel_types} / {file_types}",
            c.name,
            c.images,
            c.masks,
            format!("{:?}", c.layout).to_lowercase()
        );
        if c.dicom > 0 {
            outln!(
                "{:<24} DICOM {}: modality {} / {} / bits stored {} / {}",
                "",
                c.dicom,
                tally(c.modalities.iter().map(|(k, v)| (k.clone(), *v))),
                tally(c.photometric.iter().map(|(k, v)| (k.clone(), *v))),
                tally(c.bits_stored.iter().map(|(k, v)| (k.to_string(), *v))),
                tally(c.transfer_syntaxes.iter().map(|(k, v)| (k.clone(), *v))),
            );
        }
        if c.unreadable > 0 {
            outln!("{:<24} {} unreadable", "", c.unreadable);
        }
    }
    if report.unreadable.is_empty() {
        outln!("no unreadable files");
    } else {
        outln!("{} unreadable file(s):", report.unreadable.len());
        for u in &report.unreadable {
            outln!("  {}: {}", u.path.display(), u.reason);
        }
    }
    Ok(ExitStatus::Success)
}

fn inspect_labels(args: &InspectArgs, labels: &std::path::Path) -> anyhow::Result<ExitStatus> {
    let spec = cxr_data::LabelSpec {
        root: args.dir.clone(),
        labels: labels.to_path_buf(),
        skip_missing: true,
        ..Default::default()
    };
    let census = cxr_data::census(&cxr_data::read_label_table(&spec)?);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&census)?);
        return Ok(ExitStatus::Success);
    }
    outln!(
        "{}: {} layout, {} films, {} {}{}",
        census.table.display(),
        census.layout.describe(),
        census.films,
        census.findings.len(),
        if census.single_label {
            "classes"
        } else {
            "findings"
        },
        if census.single_label {
            String::new()
        } else {
            format!(", {} films with two or more", census.multi_finding_films)
        }
    );
    outln!(
        "{:<28} {:>8} {:>8} {:>9} {:>8}",
        "finding",
        "positive",
        "negative",
        "uncertain",
        "missing"
    );
    for f in &census.findings {
        outln!(
            "{:<28} {:>8} {:>8} {:>9} {:>8}",
            f.name,
            f.positive,
            f.negative,
            f.uncertain,
            f.missing
        );
    }
    match &census.patients {
        Some(p) => outln!(
            "patients: {}, films per patient: min {}, median {}, max {}",
            p.count,
            p.min_films,
            p.median_films,
            p.max_films
        ),
        None => outln!("patients: the table names none (splits will be by film)"),
    }
    match &census.views {
        Some(views) => outln!(
            "views: {}",
            tally(views.iter().map(|(k, v)| {
                let name = if k.is_empty() { "(blank)" } else { k.as_str() };
                (name.to_string(), *v)
            }))
        ),
        None => outln!("views: the table has no view column"),
    }
    match census.missing_files.first() {
        None => outln!("no missing images"),
        Some((line, path)) => outln!(
            "{} row(s) name missing images, first on line {line}: {}",
            census.missing_files.len(),
            path.display()
        ),
    }
    Ok(ExitStatus::Success)
}

fn tally(items: impl Iterator<Item = (String, usize)>) -> String {
    items
        .map(|(k, v)| format!("{k} ({v})"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn synth(args: SynthArgs) -> anyhow::Result<ExitStatus> {
    let mut cfg = cxr_data::synth::SynthConfig {
        per_class: args.per_class,
        size: args.size,
        seed: args.seed,
        ..Default::default()
    };
    if let Some(classes) = args.classes {
        cfg.classes = classes;
    }
    let start = Instant::now();
    let summary = cxr_data::synth::write_synthetic(&args.out, &cfg)
        .with_context(|| format!("writing the synthetic dataset to {}", args.out.display()))?;
    outln!(
        "wrote {} classes x {} images ({}x{}) to {} in {:.1}s",
        summary.classes.len(),
        summary.images_per_class,
        cfg.size,
        cfg.size,
        summary.root.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(ExitStatus::Success)
}

fn prepare(args: PrepareArgs) -> anyhow::Result<ExitStatus> {
    let opts = cxr_data::LoadOptions {
        image_size: args.image_size,
        mask: args.mask,
        skip_unreadable: args.skip_unreadable,
        classes: None,
        cache_dir: Some(args.cache.resolve()),
        dicom_window: args.dicom_window,
    };
    let start = Instant::now();
    let (set, report) = match cxr_data::load(&args.dir, &opts) {
        Ok(loaded) => loaded,
        // The library's advice names the grid key; on this command line it is a flag.
        Err(cxr_data::DataError::Unreadable(files)) => anyhow::bail!(
            "{} unreadable image(s) (fix or remove them, or pass --skip-unreadable):{}",
            files.len(),
            cxr_data::unreadable_lines(&files)
        ),
        Err(other) => return Err(other.into()),
    };
    let counts = set.class_counts();
    outln!(
        "{} images in {} classes ({}), {}x{}: {:?}, {} decoded, {:.3}s",
        set.len(),
        set.classes.len(),
        set.classes
            .iter()
            .zip(&counts)
            .map(|(c, n)| format!("{c}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        set.size,
        set.size,
        report.cache,
        report.decoded,
        start.elapsed().as_secs_f64()
    );
    if let Some(path) = report.cache_path {
        outln!("cache: {}", path.display());
    }
    Ok(ExitStatus::Success)
}
