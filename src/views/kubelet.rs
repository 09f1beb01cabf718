//! What the cluster will do with a stream of manifests: for every pod spec of every workload
//! (the built-in kinds and the workload CRDs of [`crate::kinds`]), which pull secrets the pod
//! ends up with, and which of their credentials the kubelet sends for each image. `check` and
//! `explain` are views of this simulation; it never changes the stream.
//!
//! The keyring itself is [`crate::registry::keyring`].
//!
//! The facts it follows, from kubernetes/kubernetes:
//!
//! * ServiceAccount admission (`plugin/pkg/admission/serviceaccount/admission.go`, `Admit`):
//!   the ServiceAccount is `serviceAccountName`, else `default` (the deprecated
//!   `serviceAccount` field is copied into `serviceAccountName` when that is empty:
//!   `pkg/apis/core/v1/conversion.go`); when the pod's `imagePullSecrets` is empty it gets the
//!   ServiceAccount's list, else it keeps its own and the ServiceAccount adds nothing.
//! * The kubelet (`pkg/kubelet/kubelet_pods.go` `getPullSecretsForPod`) fetches each listed
//!   Secret from the pod's namespace and skips the ones that do not exist;
//!   `pkg/credentialprovider/secrets/secrets.go` `MakeDockerKeyring` reads
//!   `.dockerconfigjson` of `kubernetes.io/dockerconfigjson` Secrets and `.dockercfg` of
//!   `kubernetes.io/dockercfg` ones, skips any other, and fails the pull outright when one does
//!   not decode; `pkg/kubelet/kuberuntime/kuberuntime_image.go` `PullImage` then looks the
//!   image up in that keyring.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::engine::Env;
use crate::error::{InputProblems, Location, Problem};
use crate::input::stream::{Document, Stream};
use crate::input::template_source;
use crate::kinds::{self, CONTAINER_LISTS, Step};
use crate::plan::Options;
use crate::registry::image::ImageRef;
use crate::registry::keyring::{Entry, Keyring};
use crate::rules::selector::{Mismatch, PatternSet, Subject};
use crate::rules::template::Renderer;
use crate::rules::{Config, Rule};
use crate::yaml::{self, Node, Origin, Parsed, Value};

/// What is known beyond the stream: Secrets and ServiceAccounts that exist (or will) in the
/// cluster, and pull secrets the post-renderer will add.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    pub secrets: Vec<KnownSecret>,
    pub service_accounts: Vec<KnownServiceAccount>,
    /// Names to append to a pod spec's `imagePullSecrets` before simulating, by (document
    /// index, pod spec path): the plan's additions, so the view is of the stream as the
    /// post-renderer will leave it.
    pub added: HashMap<(usize, String), Vec<String>>,
}

/// A pull Secret that is not a document of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSecret {
    /// May be a template (a rules registry's `secret`), rendered for each pod's namespace.
    pub name: String,
    /// `None`: in every namespace.
    pub namespace: Option<String>,
    /// Its `auths` keys.
    pub keys: Vec<String>,
    pub origin: SecretOrigin,
}

/// Where a Secret the kubelet uses comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretOrigin {
    /// A Secret document of the stream.
    Stream(Location),
    /// The rules make helm-regcred emit it (`create: true`).
    Emitted,
    /// The rules say it exists already (`create: false`): its keys are assumed to be the
    /// registry's `server`.
    Existing,
}

/// A ServiceAccount that is not in the stream, with the pull secrets it is known to carry.
#[derive(Debug, Clone)]
pub struct KnownServiceAccount {
    /// `None`: in every namespace.
    pub namespaces: Option<PatternSet>,
    pub name: String,
    pub secrets: Vec<String>,
}

impl Cluster {
    /// What the rules file says about the cluster: each `create: false` registry's Secret
    /// exists in every namespace, keyed by its `server`; the declared ServiceAccounts carry
    /// their secrets.
    pub fn from_rules(config: &Config) -> Cluster {
        let secrets = config
            .registries
            .iter()
            .filter(|r| !r.create)
            .map(|r| KnownSecret {
                name: r.secret.clone(),
                namespace: None,
                keys: vec![r.server.clone()],
                origin: SecretOrigin::Existing,
            })
            .collect();
        // `serviceAccounts:`: what ServiceAccounts outside the stream carry, as the planner
        // reads it (`Config::service_account_secrets`).
        let service_accounts = config
            .service_accounts
            .iter()
            .flat_map(|declared| {
                declared.names.iter().map(|name| KnownServiceAccount {
                    namespaces: declared.namespaces.clone(),
                    name: name.clone(),
                    secrets: declared.image_pull_secrets.clone(),
                })
            })
            .collect();
        Cluster {
            secrets,
            service_accounts,
            ..Cluster::default()
        }
    }
}

