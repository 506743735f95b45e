//! Grids that take their starting weights from another grid's runs, and grids of several
//! `[[grid]]` blocks.

use std::path::Path;

use cxr_experiment::{Grid, Overrides, Weights};

use crate::support::{self, needs_shared_data, TestResult};

const SOURCE: &str = r#"
name = "source"
[data.synthetic]
per_class = 20
seed = 7
[train]
max_epochs = 3
[grid]
model = ["cnn", "resnet18"]
"#;

const TARGET: &str = r#"
name = "target"
[data.synthetic]
per_class = 20
[train]
max_epochs = 3
[pretrained.tb]
grid = "source.toml"

[[grid]]
model = "cnn"

[[grid]]
model = "resnet18"
freeze = [0, 4]
weights = ["random", "tb"]
"#;

/// Writes `files` (name, text) into a fresh folder and expands the last one.
fn expand(files: &[(&str, &str)]) -> Result<(tempfile::TempDir, Grid), Box<dyn std::error::Error>> {
    let tmp = tempfile::tempdir()?;
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text)?;
    }
    let last = tmp.path().join(files[files.len() - 1].0);
    let grid = Grid::from_file(&last, &Overrides::default())?;
    Ok((tmp, grid))
}

fn error_of(files: &[(&str, &str)]) -> String {
    support::error_of(expand(files).map(|(_, g)| g))
}

#[test]
fn a_label_resolves_to_the_source_run_of_the_same_model() -> TestResult {
    let (_tmp, grid) = expand(&[("source.toml", SOURCE), ("target.toml", TARGET)])?;
    assert_eq!(grid.sources.len(), 1);
    let source = &grid.sources[0];
    assert_eq!(source.name, "source");
    let source_resnet = &source.runs[1];
    assert_eq!(source_resnet.config.model.name.to_string(), "resnet18");

    // cnn once, then resnet18 x freeze x weights: the blocks are joined.
    assert_eq!(grid.runs.len(), 5);
    assert_eq!(grid.axes, ["model.name", "model.freeze", "model.weights"]);
    let starts: Vec<Option<&Weights>> = grid
        .runs
        .iter()
        .map(|r| r.config.model.weights.as_ref())
        .collect();
    let from_source = Weights::Run {
        grid: "source".into(),
        run: source_resnet.id.clone(),
    };
    assert_eq!(
        starts,
        [None, None, Some(&from_source), None, Some(&from_source)]
    );
    assert!(grid.runs[2].config.pretrained());
    // The source stage comes first.
    let stages: Vec<&str> = grid.stages().iter().map(|g| g.name.as_str()).collect();
    assert_eq!(stages, ["source", "target"]);
    Ok(())
}

#[test]
fn editing_the_source_grid_changes_the_fine_tune_run_ids() -> TestResult {
    let (_a, before) = expand(&[("source.toml", SOURCE), ("target.toml", TARGET)])?;
    let edited = SOURCE.replace("max_epochs = 3", "max_epochs = 4");
    let (_b, after) = expand(&[("source.toml", &edited), ("target.toml", TARGET)])?;
    for (b, a) in before.runs.iter().zip(&after.runs) {
        let from_source = b.config.model.weights.is_some();
        assert_eq!(b.id != a.id, from_source, "{} vs {}", b.id, a.id);
    }
    Ok(())
}

#[test]
fn inline_source_table_and_seed_pairing() -> TestResult {
    let source = SOURCE.replace("[grid]", "[grid]\nseed = [0, 1]");
    let target = r#"
name = "target"
[data.synthetic]
per_class = 20
[models.resnet18]
weights = { grid = "source.toml", model = "resnet18" }
[grid]
model = "resnet18"
seed = [0, 1]
"#;
    let (_tmp, grid) = expand(&[("source.toml", &source), ("target.toml", target)])?;
    let src = &grid.sources[0];
    for run in &grid.runs {
        let Some(Weights::Run { run: id, .. }) = &run.config.model.weights else {
            return Err("expected weights from a run".into());
        };
        let picked = src
            .runs
            .iter()
            .find(|r| &r.id == id)
            .ok_or("no such source run")?;
        assert_eq!(picked.config.seed, run.config.seed);
        assert_eq!(picked.config.model.name.to_string(), "resnet18");
    }
    Ok(())
}

