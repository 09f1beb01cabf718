//! KRM functions and Kustomize plugins: the engine on a `ResourceList`, with the rules taken
//! from a Kubernetes-style config resource.
//!
//! Two front ends use this module:
//! * `helm-regcred krm`, a KRM function (`kpt fn eval --exec`, `kpt fn render`, `kustomize build
//!   --enable-exec`): a `ResourceList` on stdin, the same `ResourceList` on stdout with the edits
//!   inside its `items:`, the pull Secrets appended to `items:` and `results:` saying what
//!   happened, located on the resource concerned.
//! * `helm-regcred kustomize`, a legacy Kustomize exec transformer: its config resource is the
//!   rules ([`rules_from_resource`]), the rest is the post-renderer's plain-stream path.
//!
//! Faithfulness is the post-renderer's: the `ResourceList` is edited as text, never
//! re-serialized, so items the function does not change come back byte for byte (comments,
//! quoting, key order), which is what kpt compares to decide what changed. The engine already
//! treats a `kind: *List` document with `items:` as a list of resources, so [`crate::plan()`]
//! on the `ResourceList` yields edits inside its items; this module only adds the new items and
//! the results.
//!
//! `functionConfig` takes one of two forms:
//! * `apiVersion: helm-regcred/v1`, `kind: RegcredConfig`: the rules inline, exactly a rules
//!   file plus the `metadata:` every KRM resource carries (ignored). This is what `kpt fn eval
//!   --fn-config regcred.yaml` and a Kptfile `configPath: regcred.yaml` pass.
//! * `apiVersion: v1`, `kind: ConfigMap` with `data.rules` = the path of a rules file: what
//!   `kpt fn eval --exec "helm-regcred krm" -- rules=regcred.yaml` builds. A relative path is
//!   resolved against the package directory when kpt names it (the
//!   `internal.config.kubernetes.io/package-path` annotation `kpt fn render` sets on the
//!   config, or on the package's Kptfile for a config inline in the Kptfile), else against the
//!   working directory (kpt runs exec functions in its own working directory).
//!
//! Without a `functionConfig` the caller may supply a rules file (`--rules`). A rules file
//! read from a path may be a KRM resource too (`metadata:` is ignored), so a kpt package's one
//! `regcred.yaml` serves every form, and a Kustomize transformer config too.

use std::ops::{ControlFlow, Range};
use std::path::{Path, PathBuf};

use crate::edit::{self, Edit, Leaf, ListItem, Quote, Syntax};
use crate::error::{Error, InputError, InputProblems, ProblemKind};
use crate::input::stream::Stream;
use crate::plan::Plan;
use crate::rules::{self, Config, RulesError};
use crate::trust::{Policy, TrustError};
use crate::yaml::{self, Node, Origin, Parsed, Value};

/// The `kind` of the KRM function wire format.
pub const RESOURCE_LIST_KIND: &str = "ResourceList";
/// How rules problems of an inline `functionConfig` name their origin (`functionConfig:12:3:`).
pub const FUNCTION_CONFIG_ORIGIN: &str = "functionConfig";
/// Set by `kpt fn render` on resources read from a package: the package's directory.
pub const PACKAGE_PATH_ANNOTATION: &str = "internal.config.kubernetes.io/package-path";
/// The one `data:` key of a ConfigMap `functionConfig`.
pub const RULES_KEY: &str = "rules";

/// Where a resource came from, newest annotation first (kpt sets both, kustomize the legacy one).
const PATH_ANNOTATIONS: [&str; 2] = [
    "internal.config.kubernetes.io/path",
    "config.kubernetes.io/path",
];
const INDEX_ANNOTATIONS: [&str; 2] = [
    "internal.config.kubernetes.io/index",
    "config.kubernetes.io/index",
];

/// Why a KRM function or plugin run could not produce its output.
#[derive(Debug, thiserror::Error)]
pub enum KrmError {
    #[error("the input is not a KRM ResourceList: {0}")]
    NotAResourceList(String),
    /// A config resource's field is missing or wrong; `field` is its path (`functionConfig.kind`).
    #[error("`{field}` {message}")]
    Config { field: String, message: String },
    /// The rules, the items or the credentials: what the engine itself reports.
    #[error(transparent)]
    Engine(#[from] Error),
    /// The rules file a ConfigMap or `--rules` names is outside what the policy allows.
    #[error(transparent)]
    Trust(#[from] TrustError),
}

impl From<InputError> for KrmError {
    fn from(e: InputError) -> KrmError {
        KrmError::Engine(e.into())
    }
}

impl From<RulesError> for KrmError {
    fn from(e: RulesError) -> KrmError {
        KrmError::Engine(e.into())
    }
}

/// A `results:` entry's severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The resource a result is about, as KRM's `resourceRef` names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// The package file a resource was read from (kpt and kustomize annotate items with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub path: String,
    pub index: Option<u64>,
}

/// One `results:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrmResult {
    pub message: String,
    pub severity: Severity,
    pub resource: Option<ResourceRef>,
    /// Path of the field inside the resource, e.g. `spec.template.spec.imagePullSecrets`.
    pub field: Option<String>,
    pub file: Option<FileRef>,
}

