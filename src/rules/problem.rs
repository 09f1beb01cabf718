//! What can be wrong with a rules file, and how to say it.
//!
//! Every problem carries a position in the file and a hint phrased as what to write instead:
//! the rules file is written by hand, and the fix is usually a one-word edit.

use std::fmt;
use std::path::PathBuf;

use serde_saphyr::{DefaultMessageFormatter, Location, MessageFormatter};

/// 1-based line and column in the rules file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl Position {
    pub const START: Position = Position { line: 1, column: 1 };

    /// `None` for serde-saphyr's "unknown" location (line 0).
    pub(super) fn of(location: Location) -> Option<Position> {
        (location.line() > 0).then(|| Position {
            line: location.line(),
            column: location.column(),
        })
    }
}

/// Which check a [`Problem`] failed; lets callers and tests tell problems apart without
/// parsing messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Not valid YAML, or more than one document.
    Syntax,
    UnknownField,
    /// An enum key such as a credential source that does not exist (`vault:` for `env:`).
    UnknownVariant,
    WrongType,
    MissingField,
    DuplicateKey,
    /// No content at all.
    Empty,
    ApiVersion,
    Kind,
    NoRegistries,
    EmptyServer,
    InvalidServer,
    /// The same (registry host, secret) pair twice.
    DuplicateRegistry,
    InvalidSecretName,
    MissingCredentials,
    /// Entries sharing one Secret disagree on whether to create it.
    ConflictingCreate,
    InvalidPattern,
    InvalidKind,
    /// A list that would make its selector match nothing.
    EmptyList,
    /// `exclude: {}`: the rule could never apply.
    EmptyExclude,
    UnknownSecret,
    MissingRuleName,
    DuplicateRuleName,
    /// A templated value (`{{ ... }}`) that does not parse.
    InvalidTemplate,
    /// A value outside its allowed set (mode, format, pull policy, JSONPath, namespace).
    InvalidValue,
}

/// One thing wrong with the rules file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The file path, or `<inline>`.
    pub origin: String,
    /// `None` only when the YAML parser could not tell where.
    pub position: Option<Position>,
    pub message: String,
    /// What to write instead.
    pub hint: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) => write!(f, "{}:{}:{}: ", self.origin, p.line, p.column)?,
            None => write!(f, "{}: ", self.origin)?,
        }
        write!(f, "{}\n  hint: {}", self.message, self.hint)
    }
}

/// Why a rules file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read rules file {}: {source}{}", path.display(), read_hint(source))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Everything found wrong, in file order, so one run shows every fix to make.
    #[error("{}", Problems(problems))]
    Invalid { problems: Vec<Problem> },
}

/// Where a missing rules file could have come from instead.
fn read_hint(source: &std::io::Error) -> &'static str {
    if source.kind() == std::io::ErrorKind::NotFound {
        " (name the rules file with `-r FILE` — `--regcred-rules FILE` in `helm regcred \
         install|upgrade|template|diff|check` — or set HELM_REGCRED_RULES; without either it \
         is ./regcred.yaml)"
    } else {
        ""
    }
}

impl RulesError {
    /// The individual problems; empty for [`RulesError::Read`].
    pub fn problems(&self) -> &[Problem] {
        match self {
            RulesError::Read { .. } => &[],
            RulesError::Invalid { problems } => problems,
        }
    }
}

struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Turns a serde-saphyr error (syntax, or a shape the raw structs reject) into a problem.
///
/// serde-saphyr's own messages are accurate but terse (`expected sequence start`) and have no
/// hint; this rewrites the ones a hand-written rules file runs into.
pub(super) fn from_yaml_error(err: &serde_saphyr::Error, origin: &str) -> Problem {
    use serde_saphyr::Error as E;

    let mut inner = err.without_snippet();
    // An error inside an aliased node: report what went wrong, at the alias.
    if let E::AliasError { error, .. } = inner {
        inner = error.without_snippet();
    }
    let position = err.location().and_then(Position::of);
    let (kind, message, hint) = match inner {
        E::SerdeUnknownField {
            field, expected, ..
        } => (
            ProblemKind::UnknownField,
            format!(
                "unknown field `{field}`; valid fields here: {}",
                expected.join(", ")
            ),
            match closest(field, expected.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("remove `{field}`, or use one of: {}", expected.join(", ")),
            },
        ),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            ProblemKind::UnknownVariant,
            format!(
                "unknown `{variant}`; expected one of: {}",
                expected.join(", ")
            ),
            match closest(variant, expected.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("write one of: {}", expected.join(", ")),
            },
        ),
        E::SerdeMissingField { field, .. } => (
            ProblemKind::MissingField,
            format!("missing field `{field}`"),
            format!("add `{field}: ...` here"),
        ),
        E::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().unwrap_or("?");
            (
                ProblemKind::DuplicateKey,
                format!("`{key}` appears twice in this mapping"),
                format!("keep one `{key}:` and delete the other"),
            )
        }
        E::InvalidBooleanStrict { .. } => (
            ProblemKind::WrongType,
            "expected `true` or `false`".to_string(),
            "write `true` or `false` (YAML 1.1 spellings such as yes/no/on/off are not accepted)"
                .to_string(),
        ),
        E::InvalidScalar { ty, .. } => (
            ProblemKind::WrongType,
            format!("expected a {ty}"),
            if *ty == "bool" {
                "write `true` or `false`".to_string()
            } else {
                format!("write a {ty} here")
            },
        ),
        E::NullIntoString { .. } => (
            ProblemKind::WrongType,
            "expected a string, found nothing".to_string(),
            "write a value after the colon, or delete the key".to_string(),
        ),
        E::Unexpected { expected, .. } => {
            let (what, hint) = shape_hint(expected);
            (ProblemKind::WrongType, format!("expected {what}"), hint)
        }
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => (
            ProblemKind::WrongType,
            format!("expected {expected}, found {unexpected}"),
            format!("write {expected} here"),
        ),
        E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => (
            ProblemKind::WrongType,
            format!("invalid value {unexpected}: expected {expected}"),
            format!("write {expected} here"),
        ),
        E::MultipleDocuments { .. } => (
            ProblemKind::Syntax,
            "the rules file has more than one YAML document".to_string(),
            "keep everything in one document: remove the `---` separators and merge the lists"
                .to_string(),
        ),
        other => (
            ProblemKind::Syntax,
            format!(
                "invalid YAML: {}",
                DefaultMessageFormatter.format_message(other)
            ),
            "check the indentation, quoting and `key: value` spacing around here".to_string(),
        ),
    };
    Problem {
        kind,
        origin: origin.to_string(),
        position,
        message,
        hint,
    }
}

/// serde-saphyr's `expected ...` phrase for a shape mismatch, as (what, hint).
fn shape_hint(expected: &str) -> (String, String) {
    if expected.contains("sequence") {
        (
            "a list".to_string(),
            "write a list: `[a, b]`, or one `- item` per line (a single item is `[a]`)".to_string(),
        )
    } else if expected.contains("mapping") {
        (
            "a mapping".to_string(),
            "write `key: value` pairs, indented under this key, or `{key: value}`".to_string(),
        )
    } else if expected.contains("string") || expected.contains("scalar") {
        (
            "a single value".to_string(),
            "write one value here, quoted if it contains `: ` or starts with `*`, `&`, `[` or `{`"
                .to_string(),
        )
    } else {
        (expected.to_string(), format!("write {expected} here"))
    }
}

/// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
/// Case, `_` and `-` differences count as nothing: `api_version` means `apiVersion`.
pub(super) fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let folded = fold(word);
    let limit = word.chars().count().div_ceil(3).max(2);
    candidates
        .filter(|c| *c != word)
        .map(|c| (levenshtein(&folded, &fold(c)), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_and_ignores_case_and_separators() {
        let fields = ["server", "secret", "email", "credentials", "create"];
        assert_eq!(closest("sever", fields.into_iter()), Some("server"));
        assert_eq!(
            closest("credential", fields.into_iter()),
            Some("credentials")
        );
        assert_eq!(
            closest("api_version", ["apiVersion", "kind"].into_iter()),
            Some("apiVersion")
        );
        assert_eq!(closest("mode", fields.into_iter()), None);
    }

    #[test]
    fn levenshtein_basics() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }
}
