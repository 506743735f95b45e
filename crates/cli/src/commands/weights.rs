//! `cxr weights fetch | list`.

use cxr_weights::{Cache, CachedFile, Published, Registry};

use crate::cli::{FetchArgs, WeightsCommand, WeightsListArgs};
use crate::download_bar::DownloadBar;
use crate::exit::ExitStatus;
use crate::stdout::outln;

/// Runs a `cxr weights` subcommand, with the published weights `$CXR_WEIGHTS_INDEX` adds.
pub fn run(cmd: WeightsCommand) -> anyhow::Result<ExitStatus> {
    let registry = Registry::from_env();
    match cmd {
        WeightsCommand::Fetch(args) => fetch(args, &registry),
        WeightsCommand::List(args) => list(args, &registry),
    }
}

fn fetch(args: FetchArgs, registry: &Registry) -> anyhow::Result<ExitStatus> {
    let mut wanted: Vec<&Published> = if args.all {
        registry.published()?.iter().collect()
    } else {
        let found = args
            .models
            .iter()
            .map(|&model| registry.lookup(model, &args.variant));
        found.collect::<Result<_, _>>()?
    };
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|p| seen.insert(p.file));
    let mirror = args.mirror.resolve();
    let cache = Cache::new(&args.cache.resolve()).with_observer(&DownloadBar);
    for p in wanted {
        outln!("{}", cache.ensure(p, mirror.as_deref())?.display());
    }
    Ok(ExitStatus::Success)
}

fn list(args: WeightsListArgs, registry: &Registry) -> anyhow::Result<ExitStatus> {
    let cache = Cache::new(&args.cache.resolve()).with_registry(registry);
    let files = cache.list()?;
    if args.json {
        let rows: Vec<serde_json::Value> = files.iter().map(json_row).collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitStatus::Success);
    }
    if files.is_empty() {
        outln!("no weights cached in {}", cache.dir().display());
        return Ok(ExitStatus::Success);
    }
    outln!("{}", cache.dir().display());
    outln!(
        "{:<24} {:<9} {:<14} {:>10}  {:<64}  verified",
        "file",
        "model",
        "variant",
        "size",
        "sha256"
    );
    for f in &files {
        outln!(
            "{:<24} {:<9} {:<14} {:>10}  {:<64}  {}",
            file_name(f),
            f.published.map_or("-".to_string(), |p| p.model.to_string()),
            f.published.map_or("-", |p| p.variant),
            human_size(f.bytes),
            f.sha256,
            if f.verified { "yes" } else { "NO" }
        );
    }
    Ok(ExitStatus::Success)
}

fn file_name(f: &CachedFile) -> String {
    f.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn json_row(f: &CachedFile) -> serde_json::Value {
    serde_json::json!({
        "path": f.path,
        "file": file_name(f),
        "model": f.published.map(|p| p.model.to_string()),
        "variant": f.published.map(|p| p.variant),
        "bytes": f.bytes,
        "sha256": f.sha256,
        "verified": f.verified,
    })
}

/// `46827520` -> `44.7 MiB`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_as_humans_write_them() {
        // The middle two are about the sizes of resnet18's and resnet50's .pth files.
        let cases = [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (46_827_520, "44.7 MiB"),
            (102_530_333, "97.8 MiB"),
            (3 << 30, "3.0 GiB"),
        ];
        for (bytes, text) in cases {
            assert_eq!(human_size(bytes), text, "{bytes}");
        }
    }
}
