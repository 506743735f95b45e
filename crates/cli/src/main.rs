//! `cxr`: train and compare chest X-ray classifiers. This binary only parses arguments, calls
//! the library crates and maps outcomes to exit codes; see `commands/` for each subcommand.
//! What belongs to a terminal session rather than to a library lives here too: the sweep's
//! progress bars (`progress`), the weights download bar (`download_bar`) and the thread count
//! (`threads`).

mod cli;
mod commands;
mod download_bar;
mod exit;
mod progress;
mod slurm_values;
mod stdout;
mod threads;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc, keeping freed memory: see `cxr_kernels::alloc`.
#[global_allocator]
static ALLOCATOR: cxr_kernels::alloc::Allocator = cxr_kernels::alloc::Allocator;

fn main() -> ExitCode {
    cxr_kernels::alloc::keep_freed_memory();
    let args = cli::Cli::parse();
    init_logging(args.quiet, args.verbose);
    if let Some(threads) = args.threads {
        if let Err(why) = threads::set_threads(threads) {
            eprintln!("error: {why}");
            return exit::ExitStatus::Error.into();
        }
    }
    match commands::run(args.command, args.quiet) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!(
                "error: {}",
                one_line(err.chain().map(|cause| cause.to_string()))
            );
            exit::ExitStatus::Error.into()
        }
    }
}

/// One line: the context first, then each underlying cause once. Library errors often carry
/// their source's text in their own message (`writing x: No space left on device`), so a cause
/// already said by the part before it is left out instead of repeated.
fn one_line(chain: impl Iterator<Item = String>) -> String {
    let mut said: Vec<String> = Vec::new();
    for cause in chain {
        if !said.iter().any(|earlier| earlier.contains(cause.as_str())) {
            said.push(cause);
        }
    }
    said.join(": ")
}

/// Log lines on stderr. A terminal gets them plain and coloured; anything else (a batch job's
/// log file, `nohup ... 2>log`) gets a UTC timestamp on each line and no colour codes, so a log
/// read hours later says when each epoch ended.
fn init_logging(quiet: bool, verbose: u8) {
    let default = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    // OpenJPEG (JPEG 2000 DICOM) reports every header it parses at info level.
    let filter = tracing_subscriber::EnvFilter::try_from_env("CXR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},jpeg2k=warn")));
    let terminal = std::io::stderr().is_terminal();
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(terminal);
    if terminal {
        fmt.without_time().init();
    } else {
        fmt.init();
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn each_cause_is_said_once() {
        // The shape a full disk gave: each layer repeats its source's text.
        let disk = "No space left on device (os error 28)";
        let chain = [
            "sweep of experiments/ci.toml".to_string(),
            format!("writing results/ci/summary.parquet: parquet: {disk}"),
            format!("parquet: {disk}"),
            disk.to_string(),
        ];
        assert_eq!(
            one_line(chain.into_iter()),
            format!(
                "sweep of experiments/ci.toml: writing results/ci/summary.parquet: parquet: {disk}"
            )
        );
    }

    #[test]
    fn distinct_causes_are_all_kept() {
        let chain = ["loading grid x.toml", "line 3: expected `=`"].map(String::from);
        assert_eq!(
            one_line(chain.into_iter()),
            "loading grid x.toml: line 3: expected `=`"
        );
    }
}