/// The simulation's result.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub pods: Vec<Pod>,
    /// For each rule of the rules file (in order; none when the file has no `rules:`): whether
    /// it selected any resource.
    pub rule_used: Vec<bool>,
    /// For each registry of the rules file: whether any image in the stream comes from it.
    pub registry_used: Vec<bool>,
    /// Things the simulation could not read (an unusable pod spec).
    pub notes: Vec<(Location, String)>,
}

/// One pod spec, as the kubelet will see it.
#[derive(Debug, Clone)]
pub struct Pod {
    /// The resource holding it.
    pub at: Location,
    /// Line of the pod spec in the stream.
    pub line: usize,
    /// Line of the pod spec in its template's rendered output (after the `# Source:` line).
    pub source_line: Option<usize>,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// The resource's namespace, else the release namespace, else `""`.
    pub namespace: String,
    /// The pod spec's path in the document, e.g. `spec.template.spec`.
    pub path: String,
    pub service_account: String,
    /// The pod spec's own `imagePullSecrets`, as in the stream.
    pub listed: Vec<String>,
    /// Names the post-renderer adds ([`Cluster::added`]).
    pub added: Vec<String>,
    /// Set when the pod's list is empty and so comes from its ServiceAccount.
    pub inherited: Option<ServiceAccountOrigin>,
    /// The secrets the kubelet is given, in order.
    pub secrets: Vec<UsedSecret>,
    /// A listed Secret that does not decode: the kubelet then fails every pull of the pod.
    pub keyring_error: Option<String>,
    pub pulls: Vec<Pull>,
    /// Each rule of the rules file (or the default rule) against this resource.
    pub rules: Vec<RuleOutcome>,
}

/// Where the ServiceAccount's list came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAccountOrigin {
    Stream(Location),
    /// Declared to the simulation ([`Cluster::service_accounts`]).
    Declared,
    /// Not in the stream and not declared: whatever it carries in the cluster is unknown here.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedSecret {
    pub name: String,
    pub state: SecretState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretState {
    Usable {
        keys: Vec<String>,
        origin: SecretOrigin,
    },
    /// Not in the namespace: the kubelet skips it.
    Missing,
    /// Not a docker config Secret (or without its data key): the kubelet skips it.
    NotDockerConfig { secret_type: String },
    /// A docker config Secret whose payload does not decode.
    Undecodable { reason: String, at: Location },
}

/// One container image.
#[derive(Debug, Clone)]
pub struct Pull {
    /// `containers[0]`, `initContainers[1]`, ...
    pub container: String,
    pub container_name: Option<String>,
    pub written: String,
    /// Line of the `image:` value in the stream, and in its template's rendered output.
    pub line: usize,
    pub source_line: Option<usize>,
    /// The parsed reference, or why the runtime would refuse it.
    pub image: Result<ImageRef, String>,
    /// The rules registry that serves it (the most specific one): a private pull.
    pub registry: Option<usize>,
    /// The credential the kubelet sends first, if any.
    pub served: Option<Served>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub secret: String,
    /// The `auths` key, as written in the Secret.
    pub key: String,
    /// By the Docker Hub fallback for an `index.docker.io` key.
    pub docker_hub_default: bool,
}

/// One rule against one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOutcome {
    pub rule: String,
    pub result: RuleResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleResult {
    Matched,
    /// `match` selected it, `exclude` took it out.
    Excluded,
    Missed(Mismatch),
}

/// The rules registry that serves an image: the most specific server (longest key), as the
/// kubelet would order them.
pub fn serving_registry(
    entries: &[Option<Entry>],
    config: &Config,
    image: &ImageRef,
) -> Option<usize> {
    entries
        .iter()
        .enumerate()
        .filter(|(i, entry)| match entry {
            Some(entry) => entry.serves(image),
            None => config.registries[*i].host == image.registry(),
        })
        .max_by_key(|(i, entry)| {
            (
                entry.as_ref().map_or(0, |e| e.key().len()),
                std::cmp::Reverse(*i),
            )
        })
        .map(|(i, _)| i)
}

