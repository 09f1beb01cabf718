//! Values preprocessor: instead of editing rendered manifests, compute a Helm values override
//! that fills the chart's own `imagePullSecrets` values keys from the rules (the way the
//! Cloudforet docs tell users to do by hand, automated).
//!
//! ```text
//! chart dir/.tgz ─► Chart (values.yaml of every subchart) ─┐
//! -f files ───────► merge_user_values() ────────────────────┼─► plan_override() ─► ValuesOverride
//! rules ──────────► Config ─────────────────────────────────┘        (plain data) ─► to_yaml()
//! ```
//!
//! Only [`load_chart`] touches the file system; everything after it works on data.
//!
//! Compared with the post-renderer: values reach what a post-renderer cannot see (Helm 3's
//! hooks, which it never post-renders; settings such as `scheduler.config.imagePullSecrets`
//! that an application reads from a ConfigMap to start pods itself), but they only *name* the
//! Secrets, which must be created some other way, and a chart-wide key gives every pod reading
//! it the same list.
//!
//! # How Helm's values are reproduced
//! The values every template sees are rebuilt the way Helm builds them: the `-f` files merged
//! (later files win, maps merge, lists are replaced), then each chart's `values.yaml` fills the
//! gaps (a user `null` deletes a default), then each subchart's `values.yaml` fills the gaps
//! under the subchart's key (its `alias` from `dependencies`, else its name) and gets the
//! parent's `global` (the parent wins). Every `imagePullSecrets` key of that tree is a key this
//! module fills; `global.imagePullSecrets` declared by any chart is the one top-level key.
//! Not reproduced: `condition`/`tags` (a disabled subchart's keys are filled too, which is
//! harmless), `import-values`, `--set`.
//!
//! # Which secrets go into which key (the heuristic)
//! Values do not say which pod a key reaches, so each key gets the secrets of the registries the
//! values *around it* pull from:
//! * the key's **scope**: for a chart's top-level key, that chart's values without its
//!   subcharts' keys and without `global`; for a nested key (`scheduler.config.imagePullSecrets`),
//!   the mapping holding it. In both cases a mapping deeper down that has its own
//!   `imagePullSecrets` key is left out: its images belong to that key (Cloudforet's
//!   `supervisor` vs `supervisor.application_scheduler.CONNECTORS.KubernetesConnector`).
//! * `global.imagePullSecrets`: the top-level scopes of the charts whose templates mention
//!   `global.imagePullSecrets` (a library subchart's mention counts for its parent); of every
//!   chart when none does.
//! * **images** in a scope: a string under a key named `image`/`images` or ending in `Image`
//!   (`image: "host/repo:tag"`, `initImage: ...`), a mapping with `repository` (`{registry,
//!   repository}`, `{repository: host/repo}`), a mapping under an image key with `name`
//!   (`image: {name: spaceone/console}`), a mapping under an image key with only `registry`.
//!   A reference without a host takes the mapping's non-empty `registry`, else the chart's
//!   `global.imageRegistry` / `global.image.registry` / `global.registry`, else `docker.io`.
//!   Strings that are not image references (templated ones, URLs) are ignored.
//! * the scope's images then go through the rules as if they were one pod's: with no `rules:`,
//!   the secrets of the registries they come from; with `rules:`, a rule applies when its
//!   `images` patterns match one of them (its `kinds`, `names`, `namespaces`, `labels` and
//!   `sources` cannot be known from values and are assumed to match; an `exclude` applies
//!   only when it is purely an `images` condition matched by every image of the scope).
//! * a scope without any image cannot be decided: the key gets **every** secret of the rules.
//!   Too many secrets on a pod is harmless (a pull secret is only tried for its registry); a
//!   missing one breaks the pull.
//!
//! Existing entries are kept in order and never duplicated; new ones take the shape of the
//! existing list (`- name: x` or plain `- x`), else of the chart's default, else `- name: x`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::registry::image::ImageRef;
use crate::rules::Config;
use crate::rules::selector::Selector;

/// The key this module fills.
pub const KEY: &str = "imagePullSecrets";

/// A values tree, in file order (Helm's maps are unordered; order only keeps the output
/// readable and stable).
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Map),
}

pub type Map = IndexMap<String, Yaml>;

impl Yaml {
    /// Parses one YAML document; an empty one is `Null`.
    pub fn parse(text: &str, origin: &str) -> Result<Yaml, ValuesError> {
        let options = serde_saphyr::options! {
            // What Helm's YAML library (a go-yaml v2 fork) does with a repeated key.
            duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        };
        let parsed: Option<Yaml> =
            serde_saphyr::from_str_with_options(text, options).map_err(|e| ValuesError::Yaml {
                origin: origin.to_string(),
                message: e.to_string(),
            })?;
        Ok(parsed.unwrap_or(Yaml::Null))
    }

