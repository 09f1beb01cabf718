//! Matching: documents and rules in, a [`Plan`] out. Nothing is written here.
//!
//! The plan is plain data — text edits, the Secrets to emit, and a record of every pod spec the
//! rules selected — so the output, the diff, `--dry-run` and `check` are all views of the same
//! plan rather than separate code paths.

use std::collections::HashMap;
use std::ops::Range;

use crate::edit::{self, Edit, EditProblem, ItemShape, Leaf, Syntax};
use crate::embedded::{self, EmbeddedProblem};
use crate::error::{InputProblems, Location, Problem, ProblemKind};
use crate::fieldpath::{FieldPath, Step};
use crate::image::ImageRef;
use crate::kinds::{self, CONTAINER_LISTS};
use crate::rules::{Config, Format, Mode, Rule, SecretNamespaces, Target};
use crate::selector::Subject;
use crate::stream::{Document, Stream};
use crate::template::Renderer;
use crate::yaml::{self, Node, Origin, Parsed, Value};

/// Helm 4 names each document's template with this annotation instead of a `# Source:` line.
pub const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// What the caller knows that the input does not say.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The release namespace. Helm tells a post-renderer neither release nor namespace; the
    /// `helm regcred` wrappers pass it in. Documents without `metadata.namespace` land there.
    pub namespace: Option<String>,
    /// The release name, for templated names (`{{ release }}-pull`); same reason as above.
    pub release: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Text edits against the input, sorted and non-overlapping.
    pub edits: Vec<Edit>,
    /// Pull Secrets to emit, in the order pods first needed them.
    pub secrets: Vec<PlannedSecret>,
    /// ServiceAccounts to emit (`mode: serviceAccount` with `createServiceAccounts: true`).
    pub service_accounts: Vec<PlannedServiceAccount>,
    /// Why edits beyond pull secrets were made (restart annotations, ServiceAccount edits).
    pub notes: Vec<Warning>,
    /// Every pod spec a rule selected, with what it got.
    pub changes: Vec<Change>,
    pub warnings: Vec<Warning>,
    /// The input came from Helm 4 (documents carry [`FILENAME_ANNOTATION`]).
    pub helm4: bool,
    /// Input ranges holding Secret data: shown as `<redacted>` in diffs.
    pub sensitive: Vec<Range<usize>>,
}

/// A Secret the output must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSecret {
    pub name: String,
    /// `None`: the documents that need it have no namespace either (release namespace).
    pub namespace: Option<String>,
    /// Indexes into `Config::registries` whose credentials go into this Secret.
    pub registries: Vec<usize>,
    /// A pre-install/pre-upgrade hook pod needs it: Helm runs those hooks before it creates the
    /// release's resources, so the Secret must be a hook itself (Helm 4; Helm 3 sends no hooks).
    pub hook: bool,
}

/// A ServiceAccount the output must contain, listing these pull secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedServiceAccount {
    pub name: String,
    pub namespace: Option<String>,
    pub secrets: Vec<String>,
}

/// One selected pod spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub at: Location,
    pub namespace: Option<String>,
    /// Where the list lives, e.g. `spec.template.spec.imagePullSecrets`.
    pub path: String,
    /// Secrets the rules wanted that were missing, now added.
    pub added: Vec<String>,
    /// Secrets the rules wanted that the document already listed.
    pub present: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub at: Option<Location>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Match `config` against every document of `stream`.
///
/// All problems are collected before returning, so one run shows the user everything to fix.
pub fn plan(stream: &Stream, config: &Config, options: &Options) -> Result<Plan, InputProblems> {
    let names = Renderer::with_process_env(&config.vars, options.release.as_deref());
    let default_rule;
    let rendered: Vec<Rule>;
    let rules: Vec<&Rule> = if config.rules.is_empty() {
        default_rule = Rule::default_rule();
        vec![&default_rule]
    } else if config.rules.iter().any(Rule::has_templates) {
        rendered = render_rule_templates(config, &names, options)?;
        rendered.iter().collect()
    } else {
        config.rules.iter().collect()
    };
    let interest = Interest::of(&rules);
    let mut planner = Planner {
        stream,
        config,
        options,
        rules: &rules,
        interest: &interest,
        plan: Plan::default(),
        problems: Vec::new(),
        images: HashMap::new(),
        needed: Vec::new(),
        existing: HashMap::new(),
        service_accounts: HashMap::new(),
        sa_needs: Vec::new(),
        templates: Vec::new(),
        changed_configs: Vec::new(),
        names,
        secret_registries: HashMap::new(),
    };
    let wanted = |kind: &str| interest.wants(kind);
    for doc in &stream.docs {
        let text = stream.doc_text(doc);
        if crate::stream::top_level_kind(text).is_some_and(|kind| !interest.wants(kind)) {
            continue;
        }
        let origin = Origin {
            offset: doc.range.start,
            line: doc.line,
        };
        match yaml::parse_document(text, origin, &wanted) {
            Ok(Parsed::Node(root)) => planner.document(doc, &root),
            Ok(Parsed::Empty | Parsed::Skipped { .. }) => {}
            Err(e) => planner.problems.push(Problem {
                at: guess_location(stream, doc, e.line),
                kind: match e.kind {
                    yaml::ErrorKind::Syntax => {
                        ProblemKind::Syntax(format!("{} at column {}", e.message, e.col + 1))
                    }
                    yaml::ErrorKind::DuplicateKey => ProblemKind::Syntax(e.message),
                    yaml::ErrorKind::Unsupported => ProblemKind::Unsupported(e.message),
                },
            }),
        }
    }
    planner.finish()
}