/// What goes wrong, the grid files (name, text; the last is expanded), and what the error says.
type Case = (
    &'static str,
    Vec<(&'static str, String)>,
    &'static [&'static str],
);

#[test]
fn source_mistakes_are_one_clear_line() {
    let cases: [Case; 6] = [
        (
            "missing source file",
            vec![("target.toml", TARGET.to_string())],
            &["pretrained.tb", "source.toml", "source grid file not found"],
        ),
        (
            "cycle",
            vec![
                (
                    "source.toml",
                    format!(
                        "{SOURCE}\n[models.resnet18]\nweights = {{ grid = \"target.toml\" }}\n"
                    ),
                ),
                ("target.toml", TARGET.to_string()),
            ],
            &["cycle", "target.toml -> ", "source.toml"],
        ),
        (
            "no matching run",
            vec![
                (
                    "source.toml",
                    SOURCE.replace("[\"cnn\", \"resnet18\"]", "[\"cnn\"]"),
                ),
                ("target.toml", TARGET.to_string()),
            ],
            &[
                "no resnet18 run of that grid matches",
                "its runs: cnn-f0-s0-",
            ],
        ),
        (
            "several matching runs",
            vec![
                (
                    "source.toml",
                    SOURCE.replace("[grid]", "[grid]\n\"train.lr\" = [0.001, 0.01]"),
                ),
                ("target.toml", TARGET.to_string()),
            ],
            &["2 runs of that grid match", "run = \"<id prefix>\""],
        ),
        (
            "model that does not fit",
            vec![
                ("source.toml", SOURCE.to_string()),
                (
                    "target.toml",
                    TARGET.replace(
                        "grid = \"source.toml\"",
                        "grid = \"source.toml\"\nmodel = \"cnn\"",
                    ),
                ),
            ],
            &[
                "pretrained.tb.model",
                "a cnn's weights do not fit a resnet18",
            ],
        ),
        (
            "unknown label",
            vec![
                ("source.toml", SOURCE.to_string()),
                (
                    "target.toml",
                    TARGET.replace("\"random\", \"tb\"", "\"random\", \"tbb\""),
                ),
            ],
            &[
                "model.weights = ",
                "/tbb is invalid",
                "no such weights file",
                "a [pretrained] label (\"tb\")",
            ],
        ),
    ];
    for (what, files, needles) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let msg = error_of(&files);
        assert!(!msg.contains('\n'), "{what}: {msg}");
        for needle in needles {
            assert!(msg.contains(needle), "{what}: `{needle}` not in: {msg}");
        }
    }
}

#[test]
fn random_means_no_weights_and_a_source_must_have_another_name() -> TestResult {
    let (_tmp, grid) = expand(&[(
        "t.toml",
        "name = \"t\"\n[data.synthetic]\n[model]\nname = \"resnet18\"\nweights = \"random\"\n",
    )])?;
    assert_eq!(grid.runs[0].config.model.weights, None);
    let msg = error_of(&[
        ("source.toml", SOURCE),
        (
            "target.toml",
            &TARGET.replace("name = \"target\"", "name = \"source\""),
        ),
    ]);
    assert!(msg.contains("has this grid's name"), "{msg}");
    Ok(())
}

#[test]
fn shipped_demo_takes_its_pretrained_arm_from_demo_pretrain() -> TestResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/demo.toml");
    let grid = Grid::from_file(&path, &Overrides::default())?;
    let stages: Vec<&str> = grid.stages().iter().map(|g| g.name.as_str()).collect();
    assert_eq!(stages, ["demo-pretrain", "demo"]);
    let pretrained = grid
        .runs
        .iter()
        .filter(|r| matches!(r.config.model.weights, Some(Weights::Run { .. })))
        .count();
    assert_eq!(pretrained, 3);
    Ok(())
}

