//! The output stream: the documents the plan adds, then the input with the plan's edits.

use std::collections::HashMap;

use crate::edit::document::NewDocument;
use crate::edit::{self, Edit};
use crate::input::SourceNaming;
use crate::input::stream::Stream;
use crate::plan::{Plan, PlannedSecret, PlannedServiceAccount};
use crate::registry::credentials::Credentials;
use crate::registry::secret::{Payload, RegistryAuth, SecretManifest, docker_config_json};
use crate::rules::Config;
use crate::yaml::yaml_scalar;

/// The `# Source:` (Helm 3) and filename annotation (Helm 4) of every added Secret, so
/// `helm template --show-only helm-regcred/pull-secrets.yaml` selects them.
pub const SECRETS_SOURCE: &str = "helm-regcred/pull-secrets.yaml";

/// The `# Source:` (and Helm 4 filename) of added ServiceAccounts.
pub const SERVICE_ACCOUNTS_SOURCE: &str = "helm-regcred/service-accounts.yaml";

/// The `auths` keys of a planned Secret, each with the registry whose credentials it carries:
/// the one place that decides them, so `check` sees the same keys the payload gets.
pub fn auths_keys(secret: &PlannedSecret, config: &Config) -> Vec<(usize, String)> {
    secret
        .registries
        .iter()
        .map(|&i| (i, config.registries[i].server.clone()))
        .collect()
}

/// The added Secret documents; `credentials: None` writes `<redacted>` payloads (for diffs).
pub(crate) fn secret_documents(
    plan: &Plan,
    config: &Config,
    naming: SourceNaming,
    credentials: Option<&HashMap<usize, Credentials>>,
) -> Vec<String> {
    plan.secrets
        .iter()
        .map(|secret| {
            let json = credentials.map(|creds| {
                let auths: Vec<RegistryAuth> = auths_keys(secret, config)
                    .into_iter()
                    .map(|(i, server)| {
                        let registry = &config.registries[i];
                        let c = &creds[&i];
                        RegistryAuth {
                            server,
                            username: c.username.clone(),
                            password: c.password.clone(),
                            email: registry.email.clone(),
                        }
                    })
                    .collect();
                docker_config_json(&auths)
            });
            SecretManifest {
                name: &secret.name,
                namespace: secret.namespace.as_deref(),
                payload: json.as_deref().map_or(Payload::Redacted, Payload::Data),
                source: SECRETS_SOURCE,
                filename_annotation: naming == SourceNaming::Annotation,
                hook: secret.hook,
            }
            .render()
        })
        .collect()
}

/// Every document the plan adds, in install order: Secrets, then ServiceAccounts that list them.
pub(crate) fn added_documents(
    plan: &Plan,
    config: &Config,
    naming: SourceNaming,
    credentials: Option<&HashMap<usize, Credentials>>,
) -> Vec<String> {
    let mut docs = secret_documents(plan, config, naming, credentials);
    docs.extend(
        plan.service_accounts
            .iter()
            .map(|sa| service_account_document(sa, naming)),
    );
    docs
}

fn service_account_document(sa: &PlannedServiceAccount, naming: SourceNaming) -> String {
    let mut out = NewDocument {
        api_version: "v1",
        kind: "ServiceAccount",
        name: &sa.name,
        namespace: sa.namespace.as_deref(),
        source: SERVICE_ACCOUNTS_SOURCE,
        filename_annotation: naming == SourceNaming::Annotation,
        annotations: &[],
    }
    .header();
    out.push_str("imagePullSecrets:\n");
    for name in &sa.secrets {
        out.push_str("- name: ");
        out.push_str(&yaml_scalar(name));
        out.push('\n');
    }
    out
}

/// The output stream: added documents first (Helm 3 creates resources in output order, so the
/// Secret exists before the pods that pull with it), then the input with the plan's edits.
pub(crate) fn assemble(stream: &Stream, added: &[String], edits: &[Edit]) -> String {
    let body = edit::apply(stream.text, edits);
    if added.is_empty() && !stream.bom {
        return body;
    }
    let mut out =
        String::with_capacity(body.len() + added.iter().map(String::len).sum::<usize>() + 8);
    if stream.bom {
        out.push('\u{feff}');
    }
    for doc in added {
        if stream.newline == "\n" {
            out.push_str(doc);
        } else {
            out.push_str(&doc.replace('\n', stream.newline));
        }
    }
    let first_is_explicit = stream.docs.first().is_some_and(|d| d.explicit_start);
    if !added.is_empty() && !stream.docs.is_empty() && !first_is_explicit {
        out.push_str("---");
        out.push_str(stream.newline);
    }
    out.push_str(&body);
    out
}
