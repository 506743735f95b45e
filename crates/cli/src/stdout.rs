//! Printing to standard output as Unix tools do: when the reader goes away (`cxr ... | head`),
//! the command ends quietly with exit 0 instead of panicking in `println!`.

use std::io::Write;

/// Prints a line to stdout, like `println!`, ending the process with exit 0 when stdout is a
/// closed pipe (and with exit 2 and one line on stderr on any other write error).
macro_rules! outln {
    () => {
        $crate::stdout::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::stdout::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes `args` and a newline to stdout; see [`outln!`].
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.write_all(b"\n")) {
        exit_on(&e);
    }
}

/// Ends the process after a failed write to stdout: quietly with 0 for a closed pipe (the
/// reader has what it wanted), else with 2.
pub fn exit_on(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("error: writing to standard output: {e}");
    std::process::exit(crate::exit::ExitStatus::Error as i32)
}
