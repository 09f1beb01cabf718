//! Secret bookkeeping: which Secret names the rules give a resource, which namespaces need
//! them, the Secrets the input already has, and the Secrets the plan emits.

use super::resource::HOOK_EVENTS;
use super::*;
use crate::registry::keyring::Entry;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Need {
    pub(super) name: String,
    pub(super) namespace: Option<String>,
    /// Hook pods need it (then it is a hook Secret, by [`hook_secret_name`]): their events and
    /// lowest weight.
    pub(super) hook: Option<HookSecret>,
    /// The images of the resources that need it: the host spellings its `auths` keys follow.
    pub(super) images: Vec<ImageRef>,
}

impl Planner<'_, '_> {
    /// The Secrets to emit: each needed one that a registry creates and the input lacks, with
    /// an `auths` key for every host spelling the images that need it use.
    pub(super) fn emit_secrets(&mut self) {
        let needed = std::mem::take(&mut self.needed);
        let mut images: Vec<Vec<ImageRef>> = Vec::new();
        for Need {
            name,
            namespace,
            hook,
            images: need_images,
        } in needed
        {
            // Templated names were rendered per resource; the registries behind each rendered
            // name were recorded then.
            let registries: Vec<usize> = self
                .secret_registries
                .get(&name)
                .cloned()
                .unwrap_or_default();
            if registries.is_empty() {
                continue; // only referenced: the rules say it exists already
            }
            let key = (name.clone(), self.effective_namespace(namespace.as_deref()));
            if let Some((found, at)) = self.existing.get(&key) {
                if found != "kubernetes.io/dockerconfigjson" {
                    let kind = ProblemKind::SecretConflict {
                        name,
                        found: found.clone(),
                    };
                    self.problems.push(Problem {
                        at: at.clone(),
                        kind,
                    });
                }
                continue;
            }
            let options = self.options;
            match self.plan.secrets.iter().position(|s| {
                s.name == name && options.namespace_of(s.namespace.as_deref()) == key.1
            }) {
                Some(i) => {
                    merge_hook(&mut self.plan.secrets[i].hook, hook.as_ref());
                    images[i].extend(need_images);
                }
                None => {
                    self.plan.secrets.push(PlannedSecret {
                        name,
                        namespace,
                        registries,
                        auths: Vec::new(),
                        hook: None,
                    });
                    let last = self.plan.secrets.len() - 1;
                    merge_hook(&mut self.plan.secrets[last].hook, hook.as_ref());
                    images.push(need_images);
                }
            }
        }
        let config = self.config;
        for secret in &mut self.plan.secrets {
            // Created before every hook pod that uses it, whatever the event.
            if let Some(hook) = &mut secret.hook {
                hook.weight = hook.weight.saturating_sub(1);
            }
        }
        for (secret, images) in self.plan.secrets.iter_mut().zip(&images) {
            let mut auths: Vec<(usize, String)> = Vec::new();
            for &i in &secret.registries {
                for key in config.registries[i].entry.required_keys(images) {
                    // Two registries of one Secret may need the same key: the first one's
                    // credentials are the ones the kubelet would find first, too.
                    if !auths.iter().any(|(_, k)| *k == key) {
                        auths.push((i, key));
                    }
                }
            }
            secret.auths = auths;
        }
    }

