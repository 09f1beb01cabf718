//! Docker's `config.json`: which login a registry gets, found the way `docker pull` finds it.
//!
//! The lookup follows docker/cli (`configfile.GetAuthConfig`, `credentials.fileStore`,
//! `credentials.nativeStore`):
//!
//! * the key is `https://index.docker.io/v1/` for Docker Hub and the bare host name
//!   (`ConvertToHostname`) for every other registry;
//! * `credHelpers[key]`, else `credsStore`, names a helper: `docker-credential-<name> get` is run
//!   with the key on stdin and answers `{"Username": ..., "Secret": ...}`; with a helper the
//!   file's `auths` are not consulted for the login (only for `email`), as in docker;
//! * without a helper, `auths[key]`, else the entry whose key converts to the same host
//!   (`https://harbor.example.com/v2/` for `harbor.example.com`). For Docker Hub every spelling
//!   is accepted, with or without scheme: `https://index.docker.io/v1/`, `index.docker.io`,
//!   `docker.io`, `registry-1.docker.io`;
//! * an entry's `auth` (base64 of `username:password`) wins over its `username`/`password`.
//!
//! Written here rather than with the `docker_credential` crate (1.4), which was evaluated for
//! this: it has no way to list the registries of a config (needed by
//! `create-secret --from-docker-config`), it consults the file's `auths` before `credsStore`
//! (docker never does when a store is set), its helper-failure error embeds the helper's whole
//! stdout and stderr in its message (a leak risk for a tool whose errors land in CI logs), its
//! errors do not say which file, registry or helper failed, it cannot find helpers on a `PATH`
//! other than the process's (tests need that), and it drops `email`. Each of those would have
//! to be worked around outside the crate; the format itself is small.
//!
//! Nothing here ever puts a username's password, an `auth` value or a helper's answer into an
//! error message: parse errors report only line and column.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde::Deserialize;
use thiserror::Error;

use crate::registry::image::normalize_registry_host;
use crate::trust::Policy;

/// The key docker files Docker Hub logins under (`registry.IndexServer`).
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A credential helper reports a missing login with this text (docker-credential-helpers'
/// `credentials.errCredentialsNotFoundMessage`).
const NOT_FOUND_MESSAGE: &str = "credentials not found in native keychain";

/// Helpers store identity tokens under this username (docker/cli `tokenUsername`).
const TOKEN_USERNAME: &str = "<token>";

/// A parsed docker config: only the parts that hold logins.
#[derive(Clone)]
pub struct DockerConfig {
    /// Where it came from, for messages: a path, or `stdin`.
    origin: String,
    auths: BTreeMap<String, AuthEntry>,
    creds_store: Option<String>,
    cred_helpers: BTreeMap<String, String>,
}

impl fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerConfig")
            .field("origin", &self.origin)
            .field("auths", &self.auths.keys().collect::<Vec<_>>())
            .field("creds_store", &self.creds_store)
            .field("cred_helpers", &self.cred_helpers)
            .finish()
    }
}

#[derive(Clone, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    auths: Option<BTreeMap<String, AuthEntry>>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: Option<BTreeMap<String, String>>,
}

/// One registry's login, as docker would use it.
#[derive(Clone, PartialEq, Eq)]
pub struct DockerLogin {
    /// The `auths` key (or, for a helper, the key it was asked for).
    pub server: String,
    pub username: String,
    pub password: String,
    pub email: Option<String>,
}

impl fmt::Debug for DockerLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DockerLogin")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("email", &self.email)
            .finish()
    }
}

