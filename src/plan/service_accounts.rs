//! `mode: serviceAccount`: list the Secrets on the ServiceAccounts pods run as, or emit them.

use super::*;

pub(super) struct SaNeed {
    pub(super) namespace: Option<String>,
    pub(super) name: String,
    pub(super) secrets: Vec<String>,
    pub(super) at: Location,
    pub(super) create: bool,
}

impl<'s> Planner<'s, '_> {
    /// The input's ServiceAccounts, read before any pod: a pod may come before the
    /// ServiceAccount it runs as, and what it inherits decides its list.
    pub(super) fn read_service_accounts(&mut self) {
        let stream = self.stream;
        let wanted = |kind: &str| kind == "ServiceAccount" || kind.ends_with("List");
        for doc in &stream.docs {
            let text = stream.doc_text(doc);
            // Documents whose kind is unclear from the text (JSON, a `kind` nested oddly) are
            // parsed to find out when they may hold one; problems with them are the main
            // pass's to report.
            if !text.contains("ServiceAccount")
                || crate::input::stream::top_level_kind(text).is_some_and(|kind| !wanted(kind))
            {
                continue;
            }
            let origin = Origin {
                offset: doc.range.start,
                line: doc.line,
            };
            let Ok(Parsed::Node(root)) = yaml::parse_document(text, origin, &wanted) else {
                continue;
            };
            let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
            let items = match root.get("items").map(|items| &items.value) {
                Some(Value::Seq { items, .. }) if kind.ends_with("List") => items.iter().collect(),
                _ => vec![&root],
            };
            for node in items {
                let text = |path: &[&str]| node.path(path).and_then(Node::as_str);
                if text(&["kind"]) != Some("ServiceAccount") || text(&["apiVersion"]) != Some("v1")
                {
                    continue;
                }
                let Some(name) = text(&["metadata", "name"]) else {
                    continue;
                };
                let namespace = text(&["metadata", "namespace"]).filter(|ns| !ns.is_empty());
                let key = (self.effective_namespace(namespace), name.to_string());
                let at = Location {
                    doc: doc.index,
                    kind: Some("ServiceAccount".into()),
                    name: Some(name.to_string()),
                    source: crate::input::template_source(doc, node),
                    line: node.line,
                };
                self.service_accounts
                    .entry(key)
                    .or_insert_with(|| (node.clone(), at));
            }
        }
    }

    pub(super) fn remember_service_account(&mut self, r: &Resource<'_, 's>) {
        let key = (self.effective_namespace(r.namespace), r.name.to_string());
        self.service_accounts
            .entry(key)
            .or_insert_with(|| (r.node.clone(), r.at.clone()));
    }

    /// The pull secrets ServiceAccount `sa` gives a pod of `r` that lists none: its list in the
    /// input, else what the rules declare it carries in the cluster. When neither says, the
    /// pod is remembered for [`Self::warn_unknown_service_accounts`].
    pub(super) fn service_account_gives(&mut self, r: &Resource, sa: &str) -> Vec<String> {
        let key = (self.effective_namespace(r.namespace), sa.to_string());
        if let Some((node, at)) = self.service_accounts.get(&key) {
            return match edit::existing_names(node, "imagePullSecrets", ItemShape::NameRef) {
                Ok(names) => names,
                Err(e) => {
                    let at = at.clone();
                    self.edit_problem(&at, "imagePullSecrets", e);
                    Vec::new()
                }
            };
        }
        if let Some(declared) = self.config.service_account_secrets(&key.0, sa) {
            return declared;
        }
        match self
            .unknown_service_accounts
            .iter_mut()
            .find(|(k, _)| *k == key)
        {
            Some((_, pods)) => pods.add(&r.at),
            None => {
                let mut pods = SomePods::default();
                pods.add(&r.at);
                self.unknown_service_accounts.push((key, pods));
            }
        }
        Vec::new()
    }

    /// One warning per ServiceAccount that is neither in the input nor declared: whatever it
    /// carries in the cluster no longer reaches the pods that now list their own secrets.
    pub(super) fn warn_unknown_service_accounts(&mut self) {
        for ((namespace, name), pods) in std::mem::take(&mut self.unknown_service_accounts) {
            let shown: Vec<String> = pods
                .first
                .iter()
                .map(|at| match (&at.kind, &at.name) {
                    (Some(kind), Some(name)) => format!("{kind}/{name}"),
                    _ => format!("document {}", at.doc),
                })
                .collect();
            let more = match pods.count {
                n if n > SomePods::SHOWN => format!(" and {} more", n - SomePods::SHOWN),
                _ => String::new(),
            };
            let (in_namespace, namespaces) = if namespace.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!(" (namespace {namespace})"),
                    format!("namespaces: [{namespace}], "),
                )
            };
            let message = format!(
                "ServiceAccount {name}{in_namespace} is not in the input: any imagePullSecrets \
                 it carries in the cluster no longer reach {}{more}, which now list pull secrets \
                 of their own (Kubernetes copies a ServiceAccount's only into pods that list \
                 none); declare them in the rules to keep them: `serviceAccounts: \
                 [{{{namespaces}names: [{name}], imagePullSecrets: [NAME]}}]` (`[]` if it has none)",
                shown.join(", ")
            );
            let at = pods.first.into_iter().next();
            self.warn(at.as_ref(), message);
        }
    }

    /// Whether ServiceAccount `sa` of `r`'s namespace is a Helm hook in the input.
    pub(super) fn is_hook_service_account(&self, r: &Resource, sa: &str) -> bool {
        let key = (self.effective_namespace(r.namespace), sa.to_string());
        self.service_accounts.get(&key).is_some_and(|(node, _)| {
            let text = |key: &str| {
                node.path(&["metadata", "annotations", key])
                    .and_then(Node::as_str)
            };
            super::resource::helm_hook(text("helm.sh/hook"), text("helm.sh/hook-weight")).is_some()
        })
    }

    /// A hook pod under a `mode: serviceAccount` rule whose ServiceAccount is no hook lists its
    /// hook Secret itself. Such a ServiceAccount (a release resource, one declared in the rules
    /// or living in the cluster, or one the rules would emit) cannot carry it: a release
    /// ServiceAccount does not exist yet during pre-install hooks (nor a new one during
    /// pre-upgrade) and is gone during post-delete hooks (Helm runs them around creating and
    /// deleting the release's resources, helm's `pkg/action/install.go` and `uninstall.go`),
    /// and listing a Secret Helm deletes after the hooks on it would hand a dangling name to
    /// every release pod admitted later. On the pod, the hook Secret exists whenever the pod
    /// pulls: Helm creates it before the pod in every phase the pod runs in.
    pub(super) fn hook_pod_lists_its_own(&mut self, r: &Resource, sa: &str, secrets: &[String]) {
        self.plan.notes.push(Warning {
            at: Some(r.at.clone()),
            message: format!(
                "hook pod: lists the hook Secret for {} itself instead of on ServiceAccount \
                 {sa}, which is no hook resource (a release resource is missing during \
                 pre-install and post-delete hooks)",
                secrets.join(", ")
            ),
        });
    }

    pub(super) fn sa_need(&mut self, r: &Resource, sa: &str, secrets: Vec<String>, create: bool) {
        let namespace = r.namespace.map(str::to_string);
        let key_ns = self.effective_namespace(r.namespace);
        let found = self
            .sa_needs
            .iter_mut()
            .find(|n| n.name == sa && self.options.namespace_of(n.namespace.as_deref()) == key_ns);
        match found {
            Some(need) => {
                append_missing(&mut need.secrets, secrets);
                need.create |= create;
            }
            None => self.sa_needs.push(SaNeed {
                namespace,
                name: sa.to_string(),
                secrets,
                at: r.at.clone(),
                create,
            }),
        }
    }

    /// `mode: serviceAccount`: list the secrets on each ServiceAccount the pods run as.
    pub(super) fn service_account_edits(&mut self) {
        for need in std::mem::take(&mut self.sa_needs) {
            let key = (
                self.options.namespace_of(need.namespace.as_deref()),
                need.name.clone(),
            );
            if let Some((node, at)) = self.service_accounts.get(&key) {
                let (node, at) = (node.clone(), at.clone());
                // ServiceAccount.imagePullSecrets is []LocalObjectReference too.
                let existing =
                    match edit::existing_names(&node, "imagePullSecrets", ItemShape::NameRef) {
                        Ok(names) => names,
                        Err(e) => {
                            self.edit_problem(&at, "imagePullSecrets", e);
                            continue;
                        }
                    };
                let added: Vec<&str> = need
                    .secrets
                    .iter()
                    .map(String::as_str)
                    .filter(|s| !existing.iter().any(|e| e == s))
                    .collect();
                match edit::append_to_list(
                    self.stream.text,
                    self.stream.newline,
                    &node,
                    "imagePullSecrets",
                    &added,
                    ItemShape::NameRef,
                    Syntax::of(&node),
                ) {
                    Ok(edits) => self.add_edits(edits),
                    Err(e) => self.edit_problem(&at, "imagePullSecrets", e),
                }
                if !added.is_empty() {
                    self.plan.notes.push(Warning {
                        at: Some(at),
                        message: format!(
                            "ServiceAccount lists {} for the pods that run as it",
                            added.join(", ")
                        ),
                    });
                }
            } else if let Some(declared) = self
                .config
                .service_account_secrets(&key.0, &need.name)
                .filter(|declared| need.secrets.iter().all(|s| declared.contains(s)))
            {
                // The rules say it carries them already in the cluster: nothing to do.
                let _ = declared;
            } else if need.create && need.name != "default" {
                self.plan.service_accounts.push(PlannedServiceAccount {
                    name: need.name,
                    namespace: need.namespace,
                    secrets: need.secrets,
                });
            } else {
                let why = if need.name == "default" {
                    "every namespace has its own `default` ServiceAccount, which helm-regcred will not \
                     replace; add the secrets with `kubectl patch serviceaccount default -p \
                     '{\"imagePullSecrets\": [{\"name\": \"...\"}]}'` or use `mode: podSpec`"
                } else {
                    "set `createServiceAccounts: true` on the rule to emit it, or use `mode: podSpec`"
                };
                self.warn(
                    Some(&need.at),
                    format!(
                        "the pod runs as ServiceAccount {} which is not in the input, so it cannot \
                         list {}: {why}",
                        need.name,
                        need.secrets.join(", ")
                    ),
                );
            }
        }
    }
}