/// The rules with their templated label values rendered for this run.
fn render_rule_templates(
    config: &Config,
    names: &Renderer,
    options: &Options,
) -> Result<Vec<Rule>, InputProblems> {
    let namespace = options.namespace.as_deref();
    let render = |template: &str| names.render(template, namespace).map_err(|e| e.to_string());
    let invalid = |template: &str, e: crate::selector::PatternError| {
        format!("label value {template:?} renders to an invalid pattern: {e}")
    };
    config
        .rules
        .iter()
        .map(|rule| {
            let mut rule = rule.clone();
            rule.selector = rule.selector.render_templates(render, invalid)?;
            if let Some(exclude) = &rule.exclude {
                rule.exclude = Some(exclude.render_templates(render, invalid)?);
            }
            Ok(rule)
        })
        .collect::<Result<_, String>>()
        .map_err(|message| {
            InputProblems(vec![Problem {
                at: Location::default(),
                kind: ProblemKind::Template(message),
            }])
        })
}

/// Which kinds are worth parsing past `kind:`, from what the rules can touch.
struct Interest {
    /// Kinds named by target rules; `None` inside means a target rule matches any kind.
    target_kinds: Option<Vec<String>>,
    service_accounts: bool,
    config_maps: bool,
}

impl Interest {
    fn of(rules: &[&Rule]) -> Interest {
        let mut target_kinds = Some(Vec::new());
        for rule in rules.iter().filter(|r| r.target.is_some()) {
            match (rule.selector.kinds(), &mut target_kinds) {
                (Some(kinds), Some(all)) => all.extend(kinds.iter().cloned()),
                (None, _) => target_kinds = None,
                _ => {}
            }
        }
        Interest {
            target_kinds,
            service_accounts: rules.iter().any(|r| r.mode == Mode::ServiceAccount),
            // Pod templates mounting an edited embedded config get restart annotations.
            config_maps: rules
                .iter()
                .any(|r| r.rollout && r.target.as_ref().is_some_and(|t| t.field.is_some())),
        }
    }

    /// Pod spec holders, Secrets (never emit one twice; redact in diffs), lists of resources,
    /// and whatever the rules can target.
    fn wants(&self, kind: &str) -> bool {
        kinds::may_hold_pod_spec(kind)
            || kind == "Secret"
            || kind.ends_with("List")
            || (self.service_accounts && kind == "ServiceAccount")
            || (self.config_maps && kind == "ConfigMap")
            || self
                .target_kinds
                .as_ref()
                .is_none_or(|kinds| kinds.iter().any(|k| k == kind))
    }
}

struct Planner<'s, 'c> {
    stream: &'s Stream<'s>,
    config: &'c Config,
    options: &'c Options,
    /// The rules file's rules, or the one default rule when it has none.
    rules: &'c [&'c Rule],
    interest: &'c Interest,
    plan: Plan,
    problems: Vec<Problem>,
    /// Parsed image references by text: charts repeat the same few images many times.
    images: HashMap<String, Option<ImageRef>>,
    /// Secrets pods need, in first-need order.
    needed: Vec<Need>,
    /// Secrets already in the input: (name, effective namespace) -> (type, where).
    existing: HashMap<(String, String), (String, Location)>,
    /// ServiceAccounts in the input: (effective namespace, name) -> its root node and location.
    service_accounts: HashMap<(String, String), (Node, Location)>,
    /// ServiceAccounts that `mode: serviceAccount` rules want to list secrets.
    sa_needs: Vec<SaNeed>,
    /// Pod templates that use ConfigMaps, for restart annotations.
    templates: Vec<TemplateRef>,
    /// Embedded configs changed in ConfigMaps: (effective namespace, name, key, checksum).
    changed_configs: Vec<(String, String, String, String)>,
    /// Renders templated secret names and namespaces (`{{ vars.user_id }}`), per namespace.
    names: Renderer<'c>,
    /// Rendered secret name -> the creating registries (indexes) whose `secret` rendered to it.
    secret_registries: HashMap<String, Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Need {
    name: String,
    namespace: Option<String>,
    hook: bool,
}

struct SaNeed {
    namespace: Option<String>,
    name: String,
    secrets: Vec<String>,
    at: Location,
    create: bool,
}

struct TemplateRef {
    root: Node,
    at: Location,
    namespace: String,
    /// Path of the pod template's `metadata` mapping from the resource root.
    metadata: Vec<Step>,
    config_maps: Vec<String>,
}

/// One list a resource's target rules add to: the target, the names, the rules that asked.
type TargetGroup<'r> = (&'r Target, Vec<String>, Vec<&'r Rule>);

/// The facts about a resource the planner needs, read once.
struct Resource<'n> {
    node: &'n Node,
    api_version: &'n str,
    kind: &'n str,
    name: &'n str,
    namespace: Option<&'n str>,
    labels: Vec<(String, String)>,
    source: Option<String>,
    at: Location,
    /// Path prefix inside the document (`items[2].` for List items), for messages.
    prefix: String,
    /// A Helm hook that runs before the release's resources exist.
    pre_hook: bool,
}

/// An ordered set of names, appended to in rule order.
fn add_all(set: &mut Vec<String>, names: impl IntoIterator<Item = String>) {
    for name in names {
        if !set.contains(&name) {
            set.push(name);
        }
    }
}

impl Planner<'_, '_> {
    fn document(&mut self, doc: &Document, root: &Node) {
        if root.as_map().is_none() {
            self.problems.push(Problem {
                at: Location {
                    doc: doc.index,
                    source: doc.source.clone(),
                    line: root.line,
                    ..Location::default()
                },
                kind: ProblemKind::NotAMapping {
                    found: root.type_name(),
                },
            });
            return;
        }
        let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
        match root.get("items").map(|items| &items.value) {
            Some(Value::Seq { items, .. }) if kind.ends_with("List") => {
                for (i, item) in items.iter().enumerate() {
                    self.resource(doc, item, format!("items[{i}]."));
                }
            }
            _ => self.resource(doc, root, String::new()),
        }
    }