/// Why no usable login came out of a docker config. Never carries a credential.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DockerConfigError {
    #[error(
        "no docker config location: neither DOCKER_CONFIG nor HOME is set (name the file, e.g. \
         `dockerConfig: /path/to/config.json`)"
    )]
    NoDefaultPath,
    #[error("cannot read docker config {origin}: {reason}")]
    Read { origin: String, reason: String },
    #[error(
        "docker config {origin} is not valid JSON (line {line}, column {column}); expected a \
         docker config.json such as {{\"auths\": {{\"registry.example.com\": {{\"auth\": \"...\"}}}}}}"
    )]
    Syntax {
        origin: String,
        line: usize,
        column: usize,
    },
    #[error(
        "docker config {origin} does not have the shape of a docker config.json (line {line}, \
         column {column}): `auths` must map servers to objects of strings, `credHelpers` servers \
         to helper names, `credsStore` must be a string"
    )]
    Shape {
        origin: String,
        line: usize,
        column: usize,
    },
    #[error(
        "docker config {origin} has no login for {server}{}",
        known_list(known)
    )]
    NotFound {
        origin: String,
        server: String,
        known: Vec<String>,
    },
    #[error(
        "docker config {origin} lists {server} but holds no credentials for it (no `auth`, \
         `username`/`password` or credential helper); run `docker login {server}`"
    )]
    EmptyEntry { origin: String, server: String },
    #[error("the `auth` of {server} in docker config {origin} is {problem}")]
    BadAuth {
        origin: String,
        server: String,
        problem: &'static str,
    },
    #[error(
        "docker config {origin} holds only an identity token for {server} (an OAuth refresh \
         token, as `az acr login` or a browser login stores); the kubelet cannot pull with it. \
         Log in with a username and password or access token instead (`docker login {server}`), \
         or use another credential source"
    )]
    IdentityTokenOnly { origin: String, server: String },
    #[error(
        "credential helper docker-credential-{helper} (from {setting} in docker config {origin}) \
         is not on PATH; install it, or remove `{setting}` from the config"
    )]
    HelperMissing {
        origin: String,
        helper: String,
        setting: String,
    },
    #[error("invalid credential helper name {helper:?} in docker config {origin}")]
    HelperName { origin: String, helper: String },
    /// The trust policy does not allow this helper (from {setting} in {origin}).
    #[error("{message} (it is named by {setting} in docker config {origin})")]
    HelperNotAllowed {
        origin: String,
        setting: String,
        message: String,
    },
    #[error(
        "credential helper docker-credential-{helper} has no credentials for {server}; run \
         `docker login {server}`"
    )]
    HelperNotFound { helper: String, server: String },
    #[error("credential helper docker-credential-{helper} failed for {server}: {message}")]
    HelperFailed {
        helper: String,
        server: String,
        message: String,
    },
    #[error(
        "credential helper docker-credential-{helper} answered for {server} with something \
         other than {{\"Username\": ..., \"Secret\": ...}}"
    )]
    HelperResponse { helper: String, server: String },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "; it lists no registries".to_string()
    } else {
        format!("; it lists: {}", known.join(", "))
    }
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`, as docker picks it.
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf, DockerConfigError> {
    if let Some(dir) = env("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Ok(Path::new(&dir).join("config.json"));
    }
    match env("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(Path::new(&home).join(".docker").join("config.json")),
        None => Err(DockerConfigError::NoDefaultPath),
    }
}

/// docker/cli `credentials.ConvertToHostname`: `https://host:5000/v2/` -> `host:5000`.
pub fn convert_to_hostname(server: &str) -> &str {
    let stripped = ["http://", "https://"]
        .iter()
        .find_map(|scheme| server.strip_prefix(scheme))
        .unwrap_or(server);
    stripped.split_once('/').map_or(stripped, |(host, _)| host)
}

fn is_docker_hub(server: &str) -> bool {
    normalize_registry_host(server) == "docker.io"
}

/// The key docker looks a server up under.
pub fn lookup_key(server: &str) -> String {
    if is_docker_hub(server) {
        DOCKER_HUB_KEY.to_string()
    } else {
        convert_to_hostname(server).to_string()
    }
}

/// How to run credential helpers: where to find them, and which ones may run.
#[derive(Clone, Debug, Default)]
pub struct Helpers {
    /// The `PATH` to search for `docker-credential-*`; `None` finds nothing.
    pub path: Option<OsString>,
    /// Which helpers the rules may run.
    pub policy: Policy,
}

impl Helpers {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Helpers {
        Helpers {
            path: env("PATH").map(OsString::from),
            policy: Policy::default(),
        }
    }

    pub fn with_policy(self, policy: Policy) -> Helpers {
        Helpers { policy, ..self }
    }

    /// Only absolute `PATH` entries: an empty or relative one means the working directory
    /// (a checked-out repository), which would let the rules' own files run as a helper. Go's
    /// `exec.LookPath` refuses such results too (`ErrDot`, since Go 1.19).
    fn find(&self, program: &str) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        std::env::split_paths(path)
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

impl DockerConfig {
    /// Reads a config file (a regular file of bounded size; see [`crate::trust::read_regular`]).
    pub fn load(path: &Path) -> Result<DockerConfig, DockerConfigError> {
        DockerConfig::load_as(path, &path.display().to_string())
    }

