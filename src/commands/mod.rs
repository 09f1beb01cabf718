//! Front ends. Each turns flags and I/O into library calls and back; none holds engine logic.

use std::io::IsTerminal;

use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

pub mod chain;
pub mod check;
pub mod completion;
pub mod create_secret;
pub mod explain;
pub mod helm;
pub mod install_binary;
pub mod krm;
pub mod kustomize;
pub mod last_error;
pub mod manual;
pub mod render;
pub mod schema;
pub mod trust;
pub mod values;

pub use last_error::ERROR_FILE_ENV;

/// The Helm 4 post-renderer plugin (plugins/regcred-postrender/plugin.yaml).
pub const POSTRENDER_PLUGIN: &str = "regcred-postrender";

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
        self.wanted(|| std::io::stderr().is_terminal())
    }

    /// Colour stdout? As [`Self::for_stderr`], for stdout's terminal.
    pub fn for_stdout(self) -> bool {
        self.wanted(|| std::io::stdout().is_terminal())
    }

    fn wanted(self, is_terminal: impl FnOnce() -> bool) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && is_terminal()
            }
        }
    }
}

/// `--set KEY=VALUE` for clap.
pub fn parse_set(arg: &str) -> Result<(String, String), String> {
    helm_regcred::rules::template::parse_set(arg)
}

/// The rules file with `--set` applied; untrusted rules must be where `policy` allows.
pub fn load_config(
    rules: &std::path::Path,
    set: &[(String, String)],
    policy: &helm_regcred::trust::Policy,
) -> anyhow::Result<helm_regcred::Config> {
    policy.check_rules_path(rules)?;
    let mut config = helm_regcred::Config::load(rules)?;
    for (key, value) in set {
        config.set_var(key, value);
    }
    Ok(config)
}

/// The process environment, for the engine's environment lookups. Front ends pass it; the
/// engine never reads the environment itself.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Why `stdin: true` credentials fail where the manifests arrive on stdin.
pub const STDIN_TAKEN: &str = "stdin carries the manifests here; read them from a file \
                               instead (`helm-regcred render -r RULES FILE`), or use \
                               `helm-regcred create-secret`";

/// The planner's warnings, on stderr: the run goes on.
pub fn print_warnings(warnings: &[helm_regcred::plan::Warning]) {
    for warning in warnings {
        eprintln!("helm-regcred: warning: {warning}");
    }
}

/// Print a failure and choose the exit code. The one place errors leave the program.
///
/// Also recorded for `helm regcred last-error` (and the terminal, and the wrapper's error file):
/// Helm 4 discards a post-renderer's stderr even when it fails. See `last_error`.
pub fn report_error(e: &anyhow::Error) -> ExitCode {
    let message = format!("helm-regcred: error: {}", error_text(e));
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
pub fn error_text(e: &anyhow::Error) -> String {
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
        let message = e.render().to_string();
        let _ = last_error::record(message.trim_end());
        // Helm 4 would hide a post-renderer's usage error too: show it the way it shows any.
        if std::env::args().nth(1).as_deref() == Some("post-render") && render::helm4_plugin() {
            let _ = e.print();
            let document = render::helm4_error_document(message.trim_end());
            if write_stdout(document.as_bytes()).is_ok() {
                std::process::exit(0);
            }
        }
    }
    e.exit()
}

/// Write `bytes` to `path` readable by its owner only (0600): it holds a credential, or an
/// error that may name one. The one way helm-regcred writes such a file.
///
/// A regular file (or a new one) is replaced in one rename, so a reader never sees half of it
/// and an existing file's wider mode never applies; a missing directory is created 0700.
/// Anything else at `path` (a symlink, a pipe, `/dev/stdout`) is narrowed to 0600 when it is a
/// file we may chmod, then written in place.
pub fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let in_place = std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file());
    if in_place {
        let mut file = options.open(path)?;
        #[cfg(unix)]
        if file.metadata()?.is_file() {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            file.set_len(0)?;
        }
        file.write_all(bytes)?;
        return file.flush();
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    replace_private(dir, path, bytes)
}

/// Replace `path` (in `dir`) with `bytes`, 0600, in one rename. The temporary file is created
/// exclusively under a random name (`O_CREAT|O_EXCL`, which never follows a link), so nothing
/// planted beside `path` is written through.
pub fn replace_private(
    dir: &std::path::Path,
    path: &std::path::Path,
    bytes: &[u8],
) -> std::io::Result<()> {
    use std::io::Write as _;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let prefix = format!(".{file_name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// One write of the whole result, so a failure never leaves half a stream on stdout. A reader
/// that went away (`| head`) is not our failure.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    write_stdout_pieces([bytes])
}

/// [`write_stdout`] of the pieces of one result, in order, once everything that can fail but
/// the write itself is done: the result is written without being joined first.
pub fn write_stdout_pieces<P: AsRef<[u8]>>(
    pieces: impl IntoIterator<Item = P>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    if closed_at_start(STDOUT_CLOSED) {
        anyhow::bail!(
            "stdout is closed (`>&-`?): the output has nowhere to go, so nothing was written"
        );
    }
    // Stdout is line-buffered: without a buffer of our own each small piece (an edit's text)
    // would be a write of its own.
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = pieces
        .into_iter()
        .try_for_each(|piece| stdout.write_all(piece.as_ref()));
    match written.and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

/// The manifests: `helm_regcred::input::read_all`, except that a stdin closed when the program
/// started (`<&-`, reopened on /dev/null by `main`) is an error, not an empty stream.
pub fn read_input(
    files: &[std::path::PathBuf],
) -> Result<Vec<u8>, helm_regcred::error::InputError> {
    if helm_regcred::input::reads_stdin(files) && closed_at_start(STDIN_CLOSED) {
        return Err(helm_regcred::error::InputError::Read {
            what: "stdin".into(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "it is closed (`<&-`?); pipe the manifests in, or name a file",
            ),
        });
    }
    helm_regcred::input::read_all(files)
}

/// [`read_input`] of stdin alone (KRM, kustomize).
pub fn read_stdin() -> Result<Vec<u8>, helm_regcred::error::InputError> {
    read_input(&[])
}
