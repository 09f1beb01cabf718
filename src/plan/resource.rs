//! The facts about each resource, read once: kind, name, namespace, labels, images, source
//! template and whether it is a Helm hook that runs before the release exists.

use super::*;

/// The facts about a resource the planner needs, read once.
pub(super) struct Resource<'n> {
    pub(super) node: &'n Node,
    pub(super) api_version: &'n str,
    pub(super) kind: &'n str,
    pub(super) name: &'n str,
    pub(super) namespace: Option<&'n str>,
    pub(super) labels: Vec<(String, String)>,
    pub(super) source: Option<String>,
    pub(super) at: Location,
    /// Path prefix inside the document (`items[2].` for List items), for messages.
    pub(super) prefix: String,
    /// A Helm hook that runs before the release's resources exist.
    pub(super) pre_hook: bool,
}

impl Planner<'_, '_> {
    pub(super) fn document(&mut self, doc: &Document, root: &Node) {
        if root.as_map().is_none() {
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
                for (i, item) in items.iter().enumerate() {
                    self.resource(doc, item, format!("items[{i}]."));
                }
            }
            _ => self.resource(doc, root, String::new()),
        }
    }

    pub(super) fn resource(&mut self, doc: &Document, node: &Node, prefix: String) {
        if node.as_map().is_none() {
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
        let hooks = text(&["metadata", "annotations", "helm.sh/hook"]).unwrap_or_default();
        let r = Resource {
            node,
            api_version: text(&["apiVersion"]).unwrap_or_default(),
            kind,
            name,
            namespace: text(&["metadata", "namespace"]).filter(|ns| !ns.is_empty()),
            labels: string_pairs(node.path(&["metadata", "labels"])),
            at: Location {
                doc: doc.index,
                kind: Some(kind.to_string()).filter(|k| !k.is_empty()),
                name: Some(name.to_string()).filter(|n| !n.is_empty()),
                source: source.clone(),
                line: node.line,
            },
            source,
            prefix,
            pre_hook: hooks
                .split(',')
                .any(|h| matches!(h.trim(), "pre-install" | "pre-upgrade")),
        };
        if r.kind == "Secret" && r.api_version == "v1" {
            self.existing_secret(&r);
        }
        if r.kind == "ServiceAccount" && r.api_version == "v1" && self.interest.service_accounts {
            let key = (self.effective_namespace(r.namespace), r.name.to_string());
            self.service_accounts
                .entry(key)
                .or_insert_with(|| (node.clone(), r.at.clone()));
        }
        let pod_spec =
            kinds::pod_spec_path(r.api_version, r.kind).and_then(|p| self.pod_spec(&r, p.path));
        let images = match &pod_spec {
            Some((spec, _)) => self.images_of(&r, spec),
            None if self.rules.iter().any(|rule| rule.target.is_some()) => {
                let mut found = Vec::new();
                image_fields(node, &mut found);
                found.iter().filter_map(|i| self.image(&r, i)).collect()
            }
            None => Vec::new(),
        };
        let subject = Subject {
            kind: r.kind,
            name: r.name,
            namespace: r
                .namespace
                .or(self.options.namespace.as_deref())
                .unwrap_or(""),
            labels: &r.labels,
            images: &images,
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
            self.pod_rules(&r, spec, &path, &images, &rules);
        }
        self.target_rules(&r, &images, &rules);
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

/// String values of `image` keys anywhere in a resource (a CR's `spec.image`), for rules that
/// target resources without a pod spec.
pub(super) fn image_fields<'n>(node: &'n Node, out: &mut Vec<&'n str>) {
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

/// `{k: v}` string pairs of a mapping (labels); non-string values are skipped.
pub(super) fn string_pairs(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
        .collect()
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

    #[test]
    fn only_pre_install_and_pre_upgrade_hooks_make_the_secret_a_hook() {
        let cases = [
            ("pre-install", true),
            ("post-install, pre-upgrade", true),
            ("test", false),
            ("post-install", false),
        ];
        for (hooks, want) in cases {
            let input = format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    helm.sh/hook: {hooks}\nspec:\n  containers: [{{name: c, image: r.example.com/x}}]\n"
            );
            assert_eq!(plan("", &input).secrets[0].hook, want, "{hooks}");
        }
    }
}
