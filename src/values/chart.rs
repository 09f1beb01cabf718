//! A chart as far as values are concerned: its defaults, schema, what its templates read, and
//! its subcharts under the keys their values live at.

use std::collections::BTreeMap;

use super::ValuesError;
use super::archive::{self, Budget, Files};
use super::keys::is_pull_secret_key;
use super::tree::{Map, Yaml};

#[derive(Debug, Clone)]
pub struct Chart {
    pub name: String,
    pub version: String,
    /// `type: library`: its templates are helpers included by its parent.
    pub library: bool,
    /// Its own `values.yaml`.
    pub values: Map,
    /// Its `values.schema.json`, if any.
    pub schema: Option<Yaml>,
    /// Subcharts with the key their values live under in this chart's values (alias or name).
    pub subcharts: Vec<(String, Chart)>,
    /// `.Values.a.b.imagePullSecrets`-like paths its templates read (relative to its values).
    pub template_keys: Vec<Vec<String>>,
    /// For messages: path, or `parent.tgz/charts/sub`.
    pub origin: String,
    /// Its `values.yaml` could not be read here. Helm computes the values itself, so this only
    /// loses the defaults' item shapes; if Helm cannot read it either, its render says so.
    pub values_problem: Option<String>,
}

#[derive(Debug, Default)]
struct ChartMeta {
    name: Option<String>,
    version: Option<String>,
    library: bool,
    dependencies: Vec<(String, Option<String>)>,
}

fn meta_of(text: &str, origin: &str) -> Result<ChartMeta, ValuesError> {
    let doc = Yaml::parse(text, origin)?;
    let bad = |message: &str| ValuesError::ChartYaml {
        origin: origin.to_string(),
        message: message.to_string(),
    };
    let Yaml::Map(m) = doc else {
        if doc == Yaml::Null {
            return Ok(ChartMeta::default());
        }
        return Err(bad("not a mapping"));
    };
    let mut meta = ChartMeta {
        name: m.get("name").and_then(Yaml::scalar_text),
        version: m.get("version").and_then(Yaml::scalar_text),
        library: m.get("type").and_then(Yaml::as_str) == Some("library"),
        dependencies: Vec::new(),
    };
    if let Some(deps) = m.get("dependencies") {
        let Some(deps) = deps.as_seq() else {
            return Err(bad("`dependencies` is not a list"));
        };
        for dep in deps {
            let name = dep
                .get("name")
                .and_then(Yaml::scalar_text)
                .ok_or_else(|| bad("a dependency without `name`"))?;
            let alias = dep
                .get("alias")
                .and_then(Yaml::scalar_text)
                .filter(|a| !a.is_empty());
            meta.dependencies.push((name, alias));
        }
    }
    Ok(meta)
}

