//! Where a failure's reason goes besides stderr, and `helm regcred last-error`.
//!
//! Helm 4 throws away a post-renderer's stderr, also when it fails (`internal/plugin/
//! runtime_subprocess.go`, 4.1.4..4.2.4): the user sees only `plugin "regcred-postrender" exited
//! with error`. So every error is also written to
//! * the state file `$XDG_STATE_HOME/helm-regcred/last-error` (else
//!   `~/.local/state/helm-regcred/last-error`), 0600, which `helm regcred last-error` prints;
//! * `$HELM_REGCRED_ERROR_FILE` when set: the `helm regcred` wrappers set it to a file of their
//!   own run, so they print exactly this run's reason (no race with other runs);
//! * `/dev/tty` when nobody else will show the message: run by a Helm post-renderer plugin
//!   (`HELM_PLUGIN_NAME` set, `HELM_BIN` not: Helm sets `HELM_BIN` only for CLI plugins), not
//!   under a wrapper, and stderr is not already that terminal. Helm 3 shows a failing
//!   post-renderer's stderr itself, so writing to the terminal there would say it twice.
//!
//! Errors never hold credentials (the engine guarantees it); the files are 0600 regardless.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Set by the `helm regcred` wrappers for the post-renderer they run.
pub const ERROR_FILE_ENV: &str = "HELM_REGCRED_ERROR_FILE";

/// `$XDG_STATE_HOME/helm-regcred/last-error`, else `$HOME/.local/state/helm-regcred/last-error`.
/// A relative `XDG_STATE_HOME` is ignored, as the XDG base directory spec says.
pub fn state_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })?;
    Some(base.join("helm-regcred").join("last-error"))
}

/// Leave `message` (already printed on stderr) everywhere a Helm 4 user can find it. Failing
/// to record must not hide the original error behind a new one: the caller says it could not
/// be recorded, and why (`Err` holds that sentence).
pub fn record(message: &str) -> Result<(), String> {
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let text = format!(
        "# helm-regcred {}, {}, cwd {cwd}\n{}\n",
        env!("CARGO_PKG_VERSION"),
        utc_timestamp(SystemTime::now()),
        message.trim_end()
    );
    let mut failed = Vec::new();
    match state_file() {
        Some(path) => {
            if let Err(e) = write_private(&path, &text) {
                failed.push(format!("{}: {e}", path.display()));
            }
        }
        None => failed.push("neither XDG_STATE_HOME nor HOME is set".to_string()),
    }
    if let Some(path) = std::env::var_os(ERROR_FILE_ENV).filter(|p| !p.is_empty()) {
        let path = Path::new(&path);
        if let Err(e) = write_private(path, &format!("{}\n", message.trim_end())) {
            failed.push(format!("{}: {e}", path.display()));
        }
    }
    if tty_wanted()
        && let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty")
    {
        let _ = writeln!(tty, "{}", message.trim_end());
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

fn tty_wanted() -> bool {
    use std::io::IsTerminal;
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    set("HELM_PLUGIN_NAME")
        && !set("HELM_BIN")
        && !set(ERROR_FILE_ENV)
        && !std::io::stderr().is_terminal()
}

/// The directory a private file goes in: created 0700 if missing, and refused unless it is a
/// real directory (not a link someone planted), owned by us and writable by no one else.
fn private_dir(path: &Path) -> std::io::Result<&Path> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    let refuse = |why: &str| {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{} {why}", dir.display()),
        ))
    };
    if !meta.file_type().is_dir() {
        return refuse("is a symbolic link, not a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        // SAFETY: a plain libc call without arguments.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return refuse("belongs to another user");
        }
        if meta.mode() & 0o022 != 0 {
            return refuse("is writable by other users");
        }
    }
    Ok(dir)
}

/// Write `text` to `path` readable by the owner only, replacing it in one rename so a reader
/// never sees half a message, in a directory [`private_dir`] checked.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = private_dir(path)?;
    super::replace_private(dir, path, text.as_bytes())
}

/// Whether a failing run could record its error now: the state directory is usable and a file
/// can be created in it (tried, then removed).
fn recordable(path: &Path) -> std::io::Result<()> {
    let dir = private_dir(path)?;
    tempfile::Builder::new()
        .prefix(".probe.")
        .tempfile_in(dir)
        .map(drop)
}

/// `helm regcred last-error`: print the last recorded error, verbatim.
pub fn run() -> anyhow::Result<ExitCode> {
    let Some(path) = state_file() else {
        anyhow::bail!(
            "no error can be recorded: neither XDG_STATE_HOME nor HOME is set (a failing run \
             says so too)"
        );
    };
    let writable = recordable(&path);
    match (std::fs::read_to_string(&path), writable) {
        (Ok(text), Ok(())) => {
            super::write_stdout(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        (Ok(text), Err(e)) => {
            super::write_stdout(text.as_bytes())?;
            eprintln!(
                "helm-regcred: warning: errors cannot be recorded now ({e}): later errors are \
                 not in this file, which may be stale"
            );
            Ok(ExitCode::SUCCESS)
        }
        (Err(_), Err(e)) => Err(anyhow::anyhow!(
            "errors could not be recorded in {}: {e}; a failing run printed its reason on \
             stderr only (set XDG_STATE_HOME to a writable directory)",
            path.display()
        )),
        (Err(e), Ok(())) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "helm-regcred: no error recorded ({} does not exist)",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        (Err(e), Ok(())) => {
            Err(anyhow::Error::new(e).context(format!("cannot read {}", path.display())))
        }
    }
}

/// `2026-11-25T13:46:28Z`, without a date crate: days since the epoch to a civil date
/// (Howard Hinnant's `civil_from_days`).
fn utc_timestamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps() {
        let at = |secs| utc_timestamp(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_615_588), "2026-11-25T14:06:28Z");
    }

    #[test]
    fn private_files_replace_and_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/last-error");
        write_private(&path, "one").unwrap();
        write_private(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }

    #[cfg(unix)]
    #[test]
    fn planted_links_are_not_followed() {
        use std::os::unix::fs::{PermissionsExt as _, symlink};
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::create_dir(&target).unwrap();
        // The state directory itself a link: refused.
        symlink(&target, dir.path().join("state")).unwrap();
        let err = write_private(&dir.path().join("state/last-error"), "x").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
        // A link where the file goes is replaced, never written through.
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        symlink(&victim, real.join("last-error")).unwrap();
        write_private(&real.join("last-error"), "new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(
            std::fs::read_to_string(real.join("last-error")).unwrap(),
            "new"
        );
    }
}
