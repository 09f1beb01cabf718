//! Candidate keys: every values key that may take pull secrets, found three ways — keys of the
//! values Helm computed (`imagePullSecrets`, `image.pullSecrets`, `imagePullSecretsNames`, …),
//! keys the templates read without a default, and keys the chart's `values.schema.json` declares.
//! A candidate is only a guess: the probe render decides which pods each one reaches.

use super::chart::{Chart, instances};
use super::tree::{Map, Yaml};

/// The key name charts use most; the one the old heuristic knew.
pub const KEY: &str = "imagePullSecrets";

/// Key names that take pull secrets: `imagePullSecrets`, `pullSecrets`, `imagePullSecretNames`,
/// `imagePullSecretsNames`, `image_pull_secrets`, …
pub fn is_pull_secret_key(name: &str) -> bool {
    let lower: String = name
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    lower.contains("pullsecret")
}

/// How a list's items are written: the rules' `target.itemShape`, the same two shapes (`- name: x`
/// what a pod spec takes, most charts passing the list through `toYaml`; `- x` for charts whose
/// templates write `- name: {{ . }}` or whose schema says string).
pub use crate::rules::ItemShape;

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// From the top of the values; a global key is `global.…` whichever chart declared it.
    pub path: Vec<String>,
    /// The entries Helm uses without the override.
    pub existing: Vec<Yaml>,
    /// What the chart says the items are (schema, then existing or default items).
    pub shape: Option<ItemShape>,
    /// The schema fixes the shape: never flip it after a probe.
    pub schema_shape: bool,
    /// The key holds one name as a string (`imagePullSecret: ""`), not a list.
    pub single: bool,
}

impl Candidate {
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    pub fn is_global(&self) -> bool {
        self.path.first().is_some_and(|p| p == "global")
    }
}

pub fn get<'t>(tree: &'t Map, path: &[String]) -> Option<&'t Yaml> {
    let (first, rest) = path.split_first()?;
    let value = tree.get(first)?;
    if rest.is_empty() {
        Some(value)
    } else {
        get(value.as_map()?, rest)
    }
}

pub fn get_map<'t>(tree: &'t Map, path: &[String]) -> Option<&'t Map> {
    if path.is_empty() {
        Some(tree)
    } else {
        get(tree, path)?.as_map()
    }
}

fn shape_of(items: &[Yaml]) -> Option<ItemShape> {
    items.iter().find_map(|i| match i {
        Yaml::Str(_) => Some(ItemShape::Plain),
        Yaml::Map(_) => Some(ItemShape::NameRef),
        _ => None,
    })
}

