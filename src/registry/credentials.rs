//! Where a registry's username and password come from.
//!
//! A registry entry of the rules file names exactly one source: environment variables, a file
//! (`username:password` or a docker `config.json`), a docker config (default: docker's own), or
//! stdin. Sources are resolved only when a Secret is about to be written, and every failure
//! names where the value was looked for, never the value.

use std::cell::OnceCell;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use thiserror::Error;

use crate::registry::dockerconfig::{self, DockerConfig, DockerConfigError, Helpers};
use crate::trust::{self, Policy, TrustError};

/// One credential source of a registry entry in the rules file (`credentials:`).
///
/// Written as a single-key mapping, e.g. `env: {username: REG_USER, password: REG_PASSWORD}`.
/// Deserialized by hand (serde's externally tagged form, with messages that say "exactly one
/// source" where serde's would say "expected end of mapping").
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum CredentialSource {
    /// Read both values from environment variables (named here, never the values themselves).
    Env {
        /// Environment variable holding the username.
        username: String,
        /// Environment variable holding the password or token.
        password: String,
    },
    /// A file holding `username:password` on one line, or a docker `config.json` (this
    /// registry's entry is used). Relative paths are relative to the rules file; `~/` is the
    /// home directory.
    File(PathBuf),
    /// This registry's login in a docker `config.json`, found as `docker pull` finds it
    /// (`auths`, `credHelpers`, `credsStore`). `null` (or no value) means docker's own:
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    DockerConfig(Option<PathBuf>),
    /// Read stdin once: `username:password`, or a docker `config.json`. Only where stdin does
    /// not carry the manifests (`render FILE`, `create-secret`).
    Stdin(#[schemars(schema_with = "true_schema")] StdinTrue),
}

const SOURCES: &[&str] = &["env", "file", "dockerConfig", "stdin"];
const ONE_SOURCE: &str = "exactly one credential source: env, file, dockerConfig or stdin";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvNames {
    username: String,
    password: String,
}

impl<'de> Deserialize<'de> for CredentialSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, Unexpected, Visitor};

        struct SourceVisitor;

        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = CredentialSource;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(ONE_SOURCE)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(A::Error::invalid_value(
                        Unexpected::Other("an empty mapping"),
                        &ONE_SOURCE,
                    ));
                };
                let source = match key.as_str() {
                    "env" => {
                        let names: EnvNames = map.next_value()?;
                        CredentialSource::Env {
                            username: names.username,
                            password: names.password,
                        }
                    }
                    "file" => CredentialSource::File(map.next_value()?),
                    "dockerConfig" => CredentialSource::DockerConfig(map.next_value()?),
                    "stdin" => CredentialSource::Stdin(map.next_value()?),
                    other => return Err(A::Error::unknown_variant(other, SOURCES)),
                };
                if let Some(second) = map.next_key::<String>()? {
                    let found = format!("both `{key}` and `{second}`");
                    return Err(A::Error::invalid_value(
                        Unexpected::Other(&found),
                        &ONE_SOURCE,
                    ));
                }
                Ok(source)
            }
        }

        deserializer.deserialize_map(SourceVisitor)
    }
}

/// `stdin: true`; `false` is refused rather than meaning "no source".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdinTrue;

impl<'de> Deserialize<'de> for StdinTrue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if bool::deserialize(deserializer)? {
            Ok(StdinTrue)
        } else {
            Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Bool(false),
                &"`stdin: true` (`false` names no source; use env, file or dockerConfig instead)",
            ))
        }
    }
}

fn true_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "const": true })
}

impl CredentialSource {
    /// The source's name as written in the rules file, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            CredentialSource::Env { .. } => "env",
            CredentialSource::File(_) => "file",
            CredentialSource::DockerConfig(_) => "dockerConfig",
            CredentialSource::Stdin(_) => "stdin",
        }
    }
}

/// A resolved username and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Which half of a credential a source failed to provide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialField {
    Username,
    Password,
}

impl fmt::Display for CredentialField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialField::Username => "username",
            CredentialField::Password => "password",
        })
    }
}