    /// A values file: a mapping, or empty.
    pub fn parse_values(text: &str, origin: &str) -> Result<Map, ValuesError> {
        match Yaml::parse(text, origin)? {
            Yaml::Null => Ok(Map::new()),
            Yaml::Map(map) => Ok(map),
            other => Err(ValuesError::NotAMapping {
                origin: origin.to_string(),
                found: other.type_name(),
            }),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Yaml::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Yaml::Null => "null",
            Yaml::Bool(_) => "a boolean",
            Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_) => "a number",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a mapping",
        }
    }

    /// Scalars as Go's `%v` prints them: how a non-string key ends up in Helm's values.
    fn scalar_text(&self) -> Option<String> {
        match self {
            Yaml::Null => Some("null".into()),
            Yaml::Bool(b) => Some(b.to_string()),
            Yaml::Int(i) => Some(i.to_string()),
            Yaml::UInt(u) => Some(u.to_string()),
            Yaml::Float(f) => Some(f.to_string()),
            Yaml::Str(s) => Some(s.clone()),
            Yaml::Seq(_) | Yaml::Map(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Yaml, D::Error> {
        struct YamlVisitor;

        impl<'de> Visitor<'de> for YamlVisitor {
            type Value = Yaml;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Yaml, E> {
                Ok(Yaml::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Yaml, E> {
                Ok(Yaml::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Yaml, E> {
                Ok(i64::try_from(v).map_or(Yaml::UInt(v), Yaml::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Yaml, E> {
                Ok(Yaml::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Yaml, E> {
                Ok(Yaml::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Yaml, E> {
                Ok(Yaml::Str(v))
            }
            fn visit_unit<E>(self) -> Result<Yaml, E> {
                Ok(Yaml::Null)
            }
            fn visit_none<E>(self) -> Result<Yaml, E> {
                Ok(Yaml::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
                Yaml::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Yaml::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
                let mut out = Map::new();
                while let Some((key, value)) = map.next_entry::<Yaml, Yaml>()? {
                    let key = key
                        .scalar_text()
                        .ok_or_else(|| de::Error::custom("a mapping key must be a scalar"))?;
                    out.insert(key, value);
                }
                Ok(Yaml::Map(out))
            }
        }

        deserializer.deserialize_any(YamlVisitor)
    }
}

impl Serialize for Yaml {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Yaml::Null => serializer.serialize_unit(),
            Yaml::Bool(b) => serializer.serialize_bool(*b),
            Yaml::Int(i) => serializer.serialize_i64(*i),
            Yaml::UInt(u) => serializer.serialize_u64(*u),
            Yaml::Float(f) => serializer.serialize_f64(*f),
            Yaml::Str(s) => serializer.serialize_str(s),
            Yaml::Seq(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Yaml::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

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
    #[error("cannot unpack {origin}: {source}")]
    Archive {
        origin: String,
        #[source]
        source: std::io::Error,
    },
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
        "chart {chart} has no `imagePullSecrets` key in its values, its subcharts' values or the \
         given values files, so no values override can add pull secrets to it; use the \
         post-renderer instead (`helm-regcred post-render`), which edits the rendered pod specs"
    )]
    NoPullSecretKeys { chart: String },
    #[error("cannot write the values override as YAML: {0}")]
    Serialize(String),
}

// ---------------------------------------------------------------------------------------------
// Charts

/// A chart as far as values are concerned.
#[derive(Debug, Clone)]
pub struct Chart {
    pub name: String,
    pub version: String,
    /// `type: library`: its templates are helpers included by its parent.
    pub library: bool,
    /// Its own `values.yaml`.
    pub values: Map,
    /// Subcharts with the key their values live under in this chart's values (alias or name).
    pub subcharts: Vec<(String, Chart)>,
    /// Some template mentions `global.imagePullSecrets`.
    pub reads_global_pull_secrets: bool,
    /// For messages: path, or `parent.tgz:charts/sub`.
    pub origin: String,
}

/// A chart's files by relative path (`Chart.yaml`, `templates/x.yaml`, `charts/sub/...`).
pub type Files = BTreeMap<String, Vec<u8>>;

#[derive(Debug, Default, serde::Deserialize)]
struct ChartMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<Yaml>,
    #[serde(default, rename = "type")]
    chart_type: Option<String>,
    #[serde(default)]
    dependencies: Option<Vec<Dependency>>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Requirements {
    #[serde(default)]
    dependencies: Option<Vec<Dependency>>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Dependency {
    name: String,
    #[serde(default)]
    alias: Option<String>,
}

/// Loads a chart directory or a `.tgz` (I/O happens here and only here).
pub fn load_chart(path: &Path) -> Result<Chart, ValuesError> {
    let read_err = |source| ValuesError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    let origin = path.display().to_string();
    let files = if meta.is_dir() {
        if !path.join("Chart.yaml").is_file() {
            return Err(ValuesError::NotAChart {
                path: path.to_path_buf(),
            });
        }
        let mut files = Files::new();
        read_dir(path, "", &mut files)?;
        files
    } else {
        let bytes = std::fs::read(path).map_err(read_err)?;
        if !bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(ValuesError::NotAChart {
                path: path.to_path_buf(),
            });
        }
        unpack_tgz(&bytes, &origin)?
    };
    Chart::from_files(&files, &origin)
}

/// Only what values need: Chart.yaml, values.yaml, requirements.yaml, templates (for the
/// `global.imagePullSecrets` mention) and subcharts, recursively. Skips `files/` dashboards and
/// the like, which can be large.
fn wanted(rel: &str) -> bool {
    let mut rest = rel;
    loop {
        match rest.split_once('/') {
            None => {
                return matches!(rest, "Chart.yaml" | "values.yaml" | "requirements.yaml");
            }
            Some(("templates", _)) => return true,
            Some(("charts", sub)) => match sub.split_once('/') {
                None => return sub.ends_with(".tgz"),
                Some((_, inner)) => rest = inner,
            },
            Some(_) => return false,
        }
    }
}

fn read_dir(dir: &Path, prefix: &str, files: &mut Files) -> Result<(), ValuesError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ValuesError::Read { path, source }
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_err(dir))?
        .collect::<Result<_, _>>()
        .map_err(read_err(dir))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        // Follows symlinks, like Helm's loader.
        let meta = std::fs::metadata(&path).map_err(read_err(&path))?;
        if meta.is_dir() {
            read_dir(&path, &format!("{rel}/"), files)?;
        } else if wanted(&rel) {
            files.insert(rel, std::fs::read(&path).map_err(read_err(&path))?);
        }
    }
    Ok(())
}

/// The files of a `helm package` archive, without its top-level `<chart>/` directory.
pub fn unpack_tgz(bytes: &[u8], origin: &str) -> Result<Files, ValuesError> {
    let archive_err = |source| ValuesError::Archive {
        origin: origin.to_string(),
        source,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = Files::new();
    for entry in archive.entries().map_err(archive_err)? {
        let mut entry = entry.map_err(archive_err)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(archive_err)?
            .to_string_lossy()
            .into_owned();
        let Some((_, rel)) = path.trim_start_matches("./").split_once('/') else {
            continue;
        };
        if !wanted(rel) {
            continue;
        }
        let mut content = Vec::new();
        entry.read_to_end(&mut content).map_err(archive_err)?;
        files.insert(rel.to_string(), content);
    }
    Ok(files)
}

impl Chart {
    /// Builds a chart from its files; `charts/*.tgz` are unpacked in memory.
    pub fn from_files(files: &Files, origin: &str) -> Result<Chart, ValuesError> {
        let text = |rel: &str| {
            files
                .get(rel)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let chart_yaml = text("Chart.yaml").ok_or_else(|| ValuesError::NoChartYaml {
            origin: origin.to_string(),
        })?;
        let chart_origin = format!("{origin}/Chart.yaml");
        let meta: Option<ChartMeta> =
            serde_saphyr::from_str(&chart_yaml).map_err(|e| ValuesError::ChartYaml {
                origin: chart_origin.clone(),
                message: e.to_string(),
            })?;
        let meta = meta.unwrap_or_default();
        let name = meta.name.clone().ok_or_else(|| ValuesError::ChartYaml {
            origin: chart_origin.clone(),
            message: "no `name`".into(),
        })?;
        let mut dependencies = meta.dependencies.unwrap_or_default();
        // apiVersion v1 charts list them in requirements.yaml.
        if dependencies.is_empty()
            && let Some(req) = text("requirements.yaml")
        {
            let req: Option<Requirements> =
                serde_saphyr::from_str(&req).map_err(|e| ValuesError::ChartYaml {
                    origin: format!("{origin}/requirements.yaml"),
                    message: e.to_string(),
                })?;
            dependencies = req.and_then(|r| r.dependencies).unwrap_or_default();
        }
        let values = match text("values.yaml") {
            Some(t) => Yaml::parse_values(&t, &format!("{origin}/values.yaml"))?,
            None => Map::new(),
        };
        let reads_global_pull_secrets = files.iter().any(|(rel, bytes)| {
            rel.starts_with("templates/")
                && String::from_utf8_lossy(bytes).contains("global.imagePullSecrets")
        });

        // Subcharts: `charts/<dir>/...` and `charts/<file>.tgz`.
        let mut dirs: BTreeMap<&str, Files> = BTreeMap::new();
        let mut loaded = Vec::new();
        for (rel, bytes) in files {
            let Some(sub) = rel.strip_prefix("charts/") else {
                continue;
            };
            match sub.split_once('/') {
                Some((dir, inner)) => {
                    dirs.entry(dir)
                        .or_default()
                        .insert(inner.to_string(), bytes.clone());
                }
                None if sub.ends_with(".tgz") => {
                    let sub_origin = format!("{origin}/charts/{sub}");
                    let sub_files = unpack_tgz(bytes, &sub_origin)?;
                    loaded.push(Chart::from_files(&sub_files, &sub_origin)?);
                }
                None => {}
            }
        }
        for (dir, sub_files) in dirs {
            // Helm skips directories in charts/ that are not charts.
            if sub_files.contains_key("Chart.yaml") {
                loaded.push(Chart::from_files(
                    &sub_files,
                    &format!("{origin}/charts/{dir}"),
                )?);
            }
        }

        let mut subcharts = Vec::new();
        for dep in &dependencies {
            let Some(chart) = loaded.iter().find(|c| c.name == dep.name) else {
                return Err(ValuesError::MissingDependency {
                    origin: chart_origin,
                    name: dep.name.clone(),
                });
            };
            let key = dep.alias.clone().unwrap_or_else(|| dep.name.clone());
            subcharts.push((key, chart.clone()));
        }
        // Helm loads every chart under charts/, listed or not.
        for chart in loaded {
            if !dependencies.iter().any(|d| d.name == chart.name) {
                subcharts.push((chart.name.clone(), chart));
            }
        }

        Ok(Chart {
            name,
            version: meta
                .version
                .and_then(|v| v.scalar_text())
                .unwrap_or_default(),
            library: meta.chart_type.as_deref() == Some("library"),
            values,
            subcharts,
            reads_global_pull_secrets,
            origin: origin.to_string(),
        })
    }

    /// Its templates or a library subchart's (whose helpers it includes) read
    /// `global.imagePullSecrets`.
    fn reads_global(&self) -> bool {
        self.reads_global_pull_secrets
            || self
                .subcharts
                .iter()
                .any(|(_, sub)| sub.library && sub.reads_global())
    }
}

// ---------------------------------------------------------------------------------------------
// Values as Helm computes them

/// `-f a.yaml -f b.yaml`: later files win, maps merge, everything else is replaced.
pub fn merge_user_values(files: impl IntoIterator<Item = Map>) -> Map {
    let mut out = Map::new();
    for file in files {
        merge_into(&mut out, file);
    }
    out
}

fn merge_into(dst: &mut Map, src: Map) {
    for (k, v) in src {
        match (dst.get_mut(&k), v) {
            (Some(Yaml::Map(d)), Yaml::Map(s)) => merge_into(d, s),
            (_, v) => {
                dst.insert(k, v);
            }
        }
    }
}

/// Chart defaults fill what the user did not set; a user `null` deletes a default.
fn coalesce(dst: &mut Map, defaults: &Map) {
    for (k, dv) in defaults {
        match dst.get_mut(k) {
            None => {
                dst.insert(k.clone(), dv.clone());
            }
            Some(Yaml::Null) => {
                dst.shift_remove(k);
            }
            Some(Yaml::Map(d)) => {
                if let Yaml::Map(dm) = dv {
                    coalesce(d, dm);
                }
            }
            Some(_) => {}
        }
    }
}

/// The parent's `global` wins over the subchart's own.
fn coalesce_globals(sub: &mut Map, parent_global: Option<&Yaml>) {
    let Some(Yaml::Map(parent)) = parent_global else {
        return;
    };
    let mut global = parent.clone();
    if let Some(Yaml::Map(own)) = sub.get("global") {
        coalesce(&mut global, own);
    }
    sub.insert("global".into(), Yaml::Map(global));
}

/// The values every chart's templates see, as one tree.
fn coalesce_chart(tree: &mut Map, chart: &Chart, warnings: &mut Vec<String>, path: &[String]) {
    coalesce(tree, &chart.values);
    for (key, sub) in &chart.subcharts {
        let parent_global = tree.get("global").cloned();
        let entry = tree.entry(key.clone()).or_insert(Yaml::Map(Map::new()));
        if !matches!(entry, Yaml::Map(_)) {
            let mut at = path.to_vec();
            at.push(key.clone());
            warnings.push(format!(
                "`{}` holds the values of subchart {} but is {}; Helm ignores it",
                at.join("."),
                sub.name,
                entry.type_name()
            ));
            *entry = Yaml::Map(Map::new());
        }
        let Yaml::Map(sub_tree) = entry else {
            unreachable!()
        };
        coalesce_globals(sub_tree, parent_global.as_ref());
        let mut sub_path = path.to_vec();
        sub_path.push(key.clone());
        coalesce_chart(sub_tree, sub, warnings, &sub_path);
    }
}

/// One chart in the tree: where its values live.
struct Instance<'c> {
    prefix: Vec<String>,
    chart: &'c Chart,
}

fn get<'t>(tree: &'t Map, path: &[String]) -> Option<&'t Yaml> {
    let (first, rest) = path.split_first()?;
    let value = tree.get(first)?;
    if rest.is_empty() {
        Some(value)
    } else {
        get(value.as_map()?, rest)
    }
}

fn get_map<'t>(tree: &'t Map, path: &[String]) -> Option<&'t Map> {
    if path.is_empty() {
        Some(tree)
    } else {
        get(tree, path)?.as_map()
    }
}

// ---------------------------------------------------------------------------------------------
// The override

/// How a list's items are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemShape {
    /// `- name: x` (what a pod spec takes; most charts pass the list through `toYaml`).
    NameMap,
    /// `- x` (charts whose templates write `- name: {{ . }}`).
    Plain,
}

/// Why a key got the secrets it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The registry hosts of the images in the key's scope, in order of appearance.
    Images { hosts: Vec<String> },
    /// No image in the key's scope: every secret of the rules.
    Undetermined,
}

/// One `imagePullSecrets` key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyPlan {
    /// From the top of the values, e.g. `["api", "imagePullSecrets"]`.
    pub path: Vec<String>,
    /// The entries Helm would use without the override (user values, else chart defaults).
    pub existing: Vec<Yaml>,
    /// The secrets the rules give this key.
    pub wanted: Vec<String>,
    /// Of `wanted`, those not among `existing`: what the override adds.
    pub added: Vec<String>,
    pub basis: Basis,
    pub shape: ItemShape,
}

impl KeyPlan {
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    /// The list the override sets: existing entries, then the added ones.
    pub fn list(&self) -> Vec<Yaml> {
        let mut items = self.existing.clone();
        items.extend(self.added.iter().map(|name| match self.shape {
            ItemShape::NameMap => Yaml::Map(Map::from_iter([(
                "name".to_string(),
                Yaml::Str(name.clone()),
            )])),
            ItemShape::Plain => Yaml::Str(name.clone()),
        }));
        items
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValuesOverride {
    /// Every key found, in values order; those with nothing to add are not in the output.
    pub keys: Vec<KeyPlan>,
    pub warnings: Vec<String>,
}

impl ValuesOverride {
    /// The override as a values tree: only keys that gain a secret.
    pub fn values(&self) -> Map {
        let mut root = Map::new();
        for key in self.keys.iter().filter(|k| !k.added.is_empty()) {
            let (last, parents) = key.path.split_last().expect("a key path is never empty");
            let mut map = &mut root;
            for p in parents {
                let entry = map.entry(p.clone()).or_insert(Yaml::Map(Map::new()));
                let Yaml::Map(m) = entry else {
                    unreachable!("override paths only hold mappings")
                };
                map = m;
            }
            map.insert(last.clone(), Yaml::Seq(key.list()));
        }
        root
    }

    /// The values file: `header` (each line becomes a `# ` comment), then the override.
    pub fn to_yaml(&self, header: &str) -> Result<String, ValuesError> {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str(if line.is_empty() { "#" } else { "# " });
            out.push_str(line);
            out.push('\n');
        }
        let values = Yaml::Map(self.values());
        let body =
            serde_saphyr::to_string(&values).map_err(|e| ValuesError::Serialize(e.to_string()))?;
        out.push_str(&body);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        Ok(out)
    }
}

/// Computes the override for `chart` with the user's merged `-f` values.
pub fn plan_override(
    chart: &Chart,
    user: &Map,
    config: &Config,
) -> Result<ValuesOverride, ValuesError> {
    let mut warnings = Vec::new();
    let mut tree = user.clone();
    coalesce_chart(&mut tree, chart, &mut warnings, &[]);
    // The same without user values: where an item shape comes from when the user's list is
    // empty.
    let mut defaults = Map::new();
    coalesce_chart(&mut defaults, chart, &mut Vec::new(), &[]);

    let all = instances(chart);

    let mut found: Vec<Vec<String>> = Vec::new();
    for inst in &all {
        let Some(scope) = get_map(&tree, &inst.prefix) else {
            continue;
        };
        let skip = subchart_keys(inst.chart);
        let mut rel = Vec::new();
        for (k, v) in scope {
            if k == "global" {
                rel.push(k.clone());
                find_keys(v, &mut rel, &inst.prefix, &mut found, &mut warnings, true);
                rel.pop();
            } else if !skip.contains(&k.as_str()) {
                rel.push(k.clone());
                find_keys(v, &mut rel, &inst.prefix, &mut found, &mut warnings, false);
                rel.pop();
            }
        }
    }
    if found.is_empty() {
        return Err(ValuesError::NoPullSecretKeys {
            chart: format!("{} {}", chart.name, chart.version)
                .trim()
                .to_string(),
        });
    }

    let mut keys = Vec::new();
    for path in found {
        let global = path.first().is_some_and(|p| p == "global");
        // Every chart sees the parent's global over its own default; once the override sets
        // the top-level one they all see it, so a global key keeps whatever any of them saw.
        let entries = |tree: &Map| -> Vec<Yaml> {
            if !global {
                return dedup_entries(list_items(get(tree, &path)));
            }
            let mut items = Vec::new();
            for inst in &all {
                let abs: Vec<String> = inst.prefix.iter().chain(&path).cloned().collect();
                items.extend(list_items(get(tree, &abs)));
            }
            dedup_entries(items)
        };
        let existing = entries(&tree);
        let default_items = entries(&defaults);
        let shape = shape_of(&existing)
            .or_else(|| shape_of(&default_items))
            .unwrap_or(ItemShape::NameMap);

        let images = if global {
            global_scope_images(&tree, &all)
        } else {
            key_scope_images(&tree, &all, &path)
        };
        let (wanted, basis) = secrets_for(&images, config);
        let names: Vec<String> = existing.iter().filter_map(entry_name).collect();
        let added = wanted
            .iter()
            .filter(|w| !names.contains(w))
            .cloned()
            .collect();
        keys.push(KeyPlan {
            path,
            existing,
            wanted,
            added,
            basis,
            shape,
        });
    }
    Ok(ValuesOverride { keys, warnings })
}

/// Every chart of the tree, parents before their subcharts, subcharts in dependency order.
fn instances(chart: &Chart) -> Vec<Instance<'_>> {
    fn walk<'c>(chart: &'c Chart, prefix: Vec<String>, out: &mut Vec<Instance<'c>>) {
        out.push(Instance {
            prefix: prefix.clone(),
            chart,
        });
        for (key, sub) in &chart.subcharts {
            let mut p = prefix.clone();
            p.push(key.clone());
            walk(sub, p, out);
        }
    }
    let mut out = Vec::new();
    walk(chart, Vec::new(), &mut out);
    out
}

fn subchart_keys(chart: &Chart) -> Vec<&str> {
    chart.subcharts.iter().map(|(k, _)| k.as_str()).collect()
}

/// Records every `imagePullSecrets` key under `value`. `rel` is the path below the chart's
/// values; global keys are recorded from the top (`global.…`), others under `prefix`.
fn find_keys(
    value: &Yaml,
    rel: &mut Vec<String>,
    prefix: &[String],
    found: &mut Vec<Vec<String>>,
    warnings: &mut Vec<String>,
    global: bool,
) {
    let absolute = |rel: &[String]| -> Vec<String> {
        if global {
            rel.to_vec()
        } else {
            prefix.iter().chain(rel).cloned().collect()
        }
    };
    if rel.last().is_some_and(|k| k == KEY) {
        let path = absolute(rel);
        match value {
            Yaml::Seq(_) | Yaml::Null => {
                if !found.contains(&path) {
                    found.push(path);
                }
            }
            other => warnings.push(format!(
                "`{}` is {}, not a list of pull secrets; left alone",
                path.join("."),
                other.type_name()
            )),
        }
        return;
    }
    match value {
        Yaml::Map(map) => {
            for (k, v) in map {
                rel.push(k.clone());
                find_keys(v, rel, prefix, found, warnings, global);
                rel.pop();
            }
        }
        Yaml::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if contains_key(item) {
                    warnings.push(format!(
                        "`{}[{i}]` holds an `imagePullSecrets` key inside a list item; a values \
                         file can only replace the whole list, so it is left alone",
                        absolute(rel).join(".")
                    ));
                }
            }
        }
        _ => {}
    }
}

fn contains_key(value: &Yaml) -> bool {
    match value {
        Yaml::Map(m) => m.iter().any(|(k, v)| k == KEY || contains_key(v)),
        Yaml::Seq(items) => items.iter().any(contains_key),
        _ => false,
    }
}

fn list_items(value: Option<&Yaml>) -> Vec<Yaml> {
    match value {
        Some(Yaml::Seq(items)) => items.clone(),
        _ => Vec::new(),
    }
}

/// The secret an entry names: `x` or `{name: x}`.
fn entry_name(entry: &Yaml) -> Option<String> {
    match entry {
        Yaml::Str(s) => Some(s.clone()),
        Yaml::Map(m) => m.get("name")?.as_str().map(str::to_string),
        _ => None,
    }
}

fn same_entry(a: &Yaml, b: &Yaml) -> bool {
    match (entry_name(a), entry_name(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn dedup_entries(items: Vec<Yaml>) -> Vec<Yaml> {
    let mut out: Vec<Yaml> = Vec::new();
    for item in items {
        if !out.iter().any(|i| same_entry(i, &item)) {
            out.push(item);
        }
    }
    out
}

fn shape_of(items: &[Yaml]) -> Option<ItemShape> {
    items.iter().find_map(|i| match i {
        Yaml::Str(_) => Some(ItemShape::Plain),
        Yaml::Map(_) => Some(ItemShape::NameMap),
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Images in a scope

/// An image a scope references: its registry host always, the whole reference when known.
#[derive(Debug, Clone)]
struct Found {
    host: String,
    image: Option<ImageRef>,
}

fn instance_of<'a, 'c>(all: &'a [Instance<'c>], path: &[String]) -> &'a Instance<'c> {
    // The deepest chart whose prefix starts the path.
    all.iter()
        .filter(|i| path.starts_with(&i.prefix))
        .max_by_key(|i| i.prefix.len())
        .expect("the root chart's prefix is empty")
}

fn default_registry(tree: &Map, prefix: &[String]) -> Option<String> {
    let global = get_map(tree, prefix)?.get("global")?.as_map()?;
    fn text(v: Option<&Yaml>) -> Option<&str> {
        v.and_then(Yaml::as_str).filter(|s| !s.is_empty())
    }
    text(global.get("imageRegistry"))
        .or_else(|| {
            text(
                global
                    .get("image")
                    .and_then(|i| i.as_map()?.get("registry")),
            )
        })
        .or_else(|| text(global.get("registry")))
        .map(str::to_string)
}

fn key_scope_images(tree: &Map, all: &[Instance], path: &[String]) -> Vec<Found> {
    let inst = instance_of(all, path);
    let holder = &path[..path.len() - 1];
    let default = default_registry(tree, &inst.prefix);
    let mut out = Vec::new();
    if let Some(map) = get_map(tree, holder) {
        let skip = if holder == inst.prefix.as_slice() {
            let mut s = subchart_keys(inst.chart);
            s.push("global");
            s
        } else {
            Vec::new()
        };
        scan_map(map, None, &skip, default.as_deref(), &mut out);
    }
    out
}

fn global_scope_images(tree: &Map, all: &[Instance]) -> Vec<Found> {
    let readers: Vec<&Instance> = all.iter().filter(|i| i.chart.reads_global()).collect();
    let scopes: Vec<&Instance> = if readers.is_empty() {
        all.iter().collect()
    } else {
        readers
    };
    let mut out = Vec::new();
    for inst in scopes {
        let default = default_registry(tree, &inst.prefix);
        if let Some(map) = get_map(tree, &inst.prefix) {
            let mut skip = subchart_keys(inst.chart);
            skip.push("global");
            scan_map(map, None, &skip, default.as_deref(), &mut out);
        }
    }
    out
}

fn is_image_key(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.ends_with("image") || lower.ends_with("images")
}

/// Docker's rule: the first component is a host only with a `.` or `:` in it, or `localhost`.
fn has_explicit_host(reference: &str) -> bool {
    match reference.split_once('/') {
        Some((first, _)) => first.contains(['.', ':']) || first == "localhost",
        None => false,
    }
}

fn scalar(v: Option<&Yaml>) -> Option<String> {
    match v? {
        Yaml::Seq(_) | Yaml::Map(_) | Yaml::Null => None,
        other => other.scalar_text().filter(|s| !s.is_empty()),
    }
}

/// `registry` + `path` (+ tag/digest when they make a valid reference), resolved the way the
/// runtime would pull it.
fn resolve(
    path: &str,
    registry: Option<&str>,
    default: Option<&str>,
    tag: Option<&str>,
    digest: Option<&str>,
) -> Option<Found> {
    let base = if has_explicit_host(path) {
        path.to_string()
    } else {
        match registry.or(default) {
            Some(r) => format!("{}/{path}", r.trim_end_matches('/')),
            None => path.to_string(),
        }
    };
    let mut candidates = Vec::new();
    if tag.is_some() || digest.is_some() {
        let mut full = base.clone();
        if let Some(t) = tag {
            full.push(':');
            full.push_str(t);
        }
        if let Some(d) = digest {
            full.push('@');
            full.push_str(d);
        }
        candidates.push(full);
    }
    candidates.push(base);
    candidates.into_iter().find_map(|c| {
        let image = ImageRef::parse(&c).ok()?;
        Some(Found {
            host: image.registry().to_string(),
            image: Some(image),
        })
    })
}

fn scan_map(
    map: &Map,
    parent_key: Option<&str>,
    skip: &[&str],
    default: Option<&str>,
    out: &mut Vec<Found>,
) {
    let registry = scalar(map.get("registry"));
    let tag = scalar(map.get("tag"));
    let digest = scalar(map.get("digest"));
    let under_image_key = parent_key.is_some_and(is_image_key);
    let mut referenced = false;
    let mut push = |found: Option<Found>, out: &mut Vec<Found>| {
        if let Some(f) = found {
            referenced = true;
            out.push(f);
        }
    };

    // `{registry, repository}`, `{repository: host/repo}`.
    if let Some(repo) = scalar(map.get("repository")) {
        let found = resolve(
            &repo,
            registry.as_deref(),
            default,
            tag.as_deref(),
            digest.as_deref(),
        );
        push(found, out);
    }
    // `image: {name: spaceone/console, version: x}`.
    if under_image_key
        && !map.contains_key("repository")
        && let Some(name) = scalar(map.get("name"))
    {
        let version = tag.clone().or_else(|| scalar(map.get("version")));
        let found = resolve(
            &name,
            registry.as_deref(),
            default,
            version.as_deref(),
            digest.as_deref(),
        );
        push(found, out);
    }
    for (k, v) in map {
        if skip.contains(&k.as_str()) || k == KEY {
            continue;
        }
        match v {
            // `image: host/repo:tag`, and `{registry, image: repo, tag}` (ingress-nginx).
            Yaml::Str(s) if is_image_key(k) && !s.is_empty() => {
                let in_map = map.contains_key("tag") || map.contains_key("digest");
                let found = if in_map && !s.contains([':', '@']) {
                    resolve(
                        s,
                        registry.as_deref(),
                        default,
                        tag.as_deref(),
                        digest.as_deref(),
                    )
                } else {
                    resolve(s, registry.as_deref(), default, None, None)
                };
                push(found, out);
            }
            Yaml::Seq(items) if is_image_key(k) => {
                for item in items {
                    if let Yaml::Str(s) = item {
                        push(resolve(s, None, default, None, None), out);
                    } else {
                        scan_value(item, Some(k), default, out);
                    }
                }
            }
            // A mapping with its own key: its images belong to that key.
            Yaml::Map(m) if m.contains_key(KEY) => {}
            other => scan_value(other, Some(k), default, out),
        }
    }
    // `image: {registry: host}` with the repository elsewhere.
    if !referenced
        && under_image_key
        && let Some(r) = &registry
    {
        out.push(Found {
            host: crate::registry::image::normalize_registry_host(r),
            image: None,
        });
    }
}

fn scan_value(value: &Yaml, key: Option<&str>, default: Option<&str>, out: &mut Vec<Found>) {
    match value {
        Yaml::Map(m) => scan_map(m, key, &[], default, out),
        Yaml::Seq(items) => {
            for item in items {
                scan_value(item, key, default, out);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Rules

/// The secrets the rules give a scope with these images; see the module docs.
fn secrets_for(images: &[Found], config: &Config) -> (Vec<String>, Basis) {
    let mut names: Vec<String> = Vec::new();
    let add = |name: &str, names: &mut Vec<String>| {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    };
    if images.is_empty() {
        for r in &config.registries {
            add(&r.secret, &mut names);
        }
        return (names, Basis::Undetermined);
    }
    let mut hosts: Vec<String> = Vec::new();
    for f in images {
        if !hosts.contains(&f.host) {
            hosts.push(f.host.clone());
        }
    }
    let from_images = |names: &mut Vec<String>| {
        for host in &hosts {
            for r in config.registries_for_host(host) {
                add(&r.secret, names);
            }
        }
    };
    if config.rules.is_empty() {
        from_images(&mut names);
    } else {
        for rule in &config.rules {
            if !may_match(&rule.selector, images)
                || rule
                    .exclude
                    .as_ref()
                    .is_some_and(|e| excludes_all(e, images))
            {
                continue;
            }
            match &rule.secrets {
                Some(secrets) => secrets.iter().for_each(|s| add(s, &mut names)),
                None => from_images(&mut names),
            }
        }
    }
    (names, Basis::Images { hosts })
}

fn image_matches(patterns: &crate::rules::selector::PatternSet, image: &ImageRef) -> bool {
    patterns.is_match(image.written()) || patterns.is_match(image.full())
}

/// Only the `images` condition can be judged from values; the rest is assumed to match.
fn may_match(selector: &Selector, images: &[Found]) -> bool {
    let Some(patterns) = selector.images() else {
        return true;
    };
    let known: Vec<&ImageRef> = images.iter().filter_map(|f| f.image.as_ref()).collect();
    // Only hosts known: cannot tell, so do not rule it out.
    known.is_empty() || known.iter().any(|i| image_matches(patterns, i))
}

fn excludes_all(exclude: &Selector, images: &[Found]) -> bool {
    let pure_images = exclude.kinds().is_none()
        && exclude.names().is_none()
        && exclude.namespaces().is_none()
        && exclude.labels().is_empty()
        && exclude.sources().is_none();
    let Some(patterns) = exclude.images() else {
        return false;
    };
    pure_images
        && images
            .iter()
            .all(|f| f.image.as_ref().is_some_and(|i| image_matches(patterns, i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_REGISTRIES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: main-pull\n    credentials: {env: {username: U, password: P}}\n  - server: jobs.example.com\n    secret: jobs-pull\n    credentials: {env: {username: U, password: P}}\n";

    fn config(text: &str) -> Config {
        Config::parse(text, "<test>").unwrap()
    }

    fn map(text: &str) -> Map {
        Yaml::parse_values(text, "<test>").unwrap()
    }

    fn files(entries: &[(&str, &str)]) -> Files {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn chart(entries: &[(&str, &str)]) -> Chart {
        Chart::from_files(&files(entries), "test").unwrap()
    }

    fn key<'p>(plan: &'p ValuesOverride, dotted: &str) -> &'p KeyPlan {
        plan.keys
            .iter()
            .find(|k| k.dotted() == dotted)
            .unwrap_or_else(|| panic!("no key {dotted} in {:#?}", plan.keys))
    }

    fn body(plan: &ValuesOverride) -> String {
        plan.to_yaml("").unwrap()
    }

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let mut builder = tar::Builder::new(gz);
        for (path, content) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *content).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn yaml_keeps_order_types_and_stringifies_scalar_keys() {
        // `on` is a YAML 1.1 boolean, as in Helm 3's YAML library; quoted, it is a string.
        let v = map("b: 1\na: [x, {name: y}]\n3: true\nf: 1.5\nnone: ~\non: 1\n'off': 2\n");
        assert_eq!(
            v.keys().collect::<Vec<_>>(),
            ["b", "a", "3", "f", "none", "true", "off"],
            "file order"
        );
        assert_eq!(v["b"], Yaml::Int(1));
        assert_eq!(v["3"], Yaml::Bool(true));
        assert_eq!(v["none"], Yaml::Null);
        let out = serde_saphyr::to_string(&Yaml::Map(v.clone())).unwrap();
        assert_eq!(map(&out), v, "round trip through {out}");
        assert!(matches!(
            Yaml::parse_values("- a\n", "f.yaml"),
            Err(ValuesError::NotAMapping { .. })
        ));
        assert_eq!(
            Yaml::parse_values("# only a comment\n", "f").unwrap(),
            Map::new()
        );
    }

    #[test]
    fn user_files_merge_like_helm() {
        let merged = merge_user_values([
            map("a: {x: 1, list: [1, 2]}\nb: keep\n"),
            map("a: {y: 2, list: [3]}\nc: new\n"),
        ]);
        assert_eq!(
            merged,
            map("a: {x: 1, list: [3], y: 2}\nb: keep\nc: new\n"),
            "maps merge, lists are replaced, later files win"
        );
    }

    #[test]
    fn user_null_deletes_a_default() {
        let mut tree = map("a: null\nb: {c: null}\n");
        coalesce(&mut tree, &map("a: 1\nb: {c: 2, d: 3}\ne: 4\n"));
        assert_eq!(tree, map("b: {d: 3}\ne: 4\n"));
    }

    /// An umbrella with every way of taking pull secrets; the expected override is the whole
    /// module's behaviour in one place.
    fn umbrella() -> Chart {
        chart(&[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: top\nversion: 1.2.3\ndependencies:\n  - name: api\n  - name: old\n    alias: legacy\n  - name: cache\n",
            ),
            (
                "values.yaml",
                "imagePullSecrets: []\nglobal:\n  imagePullSecrets: []\ngateway:\n  image: {registry: registry.example.com, repository: top/gateway, tag: '1'}\n",
            ),
            ("templates/gateway.yaml", "{{ .Values.imagePullSecrets }}"),
            ("charts/api/Chart.yaml", "name: api\nversion: 0.1.0\n"),
            (
                "charts/api/values.yaml",
                "image: registry.example.com/api:2\nimagePullSecrets: []\nscheduler:\n  config:\n    runnerImage: jobs.example.com/runner:1\n    imagePullSecrets: []\n",
            ),
            (
                "charts/api/templates/d.yaml",
                "{{ concat .Values.global.imagePullSecrets .Values.imagePullSecrets }}",
            ),
            ("charts/old/Chart.yaml", "name: old\nversion: 0.1.0\n"),
            (
                "charts/old/values.yaml",
                "image: {repository: registry.example.com/old, tag: '0.9'}\nimagePullSecrets: [mirror]\n",
            ),
            ("charts/cache/Chart.yaml", "name: cache\nversion: 0.1.0\n"),
            (
                "charts/cache/values.yaml",
                "image: {repository: redis, tag: '7'}\nimagePullSecrets: []\n",
            ),
        ])
    }

    #[test]
    fn umbrella_override() {
        let plan = plan_override(&umbrella(), &Map::new(), &config(TWO_REGISTRIES)).unwrap();
        assert_eq!(
            body(&plan),
            "imagePullSecrets:\n- name: main-pull\nglobal:\n  imagePullSecrets:\n  - name: main-pull\napi:\n  imagePullSecrets:\n  - name: main-pull\n  scheduler:\n    config:\n      imagePullSecrets:\n      - name: jobs-pull\nlegacy:\n  imagePullSecrets:\n  - mirror\n  - main-pull\n"
        );
        // The nested key owns the runner image: the api pod does not get jobs-pull.
        assert_eq!(
            key(&plan, "api.imagePullSecrets").basis,
            Basis::Images {
                hosts: vec!["registry.example.com".into()]
            }
        );
        // Only api reads global.imagePullSecrets: its images decide.
        assert_eq!(key(&plan, "global.imagePullSecrets").wanted, ["main-pull"]);
        // Docker Hub is not in the rules: found, but nothing to add, so not in the output.
        let cache = key(&plan, "cache.imagePullSecrets");
        assert!(cache.wanted.is_empty() && cache.added.is_empty());
        assert_eq!(
            cache.basis,
            Basis::Images {
                hosts: vec!["docker.io".into()]
            }
        );
    }

    #[test]
    fn user_entries_are_kept_in_order_and_never_duplicated() {
        let user = merge_user_values([
            map("api: {imagePullSecrets: [{name: team}, {name: main-pull}]}\n"),
            map(
                "imagePullSecrets: [{name: other}]\nlegacy: {imagePullSecrets: [main-pull, x, x]}\n",
            ),
        ]);
        let plan = plan_override(&umbrella(), &user, &config(TWO_REGISTRIES)).unwrap();
        let api = key(&plan, "api.imagePullSecrets");
        assert_eq!(api.added, Vec::<String>::new(), "already there");
        let top = key(&plan, "imagePullSecrets");
        assert_eq!(
            top.list(),
            vec![
                Yaml::Map(map("name: other")),
                Yaml::Map(map("name: main-pull"))
            ]
        );
        let legacy = key(&plan, "legacy.imagePullSecrets");
        assert_eq!(
            legacy.list(),
            vec![Yaml::Str("main-pull".into()), Yaml::Str("x".into())],
            "the user's list replaces the default; duplicates collapse"
        );
        let out = body(&plan);
        assert!(!out.contains("api:\n  imagePullSecrets"), "{out}");
    }

    #[test]
    fn shape_follows_the_list_then_the_default() {
        let c = chart(&[
            ("Chart.yaml", "name: c\nversion: 1\n"),
            (
                "values.yaml",
                "image: registry.example.com/c:1\nimagePullSecrets: [a]\nother:\n  image: registry.example.com/o:1\n  imagePullSecrets:\n",
            ),
        ]);
        // The user emptied the plain-string list: the chart's default still says plain.
        let user = map("imagePullSecrets: []\n");
        let plan = plan_override(&c, &user, &config(TWO_REGISTRIES)).unwrap();
        assert_eq!(key(&plan, "imagePullSecrets").shape, ItemShape::Plain);
        assert_eq!(
            key(&plan, "imagePullSecrets").list(),
            vec![Yaml::Str("main-pull".into())]
        );
        // `imagePullSecrets:` (null) is an empty list of `{name: x}`.
        assert_eq!(
            key(&plan, "other.imagePullSecrets").list(),
            vec![Yaml::Map(map("name: main-pull"))]
        );
    }

    #[test]
    fn image_forms() {
        let c = chart(&[
            ("Chart.yaml", "name: c\nversion: 1\n"),
            (
                "values.yaml",
                concat!(
                    "global: {image: {registry: mirror.example.com}}\n",
                    "a: {image: {registry: r1.example.com, repository: x/a}, imagePullSecrets: []}\n",
                    "b: {image: {name: r2.example.com/b, version: '1'}, imagePullSecrets: []}\n",
                    "c: {image: 'r3.example.com:5000/c:1', imagePullSecrets: []}\n",
                    "d: {image: {image: ingress-nginx/controller, tag: v1, digest: 'sha256:0123456789012345678901234567890123456789012345678901234567890123'}, imagePullSecrets: []}\n",
                    "e: {image: {registry: '', repository: nginx}, imagePullSecrets: []}\n",
                    "f: {initImage: 'r4.example.com/i:1', imagePullSecrets: []}\n",
                    "g: {settings: {url: 'https://example.com'}, imagePullSecrets: []}\n",
                    "h: {image: '{{ .Values.x }}', imagePullSecrets: []}\n",
                    "i: {image: {registry: r5.example.com}, imagePullSecrets: []}\n",
                ),
            ),
        ]);
        let plan = plan_override(&c, &Map::new(), &config(TWO_REGISTRIES)).unwrap();
        let hosts = |k: &str| match &key(&plan, &format!("{k}.imagePullSecrets")).basis {
            Basis::Images { hosts } => hosts.join(","),
            Basis::Undetermined => "?".into(),
        };
        assert_eq!(hosts("a"), "r1.example.com");
        assert_eq!(hosts("b"), "r2.example.com");
        assert_eq!(hosts("c"), "r3.example.com:5000");
        assert_eq!(hosts("d"), "mirror.example.com", "global registry default");
        assert_eq!(
            hosts("e"),
            "mirror.example.com",
            "empty registry falls back too"
        );
        assert_eq!(hosts("f"), "r4.example.com");
        assert_eq!(hosts("g"), "?");
        assert_eq!(hosts("h"), "?", "templated strings are not images");
        assert_eq!(hosts("i"), "r5.example.com");
        // Undetermined: every secret of the rules.
        assert_eq!(
            key(&plan, "g.imagePullSecrets").wanted,
            ["main-pull", "jobs-pull"]
        );
    }

    /// Seed 001 (Cloudforet's "imagePullSecrets" page), done by the tool: the same override
    /// the page has users write by hand.
    #[test]
    fn cloudforet_seed() {
        let c = chart(&[
            (
                "Chart.yaml",
                "name: spaceone\nversion: 2.0.0\ndependencies: [{name: console}, {name: supervisor}]\n",
            ),
            ("charts/console/Chart.yaml", "name: console\nversion: 1\n"),
            (
                "charts/console/values.yaml",
                "enable: true\nimage: {name: spaceone/console, version: x.y.z}\nimagePullSecrets: []\n",
            ),
            (
                "charts/supervisor/Chart.yaml",
                "name: supervisor\nversion: 1\n",
            ),
            (
                "charts/supervisor/values.yaml",
                "enabled: true\nimage: {name: spaceone/supervisor, version: x.y.z}\nimagePullSecrets: []\napplication_scheduler:\n  CONNECTORS:\n    KubernetesConnector:\n      namespace: spaceone-plugin\n      imagePullSecrets: []\n",
            ),
        ]);
        let rules = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: docker.io\n    secret: my-credential\n    credentials: {env: {username: U, password: P}}\n";
        let plan = plan_override(&c, &Map::new(), &config(rules)).unwrap();
        assert_eq!(
            plan.values(),
            map(concat!(
                "console: {imagePullSecrets: [{name: my-credential}]}\n",
                "supervisor:\n",
                "  imagePullSecrets: [{name: my-credential}]\n",
                "  application_scheduler: {CONNECTORS: {KubernetesConnector: {imagePullSecrets: [{name: my-credential}]}}}\n",
            ))
        );
        // The plugin pods' images are not in the values: every secret of the rules.
        assert_eq!(
            key(
                &plan,
                "supervisor.application_scheduler.CONNECTORS.KubernetesConnector.imagePullSecrets"
            )
            .basis,
            Basis::Undetermined
        );
    }

    #[test]
    fn registry_less_images_default_to_docker_hub() {
        let c = chart(&[
            ("Chart.yaml", "name: c\nversion: 1\n"),
            (
                "values.yaml",
                "image: {name: spaceone/console, version: x}\nimagePullSecrets: []\n",
            ),
        ]);
        let rules = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: index.docker.io\n    secret: hub\n    credentials: {env: {username: U, password: P}}\n";
        let plan = plan_override(&c, &Map::new(), &config(rules)).unwrap();
        assert_eq!(key(&plan, "imagePullSecrets").added, ["hub"]);
    }

    #[test]
    fn rules_with_image_patterns_and_explicit_secrets() {
        let rules = format!(
            "{TWO_REGISTRIES}rules:\n  - name: jobs\n    match: {{images: ['jobs.example.com/**']}}\n    secrets: [jobs-pull, main-pull]\n  - name: kinds-only\n    match: {{kinds: [CronJob]}}\n    exclude: {{images: ['registry.example.com/**']}}\n"
        );
        let plan = plan_override(&umbrella(), &Map::new(), &config(&rules)).unwrap();
        // The runner image matches rule `jobs`; rule `kinds-only` cannot be judged from values
        // and would match, but its exclude holds for every image of the scope.
        assert_eq!(
            key(&plan, "api.scheduler.config.imagePullSecrets").wanted,
            ["jobs-pull", "main-pull"]
        );
        assert_eq!(
            key(&plan, "api.imagePullSecrets").wanted,
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_chart_without_keys_is_an_error() {
        let c = chart(&[
            ("Chart.yaml", "name: plain\nversion: 1.0.0\n"),
            ("values.yaml", "image: registry.example.com/x:1\n"),
        ]);
        let err = plan_override(&c, &Map::new(), &config(TWO_REGISTRIES)).unwrap_err();
        assert!(matches!(err, ValuesError::NoPullSecretKeys { .. }));
        assert!(err.to_string().contains("plain 1.0.0"), "{err}");
        // A key the user's values bring counts: the chart reads it even without a default.
        let user = map("imagePullSecrets: []\n");
        let plan = plan_override(&c, &user, &config(TWO_REGISTRIES)).unwrap();
        assert_eq!(key(&plan, "imagePullSecrets").added, ["main-pull"]);
    }

    #[test]
    fn keys_inside_lists_are_reported_not_touched() {
        let c = chart(&[
            ("Chart.yaml", "name: c\nversion: 1\n"),
            (
                "values.yaml",
                "imagePullSecrets: []\njobs:\n  - name: a\n    imagePullSecrets: []\nbad: {imagePullSecrets: oops}\n",
            ),
        ]);
        let plan = plan_override(&c, &Map::new(), &config(TWO_REGISTRIES)).unwrap();
        assert_eq!(plan.keys.len(), 1);
        assert_eq!(plan.warnings.len(), 2, "{:?}", plan.warnings);
        assert!(
            plan.warnings[0].contains("`jobs[0]`"),
            "{:?}",
            plan.warnings
        );
        assert!(plan.warnings[1].contains("`bad.imagePullSecrets` is a string"));
    }

    #[test]
    fn subchart_values_come_from_parent_and_globals_reach_subcharts() {
        let c = chart(&[
            (
                "Chart.yaml",
                "name: top\nversion: 1\ndependencies: [{name: sub, alias: s}]\n",
            ),
            (
                "values.yaml",
                "global: {imagePullSecrets: [{name: from-top}]}\ns: {imagePullSecrets: [{name: parent-default}]}\n",
            ),
            ("charts/sub/Chart.yaml", "name: sub\nversion: 1\n"),
            (
                "charts/sub/values.yaml",
                "global: {imagePullSecrets: [{name: from-sub}], image: {registry: registry.example.com}}\nimage: {repository: s}\nimagePullSecrets: [{name: sub-default}]\n",
            ),
            (
                "charts/sub/templates/x.yaml",
                "{{ .Values.global.imagePullSecrets }}",
            ),
        ]);
        let plan = plan_override(&c, &Map::new(), &config(TWO_REGISTRIES)).unwrap();
        let s = key(&plan, "s.imagePullSecrets");
        assert_eq!(
            s.existing,
            vec![Yaml::Map(map("name: parent-default"))],
            "the parent's value wins over the subchart default"
        );
        // The subchart's global default registry resolves its registry-less image.
        assert_eq!(s.added, ["main-pull"]);
        let g = key(&plan, "global.imagePullSecrets");
        assert_eq!(
            g.existing,
            vec![Yaml::Map(map("name: from-top"))],
            "the parent's global wins over the subchart's"
        );
        assert_eq!(g.added, ["main-pull"]);
    }

    #[test]
    fn missing_dependency_is_an_error() {
        let err = Chart::from_files(
            &files(&[(
                "Chart.yaml",
                "name: top\nversion: 1\ndependencies: [{name: gone, repository: 'https://x'}]\n",
            )]),
            "top",
        )
        .unwrap_err();
        assert!(err.to_string().contains("`gone`"), "{err}");
        assert!(err.to_string().contains("helm dependency build"), "{err}");
    }

    #[test]
    fn packaged_charts_and_subcharts() {
        let sub = tgz(&[
            ("sub/Chart.yaml", b"name: sub\nversion: 1\n"),
            (
                "sub/values.yaml",
                b"image: registry.example.com/s:1\nimagePullSecrets: []\n",
            ),
            ("sub/files/big.json", b"{}"),
        ]);
        let top = tgz(&[
            ("top/Chart.yaml", b"name: top\nversion: 1\n"),
            ("top/values.yaml", b"{}\n"),
            ("top/charts/sub-1.tgz", &sub),
        ]);
        let files = unpack_tgz(&top, "top.tgz").unwrap();
        assert_eq!(
            files.keys().collect::<Vec<_>>(),
            ["Chart.yaml", "charts/sub-1.tgz", "values.yaml"]
        );
        let c = Chart::from_files(&files, "top.tgz").unwrap();
        assert_eq!(c.subcharts[0].0, "sub");
        let plan = plan_override(&c, &Map::new(), &config(TWO_REGISTRIES)).unwrap();
        assert_eq!(key(&plan, "sub.imagePullSecrets").added, ["main-pull"]);
    }

    #[test]
    fn wanted_files() {
        for yes in [
            "Chart.yaml",
            "values.yaml",
            "templates/a/b.yaml",
            "charts/x.tgz",
            "charts/x/Chart.yaml",
            "charts/x/charts/y/templates/z.tpl",
        ] {
            assert!(wanted(yes), "{yes}");
        }
        for no in [
            "README.md",
            "files/a.json",
            "charts/x/files/a",
            "charts/README",
        ] {
            assert!(!wanted(no), "{no}");
        }
    }

    #[test]
    fn header_lines_become_comments() {
        let plan = plan_override(&umbrella(), &Map::new(), &config(TWO_REGISTRIES)).unwrap();
        let text = plan.to_yaml("Generated by x\n\nsecond").unwrap();
        assert!(
            text.starts_with("# Generated by x\n#\n# second\nimagePullSecrets:\n"),
            "{text}"
        );
        assert_eq!(
            Yaml::parse_values(&text, "out").unwrap(),
            plan.values(),
            "the output reads back as the override"
        );
    }
}
