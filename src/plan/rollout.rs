//! Rollout: pod templates that mount an edited ConfigMap get a checksum annotation, so the
//! change restarts their pods.

use super::*;

pub(super) struct TemplateRef<'t> {
    pub(super) root: Node<'t>,
    pub(super) at: Location,
    pub(super) namespace: String,
    /// Path of the pod template's `metadata` mapping from the resource root.
    pub(super) metadata: Vec<Step>,
    pub(super) config_maps: Vec<String>,
}

impl<'s> Planner<'s, '_> {
    pub(super) fn remember_template(
        &mut self,
        r: &Resource<'_, 's>,
        pod_spec: &Node<'_>,
        path: &[&str],
    ) {
        if r.kind == "Pod" {
            return; // a bare Pod is not restarted by an annotation change
        }
        let mut config_maps = Vec::new();
        config_map_refs(pod_spec, &mut config_maps);
        if config_maps.is_empty() {
            return;
        }
        let mut metadata: Vec<Step> = path[..path.len() - 1]
            .iter()
            .map(|k| Step::Key(k.to_string()))
            .collect();
        metadata.push(Step::Key("metadata".into()));
        self.templates.push(TemplateRef {
            root: r.node.clone(),
            at: r.at.clone(),
            namespace: self.effective_namespace(r.namespace),
            metadata,
            config_maps,
        });
    }

    /// Pods read a mounted config at start: annotate the templates that use an edited
    /// ConfigMap with its checksum, so the change rolls them (what the seed did by deleting pods).
    pub(super) fn rollout_annotations(&mut self) {
        for template in std::mem::take(&mut self.templates) {
            let mut edits = Vec::new();
            for (namespace, name, field, checksum) in &self.changed_configs {
                if *namespace != template.namespace || !template.config_maps.contains(name) {
                    continue;
                }
                let key = checksum_annotation(name);
                let mut parents = template.metadata.clone();
                parents.push(Step::Key("annotations".into()));
                match edit::edit_at(
                    self.stream.text,
                    self.stream.newline,
                    &template.root,
                    &parents,
                    &key,
                    Leaf::Scalar(checksum),
                    Syntax::of(&template.root),
                ) {
                    Ok(e) if e.is_empty() => {}
                    Ok(e) => {
                        edits.extend(e);
                        self.plan.notes.push(Warning {
                            at: Some(template.at.clone()),
                            message: format!(
                                "annotation {key} set so the pods restart: ConfigMap {name} ({field}) changed"
                            ),
                        });
                    }
                    Err(e) => self.edit_problem(&template.at, &key, e),
                }
                // One ConfigMap name is one annotation; later edits would overlap the first.
                break;
            }
            self.add_edits(edits);
        }
    }
}

/// The annotation that carries an edited ConfigMap's checksum. Annotation names are at most 63
/// characters; a longer ConfigMap name is shortened with a hash so two never share a key.
pub fn checksum_annotation(config_map: &str) -> String {
    const PREFIX: &str = "checksum.helm-regcred.io/";
    if config_map.len() <= 63 {
        format!("{PREFIX}{config_map}")
    } else {
        format!(
            "{PREFIX}{}-{}",
            &config_map[..54],
            &sha256_hex(config_map)[..8]
        )
    }
}

pub(super) fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// ConfigMaps a pod spec reads: volumes (plain and projected), `envFrom`, `env[].valueFrom`.
pub(super) fn config_map_refs(pod_spec: &Node, out: &mut Vec<String>) {
    let mut push = |name: Option<&str>| {
        if let Some(name) = name
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_string());
        }
    };
    for volume in pod_spec
        .get("volumes")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        push(volume.path(&["configMap", "name"]).and_then(Node::as_str));
        for source in volume
            .path(&["projected", "sources"])
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            push(source.path(&["configMap", "name"]).and_then(Node::as_str));
        }
    }
    for list in CONTAINER_LISTS {
        for container in pod_spec
            .get(list)
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            for from in container
                .get("envFrom")
                .and_then(Node::as_seq)
                .unwrap_or_default()
            {
                push(from.path(&["configMapRef", "name"]).and_then(Node::as_str));
            }
            for env in container
                .get("env")
                .and_then(Node::as_seq)
                .unwrap_or_default()
            {
                push(
                    env.path(&["valueFrom", "configMapKeyRef", "name"])
                        .and_then(Node::as_str),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::testing::plan;

    #[test]
    fn checksum_annotations_fit_in_an_annotation_name() {
        let long = "a".repeat(64);
        // (ConfigMap name, annotation)
        let cases = [
            (
                "conf".to_string(),
                "checksum.helm-regcred.io/conf".to_string(),
            ),
            (
                "b".repeat(63),
                format!("checksum.helm-regcred.io/{}", "b".repeat(63)),
            ),
            (
                long.clone(),
                format!(
                    "checksum.helm-regcred.io/{}-{}",
                    &long[..54],
                    &sha256_hex(&long)[..8]
                ),
            ),
        ];
        for (name, want) in cases {
            let got = checksum_annotation(&name);
            assert_eq!(got, want);
            assert!(got.len() <= "checksum.helm-regcred.io/".len() + 63);
        }
    }

    #[test]
    fn pods_mounting_an_edited_config_map_restart() {
        let rule = "rules:\n  - name: cm\n    match: {kinds: [ConfigMap]}\n    secrets: [pull]\n    target: {field: \"$.data['c']\", path: \"$.pull\", itemShape: string}\n";
        let map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata:\n  c: 'pull: []'\n---\n";
        let deployment = |volume: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  template:\n    spec:\n      containers: [{{name: c, image: x}}]\n      volumes: [{{name: v, configMap: {{name: {volume}}}}}]\n"
            )
        };
        // (mounted ConfigMap, annotated)
        for (volume, annotated) in [("conf", true), ("other", false)] {
            let plan = plan(rule, &format!("{map}{}", deployment(volume)));
            let annotation = plan
                .edits
                .iter()
                .any(|e| e.text.contains("checksum.helm-regcred.io/conf"));
            assert_eq!(annotation, annotated, "{volume}");
        }
    }
}
