//! From the raw rules file to the model, collecting every problem on the way.
//!
//! Each check reports and carries on with a best-effort value, so that a bad secret name in one
//! registry does not hide a bad glob in a rule. The model built alongside is thrown away if
//! anything was reported.

use serde_saphyr::{Location, Spanned};

mod registries;
mod rule;
mod selector;

#[cfg(test)]
pub(crate) use registries::sanitize_secret_name;
use registries::{CREDENTIALS_EXAMPLE, Entry};
use selector::dedup;

use super::problem::{Position, Problem, ProblemKind, closest};
use super::raw::{
    List, RawConfig, RawRegistry, RawRule, RawSecretNamespaces, RawSelector, RawTarget,
};
use super::{
    API_VERSION, Config, ImagePullPolicy, ItemShape, KIND, Mode, Registry, Rule, SecretNamespaces,
    Syntax, Target, from_name,
};
use crate::edit::fieldpath::FieldPath;
use crate::kinds::POD_SPEC_PATHS;
use crate::names::{is_dns1123_label, is_dns1123_subdomain};
use crate::registry::image::normalize_registry_host;
use crate::rules::selector::{Pattern, PatternSet, Selector, is_kind_name};

/// `raw` is `None` for a file without a document (empty, or only comments).
pub(super) fn validate(raw: Option<RawConfig>, origin: &str) -> Result<Config, Vec<Problem>> {
    let mut v = Validator {
        origin,
        problems: Vec::new(),
    };
    let config = v.config(raw);
    if v.problems.is_empty() {
        Ok(config)
    } else {
        // Cross-entry checks run after the per-entry ones; present everything in file order.
        v.problems.sort_by_key(|p| p.position);
        Err(v.problems)
    }
}

fn pos(location: &Location) -> Option<Position> {
    Position::of(*location)
}

/// " at line N" pointing at an earlier entry, when its line is known.
fn line_ref(at: Option<Position>) -> String {
    at.map(|p| format!(" at line {}", p.line))
        .unwrap_or_default()
}

struct Validator<'o> {
    origin: &'o str,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn report(
        &mut self,
        kind: ProblemKind,
        position: Option<Position>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.problems.push(Problem {
            kind,
            origin: self.origin.to_string(),
            position,
            message: message.into(),
            hint: hint.into(),
        });
    }

    fn config(&mut self, raw: Option<RawConfig>) -> Config {
        let mut config = Config {
            registries: Vec::new(),
            rules: Vec::new(),
            origin: self.origin.to_string(),
            vars: Default::default(),
        };
        let Some(RawConfig {
            api_version,
            kind,
            registries,
            rules,
            vars,
            metadata: _,
        }) = raw
        else {
            self.report(
                ProblemKind::Empty,
                Some(Position::START),
                "the rules file is empty",
                format!(
                    "start with `apiVersion: {API_VERSION}`, `kind: {KIND}` and a `registries:` \
                     list"
                ),
            );
            return config;
        };
        self.header(api_version, kind);
        config.vars = vars.map(|v| v.value).unwrap_or_default();

        let (registries_at, raw_registries) = match registries {
            Some(list) => (pos(&list.referenced), list.value),
            None => (Some(Position::START), Vec::new()),
        };
        if raw_registries.is_empty() {
            self.report(
                ProblemKind::NoRegistries,
                registries_at,
                "no registries are listed, so there is nothing to inject",
                format!(
                    "add an entry: `registries: [{{server: harbor.example.com, secret: \
                     harbor-pull, {CREDENTIALS_EXAMPLE}}}]`"
                ),
            );
        }
        let entries: Vec<Entry> = raw_registries
            .into_iter()
            .filter_map(|r| self.registry(r))
            .collect();
        self.registry_conflicts(&entries);
        config.registries = entries.into_iter().map(|e| e.registry).collect();

        let defined: Vec<&str> = dedup(config.registries.iter().map(|r| r.secret.as_str()));
        let mut name_positions = Vec::new();
        for (i, raw_rule) in rules
            .map(|r| r.value)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            name_positions.push(
                raw_rule
                    .value
                    .name
                    .as_ref()
                    .and_then(|n| pos(&n.referenced)),
            );
            config.rules.push(self.rule(i, raw_rule, &defined));
        }
        self.unique_rule_names(&config.rules, &name_positions);
        config
    }

    fn header(&mut self, api_version: Option<Spanned<String>>, kind: Option<Spanned<String>>) {
        match api_version {
            None => self.report(
                ProblemKind::MissingField,
                Some(Position::START),
                "missing `apiVersion`",
                format!("add `apiVersion: {API_VERSION}` as the first line"),
            ),
            Some(v) if v.value != API_VERSION => self.report(
                ProblemKind::ApiVersion,
                pos(&v.referenced),
                format!(
                    "unsupported apiVersion `{}`; this helm-regcred reads `{API_VERSION}`",
                    v.value
                ),
                format!("write `apiVersion: {API_VERSION}`"),
            ),
            Some(_) => {}
        }
        match kind {
            None => self.report(
                ProblemKind::MissingField,
                Some(Position::START),
                "missing `kind`",
                format!("add `kind: {KIND}` after `apiVersion`"),
            ),
            Some(k) if k.value != KIND => self.report(
                ProblemKind::Kind,
                pos(&k.referenced),
                format!(
                    "unsupported kind `{}`; a helm-regcred rules file has kind `{KIND}`",
                    k.value
                ),
                format!("write `kind: {KIND}`"),
            ),
            Some(_) => {}
        }
    }
}