/// Why a credential source could not be resolved.
///
/// Messages name where the value was looked for and never contain the value: they end up in
/// CI logs.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialError {
    #[error("{field} environment variable {var} is not set")]
    EnvUnset { field: CredentialField, var: String },
    /// Reported separately from unset because an empty value usually means a CI secret that
    /// was declared but not populated, which is a different fix.
    #[error("{field} environment variable {var} is set but empty")]
    EnvEmpty { field: CredentialField, var: String },
    #[error("cannot read credentials file {path}: {reason}")]
    FileRead { path: String, reason: String },
    /// `origin` is `credentials file PATH` or `stdin`.
    #[error("{origin} {problem}; expected one line `username:password` or a docker config.json")]
    Format { origin: String, problem: String },
    #[error("{origin} has an empty {field}")]
    EmptyField {
        origin: String,
        field: CredentialField,
    },
    #[error(transparent)]
    DockerConfig(#[from] DockerConfigError),
    #[error("`stdin: true` cannot be used here: {reason}")]
    StdinUnavailable { reason: String },
    #[error("cannot read credentials from stdin: {reason}")]
    StdinRead { reason: String },
    #[error("`~` in {path} needs HOME, which is not set")]
    NoHome { path: String },
    /// The rules asked for something the trust policy does not allow.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// Stdin as a credential source: read at most once, shared by every registry entry naming it
/// (stdin can only be read once, and one docker config on stdin may serve several registries).
pub struct Stdin {
    source: StdinSource,
    read: OnceCell<Result<String, CredentialError>>,
}

enum StdinSource {
    Process,
    Text(String),
    Unavailable(String),
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.source {
            StdinSource::Process => "process",
            StdinSource::Text(_) => "text",
            StdinSource::Unavailable(_) => "unavailable",
        };
        f.debug_struct("Stdin").field("source", &state).finish()
    }
}

impl Stdin {
    /// The process's stdin, read on first use.
    pub fn process() -> Stdin {
        Stdin::with(StdinSource::Process)
    }

    /// Fixed text, as if piped in (tests, or input already read).
    pub fn text(text: impl Into<String>) -> Stdin {
        Stdin::with(StdinSource::Text(text.into()))
    }

    /// Stdin is taken (it carries the manifests); `reason` says so and what to do instead.
    pub fn unavailable(reason: impl Into<String>) -> Stdin {
        Stdin::with(StdinSource::Unavailable(reason.into()))
    }

    fn with(source: StdinSource) -> Stdin {
        Stdin {
            source,
            read: OnceCell::new(),
        }
    }

    /// The whole of stdin; read on the first call only.
    pub fn read(&self) -> Result<&str, CredentialError> {
        self.read
            .get_or_init(|| match &self.source {
                StdinSource::Text(text) => Ok(text.clone()),
                StdinSource::Unavailable(reason) => Err(CredentialError::StdinUnavailable {
                    reason: reason.clone(),
                }),
                StdinSource::Process => {
                    let mut text = String::new();
                    std::io::stdin()
                        .lock()
                        .read_to_string(&mut text)
                        .map_err(|e| CredentialError::StdinRead {
                            reason: e.to_string(),
                        })?;
                    Ok(text)
                }
            })
            .as_deref()
            .map_err(Clone::clone)
    }
}

/// What resolving a source may look at besides the source itself.
pub struct Context<'a> {
    /// Environment lookups (`env:` variables, `HOME`, `DOCKER_CONFIG`, `PATH` for helpers); a
    /// parameter so callers can resolve against a snapshot or a test map.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Relative `file:`/`dockerConfig:` paths are relative to this (the rules file's
    /// directory); `None`: the working directory.
    pub base_dir: Option<&'a Path>,
    pub stdin: &'a Stdin,
    /// What the rules may read (set by whoever runs the tool, never by the rules).
    pub policy: &'a Policy,
}

impl Context<'_> {
    /// `~/x` and relative paths made usable.
    fn path(&self, written: &Path) -> Result<PathBuf, CredentialError> {
        let expanded = match written.strip_prefix("~") {
            Ok(rest) => {
                let home = (self.env)("HOME")
                    .filter(|h| !h.is_empty())
                    .ok_or_else(|| CredentialError::NoHome {
                        path: written.display().to_string(),
                    })?;
                Path::new(&home).join(rest)
            }
            Err(_) => written.to_path_buf(),
        };
        Ok(match self.base_dir {
            Some(base) if expanded.is_relative() => base.join(expanded),
            _ => expanded,
        })
    }

    fn helpers(&self) -> Helpers {
        Helpers::from_env(self.env).with_policy(self.policy.clone())
    }
}