impl KrmResult {
    fn new(severity: Severity, message: String) -> KrmResult {
        KrmResult {
            message,
            severity,
            resource: None,
            field: None,
            file: None,
        }
    }
}

/// One entry of `items:`: the line it starts on and how results name it.
#[derive(Debug, Clone)]
struct Item {
    first_line: usize,
    resource: ResourceRef,
    file: Option<FileRef>,
}

/// A parsed `ResourceList`, kept as text plus a span tree of it.
#[derive(Debug)]
pub struct ResourceList<'a> {
    /// The whole input: exactly one document. Pass it to [`crate::plan()`].
    pub stream: Stream<'a>,
    root: Node<'a>,
    items: Vec<Item>,
}

impl<'a> ResourceList<'a> {
    /// Read a `ResourceList`. Only the envelope is checked here; the items are the planner's.
    pub fn parse(input: &'a [u8]) -> Result<ResourceList<'a>, KrmError> {
        let stream = Stream::parse(input)?;
        let doc = match stream.docs.as_slice() {
            [doc] => doc.clone(),
            [] => return Err(KrmError::NotAResourceList("the input is empty".into())),
            docs => {
                return Err(KrmError::NotAResourceList(format!(
                    "found {} YAML documents, a ResourceList is exactly one",
                    docs.len()
                )));
            }
        };
        let origin = Origin {
            offset: doc.range.start,
            line: doc.line,
        };
        let root = match yaml::parse_document(stream.doc_text(&doc), origin, &|_| true) {
            Ok(Parsed::Node(root)) => root,
            Ok(_) => return Err(KrmError::NotAResourceList("the document is empty".into())),
            Err(e) => return Err(KrmError::NotAResourceList(format!("invalid YAML: {e}"))),
        };
        if !root.is_map() {
            return Err(KrmError::NotAResourceList(format!(
                "the document is {}, not a mapping",
                root.type_name()
            )));
        }
        let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
        if kind != RESOURCE_LIST_KIND {
            return Err(KrmError::NotAResourceList(if kind.is_empty() {
                "it has no `kind` (expected `kind: ResourceList`)".into()
            } else {
                format!("its kind is `{kind}`, expected `ResourceList`")
            }));
        }
        for key in ["items", "results"] {
            if let Some(list) = root.get(key).filter(|n| !n.is_null())
                && !list.is_seq()
            {
                return Err(KrmError::NotAResourceList(format!(
                    "`{key}` (line {}) must be a list, found {}",
                    list.line,
                    list.type_name()
                )));
            }
        }
        // Item by item: a long list is not read into nodes all at once (`yaml::Children`).
        let mut items = Vec::new();
        if let Some(Value::Seq { items: list, .. }) = root.get("items").map(|n| &n.value) {
            let _ = list.visit(|node| {
                items.push(Item {
                    first_line: node.line,
                    resource: resource_ref(node),
                    file: file_ref(node),
                });
                ControlFlow::Continue(())
            });
        }
        Ok(ResourceList {
            stream,
            root,
            items,
        })
    }

    fn function_config(&self) -> Option<&Node<'a>> {
        self.root.get("functionConfig").filter(|n| !n.is_null())
    }