    /// The secrets one rule gives: its `secrets`, or those of the registries the images use.
    /// Templated names are rendered for the resource's namespace (else the release namespace);
    /// which registries each rendered name stands for is remembered for [`Self::finish`].
    pub(super) fn secrets_of(
        &mut self,
        r: &Resource,
        rule: &Rule,
        images: &[ImageRef],
    ) -> Vec<String> {
        let config = self.config;
        let written: Vec<&str> = match &rule.secrets {
            Some(secrets) => secrets.iter().map(String::as_str).collect(),
            None => {
                let mut written = Vec::new();
                for image in images {
                    for (_, registry) in config.registries_serving(image) {
                        self.warn_string_prefix(r, &registry.entry, image);
                        written.push(registry.secret.as_str());
                    }
                }
                written
            }
        };
        let namespace = r.namespace.or(self.options.namespace.as_deref());
        let mut names = Vec::new();
        for source in written {
            match self.names.secret_name(source, namespace) {
                Ok(name) => {
                    let creators = config
                        .registries
                        .iter()
                        .enumerate()
                        .filter(|(_, reg)| reg.secret == source && reg.create)
                        .map(|(i, _)| i);
                    self.release_names.insert(name.clone());
                    let known = self.secret_registries.entry(name.clone()).or_default();
                    for i in creators {
                        if !known.contains(&i) {
                            known.push(i);
                        }
                    }
                    append_missing(&mut names, [name]);
                }
                Err(e) => self.template_problem(r, e.to_string()),
            }
        }
        names
    }

    /// Namespaces a rule names beyond the resource's own (a `fromPath` on the resource itself;
    /// embedded `fromPath`s are read inside [`Self::embedded_target`]).
    pub(super) fn secret_namespaces(&mut self, rule: &Rule, r: &Resource) -> Vec<String> {
        let node = r.node;
        match &rule.secret_namespaces {
            SecretNamespaces::None => Vec::new(),
            SecretNamespaces::List(list) => {
                let namespace = r.namespace.or(self.options.namespace.as_deref());
                let mut out = Vec::new();
                for written in list {
                    match self.names.namespace_name(written, namespace) {
                        Ok(ns) => out.push(ns),
                        Err(e) => self.template_problem(r, e.to_string()),
                    }
                }
                out
            }
            SecretNamespaces::FromPath(_)
                if rule.target.as_ref().is_some_and(|t| t.field.is_some()) =>
            {
                Vec::new()
            }
            SecretNamespaces::FromPath(p) => p
                .resolve(node)
                .and_then(Node::as_str)
                .map(str::to_string)
                .into_iter()
                .collect(),
        }
    }

    /// `server: harbor.example.com/team-a` serves `harbor.example.com/team-ab/x` too: the
    /// kubelet compares paths as plain string prefixes (`URLsMatch` in keyring.go). Say so
    /// where it happens, with the spelling that stops at the path component.
    fn warn_string_prefix(&mut self, r: &Resource, entry: &Entry, image: &ImageRef) {
        let path = entry.path();
        if path.is_empty() || path.ends_with('/') {
            return;
        }
        let image_path = format!("/{}", image.runtime_path());
        let rest = image_path.strip_prefix(path).unwrap_or("/");
        if rest.is_empty() || rest.starts_with('/') {
            return;
        }
        let message = format!(
            "image {} gets the Secret of registry `{}`: the kubelet matches a registry path as a \
             string prefix, so `{}` also serves `{}`; write `server: {}/` if that is another \
             team's path",
            image.written(),
            entry.written(),
            path,
            image_path,
            entry.key(),
        );
        if self.prefix_warnings.insert(message.clone()) {
            self.warn(Some(&r.at), message);
        }
    }

    /// Record that the resource needs these Secrets, in its namespace and the extra ones.
    pub(super) fn need(&mut self, secrets: &[String], r: &Resource, extra_namespaces: &[String]) {
        let images = &r.images;
        let hook_names: Vec<String> = match r.hook {
            Some(_) => self.hook_names.iter().map(|(h, _, _)| h.clone()).collect(),
            None => Vec::new(),
        };
        let namespaces = std::iter::once(r.namespace.map(str::to_string))
            .chain(extra_namespaces.iter().map(|ns| Some(ns.clone())));
        for namespace in namespaces {
            for name in secrets {
                // Only a hook pod's own hook Secrets are hooks; the release's Secrets it (or
                // its ServiceAccount) lists stay release resources.
                let hook = r.hook.as_ref().filter(|_| hook_names.contains(name));
                let found = self
                    .needed
                    .iter_mut()
                    .find(|n| &n.name == name && n.namespace == namespace);
                match found {
                    Some(need) => {
                        merge_hook(&mut need.hook, hook);
                        for image in images {
                            if !need.images.contains(image) {
                                need.images.push(image.clone());
                            }
                        }
                    }
                    None => self.needed.push(Need {
                        name: name.clone(),
                        namespace: namespace.clone(),
                        hook: hook.cloned(),
                        images: images.to_vec(),
                    }),
                }
            }
        }
    }

