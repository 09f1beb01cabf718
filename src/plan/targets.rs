//! Rules with a `target`: a list in a field of the resource, or inside a config the resource
//! holds as a string (see `edit::embedded`).

use super::*;

/// One list a resource's target rules add to: the target, the names, the rules that asked.
pub(super) type TargetGroup<'r> = (&'r Target, Vec<String>, Vec<&'r Rule>);

impl Planner<'_, '_> {
    /// Rules with a `target`: a field of the resource, or a list inside an embedded config.
    pub(super) fn target_rules(&mut self, r: &Resource, images: &[ImageRef], rules: &[&Rule]) {
        // Several rules may target the same list: one edit per (field, path).
        let mut groups: Vec<TargetGroup> = Vec::new();
        for rule in rules {
            let Some(target) = &rule.target else { continue };
            let secrets = self.secrets_of(r, rule, images);
            if secrets.is_empty() {
                continue;
            }
            // A hook resource (a hook custom resource, a ConfigMap a hook pod reads) is there
            // in the hook phases only, as hook pods are: it gets their hook Secret.
            let secrets = self.hook_secret_names(r, secrets);
            match groups
                .iter_mut()
                .find(|(t, _, _)| t.field == target.field && t.path == target.path)
            {
                Some((_, names, rs)) => {
                    append_missing(names, secrets);
                    rs.push(rule);
                }
                None => groups.push((target, secrets, vec![rule])),
            }
        }
        let mut by_field: Vec<(Option<&FieldPath>, Vec<TargetGroup>)> = Vec::new();
        for group in groups {
            match by_field
                .iter_mut()
                .find(|(f, _)| *f == group.0.field.as_ref())
            {
                Some((_, gs)) => gs.push(group),
                None => by_field.push((group.0.field.as_ref(), vec![group])),
            }
        }
        for (field, groups) in by_field {
            match field {
                None => {
                    for (target, names, rules) in groups {
                        self.direct_target(r, target, names, &rules);
                    }
                }
                Some(field) => self.embedded_target(r, field, groups),
            }
        }
    }

    pub(super) fn direct_target(
        &mut self,
        r: &Resource,
        target: &Target,
        wanted: Vec<String>,
        rules: &[&Rule],
    ) {
        let path = format!("{}{}", r.prefix, target.path);
        let (stream_text, newline) = (self.stream.text, self.stream.newline);
        let additions = match add_to_list(stream_text, newline, r.node, target, wanted, r.syntax) {
            Ok(additions) => additions,
            Err(e) => return self.edit_problem(&r.at, &path, e),
        };
        self.add_edits(additions.edits);
        let (added, present) = (additions.added, additions.present);
        let mut namespaces = Vec::new();
        for rule in rules {
            append_missing(&mut namespaces, self.secret_namespaces(rule, r));
        }
        self.record(r, path, added, present, &namespaces);
    }

