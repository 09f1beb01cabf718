//! `check`, the CI gate: a view of the cluster simulation ([`crate::views::kubelet`]) over a
//! stream.
//!
//! Every pod spec of every workload counts, whether or not a rule selects it. An image needs a
//! credential when a registry of the rules serves it (a private pull); a finding is a private
//! pull for which no Secret the pod can use — its own list, else its ServiceAccount's, in its
//! namespace, in the stream, emitted by the rules or declared with `create: false` — has an
//! `auths` key the kubelet would send. Warnings: rules that select nothing, registries no image
//! uses, images the runtime cannot parse, pod specs that cannot be read.
//!
//! The stream is taken as final (a post-rendered stream, or manifests as they will be
//! applied); the Secrets the rules would emit for it count as present, so that `helm regcred
//! check RELEASE CHART` on a chart whose values reference the rules' secret passes.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

use crate::engine::Env;
use crate::error::{Error, Location};
use crate::input::stream::Stream;
use crate::plan::{Options, plan};
use crate::registry::keyring::{Entry, kubelet_name};
use crate::rules::Config;
use crate::views::kubelet::{
    self, Cluster, KnownSecret, Pod, Pull, SecretOrigin, SecretState, ServiceAccountOrigin,
};

/// The report's `apiVersion` and `kind`, so a consumer can tell versions apart.
pub const API_VERSION: &str = "helm-regcred/v1";
pub const KIND: &str = "CheckReport";

/// The whole result of a check, as `--output json` prints it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(title = "helm-regcred check report")]
pub struct Report {
    /// Always `helm-regcred/v1`.
    #[schemars(schema_with = "api_version_schema")]
    pub api_version: &'static str,
    /// Always `CheckReport`.
    #[schemars(schema_with = "kind_schema")]
    pub kind: &'static str,
    pub summary: Summary,
    /// Private pulls without a credential: each one fails `check`.
    pub findings: Vec<Finding>,
    /// Fail `check` only with `--strict`.
    pub warnings: Vec<Finding>,
    /// Every pod spec, with each image and the credential the kubelet would send for it.
    pub pods: Vec<PodReport>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub pod_specs: usize,
    pub images: usize,
    /// Images a registry of the rules serves.
    pub private_pulls: usize,
    /// Private pulls the kubelet has a credential for.
    pub covered: usize,
    pub findings: usize,
    pub warnings: usize,
    /// `--strict`: warnings count as findings.
    pub strict: bool,
    /// 0: every private pull is covered (and, with `--strict`, no warnings); 1: findings.
    pub exit_code: u8,
}

/// One problem, located the way a user finds it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub code: FindingCode,
    pub message: String,
    /// 1-based document position in the stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<usize>,
    /// `Kind/name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Helm's `# Source:` file (Helm 3) or filename annotation (Helm 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// 1-based line in the stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based line in the template's rendered output (Helm 3 `# Source:` documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_line: Option<usize>,
    /// The container, e.g. `spec.template.spec.containers[0]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The rules registry's `server`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum FindingCode {
    /// A private pull the kubelet has no credential for.
    MissingCredential,
    /// A rule that selects no resource.
    UnmatchedRule,
    /// A registry no image comes from.
    UnusedRegistry,
    /// An image reference the runtime would refuse.
    InvalidImage,
    /// A pod spec that could not be read.
    UnreadablePodSpec,
}

