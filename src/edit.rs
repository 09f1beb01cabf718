//! Minimal text edits: add entries to a list in a YAML mapping without re-serializing anything.
//!
//! Each function looks at the span tree of a document and returns [`Edit`]s against the stream's
//! text. The edits follow the style already there: block lists get block items at the column of
//! the existing dashes, flow lists get `, {name: x}` before their `]`, and a new key gets the
//! indentation of its sibling keys and the list style the document uses for `containers`.

use std::ops::Range;

use crate::yaml::{Node, Value};

/// Replace `range` of the stream's text with `text` (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

/// How one list item is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ItemShape {
    /// `{name: x}`, a LocalObjectReference: what pod specs and most CRDs take.
    #[default]
    NameRef,
    /// A plain string `x`, for the configs that list bare secret names.
    Plain,
}

/// Why a list could not be extended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditProblem {
    /// The key exists but holds something other than a list or null.
    NotAList { found: &'static str, line: usize },
    /// The key or its parent is an alias: editing would change the anchored node elsewhere.
    Alias { line: usize },
    /// The parent is not a mapping.
    ParentNotAMapping { found: &'static str, line: usize },
}

/// The names already in the list at `parent[key]` (empty when the key is missing or null).
pub fn existing_names(parent: &Node, key: &str) -> Result<Vec<String>, EditProblem> {
    let Some(list) = parent.get(key) else {
        return Ok(Vec::new());
    };
    match &list.value {
        _ if list.is_null() => Ok(Vec::new()),
        Value::Seq { items, .. } => Ok(items
            .iter()
            .filter_map(item_name)
            .map(str::to_string)
            .collect()),
        Value::Alias => Err(EditProblem::Alias { line: list.line }),
        _ => Err(EditProblem::NotAList {
            found: list.type_name(),
            line: list.line,
        }),
    }
}

/// A list item's secret name: `{name: x}` or a bare `x`.
fn item_name(item: &Node) -> Option<&str> {
    match &item.value {
        Value::Map { .. } => item.get("name")?.as_str(),
        Value::Scalar(_) if !item.is_null() => item.as_str(),
        _ => None,
    }
}

/// Edits that append `names` to the list at `parent[key]`, creating the key when missing.
/// `names` must already exclude what the list holds (see [`existing_names`]).
pub fn append_to_list(
    text: &str,
    newline: &str,
    parent: &Node,
    key: &str,
    names: &[&str],
    shape: ItemShape,
) -> Result<Vec<Edit>, EditProblem> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let entries = match &parent.value {
        Value::Map { entries, .. } => entries,
        Value::Alias => return Err(EditProblem::Alias { line: parent.line }),
        _ => {
            return Err(EditProblem::ParentNotAMapping {
                found: parent.type_name(),
                line: parent.line,
            });
        }
    };
    let edit = match parent.entry(key) {
        None => add_key(text, newline, parent, entries, key, names, shape),
        Some((key_node, list)) => match &list.value {
            Value::Seq { items, flow: true } => {
                let (at, sep) = match items.last() {
                    Some(last) => (last.end, ", "),
                    None => (list.start + 1, ""),
                };
                insert(at, format!("{sep}{}", flow_items(names, shape)))
            }
            Value::Seq { flow: false, .. } => {
                // A block list starts at its first dash: new items go under it, same column.
                let at = line_end(text, list.end);
                let indent = " ".repeat(list.col);
                at_line_end(
                    text,
                    at,
                    newline,
                    block_items(&indent, newline, names, shape),
                )
            }
            Value::Scalar(s) if list.is_null() => {
                let flow = format!("[{}]", flow_items(names, shape));
                if s.text.is_empty() {
                    // `key:` with nothing after it: the empty scalar has no text of its own, so
                    // write the list right after the colon.
                    let colon = text[key_node.end..]
                        .find(':')
                        .map_or(key_node.end, |i| key_node.end + i + 1);
                    insert(colon, format!(" {flow}"))
                } else {
                    Edit {
                        range: list.start..list.end,
                        text: flow,
                    }
                }
            }
            Value::Alias => return Err(EditProblem::Alias { line: list.line }),
            _ => {
                return Err(EditProblem::NotAList {
                    found: list.type_name(),
                    line: list.line,
                });
            }
        },
    };
    Ok(vec![edit])
}

