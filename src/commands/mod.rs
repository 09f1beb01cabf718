//! Front ends. Each turns flags and I/O into library calls and back; none holds engine logic.

use std::io::IsTerminal;

use std::process::ExitCode;

pub mod chain;
pub mod check;
pub mod create_secret;
pub mod explain;
pub mod helm;
pub mod krm;
pub mod kustomize;
pub mod last_error;
pub mod render;
pub mod schema;
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

/// The rules file with `--set` applied.
pub fn load_config(
    rules: &std::path::Path,
    set: &[(String, String)],
) -> anyhow::Result<helm_regcred::Config> {
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
    last_error::record(&message);
    ExitCode::FAILURE
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
        last_error::record(e.render().to_string().trim_end());
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
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = options
        .truncate(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// One write of the whole result, so a failure never leaves half a stream on stdout. A reader
/// that went away (`| head`) is not our failure.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}
