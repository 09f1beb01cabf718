//! helm-regcred: make private registries just work with Helm and Kustomize.
//!
//! The library is the whole engine; every front end (Helm 3/4 post-renderer, `helm regcred`
//! commands, KRM function, values preprocessor) is a thin adapter in `src/main.rs` and
//! `src/commands/`. Data flows one way:
//!
//! ```text
//! rules file ──► rules::Config ─┐
//!                                ├─► plan::plan() ─► Plan ─► apply / diff / check
//! input bytes ─► stream::Stream ┘   (edits + Secrets)
//! ```
//!
//! * [`stream`] splits the input into [`stream::Document`]s, keeping each document's raw text.
//! * [`yaml`] parses a document into a span-carrying tree, lazily: a document whose kind no rule
//!   can touch (a 1 MB CRD) is never parsed past its `kind:`.
//! * [`kinds`] is the one table of where each built-in kind keeps its pod spec.
//! * [`plan`] matches rules against resources and produces a [`plan::Plan`]: text edits and
//!   pull Secrets. Nothing is written while planning.
//! * [`apply`] turns a plan into output text; [`diff`] renders the same plan as a redacted diff.

pub mod credentials;
pub mod image;
pub mod rules;
pub mod secret;
pub mod selector;
