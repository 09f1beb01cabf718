//! Minimal text edits: add entries to a list in a YAML mapping without re-serializing anything.
//!
//! Each function looks at the span tree of a document and returns [`Edit`]s against the stream's
//! text. The edits follow the style already there: block lists get block items at the column of
//! the existing dashes, flow lists get `, {name: x}` before their `]`, and a new key gets the
//! indentation of its sibling keys and the list style the document uses for `containers`.

pub mod document;
pub mod embedded;
pub mod fieldpath;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::ops::Range;

use crate::edit::fieldpath::Step;
pub use crate::error::ItemProblem;
use crate::yaml::{Node, Style, Value, is_plain_safe, yaml_scalar};

/// Replace `range` of the stream's text with `text` (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    /// Shared: a stream of many alike documents gets the same few texts many times, and the
    /// planner keeps one of each (`Planner::add_edits`).
    pub text: std::sync::Arc<str>,
}

/// How one list item is written (`target.itemShape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
pub enum ItemShape {
    /// `{name: x}`, a LocalObjectReference: what pod specs and most CRDs take.
    #[default]
    #[serde(rename = "nameRef")]
    NameRef,
    /// A plain string `x`, for the configs that list bare secret names.
    #[serde(rename = "string")]
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
    /// The key holds a list or mapping where a single value belongs.
    NotAScalar { found: &'static str, line: usize },
    /// A path step indexes a list item that does not exist (items are never invented).
    MissingListItem { line: usize },
    /// An item of the list is not what its schema says: the API server would refuse the
    /// resource, or the kubelet skip the entry, so appending to the list would hide that.
    BadItem {
        index: usize,
        problem: ItemProblem,
        line: usize,
    },
}

/// The names already in the list at `parent[key]` (empty when the key is missing or null).
/// Every item is checked against the list's schema (`shape`): an item the API would refuse or
/// the kubelet skip is a problem, never a name that counts as present.
pub fn existing_names(
    parent: &Node,
    key: &str,
    shape: ItemShape,
) -> Result<Vec<String>, EditProblem> {
    let Some(list) = parent.get(key) else {
        return Ok(Vec::new());
    };
    match &list.value {
        _ if list.is_null() => Ok(Vec::new()),
        Value::Seq { items, .. } => items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                item_name(item, shape).map_err(|problem| EditProblem::BadItem {
                    index,
                    problem,
                    line: item.line,
                })
            })
            .collect(),
        Value::Alias => Err(EditProblem::Alias { line: list.line }),
        _ => Err(EditProblem::NotAList {
            found: list.type_name(),
            line: list.line,
        }),
    }
}

/// A list item's secret name, as its schema has it: `{name: x}` (a LocalObjectReference, as
/// `core/v1` validation reads it: only `name`), or a bare `x` for lists of plain names.
fn item_name(item: &Node, shape: ItemShape) -> Result<String, ItemProblem> {
    if matches!(item.value, Value::Alias) {
        return Err(ItemProblem::Alias);
    }
    match shape {
        ItemShape::NameRef => {
            if item.is_null() {
                return Err(ItemProblem::NoName);
            }
            if !item.is_map() {
                return Err(ItemProblem::NotAReference {
                    found: item.type_name(),
                });
            }
            match item.get("name") {
                None => Err(ItemProblem::NoName),
                Some(name) if matches!(name.value, Value::Alias) => Err(ItemProblem::Alias),
                Some(name) if name.is_null() => Err(ItemProblem::NoName),
                Some(name) => match name.as_str() {
                    Some("") => Err(ItemProblem::NoName),
                    Some(text) => Ok(text.to_string()),
                    None => Err(ItemProblem::NameNotAString {
                        found: name.type_name(),
                    }),
                },
            }
        }
        ItemShape::Plain => match item.as_str() {
            Some(text) if !item.is_null() && !text.is_empty() => Ok(text.to_string()),
            _ => Err(ItemProblem::NotAName {
                found: item.type_name(),
            }),
        },
    }
}

/// The language of an embedded config (`target.format`): `yaml` (the default) or `json`.
// The crate's one YAML-or-JSON type: manifests are YAML; in JSON keys and strings need double
// quotes and everything is flow style; `create-secret -o` writes either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Syntax {
    #[default]
    Yaml,
    Json,
}

