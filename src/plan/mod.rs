//! Matching: documents and rules in, a [`Plan`] out. Nothing is written here.
//!
//! The plan is plain data — text edits, the Secrets to emit, and a record of every pod spec the
//! rules selected — so the output, the diff, `--dry-run` and `check` are all views of the same
//! plan rather than separate code paths.

mod diagnostics;
mod pods;
mod resource;
mod rollout;
mod secrets;
mod service_accounts;
mod targets;

pub use rollout::checksum_annotation;

use crate::names::append_missing;
use diagnostics::guess_location;
use resource::Resource;
use rollout::TemplateRef;
use rollout::sha256_hex;
use secrets::Need;
use service_accounts::SaNeed;

use std::collections::HashMap;
use std::ops::Range;

use crate::edit::embedded::{self, EmbeddedProblem};
use crate::edit::fieldpath::{FieldPath, Step};
use crate::edit::{self, Edit, EditProblem, ItemShape, Leaf, Syntax};
use crate::error::{InputProblems, Location, Problem, ProblemKind};
use crate::input::stream::{Document, Stream};
use crate::kinds::{self, CONTAINER_LISTS};
use crate::registry::image::ImageRef;
use crate::registry::secret::HookSecret;
use crate::rules::selector::Subject;
use crate::rules::template::Renderer;
use crate::rules::{Config, ImagePullPolicy, Mode, Rule, SecretNamespaces, Target};
use crate::yaml::{self, Node, Origin, Parsed, Value};

/// What the caller knows that the input does not say.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The release namespace. Helm tells a post-renderer neither release nor namespace; the
    /// `helm regcred` wrappers pass it in. Documents without `metadata.namespace` land there.
    pub namespace: Option<String>,
    /// The release name, for templated names (`{{ release }}-pull`); same reason as above.
    pub release: Option<String>,
    /// What the rules may read (credential sources, templates' `env.NAME`); set by whoever
    /// runs the tool, never by the rules (`crate::trust`).
    pub trust: crate::trust::Policy,
}

impl Options {
    /// The namespace a document lands in: its own, else the release namespace ("" unknown).
    pub fn namespace_of(&self, namespace: Option<&str>) -> String {
        namespace
            .or(self.namespace.as_deref())
            .unwrap_or_default()
            .to_string()
    }
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
    /// Every pod spec (and target list) a rule selected, with what it got; empty when the
    /// request asked for [`Detail::Counts`].
    pub changes: Vec<Change>,
    /// How many lists were selected and changed, whatever the [`Detail`].
    pub tally: Tally,
    pub warnings: Vec<Warning>,
    /// Input ranges holding Secret data: shown as `<redacted>` in diffs.
    pub sensitive: Vec<Range<usize>>,
}

impl Plan {
    /// The Secret a name in this plan stands for: a hook Secret's is the release Secret whose
    /// credentials it carries ([`secrets::hook_secret_name`]), any other name its own. Where the
    /// Secret is created ahead of the install (`values`, the Helm 3 hook advice), hook pods use
    /// that one: it exists at every hook's event.
    pub fn stands_for<'n>(&self, name: &'n str) -> &'n str {
        let is_hook = self
            .secrets
            .iter()
            .any(|s| s.hook.is_some() && s.name == name);
        match name.strip_suffix(secrets::HOOK_SUFFIX) {
            Some(base) if is_hook => base,
            _ => name,
        }
    }

    /// The selected lists that lacked a Secret the rules give them: what `check` reports, and
    /// what the post-renderer adds.
    pub fn lacking(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| !c.added.is_empty())
    }
}

/// How much the plan keeps of what it decided for each selected list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// A [`Change`] each: what `check`, `explain`, the KRM results and `values` show.
    #[default]
    Changes,
    /// Only the [`Tally`]: all a post-render shows of them (its summary line). On a stream of
    /// many small documents the records were most of a post-render's memory.
    Counts,
}

/// How many lists the rules selected and changed: what the summary line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Pod specs' `imagePullSecrets` lists selected.
    pub pod_specs: usize,
    /// Of those, the ones that lacked a Secret and got it.
    pub pod_specs_changed: usize,
    /// Other lists (targets) that got a Secret.
    pub other_lists_changed: usize,
}

impl Tally {
    fn count(&mut self, change: &Change) {
        let changed = !change.added.is_empty();
        if change.is_pod_spec() {
            self.pod_specs += 1;
            self.pod_specs_changed += changed as usize;
        } else {
            self.other_lists_changed += changed as usize;
        }
    }
}

