//! How far the rules file is trusted: what it may make helm-regcred read on this machine.
//!
//! A rules file names where logins come from (`credentials.env`, `file`, `dockerConfig`,
//! credential helpers) and templates may read `env.NAME` into names. Whoever writes the rules
//! file can read the Secret helm-regcred emits (it lands in their namespace), so a rules file
//! from a Git repository that an Argo CD repo server or kpt renders for several teams could
//! otherwise copy any local file, any environment variable or any helper's answer into a
//! Secret it can read. The [`Policy`] is set by whoever runs the tool — flags and environment
//! variables, never the rules file — and every credential source and template consults it:
//!
//! * [`Trust::Trusted`] (the default for a CLI run: the user wrote or chose the rules): as
//!   before, the rules may read any file, variable or helper the user can;
//! * [`Trust::Untrusted`] (the default of the KRM function and the Argo CD plugin): file
//!   sources and `dockerConfig` only under an allowed directory (symlinks resolved, so neither
//!   `..` nor a link escapes), `credentials.env` only from an allow-list of names, credential
//!   helpers only from an allow-list, templates may read `env.NAME` only from a second
//!   allow-list (a name is published in the manifests, a Secret's data is not), and the rules
//!   file itself only under the working directory or an allowed directory.
//!
//! What holds in every mode is here too: credential files are read with [`read_regular`]
//! (a regular file, bounded, never a FIFO or device that would block or stream forever).
//!
//! docs/security.md describes the model per front end.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The environment variable naming the trust mode (`trusted` or `untrusted`).
pub const TRUST_ENV: &str = "HELM_REGCRED_TRUST";
/// Comma-separated names `credentials.env` may read when untrusted.
pub const ALLOW_ENV_ENV: &str = "HELM_REGCRED_ALLOW_ENV";
/// Comma-separated names templates may read as `env.NAME` when untrusted.
pub const ALLOW_TEMPLATE_ENV_ENV: &str = "HELM_REGCRED_ALLOW_TEMPLATE_ENV";
/// Directories (separated like `PATH`) that `file:` and `dockerConfig:` may read under.
pub const ALLOW_DIR_ENV: &str = "HELM_REGCRED_ALLOW_DIR";
/// Comma-separated credential helper names (`ecr-login` for `docker-credential-ecr-login`).
pub const ALLOW_HELPER_ENV: &str = "HELM_REGCRED_ALLOW_HELPER";

/// Credential files and rules files larger than this are refused: a login is a line, a
/// docker config a few kilobytes, and anything bigger is not what the rules say it is.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Whether the rules may read everything the user can, or only what was allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trust {
    #[default]
    Trusted,
    Untrusted,
}

impl Trust {
    pub fn parse(text: &str) -> Result<Trust, String> {
        match text.trim() {
            "trusted" => Ok(Trust::Trusted),
            "untrusted" => Ok(Trust::Untrusted),
            other => Err(format!(
                "{other:?} is not a trust mode; use `trusted` or `untrusted`"
            )),
        }
    }
}

impl fmt::Display for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Trust::Trusted => "trusted",
            Trust::Untrusted => "untrusted",
        })
    }
}

/// The settings as given (flags or environment), before they are checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `None`: the front end's default, except that any allow-list implies `untrusted` (an
    /// allow-list only makes sense there, and failing closed is the safe reading of it).
    pub trust: Option<Trust>,
    pub allow_env: Vec<String>,
    pub allow_template_env: Vec<String>,
    pub allow_dirs: Vec<PathBuf>,
    pub allow_helpers: Vec<String>,
}

impl Settings {
    /// From the `HELM_REGCRED_*` variables of `env` (for front ends without flags of their
    /// own, such as the kustomize plugin, whose arguments come from the rules resource).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Settings, TrustError> {
        let list = |name: &str| -> Vec<String> {
            env(name)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let trust = match env(TRUST_ENV).filter(|t| !t.trim().is_empty()) {
            Some(text) => Some(Trust::parse(&text).map_err(|message| TrustError::Setting {
                setting: TRUST_ENV,
                message,
            })?),
            None => None,
        };
        Ok(Settings {
            trust,
            allow_env: list(ALLOW_ENV_ENV),
            allow_template_env: list(ALLOW_TEMPLATE_ENV_ENV),
            allow_dirs: env(ALLOW_DIR_ENV)
                .map(|dirs| std::env::split_paths(&dirs).collect())
                .unwrap_or_default(),
            allow_helpers: list(ALLOW_HELPER_ENV),
        })
    }