impl CredentialSource {
    /// Reads the credentials this source names for `server` (the registry as written in the
    /// rules file; docker config sources look it up as docker would).
    pub fn resolve(&self, server: &str, cx: &Context) -> Result<Credentials, CredentialError> {
        match self {
            CredentialSource::Env { username, password } => {
                cx.policy.check_env(username)?;
                cx.policy.check_env(password)?;
                Ok(Credentials {
                    username: env_value(cx.env, CredentialField::Username, username)?,
                    password: env_value(cx.env, CredentialField::Password, password)?,
                })
            }
            CredentialSource::File(written) => {
                let path = cx.path(written)?;
                let open = cx.policy.check_path(&path)?;
                let text = trust::read_regular(&open).map_err(|e| CredentialError::FileRead {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                let origin = path.display().to_string();
                login_text(
                    &text,
                    &format!("credentials file {origin}"),
                    &origin,
                    server,
                    cx,
                )
            }
            CredentialSource::DockerConfig(written) => {
                let path = match written {
                    Some(p) => cx.path(p)?,
                    None => dockerconfig::default_path(cx.env)?,
                };
                let open = cx.policy.check_path(&path)?;
                let login = DockerConfig::load_as(&open, &path.display().to_string())?
                    .login(server, &cx.helpers())?;
                Ok(Credentials {
                    username: login.username,
                    password: login.password,
                })
            }
            CredentialSource::Stdin(StdinTrue) => {
                let text = cx.stdin.read()?;
                login_text(text, "stdin", "stdin", server, cx)
            }
        }
    }
}

/// `username:password` (one line), or a docker config.json when the text is a JSON object.
fn login_text(
    text: &str,
    origin: &str,
    config_origin: &str,
    server: &str,
    cx: &Context,
) -> Result<Credentials, CredentialError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        let config = DockerConfig::parse(text, config_origin)?;
        let login = config.login(server, &cx.helpers())?;
        return Ok(Credentials {
            username: login.username,
            password: login.password,
        });
    }
    let format = |problem: &str| CredentialError::Format {
        origin: origin.to_string(),
        problem: problem.to_string(),
    };
    let line = text.trim_end_matches(['\n', '\r']);
    if line.is_empty() {
        return Err(format("is empty"));
    }
    if line.contains(['\n', '\r']) {
        return Err(format("has more than one line"));
    }
    // Text such as /proc/self/environ (NUL-separated) is one "line" with a `:` in it: a
    // login never holds control characters, so this refuses it without saying what it held.
    if line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format("holds control characters (such as NUL)"));
    }
    let Some((username, password)) = line.split_once(':') else {
        return Err(format("has no `:` between username and password"));
    };
    for (field, value) in [
        (CredentialField::Username, username),
        (CredentialField::Password, password),
    ] {
        if value.is_empty() {
            return Err(CredentialError::EmptyField {
                origin: origin.to_string(),
                field,
            });
        }
    }
    Ok(Credentials {
        username: username.to_string(),
        password: password.to_string(),
    })
}