    fn resource(&mut self, doc: &Document, node: &Node, prefix: String) {
        if node.as_map().is_none() {
            let at = Location {
                doc: doc.index,
                source: doc.source.clone(),
                line: node.line,
                ..Location::default()
            };
            let found = node.type_name();
            self.problems.push(Problem {
                at,
                kind: ProblemKind::NotAMappingAt {
                    path: prefix.trim_end_matches('.').to_string(),
                    found,
                },
            });
            return;
        }
        let text = |path: &[&str]| node.path(path).and_then(Node::as_str);
        let annotation = text(&["metadata", "annotations", FILENAME_ANNOTATION]);
        if annotation.is_some() {
            self.plan.helm4 = true;
        }
        let source = doc.source.clone().or(annotation.map(str::to_string));
        let kind = text(&["kind"]).unwrap_or_default();
        let name = text(&["metadata", "name"]).unwrap_or_default();
        let hooks = text(&["metadata", "annotations", "helm.sh/hook"]).unwrap_or_default();
        let r = Resource {
            node,
            api_version: text(&["apiVersion"]).unwrap_or_default(),
            kind,
            name,
            namespace: text(&["metadata", "namespace"]).filter(|ns| !ns.is_empty()),
            labels: string_pairs(node.path(&["metadata", "labels"])),
            at: Location {
                doc: doc.index,
                kind: Some(kind.to_string()).filter(|k| !k.is_empty()),
                name: Some(name.to_string()).filter(|n| !n.is_empty()),
                source: source.clone(),
                line: node.line,
            },
            source,
            prefix,
            pre_hook: hooks
                .split(',')
                .any(|h| matches!(h.trim(), "pre-install" | "pre-upgrade")),
        };
        if r.kind == "Secret" && r.api_version == "v1" {
            self.existing_secret(&r);
        }
        if r.kind == "ServiceAccount" && r.api_version == "v1" && self.interest.service_accounts {
            let key = (self.effective_namespace(r.namespace), r.name.to_string());
            self.service_accounts
                .entry(key)
                .or_insert_with(|| (node.clone(), r.at.clone()));
        }
        let pod_spec =
            kinds::pod_spec_path(r.api_version, r.kind).and_then(|p| self.pod_spec(&r, p.path));
        let images = match &pod_spec {
            Some((spec, _)) => self.images_of(&r, spec),
            None if self.rules.iter().any(|rule| rule.target.is_some()) => {
                let mut found = Vec::new();
                image_fields(node, &mut found);
                found.iter().filter_map(|i| self.image(&r, i)).collect()
            }
            None => Vec::new(),
        };
        let subject = Subject {
            kind: r.kind,
            name: r.name,
            namespace: r
                .namespace
                .or(self.options.namespace.as_deref())
                .unwrap_or(""),
            labels: &r.labels,
            images: &images,
            source: r.source.as_deref(),
        };
        // Any workload that mounts an edited config must restart, whether or not a rule
        // selects the workload itself.
        if self.interest.config_maps
            && let Some((spec, path)) = &pod_spec
        {
            self.remember_template(&r, spec, path);
        }
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .copied()
            .filter(|rule| rule.matches(&subject))
            .collect();
        if rules.is_empty() {
            return;
        }
        if let Some((spec, path)) = pod_spec {
            self.pod_rules(&r, spec, &path, &images, &rules);
        }
        self.target_rules(&r, &images, &rules);
    }