    fn any_allowed(&self) -> bool {
        !(self.allow_env.is_empty()
            && self.allow_template_env.is_empty()
            && self.allow_dirs.is_empty()
            && self.allow_helpers.is_empty())
    }

    /// The policy these settings give, `default` being the front end's mode.
    pub fn policy(&self, default: Trust) -> Result<Policy, TrustError> {
        let trust = self.trust.unwrap_or(if self.any_allowed() {
            Trust::Untrusted
        } else {
            default
        });
        let mut dirs = Vec::new();
        for dir in self.allow_dirs.iter().filter(|d| !d.as_os_str().is_empty()) {
            // Resolved once, here: a path is allowed when its own resolution starts with one
            // of these, so a link inside an allowed directory cannot point out of it.
            let canonical = dir.canonicalize().map_err(|e| TrustError::AllowedDir {
                dir: dir.display().to_string(),
                reason: e.to_string(),
            })?;
            if !canonical.is_dir() {
                return Err(TrustError::AllowedDir {
                    dir: dir.display().to_string(),
                    reason: "not a directory".into(),
                });
            }
            dirs.push(canonical);
        }
        for name in self.allow_helpers.iter() {
            if !is_helper_name(name) {
                return Err(TrustError::Setting {
                    setting: ALLOW_HELPER_ENV,
                    message: format!(
                        "{name:?} is not a credential helper name (the part after \
                         `docker-credential-`)"
                    ),
                });
            }
        }
        Ok(Policy {
            trust,
            env: self.allow_env.clone(),
            template_env: self.allow_template_env.clone(),
            dirs,
            helpers: self.allow_helpers.clone(),
        })
    }
}

/// A helper name as docker takes it: no path, no control characters.
pub fn is_helper_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\']) && !name.chars().any(char::is_control)
}

/// What the rules may read. [`Policy::default`] is trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    trust: Trust,
    env: Vec<String>,
    template_env: Vec<String>,
    /// Canonical paths.
    dirs: Vec<PathBuf>,
    helpers: Vec<String>,
}

/// Something the rules asked for that the policy does not allow, or a policy setting that is
/// wrong. Names what was asked for and the setting that would allow it, never a value.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustError {
    #[error(
        "the rules are untrusted and may not read environment variable {var}; whoever runs \
         helm-regcred can allow it with --allow-env {var} (or {ALLOW_ENV_ENV})"
    )]
    Env { var: String },
    #[error(
        "the rules are untrusted and templates may not read `env.{var}`; whoever runs \
         helm-regcred can allow it with --allow-template-env {var} (or {ALLOW_TEMPLATE_ENV_ENV})"
    )]
    TemplateEnv { var: String },
    #[error(
        "the rules are untrusted and may not read {path}: {}",
        if dirs.is_empty() {
            format!(
                "no directory is allowed (--allow-dir DIR, or {ALLOW_DIR_ENV})"
            )
        } else {
            format!(
                "it is not under an allowed directory ({}; symlinks and `..` are resolved \
                 first)",
                dirs.join(", ")
            )
        }
    )]
    Path { path: String, dirs: Vec<String> },
    #[error(
        "the rules are untrusted and may not run credential helper docker-credential-{helper}; \
         whoever runs helm-regcred can allow it with --allow-helper {helper} (or \
         {ALLOW_HELPER_ENV})"
    )]
    Helper { helper: String },
    #[error(
        "the rules file {path} is not under the working directory or an allowed directory, and \
         the rules are untrusted (--allow-dir DIR, or {ALLOW_DIR_ENV})"
    )]
    RulesPath { path: String },
    #[error("allowed directory {dir}: {reason}")]
    AllowedDir { dir: String, reason: String },
    #[error("{setting}: {message}")]
    Setting {
        setting: &'static str,
        message: String,
    },
}

