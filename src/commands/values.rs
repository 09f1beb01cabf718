//! `values`: a Helm values override that fills the chart's own pull secret keys from the rules,
//! for charts installed without a post-renderer (`helm install -f`). Arguments → a
//! [`values::Request`] → the override and a report; `--verify` renders the chart with it and
//! fails when a pod still lacks a pull secret.
//!
//! A chart without any pull secret key is an error (exit 1, nothing written): an empty override
//! would look like success while no pod gets a pull secret.

use std::path::PathBuf;
use std::process::ExitCode;

use helm_regcred::Config;
use helm_regcred::values::{
    self, Basis, Fetch, Helm, Origin, Release, Request, Session, UserValues, ValuesOverride,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The chart, as Helm takes it: a directory, a `.tgz`, `repo/chart`, `oci://host/path/chart`,
    /// or a chart name with `--repo URL`. What is not on disk is fetched with `helm pull`.
    #[arg(value_name = "CHART")]
    pub chart: String,
    /// The rules file.
    #[arg(
        short,
        long,
        env = "HELM_REGCRED_RULES",
        default_value = "regcred.yaml"
    )]
    pub rules: PathBuf,
    /// Values files the release is installed with, in Helm's order (later files win); their
    /// pull secret entries are kept.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// `--set` values the release is installed with (passed to Helm as they are).
    #[arg(long, value_name = "KEY=VAL")]
    pub set: Vec<String>,
    #[arg(long = "set-string", value_name = "KEY=VAL")]
    pub set_string: Vec<String>,
    #[arg(long = "set-json", value_name = "KEY=JSON")]
    pub set_json: Vec<String>,
    #[arg(long = "set-file", value_name = "KEY=FILE")]
    pub set_file: Vec<String>,
    #[arg(long = "set-literal", value_name = "KEY=VAL")]
    pub set_literal: Vec<String>,
    /// Chart version (`helm pull --version`): a version or a constraint.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Also consider development versions (`helm pull --devel`).
    #[arg(long)]
    pub devel: bool,
    /// Chart repository URL (`helm pull --repo`).
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// Use plain HTTP for an OCI registry (`helm pull --plain-http`).
    #[arg(long = "plain-http")]
    pub plain_http: bool,
    #[arg(long = "insecure-skip-tls-verify")]
    pub insecure_skip_tls_verify: bool,
    #[arg(long = "ca-file", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    #[arg(long = "cert-file", value_name = "FILE")]
    pub cert_file: Option<PathBuf>,
    #[arg(long = "key-file", value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// The helm binary (default: $HELM_BIN, set by Helm for plugins, else `helm` on PATH).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// Release name the probe renders use (names and conditions that depend on it).
    #[arg(long, default_value = "release-name", value_name = "NAME")]
    pub release: String,
    /// Release namespace the probe renders use.
    #[arg(short, long, env = "HELM_NAMESPACE", value_name = "NS")]
    pub namespace: Option<String>,
    /// Kubernetes version for `.Capabilities` (`helm template --kube-version`).
    #[arg(long = "kube-version", value_name = "VERSION")]
    pub kube_version: Option<String>,
    /// API versions for `.Capabilities` (`helm template --api-versions`).
    #[arg(short = 'a', long = "api-versions", value_name = "VERSION")]
    pub api_versions: Vec<String>,
    /// Write the override here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a pod spec still lacks a pull secret with the override (the chart is always
    /// rendered with your values plus the override and checked; without this, only warnings).
    #[arg(long)]
    pub verify: bool,
}

