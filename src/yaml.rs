//! A read-only YAML tree that remembers where every node sits in the input.
//!
//! helm-regcred never re-serializes a manifest: it edits text. So what it needs from a parser is
//! not values but positions — where a pod spec mapping ends, at which column its keys sit, where
//! an `imagePullSecrets` list closes. This module builds exactly that from libyaml events.
//!
//! Why libyaml-safer: it is a faithful port of libyaml, the parser go-yaml (and so Helm, kubectl
//! and kustomize) was itself ported from, so it accepts what Helm accepts — including the YAML 1.1
//! oddities in real charts (`- =` in CRD enums) and the multi-line quoted scalars Helm 4 writes,
//! which the saphyr/yaml-rust2 family rejected on our corpus. Its marks are byte offsets, and it
//! yields events one at a time, which lets [`parse_document`] stop as soon as a document's `kind:`
//! says no rule can touch it (a 1 MB CRD then costs a few lines of scanning, not a full parse).
//! serde_yaml (deprecated) offers neither spans nor early stop.
//!
//! libyaml-safer is also slow (about 100 instructions per byte), so documents first go through
//! [`fast`], a strict scanner for the block YAML charts render to. It either returns exactly the
//! tree libyaml-safer would build or defers to it; libyaml-safer keeps the last word on everything
//! else, including every syntax error message.

use std::fmt;

use compact_str::CompactString;

use libyaml_safer::{EventData, MappingStyle, Parser, ScalarStyle, SequenceStyle};

mod fast;

/// Deepest nesting of collections read; real manifests use a few dozen levels.
const MAX_NESTING: usize = 1000;

/// A node with its byte span in the whole input stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte offset where the node's text starts (its first character, or `[`/`{`).
    pub start: usize,
    /// Byte offset just past the node's own text: for a flow collection after `]`/`}`, for a
    /// block collection the end of its last child (libyaml's own end mark for block collections
    /// points at the next token, possibly lines later, which is useless for inserting text).
    pub end: usize,
    /// 1-based line of `start` in the whole stream.
    pub line: usize,
    /// 0-based column (in bytes) of `start`.
    pub col: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq {
        items: Vec<Node>,
        flow: bool,
    },
    Map {
        entries: Vec<(Node, Node)>,
        flow: bool,
    },
    /// `*name`: helm-regcred never edits through an alias (the edit would land elsewhere).
    Alias,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// Inline up to 24 bytes: most keys and values are short, and a heap allocation per scalar
    /// was a tenth of a post-render's time.
    pub text: CompactString,
    pub style: Style,
    pub tagged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl Node {
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map { entries, .. } => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq { items, .. } => Some(items),
            _ => None,
        }
    }

    /// The scalar's text if this is a string-like scalar (any style).
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(&s.text),
            _ => None,
        }
    }

    /// True for YAML null: an empty plain scalar, `~`, `null` (any case form YAML allows).
    pub fn is_null(&self) -> bool {
        match &self.value {
            Value::Scalar(s) => {
                s.style == Style::Plain
                    && !s.tagged
                    && matches!(s.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
            }
            _ => false,
        }
    }

    pub fn is_flow(&self) -> bool {
        matches!(
            self.value,
            Value::Seq { flow: true, .. } | Value::Map { flow: true, .. }
        )
    }

    /// Look up `key` in a mapping (first match; duplicate keys are a chart bug we do not fix).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Follow a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// A short human name of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(_) if self.is_null() => "null",
            Value::Scalar(_) => "a scalar",
            Value::Seq { .. } => "a list",
            Value::Map { .. } => "a mapping",
            Value::Alias => "an alias",
        }
    }
}

/// A YAML syntax error, located in the whole stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.message,
            self.line,
            self.col + 1
        )
    }
}

/// What [`parse_document`] found in one document's text.
#[derive(Debug)]
pub enum Parsed {
    /// Only comments and whitespace, `---` alone, or a null document.
    Empty,
    /// The whole tree.
    Node(Node),
    /// The caller's `wanted` said no to this kind: the rest was not parsed (or validated).
    Skipped { kind: String },
}

/// Where a document's text sits in the stream, so node positions come out stream-absolute.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub offset: usize,
    /// 1-based line number of the text's first line.
    pub line: usize,
}

