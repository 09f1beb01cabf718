//! `registries:`: servers, Secret names, credentials, and entries that disagree.

use super::*;

pub(super) const CREDENTIALS_EXAMPLE: &str = "credentials: {env: {username: VAR, password: VAR}}";

/// A registry with where its entry starts, for cross-entry messages.
pub(super) struct Entry {
    pub(super) registry: Registry,
    pub(super) at: Option<Position>,
}

impl Validator<'_> {
    /// `None` when the entry lacks a server or secret: it cannot take part in later checks.
    pub(super) fn registry(&mut self, entry: Spanned<RawRegistry>) -> Option<Entry> {
        let at = pos(&entry.referenced);
        let RawRegistry {
            server,
            secret,
            email,
            credentials,
            create,
        } = entry.value;

        let server = match server {
            None => {
                self.report(
                    ProblemKind::MissingField,
                    at,
                    "registry entry has no `server`",
                    "add `server: <registry host>` as written in image references, e.g. \
                     `server: harbor.example.com` (`docker.io` for Docker Hub)",
                );
                None
            }
            Some(s) => Some(self.server(s)),
        };
        let host = server.as_ref().map(|s| normalize_registry_host(s));

        let secret = match secret {
            None => {
                let example = host
                    .as_deref()
                    .map_or_else(|| "regcred".to_string(), secret_name_for_host);
                self.report(
                    ProblemKind::MissingField,
                    at,
                    "registry entry has no `secret`",
                    format!("add the pull Secret's name, e.g. `secret: {example}`"),
                );
                None
            }
            Some(s) => {
                self.secret_name(&s);
                Some(s.value)
            }
        };

        let explicit_create = create.as_ref().map(|c| c.value);
        let create = explicit_create.unwrap_or(true);
        if create && credentials.is_none() {
            let what = match (&server, &secret) {
                (Some(server), Some(secret)) => {
                    format!("registry `{server}` creates Secret `{secret}`")
                }
                (Some(server), None) => format!("registry `{server}` creates its Secret"),
                _ => "this registry creates its Secret".to_string(),
            };
            let default = if explicit_create.is_none() {
                " (`create` defaults to true)"
            } else {
                ""
            };
            self.report(
                ProblemKind::MissingCredentials,
                at,
                format!("{what} but has no `credentials`{default}"),
                format!(
                    "add `{CREDENTIALS_EXAMPLE}` naming the environment variables, or \
                     `create: false` if the Secret already exists in the cluster"
                ),
            );
        }

        Some(Entry {
            registry: Registry {
                server: server?,
                host: host?,
                secret: secret?,
                email: email.map(|e| e.value),
                credentials: credentials.map(|c| c.value),
                create,
            },
            at,
        })
    }

    pub(super) fn server(&mut self, server: Spanned<String>) -> String {
        let at = pos(&server.referenced);
        let example = "write the registry host as in image references, e.g. \
                       `server: harbor.example.com` (`docker.io` for Docker Hub)";
        if server.value.trim().is_empty() {
            self.report(ProblemKind::EmptyServer, at, "`server` is empty", example);
        } else if server.value.chars().any(char::is_whitespace) {
            self.report(
                ProblemKind::InvalidServer,
                at,
                format!("`server` {:?} contains whitespace", server.value),
                example,
            );
        } else if normalize_registry_host(&server.value).is_empty() {
            self.report(
                ProblemKind::EmptyServer,
                at,
                format!("`server` `{}` has no host", server.value),
                example,
            );
        }
        server.value
    }

    pub(super) fn secret_name(&mut self, secret: &Spanned<String>) {
        let name = &secret.value;
        // A template is checked for syntax now and as a name once rendered, per resource.
        if crate::rules::template::is_template(name) {
            if let Err(e) = crate::rules::template::check_syntax(name) {
                self.report(
                    ProblemKind::InvalidTemplate,
                    pos(&secret.referenced),
                    format!("secret name template `{name}` does not parse: {e}"),
                    "write a minijinja template such as `secret: \
                     coding-registry-cred-{{ vars.user_id }}`",
                );
            }
            return;
        }
        if name.len() <= 253 && is_dns1123_subdomain(name) {
            return;
        }
        let message = if name.len() > 253 {
            format!(
                "secret name is {} characters long; Kubernetes allows at most 253",
                name.len()
            )
        } else {
            format!(
                "secret name `{name}` is not a valid Kubernetes Secret name: use lowercase \
                 letters, digits, `-` and `.`, starting and ending with a letter or digit"
            )
        };
        self.report(
            ProblemKind::InvalidSecretName,
            pos(&secret.referenced),
            message,
            format!("write `secret: {}`", sanitize_secret_name(name)),
        );
    }

    pub(super) fn registry_conflicts(&mut self, entries: &[Entry]) {
        for (i, entry) in entries.iter().enumerate() {
            let r = &entry.registry;
            let earlier = &entries[..i];
            if let Some(first) = earlier
                .iter()
                .find(|e| e.registry.host == r.host && e.registry.secret == r.secret)
            {
                self.report(
                    ProblemKind::DuplicateRegistry,
                    entry.at,
                    format!(
                        "registry `{}` with secret `{}` is already listed{}",
                        r.server,
                        r.secret,
                        line_ref(first.at)
                    ),
                    "delete this entry, or give it a different `secret:`",
                );
                continue;
            }
            // One Secret object serves all entries naming it; it cannot both be emitted and
            // be assumed to exist.
            if let Some(first) = earlier
                .iter()
                .find(|e| e.registry.secret == r.secret && e.registry.create != r.create)
            {
                self.report(
                    ProblemKind::ConflictingCreate,
                    entry.at,
                    format!(
                        "registries sharing Secret `{}` disagree on `create`: the entry{} has \
                         `create: {}`, this one `create: {}`",
                        r.secret,
                        line_ref(first.at),
                        first.registry.create,
                        r.create
                    ),
                    format!(
                        "use the same `create:` on every registry with `secret: {}`",
                        r.secret
                    ),
                );
            }
        }
    }
}

/// The nearest valid DNS-1123 subdomain, for hints: lowercased, other characters as `-`,
/// each `.`-label trimmed to start and end alphanumeric.
pub(crate) fn sanitize_secret_name(name: &str) -> String {
    let mapped: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let labels: Vec<String> = mapped
        .split('.')
        .map(|label| {
            let mut collapsed = String::new();
            for c in label.chars() {
                if !(c == '-' && collapsed.ends_with('-')) {
                    collapsed.push(c);
                }
            }
            collapsed.trim_matches('-').to_string()
        })
        .filter(|label| !label.is_empty())
        .collect();
    let mut out = labels.join(".");
    if out.len() > 253 {
        out.truncate(253);
        out = out.trim_end_matches(['-', '.']).to_string();
    }
    if out.is_empty() {
        "regcred".to_string()
    } else {
        out
    }
}

/// A Secret name to suggest for a registry host: `harbor.example.com:5000` ->
/// `harbor-example-com-5000`.
pub(super) fn secret_name_for_host(host: &str) -> String {
    sanitize_secret_name(&host.replace(['.', ':'], "-"))
}
