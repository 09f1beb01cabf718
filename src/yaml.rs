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
use std::ops::ControlFlow;

use compact_str::CompactString;

use libyaml_safer::{EventData, MappingStyle, Parser, ScalarStyle, SequenceStyle};

mod children;
mod fast;

pub use children::{Children, Entries, Items};
use children::{Keep, gather};

/// Deepest nesting of collections read; real manifests use a few dozen levels.
const MAX_NESTING: usize = 1000;

/// A node with its byte span in the whole input stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<'t> {
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
    pub value: Value<'t>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'t> {
    Scalar(Scalar),
    /// `'t` is the document's text, which unread children are read again from.
    Seq {
        items: Items<'t>,
        flow: bool,
    },
    Map {
        entries: Entries<'t>,
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

impl<'t> Node<'t> {
    /// The entries of a mapping, all read (see [`Children`]; [`Node::get`] and
    /// [`Children::visit`] read a long one without keeping it).
    pub fn as_map(&self) -> Option<&[(Node<'t>, Node<'t>)]> {
        match &self.value {
            Value::Map { entries, .. } => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node<'t>]> {
        match &self.value {
            Value::Seq { items, .. } => Some(items),
            _ => None,
        }
    }

    /// Whether this is a mapping (without reading its entries, see [`Children`]).
    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map { .. })
    }

    /// Whether this is a sequence (without reading its items).
    pub fn is_seq(&self) -> bool {
        matches!(self.value, Value::Seq { .. })
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

    /// Look up `key` in a mapping (duplicate keys are refused when the tree is read).
    pub fn get(&self, key: &str) -> Option<&Node<'t>> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node of `key` in a mapping. A long mapping is searched without
    /// reading it into nodes (see [`Children`]).
    pub fn entry(&self, key: &str) -> Option<(&Node<'t>, &Node<'t>)> {
        match &self.value {
            Value::Map { entries, .. } => entries
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// Each `(key, value)` of a mapping in order, until `f` breaks, without keeping a long
    /// one's entries (see [`Children`]). Nothing for other nodes.
    pub fn visit_entries(&self, mut f: impl FnMut(&Node<'t>, &Node<'t>) -> ControlFlow<()>) {
        if let Value::Map { entries, .. } = &self.value {
            let _ = entries.visit(|(k, v)| f(k, v));
        }
    }

    /// Follow a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node<'t>> {
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

/// A document helm-regcred cannot read, located in the whole stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub kind: ErrorKind,
}

impl From<&SyntaxError> for crate::error::ProblemKind {
    fn from(e: &SyntaxError) -> Self {
        use crate::error::ProblemKind;
        match e.kind {
            ErrorKind::Syntax => {
                ProblemKind::Syntax(format!("{} at column {}", e.message, e.col + 1))
            }
            ErrorKind::DuplicateKey => ProblemKind::Syntax(e.message.clone()),
            ErrorKind::Unsupported => ProblemKind::Unsupported(e.message.clone()),
        }
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not YAML (libyaml's own message), or nested too deep.
    Syntax,
    /// The same key twice in one mapping. YAML forbids it; Go's YAML (and so Helm) keeps the
    /// last, kubectl's strict decoding refuses it, and an edit of the first would be lost.
    DuplicateKey,
    /// Valid YAML that a text edit cannot follow: aliases and merge keys make one node stand
    /// for text elsewhere, so what Helm sees is not what the tree here shows.
    Unsupported,
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
pub enum Parsed<'t> {
    /// Only comments and whitespace, `---` alone, or a null document.
    Empty,
    /// The whole tree.
    Node(Node<'t>),
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
pub fn parse_document<'t>(
    text: &'t str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Parsed<'t>, SyntaxError> {
    let (text, origin) = past_leading_bom(text, origin)?;
    let parsed = with_final_break(text, origin, |text, unread| {
        match fast::parse(text, origin, wanted, unread) {
            Ok(parsed) => Ok(parsed),
            Err(fast::Defer) => guarded(text, origin, wanted, unread),
        }
    })?;
    readable(&parsed, text, origin)?;
    Ok(parsed)
}

const BOM: &str = "\u{feff}";

/// The document's text from past a byte order mark that opens it: one that starts a line with
/// only the `---` line, blank lines and comments before it. Helm renders a template file that
/// starts with a BOM so (`---`, `# Source: ...`, then the BOM line), and Go's YAML — what Helm
/// builds its objects with — reads past it; libyaml would count it as indentation. A BOM that
/// starts any other line is refused, named: there Go reads two documents run together (a
/// concatenated file without its `---`) or a key that starts with U+FEFF.
fn past_leading_bom(text: &str, origin: Origin) -> Result<(&str, Origin), SyntaxError> {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memmem::find(bytes, BOM.as_bytes()) else {
        return Ok((text, origin));
    };
    let line_start = |at: usize| at == 0 || matches!(bytes[at - 1], b'\n' | b'\r');
    let prologue = text[..first].lines().enumerate().all(|(i, l)| {
        let l = l.trim_start_matches([' ', '\t']);
        l.trim().is_empty()
            || l.starts_with('#')
            || (i == 0
                && l.starts_with("---")
                && matches!(l[3..].trim_start().chars().next(), None | Some('#')))
    });
    let (text, origin) = if line_start(first) && prologue {
        let skip = first + BOM.len();
        let line = origin.line + memchr::memchr_iter(b'\n', &bytes[..first]).count();
        let origin = Origin {
            offset: origin.offset + skip,
            line,
        };
        (&text[skip..], origin)
    } else {
        (text, origin)
    };
    let bytes = text.as_bytes();
    let line_start = |at: usize| at == 0 || matches!(bytes[at - 1], b'\n' | b'\r');
    if let Some(at) = memchr::memmem::find_iter(bytes, BOM.as_bytes()).find(|&at| line_start(at)) {
        let line = origin.line + memchr::memchr_iter(b'\n', &bytes[..at]).count();
        return Err(SyntaxError {
            line,
            col: 0,
            message: "a byte order mark (U+FEFF) starts this line inside the document: a file \
                      joined to the one before without a `---` line? (only one before a \
                      document's first key is ignored)"
                .into(),
            kind: ErrorKind::Syntax,
        });
    }
    Ok((text, origin))
}

/// Refuse what the tree cannot stand for faithfully (see [`ErrorKind`]): checked once here, on
/// both paths' trees, so no reader of the tree has to remember to.
fn readable(parsed: &Parsed<'_>, text: &str, origin: Origin) -> Result<(), SyntaxError> {
    match parsed {
        Parsed::Node(node) => check_node(node, text, origin),
        Parsed::Empty | Parsed::Skipped { .. } => Ok(()),
    }
}

fn refuse(n: &Node<'_>, kind: ErrorKind, message: String) -> SyntaxError {
    SyntaxError {
        line: n.line,
        col: n.col,
        message,
        kind,
    }
}

fn check_node(node: &Node<'_>, text: &str, origin: Origin) -> Result<(), SyntaxError> {
    match &node.value {
        Value::Scalar(_) => Ok(()),
        Value::Alias => {
            let written = text
                .get(node.start - origin.offset..node.end - origin.offset)
                .unwrap_or("*");
            Err(refuse(
                node,
                ErrorKind::Unsupported,
                format!(
                    "YAML alias `{written}`: helm-regcred edits text in place and does not \
                     expand aliases (Helm would); write the value out"
                ),
            ))
        }
        // Unread children were checked as they were read, in this same order ([`Checks`]).
        Value::Seq { items, .. } if !items.is_read() => items.checked(),
        Value::Map { entries, .. } if !entries.is_read() => entries.checked(),
        Value::Seq { items, .. } => items.iter().try_for_each(|n| check_node(n, text, origin)),
        Value::Map { entries, .. } => {
            for (key, value) in entries.iter() {
                check_entry(key, value, text, origin)?;
            }
            duplicate_keys(entries)
        }
    }
}

/// One mapping entry's checks: a merge key, then what is below the key and the value.
fn check_entry(
    key: &Node<'_>,
    value: &Node<'_>,
    text: &str,
    origin: Origin,
) -> Result<(), SyntaxError> {
    if let Value::Scalar(s) = &key.value
        && s.style == Style::Plain
        && !s.tagged
        && s.text == "<<"
    {
        return Err(refuse(
            key,
            ErrorKind::Unsupported,
            "YAML merge key `<<`: helm-regcred edits text in place and does not merge \
             mappings (Helm would); write the keys out"
                .into(),
        ));
    }
    check_node(key, text, origin)?;
    check_node(value, text, origin)
}

/// [`check_node`]'s checks of a collection that is left unread, made as its children are read:
/// they are let go then, and reading them again to check them would read a nested long
/// collection once more per level. The result is kept with the children ([`Children`]).
pub(crate) struct Checks<'t> {
    first: Result<(), SyntaxError>,
    /// A hash of each scalar key of a mapping, for the duplicate check at its end.
    hashes: Vec<u64>,
    text: &'t str,
    origin: Origin,
}

fn key_hash(key: &Node<'_>) -> Option<u64> {
    use std::hash::{BuildHasher as _, BuildHasherDefault, DefaultHasher};
    key.as_str()
        .map(|k| BuildHasherDefault::<DefaultHasher>::default().hash_one(k))
}

impl<'t> Checks<'t> {
    pub(crate) fn new(text: &'t str, origin: Origin) -> Self {
        Checks {
            first: Ok(()),
            hashes: Vec::new(),
            text,
            origin,
        }
    }

    pub(crate) fn item(&mut self, item: &Node<'_>) {
        if self.first.is_ok() {
            self.first = check_node(item, self.text, self.origin);
        }
    }

    pub(crate) fn entry(&mut self, key: &Node<'_>, value: &Node<'_>) {
        if self.first.is_ok() {
            self.first = check_entry(key, value, self.text, self.origin);
            self.hashes.extend(key_hash(key));
        }
    }

    /// The result for a sequence.
    pub(crate) fn of_items(self) -> Result<(), SyntaxError> {
        self.first
    }

    /// The result for a mapping: its entries' checks, then a key that repeats (keys whose
    /// hash repeats are compared by text, reading the entries again; 8 bytes a key until then,
    /// not a kept entry of 144).
    pub(crate) fn of_entries(mut self, entries: &Entries<'_>) -> Result<(), SyntaxError> {
        self.first?;
        self.hashes.sort_unstable();
        let mut repeated: Vec<u64> = self
            .hashes
            .windows(2)
            .filter(|pair| pair[0] == pair[1])
            .map(|pair| pair[0])
            .collect();
        drop(self.hashes);
        if repeated.is_empty() {
            return Ok(());
        }
        repeated.dedup();
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut refused = Ok(());
        let _ = entries.visit(|(key, _)| {
            let (Some(h), Some(name)) = (key_hash(key), key.as_str()) else {
                return ControlFlow::Continue(());
            };
            if repeated.binary_search(&h).is_err() {
                return ControlFlow::Continue(());
            }
            match seen.get(name) {
                Some(&line) => {
                    refused = Err(duplicate_error(line, key));
                    ControlFlow::Break(())
                }
                None => {
                    seen.insert(name.to_string(), key.line);
                    ControlFlow::Continue(())
                }
            }
        });
        refused
    }
}

/// A child of a collection, checked as [`Checks`] does.
pub(crate) trait Checked {
    fn check(&self, checks: &mut Checks<'_>);
}

impl Checked for Node<'_> {
    fn check(&self, checks: &mut Checks<'_>) {
        checks.item(self);
    }
}

impl Checked for (Node<'_>, Node<'_>) {
    fn check(&self, checks: &mut Checks<'_>) {
        checks.entry(&self.0, &self.1);
    }
}

/// `again` repeats a key first written on line `first`.
fn duplicate_error(first: usize, again: &Node<'_>) -> SyntaxError {
    let name = again.as_str().unwrap_or_default();
    SyntaxError {
        line: again.line,
        col: again.col,
        message: format!(
            "duplicate key `{name}` (lines {} and {}): Go's YAML keeps the last, kubectl \
             refuses it; remove one",
            first, again.line
        ),
        kind: ErrorKind::DuplicateKey,
    }
}

/// The first key that repeats an earlier one in the same mapping, as an error naming both.
fn duplicate_keys(entries: &[(Node<'_>, Node<'_>)]) -> Result<(), SyntaxError> {
    let key = |i: usize| entries[i].0.as_str();
    // Most mappings are small: comparing pairs beats hashing there.
    if entries.len() <= 16 {
        for i in 1..entries.len() {
            if let Some(k) = key(i)
                && let Some(j) = (0..i).find(|&j| key(j) == Some(k))
            {
                return Err(duplicate_error(entries[j].0.line, &entries[i].0));
            }
        }
        return Ok(());
    }
    let mut seen: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(entries.len());
    for (i, (k, _)) in entries.iter().enumerate() {
        if let Some(name) = k.as_str()
            && let Some(&j) = seen.get(name)
        {
            return Err(duplicate_error(entries[j].0.line, k));
        } else if let Some(name) = k.as_str() {
            seen.insert(name, i);
        }
    }
    Ok(())
}

/// [`parse_document`] without the fast path: libyaml-safer only, and the bare tree (what
/// [`readable`] refuses is the same on both paths). The reference the fast path is tested
/// against.
#[cfg(test)]
pub(crate) fn parse_document_reference<'t>(
    text: &'t str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
) -> Result<Parsed<'t>, SyntaxError> {
    with_final_break(text, origin, |text, unread| {
        guarded(text, origin, wanted, unread)
    })
}

/// Run `parse` on `text` ending with a line break.
///
/// libyaml-safer 0.3 panics ("unexpected end of input") on a block scalar that ends the input
/// without a line break, which a stream's last document may do, and the fast path relies on
/// every line having one. A trailing break changes no value and no position; spans are clamped
/// back to the real text.
///
/// `parse` is told whether it may leave children unread (see [`Children`]): not on the padded
/// copy, which is gone when this returns.
fn with_final_break<'t>(
    text: &'t str,
    origin: Origin,
    parse: impl for<'a> FnOnce(&'a str, bool) -> Result<Parsed<'a>, SyntaxError>,
) -> Result<Parsed<'t>, SyntaxError> {
    if text.ends_with('\n') {
        return parse(text, true);
    }
    let padded = format!("{text}\n");
    Ok(match parse(&padded, false)? {
        Parsed::Node(node) => {
            let mut node = node.detached();
            let limit = origin.offset + text.len();
            // Only when the scalar's last line is the text's unterminated last line.
            let last_line = text.rsplit('\n').next().unwrap_or_default();
            if !last_line.trim().is_empty() {
                unpad_last_block_scalar(&mut node, limit);
            }
            clamp(&mut node, limit);
            Parsed::Node(node)
        }
        Parsed::Empty => Parsed::Empty,
        Parsed::Skipped { kind } => Parsed::Skipped { kind },
    })
}

/// The padding gave a block scalar that ends the text the final line break it does not have:
/// libyaml (and Go) read `a: |` then `  x` at the end of input as `x`, not `x\n`.
fn unpad_last_block_scalar(node: &mut Node<'_>, limit: usize) {
    match &mut node.value {
        Value::Scalar(s)
            if matches!(s.style, Style::Literal | Style::Folded)
                && node.end > limit
                && s.text.ends_with('\n') =>
        {
            s.text.pop();
        }
        Value::Seq { items, flow: false } => {
            if let Some(last) = items.read_mut().and_then(|items| items.last_mut()) {
                unpad_last_block_scalar(last, limit);
            }
        }
        Value::Map {
            entries,
            flow: false,
        } => {
            if let Some((_, last)) = entries.read_mut().and_then(|e| e.last_mut()) {
                unpad_last_block_scalar(last, limit);
            }
        }
        _ => {}
    }
}

fn clamp(node: &mut Node<'_>, limit: usize) {
    node.start = node.start.min(limit);
    node.end = node.end.min(limit);
    match &mut node.value {
        Value::Seq { items, .. } => items
            .read_mut()
            .into_iter()
            .flatten()
            .for_each(|n| clamp(n, limit)),
        Value::Map { entries, .. } => {
            entries.read_mut().into_iter().flatten().for_each(|(k, v)| {
                clamp(k, limit);
                clamp(v, limit);
            })
        }
        Value::Scalar(_) | Value::Alias => {}
    }
}

impl Node<'_> {
    /// The same tree borrowing no text: every collection's children read into nodes.
    pub(crate) fn detached<'a>(self) -> Node<'a> {
        let value = match self.value {
            Value::Scalar(s) => Value::Scalar(s),
            Value::Alias => Value::Alias,
            Value::Seq { items, flow } => Value::Seq {
                items: Children::read(items.into_vec().into_iter().map(Node::detached).collect()),
                flow,
            },
            Value::Map { entries, flow } => Value::Map {
                entries: Children::read(
                    entries
                        .into_vec()
                        .into_iter()
                        .map(|(k, v)| (k.detached(), v.detached()))
                        .collect(),
                ),
                flow,
            },
        };
        Node {
            start: self.start,
            end: self.end,
            line: self.line,
            col: self.col,
            value,
        }
    }
}

/// A parser panic must not crash a post-renderer mid-install: turn it into a located error.
fn guarded<'t>(
    text: &'t str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
    unread: bool,
) -> Result<Parsed<'t>, SyntaxError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        parse_unguarded(text, origin, wanted, unread)
    }))
    .unwrap_or_else(|_| {
        Err(SyntaxError {
            line: origin.line,
            col: 0,
            message: "the YAML parser failed on this document".into(),
            kind: ErrorKind::Syntax,
        })
    })
}

