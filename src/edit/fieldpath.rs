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
        // The parser's own message is its grammar's (`--> 1:1 ... expected jp_query`): say
        // instead what is wrong in the user's text and what to write.
        let query = parse_json_path(written).map_err(|_| syntax_problem(written))?;
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
    pub fn resolve<'n, 't>(&self, root: &'n Node<'t>) -> Option<&'n Node<'t>> {
        FieldPath::resolve_steps(root, &self.steps)
    }

    /// The node at these steps, if every step exists.
    pub fn resolve_steps<'n, 't>(root: &'n Node<'t>, steps: &[Step]) -> Option<&'n Node<'t>> {
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

/// What is wrong with a path the JSONPath parser rejected, in the user's terms: the first
/// place the singular subset (`$`, `.name`, `['key']`, `[0]`) cannot read, and the fix.
fn syntax_problem(written: &str) -> String {
    const EXAMPLES: &str =
        "names and indexes, as in `$.spec.imagePullSecrets` or `$.data['app.yaml']`";
    let at = |i: usize, what: String| format!("not a JSONPath at character {}: {what}", i + 1);
    let Some(rest) = written.strip_prefix('$') else {
        let fixed = if written.starts_with('.') || written.starts_with('[') {
            format!("${written}")
        } else {
            format!("$.{written}")
        };
        return format!("not a JSONPath: it must start with `$` (write `{fixed}`)");
    };
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let pos = i + 1; // in `written`
        match bytes[i] {
            b'.' => {
                let name_len = rest[i + 1..]
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len() - i - 1);
                if name_len == 0 {
                    let next = rest[i + 1..].chars().next();
                    return match next {
                        None => at(pos, "the path ends in `.`; name the key after it".into()),
                        Some('.') => at(
                            pos,
                            "`..` may match many places; name each step (`$.a.b.c`)".into(),
                        ),
                        Some(c) => at(
                            pos + 1,
                            format!(
                                "`{c}` cannot start a dotted name; quote the key: `{}['{}']`",
                                &written[..1 + i],
                                key_until_end(&rest[i + 1..])
                            ),
                        ),
                    };
                }
                let end = i + 1 + name_len;
                if let Some(c) = rest[end..].chars().next()
                    && c != '.'
                    && c != '['
                {
                    let key = key_until_end(&rest[i + 1..]);
                    return at(
                        end + 1,
                        format!(
                            "`{c}` cannot appear in a dotted name; quote the key: `{}['{key}']`",
                            &written[..1 + i]
                        ),
                    );
                }
                i = end;
            }
            b'[' => {
                let Some(close) = rest[i..].find(']') else {
                    return at(pos, "this `[` is never closed with `]`".into());
                };
                let inner = rest[i + 1..i + close].trim();
                let quoted = inner.len() >= 2
                    && ((inner.starts_with('\'') && inner.ends_with('\''))
                        || (inner.starts_with('"') && inner.ends_with('"')));
                if !(quoted || inner.chars().all(|c| c.is_ascii_digit()) && !inner.is_empty()) {
                    return at(
                        pos,
                        format!(
                            "`[{inner}]`: inside brackets write a quoted key (`['{}']`) or an index (`[0]`)",
                            inner.trim_matches(['\'', '"'])
                        ),
                    );
                }
                i += close + 1;
            }
            c => {
                return at(
                    pos,
                    format!("`{}` where `.name` or `[...]` should follow", c as char),
                );
            }
        }
    }
    format!("not a JSONPath: write {EXAMPLES}")
}

/// The key text from here to the next `.` or `[` (what the user meant as one name).
fn key_until_end(text: &str) -> &str {
    let end = text.find(['.', '[']).unwrap_or(text.len());
    &text[..end]
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

    #[test]
    fn syntax_errors_in_the_users_terms() {
        let cases = [
            ("spec.x", "it must start with `$` (write `$.spec.x`)"),
            (".spec.x", "(write `$.spec.x`)"),
            (
                "$.data.app-config.yaml",
                "character 11: `-` cannot appear in a dotted name; quote the key: `$.data['app-config']`",
            ),
            ("$.data['app.yaml'", "character 7: this `[` is never closed"),
            (
                "$.a[b]",
                "`[b]`: inside brackets write a quoted key (`['b']`) or an index (`[0]`)",
            ),
            ("$.a.", "the path ends in `.`"),
            (
                "$x",
                "character 2: `x` where `.name` or `[...]` should follow",
            ),
        ];
        for (bad, wanted) in cases {
            let e = FieldPath::parse(bad).unwrap_err();
            assert!(e.contains(wanted), "{bad}: {e}");
            assert!(!e.contains("jp_query") && !e.contains("-->"), "{bad}: {e}");
        }
    }
}
