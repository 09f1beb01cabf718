//! The facts about each resource, read once: kind, name, namespace, labels, images, source
//! template and whether it is a Helm hook that runs before the release exists.

use super::*;

/// The facts about a resource the planner needs, read once.
pub(super) struct Resource<'n, 't> {
    pub(super) node: &'n Node<'t>,
    pub(super) api_version: &'n str,
    pub(super) kind: &'n str,
    pub(super) name: &'n str,
    pub(super) namespace: Option<&'n str>,
    pub(super) labels: yaml::StringMap<'n, 't>,
    pub(super) source: Option<String>,
    pub(super) at: Location,
    /// Path prefix inside the document (`items[2].` for List items), for messages.
    pub(super) prefix: String,
    /// The Helm hook events it runs at, and its weight; `None` for a release resource.
    pub(super) hook: Option<HookSecret>,
    /// What edits to it are written in: JSON for a JSON document, so it stays JSON.
    pub(super) syntax: Syntax,
    /// Its container images (or `image` fields, for target rules), parsed.
    pub(super) images: Vec<ImageRef>,
}

impl<'s> Planner<'s, '_> {
    pub(super) fn document(&mut self, doc: &Document, root: &Node<'s>) {
        if !root.is_map() {
            self.problems.push(Problem {
                at: Location {
                    doc: doc.index,
                    source: doc.source.clone(),
                    line: root.line,
                    ..Location::default()
                },
                kind: ProblemKind::NotAMapping {
                    found: root.type_name(),
                },
            });
            return;
        }
        let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
        match root.get("items").map(|items| &items.value) {
            Some(Value::Seq { items, .. }) if kind.ends_with("List") => {
                // One at a time: a long list's items are read again as they are planned, not
                // all kept (see `yaml::Children`).
                let mut i = 0;
                let _ = items.visit(|item| {
                    self.resource(doc, item, format!("items[{i}]."));
                    i += 1;
                    std::ops::ControlFlow::Continue(())
                });
            }
            _ => self.resource(doc, root, String::new()),
        }
    }

    pub(super) fn resource(&mut self, doc: &Document, node: &Node<'s>, prefix: String) {
        if !node.is_map() {
            let at = Location {
                doc: doc.index,
                source: doc.source.clone(),
                line: node.line,
                ..Location::default()
            };
            let found = node.type_name();
            self.problems.push(Problem {
                at,
                kind: ProblemKind::NotAMappingAt {
                    path: prefix.trim_end_matches('.').to_string(),
                    found,
                },
            });
            return;
        }
        let text = |path: &[&str]| node.path(path).and_then(Node::as_str);
        let source = crate::input::template_source(doc, node);
        let kind = text(&["kind"]).unwrap_or_default();
        let name = text(&["metadata", "name"]).unwrap_or_default();
        let hooks = text(&["metadata", "annotations", "helm.sh/hook"]);
        let r = Resource {
            node,
            api_version: text(&["apiVersion"]).unwrap_or_default(),
            kind,
            name,
            namespace: text(&["metadata", "namespace"]).filter(|ns| !ns.is_empty()),
            labels: yaml::StringMap(node.path(&["metadata", "labels"])),
            at: Location {
                doc: doc.index,
                kind: Some(kind.to_string()).filter(|k| !k.is_empty()),
                name: Some(name.to_string()).filter(|n| !n.is_empty()),
                source: source.clone(),
                line: node.line,
            },
            source,
            prefix,
            hook: helm_hook(
                hooks,
                text(&["metadata", "annotations", "helm.sh/hook-weight"]),
            ),
            syntax: Syntax::of(node),
            images: Vec::new(),
        };
        if r.kind == "Secret" && r.api_version == "v1" {
            self.existing_secret(&r);
        }
        if r.kind == "ServiceAccount" && r.api_version == "v1" {
            self.remember_service_account(&r);
        }
        let pod_spec =
            kinds::pod_spec_path(r.api_version, r.kind).and_then(|p| self.pod_spec(&r, p.path));
        let mut r = r;
        r.images = match &pod_spec {
            Some((spec, _)) => self.images_of(&r, spec),
            None if self.rules.iter().any(|rule| rule.target.is_some()) => {
                let mut found = Vec::new();
                image_fields(node, &mut found);
                found.iter().filter_map(|i| self.image(&r, i)).collect()
            }
            None => Vec::new(),
        };
        let images = &r.images;
        let subject = Subject {
            kind: r.kind,
            name: r.name,
            namespace: r
                .namespace
                .or(self.options.namespace.as_deref())
                .unwrap_or(""),
            labels: &r.labels,
            images,
            source: r.source.as_deref(),
        };
        // Any workload that mounts an edited config must restart, whether or not a rule
        // selects the workload itself.
        if self.interest.config_maps
            && let Some((spec, path)) = &pod_spec
        {
            self.remember_template(&r, spec, path);
        }
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .copied()
            .filter(|rule| rule.matches(&subject))
            .collect();
        if rules.is_empty() {
            return;
        }
        if let Some((spec, path)) = pod_spec {
            self.pod_rules(&r, spec, &path, &r.images, &rules);
        }
        self.target_rules(&r, &r.images, &rules);
    }

    /// Every container image of a pod spec, parsed; unparseable ones are warned about once.
    pub(super) fn images_of(&mut self, r: &Resource, pod_spec: &Node) -> Vec<ImageRef> {
        let mut out = Vec::new();
        for list in CONTAINER_LISTS {
            let containers = pod_spec
                .get(list)
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for image in containers.iter().filter_map(|c| c.get("image")?.as_str()) {
                out.extend(self.image(r, image));
            }
        }
        out
    }

    pub(super) fn image(&mut self, r: &Resource, written: &str) -> Option<ImageRef> {
        if !self.images.contains_key(written) {
            let parsed = ImageRef::parse(written);
            if let Err(e) = &parsed {
                self.warn(Some(&r.at), format!("{e}; no registry matched"));
            }
            self.images.insert(written.to_string(), parsed.ok());
        }
        self.images.get(written).cloned().flatten()
    }
}

