//! Rules without a `target` on a pod spec: `mode: podSpec` lists the Secrets on the pod,
//! `mode: serviceAccount` on the ServiceAccount it runs as; and `imagePullPolicy`.

use super::*;

impl Planner<'_, '_> {
    /// The pod spec node and its path, or `None` (with a warning or problem) when unusable.
    pub(super) fn pod_spec<'n>(
        &mut self,
        r: &Resource<'n, '_>,
        path: &[&str],
    ) -> Option<(&'n Node<'n>, Vec<&'static str>)> {
        let spec_path = format!("{}{}", r.prefix, path.join("."));
        let Some(pod_spec) = r.node.path(path).filter(|n| !n.is_null()) else {
            self.warn(
                Some(&r.at),
                format!("no pod spec at `{spec_path}`; left as it is"),
            );
            return None;
        };
        if !pod_spec.is_map() {
            let kind = match pod_spec.value {
                Value::Alias => ProblemKind::Alias { path: spec_path },
                _ => ProblemKind::NotAMappingAt {
                    path: spec_path,
                    found: pod_spec.type_name(),
                },
            };
            self.problem(&r.at, pod_spec.line, kind);
            return None;
        }
        let path = kinds::POD_SPEC_PATHS
            .iter()
            .find(|p| p.path == path)
            .map(|p| p.path.to_vec())
            .unwrap_or_default();
        Some((pod_spec, path))
    }

    /// `mode: podSpec` and `mode: serviceAccount` rules (the ones without a `target`).
    pub(super) fn pod_rules(
        &mut self,
        r: &Resource,
        pod_spec: &Node,
        path: &[&str],
        images: &[ImageRef],
        rules: &[&Rule],
    ) {
        let spec_path = format!("{}{}", r.prefix, path.join("."));
        let list_path = format!("{spec_path}.imagePullSecrets");
        let existing = match edit::existing_names(pod_spec, "imagePullSecrets", ItemShape::NameRef)
        {
            Ok(names) => names,
            Err(e) => return self.edit_problem(&r.at, &list_path, e),
        };
        let mut pod_secrets = Vec::new();
        let mut sa_secrets = Vec::new();
        let mut extra_namespaces = Vec::new();
        let mut create_sa = false;
        let mut policy: Option<(&Rule, ImagePullPolicy)> = None;
        for rule in rules.iter().filter(|rule| rule.target.is_none()) {
            let secrets = self.secrets_of(r, rule, images);
            if secrets.is_empty() {
                continue;
            }
            match rule.mode {
                Mode::PodSpec => append_missing(&mut pod_secrets, secrets),
                Mode::ServiceAccount => {
                    create_sa |= rule.create_service_accounts;
                    append_missing(&mut sa_secrets, secrets);
                }
            }
            append_missing(&mut extra_namespaces, self.secret_namespaces(rule, r));
            if let Some(p) = rule.image_pull_policy {
                match policy {
                    Some((first, other)) if other != p => self.warn(
                        Some(&r.at),
                        format!(
                            "rules `{}` and `{}` set different imagePullPolicy; the first one wins",
                            first.name, rule.name
                        ),
                    ),
                    Some(_) => {}
                    None => policy = Some((rule, p)),
                }
            }
        }
        // Container edits first: at equal offsets (a pod spec ending in its last container)
        // the deeper insertion must come before the pod spec's new key.
        if let Some((rule, policy)) = policy {
            self.pull_policy(r, pod_spec, &spec_path, rule, policy);
        }
        let sa = pod_spec
            .get("serviceAccountName")
            .or_else(|| pod_spec.get("serviceAccount"))
            .and_then(Node::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default");
        if r.hook.is_some() && !sa_secrets.is_empty() {
            if self.is_hook_service_account(r, sa) {
                // A hook ServiceAccount lives in the hook phases as the pod does: it lists the
                // hook Secret, created before both.
                sa_secrets = self.hook_secret_names(r, sa_secrets);
            } else {
                self.hook_pod_lists_its_own(r, sa, &sa_secrets);
                append_missing(&mut pod_secrets, std::mem::take(&mut sa_secrets));
            }
        }
        let pod_secrets = self.hook_secret_names(r, pod_secrets);
        let (present, added): (Vec<String>, Vec<String>) = pod_secrets
            .into_iter()
            .partition(|name| existing.contains(name));
        // Pods that list a secret themselves need nothing from their ServiceAccount for it.
        sa_secrets.retain(|s| !existing.contains(s) && !added.contains(s));
        // A pod created with an empty list gets its ServiceAccount's (ServiceAccount admission,
        // plugin/pkg/admission/serviceaccount/admission.go); one that lists any does not. So a
        // pod getting a list of its own for the first time keeps what its ServiceAccount gave.
        let inherited = if existing.is_empty() && !added.is_empty() {
            let mut inherited = self.service_account_gives(r, sa);
            // What `mode: serviceAccount` rules are about to put on the ServiceAccount.
            append_missing(&mut inherited, sa_secrets.iter().cloned());
            inherited.retain(|s| !added.contains(s));
            inherited
        } else {
            Vec::new()
        };
        let names: Vec<&str> = inherited.iter().chain(&added).map(String::as_str).collect();
        match edit::append_to_list(
            self.stream.text,
            self.stream.newline,
            pod_spec,
            "imagePullSecrets",
            &names,
            ItemShape::NameRef,
            r.syntax,
        ) {
            Ok(edits) => self.add_edits(edits),
            Err(e) => return self.edit_problem(&r.at, &list_path, e),
        }
        let all: Vec<String> = inherited
            .iter()
            .chain(&added)
            .chain(&present)
            .chain(&sa_secrets)
            .cloned()
            .collect();
        self.need(&all, r, &extra_namespaces);
        if !sa_secrets.is_empty() {
            self.sa_need(r, sa, sa_secrets, create_sa);
        }
        if !added.is_empty() || !present.is_empty() {
            self.change(Change {
                at: r.at.clone(),
                namespace: r.namespace.map(str::to_string),
                path: list_path,
                added,
                present,
                inherited,
            });
        }
    }

    /// Set `imagePullPolicy` on the containers the rule is about: those matching its `images`
    /// patterns, else those pulling from a registry in the rules.
    pub(super) fn pull_policy(
        &mut self,
        r: &Resource,
        pod_spec: &Node,
        spec_path: &str,
        rule: &Rule,
        policy: ImagePullPolicy,
    ) {
        for list in CONTAINER_LISTS {
            let containers = pod_spec
                .get(list)
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for (i, container) in containers.iter().enumerate() {
                let Some(written) = container.get("image").and_then(Node::as_str) else {
                    continue;
                };
                let Some(image) = self.image(r, written) else {
                    continue;
                };
                let selected = match rule.selector.images() {
                    Some(patterns) => patterns.matches_image(&image),
                    None => self.config.registries_serving(&image).next().is_some(),
                };
                if !selected {
                    continue;
                }
                match edit::edit_at(
                    self.stream.text,
                    self.stream.newline,
                    container,
                    &[],
                    "imagePullPolicy",
                    Leaf::Scalar(policy.as_str()),
                    r.syntax,
                ) {
                    Ok(edits) => self.add_edits(edits),
                    Err(e) => self.edit_problem(
                        &r.at,
                        &format!("{spec_path}.{list}[{i}].imagePullPolicy"),
                        e,
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{plan, pod};

    #[test]
    fn a_pod_gets_the_secrets_of_the_registries_it_pulls_from() {
        // (image, pod spec extra, added, present)
        let cases: [(&str, &str, &[&str], &[&str]); 4] = [
            ("r.example.com/x:1", "", &["pull"], &[]),
            (
                "r.example.com/x:1",
                "  imagePullSecrets: [{name: pull}]\n",
                &[],
                &["pull"],
            ),
            (
                "r.example.com/x:1",
                "  imagePullSecrets: [{name: other}]\n",
                &["pull"],
                &[],
            ),
            ("docker.io/library/nginx", "", &[], &[]),
        ];
        for (image, extra, added, present) in cases {
            let plan = plan("", &pod("p", image, extra));
            let (got_added, got_present) = plan
                .changes
                .first()
                .map(|c| (c.added.clone(), c.present.clone()))
                .unwrap_or_default();
            assert_eq!(got_added, added, "{image} {extra}");
            assert_eq!(got_present, present, "{image} {extra}");
        }
    }

    #[test]
    fn image_pull_policy_is_set_on_the_selected_containers_only() {
        let rules = |images: &str| {
            format!(
                "rules:\n  - name: always\n    match: {{images: [{images}]}}\n    imagePullPolicy: Always\n"
            )
        };
        let input = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: r.example.com/a\n  - name: b\n    image: r.example.com/b\n";
        // (images pattern, policies set)
        let cases = [
            ("\"r.example.com/a\"", 1),
            ("\"r.example.com/*\"", 2),
            ("\"elsewhere/*\"", 0),
        ];
        for (images, set) in cases {
            let plan = plan(&rules(images), input);
            let policies = plan
                .edits
                .iter()
                .filter(|e| e.text.contains("imagePullPolicy: Always"))
                .count();
            assert_eq!(policies, set, "{images}");
        }
    }

    #[test]
    fn a_json_document_stays_json() {
        // Issue 13 item 6: YAML flow syntax (`imagePullSecrets: [{name: pull}]`) was inserted.
        let cases = [
            // no list yet: the key is added
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"r.example.com/x"}]}}"#,
            // an empty list, and an imagePullPolicy to set
            "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"p\"},\n  \"spec\": {\n    \"imagePullSecrets\": [],\n    \"containers\": [{\"name\": \"c\", \"image\": \"r.example.com/x\"}]\n  }\n}\n",
            // a list holding another secret
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"imagePullSecrets":[{"name":"other"}],"containers":[{"name":"c","image":"r.example.com/x"}]}}"#,
        ];
        let rule = "rules:\n  - name: all\n    imagePullPolicy: Always\n";
        for input in cases {
            let plan = super::super::testing::plan(rule, input);
            let out = crate::edit::apply(input, &plan.edits);
            let json: serde_json::Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
            let names: Vec<&str> = json["spec"]["imagePullSecrets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap())
                .collect();
            assert_eq!(names.last(), Some(&"pull"), "{out}");
            assert_eq!(
                json["spec"]["containers"][0]["imagePullPolicy"], "Always",
                "{out}"
            );
        }
    }
}
