//! From the raw rules file to the model, collecting every problem on the way.
//!
//! Each check reports and carries on with a best-effort value, so that a bad secret name in one
//! registry does not hide a bad glob in a rule. The model built alongside is thrown away if
//! anything was reported.

use serde_saphyr::{Location, Spanned};

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

const CREDENTIALS_EXAMPLE: &str = "credentials: {env: {username: VAR, password: VAR}}";

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

/// A registry with where its entry starts, for cross-entry messages.
struct Entry {
    registry: Registry,
    at: Option<Position>,
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

    /// `None` when the entry lacks a server or secret: it cannot take part in later checks.
    fn registry(&mut self, entry: Spanned<RawRegistry>) -> Option<Entry> {
        let at = pos(&entry.referenced);
        let RawRegistry {
            server,
            secret,
            email,
            credentials,
            create,
        } = entry.value;

        let server = match server {
            None => {
                self.report(
                    ProblemKind::MissingField,
                    at,
                    "registry entry has no `server`",
                    "add `server: <registry host>` as written in image references, e.g. \
                     `server: harbor.example.com` (`docker.io` for Docker Hub)",
                );
                None
            }
            Some(s) => Some(self.server(s)),
        };
        let host = server.as_ref().map(|s| normalize_registry_host(s));

        let secret = match secret {
            None => {
                let example = host
                    .as_deref()
                    .map_or_else(|| "regcred".to_string(), secret_name_for_host);
                self.report(
                    ProblemKind::MissingField,
                    at,
                    "registry entry has no `secret`",
                    format!("add the pull Secret's name, e.g. `secret: {example}`"),
                );
                None
            }
            Some(s) => {
                self.secret_name(&s);
                Some(s.value)
            }
        };

        let explicit_create = create.as_ref().map(|c| c.value);
        let create = explicit_create.unwrap_or(true);
        if create && credentials.is_none() {
            let what = match (&server, &secret) {
                (Some(server), Some(secret)) => {
                    format!("registry `{server}` creates Secret `{secret}`")
                }
                (Some(server), None) => format!("registry `{server}` creates its Secret"),
                _ => "this registry creates its Secret".to_string(),
            };
            let default = if explicit_create.is_none() {
                " (`create` defaults to true)"
            } else {
                ""
            };
            self.report(
                ProblemKind::MissingCredentials,
                at,
                format!("{what} but has no `credentials`{default}"),
                format!(
                    "add `{CREDENTIALS_EXAMPLE}` naming the environment variables, or \
                     `create: false` if the Secret already exists in the cluster"
                ),
            );
        }

        Some(Entry {
            registry: Registry {
                server: server?,
                host: host?,
                secret: secret?,
                email: email.map(|e| e.value),
                credentials: credentials.map(|c| c.value),
                create,
            },
            at,
        })
    }

    fn server(&mut self, server: Spanned<String>) -> String {
        let at = pos(&server.referenced);
        let example = "write the registry host as in image references, e.g. \
                       `server: harbor.example.com` (`docker.io` for Docker Hub)";
        if server.value.trim().is_empty() {
            self.report(ProblemKind::EmptyServer, at, "`server` is empty", example);
        } else if server.value.chars().any(char::is_whitespace) {
            self.report(
                ProblemKind::InvalidServer,
                at,
                format!("`server` {:?} contains whitespace", server.value),
                example,
            );
        } else if normalize_registry_host(&server.value).is_empty() {
            self.report(
                ProblemKind::EmptyServer,
                at,
                format!("`server` `{}` has no host", server.value),
                example,
            );
        }
        server.value
    }

    fn secret_name(&mut self, secret: &Spanned<String>) {
        let name = &secret.value;
        // A template is checked for syntax now and as a name once rendered, per resource.
        if crate::rules::template::is_template(name) {
            if let Err(e) = crate::rules::template::check_syntax(name) {
                self.report(
                    ProblemKind::InvalidTemplate,
                    pos(&secret.referenced),
                    format!("secret name template `{name}` does not parse: {e}"),
                    "write a minijinja template such as `secret: \
                     coding-registry-cred-{{ vars.user_id }}`",
                );
            }
            return;
        }
        if name.len() <= 253 && is_dns1123_subdomain(name) {
            return;
        }
        let message = if name.len() > 253 {
            format!(
                "secret name is {} characters long; Kubernetes allows at most 253",
                name.len()
            )
        } else {
            format!(
                "secret name `{name}` is not a valid Kubernetes Secret name: use lowercase \
                 letters, digits, `-` and `.`, starting and ending with a letter or digit"
            )
        };
        self.report(
            ProblemKind::InvalidSecretName,
            pos(&secret.referenced),
            message,
            format!("write `secret: {}`", sanitize_secret_name(name)),
        );
    }