fn env_value(
    env: &dyn Fn(&str) -> Option<String>,
    field: CredentialField,
    var: &str,
) -> Result<String, CredentialError> {
    match env(var) {
        None => Err(CredentialError::EnvUnset {
            field,
            var: var.to_owned(),
        }),
        Some(value) if value.is_empty() => Err(CredentialError::EnvEmpty {
            field,
            var: var.to_owned(),
        }),
        Some(value) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> CredentialSource {
        CredentialSource::Env {
            username: "REG_USER".to_owned(),
            password: "REG_PASSWORD".to_owned(),
        }
    }

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn resolve(
        source: &CredentialSource,
        env: &dyn Fn(&str) -> Option<String>,
        base_dir: Option<&Path>,
        stdin: &Stdin,
    ) -> Result<Credentials, CredentialError> {
        let policy = Policy::trusted();
        let cx = Context {
            env,
            base_dir,
            stdin,
            policy: &policy,
        };
        source.resolve("registry.example.com", &cx)
    }

    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, CredentialError> {
        resolve(&source(), env, None, &Stdin::unavailable("test"))
    }

    fn creds(username: &str, password: &str) -> Credentials {
        Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    #[test]
    fn deserializes_every_source() {
        let parse = |yaml: &str| serde_saphyr::from_str::<CredentialSource>(yaml);
        assert_eq!(
            parse("env: {username: REG_USER, password: REG_PASSWORD}").unwrap(),
            source()
        );
        assert_eq!(
            parse("file: creds.txt").unwrap(),
            CredentialSource::File("creds.txt".into())
        );
        assert_eq!(
            parse("dockerConfig: ~/.docker/config.json").unwrap(),
            CredentialSource::DockerConfig(Some("~/.docker/config.json".into()))
        );
        assert_eq!(
            parse("dockerConfig: null").unwrap(),
            CredentialSource::DockerConfig(None)
        );
        assert_eq!(
            parse("dockerConfig:").unwrap(),
            CredentialSource::DockerConfig(None)
        );
        assert_eq!(
            parse("stdin: true").unwrap(),
            CredentialSource::Stdin(StdinTrue)
        );
        let err = parse("stdin: false").unwrap_err().to_string();
        assert!(err.contains("names no source"), "{err}");
        assert!(parse("env: {username: U, password: P, extra: X}").is_err());
        assert!(parse("{env: {username: U, password: P}, file: x}").is_err());
        assert!(parse("vault: x").is_err());
    }

    #[test]
    fn resolves_from_env() {
        let env = lookup(&[("REG_USER", "robot"), ("REG_PASSWORD", "s3cr<t&")]);
        assert_eq!(from_env(&env), Ok(creds("robot", "s3cr<t&")));
    }

    #[test]
    fn unset_variable_is_named() {
        let env = lookup(&[("REG_USER", "robot")]);
        let err = from_env(&env).unwrap_err();
        assert_eq!(
            err,
            CredentialError::EnvUnset {
                field: CredentialField::Password,
                var: "REG_PASSWORD".to_owned()
            }
        );
        assert_eq!(
            err.to_string(),
            "password environment variable REG_PASSWORD is not set"
        );
    }

    #[test]
    fn empty_variable_is_named_without_values() {
        let env = lookup(&[("REG_USER", ""), ("REG_PASSWORD", "hunter2")]);
        let err = from_env(&env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "username environment variable REG_USER is set but empty"
        );

        let env = lookup(&[("REG_USER", "robot"), ("REG_PASSWORD", "")]);
        let message = from_env(&env).unwrap_err().to_string();
        assert_eq!(
            message,
            "password environment variable REG_PASSWORD is set but empty"
        );
        assert!(!message.contains("robot"));
    }

    #[test]
    fn file_with_username_password_relative_to_base_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("creds"), "robot:pa:ss word\r\n").unwrap();
        let src = CredentialSource::File("creds".into());
        let env = lookup(&[]);
        let got = resolve(&src, &env, Some(dir.path()), &Stdin::unavailable("t"));
        assert_eq!(got, Ok(creds("robot", "pa:ss word")));

        let home = dir.path().to_str().unwrap();
        let vars = [("HOME", home)];
        let env = lookup(&vars);
        let src = CredentialSource::File("~/creds".into());
        let got = resolve(&src, &env, None, &Stdin::unavailable("t"));
        assert_eq!(got, Ok(creds("robot", "pa:ss word")));
    }

    #[test]
    fn file_problems_name_the_file_not_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let env = lookup(&[]);
        let check = |content: &str, expected: &str| {
            std::fs::write(dir.path().join("c"), content).unwrap();
            let src = CredentialSource::File(dir.path().join("c"));
            let err = resolve(&src, &env, None, &Stdin::unavailable("t"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{err}");
            assert!(
                err.contains(&dir.path().join("c").display().to_string()),
                "{err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
        };
        check("", "is empty");
        check("hunter2", "has no `:`");
        check("u:hunter2\nu2:hunter2\n", "more than one line");
        check(":hunter2", "empty username");
        check("hunter2:", "empty password");
        check(
            "{\"auths\": {\"other.io\": {\"auth\": \"aHVudGVyMjpodW50ZXIy\"}}}",
            "has no login for registry.example.com; it lists: other.io",
        );

        let src = CredentialSource::File(dir.path().join("missing"));
        let err = resolve(&src, &env, None, &Stdin::unavailable("t")).unwrap_err();
        assert!(matches!(err, CredentialError::FileRead { .. }), "{err}");
    }

    #[test]
    fn only_regular_files_in_the_documented_format() {
        let env = lookup(&[]);
        let stdin = Stdin::unavailable("t");
        // procfs reports a regular file; its NUL-separated text is refused, unquoted.
        let src = CredentialSource::File("/proc/self/environ".into());
        let err = resolve(&src, &env, None, &stdin).unwrap_err().to_string();
        assert!(err.contains("control characters"), "{err}");
        assert!(!err.contains("PATH="), "{err}");
        for path in ["/dev/zero", "/"] {
            let src = CredentialSource::File(path.into());
            let err = resolve(&src, &env, None, &stdin).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{path}: {err}");
        }
    }

    #[test]
    fn untrusted_sources_are_limited_by_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("login"), "robot:pw").unwrap();
        let env = lookup(&[("REG_USER", "robot"), ("REG_PASSWORD", "pw")]);
        let stdin = Stdin::unavailable("t");
        let untrusted = Policy::untrusted();
        let cx = Context {
            env: &env,
            base_dir: Some(dir.path()),
            stdin: &stdin,
            policy: &untrusted,
        };
        let err = source().resolve("r", &cx).unwrap_err();
        assert!(matches!(err, CredentialError::Trust(_)), "{err}");
        let file = CredentialSource::File("login".into());
        assert!(matches!(
            file.resolve("r", &cx),
            Err(CredentialError::Trust(_))
        ));
        let allowed = crate::trust::Settings {
            allow_env: vec!["REG_USER".into(), "REG_PASSWORD".into()],
            allow_dirs: vec![dir.path().to_path_buf()],
            ..Default::default()
        }
        .policy(crate::trust::Trust::Untrusted)
        .unwrap();
        let cx = Context {
            policy: &allowed,
            ..cx
        };
        assert_eq!(source().resolve("r", &cx), Ok(creds("robot", "pw")));
        assert_eq!(file.resolve("r", &cx), Ok(creds("robot", "pw")));
        let outside = CredentialSource::File("../".into());
        assert!(matches!(
            outside.resolve("r", &cx),
            Err(CredentialError::Trust(_))
        ));
    }

    #[test]
    fn docker_config_source_default_and_explicit() {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join(".docker");
        std::fs::create_dir(&docker).unwrap();
        // base64("robot:pw")
        std::fs::write(
            docker.join("config.json"),
            r#"{"auths":{"https://registry.example.com":{"auth":"cm9ib3Q6cHc="}}}"#,
        )
        .unwrap();
        let home = dir.path().to_str().unwrap();
        let vars = [("HOME", home)];
        let env = lookup(&vars);
        let stdin = Stdin::unavailable("t");
        let default = CredentialSource::DockerConfig(None);
        assert_eq!(
            resolve(&default, &env, None, &stdin),
            Ok(creds("robot", "pw"))
        );
        let explicit = CredentialSource::DockerConfig(Some(".docker/config.json".into()));
        assert_eq!(
            resolve(&explicit, &env, Some(dir.path()), &stdin),
            Ok(creds("robot", "pw"))
        );
        let env = lookup(&[]);
        assert_eq!(
            resolve(&default, &env, None, &stdin),
            Err(CredentialError::DockerConfig(
                DockerConfigError::NoDefaultPath
            ))
        );
    }

    #[test]
    fn stdin_is_read_once_and_shared() {
        let stdin = Stdin::text("robot:pw\n");
        let env = lookup(&[]);
        let src = CredentialSource::Stdin(StdinTrue);
        assert_eq!(resolve(&src, &env, None, &stdin), Ok(creds("robot", "pw")));
        assert_eq!(resolve(&src, &env, None, &stdin), Ok(creds("robot", "pw")));

        let stdin =
            Stdin::text(r#"{"auths":{"registry.example.com":{"username":"u","password":"p"}}}"#);
        assert_eq!(resolve(&src, &env, None, &stdin), Ok(creds("u", "p")));

        let stdin = Stdin::unavailable("stdin carries the manifests");
        let err = resolve(&src, &env, None, &stdin).unwrap_err().to_string();
        assert_eq!(
            err,
            "`stdin: true` cannot be used here: stdin carries the manifests"
        );
    }

    #[test]
    fn debug_redacts_password() {
        let credentials = creds("robot", "hunter2");
        let debug = format!("{credentials:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains("robot") && debug.contains("<redacted>"),
            "{debug}"
        );
        let stdin = Stdin::text("robot:hunter2");
        stdin.read().unwrap();
        assert!(!format!("{stdin:?}").contains("hunter2"));
    }
}