impl Syntax {
    /// As the rules file and `-o` write it: `yaml`, `json`.
    pub fn from_name(name: &str) -> Option<Syntax> {
        crate::rules::from_name(name)
    }

    /// For messages: `YAML`, `JSON`.
    pub fn display_name(self) -> &'static str {
        match self {
            Syntax::Yaml => "YAML",
            Syntax::Json => "JSON",
        }
    }
}

/// What to put at the end of a path.
#[derive(Debug, Clone, Copy)]
pub enum Leaf<'a> {
    /// Append these names to the list (which must not already hold them).
    List {
        names: &'a [&'a str],
        shape: ItemShape,
    },
    /// Append these items, already written out (the KRM ResourceList's Secrets and results).
    Items(&'a [ListItem]),
    /// Set a string value.
    Scalar(&'a str),
}

/// One list item written out both ways, so it can join a list of either style: block lines
/// (the first goes after the dash, the rest are relative to the item's column) and flow text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    pub lines: Vec<String>,
    pub flow: String,
}

impl Leaf<'_> {
    /// The items to append (empty for a scalar).
    fn items(&self, syntax: Syntax) -> Vec<ListItem> {
        match *self {
            Leaf::List { names, shape } => names
                .iter()
                .map(|name| ListItem {
                    lines: vec![match shape {
                        ItemShape::NameRef => {
                            format!("name: {}", scalar_text(name, Syntax::Yaml))
                        }
                        ItemShape::Plain => scalar_text(name, Syntax::Yaml),
                    }],
                    flow: match shape {
                        ItemShape::NameRef => format!(
                            "{{{}: {}}}",
                            key_text("name", syntax),
                            scalar_text(name, syntax)
                        ),
                        ItemShape::Plain => scalar_text(name, syntax),
                    },
                })
                .collect(),
            Leaf::Items(items) => items.to_vec(),
            Leaf::Scalar(_) => Vec::new(),
        }
    }
}

/// Edits that append `names` to the list at `parent[key]`, creating the key when missing.
/// `names` must already exclude what the list holds (see [`existing_names`]). `syntax` is the
/// document's: a JSON document gets quoted keys and strings, so it stays JSON.
pub fn append_to_list(
    text: &str,
    newline: &str,
    parent: &Node,
    key: &str,
    names: &[&str],
    shape: ItemShape,
    syntax: Syntax,
) -> Result<Vec<Edit>, EditProblem> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    edit_at(
        text,
        newline,
        parent,
        &[],
        key,
        Leaf::List { names, shape },
        syntax,
    )
}

impl Syntax {
    /// The syntax edits to `node` must be written in: JSON where the resource is a flow
    /// mapping (a JSON document, or a YAML one written like it, where JSON text is valid too),
    /// so that a JSON manifest stays JSON; YAML otherwise.
    pub fn of(node: &Node) -> Syntax {
        if node.is_flow() {
            Syntax::Json
        } else {
            Syntax::Yaml
        }
    }
}