    fn registry_conflicts(&mut self, entries: &[Entry]) {
        for (i, entry) in entries.iter().enumerate() {
            let r = &entry.registry;
            let earlier = &entries[..i];
            if let Some(first) = earlier
                .iter()
                .find(|e| e.registry.host == r.host && e.registry.secret == r.secret)
            {
                self.report(
                    ProblemKind::DuplicateRegistry,
                    entry.at,
                    format!(
                        "registry `{}` with secret `{}` is already listed{}",
                        r.server,
                        r.secret,
                        line_ref(first.at)
                    ),
                    "delete this entry, or give it a different `secret:`",
                );
                continue;
            }
            // One Secret object serves all entries naming it; it cannot both be emitted and
            // be assumed to exist.
            if let Some(first) = earlier
                .iter()
                .find(|e| e.registry.secret == r.secret && e.registry.create != r.create)
            {
                self.report(
                    ProblemKind::ConflictingCreate,
                    entry.at,
                    format!(
                        "registries sharing Secret `{}` disagree on `create`: the entry{} has \
                         `create: {}`, this one `create: {}`",
                        r.secret,
                        line_ref(first.at),
                        first.registry.create,
                        r.create
                    ),
                    format!(
                        "use the same `create:` on every registry with `secret: {}`",
                        r.secret
                    ),
                );
            }
        }
    }

    fn rule(&mut self, index: usize, entry: Spanned<RawRule>, defined: &[&str]) -> Rule {
        let at = pos(&entry.referenced);
        let RawRule {
            name,
            selector,
            exclude,
            secrets,
            target,
            mode,
            image_pull_policy,
            secret_namespaces,
            rollout,
            create_service_accounts,
        } = entry.value;

        let name = match name {
            Some(n) if !n.value.trim().is_empty() => n.value,
            other => {
                let (where_, message) = match &other {
                    Some(n) => (pos(&n.referenced), "rule `name` is empty"),
                    None => (at, "rule has no `name`"),
                };
                self.report(
                    ProblemKind::MissingRuleName,
                    where_,
                    message,
                    format!(
                        "add a unique name, e.g. `name: rule-{}`; it is how messages refer \
                         to the rule",
                        index + 1
                    ),
                );
                String::new()
            }
        };
        let label = if name.is_empty() {
            "this rule".to_string()
        } else {
            format!("rule `{name}`")
        };

        let selector = match selector {
            Some(s) => self.selector(s.value, "match"),
            None => Selector::default(),
        };
        let exclude = exclude.map(|e| {
            // Judged on what was written: a field whose patterns were all invalid compiles to
            // nothing, but that is already reported.
            if e.value.is_empty() {
                self.report(
                    ProblemKind::EmptyExclude,
                    pos(&e.referenced),
                    format!(
                        "`exclude` has no fields, so it excludes everything and {label} never \
                         applies"
                    ),
                    "delete `exclude`, or say what to leave out, e.g. \
                     `exclude: {names: [\"*-test\"]}`",
                );
            }
            self.selector(e.value, "exclude")
        });
        let secrets = secrets.map(|list| self.rule_secrets(list, &label, defined));
        let target = target.and_then(|t| self.target(t));
        let mode = match mode {
            None => Mode::PodSpec,
            Some(m) => match from_name(&m.value) {
                Some(mode) => mode,
                None => {
                    let other = &m.value;
                    self.report(
                        ProblemKind::InvalidValue,
                        pos(&m.referenced),
                        format!("unknown mode `{other}`"),
                        "write `mode: podSpec` (the default) or `mode: serviceAccount`",
                    );
                    Mode::PodSpec
                }
            },
        };
        if mode == Mode::ServiceAccount && target.is_some() {
            self.report(
                ProblemKind::InvalidValue,
                at,
                format!("{label} has both `target` and `mode: serviceAccount`"),
                "a ServiceAccount rule edits the pod's ServiceAccount; drop `target` or `mode`",
            );
        }
        let image_pull_policy = image_pull_policy.and_then(|p| {
            if let Some(policy) = from_name::<ImagePullPolicy>(&p.value) {
                Some(policy)
            } else {
                self.report(
                    ProblemKind::InvalidValue,
                    pos(&p.referenced),
                    format!(
                        "`imagePullPolicy: {}` is not a Kubernetes pull policy",
                        p.value
                    ),
                    "write Always, IfNotPresent or Never",
                );
                None
            }
        });
        let secret_namespaces = match secret_namespaces.map(|s| s.value) {
            None => SecretNamespaces::None,
            Some(RawSecretNamespaces::List(list)) => {
                let mut names = Vec::new();
                for ns in list {
                    if ns.value.contains("{{") || is_dns1123_label(&ns.value) {
                        names.push(ns.value);
                    } else {
                        self.report(
                            ProblemKind::InvalidValue,
                            pos(&ns.referenced),
                            format!("`{}` is not a valid namespace name", ns.value),
                            "namespaces are DNS-1123 labels: lowercase letters, digits and '-',                              at most 63 characters",
                        );
                    }
                }
                SecretNamespaces::List(names)
            }
            Some(RawSecretNamespaces::FromPath(p)) => match FieldPath::parse(&p.from_path.value) {
                Ok(path) => SecretNamespaces::FromPath(path),
                Err(why) => {
                    self.report(
                        ProblemKind::InvalidValue,
                        pos(&p.from_path.referenced),
                        format!("`fromPath: {}`: {why}", p.from_path.value),
                        "write a path to one string, e.g. `fromPath: \"$.CONNECTORS.KubernetesConnector.namespace\"`",
                    );
                    SecretNamespaces::None
                }
            },
        };

        Rule {
            name,
            selector,
            exclude,
            secrets,
            target,
            mode,
            image_pull_policy,
            secret_namespaces,
            rollout: rollout.is_none_or(|r| r.value),
            create_service_accounts: create_service_accounts.is_some_and(|c| c.value),
        }
    }

