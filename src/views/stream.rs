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
pub fn auths_keys(secret: &PlannedSecret) -> Vec<(usize, String)> {
    secret.auths.clone()
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
                let auths: Vec<RegistryAuth> = auths_keys(secret)
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
                hook: secret.hook.as_ref(),
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

/// The added documents in the stream's own line endings (`\r\n` if its first line ends so).
pub(crate) fn in_stream_newlines(stream: &Stream, docs: Vec<String>) -> Vec<String> {
    if stream.newline == "\n" {
        return docs;
    }
    docs.into_iter()
        .map(|doc| doc.replace('\n', stream.newline))
        .collect()
}

/// The output stream: added documents first (Helm 3 creates resources in output order, so the
/// Secret exists before the pods that pull with it), then the input with the plan's edits.
/// `added` is in the stream's line endings ([`in_stream_newlines`]).
pub(crate) fn assemble(stream: &Stream, added: &[String], edits: &[Edit]) -> String {
    pieces(stream, added, edits).collect()
}

/// [`assemble`] as pieces to write in order, borrowed from the input, the added documents and
/// the edits: the output is never built whole (on a large stream that was a second copy of the
/// input in memory).
pub(crate) fn pieces<'a>(
    stream: &Stream<'a>,
    added: &'a [String],
    edits: &'a [Edit],
) -> impl Iterator<Item = &'a str> {
    let bom = stream.bom.then_some("\u{feff}");
    let first_is_explicit = stream.docs.first().is_some_and(|d| d.explicit_start);
    // Added documents end with a line break; the input's first document then needs a `---`.
    let separator = (!added.is_empty() && !stream.docs.is_empty() && !first_is_explicit)
        .then_some(["---", stream.newline]);
    bom.into_iter()
        .chain(added.iter().map(String::as_str))
        .chain(separator.into_iter().flatten())
        .chain(edit::pieces(stream.text, edits))
}
