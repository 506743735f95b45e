//! `cxr-bench`: measure one case, all cases, or report ours beside PyTorch's.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cxr_bench::{case, report, suite, Budget, Case, Mode, Suite, Target};
use cxr_models::DeviceSpec;

#[derive(Parser)]
#[command(about = "Training and inference throughput of the cxr models (see BENCHMARKS.md)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure one case in this process and print its JSON.
    Run {
        #[arg(long)]
        model: String,
        #[arg(long, default_value_t = 0)]
        freeze: usize,
        #[arg(long, value_parser = parse_mode, default_value = "train")]
        mode: Mode,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Measure every case (one process each) and write the results file.
    All {
        #[arg(long)]
        out: PathBuf,
        /// Only cases of these models (comma-separated); all by default.
        #[arg(long, value_delimiter = ',')]
        models: Vec<String>,
        /// Only these modes (comma-separated); all by default.
        #[arg(long, value_delimiter = ',', value_parser = parse_mode)]
        modes: Vec<Mode>,
        #[command(flatten)]
        budget: BudgetArgs,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Decode throughput of the real sample's films as PNG and as 12-bit DICOM (uncompressed,
    /// RLE, JPEG lossless), one thread.
    Decode {
        /// The dataset whose first images are decoded.
        #[arg(long, default_value = "../shared/data/COVID-19_Radiography_Dataset")]
        data: PathBuf,
        /// Films per class.
        #[arg(long, default_value_t = 20)]
        per_class: usize,
        /// Minimum timed seconds per format.
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Also write the rows as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the DICOM files here and keep them (default: a temporary folder).
        #[arg(long)]
        work: Option<PathBuf>,
    },
    /// Write a synthetic label table in NIH's format (NIH's size by default), then time reading
    /// it, building patients and findings, and a grouped, stratified k-fold split, one thread.
    Split {
        /// Films (rows).
        #[arg(long, default_value_t = 112_120)]
        rows: usize,
        /// Patients.
        #[arg(long, default_value_t = 30_805)]
        patients: usize,
        /// Folds.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Seed of the table.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Times each step this often and keeps the fastest.
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// Write the table here and keep it (default: a temporary folder).
        #[arg(long)]
        table: Option<PathBuf>,
        /// Also write the timings as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Print ours beside PyTorch's and write the merged JSON.
    Report {
        #[arg(long)]
        ours: PathBuf,
        #[arg(long)]
        torch: Option<PathBuf>,
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct BudgetArgs {
    /// Minimum timed seconds per case.
    #[arg(long, default_value_t = 15.0)]
    seconds: f64,
    /// Untimed steps first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
}

impl BudgetArgs {
    fn budget(&self) -> Budget {
        Budget {
            warmup_steps: self.warmup,
            min_time: Duration::from_secs_f64(self.seconds.max(0.0)),
        }
    }
}

#[derive(clap::Args)]
struct TargetArgs {
    /// cpu, cuda or cuda:N (a build with the `cuda` feature: `just build-cuda`).
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Images per step.
    #[arg(long, default_value_t = case::BATCH)]
    batch: usize,
}

impl TargetArgs {
    fn target(&self) -> Target {
        Target {
            device: self.device,
            batch: self.batch,
        }
    }
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| format!("unknown mode {s:?}: expected train, infer or epoch"))
}

/// mimalloc, keeping freed memory: see `cxr_kernels::alloc`.
#[global_allocator]
static ALLOCATOR: cxr_kernels::alloc::Allocator = cxr_kernels::alloc::Allocator;

fn main() -> anyhow::Result<()> {
    cxr_kernels::alloc::keep_freed_memory();
    match Cli::parse().command {
        Command::Run {
            model,
            freeze,
            mode,
            budget,
            target,
        } => {
            let case = Case {
                model,
                freeze,
                mode,
            };
            let m = cxr_bench::measure(&case, budget.budget(), target.target())
                .with_context(|| format!("measuring {case}"))?;
            println!("{}", serde_json::to_string(&m)?);
        }
        Command::All {
            out,
            models,
            modes,
            budget,
            target,
        } => {
            let cases: Vec<Case> = case::default_cases()
                .into_iter()
                .filter(|c| models.is_empty() || models.contains(&c.model))
                .filter(|c| modes.is_empty() || modes.contains(&c.mode))
                .collect();
            let target = target.target();
            let gemm_gflops = suite::gemm_gflops(target.device)?;
            eprintln!(
                "cxr: f32 GEMM on {} {gemm_gflops:.0} GFLOP/s",
                target.device
            );
            let exe = std::env::current_exe()?;
            let results = suite::run_cases(&exe, &cases, budget.budget(), target, |m| {
                eprintln!(
                    "cxr: {}: {:.1} img/s, peak {:.0} MB",
                    m.case, m.img_s, m.peak_mb
                )
            })?;
            let suite = Suite {
                label: if target.device.is_cpu() {
                    "cxr (candle 0.11.1 + cxr-kernels)".into()
                } else {
                    format!("cxr (candle 0.11.1 CUDA + cuDNN, {})", target.device)
                },
                gemm_gflops,
                threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
                results,
            };
            suite.save(&out)?;
        }
        Command::Decode {
            data,
            per_class,
            seconds,
            json,
            work,
        } => {
            let temp = tempfile::tempdir()?;
            let rows = cxr_bench::decode::decode_throughput(
                &data,
                per_class,
                work.as_deref().unwrap_or(temp.path()),
                Duration::from_secs_f64(seconds.max(0.0)),
            )?;
            print!("{}", cxr_bench::decode::table(&rows));
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&rows)? + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Command::Split {
            rows,
            patients,
            folds,
            seed,
            repeats,
            table,
            json,
        } => {
            let temp = tempfile::tempdir()?;
            let path = table.unwrap_or_else(|| temp.path().join("Data_Entry_2017_v2020.csv"));
            let spec = cxr_bench::nih_table::NihTableSpec {
                rows,
                patients,
                seed,
                ..Default::default()
            };
            cxr_bench::nih_table::write_nih_table(&path, &spec)?;
            // The reader checks that every film's image exists: empty files will do.
            let images = path.parent().unwrap_or(temp.path()).join("images");
            std::fs::create_dir_all(&images)?;
            for row in cxr_bench::nih_table::read_nih_rows(&path)? {
                std::fs::File::create(images.join(&row.image))?;
            }
            let timing = cxr_bench::split::time_split(&path, folds, repeats)?;
            print!("{}", timing.table());
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&timing)? + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Command::Report { ours, torch, json } => {
            let ours = Suite::load(&ours)?;
            let torch = torch.map(|p| Suite::load(&p)).transpose()?;
            let rows = report::rows(&ours, torch.as_ref());
            // The practical peak: the faster of the two GEMMs (PyTorch's MKL/oneDNN sgemm).
            let peak = torch
                .as_ref()
                .map_or(ours.gemm_gflops, |t| t.gemm_gflops.max(ours.gemm_gflops));
            println!(
                "{} vs {}; {} threads; % of peak = img/s x conv GFLOP/img / {peak:.0} GFLOP/s (2048^2 sgemm; ours {:.0}{})\n",
                ours.label,
                torch.as_ref().map_or("-", |t| t.label.as_str()),
                ours.threads,
                ours.gemm_gflops,
                torch
                    .as_ref()
                    .map_or(String::new(), |t| format!(", torch {:.0}", t.gemm_gflops)),
            );
            print!("{}", report::table(&rows, peak));
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_string_pretty(&rows)? + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
    }
    Ok(())
}