/// Edits that put `leaf` at `root.parents….key`, creating missing mappings on the way.
///
/// Missing parents are created in the document's style (block lines at the right indentation,
/// or flow/JSON text); a list index in `parents` must exist (list items are never invented).
pub fn edit_at(
    text: &str,
    newline: &str,
    root: &Node,
    parents: &[Step],
    key: &str,
    leaf: Leaf,
    syntax: Syntax,
) -> Result<Vec<Edit>, EditProblem> {
    let mut node = root;
    for (i, step) in parents.iter().enumerate() {
        let next = match step {
            Step::Index(n) => match &node.value {
                Value::Seq { items, .. } => items.get(*n),
                _ => None,
            },
            Step::Key(k) => {
                let Some((key_node, child)) = node.entry(k) else {
                    let missing: Vec<&str> = parents[i..]
                        .iter()
                        .map(|s| match s {
                            Step::Key(k) => Some(k.as_str()),
                            Step::Index(_) => None,
                        })
                        .collect::<Option<_>>()
                        .ok_or(EditProblem::MissingListItem { line: node.line })?;
                    return add_keys(text, newline, node, &missing, key, leaf, syntax)
                        .map(|e| vec![e]);
                };
                if child.is_null() {
                    let missing: Vec<&str> = parents[i + 1..]
                        .iter()
                        .filter_map(|s| match s {
                            Step::Key(k) => Some(k.as_str()),
                            Step::Index(_) => None,
                        })
                        .collect();
                    if missing.len() != parents.len() - i - 1 {
                        return Err(EditProblem::MissingListItem { line: child.line });
                    }
                    let value = nested_flow(&missing, key, leaf, syntax);
                    return Ok(vec![replace_null(text, key_node, child, value)]);
                }
                Some(child)
            }
        };
        node = match next {
            Some(n) if n.is_map() => n,
            Some(n) if matches!(n.value, Value::Alias) => {
                return Err(EditProblem::Alias { line: n.line });
            }
            Some(n) => {
                return Err(EditProblem::ParentNotAMapping {
                    found: n.type_name(),
                    line: n.line,
                });
            }
            None => return Err(EditProblem::MissingListItem { line: node.line }),
        };
    }
    match &node.value {
        Value::Map { .. } => {}
        Value::Alias => return Err(EditProblem::Alias { line: node.line }),
        _ => {
            return Err(EditProblem::ParentNotAMapping {
                found: node.type_name(),
                line: node.line,
            });
        }
    }
    let Some((key_node, value)) = node.entry(key) else {
        return add_keys(text, newline, node, &[], key, leaf, syntax).map(|e| vec![e]);
    };
    let edit = match leaf {
        Leaf::Scalar(want) => {
            if value.as_str() == Some(want) && !value.is_null() {
                return Ok(Vec::new());
            }
            match &value.value {
                Value::Scalar(_) if value.is_null() => {
                    replace_null(text, key_node, value, scalar_text(want, syntax))
                }
                Value::Scalar(_) => Edit {
                    range: value.start..value.end,
                    text: scalar_text(want, syntax).into(),
                },
                Value::Alias => return Err(EditProblem::Alias { line: value.line }),
                _ => {
                    return Err(EditProblem::NotAScalar {
                        found: value.type_name(),
                        line: value.line,
                    });
                }
            }
        }
        Leaf::List { .. } | Leaf::Items(_) => {
            let new = leaf.items(syntax);
            if new.is_empty() {
                return Ok(Vec::new());
            }
            match &value.value {
                Value::Seq { items, flow: true } => {
                    let (at, sep) = match items.last() {
                        Some(last) => (last.end, ", "),
                        None => (value.start + 1, ""),
                    };
                    insert(at, format!("{sep}{}", flow_items(&new)))
                }
                Value::Seq { items, flow: false } => {
                    // A block list starts at its first dash: new items go under it, same column,
                    // their content as far after the dash as the first item's (`-   a`).
                    let gap = items
                        .first()
                        .filter(|first| first.line == value.line)
                        .map_or(2, |first| first.col.saturating_sub(value.col))
                        .max(2);
                    let at = line_end(text, value.end);
                    at_line_end(
                        text,
                        at,
                        newline,
                        block_items(value.col, gap, newline, &new),
                    )
                }
                Value::Scalar(_) if value.is_null() => {
                    let list = format!("[{}]", flow_items(&new));
                    replace_null(text, key_node, value, list)
                }
                Value::Alias => return Err(EditProblem::Alias { line: value.line }),
                _ => {
                    return Err(EditProblem::NotAList {
                        found: value.type_name(),
                        line: value.line,
                    });
                }
            }
        }
    };
    Ok(vec![edit])
}

/// Put `value` where a null value is: replace `null`/`~`, or write it after the colon of a
/// `key:` that has nothing after it (the empty scalar has no text of its own).
pub(crate) fn replace_null(text: &str, key_node: &Node, value: &Node, new: String) -> Edit {
    if value.start < value.end {
        return Edit {
            range: value.start..value.end,
            text: new.into(),
        };
    }
    let colon = text[key_node.end..]
        .find(':')
        .map_or(key_node.end, |i| key_node.end + i + 1);
    insert(colon, format!(" {new}"))
}