/// Simulates the cluster over `stream`; `env` answers templates' `env.NAME` (templated secret
/// names and label values).
pub fn simulate(
    stream: &Stream,
    config: &Config,
    options: &Options,
    cluster: &Cluster,
    env: Env,
) -> Result<View, InputProblems> {
    let names = Renderer::new(&config.vars, options.release.as_deref(), env)
        .with_policy(options.trust.clone());
    let default_rule;
    let rendered: Vec<Rule>;
    let rules: Vec<&Rule> = if config.rules.is_empty() {
        default_rule = Rule::default_rule();
        vec![&default_rule]
    } else if config.rules.iter().any(Rule::has_templates) {
        rendered = crate::plan::render_rule_templates(config, &names, options)?;
        rendered.iter().collect()
    } else {
        config.rules.iter().collect()
    };
    let mut sim = Simulator {
        config,
        options,
        cluster,
        names,
        rules,
        entries: config
            .registries
            .iter()
            .map(|r| Entry::parse(&r.server).ok())
            .collect(),
        images: HashMap::new(),
        secrets: HashMap::new(),
        service_accounts: HashMap::new(),
        view: View {
            rule_used: vec![false; config.rules.len()],
            registry_used: vec![false; config.registries.len()],
            ..View::default()
        },
    };
    let resources = sim.read(stream)?;
    for resource in &resources {
        sim.stream_secret(resource);
        sim.stream_service_account(resource);
    }
    for resource in &resources {
        sim.resource(stream, resource);
    }
    Ok(sim.view)
}

struct Simulator<'c> {
    config: &'c Config,
    options: &'c Options,
    cluster: &'c Cluster,
    names: Renderer<'c>,
    rules: Vec<&'c Rule>,
    /// Each rules registry's `server` as a keyring entry (`None`: the kubelet could not use it).
    entries: Vec<Option<Entry>>,
    images: HashMap<String, Result<ImageRef, String>>,
    /// (namespace, name) → the Secret's state.
    secrets: HashMap<(String, String), SecretState>,
    /// (namespace, name) → the ServiceAccount's pull secrets and where it is.
    service_accounts: HashMap<(String, String), (Vec<String>, Location)>,
    view: View,
}

/// One resource of the stream (a document, or an item of a `List`).
struct Resource<'d> {
    doc: &'d Document,
    node: Node<'d>,
    prefix: String,
    at: Location,
    api_version: String,
    kind: String,
    name: String,
    namespace: String,
}

