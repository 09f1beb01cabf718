//! Secret bookkeeping: which Secret names the rules give a resource, which namespaces need
//! them, the Secrets the input already has, and the Secrets the plan emits.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Need {
    pub(super) name: String,
    pub(super) namespace: Option<String>,
    pub(super) hook: bool,
}

impl Planner<'_, '_> {
    /// The Secrets to emit: each needed one that a registry creates and the input lacks.
    pub(super) fn emit_secrets(&mut self) {
        let needed = std::mem::take(&mut self.needed);
        for Need {
            name,
            namespace,
            hook,
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
            match self
                .plan
                .secrets
                .iter_mut()
                .find(|s| s.name == name && options.namespace_of(s.namespace.as_deref()) == key.1)
            {
                Some(secret) => secret.hook |= hook,
                None => self.plan.secrets.push(PlannedSecret {
                    name,
                    namespace,
                    registries,
                    hook,
                }),
            }
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
            None => images
                .iter()
                .flat_map(|image| config.registries_for_host(image.registry()))
                .map(|registry| registry.secret.as_str())
                .collect(),
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

    /// Record that the resource needs these Secrets, in its namespace and the extra ones.
    pub(super) fn need(&mut self, secrets: &[String], r: &Resource, extra_namespaces: &[String]) {
        let namespaces = std::iter::once(r.namespace.map(str::to_string))
            .chain(extra_namespaces.iter().map(|ns| Some(ns.clone())));
        for namespace in namespaces {
            for name in secrets {
                let found = self
                    .needed
                    .iter_mut()
                    .find(|n| &n.name == name && n.namespace == namespace);
                match found {
                    Some(need) => need.hook |= r.pre_hook,
                    None => self.needed.push(Need {
                        name: name.clone(),
                        namespace: namespace.clone(),
                        hook: r.pre_hook,
                    }),
                }
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
}