fn add_key(
    text: &str,
    newline: &str,
    parent: &Node,
    entries: &[(Node, Node)],
    key: &str,
    names: &[&str],
    shape: ItemShape,
) -> Edit {
    let list = format!("[{}]", flow_items(names, shape));
    if parent.is_flow() {
        return match entries.last() {
            Some((_, last)) => insert(last.end, format!(", {key}: {list}")),
            None => insert(parent.start + 1, format!("{key}: {list}")),
        };
    }
    // A block mapping always has at least one entry (an empty one is written `{}`, flow).
    let (first_key, _) = &entries[0];
    let (_, last_value) = &entries[entries.len() - 1];
    let indent = " ".repeat(first_key.col);
    let dash_indent = " ".repeat(first_key.col + sequence_offset(parent));
    let body = format!(
        "{indent}{key}:{newline}{}",
        block_items(&dash_indent, newline, names, shape)
    );
    at_line_end(text, line_end(text, last_value.end), newline, body)
}

/// How far this document indents block sequences under their key (0 for `key:\n- a`,
/// 2 for `key:\n  - a`), read off the pod spec's own `containers` so added text looks native.
fn sequence_offset(mapping: &Node) -> usize {
    mapping
        .as_map()
        .into_iter()
        .flatten()
        .find_map(|(k, v)| match &v.value {
            Value::Seq { flow: false, items } if !items.is_empty() => {
                Some(v.col.saturating_sub(k.col))
            }
            _ => None,
        })
        .unwrap_or(0)
}

fn block_items(indent: &str, newline: &str, names: &[&str], shape: ItemShape) -> String {
    names
        .iter()
        .map(|name| match shape {
            ItemShape::NameRef => format!("{indent}- name: {}{newline}", scalar(name)),
            ItemShape::Plain => format!("{indent}- {}{newline}", scalar(name)),
        })
        .collect()
}