impl Simulator<'_> {
    /// Parses the documents that can matter: pod holders, Secrets, ServiceAccounts, lists, and
    /// what target rules may select.
    fn read<'s>(&mut self, stream: &'s Stream) -> Result<Vec<Resource<'s>>, InputProblems> {
        let mut target_kinds: Option<Vec<String>> = Some(Vec::new());
        for rule in self.rules.iter().filter(|r| r.target.is_some()) {
            match (rule.selector.kinds(), &mut target_kinds) {
                (Some(kinds), Some(all)) => all.extend(kinds.iter().cloned()),
                (None, _) => target_kinds = None,
                _ => {}
            }
        }
        let wanted = |kind: &str| {
            kinds::may_hold_pods(kind)
                || matches!(kind, "Secret" | "ServiceAccount")
                || kind.ends_with("List")
                || target_kinds
                    .as_ref()
                    .is_none_or(|k| k.iter().any(|k| k == kind))
        };
        let mut problems = Vec::new();
        let mut out = Vec::new();
        for doc in &stream.docs {
            let text = stream.doc_text(doc);
            if crate::input::stream::top_level_kind(text).is_some_and(|kind| !wanted(kind)) {
                continue;
            }
            let origin = Origin {
                offset: doc.range.start,
                line: doc.line,
            };
            let root = match yaml::parse_document(text, origin, &wanted) {
                Ok(Parsed::Node(root)) => root,
                Ok(Parsed::Empty | Parsed::Skipped { .. }) => continue,
                Err(e) => {
                    problems.push(Problem {
                        at: Location {
                            doc: doc.index,
                            source: doc.source.clone(),
                            line: e.line,
                            ..Location::default()
                        },
                        kind: (&e).into(),
                    });
                    continue;
                }
            };
            let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
            match root.get("items").map(|items| &items.value) {
                Some(Value::Seq { items, .. }) if kind.ends_with("List") => {
                    for (i, item) in items.iter().enumerate() {
                        out.extend(self.resource_of(doc, item.clone(), format!("items[{i}].")));
                    }
                }
                _ => out.extend(self.resource_of(doc, root, String::new())),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(InputProblems(problems))
        }
    }

    fn resource_of<'d>(
        &self,
        doc: &'d Document,
        node: Node<'d>,
        prefix: String,
    ) -> Option<Resource<'d>> {
        node.is_map().then_some(())?;
        let text = |path: &[&str]| node.path(path).and_then(Node::as_str).map(str::to_string);
        let kind = text(&["kind"]).unwrap_or_default();
        let name = text(&["metadata", "name"]).unwrap_or_default();
        let source = template_source(doc, &node);
        let namespace = text(&["metadata", "namespace"])
            .filter(|ns| !ns.is_empty())
            .or_else(|| self.options.namespace.clone())
            .unwrap_or_default();
        Some(Resource {
            doc,
            at: Location {
                doc: doc.index,
                kind: Some(kind.clone()).filter(|k| !k.is_empty()),
                name: Some(name.clone()).filter(|n| !n.is_empty()),
                source,
                line: node.line,
            },
            api_version: text(&["apiVersion"]).unwrap_or_default(),
            kind,
            name,
            namespace,
            prefix,
            node,
        })
    }

    fn stream_secret(&mut self, r: &Resource) {
        if r.kind != "Secret" || r.api_version != "v1" {
            return;
        }
        let secret_type = r
            .node
            .get("type")
            .and_then(Node::as_str)
            .unwrap_or("Opaque")
            .to_string();
        let state = match docker_config(&r.node, &secret_type) {
            DockerConfig::NotOne => SecretState::NotDockerConfig { secret_type },
            DockerConfig::Keys(keys) => SecretState::Usable {
                keys,
                origin: SecretOrigin::Stream(r.at.clone()),
            },
            DockerConfig::Invalid(reason) => SecretState::Undecodable {
                reason,
                at: r.at.clone(),
            },
        };
        self.secrets
            .entry((r.namespace.clone(), r.name.clone()))
            .or_insert(state);
    }

    fn stream_service_account(&mut self, r: &Resource) {
        if r.kind != "ServiceAccount" || r.api_version != "v1" {
            return;
        }
        let secrets = reference_names(r.node.get("imagePullSecrets"));
        self.service_accounts
            .entry((r.namespace.clone(), r.name.clone()))
            .or_insert((secrets, r.at.clone()));
    }

    fn resource(&mut self, stream: &Stream, r: &Resource) {
        let pod_specs = self.pod_specs(r);
        let mut images = Vec::new();
        for (_, spec) in &pod_specs {
            for (_, _, written, _) in containers(spec) {
                if let Ok(image) = self.image(&written) {
                    images.push(image);
                }
            }
        }
        // Rules with a target select resources by the images anywhere in them.
        let targets = self.rules.iter().any(|rule| rule.target.is_some());
        if pod_specs.is_empty() && targets {
            let mut found = Vec::new();
            image_fields(&r.node, &mut found);
            for written in found {
                if let Ok(image) = self.image(&written) {
                    images.push(image);
                }
            }
        }
        let labels = crate::yaml::StringMap(r.node.path(&["metadata", "labels"]));
        let subject = Subject {
            kind: &r.kind,
            name: &r.name,
            namespace: &r.namespace,
            labels: &labels,
            images: &images,
            source: r.at.source.as_deref(),
        };
        let outcomes: Vec<RuleOutcome> = self
            .rules
            .iter()
            .map(|rule| RuleOutcome {
                rule: rule.name.clone(),
                result: match rule.selector.mismatch(&subject) {
                    Some(miss) => RuleResult::Missed(miss),
                    None if rule.exclude.as_ref().is_some_and(|e| e.matches(&subject)) => {
                        RuleResult::Excluded
                    }
                    None => RuleResult::Matched,
                },
            })
            .collect();
        if !self.config.rules.is_empty() {
            for (used, outcome) in self.view.rule_used.iter_mut().zip(&outcomes) {
                *used |= outcome.result == RuleResult::Matched;
            }
        }
        for image in &images {
            if let Some(i) = serving_registry(&self.entries, self.config, image) {
                self.view.registry_used[i] = true;
            }
        }
        for (path, spec) in pod_specs {
            let pod = self.pod(stream, r, path, &spec, outcomes.clone());
            self.view.pods.push(pod);
        }
    }

    /// Every pod spec of the resource, with its path; unusable ones are noted.
    fn pod_specs<'d>(&mut self, r: &Resource<'d>) -> Vec<(String, Node<'d>)> {
        let paths: Vec<Vec<Step>> = if let Some(p) = kinds::pod_spec_path(&r.api_version, &r.kind) {
            vec![p.path.iter().map(|k| Step::Key(k)).collect()]
        } else if let Some(crd) = kinds::workload_crd(&r.api_version, &r.kind) {
            crd.pod_specs.iter().map(|p| p.to_vec()).collect()
        } else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for path in paths {
            resolve(&r.node, &path, String::new(), &mut out);
        }
        out.retain(|(path, node)| {
            if node.is_map() {
                return true;
            }
            if !node.is_null() {
                self.view.notes.push((
                    r.at.clone(),
                    format!(
                        "`{}{path}` is {}, not a pod spec; not checked",
                        r.prefix,
                        node.type_name()
                    ),
                ));
            }
            false
        });
        for (path, _) in &mut out {
            *path = format!("{}{path}", r.prefix);
        }
        out
    }

    fn pod(
        &mut self,
        stream: &Stream,
        r: &Resource,
        path: String,
        spec: &Node,
        rules: Vec<RuleOutcome>,
    ) -> Pod {
        let listed = reference_names(spec.get("imagePullSecrets"));
        let added = self
            .cluster
            .added
            .get(&(r.doc.index, path.clone()))
            .cloned()
            .unwrap_or_default();
        let service_account = ["serviceAccountName", "serviceAccount"]
            .iter()
            .find_map(|key| {
                spec.get(key)
                    .and_then(Node::as_str)
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or("default")
            .to_string();
        let mut names: Vec<String> = listed.clone();
        for name in &added {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        let mut inherited = None;
        if names.is_empty() {
            let (secrets, origin) = self.service_account(&r.namespace, &service_account);
            names = secrets;
            inherited = Some(origin);
        }
        let secrets: Vec<UsedSecret> = names
            .iter()
            .map(|name| UsedSecret {
                name: name.clone(),
                state: self.secret(&r.namespace, name),
            })
            .collect();
        let keyring_error = secrets.iter().find_map(|s| match &s.state {
            SecretState::Undecodable { reason, .. } => {
                Some(format!("Secret {} does not decode: {reason}", s.name))
            }
            _ => None,
        });
        let mut keyring: Keyring<(usize, String)> = Keyring::new();
        for (i, secret) in secrets.iter().enumerate() {
            if let SecretState::Usable { keys, .. } = &secret.state {
                for key in keys {
                    // A key the kubelet ignores serves nothing.
                    let _ = keyring.add(key, (i, key.clone()));
                }
            }
        }
        let mut pulls = Vec::new();
        for (container, container_name, written, line) in containers(spec) {
            let image = self.image(&written);
            let registry = image
                .as_ref()
                .ok()
                .and_then(|image| serving_registry(&self.entries, self.config, image));
            let served = match (&image, &keyring_error) {
                (Ok(image), None) => keyring.lookup(image).first().map(|hit| {
                    let (i, key) = &hit.sources[0];
                    Served {
                        secret: secrets[*i].name.clone(),
                        key: key.clone(),
                        docker_hub_default: hit.docker_hub_default,
                    }
                }),
                _ => None,
            };
            pulls.push(Pull {
                container,
                container_name,
                written,
                line,
                source_line: source_line(stream, r.doc, line),
                image,
                registry,
                served,
            });
        }
        Pod {
            at: r.at.clone(),
            line: spec.line,
            source_line: source_line(stream, r.doc, spec.line),
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            path,
            service_account,
            listed,
            added,
            inherited,
            secrets,
            keyring_error,
            pulls,
            rules,
        }
    }

    /// The ServiceAccount's pull secrets: the stream's ServiceAccount, else a declared one.
    fn service_account(&self, namespace: &str, name: &str) -> (Vec<String>, ServiceAccountOrigin) {
        if let Some((secrets, at)) = self
            .service_accounts
            .get(&(namespace.to_string(), name.to_string()))
        {
            return (secrets.clone(), ServiceAccountOrigin::Stream(at.clone()));
        }
        let declared: Vec<String> = self
            .cluster
            .service_accounts
            .iter()
            .filter(|sa| {
                sa.name == name
                    && sa
                        .namespaces
                        .as_ref()
                        .is_none_or(|ns| ns.is_match(namespace))
            })
            .flat_map(|sa| sa.secrets.iter().cloned())
            .collect();
        if declared.is_empty() {
            (Vec::new(), ServiceAccountOrigin::Unknown)
        } else {
            (declared, ServiceAccountOrigin::Declared)
        }
    }

    /// A Secret in the namespace: the stream's, else one the caller knows of.
    fn secret(&self, namespace: &str, name: &str) -> SecretState {
        if let Some(state) = self.secrets.get(&(namespace.to_string(), name.to_string())) {
            return state.clone();
        }
        let ns = Some(namespace).filter(|ns| !ns.is_empty());
        for known in &self.cluster.secrets {
            let in_namespace = known.namespace.as_deref().is_none_or(|n| n == namespace);
            let named = self
                .names
                .render(&known.name, ns)
                .is_ok_and(|rendered| rendered == name);
            if in_namespace && named {
                return SecretState::Usable {
                    keys: known.keys.clone(),
                    origin: known.origin.clone(),
                };
            }
        }
        SecretState::Missing
    }

    fn image(&mut self, written: &str) -> Result<ImageRef, String> {
        self.images
            .entry(written.to_string())
            .or_insert_with(|| ImageRef::parse(written).map_err(|e| e.to_string()))
            .clone()
    }
}

/// The containers of a pod spec that have an image: (`list[i]`, name, image, line).
fn containers(spec: &Node) -> Vec<(String, Option<String>, String, usize)> {
    let mut out = Vec::new();
    for list in CONTAINER_LISTS {
        let items = spec.get(list).and_then(Node::as_seq).unwrap_or_default();
        for (i, container) in items.iter().enumerate() {
            if let Some(node) = container.get("image")
                && let Some(image) = node.as_str()
            {
                let name = container
                    .get("name")
                    .and_then(Node::as_str)
                    .map(str::to_string);
                out.push((format!("{list}[{i}]"), name, image.to_string(), node.line));
            }
        }
    }
    out
}

/// Follows a CRD path, fanning out at `EachValue`/`EachItem`.
fn resolve<'d>(node: &Node<'d>, path: &[Step], at: String, out: &mut Vec<(String, Node<'d>)>) {
    let join = |at: &str, step: &str| {
        if at.is_empty() {
            step.to_string()
        } else {
            format!("{at}.{step}")
        }
    };
    match path.split_first() {
        None => out.push((at, node.clone())),
        Some((Step::Key(key), rest)) => {
            if let Some(child) = node.get(key) {
                resolve(child, rest, join(&at, key), out);
            }
        }
        Some((Step::EachValue, rest)) => {
            for (key, value) in node.as_map().unwrap_or_default() {
                let key = key.as_str().unwrap_or("?");
                resolve(value, rest, join(&at, key), out);
            }
        }
        Some((Step::EachItem, rest)) => {
            for (i, item) in node.as_seq().unwrap_or_default().iter().enumerate() {
                resolve(item, rest, format!("{at}[{i}]"), out);
            }
        }
    }
}

/// `[{name: x}, ...]` names, in order; entries without a string name are kept as `""` (the
/// list is still non-empty to ServiceAccount admission).
fn reference_names(list: Option<&Node>) -> Vec<String> {
    list.and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(|item| {
            item.get("name")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

enum DockerConfig {
    /// Not a docker config Secret, or without its data key: skipped by the kubelet.
    NotOne,
    Keys(Vec<String>),
    Invalid(String),
}

/// The `auths` keys of a docker config Secret, read as `MakeDockerKeyring` does.
fn docker_config(node: &Node, secret_type: &str) -> DockerConfig {
    let (key, nested) = match secret_type {
        "kubernetes.io/dockerconfigjson" => (".dockerconfigjson", true),
        "kubernetes.io/dockercfg" => (".dockercfg", false),
        _ => return DockerConfig::NotOne,
    };
    // The API server writes `stringData` over `data`.
    let payload = if let Some(text) = node.path(&["stringData", key]).and_then(Node::as_str) {
        text.as_bytes().to_vec()
    } else if let Some(encoded) = node.path(&["data", key]).and_then(Node::as_str) {
        // Go's base64 decoder skips line breaks, as in a folded value.
        let encoded: String = encoded
            .chars()
            .filter(|c| !matches!(c, '\n' | '\r'))
            .collect();
        match BASE64.decode(encoded.as_bytes()) {
            Ok(bytes) => bytes,
            Err(e) => return DockerConfig::Invalid(format!("data.{key} is not base64: {e}")),
        }
    } else {
        return DockerConfig::NotOne;
    };
    if payload.is_empty() {
        return DockerConfig::NotOne;
    }
    let json: serde_json::Value = match serde_json::from_slice(&payload) {
        Ok(json) => json,
        Err(e) => return DockerConfig::Invalid(format!("{key} is not JSON: {e}")),
    };
    let auths = if nested {
        match json.get("auths") {
            None | Some(serde_json::Value::Null) => return DockerConfig::Keys(Vec::new()),
            Some(auths) => auths,
        }
    } else {
        &json
    };
    let Some(auths) = auths.as_object() else {
        return DockerConfig::Invalid(format!("{key}: `auths` is not an object"));
    };
    let mut keys = Vec::new();
    for (server, entry) in auths {
        // `DockerConfigEntry.UnmarshalJSON`: `auth` must be base64 of `user:password`.
        if let Some(auth) = entry.get("auth").and_then(serde_json::Value::as_str)
            && !auth.is_empty()
        {
            let decoded = BASE64
                .decode(auth)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if !decoded.is_some_and(|d| d.contains(':')) {
                return DockerConfig::Invalid(format!(
                    "the `auth` of {server:?} is not base64 of username:password"
                ));
            }
        }
        if !entry.is_object() && !entry.is_null() {
            return DockerConfig::Invalid(format!("the entry of {server:?} is not an object"));
        }
        keys.push(server.clone());
    }
    DockerConfig::Keys(keys)
}

/// The pod spec's line counted from its template's output, when the document has a Helm 3
/// `# Source:` line: the line after it is the template's first.
fn source_line(stream: &Stream, doc: &Document, line: usize) -> Option<usize> {
    doc.source.as_ref()?;
    let text = stream.doc_text(doc);
    let offset = text.lines().position(|l| l.starts_with("# Source:"))?;
    let comment_line = doc.line + offset;
    line.checked_sub(comment_line).filter(|&l| l > 0)
}

/// String values of `image` keys anywhere in a resource (a CR's `spec.image`).
fn image_fields(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Map { entries, .. } => {
            for (k, v) in entries {
                match (k.as_str(), v.as_str()) {
                    (Some("image"), Some(image)) if !image.is_empty() => {
                        out.push(image.to_string())
                    }
                    _ => image_fields(v, out),
                }
            }
        }
        Value::Seq { items, .. } => items.iter().for_each(|n| image_fields(n, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n- server: r.example.com\n  secret: pull\n  create: false\n";

    fn view(input: &str) -> View {
        let config = Config::parse(RULES, "<test>").unwrap();
        let stream = Stream::parse(input.as_bytes()).unwrap();
        simulate(
            &stream,
            &config,
            &Options::default(),
            &Cluster::from_rules(&config),
            &crate::engine::no_env,
        )
        .unwrap()
    }

    fn pod(name: &str, namespace: &str, spec: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{spec}  containers: [{{name: c, image: r.example.com/app}}]\n"
        )
    }

    fn secret(name: &str, namespace: &str, body: &str) -> String {
        format!(
            "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {namespace}}}\n{body}"
        )
    }

    fn served(view: &View, i: usize) -> Option<&str> {
        view.pods[i].pulls[0]
            .served
            .as_ref()
            .map(|s| s.secret.as_str())
    }

    #[test]
    fn docker_config_secrets_as_the_kubelet_reads_them() {
        let json = r#"{"auths":{"r.example.com":{"auth":"dTpw"}}}"#;
        let b64 = BASE64.encode(json);
        let input = [
            secret("a", "ns", &format!("type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {b64}\n")),
            secret("b", "ns", &format!("type: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{json}'\n")),
            secret("c", "ns", &format!("type: kubernetes.io/dockercfg\ndata:\n  .dockercfg: {}\n", BASE64.encode(r#"{"r.example.com":{}}"#))),
            secret("d", "ns", &format!("type: Opaque\ndata:\n  .dockerconfigjson: {b64}\n")),
            secret("e", "ns", "type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: bm90IGpzb24=\n"),
            pod("p-a", "ns", "  imagePullSecrets: [{name: a}]\n"),
            pod("p-b", "ns", "  imagePullSecrets: [{name: b}]\n"),
            pod("p-c", "ns", "  imagePullSecrets: [{name: c}]\n"),
            pod("p-d", "ns", "  imagePullSecrets: [{name: d}]\n"),
            // A broken Secret fails the pod's every pull, even next to a good one.
            pod("p-e", "ns", "  imagePullSecrets: [{name: a}, {name: e}]\n"),
            // Secrets are namespaced; `pull` is declared as existing everywhere.
            pod("p-other", "other", "  imagePullSecrets: [{name: a}]\n"),
            pod("p-declared", "other", "  imagePullSecrets: [{name: a}, {name: pull}]\n"),
        ]
        .concat();
        let v = view(&input);
        assert_eq!(served(&v, 0), Some("a"));
        assert_eq!(served(&v, 1), Some("b"));
        assert_eq!(served(&v, 2), Some("c"));
        assert_eq!(served(&v, 3), None);
        assert_eq!(
            v.pods[3].secrets[0].state,
            SecretState::NotDockerConfig {
                secret_type: "Opaque".into()
            }
        );
        assert_eq!(served(&v, 4), None);
        assert!(
            v.pods[4]
                .keyring_error
                .as_deref()
                .unwrap()
                .contains("Secret e does not decode")
        );
        assert_eq!(served(&v, 5), None);
        assert_eq!(v.pods[5].secrets[0].state, SecretState::Missing);
        assert_eq!(served(&v, 6), Some("pull"));
    }

    #[test]
    fn service_account_admission() {
        let sa = |name: &str, secrets: &str| {
            format!(
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: ns}}\nimagePullSecrets: {secrets}\n"
            )
        };
        let input = [
            sa("default", "[{name: pull}]"),
            sa("robot", "[{name: pull}]"),
            pod("default-sa", "ns", ""),
            // The deprecated field names the ServiceAccount when serviceAccountName is empty.
            pod("old-field", "ns", "  serviceAccount: robot\n"),
            pod(
                "empty-list",
                "ns",
                "  serviceAccountName: robot\n  imagePullSecrets: []\n",
            ),
            pod(
                "own-list",
                "ns",
                "  serviceAccountName: robot\n  imagePullSecrets: [{name: nope}]\n",
            ),
            pod("elsewhere", "other", ""),
        ]
        .concat();
        let v = view(&input);
        let names: Vec<(&str, Option<&str>)> = v
            .pods
            .iter()
            .map(|p| (p.service_account.as_str(), served_of(p)))
            .collect();
        assert_eq!(
            names,
            [
                ("default", Some("pull")),
                ("robot", Some("pull")),
                ("robot", Some("pull")),
                ("robot", None),
                ("default", None),
            ]
        );
        assert!(matches!(
            v.pods[0].inherited,
            Some(ServiceAccountOrigin::Stream(_))
        ));
        assert_eq!(v.pods[3].inherited, None);
        assert_eq!(v.pods[4].inherited, Some(ServiceAccountOrigin::Unknown));

        // A ServiceAccount declared to the simulation (the rules may say so) counts too.
        let config = Config::parse(RULES, "<test>").unwrap();
        let mut cluster = Cluster::from_rules(&config);
        cluster.service_accounts.push(KnownServiceAccount {
            namespaces: Some(PatternSet::parse(["oth*"]).unwrap()),
            name: "default".into(),
            secrets: vec!["pull".into()],
        });
        let stream = Stream::parse(input.as_bytes()).unwrap();
        let v = simulate(
            &stream,
            &config,
            &Options::default(),
            &cluster,
            &crate::engine::no_env,
        )
        .unwrap();
        assert_eq!(served_of(&v.pods[4]), Some("pull"));
        assert_eq!(v.pods[4].inherited, Some(ServiceAccountOrigin::Declared));
    }

    fn served_of(pod: &Pod) -> Option<&str> {
        pod.pulls[0].served.as_ref().map(|s| s.secret.as_str())
    }

    #[test]
    fn lists_crds_and_unreadable_pod_specs() {
        let input = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: ray.io/v1\n  kind: RayCluster\n  metadata: {name: ray}\n  spec:\n    headGroupSpec:\n      template:\n        spec:\n          containers: [{name: head, image: r.example.com/ray}]\n    workerGroupSpecs:\n    - template:\n        spec:\n          imagePullSecrets: [{name: pull}]\n          containers: [{name: w, image: r.example.com/ray}]\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: broken}\n  spec:\n    template:\n      spec: [not, a, mapping]\n";
        let v = view(input);
        let paths: Vec<&str> = v.pods.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "items[0].spec.headGroupSpec.template.spec",
                "items[0].spec.workerGroupSpecs[0].template.spec"
            ]
        );
        assert_eq!(served_of(&v.pods[0]), None);
        assert_eq!(served_of(&v.pods[1]), Some("pull"));
        assert_eq!(v.pods[0].pulls[0].registry, Some(0));
        assert_eq!(v.notes.len(), 1);
        assert!(
            v.notes[0]
                .1
                .contains("items[1].spec.template.spec` is a list"),
            "{:?}",
            v.notes
        );
        assert_eq!(v.registry_used, [true]);
    }
}