/// A Secret the output must contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSecret {
    pub name: String,
    /// `None`: the documents that need it have no namespace either (release namespace).
    pub namespace: Option<String>,
    /// Indexes into `Config::registries` whose credentials go into this Secret.
    pub registries: Vec<usize>,
    /// Its `auths` keys, each with the registry whose credentials it carries: the registry's
    /// own key first (what `kubectl create secret docker-registry` writes), then one per other
    /// host spelling of the images that need it (`registry-1.docker.io` for Docker Hub), so the
    /// kubelet sends it for each (see `registry::keyring`).
    pub auths: Vec<(usize, String)>,
    /// A hook Secret: only hook pods list it (under a name of its own), so it is a Helm hook
    /// for their events, created before them and deleted once they succeeded (Helm 4; Helm 3
    /// sends no hooks). `None`: a release resource, for the release's pods.
    pub hook: Option<HookSecret>,
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
    /// Secrets its ServiceAccount gave the pod (in the input, or declared in the rules'
    /// `serviceAccounts`), put first on the list the pod now has of its own: with a list the
    /// pod no longer inherits them.
    pub inherited: Vec<String>,
}

impl Change {
    /// Whether the list is a pod spec's own `imagePullSecrets` (not a target list elsewhere).
    pub fn is_pod_spec(&self) -> bool {
        self.path.ends_with("spec.imagePullSecrets")
    }
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
/// `env` answers templates' `env.NAME`: the engine never reads the process environment.
pub(crate) fn plan(
    stream: &Stream,
    config: &Config,
    options: &Options,
    env: &dyn Fn(&str) -> Option<String>,
    detail: Detail,
) -> Result<Plan, InputProblems> {
    let names = Renderer::new(&config.vars, options.release.as_deref(), env)
        .with_policy(options.trust.clone());
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
        unknown_service_accounts: Vec::new(),
        templates: Vec::new(),
        changed_configs: Vec::new(),
        names,
        secret_registries: HashMap::new(),
        release_names: Default::default(),
        hook_names: Vec::new(),
        prefix_warnings: Default::default(),
        edit_texts: Default::default(),
        detail,
    };
    let wanted = |kind: &str| interest.wants(kind);
    planner.read_service_accounts();
    for doc in &stream.docs {
        let text = stream.doc_text(doc);
        if crate::input::stream::top_level_kind(text).is_some_and(|kind| !interest.wants(kind)) {
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
                kind: (&e).into(),
            }),
        }
    }
    planner.finish()
}

