//! Process exit codes, as ruff's `ExitStatus`.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked (0).
    Success,
    /// The command ran but some of its work failed, e.g. some runs of a sweep (1).
    Failure,
    /// The command could not run: bad input or configuration (2).
    Error,
    /// A signal (SIGTERM, SIGINT) stopped a sweep cleanly; rerunning it resumes (3).
    Interrupted,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
            ExitStatus::Interrupted => ExitCode::from(3),
        }
    }
}
