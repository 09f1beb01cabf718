//! Front ends. Each turns flags and I/O into library calls and back; none holds engine logic.

use std::io::IsTerminal;
use std::process::ExitCode;

pub mod render;

/// `--color` for diffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Colour stderr? `auto` follows the terminal and the NO_COLOR convention (no-color.org).
    pub fn for_stderr(self) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        }
    }
}

/// Print a failure and choose the exit code. The one place errors leave the program.
pub fn report_error(e: &anyhow::Error) -> ExitCode {
    eprintln!("helm-regcred: error: {e:#}");
    ExitCode::FAILURE
}