/// Add `missing….key: leaf` to the mapping `parent`, which has none of `missing[0]`.
fn add_keys(
    text: &str,
    newline: &str,
    parent: &Node,
    missing: &[&str],
    key: &str,
    leaf: Leaf,
    syntax: Syntax,
) -> Result<Edit, EditProblem> {
    let entries = parent.as_map().unwrap_or_default();
    let (first, rest) = match missing.split_first() {
        Some((first, rest)) => (*first, rest),
        None => (key, &[][..]),
    };
    let inner_key = if missing.is_empty() { None } else { Some(key) };
    if parent.is_flow() || syntax == Syntax::Json {
        let value = match inner_key {
            Some(key) => nested_flow(rest, key, leaf, syntax),
            None => leaf_flow(leaf, syntax),
        };
        let entry = format!("{}: {value}", key_text(first, syntax));
        return Ok(match entries.last() {
            Some((_, last)) => insert(last.end, format!(", {entry}")),
            None => insert(parent.start + 1, entry),
        });
    }
    // A block mapping always has at least one entry (an empty one is written `{}`, flow). Its
    // own column, not its first key's: `? key` puts the key two columns right of the mapping.
    let (_, last_value) = &entries[entries.len() - 1];
    let dash_offset = sequence_offset(parent);
    let mut keys: Vec<&str> = missing.to_vec();
    keys.push(key);
    let mut body = String::new();
    let mut col = parent.col;
    for (depth, k) in keys.iter().enumerate() {
        let indent = " ".repeat(col);
        let last = depth == keys.len() - 1;
        match (last, leaf) {
            (true, Leaf::Scalar(v)) => {
                body.push_str(&format!(
                    "{indent}{}: {}{newline}",
                    key_text(k, syntax),
                    scalar_text(v, syntax)
                ));
            }
            (true, Leaf::List { .. } | Leaf::Items(_)) => {
                body.push_str(&format!("{indent}{}:{newline}", key_text(k, syntax)));
                body.push_str(&block_items(
                    col + dash_offset,
                    2,
                    newline,
                    &leaf.items(syntax),
                ));
            }
            (false, _) => {
                body.push_str(&format!("{indent}{}:{newline}", key_text(k, syntax)));
                col += INDENT;
            }
        }
    }
    let at = line_end(text, last_value.end);
    let (last_key, _) = &entries[entries.len() - 1];
    if at == text.len()
        && !text.ends_with(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
        && ends_with_unbroken_block(text, last_value)
    {
        // Any line after that scalar would give it the final line break it lacks (a changed
        // value): the new keys go before the last one instead.
        let indent = " ".repeat(parent.col);
        let body = body.strip_prefix(&indent).unwrap_or(&body);
        return Ok(insert(last_key.start, format!("{body}{indent}")));
    }
    Ok(at_line_end(text, at, newline, body))
}

/// Whether `node`'s text ends with a literal or folded block scalar that keeps or clips its
/// final line break (`|`, `|+`, `>`) but, at the end of an input without a final newline, has
/// none.
fn ends_with_unbroken_block(text: &str, node: &Node) -> bool {
    match &node.value {
        Value::Scalar(s) if matches!(s.style, Style::Literal | Style::Folded) => {
            let header = text[node.start + 1..]
                .bytes()
                .take_while(|b| matches!(b, b'+' | b'-' | b'0'..=b'9'));
            node.end == text.len() && !header.into_iter().any(|b| b == b'-')
        }
        Value::Seq { items, flow: false } => items
            .last()
            .is_some_and(|n| ends_with_unbroken_block(text, n)),
        Value::Map {
            entries,
            flow: false,
        } => entries
            .last()
            .is_some_and(|(_, v)| ends_with_unbroken_block(text, v)),
        _ => false,
    }
}

/// How far helm-regcred indents mappings it creates: what Helm charts and kubectl use.
const INDENT: usize = 2;

/// `{a: {b: {key: leaf}}}` for missing keys `a, b` (or just `leaf` when none are missing).
fn nested_flow(missing: &[&str], key: &str, leaf: Leaf, syntax: Syntax) -> String {
    let mut value = format!("{{{}: {}}}", key_text(key, syntax), leaf_flow(leaf, syntax));
    for k in missing.iter().rev() {
        value = format!("{{{}: {value}}}", key_text(k, syntax));
    }
    value
}

fn leaf_flow(leaf: Leaf, syntax: Syntax) -> String {
    match leaf {
        Leaf::Scalar(v) => scalar_text(v, syntax),
        Leaf::List { .. } | Leaf::Items(_) => format!("[{}]", flow_items(&leaf.items(syntax))),
    }
}

fn key_text(key: &str, syntax: Syntax) -> String {
    scalar_text(key, syntax)
}

/// A string as a scalar of the given syntax that reads back as that same string.
fn scalar_text(value: &str, syntax: Syntax) -> String {
    match syntax {
        Syntax::Yaml => yaml_string(value, Quote::Single),
        Syntax::Json => serde_json::to_string(value).expect("a str always serializes"),
    }
}

/// How [`yaml_string`] quotes a string that cannot be written plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// `'x'` (JSON's `"x"` when the string holds control characters): what edits to
    /// manifests write, as Helm's own templates quote.
    Single,
    /// JSON's `"x"`, also valid YAML: what the KRM results write, as kpt's and kyaml's do.
    Double,
}

