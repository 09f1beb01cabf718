//! Error types. Every problem with the input names the document the way a user finds it:
//! its position in the stream, kind/name, `# Source:` file and line.

use std::fmt;

use crate::registry::credentials::CredentialError;
use crate::rules::RulesError;

/// Where in the input a problem is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// 1-based document position in the stream.
    pub doc: usize,
    pub kind: Option<String>,
    pub name: Option<String>,
    /// `# Source:` file (Helm 3) or `postrender-filename` annotation (Helm 4).
    pub source: Option<String>,
    /// 1-based line in the input stream.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.doc == 0 {
            // Not about any one document: a rule rendered for this run.
            return f.write_str("rules");
        }
        write!(f, "document {}", self.doc)?;
        match (&self.kind, &self.name) {
            (Some(k), Some(n)) => write!(f, " ({k}/{n})")?,
            (Some(k), None) => write!(f, " ({k})")?,
            _ => {}
        }
        if let Some(source) = &self.source {
            write!(f, " from {source}")?;
        }
        write!(f, ", line {}", self.line)
    }
}

/// The input could not be read as text.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input is not valid UTF-8 (byte {offset}, line {line})")]
    InvalidUtf8 { offset: usize, line: usize },
    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// One thing wrong with one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: Location,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("invalid YAML: {0}")]
    Syntax(String),
    #[error("a Kubernetes manifest must be a mapping, this document is {found}")]
    NotAMapping { found: &'static str },
    #[error("`{path}` must be a list of {{name: ...}}, found {found}")]
    NotAList { path: String, found: &'static str },
    #[error(
        "`{path}` is a YAML alias; helm-regcred does not edit through aliases (write the value out)"
    )]
    Alias { path: String },
    #[error("`{path}` must be a mapping, found {found}")]
    NotAMappingAt { path: String, found: &'static str },
    #[error("`{path}` must be a single value, found {found}")]
    NotAScalar { path: String, found: &'static str },
    #[error(
        "`{path}` indexes a list item that does not exist; helm-regcred never invents list items"
    )]
    MissingListItem { path: String },
    /// An existing item of a pull-secret list is not what the list's schema allows.
    #[error("`{path}` {problem}")]
    BadListItem { path: String, problem: ItemProblem },
    #[error("the embedded config at `{path}` is not valid {format}: {message}")]
    Embedded {
        path: String,
        format: &'static str,
        message: String,
    },
    /// A templated secret name or namespace that cannot be rendered for this resource.
    #[error("{0}")]
    Template(String),
    #[error(
        "Secret {name} already exists in the input with type {found}, but pods need it as a \
         kubernetes.io/dockerconfigjson pull secret; rename the registry's `secret:` in the rules"
    )]
    SecretConflict { name: String, found: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.kind)
    }
}

/// Everything wrong with an input, found in one pass so the user can fix it all at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputProblems(pub Vec<Problem>);

impl fmt::Display for InputProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} problem{} in the input:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputProblems {}

/// Any failure of the engine; front ends map these to exit codes in one place.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}")]
    Problems(#[from] InputProblems),
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// `reason` is in the message and not a `source()`: printing the error chain would
    /// otherwise repeat it.
    #[error("registry {server} (secret {secret}): {reason}")]
    Credentials {
        server: String,
        secret: String,
        reason: Box<CredentialError>,
    },
}

/// What is wrong with one list item, by the list's schema (`ItemShape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ItemProblem {
    /// `imagePullSecrets` is `[]LocalObjectReference` (`{name: x}`); a bare string, a list or a
    /// number does not decode into it, so the API server refuses the whole resource.
    #[error(
        "must be a LocalObjectReference `{{name: SECRET}}`, found {found} (the API server \
         refuses the resource)"
    )]
    NotAReference { found: &'static str },
    /// `null`, `{}` or `{name: ""}`: accepted with a warning, and skipped by the kubelet.
    #[error(
        "has no `name` (the kubelet skips such an entry): write the Secret's name, or remove \
         the entry"
    )]
    NoName,
    #[error("has a `name` that is {found}, not a string (the API server refuses the resource)")]
    NameNotAString { found: &'static str },
    /// A list of plain names (`itemShape: string`) holding something else.
    #[error("must be a Secret name, found {found}")]
    NotAName { found: &'static str },
    #[error("is a YAML alias; helm-regcred does not read list items through aliases")]
    Alias,
}