    /// The rules: from `functionConfig`, else from `fallback` (a rules file). A rules file
    /// named by path must be where `policy` allows untrusted rules to be.
    pub fn rules(&self, fallback: Option<&Path>, policy: &Policy) -> Result<Config, KrmError> {
        let Some(config) = self.function_config() else {
            return match fallback {
                Some(path) => {
                    policy.check_rules_path(path)?;
                    load_rules(path)
                }
                None => Err(KrmError::Config {
                    field: "functionConfig".into(),
                    message: format!(
                        "is missing, so there are no rules: pass a `{}` resource (kpt: \
                         `--fn-config regcred.yaml`), a ConfigMap with `data.{RULES_KEY}` (kpt: \
                         `-- {RULES_KEY}=regcred.yaml`), or `helm-regcred krm --rules FILE`",
                        rules::KIND
                    ),
                }),
            };
        };
        if !config.is_map() {
            return Err(KrmError::Config {
                field: "functionConfig".into(),
                message: format!(
                    "must be a mapping (a `{}` or a ConfigMap), found {}",
                    rules::KIND,
                    config.type_name()
                ),
            });
        }
        let text = |key| config.get(key).and_then(Node::as_str).unwrap_or_default();
        match (text("apiVersion"), text("kind")) {
            (_, rules::KIND) | (rules::API_VERSION, _) => Ok(Config::parse(
                &resource_text(self.stream.text, config, &[]),
                FUNCTION_CONFIG_ORIGIN,
            )?),
            (_, "ConfigMap") => self.rules_from_config_map(config, fallback, policy),
            (_, kind) => Err(KrmError::Config {
                field: "functionConfig.kind".into(),
                message: format!(
                    "is {}; helm-regcred takes `kind: {}` (apiVersion {}, the rules inline) or \
                     `kind: ConfigMap` with `data.{RULES_KEY}` (the path of a rules file)",
                    if kind.is_empty() {
                        "missing".to_string()
                    } else {
                        format!("`{kind}`")
                    },
                    rules::KIND,
                    rules::API_VERSION
                ),
            }),
        }
    }

    /// `kpt fn eval --exec` always sends a functionConfig: without `--fn-config` or `-- k=v`
    /// it is a ConfigMap with no data, which then says nothing and the fallback applies.
    fn rules_from_config_map(
        &self,
        config: &Node,
        fallback: Option<&Path>,
        policy: &Policy,
    ) -> Result<Config, KrmError> {
        let data = config.get("data").filter(|n| !n.is_null());
        let entries = match data {
            None => &[][..],
            Some(data) => data.as_map().ok_or_else(|| KrmError::Config {
                field: "functionConfig.data".into(),
                message: format!("must be a mapping, found {}", data.type_name()),
            })?,
        };
        if entries.is_empty()
            && let Some(path) = fallback
        {
            policy.check_rules_path(path)?;
            return load_rules(path);
        }
        let mut rules_path = None;
        for (key, value) in entries {
            let key = key.as_str().unwrap_or_default();
            if key != RULES_KEY {
                return Err(KrmError::Config {
                    field: format!("functionConfig.data.{key}"),
                    message: format!(
                        "is not a helm-regcred setting; the only key is `{RULES_KEY}`, the path \
                         of the rules file"
                    ),
                });
            }
            rules_path = value.as_str().filter(|p| !p.is_empty());
        }
        let Some(path) = rules_path else {
            return Err(KrmError::Config {
                field: format!("functionConfig.data.{RULES_KEY}"),
                message: format!(
                    "is missing or empty; set it to the path of the rules file (kpt: `-- \
                     {RULES_KEY}=regcred.yaml`), or run `helm-regcred krm --rules FILE`"
                ),
            });
        };
        let package = package_path(config).or_else(|| self.package_dir());
        let path = match package {
            Some(dir) if Path::new(path).is_relative() => Path::new(dir).join(path),
            _ => PathBuf::from(path),
        };
        policy.check_rules_path_in(&path, package.map(Path::new))?;
        load_rules(&path)
    }