    fn target(&mut self, raw: Spanned<RawTarget>) -> Option<Target> {
        let at = pos(&raw.referenced);
        let RawTarget {
            field,
            format,
            path,
            item_shape,
        } = raw.value;
        let parse = |v: &mut Self, written: &Spanned<String>, what: &str| match FieldPath::parse(
            &written.value,
        ) {
            Ok(p) => Some(p),
            Err(why) => {
                v.report(
                    ProblemKind::InvalidValue,
                    pos(&written.referenced),
                    format!("`{what}: {}`: {why}", written.value),
                    "JSONPath names one place, e.g. `$.spec.imagePullSecrets` or \
                         `$.data['application.yaml']`",
                );
                None
            }
        };
        let field = match &field {
            Some(f) => Some(parse(self, f, "field")?),
            None => None,
        };
        let Some(path_written) = path else {
            self.report(
                ProblemKind::MissingField,
                at,
                "`target` has no `path`",
                "say where the list lives, e.g. `path: \"$.spec.imagePullSecrets\"`",
            );
            return None;
        };
        let path = parse(self, &path_written, "path")?;
        if path.parent_and_key().is_none() {
            self.report(
                ProblemKind::InvalidValue,
                pos(&path_written.referenced),
                format!("`path: {path}` must end in the name of the list's key"),
                "e.g. `$.spec.imagePullSecrets`",
            );
            return None;
        }
        let format = match format {
            None => Syntax::Yaml,
            Some(f) => {
                if field.is_none() {
                    self.report(
                        ProblemKind::InvalidValue,
                        pos(&f.referenced),
                        "`format` only applies to an embedded config (`field`)",
                        "add `field:` naming the string that holds the config, or drop `format`",
                    );
                }
                match from_name(&f.value) {
                    Some(format) => format,
                    None => {
                        let other = &f.value;
                        self.report(
                            ProblemKind::InvalidValue,
                            pos(&f.referenced),
                            format!("unknown format `{other}`"),
                            "write `format: yaml` or `format: json`",
                        );
                        Syntax::Yaml
                    }
                }
            }
        };
        let item_shape = match item_shape {
            None => ItemShape::NameRef,
            Some(s) => match from_name(&s.value) {
                Some(shape) => shape,
                None => {
                    let other = &s.value;
                    self.report(
                        ProblemKind::InvalidValue,
                        pos(&s.referenced),
                        format!("unknown itemShape `{other}`"),
                        "write `itemShape: nameRef` for `[{name: x}]` (the default) or `itemShape: string` \
                         for `[x]`",
                    );
                    ItemShape::NameRef
                }
            },
        };
        Some(Target {
            field,
            format,
            path,
            item_shape,
        })
    }

