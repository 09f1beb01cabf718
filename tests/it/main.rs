//! All integration tests, in one binary (one link, shared helpers).

mod argocd;
mod check;
mod cli;
mod completion;
mod corpus;
mod create_secret;
mod credentials;
mod docs;
mod explain;
mod faults;
mod helm;
mod helm4;
mod image;
mod image_oracle;
mod krm;
mod kustomize;
mod leaks;
mod list_items;
mod plugin;
mod release;
mod schema;
mod targets;
mod util;
mod values;
mod workflows;