/// Every candidate of `chart` given the values Helm computed; warnings for keys a values file
/// cannot set (inside list items) or that are not lists.
pub fn candidates(chart: &Chart, values: &Map) -> (Vec<Candidate>, Vec<String>) {
    // Each path with the item shape its schema gives, if any; keys holding one string.
    let mut singles: Vec<Vec<String>> = Vec::new();
    let mut found: Vec<(Vec<String>, Option<ItemShape>)> = Vec::new();
    let mut warnings = Vec::new();
    let all = instances(chart);
    let add = |path: Vec<String>, shape: Option<ItemShape>, found: &mut Vec<_>| match found
        .iter_mut()
        .find(|(p, _)| *p == path)
    {
        Some((_, s)) => {
            if shape.is_some() {
                *s = shape;
            }
        }
        None => found.push((path, shape)),
    };
    // A chart's `global` is the top-level one; the subcharts' copies are not keys of their own.
    let normalize = |prefix: &[String], rel: &[String]| -> Vec<String> {
        if rel.first().is_some_and(|k| k == "global") {
            rel.to_vec()
        } else {
            prefix.iter().chain(rel).cloned().collect()
        }
    };
    for (prefix, c) in &all {
        let subkeys: Vec<&str> = c.subcharts.iter().map(|(k, _)| k.as_str()).collect();
        // 1. Keys in the computed values.
        if let Some(scope) = get_map(values, prefix) {
            for (k, v) in scope {
                if subkeys.contains(&k.as_str()) || (k == "global" && !prefix.is_empty()) {
                    continue;
                }
                let mut rel = vec![k.clone()];
                let mut in_lists = Vec::new();
                walk(
                    v,
                    &mut rel,
                    &mut |rel, value| {
                        let path = normalize(prefix, rel);
                        match value {
                            Yaml::Seq(_) | Yaml::Null => add(path, None, &mut found),
                            Yaml::Str(_) => singles.push(path),
                            other => warnings.push(format!(
                                "`{}` is {}, not a list of pull secrets; left alone",
                                path.join("."),
                                other.type_name()
                            )),
                        }
                    },
                    &mut |rel, i| {
                        in_lists.push(format!(
                            "`{}[{i}]` holds a pull secret key inside a list item; a values file \
                         can only replace the whole list, so it is left alone",
                            normalize(prefix, rel).join(".")
                        ));
                    },
                );
                warnings.append(&mut in_lists);
            }
        }
        // 2. Keys the templates read, where their parent mapping exists (creating a parent
        //    could switch a feature on: `{{ if .Values.image }}`).
        for rel in &c.template_keys {
            let path = normalize(prefix, rel);
            let parent = &path[..path.len() - 1];
            let parent_ok =
                parent.is_empty() || parent == ["global"] || get_map(values, parent).is_some();
            if parent_ok
                && !matches!(get(values, &path), Some(v) if !matches!(v, Yaml::Seq(_) | Yaml::Null))
            {
                add(path, None, &mut found);
            }
        }
        // 3. Keys the schema declares as lists, with the item type it gives.
        if let Some(schema) = &c.schema {
            let mut rel = Vec::new();
            schema_keys(schema, &mut rel, &mut |rel, shape| {
                let path = normalize(prefix, rel);
                let parent = &path[..path.len() - 1];
                if parent.is_empty() || parent == ["global"] || get_map(values, parent).is_some() {
                    add(path, shape, &mut found);
                }
            });
        }
    }

    let candidates = found
        .into_iter()
        .map(|(path, schema)| {
            let existing = existing_entries(values, &all, &path);
            let default_items = default_entries(chart, &path);
            let shape = schema
                .or_else(|| shape_of(&existing))
                .or_else(|| shape_of(&default_items));
            Candidate {
                path,
                existing,
                shape,
                schema_shape: schema.is_some(),
                single: false,
            }
        })
        .chain(singles.into_iter().map(|path| {
            let existing = match get(values, &path) {
                Some(Yaml::Str(s)) if !s.is_empty() => vec![Yaml::Str(s.clone())],
                _ => Vec::new(),
            };
            Candidate {
                path,
                existing,
                shape: Some(ItemShape::Plain),
                schema_shape: true,
                single: true,
            }
        }))
        .collect();
    (candidates, warnings)
}

fn walk(
    value: &Yaml,
    rel: &mut Vec<String>,
    key: &mut dyn FnMut(&[String], &Yaml),
    in_list: &mut dyn FnMut(&[String], usize),
) {
    if rel.last().is_some_and(|k| is_pull_secret_key(k)) {
        key(rel, value);
        return;
    }
    match value {
        Yaml::Map(map) => {
            for (k, v) in map {
                rel.push(k.clone());
                walk(v, rel, key, in_list);
                rel.pop();
            }
        }
        Yaml::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if contains_key(item) {
                    in_list(rel, i);
                }
            }
        }
        _ => {}
    }
}

fn contains_key(value: &Yaml) -> bool {
    match value {
        Yaml::Map(m) => m
            .iter()
            .any(|(k, v)| is_pull_secret_key(k) || contains_key(v)),
        Yaml::Seq(items) => items.iter().any(contains_key),
        _ => false,
    }
}

/// `properties` of a JSON schema, recursively; a pull secret key of type array gives its item
/// type (`string` → plain names, `object` → `{name: x}`).
fn schema_keys(
    schema: &Yaml,
    rel: &mut Vec<String>,
    found: &mut dyn FnMut(&[String], Option<ItemShape>),
) {
    let Some(props) = schema.get("properties").and_then(Yaml::as_map) else {
        return;
    };
    for (k, prop) in props {
        rel.push(k.clone());
        if is_pull_secret_key(k) {
            let types = type_names(prop);
            if types.iter().any(|t| t == "array") || prop.get("items").is_some() {
                let items = prop.get("items");
                let item_types = items.map(type_names).unwrap_or_default();
                let shape = if item_types.iter().any(|t| t == "string") {
                    Some(ItemShape::Plain)
                } else if item_types.iter().any(|t| t == "object")
                    || items.is_some_and(|i| i.get("properties").is_some())
                {
                    Some(ItemShape::NameRef)
                } else {
                    None
                };
                found(rel, shape);
            }
        } else {
            schema_keys(prop, rel, found);
        }
        rel.pop();
    }
}