    /// [`Self::load`], named `origin` in messages (the path as the rules wrote it, when
    /// `path` is its resolution).
    pub fn load_as(path: &Path, origin: &str) -> Result<DockerConfig, DockerConfigError> {
        let text = crate::trust::read_regular(path).map_err(|e| DockerConfigError::Read {
            origin: origin.to_string(),
            reason: e.to_string(),
        })?;
        DockerConfig::parse(&text, origin)
    }

    /// Parses config text; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<DockerConfig, DockerConfigError> {
        // serde_json's own messages quote the offending value, which may be a password: only
        // the position is reported.
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| {
            let (line, column) = (e.line(), e.column());
            let origin = origin.to_string();
            if e.is_data() {
                DockerConfigError::Shape {
                    origin,
                    line,
                    column,
                }
            } else {
                DockerConfigError::Syntax {
                    origin,
                    line,
                    column,
                }
            }
        })?;
        Ok(DockerConfig {
            origin: origin.to_string(),
            auths: raw.auths.unwrap_or_default(),
            creds_store: raw.creds_store.filter(|s| !s.is_empty()),
            cred_helpers: raw.cred_helpers.unwrap_or_default(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Every registry the config knows: the `auths` keys and the `credHelpers` keys, sorted.
    ///
    /// Not the `list` of a `credsStore`: a desktop keychain holds logins unrelated to docker
    /// (and docker records every login it stores there as an `auths` key anyway).
    pub fn servers(&self) -> Vec<String> {
        let mut servers: Vec<String> = self
            .auths
            .keys()
            .chain(self.cred_helpers.keys())
            .cloned()
            .collect();
        servers.sort();
        servers.dedup();
        servers
    }

    /// The login docker would use for `server` (any spelling: `harbor.example.com`,
    /// `https://harbor.example.com/v2/`, `docker.io`).
    pub fn login(&self, server: &str, helpers: &Helpers) -> Result<DockerLogin, DockerConfigError> {
        let key = lookup_key(server);
        let entry = self.entry(&key);
        let email = entry
            .and_then(|(_, e)| e.email.clone())
            .filter(|e| !e.is_empty());
        // As docker: a registry's own helper, else the store; a helper is authoritative.
        let helper = match self.cred_helpers.get(&key).filter(|h| !h.is_empty()) {
            Some(h) => Some((h.as_str(), format!("credHelpers[{key:?}]"))),
            None => self
                .creds_store
                .as_deref()
                .map(|s| (s, "credsStore".to_string())),
        };
        if let Some((helper, setting)) = helper {
            let (username, password) = self.run_helper(helper, &setting, &key, helpers)?;
            return Ok(DockerLogin {
                server: entry.map_or(key, |(k, _)| k.clone()),
                username,
                password,
                email,
            });
        }
        let Some((found_key, entry)) = entry else {
            return Err(DockerConfigError::NotFound {
                origin: self.origin.clone(),
                server: server.to_string(),
                known: self.servers(),
            });
        };
        let (username, password) = self.entry_login(found_key, entry)?;
        Ok(DockerLogin {
            server: found_key.clone(),
            username,
            password,
            email,
        })
    }

    /// The `auths` entry for a lookup key: exact, else (in key order) one whose key converts
    /// to the same host; for Docker Hub, any spelling of it.
    fn entry(&self, key: &str) -> Option<(&String, &AuthEntry)> {
        if let Some(found) = self.auths.get_key_value(key) {
            return Some(found);
        }
        if key == DOCKER_HUB_KEY {
            return self.auths.iter().find(|(k, _)| is_docker_hub(k));
        }
        self.auths
            .iter()
            .find(|(k, _)| convert_to_hostname(k).eq_ignore_ascii_case(key))
    }

    fn entry_login(
        &self,
        key: &str,
        entry: &AuthEntry,
    ) -> Result<(String, String), DockerConfigError> {
        let bad = |problem| DockerConfigError::BadAuth {
            origin: self.origin.clone(),
            server: key.to_string(),
            problem,
        };
        let (username, password) = match entry.auth.as_deref().filter(|a| !a.is_empty()) {
            Some(auth) => decode_auth(auth).map_err(bad)?,
            None => (
                entry.username.clone().unwrap_or_default(),
                entry.password.clone().unwrap_or_default(),
            ),
        };
        if password.is_empty() {
            let has_token = entry
                .identitytoken
                .as_deref()
                .is_some_and(|t| !t.is_empty());
            return Err(if has_token {
                DockerConfigError::IdentityTokenOnly {
                    origin: self.origin.clone(),
                    server: key.to_string(),
                }
            } else {
                DockerConfigError::EmptyEntry {
                    origin: self.origin.clone(),
                    server: key.to_string(),
                }
            });
        }
        Ok((username, password))
    }

    /// `docker-credential-<helper> get`, as docker-credential-helpers' `client.Get` runs it.
    fn run_helper(
        &self,
        helper: &str,
        setting: &str,
        key: &str,
        helpers: &Helpers,
    ) -> Result<(String, String), DockerConfigError> {
        if !crate::trust::is_helper_name(helper) {
            return Err(DockerConfigError::HelperName {
                origin: self.origin.clone(),
                helper: helper.to_string(),
            });
        }
        helpers
            .policy
            .check_helper(helper)
            .map_err(|e| DockerConfigError::HelperNotAllowed {
                origin: self.origin.clone(),
                setting: setting.to_string(),
                message: e.to_string(),
            })?;
        let program = format!("docker-credential-{helper}");
        let path = helpers
            .find(&program)
            .ok_or_else(|| DockerConfigError::HelperMissing {
                origin: self.origin.clone(),
                helper: helper.to_string(),
                setting: setting.to_string(),
            })?;
        let failed = |message: String| DockerConfigError::HelperFailed {
            helper: helper.to_string(),
            server: key.to_string(),
            message,
        };
        let mut child = Command::new(&path)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("cannot run {}: {e}", path.display())))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading is reported by its exit status below.
            let _ = stdin.write_all(key.as_bytes());
        }
        let output = child
            .wait_with_output()
            .map_err(|e| failed(format!("cannot wait for {}: {e}", path.display())))?;
        if !output.status.success() {
            let stdout = String::from_utf8_lossy(&output.stdout);
            if stdout.contains(NOT_FOUND_MESSAGE) {
                return Err(DockerConfigError::HelperNotFound {
                    helper: helper.to_string(),
                    server: key.to_string(),
                });
            }
            // Docker shows a failing helper's stdout; we never do: a helper writes its answer
            // there, and one that prints a login and then fails would put it in a CI log.
            // Its stderr's first line is shown, shortened.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let said = stderr
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|line| {
                    let short: String = line.chars().take(200).collect();
                    format!(": {short}")
                })
                .unwrap_or_else(|| " (its stdout is not shown: it may hold credentials)".into());
            return Err(failed(format!("exit {}{said}", output.status)));
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer {
            #[serde(default)]
            username: String,
            #[serde(default)]
            secret: String,
        }
        let answer: Answer = serde_json::from_slice(&output.stdout).map_err(|_| {
            DockerConfigError::HelperResponse {
                helper: helper.to_string(),
                server: key.to_string(),
            }
        })?;
        if answer.username == TOKEN_USERNAME {
            return Err(DockerConfigError::IdentityTokenOnly {
                origin: format!("{} (helper docker-credential-{helper})", self.origin),
                server: key.to_string(),
            });
        }
        if answer.secret.is_empty() {
            return Err(DockerConfigError::HelperNotFound {
                helper: helper.to_string(),
                server: key.to_string(),
            });
        }
        Ok((answer.username, answer.secret))
    }
}