/// Parse one document's text (a single YAML document, with or without its `---` line).
///
/// `wanted(kind)` is asked once, when the root mapping's `kind:` value has been read; returning
/// false stops parsing there. Pass `|_| true` to always build the whole tree.
pub fn parse_document(
    text: &str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Parsed, SyntaxError> {
    with_final_break(text, origin, |text| {
        match fast::parse(text, origin, wanted) {
            Ok(parsed) => Ok(parsed),
            Err(fast::Defer) => guarded(text, origin, wanted),
        }
    })
}

/// [`parse_document`] without the fast path: libyaml-safer only. The reference the fast path
/// is tested against.
#[cfg(test)]
pub(crate) fn parse_document_reference(
    text: &str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Parsed, SyntaxError> {
    with_final_break(text, origin, |text| guarded(text, origin, wanted))
}

/// Run `parse` on `text` ending with a line break.
///
/// libyaml-safer 0.3 panics ("unexpected end of input") on a block scalar that ends the input
/// without a line break, which a stream's last document may do, and the fast path relies on
/// every line having one. A trailing break changes no value and no position; spans are clamped
/// back to the real text.
fn with_final_break(
    text: &str,
    origin: Origin,
    parse: impl FnOnce(&str) -> Result<Parsed, SyntaxError>,
) -> Result<Parsed, SyntaxError> {
    if text.ends_with('\n') {
        return parse(text);
    }
    let padded = format!("{text}\n");
    let mut parsed = parse(&padded)?;
    if let Parsed::Node(node) = &mut parsed {
        clamp(node, origin.offset + text.len());
    }
    Ok(parsed)
}

fn clamp(node: &mut Node, limit: usize) {
    node.start = node.start.min(limit);
    node.end = node.end.min(limit);
    match &mut node.value {
        Value::Seq { items, .. } => items.iter_mut().for_each(|n| clamp(n, limit)),
        Value::Map { entries, .. } => entries.iter_mut().for_each(|(k, v)| {
            clamp(k, limit);
            clamp(v, limit);
        }),
        Value::Scalar(_) | Value::Alias => {}
    }
}

/// A parser panic must not crash a post-renderer mid-install: turn it into a located error.
fn guarded(
    text: &str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Parsed, SyntaxError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_unguarded(text, origin, wanted)
    }))
    .unwrap_or_else(|_| {
        Err(SyntaxError {
            line: origin.line,
            col: 0,
            message: "the YAML parser failed on this document".into(),
        })
    })
}

fn parse_unguarded(
    text: &str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Parsed, SyntaxError> {
    let mut input = text.as_bytes();
    let mut parser = Parser::new();
    parser.set_input_string(&mut input);
    let mut builder = Builder {
        parser,
        origin,
        wanted,
        stopped: None,
    };
    builder.document()
}

struct Builder<'a, 'r, 'b> {
    parser: Parser<&'r mut &'b [u8]>,
    origin: Origin,
    wanted: &'a dyn Fn(&str) -> bool,
    /// Set when `wanted` refused the kind: unwinds the recursion without an error.
    stopped: Option<String>,
}

struct Event {
    data: EventData,
    start: usize,
    end: usize,
    line: usize,
    col: usize,
}

