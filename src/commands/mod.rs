//! Front ends. Each turns flags and I/O into library calls and back; none holds engine logic.

use std::io::IsTerminal;

use helm_regcred::error::InputError;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

pub mod check;
pub mod create_secret;
pub mod helm;
pub mod krm;
pub mod kustomize;
pub mod last_error;
pub mod render;
pub mod schema;
pub mod trust;
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
    if let Err(why) = last_error::record(&message) {
        eprintln!(
            "helm-regcred: note: this error could not be recorded for `helm regcred last-error` \
             ({why})"
        );
    }
    ExitCode::FAILURE
}

/// Which standard descriptors were closed when the program started, as bits (1 stdin,
/// 2 stdout, 4 stderr). They are reopened on /dev/null at once (so no file opened later takes
/// their number), which would make a closed stdout swallow the output with exit 0: reading
/// and writing them checks this first.
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);

pub const STDIN_CLOSED: u8 = 1;
pub const STDOUT_CLOSED: u8 = 2;

/// Called by `main` with what it found closed (the glibc entry point only: Rust's own start-up
/// reopens them without saying which).
#[cfg_attr(
    not(all(target_os = "linux", target_env = "gnu", not(test))),
    allow(dead_code)
)]
pub fn note_closed_at_start(mask: u8) {
    CLOSED_AT_START.store(mask, Ordering::Relaxed);
}

fn closed_at_start(bit: u8) -> bool {
    CLOSED_AT_START.load(Ordering::Relaxed) & bit != 0
}

/// A panic is a bug; its message is replaced, because a panic payload may quote input text
/// (a Secret's plaintext included). Where it happened is kept; it is recorded for
/// `helm regcred last-error` like any error (Helm 4 hides stderr).
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = internal_error_message(&at);
        eprintln!("{message}");
        let _ = last_error::record(&message);
    }));
}

fn internal_error_message(at: &str) -> String {
    format!(
        "helm-regcred: internal error{at}: this is a bug in helm-regcred, please report it with \
         the command that failed (its details are not shown: they may quote the input)"
    )
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
        let _ = last_error::record(e.render().to_string().trim_end());
    }
    e.exit()
}

/// One write of the whole result, so a failure never leaves half a stream on stdout. A reader
/// that went away (`| head`) is not our failure.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    if closed_at_start(STDOUT_CLOSED) {
        anyhow::bail!(
            "stdout is closed (`>&-`?): the output has nowhere to go, so nothing was written"
        );
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

/// Stdin (no files), or the files in order joined into one stream (so Secrets are emitted
/// once); `-` among the files reads stdin.
pub fn read_input(files: &[std::path::PathBuf]) -> Result<Vec<u8>, InputError> {
    if files.is_empty() {
        return read(std::path::Path::new("-"));
    }
    let mut joined = Vec::new();
    for file in files {
        let bytes = read(file)?;
        if !joined.is_empty() {
            if !joined.ends_with(b"\n") {
                joined.push(b'\n');
            }
            if !bytes.starts_with(b"---") {
                joined.extend_from_slice(b"---\n");
            }
        }
        joined.extend_from_slice(&bytes);
    }
    Ok(joined)
}

/// One file, or stdin for `-`.
pub fn read(path: &std::path::Path) -> Result<Vec<u8>, InputError> {
    use std::io::Read as _;
    let stdin = path == std::path::Path::new("-");
    let mut bytes = Vec::new();
    let result = if stdin && closed_at_start(STDIN_CLOSED) {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotConnected,
            "it is closed (`<&-`?); pipe the manifests in, or name a file",
        ))
    } else if stdin {
        std::io::stdin().lock().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    result.map_err(|source| InputError::Read {
        what: if stdin {
            "stdin".into()
        } else {
            path.display().to_string()
        },
        source,
    })?;
    Ok(bytes)
}