    /// The names a hook pod lists instead of `names`: each Secret a registry creates becomes
    /// its hook Secret (created before the pod, deleted after the hooks succeed), since the
    /// release's Secret is not there yet (pre-install) or any more (post-delete). Secrets the
    /// rules only reference exist in the cluster and stay as they are.
    pub(super) fn hook_secret_names(&mut self, r: &Resource, names: Vec<String>) -> Vec<String> {
        if r.hook.is_none() {
            return names;
        }
        names
            .into_iter()
            .map(|name| {
                let Some(registries) = self.secret_registries.get(&name).cloned() else {
                    return name;
                };
                if registries.is_empty() {
                    return name;
                }
                let hook = hook_secret_name(&name);
                self.secret_registries.insert(hook.clone(), registries);
                if !self.hook_names.iter().any(|(h, _, _)| *h == hook) {
                    self.hook_names.push((hook.clone(), name, r.at.clone()));
                }
                hook
            })
            .collect()
    }

    /// A hook Secret's name must be one no registry's Secret has (and a valid name).
    pub(super) fn check_hook_names(&mut self) {
        for (hook, name, at) in std::mem::take(&mut self.hook_names) {
            if hook.len() > 253 || self.release_names.contains(&hook) {
                self.problems.push(Problem {
                    at,
                    kind: ProblemKind::HookSecretName { name, hook },
                });
            }
        }
    }

    pub(super) fn existing_secret(&mut self, r: &Resource) {
        let secret_type = r
            .node
            .get("type")
            .and_then(Node::as_str)
            .unwrap_or("Opaque")
            .to_string();
        let key = (r.name.to_string(), self.effective_namespace(r.namespace));
        self.existing
            .entry(key)
            .or_insert((secret_type, r.at.clone()));
        for field in ["data", "stringData"] {
            if let Some(entries) = r.node.get(field).and_then(Node::as_map) {
                self.plan
                    .sensitive
                    .extend(entries.iter().map(|(_, v)| v.start..v.end));
            }
        }
    }

    pub(super) fn effective_namespace(&self, namespace: Option<&str>) -> String {
        self.options.namespace_of(namespace)
    }

    /// Without the release namespace, a Secret emitted both with no namespace and with an
    /// explicit one may be the same object twice; say so instead of guessing.
    pub(super) fn warn_ambiguous_namespaces(&mut self) {
        if self.options.namespace.is_some() {
            return;
        }
        let mut messages = Vec::new();
        for s in self.plan.secrets.iter().filter(|s| s.namespace.is_none()) {
            for other in self.plan.secrets.iter().filter(|o| o.name == s.name) {
                if let Some(ns) = &other.namespace {
                    messages.push(format!(
                        "Secret {} is emitted without a namespace (for documents that have none) and in \
                         namespace {ns}; if the release namespace is {ns} the two collide: pass \
                         --namespace {ns} so helm-regcred can merge them",
                        s.name
                    ));
                }
            }
        }
        for m in messages {
            self.warn(None, m);
        }
    }
}

/// The hook Secret of Secret `name`: a suffix no DNS-1123 name loses, checked against the
/// rules' own names by [`Planner::check_hook_names`].
pub fn hook_secret_name(name: &str) -> String {
    format!("{name}{HOOK_SUFFIX}")
}

pub(super) const HOOK_SUFFIX: &str = "-hook";

