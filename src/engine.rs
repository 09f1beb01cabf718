//! The one entry point: a [`Request`] in, an [`Outcome`] out. Every front end (post-renderer,
//! `render`, `check`, the `helm regcred` wrappers, kustomize, KRM) builds a request and prints
//! one of the outcome's views; none repeats the recipe (plan, read credentials, render).
//!
//! The engine reads nothing from the process: the rules come loaded, the input parsed, the
//! environment through [`Request::env`] and stdin through [`Request::stdin`].

use std::collections::HashMap;

use crate::error::Error;
use crate::input::SourceNaming;
use crate::input::stream::Stream;
use crate::plan::{self, Detail, Options, Plan, Warning};
use crate::registry::credentials::{Context, Credentials, Stdin};
use crate::rules::Config;
use crate::views::{diff, redact, stream as output};

/// An environment lookup (`env.NAME` in templates, `env:` credentials, `HOME`, `PATH`).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// No environment at all: a lookup for callers that have none to give.
pub fn no_env(_: &str) -> Option<String> {
    None
}

/// What to run the engine on.
pub struct Request<'a> {
    pub rules: &'a Config,
    pub stream: &'a Stream<'a>,
    pub options: Options,
    pub env: Env<'a>,
    /// What `stdin: true` credentials read; unavailable (with the reason) where stdin carries
    /// the manifests.
    pub stdin: Stdin,
    /// Read the credentials and write the real Secrets. `false` for a dry run or `check`: the
    /// plan and its redacted views only, and no credential is ever read.
    pub resolve_credentials: bool,
    /// What the plan keeps of each selected list.
    pub detail: Detail,
}

impl<'a> Request<'a> {
    /// A request with no options, no environment and no stdin, that resolves credentials.
    pub fn new(rules: &'a Config, stream: &'a Stream<'a>) -> Request<'a> {
        Request {
            rules,
            stream,
            options: Options::default(),
            env: &no_env,
            stdin: Stdin::unavailable("stdin is not available to credentials in this run"),
            resolve_credentials: true,
            detail: Detail::Changes,
        }
    }

    pub fn options(self, options: Options) -> Self {
        Request { options, ..self }
    }

    pub fn env(self, env: Env<'a>) -> Self {
        Request { env, ..self }
    }

    pub fn stdin(self, stdin: Stdin) -> Self {
        Request { stdin, ..self }
    }

    /// Keep counts of the selected lists, not a [`crate::plan::Change`] each: for a front end
    /// that shows no more than the summary line (the post-renderer).
    pub fn counts_only(self) -> Self {
        Request {
            detail: Detail::Counts,
            ..self
        }
    }

    /// Plan only: no credentials are read, [`Outcome::output`] is `None`.
    pub fn plan_only(self) -> Self {
        Request {
            resolve_credentials: false,
            ..self
        }
    }
}

/// The plan, and the views of it.
pub struct Outcome<'a> {
    pub plan: Plan,
    stream: &'a Stream<'a>,
    rules: &'a Config,
    naming: SourceNaming,
    credentials: Option<HashMap<usize, Credentials>>,
}

/// Plan `request`, then read the credentials of the Secrets the plan emits (unless plan only).
///
/// All problems with the input are collected before returning; every credential is read before
/// anything is rendered, so a failure leaves nothing half-written.
pub fn run(request: Request<'_>) -> Result<Outcome<'_>, Error> {
    let Request {
        rules,
        stream,
        options,
        env,
        stdin,
        resolve_credentials,
        detail,
    } = request;
    let plan = plan::plan(stream, rules, &options, env, detail)?;
    let credentials = if resolve_credentials {
        let cx = Context {
            env,
            base_dir: rules.dir(),
            stdin: &stdin,
            policy: &options.trust,
        };
        Some(credentials_of(&plan, rules, &cx)?)
    } else {
        None
    };
    Ok(Outcome {
        plan,
        stream,
        rules,
        naming: SourceNaming::of(stream),
        credentials,
    })
}

/// Credentials of the registries the plan's Secrets use, by index into `Config::registries`.
/// Only those registries are read, each once (so `stdin: true` consumes stdin once however many
/// use it).
fn credentials_of(
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

impl Outcome<'_> {
    pub fn warnings(&self) -> &[Warning] {
        &self.plan.warnings
    }

    /// The documents the plan adds (Secrets, then ServiceAccounts); payloads `<redacted>` when
    /// the credentials were not read.
    pub fn added_documents(&self) -> Vec<String> {
        output::added_documents(
            &self.plan,
            self.rules,
            self.naming,
            self.credentials.as_ref(),
        )
    }

    /// The output stream; `None` for a plan-only request.
    pub fn output(&self) -> Option<String> {
        self.write_output(|pieces| pieces.collect())
    }

    /// The output stream handed to `write` as pieces to write in order (`None` for a
    /// plan-only request): a front end that writes them to stdout never holds the output
    /// whole, which on a large stream was a second copy of the input in memory.
    pub fn write_output<R>(
        &self,
        write: impl FnOnce(&mut dyn Iterator<Item = &str>) -> R,
    ) -> Option<R> {
        self.credentials.as_ref()?;
        let added = output::in_stream_newlines(self.stream, self.added_documents());
        Some(write(&mut output::pieces(
            self.stream,
            &added,
            &self.plan.edits,
        )))
    }

    /// The input and the output as the diff shows them, Secret data `<redacted>` in both.
    pub fn redacted(&self) -> (String, String) {
        let added = output::added_documents(&self.plan, self.rules, self.naming, None);
        redact::redacted_views(self.stream, &self.plan, &added)
    }

    /// The one-line summary of what changed.
    pub fn summary(&self) -> String {
        diff::summary(&self.plan)
    }

    /// The unified diff of the redacted views.
    pub fn diff(&self, color: bool) -> String {
        let (before, after) = self.redacted();
        diff::unified(&before, &after, color)
    }
}