impl FindingCode {
    /// As in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::MissingCredential => "missingCredential",
            FindingCode::UnmatchedRule => "unmatchedRule",
            FindingCode::UnusedRegistry => "unusedRegistry",
            FindingCode::InvalidImage => "invalidImage",
            FindingCode::UnreadablePodSpec => "unreadablePodSpec",
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PodReport {
    pub document: usize,
    pub kind: String,
    pub name: String,
    /// `""`: the release namespace, not given.
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub line: usize,
    pub path: String,
    pub service_account: String,
    /// The pull secrets the kubelet is given, in order.
    pub image_pull_secrets: Vec<String>,
    /// The list came from the ServiceAccount (the pod lists none).
    pub from_service_account: bool,
    pub images: Vec<ImageReport>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageReport {
    pub container: String,
    /// As written in the manifest.
    pub image: String,
    /// Fully qualified (`docker.io/library/nginx:latest`); absent when invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The rules registry serving it (its `server`): a private pull.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    pub status: PullStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_by: Option<ServedBy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PullStatus {
    /// Private, and the kubelet has a credential for it.
    Covered,
    /// Private, and no credential: a finding.
    Missing,
    /// No registry of the rules serves it.
    Public,
    /// The reference does not parse.
    Invalid,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServedBy {
    pub secret: String,
    /// The `auths` key the kubelet matched.
    pub key: String,
    /// Matched by the Docker Hub fallback for an `index.docker.io` key.
    pub docker_hub_default: bool,
}

fn api_version_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"description": "Always `helm-regcred/v1`.", "const": API_VERSION})
}

fn kind_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"description": "Always `CheckReport`.", "const": KIND})
}

/// The JSON Schema of [`Report`] (committed as `check-report.schema.json`).
pub fn report_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Report>();
    schema.to_value()
}

/// The Secrets the rules make helm-regcred emit for this stream, and those they declare as
/// existing: what a pod may use beyond the stream's own Secrets.
pub fn cluster_for(
    stream: &Stream,
    config: &Config,
    options: &Options,
    env: Env,
) -> Result<Cluster, Error> {
    let plan = plan(stream, config, options, env, crate::plan::Detail::Changes)?;
    let mut cluster = Cluster::from_rules(config);
    for secret in &plan.secrets {
        let namespace = secret
            .namespace
            .clone()
            .or_else(|| options.namespace.clone())
            .unwrap_or_default();
        cluster.secrets.push(KnownSecret {
            name: secret.name.clone(),
            namespace: Some(namespace),
            keys: crate::views::stream::auths_keys(secret)
                .into_iter()
                .map(|(_, key)| key)
                .collect(),
            origin: SecretOrigin::Emitted,
        });
    }
    Ok(cluster)
}

/// Runs the check; `env` answers templates' `env.NAME`.
pub fn check(
    stream: &Stream,
    config: &Config,
    options: &Options,
    env: Env,
    strict: bool,
) -> Result<Report, Error> {
    let cluster = cluster_for(stream, config, options, env)?;
    let view = kubelet::simulate(stream, config, options, &cluster, env)?;
    Ok(report(&view, config, strict))
}

