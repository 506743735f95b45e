//! Issue 29, item 4: malformed inputs never panic. Valid grid files, label tables, PNG, JPEG and
//! DICOM films, `preprocessing.json` and `config.toml` are mutated (bytes flipped, inserted,
//! deleted, duplicated, truncated, spliced with tokens of their format) by a seeded generator,
//! and each mutant goes through the reader cxr uses for it. Every case must end in a value or in
//! an error of one line that names the file; a panic fails the test with the case's seed.
//!
//! `CXR_FUZZ_CASES` sets the cases per input kind (default 200, a CI-sized pass); `just fuzz`
//! runs 10,000 per kind.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use cxr_data::{preprocess_file, DicomWindow};
use cxr_experiment::{Grid, Overrides, RunConfigFile as _};
use cxr_results::RunDir;

use crate::support::TestResult;

/// A small, seeded generator (SplitMix64): the same seed gives the same mutants everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four mutations of `input`; `tokens` are fragments of its format to splice in.
fn mutate(input: &[u8], tokens: &[&[u8]], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let byte = [0u8, 0xFF, 0x7F, 0x80, b'\n', b'"', b'\''][rng.below(7)];
                out.insert(at, byte);
            }
            2 if !out.is_empty() => {
                let len = 1 + rng.below(16.min(out.len()));
                let end = (at + len).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(64)).min(out.len());
                let piece = out[start..end].to_vec();
                out.splice(at..at, piece);
            }
            4 => out.truncate(at),
            5 if !tokens.is_empty() => {
                let token = tokens[rng.below(tokens.len())];
                out.splice(at..at, token.iter().copied());
            }
            _ if !out.is_empty() => {
                // A large number where a small one stood: sizes, counts, offsets.
                let i = at.min(out.len() - 1);
                out[i] = [0x00, 0xFF, b'9'][rng.below(3)];
            }
            _ => {}
        }
    }
    out
}

/// What one input kind's cases gave.
#[derive(Debug, Default)]
struct Tally {
    ok: usize,
    errors: usize,
    panics: Vec<String>,
    bad_errors: Vec<String>,
}

/// Runs `cases` mutants of each `seeds` input through `read`, which gets the mutant's file
/// (written to `file`) and returns the error text, if any.
fn fuzz(
    kind: &str,
    seeds: &[Vec<u8>],
    tokens: &[&[u8]],
    file: &Path,
    cases: usize,
    read: impl Fn(&Path) -> Option<String>,
) -> Tally {
    let mut tally = Tally::default();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for case in 0..cases {
        let mut rng = Rng(0xC0FF_EE00 ^ case as u64 ^ (kind.len() as u64) << 40);
        let seed = &seeds[case % seeds.len()];
        let mutant = mutate(seed, tokens, &mut rng);
        if std::fs::write(file, &mutant).is_err() {
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| read(file))) {
            Ok(None) => tally.ok += 1,
            Ok(Some(message)) => {
                tally.errors += 1;
                if message.contains('\n') || !message.contains(&name) {
                    tally
                        .bad_errors
                        .push(format!("{kind} case {case}: {message:?}"));
                }
            }
            Err(_) => {
                let kept = file.with_extension(format!("panic-{case}"));
                let _ = std::fs::write(&kept, &mutant);
                tally
                    .panics
                    .push(format!("{kind} case {case} (kept as {})", kept.display()));
            }
        }
    }
    println!(
        "fuzz {kind}: {cases} cases, {} read, {} one-line errors, {} panics, {} bad error messages",
        tally.ok,
        tally.errors,
        tally.panics.len(),
        tally.bad_errors.len()
    );
    tally
}

fn cases() -> usize {
    std::env::var("CXR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn check(tallies: &[Tally]) -> TestResult {
    let panics: Vec<&String> = tallies.iter().flat_map(|t| &t.panics).collect();
    let bad: Vec<&String> = tallies.iter().flat_map(|t| &t.bad_errors).collect();
    if !panics.is_empty() || !bad.is_empty() {
        return Err(format!(
            "{} panic(s): {panics:?}; {} error(s) not one line naming the file: {:?}",
            panics.len(),
            bad.len(),
            &bad[..bad.len().min(5)]
        )
        .into());
    }
    Ok(())
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[test]
fn malformed_grids_configs_and_preprocessing_records_are_one_line_errors() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let overrides = Overrides {
        allow_missing_data: true,
        cache_dir: Some(tmp.path().join("cache")),
        ..Overrides::default()
    };
    // Grids on a data folder that does not exist: planning them reads nothing else.
    let grids: Vec<Vec<u8>> = [
        "experiments/paper.toml",
        "experiments/nih.toml",
        "experiments/heads.toml",
    ]
    .iter()
    .map(|p| std::fs::read(repo_file(p)))
    .collect::<Result<_, _>>()?;
    let toml_tokens: &[&[u8]] = &[
        b"[[grid]]\n",
        b"[train]\n",
        b"model = \"resnet18\"\n",
        b"freeze = [0, 9]\n",
        b"= ",
        b"\"\"\"",
        b"[data]\nlabels = \"x.csv\"\n",
        b"weights = \"run\"\n",
        b"seed = -1\n",
        b"1e309",
        b"[pretrained.a]\n",
    ];
    let grid_file = tmp.path().join("g.toml");
    let grid = fuzz("grid", &grids, toml_tokens, &grid_file, cases(), |path| {
        Grid::from_file(path, &overrides)
            .err()
            .map(|e| e.to_string())
    });

    // A run folder's config.toml and preprocessing.json, read as inference reads them.
    let run = RunDir::at(&tmp.path().join("run"));
    std::fs::create_dir_all(run.path())?;
    let planned = Grid::from_file(&repo_file("experiments/paper.toml"), &overrides)?;
    run.write_config(&planned.runs[0].config)?;
    let config = std::fs::read(run.config_path())?;
    let config_tally = fuzz(
        "config.toml",
        &[config],
        toml_tokens,
        &run.config_path(),
        cases(),
        |_| run.read_config().err().map(|e| e.to_string()),
    );
    let preprocessing = br#"{"classes":["COVID","Normal","Viral Pneumonia"],"in_channels":3,"stats":{"mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25]},"multilabel":false,"thresholds":[],"temperatures":[]}"#;
    let json_tokens: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b"null",
        b"1e999",
        b"-0",
        b"\"\\u0000\"",
    ];
    let record = fuzz(
        "preprocessing.json",
        &[preprocessing.to_vec()],
        json_tokens,
        &run.preprocessing_path(),
        cases(),
        |_| run.read_preprocessing().err().map(|e| e.to_string()),
    );
    check(&[grid, config_tally, record])
}

