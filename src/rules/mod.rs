//! The rules file (`regcred.yaml`): which registries get pull Secrets, and which pods use them.
//!
//! ```yaml
//! apiVersion: helm-regcred/v1
//! kind: RegcredConfig
//! registries:
//!   - server: harbor.example.com        # as written in image refs; docker.io for Docker Hub
//!     secret: harbor-pull               # the pull Secret's name; may be a template
//!     credentials:                      # exactly one of env, file, dockerConfig, stdin
//!       env: {username: REG_USER, password: REG_PASSWORD}
//! vars: {user_id: "1001"}               # template variables (`{{ vars.user_id }}`), `--set` wins
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
pub mod selector;
mod shape;
pub mod template;
mod validate;

#[cfg(test)]
mod tests;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub use problem::{Position, Problem, ProblemKind, RulesError};

use crate::edit::fieldpath::FieldPath;
pub use crate::edit::{ItemShape, Syntax};
use crate::registry::credentials::CredentialSource;
use crate::registry::image::{ImageRef, normalize_registry_host};
use crate::registry::keyring::Entry;
use crate::rules::selector::{PatternSet, Selector, Subject};

/// The one `apiVersion` this version reads.
pub const API_VERSION: &str = "helm-regcred/v1";
/// The rules file's `kind`.
pub const KIND: &str = "RegcredConfig";

/// The rules file to load: `explicit` (a `--rules` flag), else `$HELM_REGCRED_RULES`, else
/// `./regcred.yaml`; made absolute, so every message and a post-renderer run from another
/// directory name the same file.
pub fn find_file(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> std::io::Result<std::path::PathBuf> {
    let path = explicit
        .map(Path::to_path_buf)
        .or_else(|| env("HELM_REGCRED_RULES").map(std::path::PathBuf::from))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| "regcred.yaml".into());
    if path.is_absolute() {
        Ok(path)
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}

/// A validated rules file.
#[derive(Debug, Clone)]
pub struct Config {
    pub registries: Vec<Registry>,
    /// Empty means the default rule: every pod gets the secrets of the listed registries its
    /// images come from.
    pub rules: Vec<Rule>,
    /// `serviceAccounts:`: what ServiceAccounts outside the manifests carry.
    pub service_accounts: Vec<DeclaredServiceAccounts>,
    /// The file path, or `<inline>`; for messages.
    pub origin: String,
    /// `vars:` of the rules file (`{{ vars.NAME }}` in templates), with `--set` applied on top.
    pub vars: BTreeMap<String, serde_json::Value>,
}

/// One `registries:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// As written in the rules file.
    pub server: String,
    /// `normalize_registry_host(server)`: what [`crate::registry::image::ImageRef::registry`] is
    /// compared with.
    pub host: String,
    /// `server` as the kubelet's keyring reads it: which images it serves, and the `auths`
    /// key the Secret carries for it (scheme and `/v1/`, `/v2/` dropped).
    pub entry: Entry,
    /// Name of the pull Secret; a valid DNS-1123 subdomain.
    pub secret: String,
    pub email: Option<String>,
    /// Always present when `create` is true.
    pub credentials: Option<CredentialSource>,
    /// Emit the Secret; false means it already exists and is only referenced.
    pub create: bool,
}

/// One `serviceAccounts:` entry: ServiceAccounts outside the manifests and the pull secrets
/// they carry in the cluster.
#[derive(Debug, Clone)]
pub struct DeclaredServiceAccounts {
    /// `None`: every namespace.
    pub namespaces: Option<PatternSet>,
    pub names: Vec<String>,
    pub image_pull_secrets: Vec<String>,
}

impl Config {
    /// The pull secrets the rules say ServiceAccount `name` carries in `namespace`, in the
    /// order declared; `None` when no entry declares it.
    pub fn service_account_secrets(&self, namespace: &str, name: &str) -> Option<Vec<String>> {
        let mut found: Option<Vec<String>> = None;
        for declared in self.service_accounts.iter().filter(|d| {
            d.names.iter().any(|n| n == name)
                && d.namespaces
                    .as_ref()
                    .is_none_or(|ns| ns.is_match(namespace))
        }) {
            crate::names::append_missing(
                found.get_or_insert_with(Vec::new),
                declared.image_pull_secrets.iter().cloned(),
            );
        }
        found
    }
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
    /// Where the secrets go; `None` is the pod spec's `imagePullSecrets`.
    pub target: Option<Target>,
    pub mode: Mode,
    /// Set on the selected containers (seed 003: `Always` for private, mutable tags).
    pub image_pull_policy: Option<ImagePullPolicy>,
    /// More namespaces that need the Secret (where a configured workload's pods will run).
    pub secret_namespaces: SecretNamespaces,
    /// Annotate pod templates mounting an edited ConfigMap so they restart (default true).
    pub rollout: bool,
    /// In `serviceAccount` mode, emit a missing ServiceAccount instead of only warning.
    pub create_service_accounts: bool,
}

/// A list somewhere other than the pod spec: a CR's field, or inside a config held as a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The string field holding an embedded config (`$.data['application.yaml']`), if any.
    pub field: Option<FieldPath>,
    pub format: Syntax,
    /// Where the list lives: in the embedded config when `field` is set, else in the resource.
    pub path: FieldPath,
    pub item_shape: ItemShape,
}

