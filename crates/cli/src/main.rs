//! `cxr`: train and compare chest X-ray classifiers. This binary only parses arguments, calls
//! the library crates and maps outcomes to exit codes; see `commands/` for each subcommand.
//! What belongs to a terminal session rather than to a library lives here too: the sweep's
//! progress bars (`progress`) and the thread count (`threads`).

mod cli;
mod commands;
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
            // One line: the context first, then each underlying cause.
            let chain: Vec<String> = err.chain().map(|cause| cause.to_string()).collect();
            eprintln!("error: {}", chain.join(": "));
            exit::ExitStatus::Error.into()
        }
    }
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