impl Builder<'_, '_, '_> {
    fn next(&mut self) -> Result<Event, SyntaxError> {
        match self.parser.parse() {
            Ok(ev) => Ok(Event {
                start: self.origin.offset + ev.start_mark.index as usize,
                end: self.origin.offset + ev.end_mark.index as usize,
                line: self.origin.line + ev.start_mark.line as usize,
                col: ev.start_mark.column as usize,
                data: ev.data,
            }),
            Err(e) => Err(self.syntax_error(e)),
        }
    }

    fn syntax_error(&self, e: libyaml_safer::Error) -> SyntaxError {
        // libyaml reports "problem at mark (context at mark)"; keep the problem mark as the
        // location and the library's own words as the message.
        let (line, col) = e
            .problem_mark()
            .map(|m| (self.origin.line + m.line as usize, m.column as usize))
            .unwrap_or((self.origin.line, 0));
        let mut message = e.problem().to_string();
        if let Some(context) = e.context() {
            message = format!("{message} {context}");
        }
        SyntaxError { line, col, message }
    }

    fn document(&mut self) -> Result<Parsed, SyntaxError> {
        let mut root = None;
        loop {
            let ev = self.next()?;
            match ev.data {
                EventData::StreamStart { .. } | EventData::DocumentEnd { .. } => {}
                EventData::StreamEnd => break,
                EventData::DocumentStart { .. } => {
                    if root.is_some() {
                        return Err(SyntaxError {
                            line: ev.line,
                            col: ev.col,
                            message: "a second document starts here without a `---` line".into(),
                        });
                    }
                    let first = self.next()?;
                    let node = self.node(first, 0)?;
                    if let Some(kind) = self.stopped.take() {
                        return Ok(Parsed::Skipped { kind });
                    }
                    root = Some(node);
                }
                _ => unreachable!("libyaml emits nodes only inside documents"),
            }
        }
        // `---` followed by nothing but comments is a null document in YAML: nothing to keep
        // apart from its text, which the stream keeps anyway.
        Ok(match root {
            Some(node) if !node.is_null() => Parsed::Node(node),
            _ => Parsed::Empty,
        })
    }

    /// Build the node that starts with `ev`. `depth` is 0 for the document root.
    fn node(&mut self, ev: Event, depth: usize) -> Result<Node, SyntaxError> {
        // Each level is a stack frame here: refuse what no manifest needs before the stack
        // runs out (a crash would tell the user nothing).
        if depth > MAX_NESTING {
            return Err(SyntaxError {
                line: ev.line,
                col: ev.col,
                message: format!("nested deeper than {MAX_NESTING} levels"),
            });
        }
        let (start, line, col) = (ev.start, ev.line, ev.col);
        let (value, end) = match ev.data {
            EventData::Scalar {
                value, style, tag, ..
            } => {
                let style = match style {
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                    _ => Style::Plain,
                };
                let scalar = Scalar {
                    text: value.into(),
                    style,
                    tagged: tag.is_some(),
                };
                (Value::Scalar(scalar), ev.end)
            }
            EventData::Alias { .. } => (Value::Alias, ev.end),
            EventData::SequenceStart { style, .. } => {
                let flow = style == SequenceStyle::Flow;
                let mut items = Vec::new();
                let close = loop {
                    let ev = self.next()?;
                    if let EventData::SequenceEnd = ev.data {
                        break ev.end;
                    }
                    items.push(self.node(ev, depth + 1)?);
                    if self.stopped.is_some() {
                        break 0;
                    }
                };
                let end = collection_end(flow, close, items.last().map(|n| n.end), ev.end);
                (Value::Seq { items, flow }, end)
            }
            EventData::MappingStart { style, .. } => {
                let flow = style == MappingStyle::Flow;
                let mut entries = Vec::new();
                let close = loop {
                    let ev = self.next()?;
                    if let EventData::MappingEnd = ev.data {
                        break ev.end;
                    }
                    let key = self.node(ev, depth + 1)?;
                    let next = self.next()?;
                    let value = self.node(next, depth + 1)?;
                    if depth == 0
                        && key.as_str() == Some("kind")
                        && let Some(kind) = value.as_str()
                        && !(self.wanted)(kind)
                    {
                        self.stopped = Some(kind.to_string());
                    }
                    entries.push((key, value));
                    if self.stopped.is_some() {
                        break 0;
                    }
                };
                let end = collection_end(flow, close, entries.last().map(|(_, v)| v.end), ev.end);
                (Value::Map { entries, flow }, end)
            }
            _ => unreachable!("node() is only called on node events"),
        };
        Ok(Node {
            start,
            end,
            line,
            col,
            value,
        })
    }
}

fn collection_end(flow: bool, close: usize, last_child: Option<usize>, open_end: usize) -> usize {
    if flow {
        close
    } else {
        last_child.unwrap_or(open_end)
    }
}

/// `s` as a YAML string scalar: plain when every YAML 1.1 and 1.2 reader would read it back as
/// this same string, quoted otherwise.
///
/// DNS-1123 names are not automatically safe: `123`, `1e3`, `true`, `null`, `no` are all valid
/// names that a YAML reader would turn into a number, boolean or null.
pub fn yaml_scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_owned()
    } else {
        yaml_quoted(s)
    }
}

pub(crate) fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let printable_ascii = s.bytes().all(|b| (0x20..0x7f).contains(&b));
    let starts_with_indicator = "-?:,[]{}#&*!|>'\"%@`".contains(first);
    // Anything that could be a number in either YAML version: digits, signs, `.inf`, `.5`.
    let may_be_number = first.is_ascii_digit() || "+-.".contains(first);
    const KEYWORDS: &[&str] = &[
        "~", "null", "true", "false", "yes", "no", "y", "n", "on", "off", "=", "<<",
    ];
    let is_keyword = KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(s));
    printable_ascii
        && !starts_with_indicator
        && !may_be_number
        && !is_keyword
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.ends_with(':')
        && !s.contains(": ")
        && !s.contains(" #")
}

