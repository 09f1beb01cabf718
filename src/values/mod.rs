//! Values preprocessor: instead of editing rendered manifests, compute a Helm values override
//! that fills the chart's own pull secret keys, for installs without a post-renderer (Flux,
//! some GitOps setups, Helm 3 hooks).
//!
//! ```text
//! CHART ref ─► source (dir, .tgz, or `helm pull`) ─► archive (Helm's limits) ─► chart::Chart
//!                         │ a copy with a probe template
//!                         ▼
//! helm template -f/--set ─► render::Rendered (pods, Helm's computed values) ─┬─► verify::pod_needs
//!                                                                            ├─► keys::candidates
//! helm template + markers per candidate ─► which pods each key reaches ──────┴─► assign ─► write
//! helm template + the generated file ─► verify::uncovered (`--verify`)
//! ```
//!
//! Nothing of Helm is re-implemented: Helm fetches the chart, computes the values (its probe
//! template prints `toJson .Values`) and renders the pods. What a key does is not guessed from
//! its name: each candidate key (any key whose name says pull secrets — `imagePullSecrets`,
//! `image.pullSecrets`, `imagePullSecretsNames` —, found in the computed values, the
//! templates and `values.schema.json`) gets a marker secret, and one render shows which pod
//! specs each marker reaches and in which shape (`- name: x` or `- x`). Each pod needs what the
//! post-renderer would give it with the same rules; [`assign`] puts those secrets into the most
//! specific keys reaching the pod, never twice, and names the pods no key reaches.
//!
//! Compared with the post-renderer: values reach what a post-renderer cannot see (Helm 3's
//! hooks; settings such as `scheduler.config.imagePullSecrets` that an application reads from
//! a ConfigMap to start pods itself, see [`images`]), but they only *name* the Secrets, which
//! must be created some other way.

pub mod archive;
pub mod assign;
pub mod chart;
pub mod helm;
pub mod images;
pub mod keys;
pub mod render;
pub mod source;
pub mod tree;
pub mod verify;
pub mod write;

use std::path::{Path, PathBuf};

use crate::{Config, Options};

pub use assign::{Basis, KeyPlan, Unreached, ValuesOverride};
pub use chart::Chart;
pub use helm::{Fetch, Helm, Release, UserValues};
pub use keys::{ItemShape, KEY};
pub use source::Origin;
pub use tree::{Map, Yaml};

use keys::Candidate;
use render::{Landed, Rendered};

