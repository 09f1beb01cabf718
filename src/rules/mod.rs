//! The rules file (`regcred.yaml`): which registries get pull Secrets, and which pods use them.
//!
//! ```yaml
//! apiVersion: helm-regcred/v1
//! kind: RegcredConfig
//! registries:
//!   - server: harbor.example.com        # as written in image refs; docker.io for Docker Hub
//!     secret: harbor-pull               # the pull Secret's name
//!     credentials:
//!       env: {username: REG_USER, password: REG_PASSWORD}
//! rules:                                # optional; none = every pod pulling from a registry above
//!   - name: cloudforet
//!     match: {kinds: [Deployment], images: ["harbor.example.com/**"]}
//!     exclude: {names: ["*-test"]}
//!     secrets: [harbor-pull]            # default: secrets of the registries the pod pulls from
//! ```
//!
//! Loading is two steps so the file's shape and its meaning are kept apart: serde reads the
//! YAML into `raw` structs that mirror it (with locations), then `validate` checks everything,
//! collecting every problem, and builds the model below. Only a file whose YAML shape is wrong
//! (syntax, unknown field, wrong type) stops at the first problem, because serde cannot
//! continue past it.

mod problem;
mod raw;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use problem::{Position, Problem, ProblemKind, RulesError};

use crate::credentials::CredentialSource;
use crate::image::normalize_registry_host;
use crate::selector::{Selector, Subject};

/// The one `apiVersion` this version reads.
pub const API_VERSION: &str = "helm-regcred/v1";
/// The rules file's `kind`.
pub const KIND: &str = "RegcredConfig";

/// A validated rules file.
#[derive(Debug, Clone)]
pub struct Config {
    pub registries: Vec<Registry>,
    /// Empty means the default rule: every pod gets the secrets of the listed registries its
    /// images come from.
    pub rules: Vec<Rule>,
    /// The file path, or `<inline>`; for messages.
    pub origin: String,
}

/// One `registries:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// As written in the rules file.
    pub server: String,
    /// `normalize_registry_host(server)`: what [`crate::image::ImageRef::registry`] is
    /// compared with.
    pub host: String,
    /// Name of the pull Secret; a valid DNS-1123 subdomain.
    pub secret: String,
    pub email: Option<String>,
    /// Always present when `create` is true.
    pub credentials: Option<CredentialSource>,
    /// Emit the Secret; false means it already exists and is only referenced.
    pub create: bool,
}

/// One `rules:` entry.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique within the file.
    pub name: String,
    /// `match:`; matches everything when absent.
    pub selector: Selector,
    pub exclude: Option<Selector>,
    /// `None`: the secrets of the listed registries the pod's images come from. Every name is
    /// the `secret` of some registry.
    pub secrets: Option<Vec<String>>,
}

impl Rule {
    /// Whether this rule applies to the resource: `match` selects it and `exclude` does not.
    pub fn matches(&self, subject: &Subject) -> bool {
        self.selector.matches(subject) && !self.exclude.as_ref().is_some_and(|e| e.matches(subject))
    }
}

impl Config {
    /// Reads and validates a rules file.
    pub fn load(path: &Path) -> Result<Config, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Validates rules-file text; `origin` names it in messages (a path, or `<inline>`).
    pub fn parse(text: &str, origin: &str) -> Result<Config, RulesError> {
        // `create: yes` meaning true is a YAML 1.1 relic; in a file that decides whether a
        // Secret is emitted, only `true`/`false` are unambiguous enough.
        let options = serde_saphyr::options! { strict_booleans: true };
        // `Option` so that an empty document (`""`, only comments, a bare `---`) is reported
        // as empty rather than as "expected a mapping".
        let raw: Option<raw::RawConfig> = serde_saphyr::from_str_with_options(text, options)
            .map_err(|e| RulesError::Invalid {
                problems: vec![problem::from_yaml_error(&e, origin)],
            })?;
        validate::validate(raw, origin).map_err(|problems| RulesError::Invalid { problems })
    }

    /// Registries whose host is this host (several entries may share a host, each with its
    /// own secret). The host is normalized first, so any spelling of it works.
    pub fn registries_for_host(&self, host: &str) -> impl Iterator<Item = &Registry> {
        let host = normalize_registry_host(host);
        self.registries.iter().filter(move |r| r.host == host)
    }

    /// Registries whose credentials go into this Secret (one Secret may serve several hosts).
    pub fn registry_by_secret(&self, secret: &str) -> impl Iterator<Item = &Registry> {
        self.registries.iter().filter(move |r| r.secret == secret)
    }
}
