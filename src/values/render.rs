//! What a `helm template` run says: the pod specs with their pull secret entries, the values
//! Helm computed (from a probe template added to the chart), and where probe markers landed.

use crate::input::stream::Stream;
use crate::kinds;

use super::ValuesError;
use super::tree::{Map, Yaml};

/// The template added to the chart's copy: Helm prints the values its templates see, exactly
/// (user files, `--set`, defaults, subchart defaults and globals, `import-values`).
pub const PROBE_TEMPLATE: &str = "templates/zz-helm-regcred-values-probe.yaml";
const PROBE_NAME: &str = "helm-regcred-values-probe";
pub const PROBE_TEXT: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: helm-regcred-values-probe\ndata:\n  values: {{ toJson .Values | quote }}\n";

/// A pod spec of the rendered chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub kind: String,
    pub name: String,
    /// The template it came from (`# Source:`).
    pub source: Option<String>,
    /// Its `imagePullSecrets` entries as rendered.
    pub entries: Vec<Yaml>,
}

impl Pod {
    /// `Deployment/web (chart/templates/web.yaml)`.
    pub fn title(&self) -> String {
        match &self.source {
            Some(s) => format!("{}/{} ({s})", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    pub fn same(&self, kind: Option<&str>, name: Option<&str>) -> bool {
        kind == Some(self.kind.as_str()) && name == Some(self.name.as_str())
    }

    /// The secret names it lists.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().filter_map(entry_name).collect()
    }
}

/// The secret an entry names: `x` or `{name: x}`.
pub fn entry_name(entry: &Yaml) -> Option<String> {
    match entry {
        Yaml::Str(s) => Some(s.clone()),
        Yaml::Map(m) => m.get("name")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// A document that is not a pod spec, with its text (where a marker may land).
#[derive(Debug, Clone)]
pub struct Other {
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    /// The stream without the probe document.
    pub text: String,
    pub values: Map,
    pub pods: Vec<Pod>,
    pub others: Vec<Other>,
}

pub fn read(output: &str) -> Result<Rendered, ValuesError> {
    let bad = |message: String| ValuesError::Rendered { message };
    let stream = Stream::parse(output.as_bytes()).map_err(|e| bad(e.to_string()))?;
    let mut text = String::new();
    let mut values = None;
    let mut pods = Vec::new();
    let mut others = Vec::new();
    for doc in &stream.docs {
        let doc_text = stream.doc_text(doc);
        let origin = format!(
            "document {} of the rendered chart{}",
            doc.index + 1,
            doc.source
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        );
        let tree = Yaml::parse(doc_text, &origin)?;
        let field = |path: &[&str]| -> Option<String> {
            path.iter()
                .try_fold(&tree, |node, key| node.get(key))
                .and_then(Yaml::as_str)
                .map(str::to_string)
        };
        let kind = field(&["kind"]).unwrap_or_default();
        let name = field(&["metadata", "name"]).unwrap_or_default();
        if kind == "ConfigMap" && name == PROBE_NAME {
            let json = field(&["data", "values"]).unwrap_or_default();
            let parsed: serde_json::Value =
                serde_json::from_str(&json).map_err(|e| bad(format!("probe values: {e}")))?;
            if let Yaml::Map(m) = Yaml::from_json(parsed) {
                values = Some(m);
            }
            continue;
        }
        // Dropping the probe must not join two documents.
        if !doc.explicit_start && !text.is_empty() {
            text.push_str("---\n");
        }
        text.push_str(doc_text);
        if !doc_text.ends_with('\n') {
            text.push('\n');
        }
        let api_version = field(&["apiVersion"]).unwrap_or_default();
        match kinds::pod_spec_path(&api_version, &kind) {
            Some(spec_path) => {
                let spec = spec_path
                    .path
                    .iter()
                    .try_fold(&tree, |node, key| node.get(key));
                let entries = spec
                    .and_then(|s| s.get("imagePullSecrets"))
                    .and_then(Yaml::as_seq)
                    .map(<[Yaml]>::to_vec)
                    .unwrap_or_default();
                pods.push(Pod {
                    kind,
                    name,
                    source: doc.source.clone(),
                    entries,
                });
            }
            None => others.push(Other {
                title: format!("{kind}/{name}"),
                text: doc_text.to_string(),
            }),
        }
    }
    let values = values.ok_or_else(|| bad("the values probe did not render".into()))?;
    Ok(Rendered {
        text,
        values,
        pods,
        others,
    })
}

/// Probe markers: a secret name per candidate key that nothing else contains.
pub fn marker(index: usize) -> String {
    format!("helm-regcred-probe-{index}-x")
}

/// How a marker came out in a pod's `imagePullSecrets` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landed {
    /// `{name: marker}`: the key's item shape is right.
    Named,
    /// `{name: "map[name:marker]"}` or `- map[name:marker]`: the template writes `name: {{ . }}`,
    /// so the key takes plain strings.
    WantsPlain,
    /// `- marker`: the template writes the list as is, so the key takes `{name: x}` items.
    WantsNamed,
}

/// Where marker `m` landed in `entry`, if it did.
pub fn landed(entry: &Yaml, m: &str) -> Option<Landed> {
    let text = match entry {
        Yaml::Str(s) => s.as_str(),
        Yaml::Map(map) => map.get("name").and_then(Yaml::as_str).unwrap_or_default(),
        _ => return None,
    };
    // Marker `…-1-x` must not match inside `…-11-x`.
    let found = text
        .match_indices(m)
        .any(|(at, _)| !text[..at].ends_with(|c: char| c.is_ascii_digit()));
    if !found {
        return None;
    }
    Some(if text.contains("map[") {
        Landed::WantsPlain
    } else if matches!(entry, Yaml::Str(_)) {
        Landed::WantsNamed
    } else {
        Landed::Named
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pods_values_and_other_documents() {
        let out = "---\n# Source: c/templates/zz-helm-regcred-values-probe.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: helm-regcred-values-probe\ndata:\n  values: \"{\\\"a\\\":{\\\"imagePullSecrets\\\":[]}}\"\n---\n# Source: c/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      imagePullSecrets: [{name: x}, z]\n      containers: [{name: c, image: i}]\n---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {a: b}\n";
        let r = read(out).unwrap();
        assert_eq!(
            r.values["a"],
            Yaml::Map(Map::from_iter([(
                "imagePullSecrets".into(),
                Yaml::Seq(vec![])
            )]))
        );
        assert_eq!(r.pods.len(), 1);
        assert_eq!(r.pods[0].title(), "Deployment/web (c/templates/d.yaml)");
        assert_eq!(r.pods[0].names(), ["x", "z"]);
        assert_eq!(r.others[0].title, "ConfigMap/conf");
        assert!(!r.text.contains("probe"), "{}", r.text);
    }

    #[test]
    fn where_markers_land() {
        let m = marker(1);
        let named = Yaml::Map(Map::from_iter([("name".into(), Yaml::Str(m.clone()))]));
        assert_eq!(landed(&named, &m), Some(Landed::Named));
        let go_map = Yaml::Map(Map::from_iter([(
            "name".into(),
            Yaml::Str(format!("map[name:{m}]")),
        )]));
        assert_eq!(landed(&go_map, &m), Some(Landed::WantsPlain));
        assert_eq!(landed(&Yaml::Str(m.clone()), &m), Some(Landed::WantsNamed));
        assert_eq!(landed(&Yaml::Str(marker(11)), &m), None);
    }
}