    /// The pod spec node and its path, or `None` (with a warning or problem) when unusable.
    fn pod_spec<'n>(
        &mut self,
        r: &Resource<'n>,
        path: &[&str],
    ) -> Option<(&'n Node, Vec<&'static str>)> {
        let spec_path = format!("{}{}", r.prefix, path.join("."));
        let Some(pod_spec) = r.node.path(path).filter(|n| !n.is_null()) else {
            self.warn(
                Some(&r.at),
                format!("no pod spec at `{spec_path}`; left as it is"),
            );
            return None;
        };
        if pod_spec.as_map().is_none() {
            let kind = match pod_spec.value {
                Value::Alias => ProblemKind::Alias { path: spec_path },
                _ => ProblemKind::NotAMappingAt {
                    path: spec_path,
                    found: pod_spec.type_name(),
                },
            };
            self.problem(&r.at, pod_spec.line, kind);
            return None;
        }
        let path = kinds::POD_SPEC_PATHS
            .iter()
            .find(|p| p.path == path)
            .map(|p| p.path.to_vec())
            .unwrap_or_default();
        Some((pod_spec, path))
    }

    /// `mode: podSpec` and `mode: serviceAccount` rules (the ones without a `target`).
    fn pod_rules(
        &mut self,
        r: &Resource,
        pod_spec: &Node,
        path: &[&str],
        images: &[ImageRef],
        rules: &[&Rule],
    ) {
        let spec_path = format!("{}{}", r.prefix, path.join("."));
        let list_path = format!("{spec_path}.imagePullSecrets");
        let existing = match edit::existing_names(pod_spec, "imagePullSecrets") {
            Ok(names) => names,
            Err(e) => return self.edit_problem(r, &list_path, e),
        };
        let mut pod_secrets = Vec::new();
        let mut sa_secrets = Vec::new();
        let mut extra_namespaces = Vec::new();
        let mut create_sa = false;
        let mut policy: Option<(&Rule, &str)> = None;
        for rule in rules.iter().filter(|rule| rule.target.is_none()) {
            let secrets = self.secrets_of(r, rule, images);
            if secrets.is_empty() {
                continue;
            }
            match rule.mode {
                Mode::PodSpec => add_all(&mut pod_secrets, secrets),
                Mode::ServiceAccount => {
                    create_sa |= rule.create_service_accounts;
                    add_all(&mut sa_secrets, secrets);
                }
            }
            add_all(&mut extra_namespaces, self.secret_namespaces(rule, r));
            if let Some(p) = &rule.image_pull_policy {
                match policy {
                    Some((first, other)) if other != p => self.warn(
                        Some(&r.at),
                        format!(
                            "rules `{}` and `{}` set different imagePullPolicy; the first one wins",
                            first.name, rule.name
                        ),
                    ),
                    Some(_) => {}
                    None => policy = Some((rule, p)),
                }
            }
        }
        // Container edits first: at equal offsets (a pod spec ending in its last container)
        // the deeper insertion must come before the pod spec's new key.
        if let Some((rule, policy)) = policy {
            self.pull_policy(r, pod_spec, &spec_path, rule, policy);
        }
        let (present, added): (Vec<String>, Vec<String>) = pod_secrets
            .into_iter()
            .partition(|name| existing.contains(name));
        let names: Vec<&str> = added.iter().map(String::as_str).collect();
        match edit::append_to_list(
            self.stream.text,
            self.stream.newline,
            pod_spec,
            "imagePullSecrets",
            &names,
            ItemShape::NameRef,
        ) {
            Ok(edits) => self.plan.edits.extend(edits),
            Err(e) => return self.edit_problem(r, &list_path, e),
        }
        // Pods that list a secret themselves need nothing from their ServiceAccount for it.
        sa_secrets.retain(|s| !existing.contains(s) && !added.contains(s));
        let all: Vec<String> = added
            .iter()
            .chain(&present)
            .chain(&sa_secrets)
            .cloned()
            .collect();
        self.need(&all, r, &extra_namespaces);
        if !sa_secrets.is_empty() {
            let sa = pod_spec
                .get("serviceAccountName")
                .or_else(|| pod_spec.get("serviceAccount"))
                .and_then(Node::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default");
            self.sa_need(r, sa, sa_secrets, create_sa);
        }
        if !added.is_empty() || !present.is_empty() {
            self.plan.changes.push(Change {
                at: r.at.clone(),
                namespace: r.namespace.map(str::to_string),
                path: list_path,
                added,
                present,
            });
        }
    }

    /// Set `imagePullPolicy` on the containers the rule is about: those matching its `images`
    /// patterns, else those pulling from a registry in the rules.
    fn pull_policy(
        &mut self,
        r: &Resource,
        pod_spec: &Node,
        spec_path: &str,
        rule: &Rule,
        policy: &str,
    ) {
        for list in CONTAINER_LISTS {
            let containers = pod_spec
                .get(list)
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for (i, container) in containers.iter().enumerate() {
                let Some(written) = container.get("image").and_then(Node::as_str) else {
                    continue;
                };
                let Some(image) = self.image(r, written) else {
                    continue;
                };
                let selected = match rule.selector.images() {
                    Some(patterns) => {
                        patterns.is_match(image.written()) || patterns.is_match(image.full())
                    }
                    None => self
                        .config
                        .registries_for_host(image.registry())
                        .next()
                        .is_some(),
                };
                if !selected {
                    continue;
                }
                match edit::edit_at(
                    self.stream.text,
                    self.stream.newline,
                    container,
                    &[],
                    "imagePullPolicy",
                    Leaf::Scalar(policy),
                    Syntax::Yaml,
                ) {
                    Ok(edits) => self.plan.edits.extend(edits),
                    Err(e) => {
                        self.edit_problem(r, &format!("{spec_path}.{list}[{i}].imagePullPolicy"), e)
                    }
                }
            }
        }
    }

    fn sa_need(&mut self, r: &Resource, sa: &str, secrets: Vec<String>, create: bool) {
        let namespace = r.namespace.map(str::to_string);
        let key_ns = self.effective_namespace(r.namespace);
        let found = self
            .sa_needs
            .iter_mut()
            .find(|n| n.name == sa && self_ns(&n.namespace, self.options) == key_ns);
        match found {
            Some(need) => {
                add_all(&mut need.secrets, secrets);
                need.create |= create;
            }
            None => self.sa_needs.push(SaNeed {
                namespace,
                name: sa.to_string(),
                secrets,
                at: r.at.clone(),
                create,
            }),
        }
    }

    fn remember_template(&mut self, r: &Resource, pod_spec: &Node, path: &[&str]) {
        if r.kind == "Pod" {
            return; // a bare Pod is not restarted by an annotation change
        }
        let mut config_maps = Vec::new();
        config_map_refs(pod_spec, &mut config_maps);
        if config_maps.is_empty() {
            return;
        }
        let mut metadata: Vec<Step> = path[..path.len() - 1]
            .iter()
            .map(|k| Step::Key(k.to_string()))
            .collect();
        metadata.push(Step::Key("metadata".into()));
        self.templates.push(TemplateRef {
            root: r.node.clone(),
            at: r.at.clone(),
            namespace: self.effective_namespace(r.namespace),
            metadata,
            config_maps,
        });
    }

    /// Rules with a `target`: a field of the resource, or a list inside an embedded config.
    fn target_rules(&mut self, r: &Resource, images: &[ImageRef], rules: &[&Rule]) {
        // Several rules may target the same list: one edit per (field, path).
        let mut groups: Vec<TargetGroup> = Vec::new();
        for rule in rules {
            let Some(target) = &rule.target else { continue };
            let secrets = self.secrets_of(r, rule, images);
            if secrets.is_empty() {
                continue;
            }
            match groups
                .iter_mut()
                .find(|(t, _, _)| t.field == target.field && t.path == target.path)
            {
                Some((_, names, rs)) => {
                    add_all(names, secrets);
                    rs.push(rule);
                }
                None => groups.push((target, secrets, vec![rule])),
            }
        }
        let mut by_field: Vec<(Option<&FieldPath>, Vec<TargetGroup>)> = Vec::new();
        for group in groups {
            match by_field
                .iter_mut()
                .find(|(f, _)| *f == group.0.field.as_ref())
            {
                Some((_, gs)) => gs.push(group),
                None => by_field.push((group.0.field.as_ref(), vec![group])),
            }
        }
        for (field, groups) in by_field {
            match field {
                None => {
                    for (target, names, rules) in groups {
                        self.direct_target(r, target, names, &rules);
                    }
                }
                Some(field) => self.embedded_target(r, field, groups),
            }
        }
    }

    fn direct_target(
        &mut self,
        r: &Resource,
        target: &Target,
        wanted: Vec<String>,
        rules: &[&Rule],
    ) {
        let (parents, key) = target
            .path
            .parent_and_key()
            .expect("validated: path ends in a key");
        let path = format!("{}{}", r.prefix, target.path);
        let existing = match FieldPath::resolve_steps(r.node, parents) {
            Some(parent) => match edit::existing_names(parent, key) {
                Ok(names) => names,
                Err(e) => return self.edit_problem(r, &path, e),
            },
            None => Vec::new(),
        };
        let (present, added): (Vec<String>, Vec<String>) =
            wanted.into_iter().partition(|n| existing.contains(n));
        let names: Vec<&str> = added.iter().map(String::as_str).collect();
        if !names.is_empty() {
            let leaf = Leaf::List {
                names: &names,
                shape: target.item_shape,
            };
            match edit::edit_at(
                self.stream.text,
                self.stream.newline,
                r.node,
                parents,
                key,
                leaf,
                Syntax::Yaml,
            ) {
                Ok(edits) => self.plan.edits.extend(edits),
                Err(e) => return self.edit_problem(r, &path, e),
            }
        }
        let mut namespaces = Vec::new();
        for rule in rules {
            add_all(&mut namespaces, self.secret_namespaces(rule, r));
        }
        self.record(r, path, added, present, &namespaces);
    }

    fn embedded_target(&mut self, r: &Resource, field: &FieldPath, groups: Vec<TargetGroup>) {
        let field_path = format!("{}{field}", r.prefix);
        let Some(field_node) = field.resolve(r.node) else {
            self.warn(
                Some(&r.at),
                format!("no `{field_path}` to hold the config; left as it is"),
            );
            return;
        };
        let format = groups[0].0.format;
        let syntax = match format {
            Format::Yaml => Syntax::Yaml,
            Format::Json => Syntax::Json,
        };
        let mut changes = Vec::new();
        let mut namespaces = Vec::new();
        let mut inner_problem = None;
        let result = embedded::edit_embedded(
            self.stream.text,
            self.stream.newline,
            field_node,
            format,
            |inner, root| {
                let mut edits = Vec::new();
                for (target, wanted, rules) in &groups {
                    let (parents, key) = target
                        .path
                        .parent_and_key()
                        .expect("validated: path ends in a key");
                    let existing = match FieldPath::resolve_steps(root, parents) {
                        Some(parent) => edit::existing_names(parent, key)?,
                        None => Vec::new(),
                    };
                    let (present, added): (Vec<String>, Vec<String>) =
                        wanted.iter().cloned().partition(|n| existing.contains(n));
                    let names: Vec<&str> = added.iter().map(String::as_str).collect();
                    if !names.is_empty() {
                        let leaf = Leaf::List {
                            names: &names,
                            shape: target.item_shape,
                        };
                        edits.extend(edit::edit_at(
                            inner, "\n", root, parents, key, leaf, syntax,
                        )?);
                    }
                    for rule in rules {
                        if let SecretNamespaces::FromPath(p) = &rule.secret_namespaces {
                            match p.resolve(root).and_then(Node::as_str) {
                                Some(ns) => add_all(&mut namespaces, [ns.to_string()]),
                                None => {
                                    inner_problem =
                                        Some(format!("`{p}` names no string in the config"))
                                }
                            }
                        }
                    }
                    changes.push((format!("{field_path} {}", target.path), added, present));
                }
                edits.sort_by_key(|e| e.range.start);
                Ok(edits)
            },
        );
        let embedded = match result {
            Ok(e) => e,
            Err(EmbeddedProblem::Edit(e)) => return self.edit_problem(r, &field_path, e),
            Err(EmbeddedProblem::NotAString { found, line }) => {
                return self.problem(
                    &r.at,
                    line,
                    ProblemKind::NotAScalar {
                        path: field_path,
                        found,
                    },
                );
            }
            Err(EmbeddedProblem::Invalid { message, line }) => {
                let format = if format == Format::Json {
                    "JSON"
                } else {
                    "YAML"
                };
                return self.problem(
                    &r.at,
                    line,
                    ProblemKind::Embedded {
                        path: field_path,
                        format,
                        message,
                    },
                );
            }
        };
        if let Some(message) = inner_problem {
            self.warn(Some(&r.at), format!("secretNamespaces: {message}"));
        }
        for (_, _, rules) in &groups {
            for rule in rules {
                add_all(&mut namespaces, self.secret_namespaces(rule, r));
            }
        }
        for (path, added, present) in changes {
            self.record(r, path, added, present, &namespaces);
        }
        if let Some(embedded) = embedded {
            self.plan.edits.extend(embedded.outer);
            let rollout = groups
                .iter()
                .any(|(_, _, rules)| rules.iter().any(|rule| rule.rollout));
            if rollout && r.kind == "ConfigMap" {
                self.changed_configs.push((
                    self.effective_namespace(r.namespace),
                    r.name.to_string(),
                    field.to_string(),
                    sha256_hex(&embedded.new_inner),
                ));
            }
        }
    }

    /// Namespaces a rule names beyond the resource's own (a `fromPath` on the resource itself;
    /// embedded `fromPath`s are read inside [`Self::embedded_target`]).
    fn secret_namespaces(&mut self, rule: &Rule, r: &Resource) -> Vec<String> {
        let node = r.node;
        match &rule.secret_namespaces {
            SecretNamespaces::None => Vec::new(),
            SecretNamespaces::List(list) => {
                let namespace = r.namespace.or(self.options.namespace.as_deref());
                let mut out = Vec::new();
                for written in list {
                    match self.names.render(written, namespace) {
                        Ok(ns) if crate::secret::is_dns1123_label(&ns) => out.push(ns),
                        Ok(ns) => self.template_problem(
                            r,
                            format!(
                                "secretNamespaces template `{written}` rendered to `{ns}`, which is \
                                 not a valid namespace name"
                            ),
                        ),
                        Err(e) => self.template_problem(r, e.to_string()),
                    }
                }
                out
            }
            SecretNamespaces::FromPath(_)
                if rule.target.as_ref().is_some_and(|t| t.field.is_some()) =>
            {
                Vec::new()
            }
            SecretNamespaces::FromPath(p) => p
                .resolve(node)
                .and_then(Node::as_str)
                .map(str::to_string)
                .into_iter()
                .collect(),
        }
    }

    /// A target list the rules selected: what it got, and the Secrets it now needs.
    fn record(
        &mut self,
        r: &Resource,
        path: String,
        added: Vec<String>,
        present: Vec<String>,
        namespaces: &[String],
    ) {
        let all: Vec<String> = added.iter().chain(&present).cloned().collect();
        self.need(&all, r, namespaces);
        self.plan.changes.push(Change {
            at: r.at.clone(),
            namespace: r.namespace.map(str::to_string),
            path,
            added,
            present,
        });
    }

    /// Record that the resource needs these Secrets, in its namespace and the extra ones.
    fn need(&mut self, secrets: &[String], r: &Resource, extra_namespaces: &[String]) {
        let namespaces = std::iter::once(r.namespace.map(str::to_string))
            .chain(extra_namespaces.iter().map(|ns| Some(ns.clone())));
        for namespace in namespaces {
            for name in secrets {
                let found = self
                    .needed
                    .iter_mut()
                    .find(|n| &n.name == name && n.namespace == namespace);
                match found {
                    Some(need) => need.hook |= r.pre_hook,
                    None => self.needed.push(Need {
                        name: name.clone(),
                        namespace: namespace.clone(),
                        hook: r.pre_hook,
                    }),
                }
            }
        }
    }

    /// Every container image of a pod spec, parsed; unparseable ones are warned about once.
    fn images_of(&mut self, r: &Resource, pod_spec: &Node) -> Vec<ImageRef> {
        let mut out = Vec::new();
        for list in CONTAINER_LISTS {
            let containers = pod_spec
                .get(list)
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for image in containers.iter().filter_map(|c| c.get("image")?.as_str()) {
                out.extend(self.image(r, image));
            }
        }
        out
    }

    fn image(&mut self, r: &Resource, written: &str) -> Option<ImageRef> {
        if !self.images.contains_key(written) {
            let parsed = ImageRef::parse(written);
            if let Err(e) = &parsed {
                self.warn(Some(&r.at), format!("{e}; no registry matched"));
            }
            self.images.insert(written.to_string(), parsed.ok());
        }
        self.images.get(written).cloned().flatten()
    }

    /// The secrets one rule gives: its `secrets`, or those of the registries the images use.
    /// Templated names are rendered for the resource's namespace (else the release namespace);
    /// which registries each rendered name stands for is remembered for [`Self::finish`].
    fn secrets_of(&mut self, r: &Resource, rule: &Rule, images: &[ImageRef]) -> Vec<String> {
        let config = self.config;
        let written: Vec<&str> = match &rule.secrets {
            Some(secrets) => secrets.iter().map(String::as_str).collect(),
            None => images
                .iter()
                .flat_map(|image| config.registries_for_host(image.registry()))
                .map(|registry| registry.secret.as_str())
                .collect(),
        };
        let namespace = r.namespace.or(self.options.namespace.as_deref());
        let mut names = Vec::new();
        for source in written {
            match self.names.secret_name(source, namespace) {
                Ok(name) => {
                    let creators = config
                        .registries
                        .iter()
                        .enumerate()
                        .filter(|(_, reg)| reg.secret == source && reg.create)
                        .map(|(i, _)| i);
                    let known = self.secret_registries.entry(name.clone()).or_default();
                    for i in creators {
                        if !known.contains(&i) {
                            known.push(i);
                        }
                    }
                    add_all(&mut names, [name]);
                }
                Err(e) => self.template_problem(r, e.to_string()),
            }
        }
        names
    }

    /// A template that cannot be rendered for this resource; reported once per message, not
    /// once per resource.
    fn template_problem(&mut self, r: &Resource, message: String) {
        let kind = ProblemKind::Template(message);
        if !self.problems.iter().any(|p| p.kind == kind) {
            self.problems.push(Problem {
                at: r.at.clone(),
                kind,
            });
        }
    }

    fn effective_namespace(&self, namespace: Option<&str>) -> String {
        self_ns(&namespace.map(str::to_string), self.options)
    }

    fn existing_secret(&mut self, r: &Resource) {
        let secret_type = r
            .node
            .get("type")
            .and_then(Node::as_str)
            .unwrap_or("Opaque")
            .to_string();
        let key = (r.name.to_string(), self.effective_namespace(r.namespace));
        self.existing
            .entry(key)
            .or_insert((secret_type, r.at.clone()));
        for field in ["data", "stringData"] {
            if let Some(entries) = r.node.get(field).and_then(Node::as_map) {
                self.plan
                    .sensitive
                    .extend(entries.iter().map(|(_, v)| v.start..v.end));
            }
        }
    }

    fn finish(mut self) -> Result<Plan, InputProblems> {
        self.service_account_edits();
        self.rollout_annotations();
        let needed = std::mem::take(&mut self.needed);
        for Need {
            name,
            namespace,
            hook,
        } in needed
        {
            // Templated names were rendered per resource; the registries behind each rendered
            // name were recorded then.
            let registries: Vec<usize> = self
                .secret_registries
                .get(&name)
                .cloned()
                .unwrap_or_default();
            if registries.is_empty() {
                continue; // only referenced: the rules say it exists already
            }
            let key = (name.clone(), self.effective_namespace(namespace.as_deref()));
            if let Some((found, at)) = self.existing.get(&key) {
                if found != "kubernetes.io/dockerconfigjson" {
                    let kind = ProblemKind::SecretConflict {
                        name,
                        found: found.clone(),
                    };
                    self.problems.push(Problem {
                        at: at.clone(),
                        kind,
                    });
                }
                continue;
            }
            let options = self.options;
            match self
                .plan
                .secrets
                .iter_mut()
                .find(|s| s.name == name && self_ns(&s.namespace, options) == key.1)
            {
                Some(secret) => secret.hook |= hook,
                None => self.plan.secrets.push(PlannedSecret {
                    name,
                    namespace,
                    registries,
                    hook,
                }),
            }
        }
        self.warn_ambiguous_namespaces();
        if !self.problems.is_empty() {
            return Err(InputProblems(self.problems));
        }
        // Stable: edits at the same offset keep the order they were planned in (deeper first).
        self.plan.edits.sort_by_key(|e| e.range.start);
        Ok(self.plan)
    }

    /// `mode: serviceAccount`: list the secrets on each ServiceAccount the pods run as.
    fn service_account_edits(&mut self) {
        for need in std::mem::take(&mut self.sa_needs) {
            let key = (self_ns(&need.namespace, self.options), need.name.clone());
            if let Some((node, at)) = self.service_accounts.get(&key) {
                let (node, at) = (node.clone(), at.clone());
                let existing = match edit::existing_names(&node, "imagePullSecrets") {
                    Ok(names) => names,
                    Err(e) => {
                        let r_at = at.clone();
                        let (line, kind) = edit_problem_kind("imagePullSecrets".into(), e);
                        self.problem(&r_at, line, kind);
                        continue;
                    }
                };
                let added: Vec<&str> = need
                    .secrets
                    .iter()
                    .map(String::as_str)
                    .filter(|s| !existing.iter().any(|e| e == s))
                    .collect();
                match edit::append_to_list(
                    self.stream.text,
                    self.stream.newline,
                    &node,
                    "imagePullSecrets",
                    &added,
                    ItemShape::NameRef,
                ) {
                    Ok(edits) => self.plan.edits.extend(edits),
                    Err(e) => {
                        let (line, kind) = edit_problem_kind("imagePullSecrets".into(), e);
                        self.problem(&at, line, kind);
                    }
                }
                if !added.is_empty() {
                    self.plan.notes.push(Warning {
                        at: Some(at),
                        message: format!(
                            "ServiceAccount lists {} for the pods that run as it",
                            added.join(", ")
                        ),
                    });
                }
            } else if need.create && need.name != "default" {
                self.plan.service_accounts.push(PlannedServiceAccount {
                    name: need.name,
                    namespace: need.namespace,
                    secrets: need.secrets,
                });
            } else {
                let why = if need.name == "default" {
                    "every namespace has its own `default` ServiceAccount, which helm-regcred will not \
                     replace; add the secrets with `kubectl patch serviceaccount default -p \
                     '{\"imagePullSecrets\": [{\"name\": \"...\"}]}'` or use `mode: podSpec`"
                } else {
                    "set `createServiceAccounts: true` on the rule to emit it, or use `mode: podSpec`"
                };
                self.warn(
                    Some(&need.at),
                    format!(
                        "the pod runs as ServiceAccount {} which is not in the input, so it cannot \
                         list {}: {why}",
                        need.name,
                        need.secrets.join(", ")
                    ),
                );
            }
        }
    }

    /// Pods read a mounted config at start: annotate the templates that use an edited
    /// ConfigMap with its checksum, so the change rolls them (what the seed did by deleting pods).
    fn rollout_annotations(&mut self) {
        for template in std::mem::take(&mut self.templates) {
            let mut edits = Vec::new();
            for (namespace, name, field, checksum) in &self.changed_configs {
                if *namespace != template.namespace || !template.config_maps.contains(name) {
                    continue;
                }
                let key = checksum_annotation(name);
                let mut parents = template.metadata.clone();
                parents.push(Step::Key("annotations".into()));
                match edit::edit_at(
                    self.stream.text,
                    self.stream.newline,
                    &template.root,
                    &parents,
                    &key,
                    Leaf::Scalar(checksum),
                    Syntax::Yaml,
                ) {
                    Ok(e) if e.is_empty() => {}
                    Ok(e) => {
                        edits.extend(e);
                        self.plan.notes.push(Warning {
                            at: Some(template.at.clone()),
                            message: format!(
                                "annotation {key} set so the pods restart: ConfigMap {name} ({field}) changed"
                            ),
                        });
                    }
                    Err(e) => {
                        let (line, kind) = edit_problem_kind(key.clone(), e);
                        self.problem(&template.at, line, kind);
                    }
                }
                // One ConfigMap name is one annotation; later edits would overlap the first.
                break;
            }
            self.plan.edits.extend(edits);
        }
    }

    /// Without the release namespace, a Secret emitted both with no namespace and with an
    /// explicit one may be the same object twice; say so instead of guessing.
    fn warn_ambiguous_namespaces(&mut self) {
        if self.options.namespace.is_some() {
            return;
        }
        let mut messages = Vec::new();
        for s in self.plan.secrets.iter().filter(|s| s.namespace.is_none()) {
            for other in self.plan.secrets.iter().filter(|o| o.name == s.name) {
                if let Some(ns) = &other.namespace {
                    messages.push(format!(
                        "Secret {} is emitted without a namespace (for documents that have none) and in \
                         namespace {ns}; if the release namespace is {ns} the two collide: pass \
                         --namespace {ns} so helm-regcred can merge them",
                        s.name
                    ));
                }
            }
        }
        for m in messages {
            self.warn(None, m);
        }
    }

    fn warn(&mut self, at: Option<&Location>, message: String) {
        self.plan.warnings.push(Warning {
            at: at.cloned(),
            message,
        });
    }

    fn problem(&mut self, at: &Location, line: usize, kind: ProblemKind) {
        let at = Location { line, ..at.clone() };
        self.problems.push(Problem { at, kind });
    }

    fn edit_problem(&mut self, r: &Resource, path: &str, e: EditProblem) {
        let (line, kind) = edit_problem_kind(path.to_string(), e);
        self.problem(&r.at, line, kind);
    }
}