/// The report of a simulation.
pub fn report(view: &kubelet::View, config: &Config, strict: bool) -> Report {
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let mut pods = Vec::new();
    let (mut images, mut private, mut covered) = (0, 0, 0);
    for pod in &view.pods {
        let mut image_reports = Vec::new();
        for pull in &pod.pulls {
            images += 1;
            let status = match (&pull.image, pull.registry, &pull.served) {
                (Err(_), _, _) => PullStatus::Invalid,
                (Ok(_), None, _) => PullStatus::Public,
                (Ok(_), Some(_), Some(_)) => PullStatus::Covered,
                (Ok(_), Some(_), None) => PullStatus::Missing,
            };
            match status {
                PullStatus::Covered => {
                    private += 1;
                    covered += 1;
                }
                PullStatus::Missing => {
                    private += 1;
                    findings.push(missing_credential(pod, pull, config));
                }
                PullStatus::Invalid => {
                    let reason = pull.image.as_ref().err().cloned().unwrap_or_default();
                    let mut finding =
                        pod_finding(pod, pull, FindingCode::InvalidImage, reason.clone());
                    finding.message = format!(
                        "{}: {}.{} {reason}; the runtime cannot pull it",
                        pod.at, pod.path, pull.container
                    );
                    warnings.push(finding);
                }
                PullStatus::Public => {}
            }
            image_reports.push(ImageReport {
                container: pull.container.clone(),
                image: pull.written.clone(),
                reference: pull.image.as_ref().ok().map(|i| i.full().to_string()),
                registry: pull.registry.map(|i| config.registries[i].server.clone()),
                status,
                served_by: pull.served.as_ref().map(|s| ServedBy {
                    secret: s.secret.clone(),
                    key: s.key.clone(),
                    docker_hub_default: s.docker_hub_default,
                }),
            });
        }
        pods.push(PodReport {
            document: pod.at.doc,
            kind: pod.kind.clone(),
            name: pod.name.clone(),
            namespace: pod.namespace.clone(),
            source: pod.at.source.clone(),
            line: pod.line,
            path: pod.path.clone(),
            service_account: pod.service_account.clone(),
            image_pull_secrets: pod.secrets.iter().map(|s| s.name.clone()).collect(),
            from_service_account: pod.inherited.is_some(),
            images: image_reports,
        });
    }
    for (at, message) in &view.notes {
        warnings.push(located(
            at,
            FindingCode::UnreadablePodSpec,
            format!("{at}: {message}"),
        ));
    }
    for (rule, used) in config.rules.iter().zip(&view.rule_used) {
        if !used {
            warnings.push(Finding {
                rule: Some(rule.name.clone()),
                ..unlocated(
                    FindingCode::UnmatchedRule,
                    format!(
                        "rule `{}` selects no resource in the input (`helm-regcred explain` \
                         shows which selector field each resource fails)",
                        rule.name
                    ),
                )
            });
        }
    }
    for (registry, used) in config.registries.iter().zip(&view.registry_used) {
        if !used {
            warnings.push(Finding {
                registry: Some(registry.server.clone()),
                ..unlocated(
                    FindingCode::UnusedRegistry,
                    format!(
                        "registry `{}` serves no image in the input",
                        registry.server
                    ),
                )
            });
        }
    }
    let failed = !findings.is_empty() || (strict && !warnings.is_empty());
    Report {
        api_version: API_VERSION,
        kind: KIND,
        summary: Summary {
            pod_specs: view.pods.len(),
            images,
            private_pulls: private,
            covered,
            findings: findings.len(),
            warnings: warnings.len(),
            strict,
            exit_code: u8::from(failed),
        },
        findings,
        warnings,
        pods,
    }
}

fn unlocated(code: FindingCode, message: String) -> Finding {
    Finding {
        code,
        message,
        document: None,
        resource: None,
        namespace: None,
        source: None,
        line: None,
        source_line: None,
        path: None,
        image: None,
        registry: None,
        rule: None,
    }
}

fn located(at: &Location, code: FindingCode, message: String) -> Finding {
    Finding {
        document: Some(at.doc),
        resource: match (&at.kind, &at.name) {
            (Some(k), Some(n)) => Some(format!("{k}/{n}")),
            (Some(k), None) => Some(k.clone()),
            _ => None,
        },
        source: at.source.clone(),
        line: Some(at.line),
        ..unlocated(code, message)
    }
}

fn pod_finding(pod: &Pod, pull: &Pull, code: FindingCode, message: String) -> Finding {
    Finding {
        namespace: Some(pod.namespace.clone()).filter(|ns| !ns.is_empty()),
        line: Some(pull.line),
        source_line: pull.source_line,
        path: Some(format!("{}.{}", pod.path, pull.container)),
        image: Some(pull.written.clone()),
        ..located(&pod.at, code, message)
    }
}