#[test]
fn malformed_films_are_one_line_errors() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let window = DicomWindow::default();
    let film =
        image::GrayImage::from_fn(48, 40, |x, y| image::Luma([((x * 5 + y * 3) % 256) as u8]));
    let png_path = tmp.path().join("seed.png");
    film.save(&png_path)?;
    let jpeg_path = tmp.path().join("seed.jpg");
    film.save(&jpeg_path)?;
    let rgb = image::DynamicImage::ImageLuma8(film.clone()).to_rgb16();
    let png16_path = tmp.path().join("seed16.png");
    rgb.save(&png16_path)?;
    let decode = |path: &Path| {
        preprocess_file(path, None, 32, &window)
            .err()
            .map(|e| e.to_string())
    };

    let pngs = vec![std::fs::read(&png_path)?, std::fs::read(&png16_path)?];
    let png = fuzz(
        "png",
        &pngs,
        &[b"IHDR", b"IDAT", b"IEND", b"\xff\xff\xff\xff"],
        &tmp.path().join("f.png"),
        cases(),
        decode,
    );
    let jpeg = fuzz(
        "jpeg",
        &[std::fs::read(&jpeg_path)?],
        &[
            b"\xff\xd8",
            b"\xff\xc0",
            b"\xff\xda",
            b"\xff\xd9",
            b"\xff\xff",
        ],
        &tmp.path().join("f.jpg"),
        cases(),
        decode,
    );
    let mut dicoms = Vec::new();
    for (i, variant) in cxr_dicom_fixtures::DicomVariant::all().iter().enumerate() {
        let path = tmp.path().join(format!("seed{i}.dcm"));
        cxr_dicom_fixtures::write_radiograph(
            &path,
            &film,
            variant,
            &cxr_dicom_fixtures::Patient::canary(),
        )?;
        dicoms.push(std::fs::read(&path)?);
    }
    let dicom = fuzz(
        "dicom",
        &dicoms,
        &[
            b"DICM",
            b"\x28\x00\x10\x00",
            b"\xe0\x7f\x10\x00",
            b"\xff\xff\xff\xff",
            b"OW",
            b"UL",
        ],
        &tmp.path().join("f.dcm"),
        cases(),
        decode,
    );

    check(&[png, jpeg, dicom])
}

#[test]
fn malformed_label_tables_are_one_line_errors() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let film =
        image::GrayImage::from_fn(48, 40, |x, y| image::Luma([((x * 5 + y * 3) % 256) as u8]));
    // A generic label table over films that exist, read as a sweep reads it.
    let root = tmp.path().join("data");
    std::fs::create_dir_all(root.join("images"))?;
    let mut csv = String::from("path,patient,Effusion,Mass\n");
    for i in 0..6 {
        film.save(root.join(format!("images/{i}.png")))?;
        csv.push_str(&format!("{i}.png,p{},{},{}\n", i / 2, i % 2, (i / 3) % 2));
    }
    let table_path = root.join("labels.csv");
    let spec = cxr_data::LabelSpec {
        root: root.clone(),
        labels: "labels.csv".into(),
        skip_missing: true,
        ..cxr_data::LabelSpec::default()
    };
    let opts = cxr_data::LoadOptions {
        image_size: 32,
        ..cxr_data::LoadOptions::default()
    };
    let table = fuzz(
        "label table",
        &[csv.into_bytes()],
        &[
            b",",
            b"\n",
            b"\"",
            b"-1",
            b"1.0",
            b"Finding Labels",
            b"Patient ID",
            b"|",
            b"\r\n",
        ],
        &table_path,
        cases(),
        |_| {
            cxr_data::load_table(&spec, &opts)
                .err()
                .map(|e| e.to_string())
        },
    );
    check(&[table])
}