/// Helm's hook events, in the order its docs list them.
pub(super) const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// The events Helm runs a resource at, as `helm.sh/hook` lists them (comma-separated, blanks
/// trimmed, unknown events ignored: `sortManifestsByHooks` in helm's pkg/release/util), and its
/// `helm.sh/hook-weight` (`strconv.Atoi`, 0 when unparseable). `None` when it is no hook.
/// (`crd-install`, Helm 2's, is no event Helm 3 or 4 runs.)
pub(super) fn helm_hook(hooks: Option<&str>, weight: Option<&str>) -> Option<HookSecret> {
    const EVENTS: &[&str] = HOOK_EVENTS;
    let hooks = hooks?;
    let mut events: Vec<String> = Vec::new();
    for event in hooks.split(',').map(str::trim) {
        if EVENTS.contains(&event) && !events.iter().any(|e| e == event) {
            events.push(event.to_string());
        }
    }
    if events.is_empty() {
        return None;
    }
    let weight = weight.and_then(|w| w.trim().parse().ok()).unwrap_or(0);
    Some(HookSecret { events, weight })
}

/// String values of `image` keys anywhere in a resource (a CR's `spec.image`), for rules that
/// target resources without a pod spec.
pub(super) fn image_fields<'n>(node: &'n Node<'_>, out: &mut Vec<&'n str>) {
    match &node.value {
        Value::Map { entries, .. } => {
            for (k, v) in entries {
                match (k.as_str(), v.as_str()) {
                    (Some("image"), Some(image)) if !image.is_empty() => out.push(image),
                    _ => image_fields(v, out),
                }
            }
        }
        Value::Seq { items, .. } => items.iter().for_each(|n| image_fields(n, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{plan, pod};

    #[test]
    fn a_resource_is_named_by_kind_name_source_and_list_position() {
        let annotated = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    postrenderer.helm.sh/postrender-filename: c/templates/p.yaml\nspec:\n  containers: [{name: c, image: r.example.com/x}]\n";
        let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec:\n    containers: [{name: c, image: r.example.com/x}]\n";
        // (input, source, path of the list)
        let cases = [
            (
                format!(
                    "# Source: c/templates/p.yaml\n{}",
                    pod("p", "r.example.com/x", "")
                ),
                Some("c/templates/p.yaml"),
                "spec.imagePullSecrets",
            ),
            (
                annotated.to_string(),
                Some("c/templates/p.yaml"),
                "spec.imagePullSecrets",
            ),
            (list.to_string(), None, "items[0].spec.imagePullSecrets"),
        ];
        for (input, source, path) in cases {
            let plan = plan("", &input);
            let change = &plan.changes[0];
            assert_eq!(change.at.kind.as_deref(), Some("Pod"), "{input}");
            assert_eq!(change.at.name.as_deref(), Some("p"), "{input}");
            assert_eq!(change.at.source.as_deref(), source, "{input}");
            assert_eq!(change.path, path, "{input}");
        }
    }

    /// A pod with these hook annotations (`None`: a release pod).
    fn hook_pod(name: &str, hook: Option<&str>, weight: Option<&str>) -> String {
        let mut annotations = String::new();
        if let Some(hook) = hook {
            annotations.push_str(&format!("    helm.sh/hook: {hook}\n"));
        }
        if let Some(weight) = weight {
            annotations.push_str(&format!("    helm.sh/hook-weight: \"{weight}\"\n"));
        }
        if !annotations.is_empty() {
            annotations = format!("  annotations:\n{annotations}");
        }
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n{annotations}spec:\n  containers: [{{name: c, image: r.example.com/x}}]\n"
        )
    }

    #[test]
    fn hook_pods_use_a_hook_secret_and_release_pods_the_managed_one() {
        use crate::registry::secret::HookSecret;
        let hook = |events: &[&str], weight| {
            Some(HookSecret {
                events: events.iter().map(|e| e.to_string()).collect(),
                weight,
            })
        };
        // (pods, the Secrets emitted: (name, hook)). Issue 13 item 5.
        type Emitted = Vec<(&'static str, Option<HookSecret>)>;
        let cases: Vec<(Vec<String>, Emitted)> = vec![
            (vec![hook_pod("a", None, None)], vec![("pull", None)]),
            // Helm 4 with a pre-install hook pod: the release's Secret stays a release resource.
            (
                vec![
                    hook_pod("a", None, None),
                    hook_pod("h", Some("pre-install"), None),
                ],
                vec![("pull", None), ("pull-hook", hook(&["pre-install"], -1))],
            ),
            // Needed only by post-delete hook pods: a hook Secret, not a release resource.
            (
                vec![hook_pod("h", Some("post-delete"), Some("5"))],
                vec![("pull-hook", hook(&["post-delete"], 4))],
            ),
            // One hook Secret for every event, below the lowest weight.
            (
                vec![
                    hook_pod("h1", Some("pre-install, pre-upgrade"), Some("-3")),
                    hook_pod("h2", Some("post-delete,test"), Some("x")),
                ],
                vec![(
                    "pull-hook",
                    hook(&["pre-install", "post-delete", "pre-upgrade", "test"], -4),
                )],
            ),
            // No event Helm runs: not a hook.
            (
                vec![hook_pod("h", Some("crd-install"), None)],
                vec![("pull", None)],
            ),
        ];
        for (pods, want) in cases {
            let input = pods.join("---\n");
            let plan = plan("", &input);
            let got: Vec<(&str, Option<HookSecret>)> = plan
                .secrets
                .iter()
                .map(|s| (s.name.as_str(), s.hook.clone()))
                .collect();
            assert_eq!(got, want, "{input}");
            // Each pod lists the Secret meant for it.
            for change in &plan.changes {
                let is_hook = pods[change.at.doc - 1].contains("helm.sh/hook: p")
                    || pods[change.at.doc - 1].contains("helm.sh/hook: t");
                let want = if is_hook { "pull-hook" } else { "pull" };
                assert_eq!(change.added, [want], "{input}");
            }
        }
    }

    #[test]
    fn a_hook_secret_name_the_rules_use_elsewhere_is_refused() {
        let config = crate::Config::parse(
            "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - {server: r.example.com, secret: pull, credentials: {env: {username: U, password: P}}}\n  - {server: q.example.com, secret: pull-hook, credentials: {env: {username: U, password: P}}}\n",
            "<test>",
        )
        .unwrap();
        let input = format!(
            "{}---\n{}",
            hook_pod("h", Some("pre-install"), None),
            hook_pod("a", None, None).replace("r.example.com", "q.example.com")
        );
        let problems =
            super::super::testing::plan_with(&config, &input, &crate::plan::Options::default())
                .unwrap_err();
        assert!(
            matches!(&problems.0[0].kind, crate::error::ProblemKind::HookSecretName { hook, .. } if hook == "pull-hook"),
            "{problems}"
        );
    }
}
