//! `explain`: why each pod gets (or lacks) each pull secret, as a view of the plan and the
//! cluster simulation.
//!
//! The input is planned as the post-renderer would plan it, the plan is applied (with
//! placeholder credentials: `explain` never reads a password, and only the Secrets' `auths`
//! keys matter here), and the kubelet is simulated over the result ([`super::kubelet`]). Per
//! pod: each rule matched or, for a miss, the first selector field that failed with the actual
//! value; the secrets kept, added or inherited from the ServiceAccount; for each image its
//! normalized reference, the registry that serves it and why, and the Secret the kubelet sends.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::engine::Env;
use crate::error::Error;
use crate::input::SourceNaming;
use crate::input::stream::Stream;
use crate::plan::{Options, plan};
use crate::registry::credentials::Credentials;
use crate::registry::image::ImageRef;
use crate::registry::keyring::{DOCKER_HUB_DEFAULT_KEY, Entry, kubelet_name};
use crate::rules::Config;
use crate::rules::selector::Pattern;
use crate::views::kubelet::{
    self, Cluster, Pod, Pull, RuleResult, SecretOrigin, SecretState, ServiceAccountOrigin,
};
use crate::views::stream::{added_documents, assemble, in_stream_newlines};

/// Which pods to explain; every field that is set must match.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact kind.
    pub kind: Option<String>,
    /// Glob on the resource name.
    pub name: Option<Pattern>,
    /// Glob on the effective namespace.
    pub namespace: Option<Pattern>,
}