impl Policy {
    pub fn trusted() -> Policy {
        Policy::default()
    }

    /// Untrusted with nothing allowed: the rules can only name environment-free templates and
    /// `stdin` (which whoever runs the tool provides).
    pub fn untrusted() -> Policy {
        Policy {
            trust: Trust::Untrusted,
            ..Policy::default()
        }
    }

    pub fn trust(&self) -> Trust {
        self.trust
    }

    pub fn is_trusted(&self) -> bool {
        self.trust == Trust::Trusted
    }

    /// May `credentials.env` read `var`?
    pub fn check_env(&self, var: &str) -> Result<(), TrustError> {
        if self.is_trusted() || self.env.iter().any(|n| n == var) {
            Ok(())
        } else {
            Err(TrustError::Env { var: var.into() })
        }
    }

    /// May a template read `env.var`?
    pub fn check_template_env(&self, var: &str) -> Result<(), TrustError> {
        if self.is_trusted() || self.template_env.iter().any(|n| n == var) {
            Ok(())
        } else {
            Err(TrustError::TemplateEnv { var: var.into() })
        }
    }

    /// May the rules run `docker-credential-<helper>`?
    pub fn check_helper(&self, helper: &str) -> Result<(), TrustError> {
        if self.is_trusted() || self.helpers.iter().any(|n| n == helper) {
            Ok(())
        } else {
            Err(TrustError::Helper {
                helper: helper.into(),
            })
        }
    }

    /// The path to open for a `file:` or `dockerConfig:` the rules name. Untrusted: its
    /// resolution (every link followed, `..` removed) must lie under an allowed directory,
    /// and that resolved path is what is opened, so what was checked is what is read.
    pub fn check_path(&self, path: &Path) -> Result<PathBuf, TrustError> {
        if self.is_trusted() {
            return Ok(path.to_path_buf());
        }
        let refused = || TrustError::Path {
            path: path.display().to_string(),
            dirs: self.dirs.iter().map(|d| d.display().to_string()).collect(),
        };
        // A path that does not resolve (missing file, or a dangling link) is refused the same
        // way: saying "does not exist" would let rules probe the machine's file system.
        let canonical = path.canonicalize().map_err(|_| refused())?;
        if self.dirs.iter().any(|dir| canonical.starts_with(dir)) {
            Ok(canonical)
        } else {
            Err(refused())
        }
    }

    /// Untrusted: the rules file itself must be under the working directory (the Argo CD app
    /// directory, the kpt package being rendered) or an allowed directory. Its messages
    /// quote it, and a path taken from the app's own settings must not make them quote
    /// another file of the machine.
    pub fn check_rules_path(&self, path: &Path) -> Result<(), TrustError> {
        self.check_rules_path_in(path, None)
    }

    /// [`Self::check_rules_path`], also accepting the rules under `package` (the kpt package
    /// being rendered, whose own files the rules are).
    pub fn check_rules_path_in(
        &self,
        path: &Path,
        package: Option<&Path>,
    ) -> Result<(), TrustError> {
        if self.is_trusted() {
            return Ok(());
        }
        let refused = || TrustError::RulesPath {
            path: path.display().to_string(),
        };
        let canonical = path.canonicalize().map_err(|_| refused())?;
        let cwd = std::env::current_dir().and_then(|d| d.canonicalize());
        let under_cwd = cwd.is_ok_and(|cwd| canonical.starts_with(cwd));
        let under_package = package
            .and_then(|p| p.canonicalize().ok())
            .is_some_and(|p| canonical.starts_with(p));
        if under_cwd || under_package || self.dirs.iter().any(|dir| canonical.starts_with(dir)) {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

/// Why [`read_regular`] refused or failed.
#[derive(Debug, Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("it is larger than {} bytes", MAX_FILE_BYTES)]
    TooLarge,
    #[error("it is not UTF-8 text")]
    NotText,
}

impl From<ReadError> for std::io::Error {
    fn from(e: ReadError) -> std::io::Error {
        match e {
            ReadError::Io(e) => e,
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        }
    }
}

/// The text of a regular file, at most [`MAX_FILE_BYTES`]: for rules and credential files.
///
/// A FIFO or device is refused before it is read (opened non-blocking, so opening a FIFO
/// nobody writes to does not block either), a directory likewise. Symlinks are followed:
/// Kubernetes mounts Secret keys as links.
pub fn read_regular(path: &Path) -> Result<String, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(ReadError::NotRegular(file_kind(&kind)));
    }
    let mut bytes = Vec::new();
    // `take` and not the reported size: procfs files report 0 and stream.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText)
}