/// The pods a warning names: the first few and how many in all (a stream of many small
/// documents would otherwise keep a location per pod for a message that shows three).
#[derive(Debug, Default)]
pub(super) struct SomePods {
    pub(super) first: Vec<Location>,
    pub(super) count: usize,
}

impl SomePods {
    pub(super) const SHOWN: usize = 3;

    fn add(&mut self, at: &Location) {
        if self.first.len() < Self::SHOWN {
            self.first.push(at.clone());
        }
        self.count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{plan, pod};

    #[test]
    fn service_account_mode_lists_secrets_on_the_account_or_emits_it() {
        let rule = |create: bool| {
            format!(
                "rules:\n  - name: sa\n    mode: serviceAccount\n    createServiceAccounts: {create}\n"
            )
        };
        let account = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web}\n---\n";
        let runs_as_web = pod("p", "r.example.com/x", "  serviceAccountName: web\n");
        // (input, create, edits the input, emits an account, warns)
        let cases = [
            (format!("{account}{runs_as_web}"), false, true, false, false),
            (runs_as_web.clone(), true, false, true, false),
            (runs_as_web.clone(), false, false, false, true),
            (pod("p", "r.example.com/x", ""), true, false, false, true),
        ];
        for (input, create, edits, emits, warns) in cases {
            let plan = plan(&rule(create), &input);
            assert_eq!(!plan.edits.is_empty(), edits, "{input}");
            assert_eq!(!plan.service_accounts.is_empty(), emits, "{input}");
            assert_eq!(
                !plan.warnings.is_empty(),
                warns,
                "{input}: {:?}",
                plan.warnings
            );
        }
    }