impl Filter {
    fn keeps(&self, pod: &Pod) -> bool {
        self.kind.as_ref().is_none_or(|k| *k == pod.kind)
            && self.name.as_ref().is_none_or(|p| p.is_match(&pod.name))
            && self
                .namespace
                .as_ref()
                .is_none_or(|p| p.is_match(&pod.namespace))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub pods: Vec<PodExplanation>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodExplanation {
    pub document: usize,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub line: usize,
    pub path: String,
    pub service_account: String,
    pub rules: Vec<RuleExplanation>,
    pub secrets: SecretsExplanation,
    pub images: Vec<ImageExplanation>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleExplanation {
    pub rule: String,
    /// `matched`, `excluded` or `missed`.
    pub result: &'static str,
    /// For a miss: the first selector field that failed, its patterns, the resource's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wanted: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsExplanation {
    /// Listed by the pod already, and kept.
    pub kept: Vec<String>,
    /// Added by helm-regcred.
    pub added: Vec<String>,
    /// Copied from the pod's ServiceAccount onto the list the pod now has of its own (which
    /// stops Kubernetes from copying them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_from_service_account: Vec<String>,
    /// Set when the pod lists none, so it gets its ServiceAccount's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherited: Option<Inherited>,
    /// What the kubelet is given, in order, and what each one is.
    pub used: Vec<UsedExplanation>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inherited {
    pub service_account: String,
    /// `stream`, `declared` or `unknown` (not in the input: its cluster-side secrets are unknown).
    pub from: &'static str,
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsedExplanation {
    pub name: String,
    /// What the kubelet finds: how it got there, or why it skips it.
    pub state: String,
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageExplanation {
    pub container: String,
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The name the kubelet looks credentials up for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubelet_name: Option<String>,
    /// The rules registry (`server`) serving it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Why that registry serves it, or why none does (or why the reference is invalid).
    pub registry_why: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why that Secret, or why none.
    pub served_why: String,
}

/// Explains the pods of `stream` that `filter` keeps; `env` answers templates' `env.NAME`.
pub fn explain(
    stream: &Stream,
    config: &Config,
    options: &Options,
    env: Env,
    filter: &Filter,
) -> Result<Explanation, Error> {
    let plan = plan(stream, config, options, env, crate::plan::Detail::Changes)?;
    // Placeholders: the payload's keys are what matters to the kubelet, never its password.
    let credentials: HashMap<usize, Credentials> = plan
        .secrets
        .iter()
        .flat_map(|s| s.registries.iter().copied())
        .map(|i| {
            let placeholder = Credentials {
                username: "explain".into(),
                password: "explain".into(),
            };
            (i, placeholder)
        })
        .collect();
    let added = added_documents(&plan, config, SourceNaming::of(stream), Some(&credentials));
    let added = in_stream_newlines(stream, added);
    let output = assemble(stream, &added, &plan.edits);
    let after = Stream::parse(output.as_bytes()).map_err(Error::Input)?;
    let cluster = Cluster::from_rules(config);
    let planned = kubelet::simulate(&after, config, options, &cluster, env)?;
    // The input's own view, for locations and what each pod listed before.
    let before = kubelet::simulate(stream, config, options, &cluster, env)?;
    let offset = plan.secrets.len() + plan.service_accounts.len();
    let mut pods = Vec::new();
    for pod in &planned.pods {
        let Some(original) = before
            .pods
            .iter()
            .find(|p| p.at.doc + offset == pod.at.doc && p.path == pod.path && p.kind == pod.kind)
        else {
            continue; // a document helm-regcred added
        };
        if !filter.keeps(original) {
            continue;
        }
        let change = plan.changes.iter().find(|c| {
            c.at.doc == original.at.doc && c.path == format!("{}.imagePullSecrets", pod.path)
        });
        let added = change.map(|c| c.added.clone()).unwrap_or_default();
        let kept_from_service_account = change.map(|c| c.inherited.clone()).unwrap_or_default();
        pods.push(PodExplanation {
            document: original.at.doc,
            kind: original.kind.clone(),
            name: original.name.clone(),
            namespace: original.namespace.clone(),
            source: original.at.source.clone(),
            line: original.line,
            path: original.path.clone(),
            service_account: pod.service_account.clone(),
            rules: pod.rules.iter().map(rule_explanation).collect(),
            secrets: SecretsExplanation {
                kept: original.listed.clone(),
                added,
                kept_from_service_account,
                inherited: pod.inherited.as_ref().map(|origin| Inherited {
                    service_account: pod.service_account.clone(),
                    from: match origin {
                        ServiceAccountOrigin::Stream(_) => "stream",
                        ServiceAccountOrigin::Declared => "declared",
                        ServiceAccountOrigin::Unknown => "unknown",
                    },
                    secrets: pod.secrets.iter().map(|s| s.name.clone()).collect(),
                }),
                used: pod
                    .secrets
                    .iter()
                    .map(|s| used_explanation(s, offset))
                    .collect(),
            },
            images: pod
                .pulls
                .iter()
                .map(|pull| image_explanation(pod, pull, config))
                .collect(),
        });
    }
    Ok(Explanation { pods })
}

fn rule_explanation(outcome: &kubelet::RuleOutcome) -> RuleExplanation {
    let (result, miss) = match &outcome.result {
        RuleResult::Matched => ("matched", None),
        RuleResult::Excluded => ("excluded", None),
        RuleResult::Missed(miss) => ("missed", Some(miss)),
    };
    RuleExplanation {
        rule: outcome.rule.clone(),
        result,
        field: miss.map(|m| m.field.clone()),
        wanted: miss.map(|m| m.wanted.clone()),
        actual: miss.and_then(|m| m.actual.clone()),
    }
}

/// `offset`: the documents helm-regcred added come first in the simulated output.
fn used_explanation(secret: &kubelet::UsedSecret, offset: usize) -> UsedExplanation {
    let (state, keys) = match &secret.state {
        SecretState::Usable { keys, origin } => {
            let origin = match origin {
                SecretOrigin::Stream(at) if at.doc <= offset => "emitted by helm-regcred",
                SecretOrigin::Stream(_) => "in the input",
                SecretOrigin::Emitted => "emitted by helm-regcred",
                SecretOrigin::Existing => "declared in the rules as existing (`create: false`)",
            };
            (origin.to_string(), keys.clone())
        }
        SecretState::Missing => (
            "not in the namespace: the kubelet skips it".to_string(),
            Vec::new(),
        ),
        SecretState::NotDockerConfig { secret_type } => (
            format!("of type {secret_type}: the kubelet skips it"),
            Vec::new(),
        ),
        SecretState::Undecodable { reason, .. } => (
            format!("does not decode ({reason}): the kubelet fails every pull of the pod"),
            Vec::new(),
        ),
    };
    UsedExplanation {
        name: secret.name.clone(),
        state,
        keys,
    }
}

fn image_explanation(pod: &Pod, pull: &Pull, config: &Config) -> ImageExplanation {
    let image = match &pull.image {
        Ok(image) => image,
        Err(reason) => {
            return ImageExplanation {
                container: pull.container.clone(),
                image: pull.written.clone(),
                reference: None,
                kubelet_name: None,
                registry: None,
                registry_why: format!("{reason}: the runtime cannot pull it"),
                served_by: None,
                key: None,
                served_why: "nothing to send for an invalid reference".to_string(),
            };
        }
    };
    let name = kubelet_name(image);
    let registry = pull.registry.map(|i| &config.registries[i]);
    let registry_why = match registry {
        None => "no registry of the rules serves it: a public pull (the kubelet still sends any \
                 credential that matches)"
            .to_string(),
        Some(registry) => registry_reason(&registry.server, image, &name),
    };
    let served_why = match (&pull.served, &pod.keyring_error) {
        (_, Some(error)) => format!("{error}: the kubelet fails every pull of this pod"),
        (Some(served), None) if served.docker_hub_default => format!(
            "no key matches `{name}`, so the kubelet falls back to the `{DOCKER_HUB_DEFAULT_KEY}` \
             key of Secret `{}` (its Docker Hub default)",
            served.secret
        ),
        (Some(served), None) => format!(
            "the kubelet matches auths key `{}` of Secret `{}` to `{name}` and sends it first",
            served.key, served.secret
        ),
        (None, None) if pod.secrets.is_empty() => {
            "the pod has no pull secrets (nor does its ServiceAccount, as far as the input says)"
                .to_string()
        }
        (None, None) => format!("no auths key of the pod's pull secrets matches `{name}`"),
    };
    ImageExplanation {
        container: pull.container.clone(),
        image: pull.written.clone(),
        reference: Some(image.full().to_string()),
        kubelet_name: Some(name),
        registry: registry.map(|r| r.server.clone()),
        registry_why,
        served_by: pull.served.as_ref().map(|s| s.secret.clone()),
        key: pull.served.as_ref().map(|s| s.key.clone()),
        served_why,
    }
}

/// Why a rules registry serves an image, in the kubelet's terms.
fn registry_reason(server: &str, image: &ImageRef, name: &str) -> String {
    let Ok(entry) = Entry::parse(server) else {
        return format!("its host is `{}` like the image's", image.registry());
    };
    let path = if entry.path().is_empty() {
        "any path".to_string()
    } else {
        format!("paths starting `{}`", entry.path())
    };
    if entry.kubelet_matches(image) {
        format!(
            "the kubelet matches `{}` to `{name}`: host `{}` part by part, {path}",
            entry.key(),
            entry.host()
        )
    } else {
        let key = entry.key_for(image).unwrap_or_else(|| entry.key());
        if key == entry.key() {
            format!(
                "`{}` is Docker Hub's default key: the kubelet uses it for `{name}` when no \
                 other key matches",
                entry.key()
            )
        } else {
            format!(
                "`{server}` is the same registry as `{}`, but the kubelet compares host names as \
                 written: a Secret for it needs the auths key `{key}`",
                image.runtime_host()
            )
        }
    }
}

impl Explanation {
    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).expect("an explanation serializes");
        out.push('\n');
        out
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for pod in &self.pods {
            let namespace = if pod.namespace.is_empty() {
                "release namespace".to_string()
            } else {
                format!("namespace {}", pod.namespace)
            };
            write!(
                out,
                "{}/{} ({namespace}), document {}",
                pod.kind, pod.name, pod.document
            )
            .unwrap();
            if let Some(source) = &pod.source {
                write!(out, " from {source}").unwrap();
            }
            writeln!(out, ", line {}: {}", pod.line, pod.path).unwrap();
            writeln!(out, "  rules:").unwrap();
            if pod.rules.is_empty() {
                writeln!(out, "    (none)").unwrap();
            }
            for rule in &pod.rules {
                match (&rule.field, &rule.wanted) {
                    (Some(field), Some(wanted)) => {
                        let actual = rule
                            .actual
                            .as_deref()
                            .map_or("none".to_string(), |a| format!("`{a}`"));
                        writeln!(
                            out,
                            "    {}: missed: {field} {wanted:?} does not match {actual}",
                            rule.rule
                        )
                        .unwrap();
                    }
                    _ => writeln!(out, "    {}: {}", rule.rule, rule.result).unwrap(),
                }
            }
            let list = |names: &[String]| {
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            };
            let s = &pod.secrets;
            write!(
                out,
                "  secrets: kept {}; added {}",
                list(&s.kept),
                list(&s.added)
            )
            .unwrap();
            if !s.kept_from_service_account.is_empty() {
                write!(
                    out,
                    "; kept from ServiceAccount {}: {}",
                    pod.service_account,
                    list(&s.kept_from_service_account)
                )
                .unwrap();
            }
            if let Some(inherited) = &s.inherited {
                let from = match inherited.from {
                    "stream" => "in the input",
                    "declared" => "declared",
                    _ => "not in the input, so its cluster-side secrets are unknown",
                };
                write!(
                    out,
                    "; inherited from ServiceAccount {} ({from}): {}",
                    inherited.service_account,
                    list(&inherited.secrets)
                )
                .unwrap();
            }
            out.push('\n');
            for used in &s.used {
                let keys = if used.keys.is_empty() {
                    String::new()
                } else {
                    format!(", auths keys {}", used.keys.join(", "))
                };
                writeln!(out, "    {}: {}{keys}", used.name, used.state).unwrap();
            }
            writeln!(out, "  images:").unwrap();
            for image in &pod.images {
                writeln!(out, "    {} {}", image.container, image.image).unwrap();
                if let (Some(reference), Some(name)) = (&image.reference, &image.kubelet_name) {
                    writeln!(
                        out,
                        "      reference: {reference} (the kubelet looks up {name})"
                    )
                    .unwrap();
                }
                match &image.registry {
                    Some(registry) => {
                        writeln!(out, "      registry: {registry}: {}", image.registry_why).unwrap()
                    }
                    None => writeln!(out, "      registry: {}", image.registry_why).unwrap(),
                }
                match &image.served_by {
                    Some(secret) => {
                        writeln!(out, "      secret: {secret}: {}", image.served_why).unwrap()
                    }
                    None => writeln!(out, "      secret: none: {}", image.served_why).unwrap(),
                }
            }
        }
        out
    }
}