fn flow_items(names: &[&str], shape: ItemShape) -> String {
    names
        .iter()
        .map(|name| match shape {
            ItemShape::NameRef => format!("{{name: {}}}", scalar(name)),
            ItemShape::Plain => scalar(name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A name as a YAML scalar that reads back as that string: DNS-1123 names are plain-safe unless
/// YAML would resolve them to something else (`true`, `null`, `0123`, `1e3`).
pub fn scalar(name: &str) -> String {
    let plain_safe = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !name.starts_with(['-', '.'])
        && !matches!(
            name,
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "nan" | "inf"
        )
        && !looks_numeric(name);
    if plain_safe {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

fn looks_numeric(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    digits > 0
        && s.bytes().all(|b| {
            b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'-' | b'x' | b'o' | b'a'..=b'f')
        })
        && (s.parse::<f64>().is_ok()
            || s.starts_with("0x")
            || s.starts_with("0o")
            || s.starts_with('0'))
}

fn insert(at: usize, text: String) -> Edit {
    Edit {
        range: at..at,
        text,
    }
}

/// The offset just past the line holding `pos` (or `pos` itself when it already starts a line).
pub fn line_end(text: &str, pos: usize) -> usize {
    if pos == 0 || text.as_bytes()[pos - 1] == b'\n' {
        return pos;
    }
    text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1)
}

/// Insert whole lines at a line end; at the end of a text that has no final newline, start with
/// one and drop the last, so the absence of a trailing newline is kept.
fn at_line_end(text: &str, at: usize, newline: &str, body: String) -> Edit {
    if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
        let body = body.strip_suffix(newline).unwrap_or(&body);
        insert(at, format!("{newline}{body}"))
    } else {
        insert(at, body)
    }
}

/// Apply edits (sorted, non-overlapping) to `text`.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut pos = 0;
    for edit in edits {
        debug_assert!(edit.range.start >= pos, "edits overlap or are unsorted");
        out.push_str(&text[pos..edit.range.start]);
        out.push_str(&edit.text);
        pos = edit.range.end;
    }
    out.push_str(&text[pos..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Origin, Parsed, parse_document};

    fn root(text: &str) -> Node {
        match parse_document(text, Origin { offset: 0, line: 1 }, &|_| true).unwrap() {
            Parsed::Node(n) => n,
            other => panic!("{other:?}"),
        }
    }

    /// Add names to `spec.imagePullSecrets` and return the new text.
    fn add(text: &str, names: &[&str]) -> String {
        let doc = root(text);
        let spec = doc.get("spec").unwrap();
        let have = existing_names(spec, "imagePullSecrets").unwrap();
        let new: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !have.iter().any(|h| h == n))
            .collect();
        let edits = append_to_list(
            text,
            "\n",
            spec,
            "imagePullSecrets",
            &new,
            ItemShape::NameRef,
        )
        .unwrap();
        let out = apply(text, &edits);
        // Every result must parse and hold exactly the old names then the new ones.
        let again = root(&out);
        let got = existing_names(again.get("spec").unwrap(), "imagePullSecrets").unwrap();
        let mut want = have.clone();
        want.extend(new.iter().map(|s| s.to_string()));
        assert_eq!(got, want, "{out}");
        out
    }

    #[test]
    fn new_key_in_block_mapping_follows_containers_style() {
        let text = "spec:\n  containers:\n  - name: a\n    image: x\n# tail\nkind: Pod\n";
        assert_eq!(
            add(text, &["reg"]),
            "spec:\n  containers:\n  - name: a\n    image: x\n  imagePullSecrets:\n  - name: reg\n# tail\nkind: Pod\n"
        );
        let text = "spec:\n  containers:\n    - name: a\n      image: x\n";
        assert_eq!(
            add(text, &["reg", "two"]),
            "spec:\n  containers:\n    - name: a\n      image: x\n  imagePullSecrets:\n    - name: reg\n    - name: two\n"
        );
    }

    #[test]
    fn appends_to_block_list_without_duplicates() {
        let text = "spec:\n  imagePullSecrets:\n    - name: old # keep me\n  containers: []\n";
        assert_eq!(
            add(text, &["old", "new"]),
            "spec:\n  imagePullSecrets:\n    - name: old # keep me\n    - name: new\n  containers: []\n"
        );
    }

    #[test]
    fn flow_lists_and_mappings() {
        assert_eq!(
            add("spec: {containers: [{image: x}]}\n", &["r"]),
            "spec: {containers: [{image: x}], imagePullSecrets: [{name: r}]}\n"
        );
        assert_eq!(
            add("spec: {}\n", &["r"]),
            "spec: {imagePullSecrets: [{name: r}]}\n"
        );
        assert_eq!(
            add("spec:\n  imagePullSecrets: []\n", &["r"]),
            "spec:\n  imagePullSecrets: [{name: r}]\n"
        );
        assert_eq!(
            add("spec:\n  imagePullSecrets: [{name: a},]\n", &["r"]),
            "spec:\n  imagePullSecrets: [{name: a}, {name: r},]\n"
        );
    }

    #[test]
    fn null_values() {
        assert_eq!(
            add("spec:\n  imagePullSecrets:\n  x: 1\n", &["r"]),
            "spec:\n  imagePullSecrets: [{name: r}]\n  x: 1\n"
        );
        assert_eq!(
            add("spec:\n  imagePullSecrets: null\n", &["r"]),
            "spec:\n  imagePullSecrets: [{name: r}]\n"
        );
        assert_eq!(
            add("spec:\n  imagePullSecrets: ~ # none\n", &["r"]),
            "spec:\n  imagePullSecrets: [{name: r}] # none\n"
        );
    }

    #[test]
    fn no_trailing_newline_is_kept() {
        assert_eq!(
            add("spec:\n  a: 1", &["r"]),
            "spec:\n  a: 1\n  imagePullSecrets:\n  - name: r"
        );
    }

    #[test]
    fn after_block_scalar() {
        assert_eq!(
            add("spec:\n  a: |\n    text\n\nnext: 1\n", &["r"]),
            "spec:\n  a: |\n    text\n\n  imagePullSecrets:\n  - name: r\nnext: 1\n"
        );
    }

    #[test]
    fn crlf() {
        let text = "spec:\r\n  a: 1\r\n";
        let doc = root(text);
        let edits = append_to_list(
            text,
            "\r\n",
            doc.get("spec").unwrap(),
            "imagePullSecrets",
            &["r"],
            ItemShape::NameRef,
        )
        .unwrap();
        assert_eq!(
            apply(text, &edits),
            "spec:\r\n  a: 1\r\n  imagePullSecrets:\r\n  - name: r\r\n"
        );
    }

    #[test]
    fn not_a_list() {
        let doc = root("spec:\n  imagePullSecrets: my-secret\n");
        let err = existing_names(doc.get("spec").unwrap(), "imagePullSecrets").unwrap_err();
        assert_eq!(
            err,
            EditProblem::NotAList {
                found: "a scalar",
                line: 2
            }
        );
    }

    #[test]
    fn plain_items() {
        let text = "cfg:\n  secrets:\n  - a\n";
        let doc = root(text);
        let cfg = doc.get("cfg").unwrap();
        assert_eq!(existing_names(cfg, "secrets").unwrap(), ["a"]);
        let edits = append_to_list(text, "\n", cfg, "secrets", &["b"], ItemShape::Plain).unwrap();
        assert_eq!(apply(text, &edits), "cfg:\n  secrets:\n  - a\n  - b\n");
    }

    #[test]
    fn scalars_that_need_quotes() {
        assert_eq!(scalar("regcred"), "regcred");
        assert_eq!(scalar("my.reg-cred1"), "my.reg-cred1");
        assert_eq!(scalar("true"), "'true'");
        assert_eq!(scalar("0123"), "'0123'");
        assert_eq!(scalar("1e3"), "'1e3'");
        assert_eq!(scalar("123"), "'123'");
        assert_eq!(scalar("a b"), "'a b'");
    }
}