    /// The names on the pod's list after the plan, and whether a warning names `serviceAccounts`.
    fn pod_list(extra_rules: &str, input: &str) -> (Vec<String>, bool) {
        let plan = plan(extra_rules, input);
        let out = crate::edit::apply(input, &plan.edits);
        let stream = crate::Stream::parse(out.as_bytes()).unwrap();
        let pod = stream
            .docs
            .iter()
            .map(|d| stream.doc_text(d))
            .find(|t| t.contains("kind: Pod"))
            .unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(pod).unwrap();
        let names = value["spec"]["imagePullSecrets"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|s| s["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        let warned = plan
            .warnings
            .iter()
            .any(|w| w.message.contains("serviceAccounts:"));
        (names, warned)
    }

    #[test]
    fn a_pod_that_gets_its_first_list_keeps_what_its_service_account_gave() {
        // Issue 13 item 1: the ServiceAccount's secrets were dropped, with no warning.
        let sa = |name: &str, secrets: &str| {
            format!(
                "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}}}\nimagePullSecrets: [{secrets}]\n"
            )
        };
        let runs_as = |sa: &str| {
            pod(
                "p",
                "r.example.com/x",
                &format!("  serviceAccountName: {sa}\n"),
            )
        };
        let declare = |ns: &str| {
            format!(
                "serviceAccounts:\n  - namespaces: [\"{ns}\"]\n    names: [default]\n    imagePullSecrets: [corp-pull, other]\n"
            )
        };
        // (rules, input, the pod's list, warned)
        let cases: Vec<(String, String, &[&str], bool)> = vec![
            // in the stream, before or after the pod
            (
                String::new(),
                format!("{}---\n{}", sa("web", "{name: corp-pull}"), runs_as("web")),
                &["corp-pull", "pull"],
                false,
            ),
            (
                String::new(),
                format!("{}---\n{}", runs_as("web"), sa("web", "{name: corp-pull}")),
                &["corp-pull", "pull"],
                false,
            ),
            // its own list already: Kubernetes never copied the ServiceAccount's
            (
                String::new(),
                format!(
                    "{}---\n{}",
                    sa("web", "{name: corp-pull}"),
                    pod(
                        "p",
                        "r.example.com/x",
                        "  serviceAccountName: web\n  imagePullSecrets: [{name: mine}]\n"
                    )
                ),
                &["mine", "pull"],
                false,
            ),
            // `default`, not in the stream: declared in the rules, for this namespace or not
            (
                declare("*"),
                pod("p", "r.example.com/x", ""),
                &["corp-pull", "other", "pull"],
                false,
            ),
            (
                declare("team-*"),
                pod("p", "r.example.com/x", ""),
                &["pull"],
                true,
            ),
            // declared as carrying none
            (
                "serviceAccounts:\n  - names: [default, web]\n    imagePullSecrets: []\n".into(),
                pod("p", "r.example.com/x", ""),
                &["pull"],
                false,
            ),
            // neither in the stream nor declared: kept as far as we can, and said
            (String::new(), runs_as("elsewhere"), &["pull"], true),
        ];
        for (rules, input, want, warns) in cases {
            let (names, warned) = pod_list(&rules, &input);
            assert_eq!(names, want, "{rules}{input}");
            assert_eq!(warned, warns, "{rules}{input}");
        }
    }

    /// `metadata:` of a resource named `name`, with these hook annotations (`None`: none).
    fn metadata(name: &str, hook: Option<(&str, i32)>) -> String {
        match hook {
            Some((events, weight)) => format!(
                "metadata:\n  name: {name}\n  annotations:\n    helm.sh/hook: {events}\n    helm.sh/hook-weight: \"{weight}\"\n"
            ),
            None => format!("metadata:\n  name: {name}\n"),
        }
    }

    #[test]
    fn hook_pods_in_service_account_mode_get_the_hook_secret_where_it_exists_when_they_pull() {
        use crate::registry::secret::HookSecret;
        let rule =
            "rules:\n  - name: sa\n    mode: serviceAccount\n    createServiceAccounts: true\n";
        let sa = |name: &str, hook, extra: &str| {
            format!(
                "apiVersion: v1\nkind: ServiceAccount\n{}{extra}",
                metadata(name, hook)
            )
        };
        let pod = |name: &str, hook, sa: &str| {
            format!(
                "apiVersion: v1\nkind: Pod\n{}spec:\n  serviceAccountName: {sa}\n  containers: [{{name: c, image: r.example.com/x}}]\n",
                metadata(name, hook)
            )
        };
        let hook = |events: &str, weight| {
            Some(HookSecret {
                events: events.split(',').map(str::to_string).collect(),
                weight,
            })
        };
        const PRE: Option<(&str, i32)> = Some(("pre-install", 0));
        type Lists = &'static [(&'static str, &'static [&'static str])];
        type Emitted = Vec<(&'static str, Option<HookSecret>)>;
        // (documents, the lists of each named document after the plan, Secrets emitted, notes)
        let cases: Vec<(Vec<String>, Lists, Emitted, usize)> = vec![
            // A hook ServiceAccount (created first, by its weight) carries the hook Secret.
            (
                vec![
                    sa("job", Some(("pre-install", -5)), ""),
                    pod("h", PRE, "job"),
                ],
                &[("job", &["pull-hook"]), ("h", &[])],
                vec![("pull-hook", hook("pre-install", -1))],
                1,
            ),
            // A release ServiceAccount is missing in pre-install: the pod lists it itself.
            (
                vec![sa("app", None, ""), pod("h", PRE, "app")],
                &[("app", &[]), ("h", &["pull-hook"])],
                vec![("pull-hook", hook("pre-install", -1))],
                1,
            ),
            // ... keeping what the ServiceAccount gave it.
            (
                vec![
                    sa("app", None, "imagePullSecrets: [{name: corp}]\n"),
                    pod("h", Some(("post-delete", 3)), "app"),
                ],
                &[("app", &["corp"]), ("h", &["corp", "pull-hook"])],
                vec![("pull-hook", hook("post-delete", 2))],
                1,
            ),
            // Not in the input: none is emitted for a hook pod (it would be a release resource).
            (
                vec![pod("h", PRE, "job")],
                &[("h", &["pull-hook"])],
                vec![("pull-hook", hook("pre-install", -1))],
                1,
            ),
            // Release pods keep using the release's ServiceAccount and Secret.
            (
                vec![
                    sa("app", None, ""),
                    pod("a", None, "app"),
                    pod("h", PRE, "app"),
                ],
                &[("app", &["pull"]), ("a", &[]), ("h", &["pull-hook"])],
                vec![("pull", None), ("pull-hook", hook("pre-install", -1))],
                2,
            ),
        ];
        for (docs, want_lists, want_secrets, notes) in cases {
            let input = docs.join("---\n");
            let plan = super::super::testing::plan(rule, &input);
            assert!(plan.service_accounts.is_empty(), "{input}");
            let secrets: Vec<(&str, Option<HookSecret>)> = plan
                .secrets
                .iter()
                .map(|s| (s.name.as_str(), s.hook.clone()))
                .collect();
            assert_eq!(secrets, want_secrets, "{input}");
            assert_eq!(plan.notes.len(), notes, "{input}: {:?}", plan.notes);
            let out = crate::edit::apply(&input, &plan.edits);
            let stream = crate::Stream::parse(out.as_bytes()).unwrap();
            for (name, want) in want_lists {
                let doc: serde_json::Value = stream
                    .docs
                    .iter()
                    .map(|d| serde_saphyr::from_str(stream.doc_text(d)).unwrap())
                    .find(|v: &serde_json::Value| v["metadata"]["name"] == *name)
                    .unwrap();
                let list = match doc["kind"].as_str() {
                    Some("Pod") => &doc["spec"]["imagePullSecrets"],
                    _ => &doc["imagePullSecrets"],
                };
                let got: Vec<&str> = list
                    .as_array()
                    .map(|l| l.iter().map(|s| s["name"].as_str().unwrap()).collect())
                    .unwrap_or_default();
                assert_eq!(got, *want, "{name} in {out}");
            }
        }
    }
}