fn parse_unguarded<'t>(
    text: &'t str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
    unread: bool,
) -> Result<Parsed<'t>, SyntaxError> {
    let mut parser = Parser::new();
    parser.set_input(bounded(text.as_bytes()));
    let mut builder = Builder {
        parser,
        text,
        origin,
        wanted,
        stopped: None,
        // A tag handle declared by a `%TAG` directive would be unknown to a parser reading one
        // collection again on its own.
        unread: unread && !text.contains("%TAG"),
    };
    builder.document()
}

/// libyaml-safer decodes all the input its reader offers into a queue of `char`s, 4 bytes a
/// character: given a whole document at once, that was 4 times the document's size. Offered
/// 64 KiB at a time, it holds no more than that.
fn bounded<R: std::io::Read>(input: R) -> std::io::BufReader<R> {
    std::io::BufReader::with_capacity(64 << 10, input)
}

/// A collection libyaml-safer's path left unread, to read its children again: a new parser on
/// its text alone, from the start of its first line, with what comes before it on that line
/// read as spaces. Columns, and so every token, stay what they were; only the collection's own
/// text is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Region<'t> {
    /// The document's text from the collection's first line on.
    text: &'t str,
    /// Where `text` starts.
    origin: Origin,
    /// The collection's text in `text`: from its first token to its end (the end of its last
    /// line for a block collection, so a block scalar there keeps its line break).
    start: usize,
    end: usize,
    /// The collection's nesting depth.
    depth: usize,
}