    /// The directory of the package `kpt fn render` is rendering: the `package-path` of the
    /// Kptfile at the package's root (a subpackage's Kptfile has a longer `path`). A config
    /// written inline in the Kptfile (`configMap:`) has no package path of its own.
    fn package_dir(&self) -> Option<&str> {
        let Value::Seq { items, .. } = &self.root.get("items")?.value else {
            return None;
        };
        let at_root = |item: &Node<'_>| {
            item.get("kind").and_then(Node::as_str) == Some("Kptfile")
                && file_ref(item).is_some_and(|f| f.path == "Kptfile")
        };
        items.find(|item| at_root(item)).and_then(package_path)
    }

    /// What a successful run reports: what was added, and the planner's warnings.
    pub fn plan_results(&self, plan: &Plan) -> Vec<KrmResult> {
        let mut results = Vec::new();
        for change in plan.changes.iter().filter(|c| !c.added.is_empty()) {
            let mut result = KrmResult::new(
                Severity::Info,
                format!("added imagePullSecrets: {}", change.added.join(", ")),
            );
            self.locate(&mut result, change.at.line);
            result.field = Some(strip_item_prefix(&change.path).to_string());
            results.push(result);
        }
        for secret in &plan.secrets {
            let mut result = KrmResult::new(
                Severity::Info,
                format!(
                    "added Secret {} (kubernetes.io/dockerconfigjson){}",
                    secret.name,
                    secret
                        .namespace
                        .as_ref()
                        .map(|ns| format!(" in namespace {ns}"))
                        .unwrap_or_default()
                ),
            );
            result.resource = Some(ResourceRef {
                api_version: "v1".into(),
                kind: "Secret".into(),
                name: secret.name.clone(),
                namespace: secret.namespace.clone(),
            });
            results.push(result);
        }
        for warning in &plan.warnings {
            let mut result = KrmResult::new(Severity::Warning, warning.message.clone());
            if let Some(at) = &warning.at {
                self.locate(&mut result, at.line);
            }
            results.push(result);
        }
        results
    }

    /// What a failed run reports: one error result per problem, on the resource concerned.
    pub fn error_results(&self, error: &KrmError) -> Vec<KrmResult> {
        let on_config = |message: String, field: Option<String>| {
            let mut result = KrmResult::new(Severity::Error, message);
            if let Some(config) = self.function_config() {
                result.resource = Some(resource_ref(config));
                result.file = file_ref(config);
            }
            result.field = field;
            result
        };
        match error {
            KrmError::Engine(Error::Rules(e @ RulesError::Read { .. })) => {
                vec![on_config(e.to_string(), None)]
            }
            KrmError::Engine(Error::Rules(RulesError::Invalid { problems })) => problems
                .iter()
                .map(|p| on_config(p.to_string(), None))
                .collect(),
            KrmError::Config { field, .. } => {
                let inner = field
                    .strip_prefix("functionConfig.")
                    .map(str::to_string)
                    .filter(|_| self.function_config().is_some());
                vec![on_config(error.to_string(), inner)]
            }
            KrmError::Engine(e @ Error::Credentials { .. }) => {
                vec![on_config(e.to_string(), None)]
            }
            KrmError::Trust(e) => vec![on_config(e.to_string(), None)],
            KrmError::Engine(Error::Problems(InputProblems(problems))) => problems
                .iter()
                .map(|p| {
                    let mut result = KrmResult::new(Severity::Error, p.kind.to_string());
                    self.locate(&mut result, p.at.line);
                    result.field = match &p.kind {
                        ProblemKind::NotAList { path, .. }
                        | ProblemKind::Alias { path }
                        | ProblemKind::NotAMappingAt { path, .. }
                        | ProblemKind::NotAScalar { path, .. }
                        | ProblemKind::MissingListItem { path }
                        | ProblemKind::BadListItem { path, .. }
                        | ProblemKind::Embedded { path, .. } => {
                            Some(strip_item_prefix(path).to_string())
                        }
                        _ => None,
                    };
                    result
                })
                .collect(),
            other => vec![KrmResult::new(Severity::Error, other.to_string())],
        }
    }

    /// Point `result` at the item holding `line` of the input.
    fn locate(&self, result: &mut KrmResult, line: usize) {
        if let Some(item) = self.items.iter().rev().find(|i| i.first_line <= line) {
            result.resource = Some(item.resource.clone());
            result.file = item.file.clone();
        }
    }

    /// The output `ResourceList`: the input with `edits` applied, `secrets` (rendered Secret
    /// documents, see [`crate::views::stream::added_documents`]) appended to `items:`, and `results`
    /// appended to `results:`. With nothing to add it is the input, byte for byte.
    pub fn render(
        &self,
        edits: &[Edit],
        secrets: &[String],
        results: &[KrmResult],
    ) -> Result<String, KrmError> {
        let text = self.stream.text;
        let newline = self.stream.newline;
        let mut all: Vec<Edit> = edits.to_vec();
        if !secrets.is_empty() {
            let entries: Vec<ListItem> = secrets.iter().map(|doc| secret_entry(doc)).collect();
            all.extend(append_items(text, newline, &self.root, "items", &entries)?);
        }
        if !results.is_empty() {
            let entries: Vec<ListItem> = results.iter().map(result_entry).collect();
            all.extend(append_items(
                text, newline, &self.root, "results", &entries,
            )?);
        }
        // Stable: a new item lands after an edit to the last item at the same offset.
        all.sort_by_key(|e| e.range.start);
        let body = edit::apply(text, &all);
        Ok(if self.stream.bom {
            format!("\u{feff}{body}")
        } else {
            body
        })
    }
}

