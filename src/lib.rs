//! helm-regcred: make private registries just work with Helm and Kustomize.
//!
//! The library is the whole engine; every front end (Helm 3/4 post-renderer, `helm regcred`
//! commands, KRM function, kustomize plugin, `check`) is a thin adapter in `src/commands/` that
//! builds a [`Request`], calls [`run`] and prints a view of the [`Outcome`]. Data flows one way
//! (docs/architecture.md draws it):
//!
//! ```text
//! rules file ──► rules::Config ─┐
//!                                ├─► plan ─► Plan ─► views: output stream / diff / check
//! input bytes ─► input::Stream  ┘   (edits + Secrets)
//! ```
//!
//! * [`input`] reads the input and splits it into documents, keeping each one's raw text, and
//!   knows what its source says (Helm 3 `# Source:` comments, the Helm 4 filename annotation).
//! * [`yaml`] parses a document into a span-carrying tree, lazily: a document whose kind no rule
//!   can touch (a 1 MB CRD) is never parsed past its `kind:`.
//! * [`kinds`] is the one table of where each built-in kind keeps its pod spec.
//! * [`rules`] loads and validates the rules file, with its selectors and templates.
//! * [`plan`] matches rules against resources and produces a [`Plan`]: text edits and pull
//!   Secrets. Nothing is written while planning.
//! * [`edit`] computes the minimal text edits (also inside configs embedded as strings).
//! * [`registry`] is the registry-side domain: image references, the
//!   `kubernetes.io/dockerconfigjson` payload, and where usernames and passwords come from.
//! * [`views`] turn a plan into the output stream and the redacted diff.
//! * [`adapters`] speak the protocols of other tools: KRM `ResourceList`s, Helm's command line.
//!
//! The whole engine through the public API — rules, a stream, a request, the output and its
//! diff:
//!
//! ```
//! use helm_regcred::{Config, Request, Stream};
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
//! // The engine reads no environment of its own: the caller passes a lookup.
//! let env = |name: &str| Some(format!("{name}-value"));
//! let outcome = helm_regcred::run(Request::new(&rules, &stream).env(&env))?;
//! assert_eq!(outcome.plan.changes[0].added, ["example-pull"]);
//!
//! let out = outcome.output().expect("credentials were read");
//! assert!(out.starts_with("---\n# Source: helm-regcred/pull-secrets.yaml\n"));
//! assert!(out.ends_with("  imagePullSecrets:\n  - name: example-pull\n"));
//!
//! // The diff is a view of the same plan, with Secret data redacted.
//! assert!(outcome.diff(false).contains("+  .dockerconfigjson: <redacted>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod adapters;
pub(crate) mod edit;
pub mod engine;
pub mod error;
pub mod input;
pub mod kinds;
pub mod names;
pub mod plan;
pub mod registry;
pub mod rules;
pub mod trust;
pub mod values;
pub mod views;
pub mod yaml;

pub use edit::Syntax;
pub use engine::{Outcome, Request, run};
pub use error::Error;
pub use input::stream::Stream;
pub use plan::{Options, Plan};
pub use rules::Config;