    fn unique_rule_names(&mut self, rules: &[Rule], name_positions: &[Option<Position>]) {
        for (i, rule) in rules.iter().enumerate() {
            let name = rule.name.as_str();
            if name.is_empty() {
                continue;
            }
            let Some(first) = rules[..i].iter().position(|r| r.name == name) else {
                continue;
            };
            let free = (2..)
                .map(|n| format!("{name}-{n}"))
                .find(|candidate| !rules.iter().any(|r| &r.name == candidate))
                .unwrap_or_default();
            self.report(
                ProblemKind::DuplicateRuleName,
                name_positions[i],
                format!(
                    "rule name `{name}` is already used{}",
                    line_ref(name_positions[first])
                ),
                format!("give each rule its own name, e.g. `name: {free}`"),
            );
        }
    }

    fn rule_secrets(&mut self, list: List, label: &str, defined: &[&str]) -> Vec<String> {
        if list.value.is_empty() {
            self.report(
                ProblemKind::EmptyList,
                pos(&list.referenced),
                format!("`secrets: []` gives {label} no secrets"),
                "delete `secrets` to use the secret of each listed registry the pod pulls \
                 from, or name the secrets to inject",
            );
        }
        for secret in &list.value {
            let name = secret.value.as_str();
            if defined.contains(&name) {
                continue;
            }
            let hint = if defined.is_empty() {
                format!("add a registry with `secret: {name}`")
            } else {
                let all = defined
                    .iter()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                match closest(name, defined.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`? Defined secrets: {all}"),
                    None => format!(
                        "use a defined secret ({all}), or add a registry with `secret: {name}`"
                    ),
                }
            };
            self.report(
                ProblemKind::UnknownSecret,
                pos(&secret.referenced),
                format!("{label} names secret `{name}`, which no registry defines"),
                hint,
            );
        }
        list.value.into_iter().map(|s| s.value).collect()
    }

    fn selector(&mut self, raw: RawSelector, block: &str) -> Selector {
        let RawSelector {
            kinds,
            names,
            namespaces,
            labels,
            images,
            sources,
        } = raw;
        let mut selector = Selector::default();
        if let Some(kinds) = kinds
            && self.non_empty(&kinds, block, "kinds", "any kind")
        {
            for kind in &kinds.value {
                if let Err((message, hint)) = check_kind(&kind.value) {
                    self.report(
                        ProblemKind::InvalidKind,
                        pos(&kind.referenced),
                        message,
                        hint,
                    );
                }
            }
            selector = selector.with_kinds(kinds.value.into_iter().map(|k| k.value));
        }
        if let Some(set) = self.patterns(names, block, "names", "any name") {
            selector = selector.with_names(set);
        }
        if let Some(set) = self.patterns(namespaces, block, "namespaces", "any namespace") {
            selector = selector.with_namespaces(set);
        }
        for (key, value) in labels.map(|l| l.value.0).unwrap_or_default() {
            if crate::rules::template::is_template(&value.value) {
                // Rendered once per run (vars, --set, env, release), before matching.
                match crate::rules::template::check_syntax(&value.value) {
                    Ok(()) => selector = selector.with_label_template(key.value, value.value),
                    Err(e) => self.report(
                        ProblemKind::InvalidPattern,
                        pos(&value.referenced),
                        format!("in `{block}.labels.{}`: {e}", key.value),
                        "write a minijinja expression such as `{{ vars.team }}`",
                    ),
                }
                continue;
            }
            match Pattern::new(&value.value) {
                Ok(pattern) => selector = selector.with_label(key.value, pattern),
                Err(e) => self.report(
                    ProblemKind::InvalidPattern,
                    pos(&value.referenced),
                    format!("in `{block}.labels.{}`: {e}", key.value),
                    e.hint(),
                ),
            }
        }
        if let Some(set) = self.patterns(images, block, "images", "any image") {
            selector = selector.with_images(set);
        }
        if let Some(set) = self.patterns(sources, block, "sources", "any source file") {
            selector = selector.with_sources(set);
        }
        selector
    }

    /// Reports `field: []`, which would make the selector match nothing.
    fn non_empty(&mut self, list: &List, block: &str, field: &str, any: &str) -> bool {
        if !list.value.is_empty() {
            return true;
        }
        self.report(
            ProblemKind::EmptyList,
            pos(&list.referenced),
            format!("`{block}.{field}: []` matches nothing"),
            format!("delete `{field}` to match {any}, or list at least one entry"),
        );
        false
    }

    fn patterns(
        &mut self,
        list: Option<List>,
        block: &str,
        field: &str,
        any: &str,
    ) -> Option<PatternSet> {
        let list = list?;
        if !self.non_empty(&list, block, field, any) {
            return None;
        }
        let mut patterns = Vec::new();
        for text in &list.value {
            match Pattern::new(&text.value) {
                Ok(p) => patterns.push(p),
                Err(e) => self.report(
                    ProblemKind::InvalidPattern,
                    pos(&text.referenced),
                    format!("in `{block}.{field}`: {e}"),
                    e.hint(),
                ),
            }
        }
        Some(PatternSet::new(patterns))
    }
}

fn dedup<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// `Err((message, hint))` for a `kinds:` entry that cannot be meant as written.
fn check_kind(kind: &str) -> Result<(), (String, String)> {
    let known = POD_SPEC_PATHS
        .iter()
        .map(|p| p.kind)
        .find(|k| k.eq_ignore_ascii_case(kind));
    if is_kind_name(kind) {
        // `Statefulset` looks like a kind, but would silently never match.
        return match known {
            Some(k) if k != kind => Err((
                format!("kind `{kind}` never matches: kinds are case-sensitive"),
                format!("write `{k}`"),
            )),
            _ => Ok(()),
        };
    }
    if kind.contains(['*', '?', '[', '{']) {
        return Err((
            format!("`{kind}` is not a kind: `kinds` are exact names, not globs"),
            "list each kind, e.g. `kinds: [Deployment, StatefulSet]`, or delete `kinds` to \
             match any kind"
                .to_string(),
        ));
    }
    let message = format!(
        "`{kind}` is not a Kubernetes kind name (CamelCase letters and digits, as in a \
         manifest's `kind:`)"
    );
    let suggestion = known.map(str::to_string).or_else(|| camel_case(kind));
    let hint = match suggestion {
        Some(s) => format!("write `{s}`"),
        None => "write the kind as in the manifest's `kind:` field, e.g. `Deployment`".to_string(),
    };
    Err((message, hint))
}

/// `stateful-set` -> `StatefulSet`; `None` if that still is not a kind name.
fn camel_case(text: &str) -> Option<String> {
    let out: String = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect();
    is_kind_name(&out).then_some(out)
}

/// The nearest valid DNS-1123 subdomain, for hints: lowercased, other characters as `-`,
/// each `.`-label trimmed to start and end alphanumeric.
pub(super) fn sanitize_secret_name(name: &str) -> String {
    let mapped: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let labels: Vec<String> = mapped
        .split('.')
        .map(|label| {
            let mut collapsed = String::new();
            for c in label.chars() {
                if !(c == '-' && collapsed.ends_with('-')) {
                    collapsed.push(c);
                }
            }
            collapsed.trim_matches('-').to_string()
        })
        .filter(|label| !label.is_empty())
        .collect();
    let mut out = labels.join(".");
    if out.len() > 253 {
        out.truncate(253);
        out = out.trim_end_matches(['-', '.']).to_string();
    }
    if out.is_empty() {
        "regcred".to_string()
    } else {
        out
    }
}

/// A Secret name to suggest for a registry host: `harbor.example.com:5000` ->
/// `harbor-example-com-5000`.
fn secret_name_for_host(host: &str) -> String {
    sanitize_secret_name(&host.replace(['.', ':'], "-"))
}