#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is not a chart: expected a chart directory (with Chart.yaml) or a .tgz made by \
         `helm package`",
        path.display()
    )]
    NotAChart { path: PathBuf },
    #[error(
        "no chart {reference:?}: not a directory or .tgz here; a chart from a repository is \
         `repo/chart` (after `helm repo add`), `oci://host/path/chart`, or a name with \
         `--repo URL`"
    )]
    NoSuchChart { reference: String },
    #[error("cannot unpack {origin}: {source}")]
    Archive {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: refused archive entry {entry:?}: {why} (Helm refuses it too)")]
    UnsafeArchive {
        origin: String,
        entry: String,
        why: String,
    },
    #[error("{origin}: {what}")]
    TooLarge { origin: String, what: String },
    #[error("{origin}: no Chart.yaml")]
    NoChartYaml { origin: String },
    #[error("{origin}: invalid YAML: {message}")]
    Yaml { origin: String, message: String },
    #[error("{origin}: expected a mapping of values, found {found}")]
    NotAMapping { origin: String, found: &'static str },
    #[error("{origin}: invalid Chart.yaml: {message}")]
    ChartYaml { origin: String, message: String },
    #[error(
        "{origin}: dependency `{name}` is listed in Chart.yaml but missing from charts/ \
         (run `helm dependency build` first)"
    )]
    MissingDependency { origin: String, name: String },
    #[error(
        "chart {chart} has no pull secret key (`imagePullSecrets`, `image.pullSecrets`, …) in \
         its values, its subcharts' values, its templates, its schema or the given values, so \
         no values override can add pull secrets to it; use the post-renderer instead \
         (`helm-regcred post-render`), which edits the rendered pod specs"
    )]
    NoPullSecretKeys { chart: String },
    #[error("cannot run {helm} (set HELM_BIN, pass --helm, or put helm on PATH): {source}")]
    HelmMissing {
        helm: String,
        #[source]
        source: std::io::Error,
    },
    #[error("helm could not {what}: {stderr}\n  (ran: {command})")]
    Helm {
        what: String,
        command: String,
        stderr: String,
    },
    #[error("cannot read helm's output: {message}")]
    Rendered { message: String },
    #[error(
        "secret name {template:?} of registry {server}: {message}; a values override is not \
         tied to a release or namespace; use the post-renderer for such names"
    )]
    SecretName {
        template: String,
        server: String,
        message: String,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the user asked for: a chart reference as Helm takes it, and the release's values.
#[derive(Debug, Clone)]
pub struct Request {
    pub chart: String,
    pub fetch: Fetch,
    pub user: UserValues,
    pub release: Release,
    pub helm: Helm,
    /// The environment templated Secret names may read (`{{ env.X }}`); the front end's.
    pub env: fn(&str) -> Option<String>,
    /// What the rules may read (`crate::trust`), set by whoever runs the tool.
    pub trust: crate::trust::Policy,
}

/// A values file is written before Helm runs, for no particular release or namespace, so
/// templated Secret names can use `vars` and `env` only; anything else is an error here rather
/// than a literal `{{ ... }}` in the override.
pub fn render_secret_names(
    config: &mut Config,
    env: fn(&str) -> Option<String>,
    trust: &crate::trust::Policy,
) -> Result<(), ValuesError> {
    let names =
        crate::rules::template::Renderer::new(&config.vars, None, env).with_policy(trust.clone());
    let mut renamed: Vec<(String, String)> = Vec::new();
    for registry in &config.registries {
        let name =
            names
                .secret_name(&registry.secret, None)
                .map_err(|e| ValuesError::SecretName {
                    template: registry.secret.clone(),
                    server: registry.server.clone(),
                    message: e.to_string(),
                })?;
        renamed.push((registry.secret.clone(), name));
    }
    for (registry, (_, name)) in config.registries.iter_mut().zip(&renamed) {
        registry.secret = name.clone();
    }
    for rule in &mut config.rules {
        for secret in rule.secrets.iter_mut().flatten() {
            if let Some((_, name)) = renamed.iter().find(|(template, _)| template == secret) {
                *secret = name.clone();
            }
        }
    }
    Ok(())
}

/// A chart ready for probe renders: its copy (with the probe template) in a scratch directory
/// removed on drop.
pub struct Session {
    request: Request,
    scratch: tempfile::TempDir,
    chart_dir: PathBuf,
    pub chart: Chart,
    pub origin: Origin,
}

/// Probe renders before giving up on finding each key's item shape.
const MAX_PROBES: usize = 4;

impl Session {
    /// Finds the chart (fetching it with `helm pull` when it is not on disk) and prepares its
    /// copy.
    pub fn open(request: Request) -> Result<Session, ValuesError> {
        let scratch = tempfile::Builder::new()
            .prefix("helm-regcred-values-")
            .tempdir()
            .map_err(|source| ValuesError::Write {
                path: std::env::temp_dir(),
                source,
            })?;
        let (files, origin) = source::load(
            &request.chart,
            &request.fetch,
            &request.helm,
            scratch.path(),
        )?;
        let wanted: archive::Files = files
            .iter()
            .filter(|(rel, _)| chart::wanted(rel))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let chart = Chart::from_files(&wanted, &request.chart, &mut archive::Budget::default())?;
        let chart_dir = scratch.path().join("chart");
        let write_err = |source| ValuesError::Write {
            path: scratch.path().to_path_buf(),
            source,
        };
        std::fs::create_dir_all(chart_dir.join("templates")).map_err(write_err)?;
        archive::write_files(&chart_dir, &files).map_err(write_err)?;
        std::fs::write(chart_dir.join(render::PROBE_TEMPLATE), render::PROBE_TEXT)
            .map_err(write_err)?;
        Ok(Session {
            request,
            scratch,
            chart_dir,
            chart,
            origin,
        })
    }

    fn options(&self) -> Options {
        Options {
            namespace: self.request.release.namespace.clone(),
            release: Some(self.request.release.name.clone()),
            trust: self.request.trust.clone(),
        }
    }

    fn render(&self, extra: &[&Path]) -> Result<Rendered, ValuesError> {
        let text = self.request.helm.template(
            &self.chart_dir,
            &self.request.chart,
            &self.request.release,
            &self.request.user,
            extra,
        )?;
        render::read(&text)
    }

    /// The override: probe renders, then [`assign::assign`].
    pub fn plan(&self, config: &Config) -> Result<ValuesOverride, ValuesError> {
        let baseline = self.render(&[])?;
        let changes =
            verify::pod_needs(&baseline.text, config, &self.options(), &self.request.env)?;
        let mut needs = vec![Vec::new(); baseline.pods.len()];
        let mut matched = vec![false; baseline.pods.len()];
        for change in &changes {
            let found = (0..baseline.pods.len()).find(|&p| {
                !matched[p]
                    && baseline.pods[p].same(change.at.kind.as_deref(), change.at.name.as_deref())
            });
            if let Some(p) = found {
                matched[p] = true;
                needs[p] = change.added.clone();
            }
        }

        let (mut candidates, mut warnings) = keys::candidates(&self.chart, &baseline.values);
        for (_, c) in chart::instances(&self.chart) {
            if let Some(problem) = &c.values_problem {
                warnings.push(format!(
                    "{problem} (Helm read it; its defaults' item shapes are unknown here)"
                ));
            }
        }
        if candidates.is_empty() {
            return Err(ValuesError::NoPullSecretKeys {
                chart: self.chart.title(),
            });
        }
        let (shapes, reach) = self.probe(&mut candidates, &baseline, &mut warnings)?;
        let mut near = |k: usize| {
            images::secrets_near(&self.chart, &baseline.values, &candidates[k].path, config)
        };
        let mut plan = assign::assign(
            &candidates,
            &shapes,
            &reach,
            &baseline.pods,
            &needs,
            &mut near,
        );
        warnings.append(&mut plan.warnings);
        plan.warnings = warnings;
        self.keep_what_pods_had(&mut plan, &baseline, &reach)?;
        Ok(plan)
    }

    /// Filling a key can hide another one a template falls back to
    /// (`server.imagePullSecrets | default global.imagePullSecrets`): the pod would lose what
    /// it had. One render with the override shows each pod's lost entries; they join the filled
    /// key reaching that pod (before its own), so that existing entries are kept as the
    /// post-renderer keeps them.
    fn keep_what_pods_had(
        &self,
        plan: &mut ValuesOverride,
        baseline: &Rendered,
        reach: &[assign::Reach],
    ) -> Result<(), ValuesError> {
        if plan.keys.iter().all(|k| k.added.is_empty()) {
            return Ok(());
        }
        let file = self.scratch.path().join("override.values.yaml");
        std::fs::write(&file, write::values_file("", &plan.values())).map_err(|source| {
            ValuesError::Write {
                path: file.clone(),
                source,
            }
        })?;
        let rendered = self.render(&[&file])?;
        for pod in &rendered.pods {
            let Some(p) = baseline
                .pods
                .iter()
                .position(|b| b.kind == pod.kind && b.name == pod.name && b.source == pod.source)
            else {
                continue;
            };
            let now = pod.names();
            let lost: Vec<&Yaml> = baseline.pods[p]
                .entries
                .iter()
                .filter(|e| render::entry_name(e).is_some_and(|n| !now.contains(&n)))
                .collect();
            if lost.is_empty() {
                continue;
            }
            // The filled key reaching this pod that reaches fewest pods.
            let Some(k) = (0..plan.keys.len())
                .filter(|&k| {
                    !plan.keys[k].added.is_empty()
                        && !plan.keys[k].single
                        && reach[k].pods.contains(&p)
                })
                .min_by_key(|&k| reach[k].pods.len())
            else {
                continue;
            };
            let key = &mut plan.keys[k];
            let mut kept: Vec<Yaml> = Vec::new();
            for entry in lost {
                let Some(name) = render::entry_name(entry) else {
                    continue;
                };
                if !key.existing.iter().any(|e| keys::same_entry(e, entry)) {
                    kept.push(assign::item(&name, key.shape));
                }
            }
            key.added.retain(|a| {
                !kept
                    .iter()
                    .any(|e| render::entry_name(e).as_ref() == Some(a))
            });
            kept.append(&mut key.existing);
            key.existing = kept;
        }
        Ok(())
    }

    /// Which pods (and other documents) each candidate's marker reaches, and each key's item
    /// shape. All keys in one render first; if the chart refuses that render even with the
    /// undecided keys as plain names, key by key, and a key the chart refuses any marker in is
    /// dropped with a warning.
    fn probe(
        &self,
        candidates: &mut Vec<Candidate>,
        baseline: &Rendered,
        warnings: &mut Vec<String>,
    ) -> Result<(Vec<ItemShape>, Vec<assign::Reach>), ValuesError> {
        let mut shapes: Vec<ItemShape> = candidates
            .iter()
            .map(|c| c.shape.unwrap_or(ItemShape::NameRef))
            .collect();
        let mut fixed: Vec<bool> = candidates.iter().map(|c| c.schema_shape).collect();
        let all: Vec<usize> = (0..candidates.len()).collect();
        match self.settle(candidates, &all, &mut shapes, &mut fixed, baseline) {
            Ok(reach) => return Ok((shapes, reach)),
            Err(ValuesError::Helm { .. }) => {}
            Err(e) => return Err(e),
        }
        let mut reach = vec![assign::Reach::default(); candidates.len()];
        let mut refused = vec![false; candidates.len()];
        for i in all {
            match self.settle(candidates, &[i], &mut shapes, &mut fixed, baseline) {
                Ok(r) => reach[i] = r[i].clone(),
                Err(ValuesError::Helm { stderr, .. }) => {
                    refused[i] = true;
                    warnings.push(format!(
                        "`{}`: the chart refuses a pull secret in it, left alone: {}",
                        candidates[i].dotted(),
                        stderr.lines().next().unwrap_or_default()
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        fn keep<T>(v: &mut Vec<T>, refused: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                !refused[i - 1]
            });
        }
        keep(candidates, &refused);
        keep(&mut shapes, &refused);
        keep(&mut reach, &refused);
        Ok((shapes, reach))
    }

    /// Renders with markers in the candidates `subset` until their item shapes stop changing.
    fn settle(
        &self,
        candidates: &[Candidate],
        subset: &[usize],
        shapes: &mut [ItemShape],
        fixed: &mut [bool],
        baseline: &Rendered,
    ) -> Result<Vec<assign::Reach>, ValuesError> {
        let probe_file = self.scratch.path().join("probe.values.json");
        let mut flipped_on_error = false;
        for _ in 0..MAX_PROBES {
            let mut values = Map::new();
            for &i in subset {
                let c = &candidates[i];
                if c.single {
                    // A full one-name key cannot take a secret: nothing to probe.
                    if c.existing.is_empty() {
                        assign::set(&mut values, &c.path, Yaml::Str(render::marker(i)));
                    }
                    continue;
                }
                let mut list = c.existing.clone();
                list.push(assign::item(&render::marker(i), shapes[i]));
                assign::set(&mut values, &c.path, Yaml::Seq(list));
            }
            std::fs::write(&probe_file, Yaml::Map(values).to_json().to_string()).map_err(
                |source| ValuesError::Write {
                    path: probe_file.clone(),
                    source,
                },
            )?;
            let probed = match self.render(&[&probe_file]) {
                Ok(r) => r,
                // A schema or template that refuses `{name: x}` items (`Expected: string`):
                // try the keys nothing decided as plain names, once.
                Err(e @ ValuesError::Helm { .. }) => {
                    let open: Vec<usize> = subset
                        .iter()
                        .copied()
                        .filter(|&i| !fixed[i] && shapes[i] == ItemShape::NameRef)
                        .collect();
                    if flipped_on_error || open.is_empty() {
                        return Err(e);
                    }
                    flipped_on_error = true;
                    for i in open {
                        shapes[i] = ItemShape::Plain;
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut reach = vec![assign::Reach::default(); candidates.len()];
            let mut changed = false;
            for pod in &probed.pods {
                let Some(p) = baseline.pods.iter().position(|b| {
                    b.kind == pod.kind && b.name == pod.name && b.source == pod.source
                }) else {
                    continue;
                };
                for entry in &pod.entries {
                    for &i in subset {
                        let Some(how) = render::landed(entry, &render::marker(i)) else {
                            continue;
                        };
                        reach[i].pods.push(p);
                        let want = match how {
                            Landed::Named => continue,
                            Landed::WantsPlain => ItemShape::Plain,
                            Landed::WantsNamed => ItemShape::NameRef,
                        };
                        if shapes[i] != want && !fixed[i] {
                            shapes[i] = want;
                            fixed[i] = true;
                            changed = true;
                        }
                    }
                }
            }
            for other in &probed.others {
                for &i in subset {
                    if other.text.contains(&render::marker(i)) {
                        reach[i].others.push(other.title.clone());
                    }
                }
            }
            if !changed {
                return Ok(reach);
            }
        }
        Err(ValuesError::Rendered {
            message: "the probe renders did not settle on an item shape for every key".into(),
        })
    }

    /// `--verify`: the chart rendered with the user's values and `generated`, checked; the pod
    /// specs that still lack a pull secret.
    pub fn verify(
        &self,
        config: &Config,
        generated: &str,
    ) -> Result<Vec<crate::views::check::Finding>, ValuesError> {
        let file = self.scratch.path().join("generated.values.yaml");
        std::fs::write(&file, generated).map_err(|source| ValuesError::Write {
            path: file.clone(),
            source,
        })?;
        let rendered = self.render(&[&file])?;
        verify::uncovered(&rendered.text, config, &self.options(), &self.request.env)
    }
}