fn edit_problem_kind(path: String, e: EditProblem) -> (usize, ProblemKind) {
    match e {
        EditProblem::NotAList { found, line } => (line, ProblemKind::NotAList { path, found }),
        EditProblem::Alias { line } => (line, ProblemKind::Alias { path }),
        EditProblem::ParentNotAMapping { found, line } => {
            (line, ProblemKind::NotAMappingAt { path, found })
        }
        EditProblem::NotAScalar { found, line } => (line, ProblemKind::NotAScalar { path, found }),
        EditProblem::MissingListItem { line } => (line, ProblemKind::MissingListItem { path }),
    }
}

fn self_ns(namespace: &Option<String>, options: &Options) -> String {
    namespace
        .as_deref()
        .or(options.namespace.as_deref())
        .unwrap_or_default()
        .to_string()
}

/// The annotation that carries an edited ConfigMap's checksum. Annotation names are at most 63
/// characters; a longer ConfigMap name is shortened with a hash so two never share a key.
pub fn checksum_annotation(config_map: &str) -> String {
    const PREFIX: &str = "checksum.helm-regcred.io/";
    if config_map.len() <= 63 {
        format!("{PREFIX}{config_map}")
    } else {
        format!(
            "{PREFIX}{}-{}",
            &config_map[..54],
            &sha256_hex(config_map)[..8]
        )
    }
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// ConfigMaps a pod spec reads: volumes (plain and projected), `envFrom`, `env[].valueFrom`.
fn config_map_refs(pod_spec: &Node, out: &mut Vec<String>) {
    let mut push = |name: Option<&str>| {
        if let Some(name) = name
            && !out.iter().any(|n| n == name)
        {
            out.push(name.to_string());
        }
    };
    for volume in pod_spec
        .get("volumes")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        push(volume.path(&["configMap", "name"]).and_then(Node::as_str));
        for source in volume
            .path(&["projected", "sources"])
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            push(source.path(&["configMap", "name"]).and_then(Node::as_str));
        }
    }
    for list in CONTAINER_LISTS {
        for container in pod_spec
            .get(list)
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            for from in container
                .get("envFrom")
                .and_then(Node::as_seq)
                .unwrap_or_default()
            {
                push(from.path(&["configMapRef", "name"]).and_then(Node::as_str));
            }
            for env in container
                .get("env")
                .and_then(Node::as_seq)
                .unwrap_or_default()
            {
                push(
                    env.path(&["valueFrom", "configMapKeyRef", "name"])
                        .and_then(Node::as_str),
                );
            }
        }
    }
}

/// String values of `image` keys anywhere in a resource (a CR's `spec.image`), for rules that
/// target resources without a pod spec.
fn image_fields<'n>(node: &'n Node, out: &mut Vec<&'n str>) {
    match &node.value {
        Value::Map { entries, .. } => {
            for (k, v) in entries {
                match (k.as_str(), v.as_str()) {
                    (Some("image"), Some(image)) if !image.is_empty() => out.push(image),
                    _ => image_fields(v, out),
                }
            }
        }
        Value::Seq { items, .. } => items.iter().for_each(|n| image_fields(n, out)),
        _ => {}
    }
}

/// `{k: v}` string pairs of a mapping (labels); non-string values are skipped.
fn string_pairs(node: Option<&Node>) -> Vec<(String, String)> {
    node.and_then(Node::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
        .collect()
}

/// A document that failed to parse still deserves a findable name in the error: read its
/// top-level `kind:` and `metadata.name` off the text, best effort.
fn guess_location(stream: &Stream, doc: &Document, line: usize) -> Location {
    let text = stream.doc_text(doc);
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
            .filter(|v| !v.is_empty())
    };
    Location {
        doc: doc.index,
        kind: field("kind:"),
        name: field("  name:"),
        source: doc.source.clone(),
        line,
    }
}