/// Fold the hook facts of one more user into `into`: every event (in Helm's order, so the
/// output does not depend on document order), the lowest weight.
fn merge_hook(into: &mut Option<HookSecret>, hook: Option<&HookSecret>) {
    let Some(hook) = hook else { return };
    let into = into.get_or_insert_with(|| HookSecret {
        events: Vec::new(),
        weight: hook.weight,
    });
    for event in &hook.events {
        if !into.events.contains(event) {
            into.events.push(event.clone());
        }
    }
    into.events
        .sort_by_key(|e| HOOK_EVENTS.iter().position(|known| known == e));
    into.weight = into.weight.min(hook.weight);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{plan, plan_with, pod, rules};
    use crate::error::ProblemKind;
    use crate::plan::Options;

    fn in_namespace(ns: &str) -> String {
        pod("p", "r.example.com/x", "")
            .replace("  name: p\n", &format!("  name: p\n  namespace: {ns}\n"))
    }

    /// (documents, release namespace, the namespaces of the Secrets emitted)
    type Case = (Vec<String>, Option<&'static str>, Vec<Option<&'static str>>);

    #[test]
    fn one_secret_per_namespace_that_needs_it() {
        // (documents, release namespace, secret namespaces)
        let cases: [Case; 4] = [
            (vec![in_namespace("a")], None, vec![Some("a")]),
            (
                vec![in_namespace("a"), in_namespace("b")],
                None,
                vec![Some("a"), Some("b")],
            ),
            (
                vec![in_namespace("a"), in_namespace("a")],
                None,
                vec![Some("a")],
            ),
            // Without a namespace the document lands in the release's: one Secret, no namespace.
            (
                vec![pod("p", "r.example.com/x", ""), in_namespace("a")],
                Some("a"),
                vec![None],
            ),
        ];
        for (docs, release_ns, want) in cases {
            let options = Options {
                namespace: release_ns.map(str::to_string),
                ..Options::default()
            };
            let plan = plan_with(&rules(""), &docs.join("---\n"), &options).unwrap();
            let got: Vec<Option<&str>> = plan
                .secrets
                .iter()
                .map(|s| s.namespace.as_deref())
                .collect();
            assert_eq!(got, want, "{docs:?}");
        }
    }

    #[test]
    fn a_secret_in_the_input_is_kept_or_refused() {
        let secret = |ty: &str| {
            format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: pull}}\ntype: {ty}\n---\n")
        };
        let input = |ty: &str| format!("{}{}", secret(ty), pod("p", "r.example.com/x", ""));
        let ok = plan("", &input("kubernetes.io/dockerconfigjson"));
        assert!(
            ok.secrets.is_empty(),
            "the input's own Secret is kept, not emitted again"
        );
        let refused = plan_with(&rules(""), &input("Opaque"), &Options::default()).unwrap_err();
        assert!(matches!(
            refused.0[0].kind,
            ProblemKind::SecretConflict { .. }
        ));
    }

    #[test]
    fn a_registry_that_does_not_create_is_only_referenced() {
        let config = crate::Config::parse(
            "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: pull\n    create: false\n",
            "<test>",
        )
        .unwrap();
        let plan = plan_with(
            &config,
            &pod("p", "r.example.com/x", ""),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(plan.changes[0].added, ["pull"]);
        assert!(plan.secrets.is_empty());
    }

    /// Registries as a rules file lists them: `(server, secret)`.
    fn registries(entries: &[(&str, &str)]) -> crate::Config {
        let mut text =
            String::from("apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n");
        for (server, secret) in entries {
            text.push_str(&format!(
                "  - server: \"{server}\"\n    secret: {secret}\n    credentials: {{env: {{username: U, password: P}}}}\n"
            ));
        }
        crate::Config::parse(&text, "<test>").expect("rules")
    }

    /// (secret name, its auths keys) of the plan for pods pulling `images`.
    fn keys(config: &crate::Config, images: &[&str]) -> Vec<(String, Vec<String>)> {
        let input: Vec<String> = images
            .iter()
            .enumerate()
            .map(|(i, image)| pod(&format!("p{i}"), image, ""))
            .collect();
        let plan = plan_with(config, &input.join("---\n"), &Options::default()).unwrap();
        plan.secrets
            .iter()
            .map(|s| {
                let keys = s.auths.iter().map(|(_, k)| k.clone()).collect();
                (s.name.clone(), keys)
            })
            .collect()
    }

    #[test]
    fn a_secret_has_an_auths_key_for_every_host_spelling_the_kubelet_looks_up() {
        let hub = registries(&[("docker.io", "hub")]);
        // (images, the one Secret's keys): issue 13 item 2, the Docker Hub aliases.
        let cases: [(&[&str], &[&str]); 5] = [
            (&["nginx"], &["docker.io"]),
            (
                &["docker.io/bitnami/redis", "index.docker.io/x/y"],
                &["docker.io"],
            ),
            (
                &["registry.hub.docker.com/x/y"],
                &["docker.io", "registry.hub.docker.com"],
            ),
            (
                &[
                    "registry-1.docker.io/x/y",
                    "nginx",
                    "registry-1.docker.io/z",
                ],
                &["docker.io", "registry-1.docker.io"],
            ),
            (
                &["Registry-1.Docker.io/x"],
                &["docker.io", "Registry-1.Docker.io"],
            ),
        ];
        for (images, want) in cases {
            let want: Vec<String> = want.iter().map(|k| k.to_string()).collect();
            assert_eq!(
                keys(&hub, images),
                [("hub".to_string(), want)],
                "{images:?}"
            );
        }
    }

    #[test]
    fn registries_serve_exactly_what_the_kubelet_matches() {
        // Issue 13 item 3. (server, image, the Secret's keys when it serves the image)
        let cases: [(&str, &str, Option<&[&str]>); 9] = [
            (
                "*.dkr.ecr.eu-west-1.amazonaws.com",
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1",
                Some(&["*.dkr.ecr.eu-west-1.amazonaws.com"]),
            ),
            // `*` never spans a dot.
            ("*.example.com", "a.b.example.com/x", None),
            (
                "harbor.example.com/team-a",
                "harbor.example.com/team-a/x",
                Some(&["harbor.example.com/team-a"]),
            ),
            (
                "harbor.example.com/team-a",
                "harbor.example.com/team-b/x",
                None,
            ),
            // A string prefix, as the kubelet compares (and warned about).
            (
                "harbor.example.com/team-a",
                "harbor.example.com/team-ab/x",
                Some(&["harbor.example.com/team-a"]),
            ),
            (
                "harbor.example.com/team-a/",
                "harbor.example.com/team-ab/x",
                None,
            ),
            // The scheme and `/v2/` go: the kubelet reads the key that way.
            (
                "https://other.example.com/v2/",
                "other.example.com/x",
                Some(&["other.example.com"]),
            ),
            // Ports must be equal; no port is not :443.
            ("r.example.com:5000", "r.example.com/x", None),
            (
                "r.example.com:5000",
                "r.example.com:5000/x",
                Some(&["r.example.com:5000"]),
            ),
        ];
        for (server, image, want) in cases {
            let got = keys(&registries(&[(server, "pull")]), &[image]);
            let want: Vec<(String, Vec<String>)> = want
                .map(|keys| {
                    (
                        "pull".to_string(),
                        keys.iter().map(|k| k.to_string()).collect(),
                    )
                })
                .into_iter()
                .collect();
            assert_eq!(got, want, "{server} {image}");
        }
    }

    #[test]
    fn a_path_prefix_that_spans_a_path_component_is_warned_about() {
        let config = registries(&[("harbor.example.com/team-a", "pull")]);
        let warned = |image: &str| {
            let p = plan_with(&config, &pod("p", image, ""), &Options::default()).unwrap();
            p.warnings
                .iter()
                .any(|w| w.message.contains("string prefix"))
        };
        assert!(warned("harbor.example.com/team-ab/x"));
        assert!(!warned("harbor.example.com/team-a/x"));
    }
}
