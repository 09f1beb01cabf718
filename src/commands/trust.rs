//! The trust policy's flags (`--trust`, `--allow-*`), shared by the front ends that take flags
//! from whoever runs them. Each flag has an environment variable, so a server (an Argo CD
//! sidecar, a CI runner) sets the policy once for every run, kustomize's plugin included.

use std::path::PathBuf;

use anyhow::Context as _;
use helm_regcred::trust::{self, Policy, Settings, Trust};

#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Trust (rules written by someone else)")]
pub struct TrustArgs {
    /// How far the rules file is trusted: `trusted` (it may read any file, environment
    /// variable or credential helper you can) or `untrusted` (only what the --allow-* flags
    /// allow). Default: trusted, except for `krm` (untrusted); any --allow-* implies untrusted.
    #[arg(long, env = trust::TRUST_ENV, value_name = "MODE", value_parser = Trust::parse)]
    pub trust: Option<Trust>,
    /// Untrusted rules may read this environment variable in `credentials.env` (repeat, or
    /// separate with commas).
    #[arg(long, env = trust::ALLOW_ENV_ENV, value_name = "NAME", value_delimiter = ',')]
    pub allow_env: Vec<String>,
    /// Untrusted rules' templates may read `env.NAME` (repeat, or separate with commas). Kept
    /// apart from --allow-env: a rendered name is published in the manifests, a Secret's data
    /// is not.
    #[arg(long, env = trust::ALLOW_TEMPLATE_ENV_ENV, value_name = "NAME", value_delimiter = ',')]
    pub allow_template_env: Vec<String>,
    /// Untrusted rules may read `file:` and `dockerConfig:` sources under this directory
    /// (symlinks and `..` resolved first; repeat, or separate with `:`).
    #[arg(long, env = trust::ALLOW_DIR_ENV, value_name = "DIR", value_delimiter = ':')]
    pub allow_dir: Vec<PathBuf>,
    /// Untrusted rules may run this credential helper: `ecr-login` for
    /// `docker-credential-ecr-login` (repeat, or separate with commas).
    #[arg(long, env = trust::ALLOW_HELPER_ENV, value_name = "NAME", value_delimiter = ',')]
    pub allow_helper: Vec<String>,
}

impl TrustArgs {
    pub fn policy(&self, default: Trust) -> anyhow::Result<Policy> {
        // An empty variable (`HELM_REGCRED_ALLOW_ENV=`) is an empty list, not one empty name.
        let names = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|n| n.trim())
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect()
        };
        Settings {
            trust: self.trust,
            allow_env: names(&self.allow_env),
            allow_template_env: names(&self.allow_template_env),
            allow_dirs: self
                .allow_dir
                .iter()
                .filter(|d| !d.as_os_str().is_empty())
                .cloned()
                .collect(),
            allow_helpers: names(&self.allow_helper),
        }
        .policy(default)
        .context("the trust policy")
    }
}

/// The policy from the `HELM_REGCRED_*` variables alone, for front ends whose arguments do
/// not come from whoever runs them (kustomize passes the rules resource's `argsOneLiner`) or
/// that have no flags of their own for it (`check`, `values`, the helm wrappers).
pub fn from_env(default: Trust) -> anyhow::Result<Policy> {
    Settings::from_env(&super::process_env)
        .and_then(|s| s.policy(default))
        .context("the trust policy")
}
