//! helm-regcred: make private registries just work with Helm and Kustomize.
//!
//! The library is the whole engine; every front end (Helm 3/4 post-renderer, `helm regcred`
//! commands, KRM function, values preprocessor) is a thin adapter in `src/main.rs` and
//! `src/commands/`. Data flows one way:
//!
//! ```text
//! rules file ──► rules::Config ─┐
//!                                ├─► plan::plan() ─► Plan ─► output (stream) / diff / check
//! input bytes ─► stream::Stream ┘   (edits + Secrets)
//! ```
//!
//! * [`stream`] splits the input into [`stream::Document`]s, keeping each document's raw text.
//! * [`yaml`] parses a document into a span-carrying tree, lazily: a document whose kind no rule
//!   can touch (a 1 MB CRD) is never parsed past its `kind:`.
//! * [`kinds`] is the one table of where each built-in kind keeps its pod spec.
//! * [`rules`] loads and validates the rules file; [`selector`] matches resources.
//! * [`plan`] matches rules against resources and produces a [`plan::Plan`]: text edits and
//!   pull Secrets. Nothing is written while planning.
//! * [`edit`] computes the minimal text edits; [`output`] applies a plan, [`diff`] shows it.
//! * [`image`], [`secret`] and [`credentials`] are the registry-side domain: image references,
//!   the `kubernetes.io/dockerconfigjson` payload, and where usernames and passwords come from.
//!
//! The whole engine through the public API — rules, a stream, a plan, the output and its diff:
//!
//! ```
//! use helm_regcred::{Config, Options, Stream, diff, output, plan};
//!
//! let rules = Config::parse(
//!     "apiVersion: helm-regcred/v1\n\
//!      kind: RegcredConfig\n\
//!      registries:\n\
//!      - server: registry.example.com\n  \
//!        secret: example-pull\n  \
//!        credentials: {env: {username: USER, password: PASSWORD}}\n",
//!     "regcred.yaml",
//! )?;
//! let input = "kind: Pod\napiVersion: v1\nmetadata: {name: web}\n\
//!              spec:\n  containers:\n  - {name: web, image: registry.example.com/web:1}\n";
//! let stream = Stream::parse(input.as_bytes())?;
//! let plan = plan(&stream, &rules, &Options::default())?;
//! assert_eq!(plan.changes[0].added, ["example-pull"]);
//!
//! let env = |name: &str| Some(format!("{name}-value"));
//! let credentials = output::resolve_credentials(&plan, &rules, &env)?;
//! let out = output::render(&stream, &plan, &rules, &credentials);
//! assert!(out.starts_with("---\n# Source: helm-regcred/pull-secrets.yaml\n"));
//! assert!(out.ends_with("  imagePullSecrets:\n  - name: example-pull\n"));
//!
//! // The diff is a view of the same plan, with Secret data redacted.
//! let (before, after) = output::redacted_views(&stream, &plan, &rules);
//! assert!(diff::unified(&before, &after, false).contains("+  .dockerconfigjson: <redacted>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod credentials;
pub mod diff;
pub mod dockerconfig;
pub mod edit;
pub mod embedded;
pub mod error;
pub mod fieldpath;
pub mod image;
pub mod kinds;
pub mod krm;
pub mod output;
pub mod plan;
pub mod rules;
pub mod secret;
pub mod selector;
pub mod stream;
pub mod template;
pub mod trust;
pub mod values;
pub mod yaml;

pub use error::Error;
pub use plan::{Options, Plan, plan};
pub use rules::Config;
pub use stream::Stream;
