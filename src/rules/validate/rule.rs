//! `rules:`: each rule, its target, its secrets, and unique names.

use super::*;

impl Validator<'_> {
    /// A field naming one value of an enum (`mode`, `format`, `itemShape`): absent is
    /// `default`; an unknown name is reported with what to write, and `default` stands in so
    /// the rest of the file is still checked.
    fn named<T: serde::de::DeserializeOwned>(
        &mut self,
        value: Option<&Spanned<String>>,
        default: T,
        field: &str,
        hint: &str,
    ) -> T {
        let Some(value) = value else { return default };
        from_name(&value.value).unwrap_or_else(|| {
            self.report(
                ProblemKind::InvalidValue,
                pos(&value.referenced),
                format!("unknown {field} `{}`", value.value),
                hint,
            );
            default
        })
    }

    pub(super) fn rule(&mut self, index: usize, entry: Spanned<RawRule>, defined: &[&str]) -> Rule {
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
        let mode = self.named(
            mode.as_ref(),
            Mode::PodSpec,
            "mode",
            "write `mode: podSpec` (the default) or `mode: serviceAccount`",
        );
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

    pub(super) fn target(&mut self, raw: Spanned<RawTarget>) -> Option<Target> {
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
                self.named(
                    Some(&f),
                    Syntax::Yaml,
                    "format",
                    "write `format: yaml` or `format: json`",
                )
            }
        };
        let item_shape = self.named(
            item_shape.as_ref(),
            ItemShape::NameRef,
            "itemShape",
            "write `itemShape: nameRef` for `[{name: x}]` (the default) or `itemShape: string` \
             for `[x]`",
        );
        Some(Target {
            field,
            format,
            path,
            item_shape,
        })
    }

    pub(super) fn unique_rule_names(
        &mut self,
        rules: &[Rule],
        name_positions: &[Option<Position>],
    ) {
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

    pub(super) fn rule_secrets(
        &mut self,
        list: List,
        label: &str,
        defined: &[&str],
    ) -> Vec<String> {
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
}