fn file_kind(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn trusted_allows_everything() {
        let p = Policy::trusted();
        assert!(p.check_env("ANY").is_ok());
        assert!(p.check_template_env("ANY").is_ok());
        assert!(p.check_helper("pass").is_ok());
        assert_eq!(
            p.check_path(Path::new("/proc/self/environ")).unwrap(),
            Path::new("/proc/self/environ")
        );
    }

    #[test]
    fn untrusted_allows_only_the_lists() {
        let dir = tempfile::tempdir().unwrap();
        let allowed = dir.path().join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        std::fs::write(allowed.join("login"), "u:p").unwrap();
        std::fs::write(dir.path().join("outside"), "u:p").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("outside"), allowed.join("link")).unwrap();
        let settings = Settings {
            allow_env: vec!["REG_USER".into()],
            allow_dirs: vec![allowed.clone()],
            allow_helpers: vec!["ecr-login".into()],
            ..Settings::default()
        };
        // An allow-list implies untrusted.
        let p = settings.policy(Trust::Trusted).unwrap();
        assert_eq!(p.trust(), Trust::Untrusted);
        assert!(p.check_env("REG_USER").is_ok());
        let err = p.check_env("HOME").unwrap_err().to_string();
        assert!(err.contains("--allow-env HOME"), "{err}");
        assert!(p.check_template_env("REG_USER").is_err());
        assert!(p.check_helper("ecr-login").is_ok());
        assert!(p.check_helper("pass").is_err());
        assert!(p.check_path(&allowed.join("login")).is_ok());
        for refused in [
            allowed.join("../outside"),
            allowed.join("link"),
            allowed.join("missing"),
            PathBuf::from("/proc/self/environ"),
        ] {
            let err = p.check_path(&refused).unwrap_err();
            assert!(matches!(err, TrustError::Path { .. }), "{refused:?}: {err}");
        }
    }

    #[test]
    fn settings_from_env() {
        let env = env_of(&[
            (TRUST_ENV, "untrusted"),
            (ALLOW_ENV_ENV, "A, B,,"),
            (ALLOW_HELPER_ENV, "ecr-login"),
        ]);
        let s = Settings::from_env(&env).unwrap();
        assert_eq!(s.trust, Some(Trust::Untrusted));
        assert_eq!(s.allow_env, ["A", "B"]);
        assert_eq!(s.allow_helpers, ["ecr-login"]);
        let env = env_of(&[(TRUST_ENV, "maybe")]);
        assert!(Settings::from_env(&env).is_err());
        let s = Settings {
            trust: Some(Trust::Trusted),
            allow_env: vec!["A".into()],
            ..Settings::default()
        };
        assert!(s.policy(Trust::Untrusted).unwrap().is_trusted());
        let s = Settings {
            allow_helpers: vec!["../sh".into()],
            ..Settings::default()
        };
        assert!(s.policy(Trust::Untrusted).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_regular(&fifo),
            Err(ReadError::NotRegular("a FIFO"))
        ));
        assert!(matches!(
            read_regular(dir.path()),
            Err(ReadError::NotRegular("a directory"))
        ));
        assert!(matches!(
            read_regular(Path::new("/dev/zero")),
            Err(ReadError::NotRegular("a device"))
        ));
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; MAX_FILE_BYTES as usize + 1]).unwrap();
        assert!(matches!(read_regular(&big), Err(ReadError::TooLarge)));
        std::fs::write(&big, "u:p\n").unwrap();
        assert_eq!(read_regular(&big).unwrap(), "u:p\n");
    }
}
