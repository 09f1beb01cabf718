//! `mode: serviceAccount`: list the Secrets on the ServiceAccounts pods run as, or emit them.

use super::*;

pub(super) struct SaNeed {
    pub(super) namespace: Option<String>,
    pub(super) name: String,
    pub(super) secrets: Vec<String>,
    pub(super) at: Location,
    pub(super) create: bool,
}

impl Planner<'_, '_> {
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
                ) {
                    Ok(edits) => self.plan.edits.extend(edits),
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
}