impl<'t> Region<'t> {
    pub(crate) fn visit(&self, f: &mut dyn FnMut(children::Gathered<'t>) -> ControlFlow<()>) {
        let pad = vec![b' '; self.start];
        let input = std::io::Read::chain(&pad[..], &self.text.as_bytes()[self.start..self.end]);
        let mut parser = Parser::new();
        parser.set_input(bounded(input));
        let mut builder = Builder {
            parser,
            text: self.text,
            origin: self.origin,
            wanted: &|_| true,
            stopped: None,
            unread: true,
        };
        let read = builder.children(self.depth, f);
        // This text was read so once; a second reading cannot fail.
        assert!(read.is_ok(), "an unread collection reads again as it read");
    }
}

struct Builder<'a, 'b, R> {
    parser: Parser<R>,
    /// The document's text, which `parser` reads.
    text: &'b str,
    origin: Origin,
    wanted: &'a dyn Fn(&str) -> bool,
    /// Set when `wanted` refused the kind: unwinds the recursion without an error.
    stopped: Option<String>,
    /// Long collections may be left unread ([`Region`]).
    unread: bool,
}

struct Event {
    data: EventData,
    start: usize,
    end: usize,
    line: usize,
    col: usize,
    end_line: usize,
    end_col: usize,
}

impl<'b, R: std::io::BufRead> Builder<'_, 'b, R> {
    fn next(&mut self) -> Result<Event, SyntaxError> {
        match self.parser.parse() {
            Ok(ev) => Ok(Event {
                start: self.origin.offset + ev.start_mark.index as usize,
                end: self.origin.offset + ev.end_mark.index as usize,
                line: self.origin.line + ev.start_mark.line as usize,
                col: ev.start_mark.column as usize,
                end_line: self.origin.line + ev.end_mark.line as usize,
                end_col: ev.end_mark.column as usize,
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
        SyntaxError {
            line,
            col,
            message,
            kind: ErrorKind::Syntax,
        }
    }

    fn document(&mut self) -> Result<Parsed<'b>, SyntaxError> {
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
                            kind: ErrorKind::Syntax,
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

    /// Where the node of `ev` itself starts: past its anchor and tag, if any. libyaml's start
    /// mark is at the first property, but an edit must line up with the content (`key: &a` then
    /// `- x` on the next line: new items go under the dash, not under the `&`).
    fn content_start(&self, ev: &Event) -> (usize, usize, usize) {
        let (anchored, block) = match &ev.data {
            EventData::Scalar { anchor, tag, .. } => (anchor.is_some() || tag.is_some(), None),
            EventData::SequenceStart {
                anchor, tag, style, ..
            } => (
                anchor.is_some() || tag.is_some(),
                Some(*style != SequenceStyle::Flow),
            ),
            EventData::MappingStart {
                anchor, tag, style, ..
            } => (
                anchor.is_some() || tag.is_some(),
                Some(*style != MappingStyle::Flow),
            ),
            _ => (false, None),
        };
        if !anchored {
            return (ev.start, ev.line, ev.col);
        }
        match block {
            // The block collection's start token: its first `-`, `?` or key; for a sequence
            // at its key's indentation (`key: &a` then `- x`), just past the first `-`.
            Some(true) => {
                let dash_before = |i: usize| {
                    i > self.origin.offset
                        && self.text.as_bytes()[i - 1 - self.origin.offset] == b'-'
                };
                if matches!(ev.data, EventData::SequenceStart { .. })
                    && self.text.as_bytes().get(ev.end - self.origin.offset) != Some(&b'-')
                    && dash_before(ev.end)
                {
                    (ev.end - 1, ev.end_line, ev.end_col.saturating_sub(1))
                } else {
                    (ev.end, ev.end_line, ev.end_col)
                }
            }
            // Just past the opening bracket.
            Some(false) => (ev.end - 1, ev.end_line, ev.end_col.saturating_sub(1)),
            None => {
                let base = self.origin.offset;
                let text = self.text.as_bytes();
                let mut i = ev.start - base;
                let end = ev.end - base;
                // Properties are `&name` and `!tag` words; then spaces, breaks and comments.
                while i < end && matches!(text[i], b'&' | b'!') {
                    while i < end && !matches!(text[i], b' ' | b'\t' | b'\n' | b'\r') {
                        i += 1;
                    }
                    while i < end && matches!(text[i], b' ' | b'\t' | b'\n' | b'\r' | b'#') {
                        if text[i] == b'#' {
                            while i < end && text[i] != b'\n' {
                                i += 1;
                            }
                        } else {
                            i += 1;
                        }
                    }
                }
                let skipped = &self.text[ev.start - base..i];
                let breaks = skipped.matches('\n').count();
                let col = match skipped.rfind('\n') {
                    Some(nl) => skipped[nl + 1..].chars().count(),
                    None => ev.col + skipped.chars().count(),
                };
                (base + i, ev.line + breaks, col)
            }
        }
    }

    /// The children of the one collection the parser reads (a [`Region`]), each handed to `f`
    /// until it breaks.
    fn children(
        &mut self,
        depth: usize,
        f: &mut dyn FnMut(children::Gathered<'b>) -> ControlFlow<()>,
    ) -> Result<(), SyntaxError> {
        let open = loop {
            let ev = self.next()?;
            match ev.data {
                EventData::StreamStart { .. } | EventData::DocumentStart { .. } => {}
                _ => break ev,
            }
        };
        let map = match open.data {
            EventData::SequenceStart { .. } => false,
            EventData::MappingStart { .. } => true,
            _ => unreachable!("a region holds a collection"),
        };
        loop {
            let ev = self.next()?;
            if matches!(ev.data, EventData::SequenceEnd | EventData::MappingEnd) {
                return Ok(());
            }
            let first = self.node(ev, depth + 1)?;
            let child = if map {
                let next = self.next()?;
                children::Gathered::Entry(first, self.node(next, depth + 1)?)
            } else {
                children::Gathered::Item(first)
            };
            if f(child).is_break() {
                return Ok(());
            }
        }
    }

    /// Whether the collection starting at `start` (a stream offset) at column `col` may be left
    /// unread: what precedes it on its line must read the same as spaces ([`Region`]), and be
    /// all of its line as libyaml counts it (a character it takes for a line break, such as a
    /// NUL that ends a comment, would make the column differ). Asked once a collection is long.
    fn may_leave_unread(&self, start: usize, col: usize) -> bool {
        let start = start - self.origin.offset;
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let before = &self.text[line_start..start];
        before.is_ascii() && !before.contains('\r') && before.len() == col
    }

    /// Where the collection from `start` (on `line`) to `end` (stream offsets) is read again
    /// from.
    fn region(
        &self,
        start: usize,
        line: usize,
        end: usize,
        flow: bool,
        depth: usize,
    ) -> Region<'b> {
        let (start, end) = (start - self.origin.offset, end - self.origin.offset);
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let end = if flow || self.text[..end].ends_with('\n') {
            end
        } else {
            self.text[end..]
                .find('\n')
                .map_or(self.text.len(), |i| end + i + 1)
        };
        Region {
            text: &self.text[line_start..],
            origin: Origin {
                offset: self.origin.offset + line_start,
                // What precedes `start` on its line holds no line break (`may_leave_unread`).
                line,
            },
            start: start - line_start,
            end: end - line_start,
            depth,
        }
    }

    /// Build the node that starts with `ev`. `depth` is 0 for the document root.
    fn node(&mut self, ev: Event, depth: usize) -> Result<Node<'b>, SyntaxError> {
        // Each level is a stack frame here: refuse what no manifest needs before the stack
        // runs out (a crash would tell the user nothing).
        if depth > MAX_NESTING {
            return Err(SyntaxError {
                line: ev.line,
                col: ev.col,
                message: format!("nested deeper than {MAX_NESTING} levels"),
                kind: ErrorKind::Syntax,
            });
        }
        let (start, line, col) = self.content_start(&ev);
        // A collection with an anchor or a tag keeps its children: where its own text starts
        // is then a guess (`content_start`), and a region must start at its first token.
        let bare = match &ev.data {
            EventData::SequenceStart { anchor, tag, .. }
            | EventData::MappingStart { anchor, tag, .. } => anchor.is_none() && tag.is_none(),
            _ => true,
        };
        let mut keep = if self.unread && bare {
            Keep::UntilLong
        } else {
            Keep::All
        };
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
                let (mut len, mut last_end) = (0, None);
                let mut checks = Checks::new(self.text, self.origin);
                let close = loop {
                    let ev = self.next()?;
                    if let EventData::SequenceEnd = ev.data {
                        break ev.end;
                    }
                    let item = self.node(ev, depth + 1)?;
                    last_end = Some(item.end);
                    let may = || self.may_leave_unread(start, col);
                    gather(&mut keep, &mut len, &mut items, 0, item, &mut checks, may);
                    if self.stopped.is_some() {
                        break 0;
                    }
                };
                let end = collection_end(flow, close, last_end, ev.end);
                let region = || self.region(start, line, end, flow, depth).into();
                let items = children::items(keep, region, len, items, checks);
                (Value::Seq { items, flow }, end)
            }
            EventData::MappingStart { style, .. } => {
                let flow = style == MappingStyle::Flow;
                let mut entries = Vec::new();
                let (mut len, mut last_end) = (0, None);
                let mut checks = Checks::new(self.text, self.origin);
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
                    last_end = Some(value.end);
                    let may = || self.may_leave_unread(start, col);
                    let entry = (key, value);
                    gather(
                        &mut keep,
                        &mut len,
                        &mut entries,
                        0,
                        entry,
                        &mut checks,
                        may,
                    );
                    if self.stopped.is_some() {
                        break 0;
                    }
                };
                let end = collection_end(flow, close, last_end, ev.end);
                let region = || self.region(start, line, end, flow, depth).into();
                let entries = children::entries(keep, region, len, entries, checks);
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

/// A mapping of strings (labels, annotations) read by key, without copying it: a resource's
/// labels can be many, and a selector asks for a few. Non-scalar values count as absent.
#[derive(Debug, Clone, Copy)]
pub struct StringMap<'n, 't>(pub Option<&'n Node<'t>>);

impl<'n> StringMap<'n, '_> {
    pub fn get(&self, key: &str) -> Option<&'n str> {
        self.0?.get(key)?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node<'_> {
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
        // libyaml and Go: a clipped or kept scalar without a final break has none.
        for (text, value) in [
            ("a: |\n  x", "x"),
            ("a: |+\n  x", "x"),
            ("a:\n- >\n  x\n  y", "x y"),
            ("a: |\n  x\n# no break after this comment", "x\n"),
            ("a: |\n  x\n\n  ", "x\n"),
        ] {
            let root = parse(text);
            let a = root.get("a").unwrap();
            let got = a.as_str().or_else(|| a.as_seq()?[0].as_str());
            assert_eq!(got, Some(value), "{text:?}");
        }
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "a: ünï\nb: x\n";
        let root = parse(text);
        assert_eq!(span(text, root.get("b").unwrap()), "x");
    }

    #[test]
    fn nodes_start_after_their_anchor_and_tag() {
        let text = "a: &x\n  - 1\nb: !!seq\n- 2\nc: &m !!map\n  k: v\nd: &f [1]\ne: !!str  x\nf: &e\ng: 1\n";
        let root = parse(text);
        let at = |k: &str| {
            let n = root.get(k).unwrap();
            (&text[n.start..n.end], n.line, n.col)
        };
        assert_eq!(at("a"), ("- 1", 2, 2));
        assert_eq!(at("b"), ("- 2", 4, 0));
        assert_eq!(at("c"), ("k: v", 6, 2));
        assert_eq!(at("d"), ("[1]", 7, 6));
        assert_eq!(at("e"), ("x", 8, 10));
        assert_eq!(at("f"), ("", 9, 5));
    }

    #[test]
    fn aliases_merge_keys_and_duplicate_keys_are_refused() {
        let refused = |text: &str| {
            parse_document(text, Origin { offset: 0, line: 1 }, &|_| true).unwrap_err()
        };
        let e = refused("a: &x 1\nb:\n  c: *x\n");
        assert_eq!((e.kind, e.line, e.col), (ErrorKind::Unsupported, 3, 5));
        assert!(e.message.contains("`*x`"), "{e}");
        let e = refused("a: {<<: {b: 1}}\n");
        assert_eq!((e.kind, e.line), (ErrorKind::Unsupported, 1));
        let e = refused("a:\n  b: 1\n  c: 2\n  b: 3\n");
        assert_eq!((e.kind, e.line), (ErrorKind::DuplicateKey, 4));
        assert!(e.message.contains("lines 2 and 4"), "{e}");
        let many: String = (0..40).map(|i| format!("k{i}: 1\n")).collect();
        let e = refused(&format!("{many}k7: 2\n"));
        assert!(e.message.contains("lines 8 and 41"), "{e}");
        // Quoted `<<` is an ordinary key; an unreferenced anchor is harmless.
        parse("'<<': 1\na: &x 2\n");
    }

    #[test]
    fn a_bom_before_the_first_key_is_skipped_with_positions_kept() {
        for text in [
            "\u{feff}a: 1\n",
            "---\n\u{feff}a: 1\n",
            "--- # c\n# Source: x\n\u{feff}a: 1\n",
        ] {
            let root = parse(text);
            let a = &root.as_map().unwrap()[0].0;
            assert_eq!(&text[a.start..a.end], "a", "{text:?}");
            assert_eq!((a.line, a.col), (text.matches('\n').count(), 0), "{text:?}");
        }
        for text in [
            "a: 1\n\u{feff}b: 2\n",
            "\u{feff}\u{feff}a: 1\n",
            "a: 1\n---\n\u{feff}b: 1\n",
        ] {
            let e = parse_document(text, Origin { offset: 0, line: 1 }, &|_| true).unwrap_err();
            assert!(e.message.contains("byte order mark"), "{text:?}: {e}");
        }
    }
}