/// The rules with their templated label values rendered for this run.
pub(crate) fn render_rule_templates(
    config: &Config,
    names: &Renderer,
    options: &Options,
) -> Result<Vec<Rule>, InputProblems> {
    let namespace = options.namespace.as_deref();
    let render = |template: &str| names.render(template, namespace).map_err(|e| e.to_string());
    let invalid = |template: &str, e: crate::rules::selector::PatternError| {
        // The rendered pattern is not shown: it may come from the environment.
        format!(
            "label value template `{template}` does not render to a valid pattern: {}",
            e.hint()
        )
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
            // Pod templates mounting an edited embedded config get restart annotations.
            config_maps: rules
                .iter()
                .any(|r| r.rollout && r.target.as_ref().is_some_and(|t| t.field.is_some())),
        }
    }

    /// Pod spec holders, Secrets (never emit one twice; redact in diffs), lists of resources,
    /// and whatever the rules can target. (ServiceAccounts are read before, by
    /// `read_service_accounts`.)
    fn wants(&self, kind: &str) -> bool {
        kinds::may_hold_pod_spec(kind)
            || kind == "Secret"
            || kind.ends_with("List")
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
    service_accounts: HashMap<(String, String), (Node<'s>, Location)>,
    /// ServiceAccounts that `mode: serviceAccount` rules want to list secrets.
    sa_needs: Vec<SaNeed>,
    /// ServiceAccounts neither in the input nor declared, run as by pods that now list their
    /// own secrets: (effective namespace, name) -> those pods.
    unknown_service_accounts: Vec<((String, String), service_accounts::SomePods)>,
    /// Pod templates that use ConfigMaps, for restart annotations.
    templates: Vec<TemplateRef<'s>>,
    /// Embedded configs changed in ConfigMaps: (effective namespace, name, key, checksum).
    changed_configs: Vec<(String, String, String, String)>,
    /// Renders templated secret names and namespaces (`{{ vars.user_id }}`), per namespace.
    names: Renderer<'c>,
    /// Rendered secret name -> the creating registries (indexes) whose `secret` rendered to it.
    secret_registries: HashMap<String, Vec<usize>>,
    /// Every rendered name the rules give (hook names must differ from all of them).
    release_names: std::collections::HashSet<String>,
    /// Hook Secret names in use: (hook name, the Secret it stands for, first pod to list it).
    hook_names: Vec<(String, String, Location)>,
    /// String-prefix path warnings already given (one per registry and image path).
    prefix_warnings: std::collections::HashSet<String>,
    /// One of each text the plan's edits write (see [`Edit::text`]).
    edit_texts: std::collections::HashSet<std::sync::Arc<str>>,
    detail: Detail,
}

impl Planner<'_, '_> {
    /// Count a selected list, and keep its record if the request wants them.
    fn change(&mut self, change: Change) {
        self.plan.tally.count(&change);
        if self.detail == Detail::Changes {
            self.plan.changes.push(change);
        }
    }

    /// Add edits to the plan, each text kept once however many edits write it.
    fn add_edits(&mut self, edits: impl IntoIterator<Item = Edit>) {
        for mut edit in edits {
            match self.edit_texts.get(&edit.text) {
                Some(shared) => edit.text = shared.clone(),
                None => {
                    self.edit_texts.insert(edit.text.clone());
                }
            }
            self.plan.edits.push(edit);
        }
    }

    fn finish(mut self) -> Result<Plan, InputProblems> {
        self.service_account_edits();
        self.warn_unknown_service_accounts();
        self.rollout_annotations();
        self.emit_secrets();
        self.check_hook_names();
        self.warn_ambiguous_namespaces();
        if !self.problems.is_empty() {
            return Err(InputProblems(self.problems));
        }
        // Stable: edits at the same offset keep the order they were planned in (deeper first).
        self.plan.edits.sort_by_key(|e| e.range.start);
        // In input order: a Secret may list `stringData` before `data`, and the diff applies
        // these as edits.
        self.plan.sensitive.sort_by_key(|r| r.start);
        Ok(self.plan)
    }
}

/// What the unit tests of the planner's files share: a rules file with one registry, and a
/// plan of some input under it.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Options, Plan};
    use crate::error::InputProblems;
    use crate::{Config, Stream};

    /// `r.example.com` → Secret `pull`, then `extra` (e.g. a `rules:` section).
    pub(crate) fn rules(extra: &str) -> Config {
        let text = format!(
            "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: pull\n    credentials: {{env: {{username: U, password: P}}}}\n{extra}"
        );
        Config::parse(&text, "<test>").expect("rules")
    }

    pub(crate) fn plan_with(
        config: &Config,
        input: &str,
        options: &Options,
    ) -> Result<Plan, InputProblems> {
        let stream = Stream::parse(input.as_bytes()).expect("stream");
        super::plan(
            &stream,
            config,
            options,
            &crate::engine::no_env,
            super::Detail::Changes,
        )
    }

    pub(crate) fn plan(extra_rules: &str, input: &str) -> Plan {
        plan_with(&rules(extra_rules), input, &Options::default()).expect("plan")
    }

    /// A pod pulling `image`, with `extra` appended to its pod spec.
    pub(crate) fn pod(name: &str, image: &str, extra: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: c\n    image: {image}\n{extra}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{plan_with, pod, rules};
    use super::{Detail, Options, Tally};
    use crate::Stream;

    #[test]
    fn counts_only_plans_the_same_edits_and_secrets_and_counts_what_records_would_say() {
        let config = rules(
            "rules:\n  - name: all\n    secrets: [pull]\n  - name: target\n    match: {kinds: [Thing]}\n    target: {path: $.spec.secrets, itemShape: string}\n    secrets: [pull]\n",
        );
        let input = format!(
            "{}---\n{}---\napiVersion: x/v1\nkind: Thing\nmetadata: {{name: t}}\nspec: {{secrets: [a]}}\n",
            pod("a", "r.example.com/x", ""),
            pod(
                "b",
                "r.example.com/x",
                "  imagePullSecrets: [{name: pull}]\n"
            ),
        );
        let stream = Stream::parse(input.as_bytes()).unwrap();
        let options = Options::default();
        let env = &crate::engine::no_env;
        let full = super::plan(&stream, &config, &options, env, Detail::Changes).unwrap();
        let counted = super::plan(&stream, &config, &options, env, Detail::Counts).unwrap();
        assert_eq!(
            full.tally,
            Tally {
                pod_specs: 2,
                pod_specs_changed: 1,
                other_lists_changed: 1
            }
        );
        assert_eq!(counted.tally, full.tally);
        assert_eq!(full.changes.len(), 3);
        assert!(counted.changes.is_empty());
        assert_eq!(counted.edits, full.edits);
        assert_eq!(counted.secrets, full.secrets);
        assert_eq!(
            plan_with(&config, &input, &options).unwrap().tally,
            full.tally
        );
    }

    #[test]
    fn alike_documents_share_their_edit_texts() {
        let input = format!(
            "{}---\n{}",
            pod("a", "r.example.com/x", ""),
            pod("b", "r.example.com/x", "")
        );
        let plan = plan_with(&rules(""), &input, &Options::default()).unwrap();
        let [first, second] = plan.edits.as_slice() else {
            panic!("{:?}", plan.edits);
        };
        assert!(std::sync::Arc::ptr_eq(&first.text, &second.text));
    }
}