/// Only what values need: Chart.yaml, values.yaml, values.schema.json, requirements.yaml,
/// templates and subcharts, recursively. Skips `files/` dashboards and the like.
pub fn wanted(rel: &str) -> bool {
    let mut rest = rel;
    loop {
        match rest.split_once('/') {
            None => {
                return matches!(
                    rest,
                    "Chart.yaml" | "values.yaml" | "values.schema.json" | "requirements.yaml"
                );
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

/// `.Values.x.y` paths in template text whose last key takes pull secrets.
fn template_keys(text: &str, out: &mut Vec<Vec<String>>) {
    let mut rest = text;
    while let Some(at) = rest.find(".Values.") {
        rest = &rest[at + ".Values.".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        let path: Vec<String> = rest[..end]
            .split('.')
            .take_while(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(pos) = path.iter().position(|p| is_pull_secret_key(p)) {
            let path = path[..=pos].to_vec();
            if !out.contains(&path) {
                out.push(path);
            }
        }
        rest = &rest[end..];
    }
}

impl Chart {
    /// Builds a chart from its files; `charts/*.tgz` are unpacked in memory within `budget`.
    pub fn from_files(
        files: &Files,
        origin: &str,
        budget: &mut Budget,
    ) -> Result<Chart, ValuesError> {
        let text = |rel: &str| {
            files
                .get(rel)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let chart_yaml = text("Chart.yaml").ok_or_else(|| ValuesError::NoChartYaml {
            origin: origin.to_string(),
        })?;
        let chart_origin = format!("{origin}/Chart.yaml");
        let meta = meta_of(&chart_yaml, &chart_origin)?;
        let name = meta.name.clone().ok_or_else(|| ValuesError::ChartYaml {
            origin: chart_origin.clone(),
            message: "no `name`".into(),
        })?;
        let mut dependencies = meta.dependencies;
        // apiVersion v1 charts list them in requirements.yaml.
        if dependencies.is_empty()
            && let Some(req) = text("requirements.yaml")
        {
            dependencies = meta_of(&req, &format!("{origin}/requirements.yaml"))?.dependencies;
        }
        let (values, values_problem) = match text("values.yaml")
            .map(|t| Yaml::parse_values(&t, &format!("{origin}/values.yaml")))
        {
            Some(Ok(values)) => (values, None),
            Some(Err(e)) => (Map::new(), Some(e.to_string())),
            None => (Map::new(), None),
        };
        let schema = match files.get("values.schema.json") {
            Some(bytes) => Some(Yaml::from_json(serde_json::from_slice(bytes).map_err(
                |e| ValuesError::Yaml {
                    origin: format!("{origin}/values.schema.json"),
                    message: e.to_string(),
                },
            )?)),
            None => None,
        };
        let mut keys = Vec::new();
        for (rel, bytes) in files {
            if rel.starts_with("templates/") {
                template_keys(&String::from_utf8_lossy(bytes), &mut keys);
            }
        }

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
                    let sub_files = archive::unpack_tgz(&bytes[..], &sub_origin, budget)?;
                    let sub_files = sub_files.into_iter().filter(|(r, _)| wanted(r)).collect();
                    loaded.push(Chart::from_files(&sub_files, &sub_origin, budget)?);
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
                    budget,
                )?);
            }
        }

        let mut subcharts = Vec::new();
        for (dep, alias) in &dependencies {
            let Some(chart) = loaded.iter().find(|c| &c.name == dep) else {
                return Err(ValuesError::MissingDependency {
                    origin: chart_origin,
                    name: dep.clone(),
                });
            };
            subcharts.push((alias.clone().unwrap_or_else(|| dep.clone()), chart.clone()));
        }
        // Helm loads every chart under charts/, listed or not.
        for chart in loaded {
            if !dependencies.iter().any(|(d, _)| *d == chart.name) {
                subcharts.push((chart.name.clone(), chart));
            }
        }

        Ok(Chart {
            name,
            version: meta.version.unwrap_or_default(),
            library: meta.library,
            values,
            schema,
            subcharts,
            template_keys: keys,
            origin: origin.to_string(),
            values_problem,
        })
    }

    /// `name version`, for messages.
    pub fn title(&self) -> String {
        format!("{} {}", self.name, self.version).trim().to_string()
    }
}

/// Every chart of the tree, parents before their subcharts, subcharts in dependency order.
pub fn instances(chart: &Chart) -> Vec<(Vec<String>, &Chart)> {
    fn walk<'c>(chart: &'c Chart, prefix: Vec<String>, out: &mut Vec<(Vec<String>, &'c Chart)>) {
        out.push((prefix.clone(), chart));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_files() {
        for yes in [
            "Chart.yaml",
            "values.yaml",
            "values.schema.json",
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
    fn keys_the_templates_read() {
        let mut out = Vec::new();
        template_keys(
            "{{- with .Values.image.pullSecrets }}{{ toYaml .Values.global.imagePullSecrets }}\
             {{ .Values.controller.imagePullSecretsNames | toYaml }}{{ .Values.image.tag }}\
             {{ $.Values.images.pullSecrets }}{{ .Values.image.pullSecrets }}",
            &mut out,
        );
        let dotted: Vec<String> = out.iter().map(|p| p.join(".")).collect();
        assert_eq!(
            dotted,
            [
                "image.pullSecrets",
                "global.imagePullSecrets",
                "controller.imagePullSecretsNames",
                "images.pullSecrets"
            ]
        );
    }

    #[test]
    fn missing_dependency_is_an_error() {
        let files: Files = [(
            "Chart.yaml".to_string(),
            b"name: top\nversion: 1\ndependencies: [{name: gone, repository: 'https://x'}]\n"
                .to_vec(),
        )]
        .into();
        let err = Chart::from_files(&files, "top", &mut Budget::default()).unwrap_err();
        assert!(err.to_string().contains("`gone`"), "{err}");
        assert!(err.to_string().contains("helm dependency build"), "{err}");
    }
}