    pub(super) fn embedded_target(
        &mut self,
        r: &Resource,
        field: &FieldPath,
        groups: Vec<TargetGroup>,
    ) {
        let field_path = format!("{}{field}", r.prefix);
        let Some(field_node) = field.resolve(r.node) else {
            self.warn(
                Some(&r.at),
                format!("no `{field_path}` to hold the config; left as it is"),
            );
            return;
        };
        let format = groups[0].0.format;
        let syntax = format;
        let mut changes = Vec::new();
        let mut namespaces = Vec::new();
        let mut inner_problem = None;
        let result = embedded::edit_embedded(
            self.stream.text,
            self.stream.newline,
            field_node,
            format,
            |inner, root| {
                let mut edits = Vec::new();
                for (target, wanted, rules) in &groups {
                    let additions = add_to_list(inner, "\n", root, target, wanted.clone(), syntax)?;
                    edits.extend(additions.edits);
                    let (added, present) = (additions.added, additions.present);
                    for rule in rules {
                        if let SecretNamespaces::FromPath(p) = &rule.secret_namespaces {
                            match p.resolve(root).and_then(Node::as_str) {
                                Some(ns) => append_missing(&mut namespaces, [ns.to_string()]),
                                None => {
                                    inner_problem =
                                        Some(format!("`{p}` names no string in the config"))
                                }
                            }
                        }
                    }
                    changes.push((format!("{field_path} {}", target.path), added, present));
                }
                edits.sort_by_key(|e| e.range.start);
                Ok(edits)
            },
        );
        let embedded = match result {
            Ok(e) => e,
            Err(EmbeddedProblem::Edit(e)) => return self.edit_problem(&r.at, &field_path, e),
            Err(EmbeddedProblem::NotAString { found, line }) => {
                return self.problem(
                    &r.at,
                    line,
                    ProblemKind::NotAScalar {
                        path: field_path,
                        found,
                    },
                );
            }
            Err(EmbeddedProblem::Invalid { message, line }) => {
                let format = format.display_name();
                return self.problem(
                    &r.at,
                    line,
                    ProblemKind::Embedded {
                        path: field_path,
                        format,
                        message,
                    },
                );
            }
        };
        if let Some(message) = inner_problem {
            self.warn(Some(&r.at), format!("secretNamespaces: {message}"));
        }
        for (_, _, rules) in &groups {
            for rule in rules {
                append_missing(&mut namespaces, self.secret_namespaces(rule, r));
            }
        }
        for (path, added, present) in changes {
            self.record(r, path, added, present, &namespaces);
        }
        if let Some(embedded) = embedded {
            self.add_edits(embedded.outer);
            let rollout = groups
                .iter()
                .any(|(_, _, rules)| rules.iter().any(|rule| rule.rollout));
            if rollout && r.kind == "ConfigMap" {
                self.changed_configs.push((
                    self.effective_namespace(r.namespace),
                    r.name.to_string(),
                    field.to_string(),
                    sha256_hex(&embedded.new_inner),
                ));
            }
        }
    }

    /// A target list the rules selected: what it got, and the Secrets it now needs.
    pub(super) fn record(
        &mut self,
        r: &Resource,
        path: String,
        added: Vec<String>,
        present: Vec<String>,
        namespaces: &[String],
    ) {
        let all: Vec<String> = added.iter().chain(&present).cloned().collect();
        self.need(&all, r, namespaces);
        self.change(Change {
            at: r.at.clone(),
            namespace: r.namespace.map(str::to_string),
            path,
            added,
            present,
            inherited: Vec::new(),
        });
    }
}

/// What one target list gets: the edits that add the wanted names it lacks.
pub(super) struct Additions {
    pub(super) edits: Vec<Edit>,
    /// Wanted names the list already held.
    pub(super) present: Vec<String>,
    /// Wanted names it lacked, which the edits add.
    pub(super) added: Vec<String>,
}