fn type_names(schema: &Yaml) -> Vec<String> {
    match schema.get("type") {
        Some(Yaml::Str(t)) => vec![t.clone()],
        Some(Yaml::Seq(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The entries Helm uses for `path` without the override. A global key is seen by every chart
/// as the parent's over its own default; once the override sets the top-level one they all see
/// it, so it keeps whatever any of them saw.
fn existing_entries(values: &Map, all: &[(Vec<String>, &Chart)], path: &[String]) -> Vec<Yaml> {
    let mut items: Vec<Yaml> = Vec::new();
    let mut take = |v: Option<&Yaml>| {
        if let Some(Yaml::Seq(list)) = v {
            for item in list {
                if !items.iter().any(|i| same_entry(i, item)) {
                    items.push(item.clone());
                }
            }
        }
    };
    if path.first().is_some_and(|p| p == "global") {
        for (prefix, _) in all {
            let abs: Vec<String> = prefix.iter().chain(path).cloned().collect();
            take(get(values, &abs));
        }
    } else {
        take(get(values, path));
    }
    items
}

/// The chart's own default for `path` (its shape counts when the user emptied the list).
fn default_entries(chart: &Chart, path: &[String]) -> Vec<Yaml> {
    let mut out = Vec::new();
    for (prefix, c) in instances(chart) {
        let rel = if path.first().is_some_and(|p| p == "global") {
            path
        } else if let Some(rel) = path.strip_prefix(prefix.as_slice()) {
            rel
        } else {
            continue;
        };
        if let Some(Yaml::Seq(items)) = get(&c.values, rel) {
            out.extend(items.iter().cloned());
        }
    }
    out
}

pub fn same_entry(a: &Yaml, b: &Yaml) -> bool {
    match (super::render::entry_name(a), super::render::entry_name(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::archive::{Budget, Files};

    fn chart(entries: &[(&str, &str)]) -> Chart {
        let files: Files = entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect();
        Chart::from_files(&files, "test", &mut Budget::default()).unwrap()
    }

    fn map(text: &str) -> Map {
        Yaml::parse_values(text, "<test>").unwrap()
    }

    #[test]
    fn key_names() {
        for yes in [
            "imagePullSecrets",
            "pullSecrets",
            "imagePullSecretsNames",
            "imagePullSecretNames",
            "image_pull_secrets",
        ] {
            assert!(is_pull_secret_key(yes), "{yes}");
        }
        for no in ["image", "secrets", "pullPolicy", "secretName"] {
            assert!(!is_pull_secret_key(no), "{no}");
        }
    }

    #[test]
    fn candidates_from_values_templates_and_schema() {
        let c = chart(&[
            (
                "Chart.yaml",
                "name: top\nversion: 1\ndependencies: [{name: sub, alias: s}]\n",
            ),
            ("values.yaml", "image: {repository: x, pullSecrets: []}\n"),
            (
                "templates/d.yaml",
                "{{ .Values.controller.imagePullSecretsNames }}{{ .Values.nothere.pullSecrets }}{{ .Values.global.imagePullSecrets }}",
            ),
            (
                "values.schema.json",
                r#"{"properties": {"images": {"type": "object", "properties": {"pullSecrets": {"type": "array", "items": {"type": "string"}}}}}}"#,
            ),
            ("charts/sub/Chart.yaml", "name: sub\nversion: 1\n"),
            (
                "charts/sub/values.yaml",
                "imagePullSecrets: [a]\njobs: [{imagePullSecrets: []}]\n",
            ),
        ]);
        // As Helm computes them: the subchart's defaults under its alias, globals copied.
        let values = map(
            "image: {repository: x, pullSecrets: []}\ncontroller: {}\nimages: {}\nglobal: {}\ns: {imagePullSecrets: [a], jobs: [{imagePullSecrets: []}], global: {}}\n",
        );
        let (found, warnings) = candidates(&c, &values);
        let dotted: Vec<String> = found.iter().map(Candidate::dotted).collect();
        assert_eq!(
            dotted,
            [
                "image.pullSecrets",
                "controller.imagePullSecretsNames",
                "global.imagePullSecrets",
                "images.pullSecrets",
                "s.imagePullSecrets"
            ],
            "`nothere` has no parent mapping"
        );
        assert_eq!(
            found[3].shape,
            Some(ItemShape::Plain),
            "the schema says string"
        );
        assert!(found[3].schema_shape);
        assert_eq!(
            found[4].shape,
            Some(ItemShape::Plain),
            "existing entries are plain"
        );
        assert_eq!(found[4].existing, [Yaml::Str("a".into())]);
        assert_eq!(found[0].shape, None, "nothing says");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("`s.jobs[0]`"), "{warnings:?}");
    }
}