impl Args {
    fn request(&self, trust: helm_regcred::trust::Policy) -> Request {
        Request {
            chart: self.chart.clone(),
            fetch: Fetch {
                version: self.version.clone(),
                devel: self.devel,
                repo: self.repo.clone(),
                plain_http: self.plain_http,
                insecure_skip_tls_verify: self.insecure_skip_tls_verify,
                ca_file: self.ca_file.clone(),
                cert_file: self.cert_file.clone(),
                key_file: self.key_file.clone(),
            },
            user: UserValues {
                files: self.values.clone(),
                set: self.set.clone(),
                set_string: self.set_string.clone(),
                set_json: self.set_json.clone(),
                set_file: self.set_file.clone(),
                set_literal: self.set_literal.clone(),
            },
            release: Release {
                name: self.release.clone(),
                namespace: self.namespace.clone().filter(|n| !n.is_empty()),
                kube_version: self.kube_version.clone(),
                api_versions: self.api_versions.clone(),
            },
            helm: Helm::locate(
                self.helm.as_deref().map(|p| p.as_os_str()),
                std::env::var_os("HELM_BIN"),
            ),
            env: super::process_env,
            trust,
        }
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let policy = super::trust::from_env(helm_regcred::trust::Trust::Trusted)?;
    policy.check_rules_path(&args.rules)?;
    let mut config = Config::load(&args.rules)?;
    values::render_secret_names(&mut config, super::process_env, &policy)?;
    let session = Session::open(args.request(policy))?;
    let plan = session.plan(&config)?;
    let text = values::write::values_file(&header(&session, args), &plan.values());
    // Always checked, so that no pod is left without its secrets silently; `--verify` makes
    // it the exit code.
    let uncovered = session.verify(&config, &text)?;
    match &args.output {
        Some(path) => std::fs::write(path, &text).map_err(|source| values::ValuesError::Write {
            path: path.clone(),
            source,
        })?,
        None => super::write_stdout(text.as_bytes())?,
    }
    report(&plan);
    let label = if args.verify { "verify" } else { "warning" };
    for finding in &uncovered {
        eprintln!(
            "helm-regcred: {label}: with the override, {}",
            finding.message
        );
    }
    if uncovered.is_empty() {
        wrote(args);
        if args.verify {
            eprintln!(
                "helm-regcred: verify: with the override, every pod spec the rules select has its pull secrets"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "helm-regcred: {label}: {} private pull{} would still have no credential; use the \
         post-renderer for {}",
        uncovered.len(),
        if uncovered.len() == 1 { "" } else { "s" },
        if uncovered.len() == 1 { "it" } else { "them" }
    );
    wrote(args);
    Ok(if args.verify {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn header(session: &Session, args: &Args) -> String {
    let rules = args.rules.display();
    let output = args
        .output
        .as_ref()
        .map_or("<this file>".to_string(), |p| p.display().to_string());
    let user = args.request(Default::default()).user.describe();
    let user = if user.is_empty() {
        user
    } else {
        format!(" {user}")
    };
    let fetched = match session.origin {
        Origin::Remote => format!(
            "{}{}",
            args.repo
                .as_ref()
                .map(|r| format!(" --repo {r}"))
                .unwrap_or_default(),
            args.version
                .as_ref()
                .map(|v| format!(" --version {v}"))
                .unwrap_or_default()
        ),
        _ => String::new(),
    };
    format!(
        "Generated by helm-regcred values from chart {} and rules {rules}.\n\
         Do not edit: regenerate it when the chart, the rules or your values change.\n\
         Give it to Helm after your own values files, so that it wins:\n  \
         helm install RELEASE {chart}{fetched}{user} -f {output}\n\
         It only names the pull Secrets; they must exist in the release namespace.",
        session.chart.title(),
        chart = args.chart,
    )
}

/// What went where and why, on stderr, so the user can check the choices.
fn report(plan: &ValuesOverride) {
    for warning in &plan.warnings {
        eprintln!("helm-regcred: warning: {warning}");
    }
    for key in &plan.keys {
        let why = match &key.basis {
            Basis::Pods(pods) => format!("reaches {}", pods.join(", ")),
            Basis::Elsewhere { docs, hosts } if hosts.is_empty() => format!(
                "reaches only {}, which names no image next to the key",
                docs.join(", ")
            ),
            Basis::Elsewhere { docs, hosts } => format!(
                "reaches only {}; images from {} next to it",
                docs.join(", "),
                hosts.join(", ")
            ),
            Basis::Unused => "no template reads it with these values".into(),
        };
        let what = if key.added.is_empty() {
            "nothing to add".to_string()
        } else {
            format!("+ {}", key.added.join(", "))
        };
        eprintln!("helm-regcred: {}: {what} ({why})", key.dotted());
    }
    for pod in &plan.unreached {
        let why = if pod.no_key {
            "no values key of the chart reaches its pod spec"
        } else {
            "every key reaching it would list a secret twice on another pod"
        };
        eprintln!(
            "helm-regcred: warning: {} still lacks {}: {why}; use the post-renderer for it",
            pod.pod,
            pod.missing.join(", ")
        );
    }
}

fn wrote(args: &Args) {
    if let Some(path) = &args.output {
        eprintln!(
            "helm-regcred: wrote {}; pass it last: helm install RELEASE {} ... -f {}",
            path.display(),
            args.chart,
            path.display()
        );
    }
}