/// Add the `wanted` names the list at `target.path` of `root` lacks (the list and its parents
/// are created when missing), in `text` written in `syntax`.
pub(super) fn add_to_list(
    text: &str,
    newline: &str,
    root: &Node,
    target: &Target,
    wanted: Vec<String>,
    syntax: Syntax,
) -> Result<Additions, EditProblem> {
    let (parents, key) = target
        .path
        .parent_and_key()
        .expect("validated: path ends in a key");
    let existing = match FieldPath::resolve_steps(root, parents) {
        Some(parent) => edit::existing_names(parent, key, target.item_shape)?,
        None => Vec::new(),
    };
    let (present, added): (Vec<String>, Vec<String>) =
        wanted.into_iter().partition(|n| existing.contains(n));
    let names: Vec<&str> = added.iter().map(String::as_str).collect();
    let edits = if names.is_empty() {
        Vec::new()
    } else {
        let leaf = Leaf::List {
            names: &names,
            shape: target.item_shape,
        };
        edit::edit_at(text, newline, root, parents, key, leaf, syntax)?
    };
    Ok(Additions {
        edits,
        present,
        added,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::plan;

    #[test]
    fn a_target_list_gets_the_names_it_lacks_once() {
        let rule = "rules:\n  - name: cr\n    match: {kinds: [Prometheus]}\n    target: {path: \"$.spec.imagePullSecrets\"}\n";
        let cr = |spec: &str| {
            format!(
                "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {{name: p}}\nspec:\n  image: r.example.com/prom\n{spec}"
            )
        };
        // (spec extra, added, present)
        let cases: [(&str, &[&str], &[&str]); 2] = [
            ("", &["pull"], &[]),
            ("  imagePullSecrets: [{name: pull}]\n", &[], &["pull"]),
        ];
        for (spec, added, present) in cases {
            let plan = plan(rule, &cr(spec));
            assert_eq!(plan.changes[0].path, "$.spec.imagePullSecrets");
            assert_eq!(plan.changes[0].added, added, "{spec}");
            assert_eq!(plan.changes[0].present, present, "{spec}");
            assert_eq!(plan.edits.is_empty(), added.is_empty(), "{spec}");
        }
    }

    #[test]
    fn an_embedded_config_is_edited_in_its_own_syntax() {
        let rule = |format: &str| {
            format!(
                "rules:\n  - name: cm\n    match: {{kinds: [ConfigMap]}}\n    secrets: [pull]\n    target: {{field: \"$.data['c']\", format: {format}, path: \"$.pull\", itemShape: string}}\n"
            )
        };
        let map = |value: &str| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: m}}\ndata:\n  c: '{value}'\n"
            )
        };
        // (format, config, what the new value holds)
        let cases = [
            ("json", "{\"pull\": []}", "[\"pull\"]"),
            ("yaml", "pull: []", "[pull]"),
        ];
        for (format, config, want) in cases {
            let plan = plan(&rule(format), &map(config));
            assert_eq!(plan.changes[0].added, ["pull"], "{format}");
            assert!(
                plan.edits.iter().any(|e| e.text.contains(want)),
                "{format}: {:?}",
                plan.edits
            );
        }
    }

    #[test]
    fn a_target_on_a_hook_resource_gets_the_hook_secret() {
        use crate::registry::secret::HookSecret;
        let rules = "rules:\n  - name: cr\n    match: {kinds: [Prometheus]}\n    target: {path: \"$.spec.imagePullSecrets\"}\n  - name: cm\n    match: {kinds: [ConfigMap]}\n    secrets: [pull]\n    target: {field: \"$.data['c']\", format: yaml, path: \"$.pull\", itemShape: string}\n";
        let annotations = |hook: Option<&str>| match hook {
            Some(events) => format!(
                "  annotations:\n    helm.sh/hook: {events}\n    helm.sh/hook-weight: \"2\"\n"
            ),
            None => String::new(),
        };
        let cr = |hook| {
            format!(
                "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata:\n  name: p\n{}spec:\n  image: r.example.com/prom\n",
                annotations(hook)
            )
        };
        let map = |hook| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n{}data:\n  c: 'pull: []'\n",
                annotations(hook)
            )
        };
        let hook = |events: &[&str]| {
            Some(HookSecret {
                events: events.iter().map(|e| e.to_string()).collect(),
                weight: 1,
            })
        };
        type Emitted = Vec<(&'static str, Option<HookSecret>)>;
        // (input, what its list got, the Secrets emitted)
        let cases: [(String, &str, Emitted); 5] = [
            (cr(None), "pull", vec![("pull", None)]),
            (
                cr(Some("post-install,post-upgrade")),
                "pull-hook",
                vec![("pull-hook", hook(&["post-install", "post-upgrade"]))],
            ),
            (map(None), "pull", vec![("pull", None)]),
            (
                map(Some("pre-install")),
                "pull-hook",
                vec![("pull-hook", hook(&["pre-install"]))],
            ),
            // Not an event Helm runs: a release resource.
            (cr(Some("crd-install")), "pull", vec![("pull", None)]),
        ];
        for (input, want, secrets) in cases {
            let plan = plan(rules, &input);
            assert_eq!(plan.changes.len(), 1, "{input}");
            assert_eq!(plan.changes[0].added, [want], "{input}");
            let got: Vec<(&str, Option<HookSecret>)> = plan
                .secrets
                .iter()
                .map(|s| (s.name.as_str(), s.hook.clone()))
                .collect();
            assert_eq!(got, secrets, "{input}");
            let out = crate::edit::apply(&input, &plan.edits);
            assert!(out.contains(want), "{out}");
        }
    }
}