fn missing_credential(pod: &Pod, pull: &Pull, config: &Config) -> Finding {
    let registry = &config.registries[pull.registry.expect("a private pull")];
    let image = pull.image.as_ref().expect("a parsed image");
    let name = kubelet_name(image);
    let namespace = if pod.namespace.is_empty() {
        "the release namespace".to_string()
    } else {
        format!("namespace {}", pod.namespace)
    };
    let reason = if let Some(error) = &pod.keyring_error {
        format!("{error}, so the kubelet fails every pull of this pod")
    } else if pod.secrets.is_empty() {
        match &pod.inherited {
            Some(ServiceAccountOrigin::Unknown) => format!(
                "the pod lists no imagePullSecrets and its ServiceAccount `{}` is not in the \
                 input (what it carries in the cluster is unknown here)",
                pod.service_account
            ),
            _ => format!(
                "neither the pod nor its ServiceAccount `{}` lists imagePullSecrets",
                pod.service_account
            ),
        }
    } else {
        let from = if pod.inherited.is_some() {
            format!(" (from ServiceAccount `{}`)", pod.service_account)
        } else {
            String::new()
        };
        let each: Vec<String> = pod
            .secrets
            .iter()
            .map(|s| match &s.state {
                SecretState::Missing => format!(
                    "`{}` is not in {namespace} (not in the input, not emitted by the rules, not \
                     declared with `create: false`)",
                    s.name
                ),
                SecretState::NotDockerConfig { secret_type } => format!(
                    "`{}` is of type {secret_type}, which the kubelet does not read",
                    s.name
                ),
                SecretState::Usable { keys, .. } => format!(
                    "`{}` has no auths key the kubelet sends for `{name}` (keys: {})",
                    s.name,
                    if keys.is_empty() {
                        "none".to_string()
                    } else {
                        keys.join(", ")
                    }
                ),
                SecretState::Undecodable { reason, .. } => format!("`{}`: {reason}", s.name),
            })
            .collect();
        format!(
            "its pull secrets{from} do not cover it: {}",
            each.join("; ")
        )
    };
    let hint = match Entry::parse(&registry.server)
        .ok()
        .and_then(|entry| entry.key_for(image))
    {
        Some(key) => format!(
            "; the pod needs a Secret `{}` in {namespace} with auths key `{key}`",
            registry.secret
        ),
        None => String::new(),
    };
    let message = format!(
        "{}: {}.{} pulls {} from private registry {} without a credential: {reason}{hint}",
        pod.at, pod.path, pull.container, pull.written, registry.server
    );
    Finding {
        registry: Some(registry.server.clone()),
        ..pod_finding(pod, pull, FindingCode::MissingCredential, message)
    }
}

/// How `check` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One line per finding and warning.
    #[default]
    Text,
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…::message`).
    Github,
}

impl Report {
    /// The report in `format`. For GitHub, `input` names the file the manifests came from
    /// (when one), used where a document has no Helm source.
    pub fn render(&self, format: Format, input: Option<&str>) -> String {
        match format {
            Format::Json => {
                let mut out = serde_json::to_string_pretty(self).expect("a report serializes");
                out.push('\n');
                out
            }
            Format::Text => {
                let mut out = String::new();
                for f in &self.findings {
                    writeln!(out, "{}", f.message).unwrap();
                }
                for f in &self.warnings {
                    writeln!(out, "warning: {}", f.message).unwrap();
                }
                out
            }
            Format::Github => {
                let mut out = String::new();
                let all =
                    self.findings
                        .iter()
                        .map(|f| ("error", f))
                        .chain(self.warnings.iter().map(|f| {
                            (
                                if self.summary.strict {
                                    "error"
                                } else {
                                    "warning"
                                },
                                f,
                            )
                        }));
                for (level, f) in all {
                    out.push_str(&github_annotation(level, f, input));
                    out.push('\n');
                }
                out
            }
        }
    }

    /// One line for stderr.
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
        format!(
            "{} with {}, {} from the rules' registries: {} covered, {} without a credential; {}",
            plural(s.pod_specs, "pod spec"),
            plural(s.images, "image"),
            s.private_pulls,
            s.covered,
            s.findings,
            plural(s.warnings, "warning"),
        )
    }
}

/// A GitHub Actions workflow command. The file is the document's Helm source (with its line in
/// the template's output) or else the input file (with the stream line).
fn github_annotation(level: &str, f: &Finding, input: Option<&str>) -> String {
    let mut properties = Vec::new();
    match (&f.source, input) {
        (Some(source), _) => {
            properties.push(format!("file={}", escape_property(source)));
            if let Some(line) = f.source_line.or(f.line) {
                properties.push(format!("line={line}"));
            }
        }
        (None, Some(input)) => {
            properties.push(format!("file={}", escape_property(input)));
            if let Some(line) = f.line {
                properties.push(format!("line={line}"));
            }
        }
        (None, None) => {}
    }
    properties.push(format!(
        "title={}",
        escape_property(&format!("helm-regcred check: {}", f.code.as_str()))
    ));
    format!(
        "::{level} {}::{}",
        properties.join(","),
        escape_data(&f.message)
    )
}

/// Workflow command data: `%`, CR and LF are escaped (actions/toolkit `command.ts`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow command properties also escape `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