#[test]
fn published_names_resolve_to_their_canonical_name() -> TestResult {
    let base = "name = \"t\"\n[data.synthetic]\n[model]\nname = \"resnet50\"\n";
    for (given, want) in [
        ("imagenet", "torchvision:IMAGENET1K_V1"),
        ("torchvision:imagenet1k_v2", "torchvision:IMAGENET1K_V2"),
    ] {
        let (_tmp, grid) = expand(&[("t.toml", &format!("{base}weights = \"{given}\"\n"))])?;
        assert_eq!(
            grid.runs[0].config.model.weights,
            Some(Weights::Published { name: want.into() })
        );
    }
    let msg = error_of(&[(
        "t.toml",
        "name = \"t\"\n[data.synthetic]\n[model]\nname = \"cnn\"\nweights = \"imagenet\"\n",
    )]);
    assert!(
        msg.contains("model.weights = imagenet")
            && msg.contains("the cnn has no published weights"),
        "{msg}"
    );
    Ok(())
}

#[test]
fn sources_chain_further_and_each_grid_is_a_stage_once() -> TestResult {
    // base <- middle <- top, and top also takes weights from base directly.
    let base = SOURCE.replace("name = \"source\"", "name = \"base\"");
    let middle = r#"
name = "middle"
weights_mirror = "http://mirror.lan/weights"
[data.synthetic]
per_class = 20
[pretrained.b]
grid = "base.toml"
[grid]
model = "resnet18"
weights = "b"
"#;
    let top = r#"
name = "top"
[data.synthetic]
per_class = 20
[pretrained.m]
grid = "middle.toml"
[pretrained.b]
grid = "base.toml"
[grid]
model = "resnet18"
freeze = [2, 4]
weights = ["m", "b"]
"#;
    let (_tmp, grid) = expand(&[
        ("base.toml", &base),
        ("middle.toml", middle),
        ("top.toml", top),
    ])?;
    let stages: Vec<&str> = grid.stages().iter().map(|g| g.name.as_str()).collect();
    assert_eq!(stages, ["base", "middle", "top"]);
    let middle = &grid.sources[0];
    assert_eq!(
        middle.weights_mirror.as_deref(),
        Some("http://mirror.lan/weights")
    );
    assert_eq!(grid.weights_mirror, None);
    let from: Vec<String> = grid
        .runs
        .iter()
        .filter_map(|r| match &r.config.model.weights {
            Some(Weights::Run { grid, .. }) => Some(grid.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(from, ["middle", "base", "middle", "base"]);
    Ok(())
}

/// On the data in `../shared/data`: ignored by a plain `cargo test`, run by `just test` where the
/// folder exists (`cargo test -- --ignored shared_data::`).
mod shared_data {
    use super::*;

    #[test]
    #[ignore = "needs ../shared/data: `just test` runs it where the folder exists"]
    fn shipped_transfer_grid_pretrains_twice_then_fine_tunes_three_ways() -> TestResult {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        needs_shared_data(&["TB_Chest_Source", "COVID-19_Radiography_Dataset"])?;
        let grid = Grid::from_file(
            &dir.join("experiments/transfer.toml"),
            &Overrides::default(),
        )?;
        let stages: Vec<&str> = grid.stages().iter().map(|g| g.name.as_str()).collect();
        assert_eq!(stages, ["pretrain-tb", "pretrain-tb-ae", "transfer"]);
        // 3 seeds x (the CNN + resnet18 x 5 freeze depths x 3 starts).
        assert_eq!(grid.runs.len(), 3 * (1 + 5 * 3));
        let ae = &grid.sources[1].runs[0];
        assert_eq!(
            ae.config.train.objective,
            cxr_experiment::Objective::Autoencoder
        );
        Ok(())
    }
}