/// A rules file, which may also be a KRM resource (a kpt package's `regcred.yaml` carries
/// `metadata:` with the `local-config` annotation): what a ConfigMap's `data.rules` or
/// `--rules` names.
pub fn load_rules(path: &Path) -> Result<Config, KrmError> {
    let text = crate::trust::read_regular(path).map_err(|e| RulesError::Read {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    rules_from_resource(&text, &path.display().to_string())
}

/// Rules from a config resource: a `RegcredConfig` as Kustomize hands a transformer plugin its
/// config (`metadata:` included, and the `argsOneLiner`/`argsFromFile` that kustomize itself
/// reads). `origin` names it in messages.
pub fn rules_from_resource(text: &str, origin: &str) -> Result<Config, KrmError> {
    let root = match yaml::parse_document(text, Origin { offset: 0, line: 1 }, &|_| true) {
        Ok(Parsed::Node(root)) if root.is_map() => root,
        // Not a mapping or not YAML: the rules loader says what is wrong, located.
        _ => return Ok(Config::parse(text, origin)?),
    };
    let text = resource_text(text, &root, &["argsOneLiner", "argsFromFile"]);
    Ok(Config::parse(&text, origin)?)
}

/// The text of the resource `node` of `text`, for the rules loader: everything before it is
/// blanked, and so are the entries `ignored` (keys other tools put there; the rules loader
/// itself accepts `metadata:`). Blanking keeps every byte offset, so the loader's line:column point into the
/// real input.
fn resource_text(text: &str, node: &Node, ignored: &[&str]) -> String {
    let mut bytes = text.as_bytes()[..node.end].to_vec();
    blank(&mut bytes[..node.start]);
    for key in ignored {
        if let Some(range) = entry_range(text, node, key) {
            blank(&mut bytes[range]);
        }
    }
    // Whole characters were replaced by ASCII spaces (ranges start and end on node
    // boundaries, which are character boundaries), so the bytes are still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn blank(bytes: &mut [u8]) {
    for b in bytes.iter_mut().filter(|b| !matches!(b, b'\n' | b'\r')) {
        *b = b' ';
    }
}

/// The byte range of `key: value` in mapping `node`, with the separating comma in flow style.
fn entry_range(text: &str, node: &Node, key: &str) -> Option<Range<usize>> {
    let entries = node.as_map()?;
    let i = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
    let (k, v) = &entries[i];
    let mut range = k.start..v.end.max(k.end);
    if node.is_flow() {
        let after = &text[range.end..];
        let skipped = after.len() - after.trim_start().len();
        if after[skipped..].starts_with(',') {
            range.end += skipped + 1;
        } else if i > 0 {
            let before = &text[entries[i - 1].1.end..range.start];
            if let Some(comma) = before.rfind(',') {
                range.start = entries[i - 1].1.end + comma;
            }
        }
    }
    Some(range)
}

fn package_path<'n>(node: &'n Node<'_>) -> Option<&'n str> {
    node.path(&["metadata", "annotations", PACKAGE_PATH_ANNOTATION])
        .and_then(Node::as_str)
        .filter(|p| !p.is_empty())
}

fn resource_ref(node: &Node) -> ResourceRef {
    let text = |path: &[&str]| {
        node.path(path)
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string()
    };
    ResourceRef {
        api_version: text(&["apiVersion"]),
        kind: text(&["kind"]),
        name: text(&["metadata", "name"]),
        namespace: Some(text(&["metadata", "namespace"])).filter(|ns| !ns.is_empty()),
    }
}

fn file_ref(node: &Node) -> Option<FileRef> {
    let annotation = |names: &[&str]| {
        names.iter().find_map(|name| {
            node.path(&["metadata", "annotations", name])
                .and_then(Node::as_str)
        })
    };
    let path = annotation(&PATH_ANNOTATIONS)?.to_string();
    let index = annotation(&INDEX_ANNOTATIONS).and_then(|i| i.parse().ok());
    Some(FileRef { path, index })
}

/// `items[3].spec.template` -> `spec.template`: results name fields inside their resource.
fn strip_item_prefix(path: &str) -> &str {
    path.strip_prefix("items[")
        .and_then(|rest| rest.split_once("]."))
        .map_or(path, |(_, inner)| inner)
}

/// A rendered Secret document as a list entry: its `---` and `# Source:` header dropped (they
/// are stream syntax; inside a ResourceList the Secret is just an item).
fn secret_entry(doc: &str) -> ListItem {
    let lines: Vec<String> = doc
        .lines()
        .skip_while(|l| l.starts_with("---") || l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let flow = serde_saphyr::from_str::<serde_json::Value>(doc)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "{}".into());
    ListItem { lines, flow }
}

fn result_entry(result: &KrmResult) -> ListItem {
    let mut lines = vec![
        format!("message: {}", quoted(&result.message)),
        format!("severity: {}", result.severity.as_str()),
    ];
    let mut json = serde_json::Map::new();
    json.insert("message".into(), result.message.clone().into());
    json.insert("severity".into(), result.severity.as_str().into());
    if let Some(r) = &result.resource {
        let mut fields = vec![
            ("apiVersion", &r.api_version),
            ("kind", &r.kind),
            ("name", &r.name),
        ];
        if let Some(ns) = &r.namespace {
            fields.push(("namespace", ns));
        }
        lines.push("resourceRef:".into());
        let mut map = serde_json::Map::new();
        for (key, value) in fields {
            lines.push(format!("  {key}: {}", scalar(value)));
            map.insert(key.into(), value.clone().into());
        }
        json.insert("resourceRef".into(), map.into());
    }
    if let Some(field) = &result.field {
        lines.push("field:".into());
        lines.push(format!("  path: {}", scalar(field)));
        json.insert("field".into(), serde_json::json!({ "path": field }));
    }
    if let Some(file) = &result.file {
        lines.push("file:".into());
        lines.push(format!("  path: {}", scalar(&file.path)));
        let mut map = serde_json::Map::new();
        map.insert("path".into(), file.path.clone().into());
        if let Some(index) = file.index {
            lines.push(format!("  index: {index}"));
            map.insert("index".into(), index.into());
        }
        json.insert("file".into(), map.into());
    }
    ListItem {
        lines,
        flow: serde_json::Value::Object(json).to_string(),
    }
}

/// A string scalar of a result: plain when safe, double-quoted otherwise (as kyaml writes).
fn scalar(s: &str) -> String {
    edit::yaml_string(s, Quote::Double)
}

fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// An edit appending `items` to the list at `map[key]`, in the list's own style; the key is
/// added at the end of the mapping when missing.
fn append_items(
    text: &str,
    newline: &str,
    map: &Node,
    key: &str,
    items: &[ListItem],
) -> Result<Vec<Edit>, KrmError> {
    edit::edit_at(
        text,
        newline,
        map,
        &[],
        key,
        Leaf::Items(items),
        Syntax::of(map),
    )
    // `parse` let through only a mapping whose `items` and `results` are lists or null, where
    // an append always succeeds; the message is for the case that check ever misses.
    .map_err(|problem| KrmError::NotAResourceList(format!("cannot append to `{key}`: {problem:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Request, run as run_engine};

    const CONFIG: &str = "functionConfig:\n  apiVersion: helm-regcred/v1\n  kind: RegcredConfig\n  metadata:\n    name: regcred\n    annotations:\n      config.kubernetes.io/local-config: \"true\"\n  registries:\n  - server: r.example.com\n    secret: pull\n    credentials:\n      env: {username: U, password: P}\n";

    /// A ResourceList as kpt writes it: compact sequences, a head comment on the first item.
    fn input(items: &str) -> String {
        format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}{CONFIG}")
    }

    const DEPLOY: &str = "- # the app\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web # name\n    namespace: shop\n    annotations:\n      config.kubernetes.io/path: 'web.yaml'\n      config.kubernetes.io/index: '0'\n  spec:\n    template:\n      spec:\n        containers:\n        - name: web\n          image: r.example.com/web:1 # private\n";
    const MAP: &str = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm # keep me\n  data: {a: '1'}\n";

    fn env(name: &str) -> Option<String> {
        Some(format!("value-of-{name}"))
    }

    /// One function run, the way `helm-regcred krm` does it.
    fn run(text: &str) -> String {
        let list = ResourceList::parse(text.as_bytes()).unwrap();
        let config = list.rules(None, &Policy::trusted()).unwrap();
        let outcome = run_engine(Request::new(&config, &list.stream).env(&env)).unwrap();
        let results = list.plan_results(&outcome.plan);
        list.render(&outcome.plan.edits, &outcome.added_documents(), &results)
            .unwrap()
    }

    fn parse(text: &str) -> Node<'_> {
        match yaml::parse_document(text, Origin { offset: 0, line: 1 }, &|_| true).unwrap() {
            Parsed::Node(n) => n,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn edits_items_appends_secret_and_results() {
        let text = input(&format!("{DEPLOY}{MAP}"));
        let out = run(&text);
        // Untouched item and comments: byte for byte.
        assert!(out.contains(MAP), "{out}");
        assert!(out.contains("- # the app\n"), "{out}");
        assert!(out.contains(
            "          image: r.example.com/web:1 # private\n        imagePullSecrets:\n        - name: pull\n- apiVersion: v1\n  kind: ConfigMap\n"
        ), "{out}");
        // The Secret is the last item, indented like the others, without stream headers.
        assert!(out.contains(
            "  data: {a: '1'}\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: pull\n    namespace: shop\n  type: kubernetes.io/dockerconfigjson\n  data:\n    .dockerconfigjson: "
        ), "{out}");
        assert!(!out.contains("# Source:"), "{out}");
        let root = parse(&out);
        let items = root.get("items").unwrap().as_seq().unwrap();
        assert_eq!(items.len(), 3);
        let results = root.get("results").unwrap().as_seq().unwrap();
        let first = &results[0];
        assert_eq!(first.get("severity").unwrap().as_str(), Some("info"));
        assert_eq!(
            first.path(&["resourceRef", "name"]).unwrap().as_str(),
            Some("web")
        );
        assert_eq!(
            first.path(&["resourceRef", "namespace"]).unwrap().as_str(),
            Some("shop")
        );
        assert_eq!(
            first.path(&["field", "path"]).unwrap().as_str(),
            Some("spec.template.spec.imagePullSecrets")
        );
        assert_eq!(
            first.path(&["file", "path"]).unwrap().as_str(),
            Some("web.yaml")
        );
        assert!(out.find("functionConfig:").unwrap() < out.find("results:").unwrap());
    }

    #[test]
    fn second_run_changes_nothing() {
        let once = run(&input(&format!("{DEPLOY}{MAP}")));
        // Results are about one run; a runner does not feed them back.
        let without_results = &once[..once.find("results:\n").unwrap()];
        assert_eq!(run(without_results), without_results);
    }

    #[test]
    fn nothing_to_do_is_byte_identical() {
        let text = input(MAP);
        assert_eq!(run(&text), text);
    }

    #[test]
    fn wide_sequences_and_flow_lists() {
        let wide = DEPLOY
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>();
        let text = format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{wide}{CONFIG}"
        );
        let out = run(&text);
        assert!(
            out.contains("\n  - apiVersion: v1\n    kind: Secret\n    metadata:\n"),
            "{out}"
        );
        let flow = "{apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: [{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, image: r.example.com/x}]}}], functionConfig: {apiVersion: helm-regcred/v1, kind: RegcredConfig, metadata: {name: x}, registries: [{server: r.example.com, secret: pull, credentials: {env: {username: U, password: P}}}]}}\n";
        let out = run(flow);
        let root = parse(&out);
        let items = root.get("items").unwrap().as_seq().unwrap();
        assert_eq!(items[1].get("kind").unwrap().as_str(), Some("Secret"));
        assert_eq!(
            items[0]
                .path(&["spec", "imagePullSecrets"])
                .unwrap()
                .as_seq()
                .unwrap()
                .len(),
            1
        );
        // The Secret, the list, and the warning about the `default` ServiceAccount.
        assert_eq!(root.get("results").unwrap().as_seq().unwrap().len(), 3);
    }

    #[test]
    fn existing_results_are_kept_and_extended() {
        // The run's own results: the Secret added, the list edited, and that the pod's
        // `default` ServiceAccount (not in the input) no longer gives it its secrets.
        for (existing, count) in [
            ("results:\n- message: earlier\n  severity: info\n", 4),
            ("results: []\n", 3),
            ("results:\n", 3),
            ("results: ~\n", 3),
        ] {
            let text = format!("{}{existing}", input(DEPLOY));
            let out = run(&text);
            let root = parse(&out);
            let results = root.get("results").unwrap().as_seq().unwrap();
            assert_eq!(results.len(), count, "{out}");
            if count == 4 {
                assert!(out.contains("- message: earlier\n  severity: info\n- message:"));
            }
        }
    }

    #[test]
    fn crlf_and_no_final_newline() {
        let text = input(DEPLOY).replace('\n', "\r\n");
        let out = run(text.trim_end());
        assert!(!out.ends_with('\n'), "{out:?}");
        assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
        assert!(parse(&out).get("results").is_some());
    }

    #[test]
    fn config_map_function_config_names_a_rules_file() {
        let dir = tempfile::tempdir().unwrap();
        let rules = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n- {server: r.example.com, secret: pull, credentials: {env: {username: U, password: P}}}\n";
        std::fs::write(dir.path().join("regcred.yaml"), rules).unwrap();
        let fc = format!(
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: function-input\n    annotations:\n      {PACKAGE_PATH_ANNOTATION}: '{}'\n  data: {{rules: regcred.yaml}}\n",
            dir.path().display()
        );
        let text = format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{DEPLOY}{fc}"
        );
        let list = ResourceList::parse(text.as_bytes()).unwrap();
        let config = list.rules(None, &Policy::trusted()).unwrap();
        assert_eq!(config.registries[0].secret, "pull");
    }

    fn config_error(fc: &str) -> (KrmError, Vec<KrmResult>) {
        let text = format!(
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{DEPLOY}{fc}"
        );
        let list = ResourceList::parse(text.as_bytes()).unwrap();
        let err = list.rules(None, &Policy::trusted()).unwrap_err();
        let results = list.error_results(&err);
        (err, results)
    }

    #[test]
    fn bad_function_configs_name_the_field() {
        let (err, results) = config_error(&CONFIG.replace("  registries:", "  registriez:"));
        let message = err.to_string();
        assert!(message.contains("`registriez`"), "{message}");
        // Line 26 of the ResourceList: errors point into what the function received.
        assert!(message.starts_with("functionConfig:26:3:"), "{message}");
        assert_eq!(results[0].severity, Severity::Error);
        assert_eq!(results[0].resource.as_ref().unwrap().kind, "RegcredConfig");

        let (err, results) = config_error(
            "functionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data: {rulez: a.yaml}\n",
        );
        assert!(
            err.to_string().contains("`functionConfig.data.rulez`"),
            "{err}"
        );
        assert_eq!(results[0].field.as_deref(), Some("data.rulez"));

        let (err, _) = config_error("functionConfig:\n  apiVersion: v1\n  kind: Secret\n");
        assert!(
            err.to_string()
                .contains("`functionConfig.kind` is `Secret`"),
            "{err}"
        );

        let (err, _) = config_error("");
        assert!(
            err.to_string().starts_with("`functionConfig` is missing"),
            "{err}"
        );
    }

    #[test]
    fn rules_problems_in_items_are_located_on_the_item() {
        let bad = "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: ns}\n  spec:\n    imagePullSecrets: oops\n    containers: [{name: c, image: r.example.com/x}]\n";
        let text = input(&format!("{MAP}{bad}"));
        let list = ResourceList::parse(text.as_bytes()).unwrap();
        let config = list.rules(None, &Policy::trusted()).unwrap();
        let problems = run_engine(Request::new(&config, &list.stream).plan_only())
            .err()
            .unwrap();
        let results = list.error_results(&KrmError::Engine(problems));
        assert_eq!(results.len(), 1);
        let r = &results[0];
        assert_eq!(r.resource.as_ref().unwrap().name, "p");
        assert_eq!(
            r.resource.as_ref().unwrap().namespace.as_deref(),
            Some("ns")
        );
        assert_eq!(r.field.as_deref(), Some("spec.imagePullSecrets"));
        // A failed run hands the items back untouched, with the results.
        let out = list.render(&[], &[], &results).unwrap();
        assert!(out.starts_with(&text), "{out}");
        assert!(out.contains("severity: error"), "{out}");
    }

    #[test]
    fn not_a_resource_list() {
        for (text, want) in [
            ("", "empty"),
            ("a: 1\n---\nb: 2\n", "2 YAML documents"),
            ("kind: Deployment\n", "`Deployment`"),
            ("kind: ResourceList\nitems: 3\n", "`items`"),
            ("kind: ResourceList\nitems: [\n", "invalid YAML"),
        ] {
            let err = ResourceList::parse(text.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn kustomize_config_resource_with_metadata_and_args() {
        let text = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nmetadata:\n  name: regcred\n  annotations: {a: b}\nargsOneLiner: --namespace shop\nregistries:\n- server: r.example.com\n  secret: pull\n  credentials: {env: {username: U, password: P}}\n";
        let config = rules_from_resource(text, "cfg").unwrap();
        assert_eq!(config.registries.len(), 1);
        let flow = "{apiVersion: helm-regcred/v1, metadata: {name: x}, kind: RegcredConfig, registries: [{server: r.example.com, secret: pull, credentials: {env: {username: U, password: P}}}], argsOneLiner: x}";
        assert_eq!(
            rules_from_resource(flow, "cfg").unwrap().registries.len(),
            1
        );
        let err = rules_from_resource(&text.replace("secret:", "secrte:"), "cfg").unwrap_err();
        assert!(err.to_string().starts_with("cfg:9:3:"), "{err}");
        assert!(err.to_string().contains("`secrte`"), "{err}");
    }

    #[test]
    fn result_scalars() {
        assert_eq!(scalar("apps/v1"), "apps/v1");
        assert_eq!(scalar("spec.template"), "spec.template");
        assert_eq!(scalar("no"), "\"no\"");
        assert_eq!(scalar("1abc"), "\"1abc\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(strip_item_prefix("items[12].spec.x"), "spec.x");
        assert_eq!(strip_item_prefix("spec.x"), "spec.x");
    }
}