/// docker/cli `decodeAuth`: base64 of `username:password`, username non-empty, NULs trimmed
/// from the password. Padding is optional here (some tools write it without).
fn decode_auth(auth: &str) -> Result<(String, String), &'static str> {
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(auth.trim())
        .or_else(|_| general_purpose::STANDARD.decode(auth.trim()))
        .map_err(|_| "not valid base64")?;
    let text = String::from_utf8(bytes).map_err(|_| "not UTF-8 once decoded")?;
    match text.split_once(':') {
        Some((user, password)) if !user.is_empty() => {
            Ok((user.to_string(), password.trim_matches('\0').to_string()))
        }
        _ => Err("not the base64 of `username:password`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn config(json: &str) -> DockerConfig {
        DockerConfig::parse(json, "/home/u/.docker/config.json").unwrap()
    }

    fn no_helpers() -> Helpers {
        Helpers::default()
    }

    #[test]
    fn hostname_conversion_matches_docker() {
        assert_eq!(
            convert_to_hostname("https://h.example.com/v2/"),
            "h.example.com"
        );
        assert_eq!(convert_to_hostname("http://h:5000"), "h:5000");
        assert_eq!(convert_to_hostname("h.example.com/team"), "h.example.com");
        assert_eq!(convert_to_hostname("h.example.com"), "h.example.com");
        assert_eq!(lookup_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(lookup_key("https://index.docker.io/v1/"), DOCKER_HUB_KEY);
        assert_eq!(lookup_key("index.docker.io"), DOCKER_HUB_KEY);
        assert_eq!(lookup_key("https://ghcr.io"), "ghcr.io");
    }

    #[test]
    fn auth_field_is_decoded() {
        let c = config(&format!(
            r#"{{"auths":{{"ghcr.io":{{"auth":"{}","email":"a@b.c"}}}}}}"#,
            b64("robot:p:a:ss")
        ));
        let login = c.login("ghcr.io", &no_helpers()).unwrap();
        assert_eq!(login.server, "ghcr.io");
        assert_eq!(login.username, "robot");
        assert_eq!(login.password, "p:a:ss");
        assert_eq!(login.email.as_deref(), Some("a@b.c"));
    }

    #[test]
    fn username_password_fields_and_auth_precedence() {
        let c = config(&format!(
            r#"{{"auths":{{"a.io":{{"username":"u","password":"p"}},
                "b.io":{{"auth":"{}","username":"ignored","password":"ignored"}}}}}}"#,
            b64("real:pw")
        ));
        let a = c.login("a.io", &no_helpers()).unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("u", "p"));
        let b = c.login("b.io", &no_helpers()).unwrap();
        assert_eq!((b.username.as_str(), b.password.as_str()), ("real", "pw"));
    }

    #[test]
    fn docker_hub_any_spelling_with_or_without_scheme() {
        for key in [
            "https://index.docker.io/v1/",
            "index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
        ] {
            let c = config(&format!(
                r#"{{"auths":{{"{key}":{{"auth":"{}"}}}}}}"#,
                b64("hub:tok")
            ));
            for server in [
                "docker.io",
                "https://index.docker.io/v1/",
                "index.docker.io",
            ] {
                let login = c
                    .login(server, &no_helpers())
                    .unwrap_or_else(|e| panic!("{key} for {server}: {e}"));
                assert_eq!(login.server, key);
                assert_eq!(login.password, "tok");
            }
        }
        // The canonical key wins over other spellings.
        let c = config(&format!(
            r#"{{"auths":{{"docker.io":{{"auth":"{}"}},"https://index.docker.io/v1/":{{"auth":"{}"}}}}}}"#,
            b64("old:x"),
            b64("new:y")
        ));
        assert_eq!(c.login("docker.io", &no_helpers()).unwrap().username, "new");
    }

    #[test]
    fn url_keys_match_their_host() {
        let c = config(&format!(
            r#"{{"auths":{{"https://harbor.example.com/v2/":{{"auth":"{}"}}}}}}"#,
            b64("u:p")
        ));
        let login = c.login("harbor.example.com", &no_helpers()).unwrap();
        assert_eq!(login.server, "https://harbor.example.com/v2/");
        // A different port is a different registry.
        assert!(matches!(
            c.login("harbor.example.com:5000", &no_helpers()),
            Err(DockerConfigError::NotFound { .. })
        ));
    }

    #[test]
    fn missing_and_empty_entries_are_named_without_values() {
        let c = config(&format!(
            r#"{{"auths":{{"a.io":{{}},"b.io":{{"auth":"{}"}}}}}}"#,
            b64("u:secretvalue")
        ));
        let err = c.login("c.io", &no_helpers()).unwrap_err().to_string();
        assert_eq!(
            err,
            "docker config /home/u/.docker/config.json has no login for c.io; it lists: a.io, b.io"
        );
        let err = c.login("a.io", &no_helpers()).unwrap_err();
        assert!(matches!(err, DockerConfigError::EmptyEntry { .. }), "{err}");
    }

    #[test]
    fn identity_token_only_is_refused_with_reason() {
        let c = config(&format!(
            r#"{{"auths":{{"x.azurecr.io":{{"auth":"{}","identitytoken":"eyJtoken"}}}}}}"#,
            b64("00000000-0000-0000-0000-000000000000:")
        ));
        let err = c.login("x.azurecr.io", &no_helpers()).unwrap_err();
        assert!(
            matches!(err, DockerConfigError::IdentityTokenOnly { .. }),
            "{err}"
        );
        assert!(!err.to_string().contains("eyJtoken"));
    }

    #[test]
    fn bad_auth_values_are_reported_not_echoed() {
        for (auth, problem) in [
            ("!!!not-base64!!!", "not valid base64"),
            (
                &b64("no-colon") as &str,
                "not the base64 of `username:password`",
            ),
            (&b64(":emptyuser"), "not the base64 of `username:password`"),
        ] {
            let c = config(&format!(r#"{{"auths":{{"a.io":{{"auth":"{auth}"}}}}}}"#));
            let err = c.login("a.io", &no_helpers()).unwrap_err().to_string();
            assert!(err.ends_with(problem), "{err}");
            assert!(!err.contains(auth), "{err}");
        }
        // Unpadded base64 and NUL-padded passwords, as docker accepts them.
        let unpadded = STANDARD.encode("u:pw").trim_end_matches('=').to_string();
        let c = config(&format!(
            r#"{{"auths":{{"a.io":{{"auth":"{unpadded}"}}}}}}"#
        ));
        assert_eq!(c.login("a.io", &no_helpers()).unwrap().password, "pw");
        let c = config(&format!(
            r#"{{"auths":{{"a.io":{{"auth":"{}"}}}}}}"#,
            b64("u:pw\0\0")
        ));
        assert_eq!(c.login("a.io", &no_helpers()).unwrap().password, "pw");
    }

    #[test]
    fn parse_errors_never_quote_the_file() {
        let err =
            DockerConfig::parse(r#"{"auths": {"a.io": {"password": 12345678}}}"#, "f").unwrap_err();
        assert!(matches!(err, DockerConfigError::Shape { .. }), "{err}");
        assert!(!err.to_string().contains("12345678"), "{err}");
        let err =
            DockerConfig::parse(r#"{"auths": {"a.io": {"password": "hunter2"#, "f").unwrap_err();
        assert!(matches!(err, DockerConfigError::Syntax { .. }), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn servers_lists_auths_and_helpers() {
        let c = config(r#"{"auths":{"b.io":{},"a.io":{}},"credHelpers":{"c.io":"x","a.io":"y"}}"#);
        assert_eq!(c.servers(), ["a.io", "b.io", "c.io"]);
    }

    #[test]
    fn default_path_follows_docker() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            default_path(&env(&[("DOCKER_CONFIG", "/d"), ("HOME", "/h")])).unwrap(),
            Path::new("/d/config.json")
        );
        assert_eq!(
            default_path(&env(&[("HOME", "/h")])).unwrap(),
            Path::new("/h/.docker/config.json")
        );
        assert_eq!(
            default_path(&env(&[])).unwrap_err(),
            DockerConfigError::NoDefaultPath
        );
    }

    #[cfg(unix)]
    mod helpers {
        use super::*;

        /// A helper script in a temp dir that answers like docker-credential-helpers.
        fn fake_helper(body: &str) -> (tempfile::TempDir, Helpers) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("docker-credential-fake");
            // Written through `install` so this process never holds a writable descriptor to
            // a file it executes: a parallel test's fork would make the exec fail with ETXTBSY.
            let source = dir.path().join("script");
            std::fs::write(&source, format!("#!/bin/sh\n{body}\n")).unwrap();
            let installed = std::process::Command::new("install")
                .args(["-m", "0755"])
                .arg(&source)
                .arg(&path)
                .status()
                .unwrap();
            assert!(installed.success());
            let helpers = Helpers {
                path: Some(dir.path().as_os_str().to_owned()),
                ..Helpers::default()
            };
            (dir, helpers)
        }

        const ECHO_SERVER: &str = r#"[ "$1" = get ] || exit 3
server=$(cat)
printf '{"ServerURL":"%s","Username":"user-for-%s","Secret":"s3cr3t"}' "$server" "$server""#;

        #[test]
        fn cred_helpers_run_with_the_lookup_key() {
            let (_dir, helpers) = fake_helper(ECHO_SERVER);
            let c = config(
                r#"{"auths":{"ghcr.io":{"email":"e@x"}},"credHelpers":{"ghcr.io":"fake","https://index.docker.io/v1/":"fake"}}"#,
            );
            let login = c.login("https://ghcr.io/", &helpers).unwrap();
            assert_eq!(login.username, "user-for-ghcr.io");
            assert_eq!(login.password, "s3cr3t");
            assert_eq!(login.email.as_deref(), Some("e@x"));
            let hub = c.login("docker.io", &helpers).unwrap();
            assert_eq!(hub.username, "user-for-https://index.docker.io/v1/");
        }

        #[test]
        fn relative_path_entries_are_never_searched() {
            let (dir, _) = fake_helper(ECHO_SERVER);
            let c = config(r#"{"credsStore":"fake"}"#);
            // Relative to the working directory: the helper is there, and is not run.
            let relative = pathdiff(dir.path());
            let helpers = Helpers {
                path: Some(OsString::from(format!("{}::.", relative.display()))),
                ..Helpers::default()
            };
            assert!(matches!(
                c.login("a.io", &helpers),
                Err(DockerConfigError::HelperMissing { .. })
            ));
        }

        /// `dir` as a path relative to the working directory.
        fn pathdiff(dir: &Path) -> PathBuf {
            let cwd = std::env::current_dir().unwrap();
            let ups = cwd.components().count() - 1;
            let mut rel = PathBuf::new();
            for _ in 0..ups {
                rel.push("..");
            }
            rel.join(dir.strip_prefix("/").unwrap())
        }

        #[test]
        fn creds_store_wins_over_file_auths() {
            let (_dir, helpers) = fake_helper(ECHO_SERVER);
            let c = config(&format!(
                r#"{{"auths":{{"a.io":{{"auth":"{}"}}}},"credsStore":"fake"}}"#,
                b64("file:pw")
            ));
            assert_eq!(c.login("a.io", &helpers).unwrap().username, "user-for-a.io");
        }

        #[test]
        fn helper_failures_are_explained() {
            let c = config(r#"{"credsStore":"fake"}"#);
            let err = c.login("a.io", &no_helpers()).unwrap_err().to_string();
            assert_eq!(
                err,
                "credential helper docker-credential-fake (from credsStore in docker config \
                 /home/u/.docker/config.json) is not on PATH; install it, or remove `credsStore` \
                 from the config"
            );

            let (_dir, helpers) =
                fake_helper("echo 'credentials not found in native keychain'; exit 1");
            let err = c.login("a.io", &helpers).unwrap_err();
            assert!(
                matches!(err, DockerConfigError::HelperNotFound { .. }),
                "{err}"
            );

            let (_dir, helpers) = fake_helper("echo 'pass store is locked' >&2; exit 1");
            let err = c.login("a.io", &helpers).unwrap_err().to_string();
            assert!(err.contains("pass store is locked"), "{err}");

            let (_dir, helpers) = fake_helper("echo 'not json hunter2'");
            let err = c.login("a.io", &helpers).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");

            // A failing helper's stdout is never shown: it may be a login.
            let (_dir, helpers) =
                fake_helper(r#"echo '{"Username":"u","Secret":"hunter2"}'; exit 1"#);
            let err = c.login("a.io", &helpers).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{err}");
            assert!(err.contains("its stdout is not shown"), "{err}");

            // Untrusted: only allowed helpers run.
            let (_dir, helpers) = fake_helper(ECHO_SERVER);
            let untrusted = helpers
                .clone()
                .with_policy(crate::trust::Policy::untrusted());
            let err = c.login("a.io", &untrusted).unwrap_err();
            assert!(
                matches!(err, DockerConfigError::HelperNotAllowed { .. }),
                "{err}"
            );
            assert!(err.to_string().contains("--allow-helper fake"), "{err}");
            let allowed = crate::trust::Settings {
                allow_helpers: vec!["fake".into()],
                ..Default::default()
            }
            .policy(crate::trust::Trust::Untrusted)
            .unwrap();
            assert!(c.login("a.io", &helpers.with_policy(allowed)).is_ok());

            let (_dir, helpers) =
                fake_helper(r#"cat >/dev/null; echo '{"Username":"<token>","Secret":"tok"}'"#);
            let err = c.login("a.io", &helpers).unwrap_err();
            assert!(
                matches!(err, DockerConfigError::IdentityTokenOnly { .. }),
                "{err}"
            );

            let bad = config(r#"{"credsStore":"../../bin/sh"}"#);
            assert!(matches!(
                bad.login("a.io", &helpers),
                Err(DockerConfigError::HelperName { .. })
            ));
        }
    }
}
