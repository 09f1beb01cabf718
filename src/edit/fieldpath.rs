//! Singular JSONPaths (`$.data['application.yaml']`, `$.spec.imagePullSecrets`) naming one place
//! in a document, for rules that target something other than a pod spec.
//!
//! Parsed with jsonpath-rust's RFC 9535 parser, then restricted to the singular subset (names
//! and indexes): an edit has to land in exactly one place, and a missing place must be
//! creatable, which a wildcard or filter cannot say.

use std::fmt;

use jsonpath_rust::parser::model::{Segment, Selector};
use jsonpath_rust::parser::parse_json_path;

use crate::yaml::Node;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub steps: Vec<Step>,
    written: String,
}

impl FieldPath {
    /// Parse a singular JSONPath; the error says what to write instead.
    pub fn parse(written: &str) -> Result<FieldPath, String> {
        let query = parse_json_path(written).map_err(|e| format!("not a JSONPath: {e}"))?;
        let mut steps = Vec::new();
        for segment in query.segments {
            let selector = match segment {
                Segment::Selector(s) => s,
                Segment::Selectors(mut list) if list.len() == 1 => list.remove(0),
                Segment::Descendant(_) => {
                    return Err("`..` may match many places; name each step (`$.a.b.c`)".into());
                }
                Segment::Selectors(_) => {
                    return Err(
                        "a union `[a,b]` names several places; use one path per rule".into(),
                    );
                }
            };
            steps.push(match selector {
                Selector::Name(name) => Step::Key(name),
                Selector::Index(i) if i >= 0 => Step::Index(i as usize),
                Selector::Index(_) => {
                    return Err("negative indexes are not supported; count from the start".into());
                }
                Selector::Wildcard | Selector::Slice(..) | Selector::Filter(_) => {
                    return Err(
                        "wildcards, slices and filters may match many places; use names and \
                         indexes only (`$.spec.imagePullSecrets`, `$.data['app.yaml']`)"
                            .into(),
                    );
                }
            });
        }
        Ok(FieldPath {
            steps,
            written: written.to_string(),
        })
    }

    /// The node at this path, if every step exists.
    pub fn resolve<'n>(&self, root: &'n Node) -> Option<&'n Node> {
        FieldPath::resolve_steps(root, &self.steps)
    }

    /// The node at these steps, if every step exists.
    pub fn resolve_steps<'n>(root: &'n Node, steps: &[Step]) -> Option<&'n Node> {
        steps.iter().try_fold(root, |node, step| match step {
            Step::Key(key) => node.get(key),
            Step::Index(i) => node.as_seq()?.get(*i),
        })
    }

    /// Split into (all but the last step, the last key), for "the list lives at key K of the
    /// mapping at P". `None` when the path is `$` or ends in an index.
    pub fn parent_and_key(&self) -> Option<(&[Step], &str)> {
        match self.steps.split_last()? {
            (Step::Key(key), parent) => Some((parent, key)),
            _ => None,
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singular_paths() {
        let p = FieldPath::parse("$.data['application.yaml']").unwrap();
        assert_eq!(
            p.steps,
            [
                Step::Key("data".into()),
                Step::Key("application.yaml".into())
            ]
        );
        let p = FieldPath::parse("$.spec.containers[0].image").unwrap();
        assert_eq!(p.steps[2], Step::Index(0));
        assert_eq!(p.to_string(), "$.spec.containers[0].image");
        let p = FieldPath::parse("$.CONNECTORS.KubernetesConnector.imagePullSecrets").unwrap();
        assert_eq!(p.parent_and_key().unwrap().1, "imagePullSecrets");
    }

    #[test]
    fn plural_paths_are_refused() {
        for bad in [
            "$..image",
            "$.spec[*]",
            "$.a[0:2]",
            "$.a[?@.b]",
            "$['a','b']",
            "spec.x",
            "$.a[-1]",
        ] {
            assert!(FieldPath::parse(bad).is_err(), "{bad}");
        }
    }
}
