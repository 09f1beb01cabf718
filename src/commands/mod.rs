//! Front ends. Each turns flags and I/O into library calls and back; none holds engine logic.

use std::io::IsTerminal;
use std::process::ExitCode;

pub mod check;
pub mod create_secret;
pub mod helm;
pub mod krm;
pub mod kustomize;
pub mod last_error;
pub mod render;
pub mod schema;
pub mod values;

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
///
/// Also recorded for `helm regcred last-error` (and the terminal, and the wrapper's error file):
/// Helm 4 discards a post-renderer's stderr even when it fails. See `last_error`.
pub fn report_error(e: &anyhow::Error) -> ExitCode {
    let message = format!("helm-regcred: error: {}", chain(e));
    eprintln!("{message}");
    last_error::record(&message);
    ExitCode::FAILURE
}

/// The error and its causes, each once: most of our errors already name their cause in their
/// own message, which `{:#}` would repeat.
fn chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// A command-line error from clap: recorded like any other error, then clap prints it and exits
/// (code 2). `--help` and `--version` are not errors and are not recorded.
pub fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if !matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        last_error::record(e.render().to_string().trim_end());
    }
    e.exit()
}