/// A string as a YAML scalar that reads back as that same string: plain when no YAML reader
/// would take it for anything else ([`crate::yaml::is_plain_safe`]), quoted otherwise.
pub fn yaml_string(value: &str, quote: Quote) -> String {
    match quote {
        Quote::Single => yaml_scalar(value),
        Quote::Double if is_plain_safe(value) => value.to_owned(),
        Quote::Double => serde_json::to_string(value).expect("a str always serializes"),
    }
}

/// How far this document indents block sequences under their key (0 for `key:\n- a`,
/// 2 for `key:\n  - a`), read off the mapping's own lists (a pod spec's `containers`) so added
/// text looks native.
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

/// Block list items with the dash at column `col` and their content `gap` columns further.
fn block_items(col: usize, gap: usize, newline: &str, items: &[ListItem]) -> String {
    let mut out = String::new();
    for item in items {
        for (i, line) in item.lines.iter().enumerate() {
            if i == 0 {
                out.push_str(&" ".repeat(col));
                out.push('-');
                out.push_str(&" ".repeat(gap - 1));
            } else if !line.is_empty() {
                out.push_str(&" ".repeat(col + gap));
            }
            out.push_str(line);
            out.push_str(newline);
        }
    }
    out
}

fn flow_items(items: &[ListItem]) -> String {
    items
        .iter()
        .map(|item| item.flow.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn insert(at: usize, text: String) -> Edit {
    Edit {
        range: at..at,
        text: text.into(),
    }
}

/// The offset just past the line holding `pos` (or `pos` itself when it already starts a line).
///
/// Lines end where YAML's do, which is where the parser's line numbers and columns come from:
/// `\n`, `\r\n`, a lone `\r`, NEL, LS and PS (libyaml's and Go's `is_break`).
pub fn line_end(text: &str, pos: usize) -> usize {
    if pos == 0 || text[..pos].ends_with(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        return pos;
    }
    let rest = &text[pos..];
    match rest.find(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
        None => text.len(),
        Some(i) if rest[i..].starts_with("\r\n") => pos + i + 2,
        Some(i) => pos + i + rest[i..].chars().next().map_or(1, char::len_utf8),
    }
}

/// Insert whole lines at a line end; at the end of a text that has no final newline, start with
/// one and drop the last, so the absence of a trailing newline is kept.
pub(crate) fn at_line_end(text: &str, at: usize, newline: &str, body: String) -> Edit {
    if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
        let body = body.strip_suffix(newline).unwrap_or(&body);
        insert(at, format!("{newline}{body}"))
    } else {
        insert(at, body)
    }
}

/// Apply non-overlapping edits to `text`, in offset order (edits at one offset keep their
/// order). Sorted here rather than trusted to be: an unsorted list (a Secret's `stringData`
/// before its `data`) once made the slicing below panic, and a slicing panic quotes the text.
pub fn apply(text: &str, edits: &[Edit]) -> String {
    pieces(text, edits).collect()
}

/// [`apply`] as the pieces of its result, in order: kept text borrowed from `text` and the
/// edits' own text. Writing these one after the other is writing the result, so a large stream
/// is never held a second time to be written (docs/performance.md).
pub fn pieces<'a>(text: &'a str, edits: &'a [Edit]) -> impl Iterator<Item = &'a str> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.range.start);
    let end = sorted.last().map_or(0, |e| e.range.end);
    let mut pos = 0;
    sorted
        .into_iter()
        .flat_map(move |edit| {
            // Overlapping edits are a planner bug. `get` and not indexing: an indexing panic
            // quotes the text, and this one must not.
            let kept = (edit.range.start >= pos)
                .then(|| text.get(pos..edit.range.start))
                .flatten()
                .filter(|_| text.is_char_boundary(edit.range.end))
                .expect("edits overlap, or split a character");
            pos = edit.range.end;
            [kept, &*edit.text]
        })
        .chain(std::iter::once_with(move || {
            text.get(end..).expect("an edit reaches past the text")
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Origin, Parsed, parse_document};

    fn root(text: &str) -> Node<'_> {
        match parse_document(text, Origin { offset: 0, line: 1 }, &|_| true).unwrap() {
            Parsed::Node(n) => n,
            other => panic!("{other:?}"),
        }
    }

    /// Add names to `spec.imagePullSecrets` and return the new text.
    fn add(text: &str, names: &[&str]) -> String {
        let doc = root(text);
        let spec = doc.get("spec").unwrap();
        let have = existing_names(spec, "imagePullSecrets", ItemShape::NameRef).unwrap();
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
            Syntax::Yaml,
        )
        .unwrap();
        let out = apply(text, &edits);
        // Every result must parse and hold exactly the old names then the new ones.
        let again = root(&out);
        let got = existing_names(
            again.get("spec").unwrap(),
            "imagePullSecrets",
            ItemShape::NameRef,
        )
        .unwrap();
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
            Syntax::Yaml,
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
        let err = existing_names(
            doc.get("spec").unwrap(),
            "imagePullSecrets",
            ItemShape::NameRef,
        )
        .unwrap_err();
        assert_eq!(
            err,
            EditProblem::NotAList {
                found: "a scalar",
                line: 2
            }
        );
    }

    #[test]
    fn items_are_checked_against_the_schema() {
        let problem = |list: &str, shape| {
            let text = format!("spec:\n  imagePullSecrets: {list}\n");
            let doc = root(&text);
            match existing_names(doc.get("spec").unwrap(), "imagePullSecrets", shape) {
                Err(EditProblem::BadItem { problem, index, .. }) => Some((index, problem)),
                Ok(_) => None,
                Err(other) => panic!("{list}: {other:?}"),
            }
        };
        use ItemProblem::*;
        let name_ref = ItemShape::NameRef;
        assert_eq!(
            problem("[quay-pull]", name_ref),
            Some((0, NotAReference { found: "a scalar" }))
        );
        assert_eq!(problem("[{name: a}, null]", name_ref), Some((1, NoName)));
        assert_eq!(problem("[{}]", name_ref), Some((0, NoName)));
        assert_eq!(problem("[{name: ''}]", name_ref), Some((0, NoName)));
        assert_eq!(
            problem("[{name: [x]}]", name_ref),
            Some((0, NameNotAString { found: "a list" }))
        );
        assert_eq!(
            problem("[[a]]", name_ref),
            Some((0, NotAReference { found: "a list" }))
        );
        assert_eq!(problem("[{name: a}, {name: b}]", name_ref), None);
        let plain = ItemShape::Plain;
        assert_eq!(problem("[a, b]", plain), None);
        assert_eq!(
            problem("[{name: a}]", plain),
            Some((0, NotAName { found: "a mapping" }))
        );
        assert_eq!(
            problem("[a, ~]", plain),
            Some((1, NotAName { found: "null" }))
        );
    }

    #[test]
    fn plain_items() {
        let text = "cfg:\n  secrets:\n  - a\n";
        let doc = root(text);
        let cfg = doc.get("cfg").unwrap();
        assert_eq!(
            existing_names(cfg, "secrets", ItemShape::Plain).unwrap(),
            ["a"]
        );
        let edits = append_to_list(
            text,
            "\n",
            cfg,
            "secrets",
            &["b"],
            ItemShape::Plain,
            Syntax::Yaml,
        )
        .unwrap();
        assert_eq!(apply(text, &edits), "cfg:\n  secrets:\n  - a\n  - b\n");
    }

    #[test]
    fn block_items_keep_the_lists_gap_after_the_dash() {
        let text = "spec:\n  list:\n  -   name: a\n";
        assert_eq!(
            at(text, "$.spec.list", LIST, Syntax::Yaml),
            "spec:\n  list:\n  -   name: a\n  -   name: reg\n"
        );
    }

    #[test]
    fn double_quoted_yaml_strings() {
        assert_eq!(yaml_string("apps/v1", Quote::Double), "apps/v1");
        assert_eq!(yaml_string("no", Quote::Double), "\"no\"");
        assert_eq!(yaml_string("no", Quote::Single), "'no'");
    }

    #[test]
    fn scalars_that_need_quotes() {
        assert_eq!(yaml_scalar("regcred"), "regcred");
        assert_eq!(yaml_scalar("my.reg-cred1"), "my.reg-cred1");
        assert_eq!(yaml_scalar("imagePullSecrets"), "imagePullSecrets");
        assert_eq!(yaml_scalar("true"), "'true'");
        assert_eq!(yaml_scalar("0123"), "'0123'");
        assert_eq!(yaml_scalar("1e3"), "'1e3'");
        assert_eq!(yaml_scalar("a: b"), "'a: b'");
    }

    fn at(text: &str, path: &str, leaf: Leaf, syntax: Syntax) -> String {
        let doc = root(text);
        let path = crate::edit::fieldpath::FieldPath::parse(path).unwrap();
        let (parents, key) = path.parent_and_key().unwrap();
        let edits = edit_at(text, "\n", &doc, parents, key, leaf, syntax).unwrap();
        let out = apply(text, &edits);
        root(&out); // still parses
        out
    }

    const LIST: Leaf = Leaf::List {
        names: &["reg"],
        shape: ItemShape::NameRef,
    };

    #[test]
    fn missing_parents_are_created() {
        let text = "CONNECTORS:\n  KubernetesConnector:\n    headless: true\nNAME: root";
        assert_eq!(
            at(
                text,
                "$.CONNECTORS.KubernetesConnector.imagePullSecrets",
                LIST,
                Syntax::Yaml
            ),
            "CONNECTORS:\n  KubernetesConnector:\n    headless: true\n    imagePullSecrets:\n    - name: reg\nNAME: root"
        );
        assert_eq!(
            at("a: 1\n", "$.b.c.list", LIST, Syntax::Yaml),
            "a: 1\nb:\n  c:\n    list:\n    - name: reg\n"
        );
        assert_eq!(
            at("a: {x: 1}\n", "$.a.b.list", LIST, Syntax::Yaml),
            "a: {x: 1, b: {list: [{name: reg}]}}\n"
        );
        assert_eq!(
            at("a:\nz: 1\n", "$.a.b.list", LIST, Syntax::Yaml),
            "a: {b: {list: [{name: reg}]}}\nz: 1\n"
        );
    }

    #[test]
    fn json_syntax() {
        let text = "{\"connector\": {\"port\": 1}}";
        assert_eq!(
            at(text, "$.connector.imagePullSecrets", LIST, Syntax::Json),
            "{\"connector\": {\"port\": 1, \"imagePullSecrets\": [{\"name\": \"reg\"}]}}"
        );
        assert_eq!(
            at(
                "{\"a\": 1}",
                "$.b.pull",
                Leaf::List {
                    names: &["x"],
                    shape: ItemShape::Plain
                },
                Syntax::Json
            ),
            "{\"a\": 1, \"b\": {\"pull\": [\"x\"]}}"
        );
        assert_eq!(
            at(
                "{\"pull\": [\"a\"]}",
                "$.pull",
                Leaf::List {
                    names: &["x"],
                    shape: ItemShape::Plain
                },
                Syntax::Json
            ),
            "{\"pull\": [\"a\", \"x\"]}"
        );
    }

    #[test]
    fn scalars_are_set_or_replaced() {
        let text = "containers:\n- name: c\n  image: x\n";
        let doc = root(text);
        let c = &doc.get("containers").unwrap().as_seq().unwrap()[0];
        let edits = edit_at(
            text,
            "\n",
            c,
            &[],
            "imagePullPolicy",
            Leaf::Scalar("Always"),
            Syntax::Yaml,
        )
        .unwrap();
        assert_eq!(
            apply(text, &edits),
            "containers:\n- name: c\n  image: x\n  imagePullPolicy: Always\n"
        );
        let text = "c:\n  imagePullPolicy: IfNotPresent\n";
        let doc = root(text);
        let edits = edit_at(
            text,
            "\n",
            &doc,
            &[Step::Key("c".into())],
            "imagePullPolicy",
            Leaf::Scalar("Always"),
            Syntax::Yaml,
        )
        .unwrap();
        assert_eq!(apply(text, &edits), "c:\n  imagePullPolicy: Always\n");
        let edits = edit_at(
            text,
            "\n",
            &doc,
            &[Step::Key("c".into())],
            "imagePullPolicy",
            Leaf::Scalar("IfNotPresent"),
            Syntax::Yaml,
        )
        .unwrap();
        assert!(edits.is_empty());
    }
}
