//! Applying a plan: the output stream, and the redacted before/after texts the diff compares.

use std::collections::HashMap;

use crate::credentials::{Context, Credentials, Stdin};
use crate::edit::{self, Edit};
use crate::error::Error;
use crate::plan::{FILENAME_ANNOTATION, Plan, PlannedServiceAccount};
use crate::rules::Config;
use crate::secret::{Payload, RegistryAuth, SecretManifest, docker_config_json};
use crate::stream::Stream;
use crate::yaml::yaml_scalar;

/// The `# Source:` (Helm 3) and filename annotation (Helm 4) of every added Secret, so
/// `helm template --show-only helm-regcred/pull-secrets.yaml` selects them.
pub const SECRETS_SOURCE: &str = "helm-regcred/pull-secrets.yaml";

const REDACTED: &str = "<redacted>";

/// Credentials of the registries the plan's Secrets use, by index into `Config::registries`,
/// with `env` for environment lookups and stdin unavailable (it carries the manifests).
///
/// Only those registries are read, and all of them before anything is written: an entry whose
/// credentials cannot be read fails the run while stdout is still empty.
pub fn resolve_credentials(
    plan: &Plan,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HashMap<usize, Credentials>, Error> {
    let stdin = Stdin::unavailable(STDIN_TAKEN);
    let cx = Context {
        env,
        base_dir: config.dir(),
        stdin: &stdin,
    };
    resolve_credentials_with(plan, config, &cx)
}

/// Why `stdin: true` fails where the manifests arrive on stdin.
pub const STDIN_TAKEN: &str = "stdin carries the manifests here; read them from a file \
                               instead (`helm-regcred render -r RULES FILE`), or use \
                               `helm-regcred create-secret`";

/// [`resolve_credentials`] with every source available as `cx` allows (stdin, file paths).
/// Each registry is read once, so `stdin: true` consumes stdin once however many use it.
pub fn resolve_credentials_with(
    plan: &Plan,
    config: &Config,
    cx: &Context,
) -> Result<HashMap<usize, Credentials>, Error> {
    let mut resolved = HashMap::new();
    for &i in plan.secrets.iter().flat_map(|s| &s.registries) {
        if resolved.contains_key(&i) {
            continue;
        }
        let registry = &config.registries[i];
        let credentials = match &registry.credentials {
            Some(source) => source.resolve(&registry.server, cx),
            // The rules loader requires credentials for `create: true`; a plan only lists
            // registries that create, so this is a broken invariant, not a user error.
            None => unreachable!(
                "registry {} creates a Secret without credentials",
                registry.server
            ),
        }
        .map_err(|reason| Error::Credentials {
            server: registry.server.clone(),
            secret: registry.secret.clone(),
            reason: Box::new(reason),
        })?;
        resolved.insert(i, credentials);
    }
    Ok(resolved)
}

/// The added Secret documents; `credentials: None` writes `<redacted>` payloads (for diffs).
pub fn secret_documents(
    plan: &Plan,
    config: &Config,
    credentials: Option<&HashMap<usize, Credentials>>,
) -> Vec<String> {
    plan.secrets
        .iter()
        .map(|secret| {
            let json = credentials.map(|creds| {
                let auths: Vec<RegistryAuth> = secret
                    .registries
                    .iter()
                    .map(|&i| {
                        let registry = &config.registries[i];
                        let c = &creds[&i];
                        RegistryAuth {
                            server: registry.server.clone(),
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
                filename_annotation: plan.helm4,
                hook: secret.hook,
            }
            .render()
        })
        .collect()
}

/// Every document the plan adds, in install order: Secrets, then ServiceAccounts that list them.
pub fn added_documents(
    plan: &Plan,
    config: &Config,
    credentials: Option<&HashMap<usize, Credentials>>,
) -> Vec<String> {
    let mut docs = secret_documents(plan, config, credentials);
    docs.extend(
        plan.service_accounts
            .iter()
            .map(|sa| service_account_document(sa, plan.helm4)),
    );
    docs
}

/// The `# Source:` (and Helm 4 filename) of added ServiceAccounts.
pub const SERVICE_ACCOUNTS_SOURCE: &str = "helm-regcred/service-accounts.yaml";

fn service_account_document(sa: &PlannedServiceAccount, helm4: bool) -> String {
    // Helm 4 names documents by the annotation instead of the comment (see SecretManifest).
    let source = if helm4 {
        String::new()
    } else {
        format!("# Source: {SERVICE_ACCOUNTS_SOURCE}\n")
    };
    let mut out = format!(
        "---\n{source}apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {}\n",
        yaml_scalar(&sa.name)
    );
    if let Some(ns) = &sa.namespace {
        out.push_str(&format!("  namespace: {}\n", yaml_scalar(ns)));
    }
    if helm4 {
        out.push_str(&format!(
            "  annotations:\n    {FILENAME_ANNOTATION}: '{SERVICE_ACCOUNTS_SOURCE}'\n"
        ));
    }
    out.push_str("imagePullSecrets:\n");
    for name in &sa.secrets {
        out.push_str(&format!("- name: {}\n", yaml_scalar(name)));
    }
    out
}

/// The output stream: added documents first (Helm 3 creates resources in output order, so the
/// Secret exists before the pods that pull with it), then the input with the plan's edits.
pub fn assemble(stream: &Stream, added: &[String], edits: &[Edit]) -> String {
    if added.is_empty() && !stream.bom {
        return edit::apply(stream.text, edits);
    }
    // One buffer for the whole output: building the body apart and copying it in held the
    // output twice (a whole input's worth of memory on large streams).
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(
        stream.text.len() + extra + added.iter().map(String::len).sum::<usize>() + 8,
    );
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
    edit::apply_into(&mut out, stream.text, edits);
    out
}

/// Apply the plan for real.
pub fn render(
    stream: &Stream,
    plan: &Plan,
    config: &Config,
    credentials: &HashMap<usize, Credentials>,
) -> String {
    let added = added_documents(plan, config, Some(credentials));
    assemble(stream, &added, &plan.edits)
}

/// The input and output as the diff shows them: Secret data, old and new, is `<redacted>`.
pub fn redacted_views(stream: &Stream, plan: &Plan, config: &Config) -> (String, String) {
    let redactions: Vec<Edit> = plan
        .sensitive
        .iter()
        .map(|range| {
            // A block scalar's range ends at a line start; keep the line break it owns.
            let keeps_newline = stream.text[range.clone()].ends_with('\n');
            Edit {
                range: range.clone(),
                text: if keeps_newline {
                    format!("{REDACTED}{}", stream.newline)
                } else {
                    REDACTED.to_string()
                },
            }
        })
        .collect();
    let before = edit::apply(stream.text, &redactions);
    let mut edits: Vec<Edit> = plan.edits.iter().cloned().chain(redactions).collect();
    edits.sort_by_key(|e| e.range.start);
    let after = assemble(stream, &added_documents(plan, config, None), &edits);
    let before = if stream.bom {
        format!("\u{feff}{before}")
    } else {
        before
    };
    (before, after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Options, plan};

    const RULES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: pull\n    credentials: {env: {username: U, password: P}}\n";

    #[test]
    fn redacted_views_hide_every_secret_value() {
        let input = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  a: c2VjcmV0LWE=\nstringData:\n  b: |\n    secret-b\n  c: secret-c\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: r.example.com/x}]\n";
        let config = Config::parse(RULES, "<test>").unwrap();
        let stream = Stream::parse(input.as_bytes()).unwrap();
        let plan = plan(&stream, &config, &Options::default()).unwrap();
        let (before, after) = redacted_views(&stream, &plan, &config);
        for view in [&before, &after] {
            for secret in ["c2VjcmV0LWE=", "secret-b", "secret-c"] {
                assert!(!view.contains(secret), "{secret} in {view}");
            }
        }
        assert!(
            before.contains("  b: <redacted>\n  c: <redacted>\n"),
            "{before}"
        );
        assert!(after.contains(".dockerconfigjson: <redacted>"), "{after}");
    }
}