/// Where a rule lists the secrets: the pod spec (`podSpec`, the default) or the ServiceAccount
/// the pod runs as (`serviceAccount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Mode {
    /// The pod spec's own `imagePullSecrets`.
    #[default]
    PodSpec,
    /// The ServiceAccount the pod runs as (`serviceAccountName`, else `default`).
    ServiceAccount,
}

/// A container's `imagePullPolicy`, as Kubernetes spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ImagePullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl ImagePullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ImagePullPolicy::Always => "Always",
            ImagePullPolicy::IfNotPresent => "IfNotPresent",
            ImagePullPolicy::Never => "Never",
        }
    }
}

/// A value of one of the rules file's enums (`mode`, `format`, `itemShape`,
/// `imagePullPolicy`) from its name, as serde reads it: the names are written once, on the
/// type, and the schema gets the same ones.
pub(crate) fn from_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    use serde::de::IntoDeserializer as _;
    T::deserialize(name.into_deserializer())
        .map_err(|_: serde::de::value::Error| ())
        .ok()
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SecretNamespaces {
    #[default]
    None,
    List(Vec<String>),
    /// Read the namespace from this path (in the embedded config when the target has a field).
    FromPath(FieldPath),
}

impl Rule {
    /// Whether a label value of `match` or `exclude` is a template, rendered per run.
    pub fn has_templates(&self) -> bool {
        self.selector.has_templates() || self.exclude.as_ref().is_some_and(Selector::has_templates)
    }

    /// What an empty `rules:` means: every pod that pulls from a listed registry gets that
    /// registry's secret in its pod spec.
    pub fn default_rule() -> Rule {
        Rule {
            name: "default".into(),
            selector: Selector::default(),
            exclude: None,
            secrets: None,
            target: None,
            mode: Mode::PodSpec,
            image_pull_policy: None,
            secret_namespaces: SecretNamespaces::None,
            rollout: true,
            create_service_accounts: false,
        }
    }

    /// Whether this rule applies to the resource: `match` selects it and `exclude` does not.
    pub fn matches(&self, subject: &Subject) -> bool {
        self.selector.matches(subject) && !self.exclude.as_ref().is_some_and(|e| e.matches(subject))
    }
}

impl Config {
    /// Reads and validates a rules file.
    pub fn load(path: &Path) -> Result<Config, RulesError> {
        // A regular file only: a FIFO would block the run forever (and a device stream).
        let text = crate::trust::read_regular(path).map_err(|e| RulesError::Read {
            path: path.to_path_buf(),
            source: e.into(),
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
            .map_err(|e| {
                // serde stops at the first mistake; the schema walk finds the others.
                let first = problem::from_yaml_error(&e, origin);
                let mut problems = shape::problems(text, origin);
                problems.retain(|p| p.position != first.position);
                problems.push(first);
                problems.sort_by_key(|p| p.position);
                RulesError::Invalid { problems }
            })?;
        validate::validate(raw, origin).map_err(|problems| RulesError::Invalid { problems })
    }

    /// `--set NAME=VALUE`: sets `vars.NAME`, over the rules file's value.
    pub fn set_var(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars
            .insert(name.into(), serde_json::Value::String(value.into()));
    }

    /// The directory relative `file:`/`dockerConfig:` paths are resolved against: the rules
    /// file's own (a post-renderer runs wherever `helm` was started). `None` for rules that
    /// did not come from a file (`<inline>`): the working directory.
    pub fn dir(&self) -> Option<&Path> {
        if self.origin.starts_with('<') {
            return None;
        }
        Path::new(&self.origin)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
    }

    /// The JSON Schema of the rules file, generated from the structs serde reads it with, so it
    /// cannot drift from what the loader accepts (`helm-regcred schema`, `regcred.schema.json`).
    pub fn json_schema() -> serde_json::Value {
        let schema = schemars::generate::SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<raw::RawConfig>();
        let mut value = schema.to_value();
        if let Some(root) = value.as_object_mut() {
            root.insert("title".into(), "helm-regcred rules file".into());
            root.insert(
                "description".into(),
                "Which registries get pull Secrets, and which pods use them. Validate with \
                 `# yaml-language-server: $schema=...` at the top of regcred.yaml."
                    .into(),
            );
        }
        value
    }

    /// Registries whose host is this host (several entries may share a host, each with its
    /// own secret). The host is normalized first, so any spelling of it works.
    pub fn registries_for_host(&self, host: &str) -> impl Iterator<Item = &Registry> {
        let host = normalize_registry_host(host);
        self.registries.iter().filter(move |r| r.host == host)
    }

    /// Registries that serve this image, with their index into `registries`: those whose entry
    /// the kubelet matches (ports, a glob per host part, a string-prefix path), with any Docker
    /// Hub spelling taken for Docker Hub. See [`Entry::serves`].
    pub fn registries_serving<'a>(
        &'a self,
        image: &'a ImageRef,
    ) -> impl Iterator<Item = (usize, &'a Registry)> + 'a {
        self.registries
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.entry.serves(image))
    }

    /// Registries whose credentials go into this Secret (one Secret may serve several hosts).
    pub fn registry_by_secret(&self, secret: &str) -> impl Iterator<Item = &Registry> {
        self.registries.iter().filter(move |r| r.secret == secret)
    }
}