/// Single-quoted unless `s` has characters a single-quoted scalar cannot carry verbatim (line
/// breaks fold, other control characters are not allowed); those get JSON's double-quoted
/// form, which is also valid YAML.
pub fn yaml_quoted(s: &str) -> String {
    if s.chars().any(char::is_control) {
        serde_json::to_string(s).expect("serializing a str cannot fail")
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        match parse_document(text, Origin { offset: 0, line: 1 }, &|_| true).unwrap() {
            Parsed::Node(n) => n,
            other => panic!("expected a node, got {other:?}"),
        }
    }

    fn span<'t>(text: &'t str, n: &Node) -> &'t str {
        &text[n.start..n.end]
    }

    #[test]
    fn block_mapping_spans_end_at_last_child() {
        let text = "a:\n  b: 1\n  c: [x, y]\n# trailing\nd: |\n  lit\n";
        let root = parse(text);
        let a = root.get("a").unwrap();
        assert_eq!(span(text, a), "b: 1\n  c: [x, y]");
        assert_eq!((a.line, a.col), (2, 2));
        let c = a.get("c").unwrap();
        assert!(c.is_flow());
        assert_eq!(span(text, c), "[x, y]");
        let d = root.get("d").unwrap();
        assert_eq!(d.as_str(), Some("lit\n"));
    }

    #[test]
    fn block_sequence_starts_at_dash() {
        let text = "spec:\n  list:\n  - name: a\n  - name: b\n";
        let root = parse(text);
        let list = root.path(&["spec", "list"]).unwrap();
        assert_eq!(list.col, 2);
        assert_eq!(&text[list.start..list.start + 1], "-");
        assert_eq!(list.as_seq().unwrap().len(), 2);
        assert_eq!(span(text, list), "- name: a\n  - name: b");
    }

    #[test]
    fn nulls() {
        let root = parse("a:\nb: ~\nc: null\nd: 'null'\ne: !!null null\n");
        assert!(root.get("a").unwrap().is_null());
        assert!(root.get("b").unwrap().is_null());
        assert!(root.get("c").unwrap().is_null());
        assert!(!root.get("d").unwrap().is_null());
        assert!(!root.get("e").unwrap().is_null(), "tagged: left alone");
    }

    #[test]
    fn stops_at_unwanted_kind() {
        let text = "apiVersion: v1\nkind: CustomResourceDefinition\nspec: {bad: [\n";
        let parsed = parse_document(text, Origin { offset: 0, line: 1 }, &|k| {
            k != "CustomResourceDefinition"
        })
        .unwrap();
        assert!(matches!(parsed, Parsed::Skipped { kind } if kind == "CustomResourceDefinition"));
    }

    #[test]
    fn origin_shifts_positions_and_errors() {
        let text = "---\nkind: Pod\nspec: [\n";
        let err = parse_document(
            text,
            Origin {
                offset: 100,
                line: 10,
            },
            &|_| true,
        )
        .unwrap_err();
        assert!(err.line >= 12, "{err:?}");
        let ok = parse_document(
            "kind: Pod\n",
            Origin {
                offset: 100,
                line: 10,
            },
            &|_| true,
        )
        .unwrap();
        let Parsed::Node(n) = ok else { panic!() };
        assert_eq!((n.start, n.line), (100, 10));
    }

    #[test]
    fn comment_only_is_empty() {
        let parsed = parse_document(
            "---\n# only a comment\n",
            Origin { offset: 0, line: 1 },
            &|_| true,
        )
        .unwrap();
        assert!(matches!(parsed, Parsed::Empty));
    }

    #[test]
    fn yaml11_equals_scalar_is_accepted() {
        let root = parse("enum:\n- =\n- '!='\n");
        assert_eq!(
            root.get("enum").unwrap().as_seq().unwrap()[0].as_str(),
            Some("=")
        );
    }

    #[test]
    fn block_scalar_at_end_of_input_without_newline() {
        for text in ["a: |-\n  x", "a: |\n  x", "a: >\n  x", "a:\n  b: |\n    x"] {
            let root = parse(text);
            assert!(root.end <= text.len(), "{text:?}");
        }
        let root = parse("a: |-\n  x");
        assert_eq!(root.get("a").unwrap().as_str(), Some("x"));
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "a: ünï\nb: x\n";
        let root = parse(text);
        assert_eq!(span(text, root.get("b").unwrap()), "x");
    }
}
