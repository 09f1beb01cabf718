//! Matching: documents and rules in, a [`Plan`] out. Nothing is written here.
//!
//! The plan is plain data — text edits, the Secrets to emit, and a record of every pod spec the
//! rules selected — so the output, the diff, `--dry-run` and `check` are all views of the same
//! plan rather than separate code paths.

use std::collections::HashMap;
use std::ops::Range;

use crate::edit::{self, Edit, EditProblem, ItemShape};
use crate::error::{InputProblems, Location, Problem, ProblemKind};
use crate::image::ImageRef;
use crate::kinds::{self, CONTAINER_LISTS};
use crate::rules::Config;
use crate::selector::Subject;
use crate::stream::{Document, Stream};
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

impl Plan {
    /// True when applying the plan would change nothing.
    pub fn is_noop(&self) -> bool {
        self.edits.is_empty() && self.secrets.is_empty()
    }
}

/// Match `config` against every document of `stream`.
///
/// All problems are collected before returning, so one run shows the user everything to fix.
pub fn plan(stream: &Stream, config: &Config, options: &Options) -> Result<Plan, InputProblems> {
    let mut planner = Planner {
        stream,
        config,
        options,
        plan: Plan::default(),
        problems: Vec::new(),
        images: HashMap::new(),
        needed: Vec::new(),
        existing: HashMap::new(),
    };
    let wanted = |kind: &str| interesting(kind);
    for doc in &stream.docs {
        let origin = Origin {
            offset: doc.range.start,
            line: doc.line,
        };
        match yaml::parse_document(stream.doc_text(doc), origin, &wanted) {
            Ok(Parsed::Node(root)) => planner.document(doc, &root),
            Ok(Parsed::Empty | Parsed::Skipped { .. }) => {}
            Err(e) => planner.problems.push(Problem {
                at: guess_location(stream, doc, e.line),
                kind: ProblemKind::Syntax(format!("{} at column {}", e.message, e.col + 1)),
            }),
        }
    }
    planner.finish()
}

/// Kinds worth parsing past `kind:`: whatever may hold a pod spec, Secrets (to avoid emitting
/// one twice, and to redact them in diffs) and lists of resources.
fn interesting(kind: &str) -> bool {
    kinds::may_hold_pod_spec(kind) || kind == "Secret" || kind.ends_with("List")
}

struct Planner<'s, 'c> {
    stream: &'s Stream<'s>,
    config: &'c Config,
    options: &'c Options,
    plan: Plan,
    problems: Vec<Problem>,
    /// Parsed image references by text: charts repeat the same few images many times.
    images: HashMap<String, Option<ImageRef>>,
    /// (secret name, namespace) pairs pods need, in first-need order.
    needed: Vec<(String, Option<String>)>,
    /// Secrets already in the input: (name, effective namespace) -> (type, where).
    existing: HashMap<(String, String), (String, Location)>,
}

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
        let annotation = node
            .path(&["metadata", "annotations", FILENAME_ANNOTATION])
            .and_then(Node::as_str);
        if annotation.is_some() {
            self.plan.helm4 = true;
        }
        let source = doc.source.clone().or(annotation.map(str::to_string));
        let kind = text(&["kind"]).unwrap_or_default();
        let name = text(&["metadata", "name"]).unwrap_or_default();
        let resource = Resource {
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
        };
        if resource.kind == "Secret" && resource.api_version == "v1" {
            self.existing_secret(&resource);
        }
        if let Some(spec_path) = kinds::pod_spec_path(resource.api_version, resource.kind) {
            self.pod_spec(&resource, spec_path.path);
        }
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

    fn pod_spec(&mut self, r: &Resource, path: &[&str]) {
        let spec_path = format!("{}{}", r.prefix, path.join("."));
        let Some(pod_spec) = r.node.path(path).filter(|n| !n.is_null()) else {
            self.warn(
                Some(&r.at),
                format!("no pod spec at `{spec_path}`; left as it is"),
            );
            return;
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
            return;
        }
        let images = self.images_of(r, pod_spec);
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
        let wanted = self.secrets_for(&subject);
        if wanted.is_empty() {
            return;
        }
        let list_path = format!("{spec_path}.imagePullSecrets");
        let existing = match edit::existing_names(pod_spec, "imagePullSecrets") {
            Ok(names) => names,
            Err(e) => return self.edit_problem(r, &list_path, e),
        };
        let (present, added): (Vec<String>, Vec<String>) =
            wanted.into_iter().partition(|name| existing.contains(name));
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
        for name in added.iter().chain(&present) {
            let key = (name.clone(), r.namespace.map(str::to_string));
            if !self.needed.contains(&key) {
                self.needed.push(key);
            }
        }
        self.plan.changes.push(Change {
            at: r.at.clone(),
            namespace: r.namespace.map(str::to_string),
            path: list_path,
            added,
            present,
        });
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
                if !self.images.contains_key(image) {
                    let parsed = ImageRef::parse(image);
                    if let Err(e) = &parsed {
                        self.warn(
                            Some(&r.at),
                            format!("image {image:?} is not a valid reference ({e}); no registry matched"),
                        );
                    }
                    self.images.insert(image.to_string(), parsed.ok());
                }
                if let Some(Some(parsed)) = self.images.get(image) {
                    out.push(parsed.clone());
                }
            }
        }
        out
    }

    /// The secrets the rules give this pod, in rule order, each once.
    fn secrets_for(&self, subject: &Subject) -> Vec<String> {
        let from_images = || -> Vec<String> {
            subject
                .images
                .iter()
                .flat_map(|image| self.config.registries_for_host(image.registry()))
                .map(|registry| registry.secret.clone())
                .collect()
        };
        let mut names: Vec<String> = if self.config.rules.is_empty() {
            from_images()
        } else {
            self.config
                .rules
                .iter()
                .filter(|rule| rule.selector.matches(subject))
                .filter(|rule| !rule.exclude.as_ref().is_some_and(|e| e.matches(subject)))
                .flat_map(|rule| rule.secrets.clone().unwrap_or_else(from_images))
                .collect()
        };
        let mut seen = std::collections::HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
        names
    }

    fn effective_namespace(&self, namespace: Option<&str>) -> String {
        namespace
            .or(self.options.namespace.as_deref())
            .unwrap_or_default()
            .to_string()
    }

    fn finish(mut self) -> Result<Plan, InputProblems> {
        let needed = std::mem::take(&mut self.needed);
        for (name, namespace) in needed {
            let registries: Vec<usize> = self
                .config
                .registries
                .iter()
                .enumerate()
                .filter(|(_, r)| r.secret == name && r.create)
                .map(|(i, _)| i)
                .collect();
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
            let duplicate = self.plan.secrets.iter().any(|s| {
                s.name == name && self.effective_namespace(s.namespace.as_deref()) == key.1
            });
            if !duplicate {
                self.plan.secrets.push(PlannedSecret {
                    name,
                    namespace,
                    registries,
                });
            }
        }
        self.warn_ambiguous_namespaces();
        if !self.problems.is_empty() {
            return Err(InputProblems(self.problems));
        }
        self.plan.edits.sort_by_key(|e| e.range.start);
        Ok(self.plan)
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
        let path = path.to_string();
        let (line, kind) = match e {
            EditProblem::NotAList { found, line } => (line, ProblemKind::NotAList { path, found }),
            EditProblem::Alias { line } => (line, ProblemKind::Alias { path }),
            EditProblem::ParentNotAMapping { found, line } => {
                (line, ProblemKind::NotAMappingAt { path, found })
            }
        };
        self.problem(&r.at, line, kind);
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
