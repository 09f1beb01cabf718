//! The fast path: a strict scanner for the block YAML that Helm and kubectl write.
//!
//! Why it exists: libyaml-safer reads through a `VecDeque<char>`, about 100 instructions per
//! byte, which made YAML tokenizing more than half of every post-render. Rendered charts use a
//! small, regular part of YAML — block mappings and sequences, one-line scalars, literal block
//! scalars, one-line flow collections, comments — and this module reads exactly that part,
//! byte by byte, into the same [`Node`] tree. (No maintained crate is faster with spans:
//! granit-parser, serde-saphyr's parser, measured 0.8–1.7× libyaml-safer's speed on the
//! corpus, about as slow.)
//!
//! Its contract is what keeps it safe: for a document it accepts, it returns exactly the tree
//! libyaml-safer's path would (values, styles, spans, lines, columns); for anything else —
//! anchors, aliases, tags, directives, folded scalars, multi-line plain, quoted or flow scalars,
//! tabs or `\r` outside scalar text, odd indentation, every syntax error — it answers
//! [`Defer`] and the caller parses the document with libyaml-safer, which keeps the last word
//! on everything this module does not know, including all error messages. The differential
//! tests in `fast/tests.rs` (hand-written cases, every document of the corpus when it is
//! present, and seeded mutations of both) hold the two paths to the same trees.

use std::ops::ControlFlow;

use compact_str::CompactString;

use super::children::{Gathered, Keep, entries, gather, items};
use super::{Checks, Node, Origin, Parsed, Scalar, Style, Value};

/// This document needs the full parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Defer;

type R<T> = Result<T, Defer>;

/// Deeper nesting is left to libyaml-safer's path, which reports it: manifests nest a few dozen
/// levels, and the recursion here must not overflow the stack on hostile input.
const MAX_DEPTH: usize = 200;

/// Parse `text` (one document, ending with a line break) or defer to libyaml-safer.
/// `unread`: long collections may be left unread (see `super::children`).
pub(super) fn parse<'t>(
    text: &'t str,
    origin: Origin,
    wanted: &dyn Fn(&str) -> bool,
    unread: bool,
) -> R<Parsed<'t>> {
    if !text.ends_with('\n') || !characters_ok(text) {
        return Err(Defer);
    }
    Scanner::new(text, origin, wanted, unread).document()
}

/// Where an unread collection starts in its document, to read its children again: the same
/// code from the same place over the same text, so they come out as they would have been kept.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rescan<'t> {
    text: &'t str,
    origin: Origin,
    /// The scanner's depth where the collection was read.
    depth: usize,
    start: Start,
}

#[derive(Debug, Clone, Copy)]
enum Start {
    BlockSeq {
        line: Line,
        p: usize,
        indentless: bool,
    },
    /// `p`: the first key.
    BlockMap {
        line: Line,
        p: usize,
    },
    Flow {
        line: Line,
        p: usize,
    },
}

impl<'t> Rescan<'t> {
    fn at(&self) -> usize {
        match self.start {
            Start::BlockSeq { p, .. } | Start::BlockMap { p, .. } | Start::Flow { p, .. } => p,
        }
    }

    /// Hand each child to `f` in order, until it breaks.
    pub(super) fn visit(&self, f: &mut dyn FnMut(Gathered<'t>) -> ControlFlow<()>) {
        let all = |_: &str| true;
        // Long collections inside the children stay unread too: a child can be large.
        let mut scanner = Scanner::new(self.text, self.origin, &all, true);
        scanner.depth = self.depth;
        scanner.visit = Some((self.at(), f));
        let read = match self.start {
            Start::BlockSeq {
                line,
                p,
                indentless,
            } => scanner.block_seq(line, p, indentless).map(drop),
            Start::BlockMap { line, p } => match scanner.key_at(p, line) {
                Ok(Some(key)) => scanner.block_map(line, key, false).map(drop),
                _ => Err(Defer),
            },
            Start::Flow { line, p } => scanner.flow(line, p, self.depth).map(drop),
        };
        // This text was read so once; only the visitor stops a second reading.
        assert!(
            read.is_ok() || scanner.halted,
            "an unread collection reads again as it read"
        );
    }
}

/// Only characters libyaml accepts anywhere, and none that this module leaves to it: `\r`
/// (CRLF documents), a byte order mark inside the stream, C0/C1 control characters, and the
/// other characters libyaml (and so Go's YAML) reads as line breaks — NEL (U+0085), LS
/// (U+2028), PS (U+2029) — which this module, reading lines at `\n`, would take for text.
fn characters_ok(text: &str) -> bool {
    let ascii_ok = |b: u8| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t';
    let bytes = text.as_bytes();
    match bytes.iter().position(|&b| !ascii_ok(b)) {
        None => true,
        Some(i) if bytes[i] < 0x80 => false,
        Some(i) => text[i..].chars().all(|c| match c as u32 {
            c @ 0..=0x7f => ascii_ok(c as u8),
            0x2028 | 0x2029 => false,
            0xa0..=0xd7ff | 0x10000..=0x10ffff => true,
            0xe000..=0xfffd => c != '\u{feff}',
            _ => false,
        }),
    }
}

/// One line of the document: where it starts, how far its indentation goes, where it ends.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    /// Leading spaces.
    indent: usize,
    /// Index of the terminating `\n` (every line has one: the text ends with a line break).
    end: usize,
    /// 0-based line number within the document.
    no: usize,
}

impl Line {
    fn content(&self) -> usize {
        self.start + self.indent
    }
}

struct Scanner<'t, 'w> {
    b: &'t [u8],
    text: &'t str,
    origin: Origin,
    wanted: &'w dyn Fn(&str) -> bool,
    /// Set when `wanted` refused the root mapping's `kind:`: stops the scan like the full path.
    stopped: Option<String>,
    /// Entries and items of the block collections being read, innermost last: each collection
    /// moves its own into an exact-size `Vec` when it ends, instead of growing one per level.
    entries: Vec<(Node<'t>, Node<'t>)>,
    items: Vec<Node<'t>>,
    /// Block collections open around the current position.
    depth: usize,
    /// The last column counted: line start, offset, column (see [`Scanner::column`]).
    column_memo: std::cell::Cell<(usize, usize, usize)>,
    /// Long collections may stay unread ([`Keep::UntilLong`]).
    unread: bool,
    /// A re-read ([`Rescan`]): the collection starting at this offset hands its children here.
    visit: Option<Visitor<'t, 'w>>,
    /// The visitor stopped the re-read.
    halted: bool,
}

type Visitor<'t, 'w> = (usize, &'w mut dyn FnMut(Gathered<'t>) -> ControlFlow<()>);

/// Bytes that cannot start a plain scalar (`-`, `?` and `:` can, when not followed by a space,
/// but those cases are left to libyaml except `-`).
fn indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

impl<'t, 'w> Scanner<'t, 'w> {
    fn new(text: &'t str, origin: Origin, wanted: &'w dyn Fn(&str) -> bool, unread: bool) -> Self {
        Scanner {
            b: text.as_bytes(),
            text,
            origin,
            wanted,
            stopped: None,
            entries: Vec::new(),
            items: Vec::new(),
            depth: 0,
            column_memo: std::cell::Cell::new((usize::MAX, 0, 0)),
            unread,
            visit: None,
            halted: false,
        }
    }

    /// How the collection starting at `start` keeps its children.
    fn keep(&self, start: usize) -> Keep {
        match &self.visit {
            Some((at, _)) if *at == start => Keep::Visit,
            _ if self.unread => Keep::UntilLong,
            _ => Keep::All,
        }
    }

    /// Give a re-read's visitor one child; its stop ends the reading here.
    fn hand_over(&mut self, child: Gathered<'t>) -> R<()> {
        let (_, visit) = self.visit.as_mut().expect("a visitor");
        if visit(child).is_break() {
            self.halted = true;
            return Err(Defer);
        }
        Ok(())
    }

    fn rescan(&self, start: Start) -> Rescan<'t> {
        Rescan {
            text: self.text,
            origin: self.origin,
            depth: self.depth,
            start,
        }
    }

    fn line_at(&self, start: usize, no: usize) -> Line {
        let b = self.b;
        let mut i = start;
        while b[i] == b' ' {
            i += 1;
        }
        let end = if b[i] == b'\n' {
            i
        } else {
            i + memchr::memchr(b'\n', &b[i..]).expect("the text ends with a line break")
        };
        Line {
            start,
            indent: i - start,
            end,
            no,
        }
    }

    /// The next line with content at or after the line starting at `from`, skipping blank and
    /// comment lines; `None` at the end of the document (or at a `...` marker followed only by
    /// blank and comment lines).
    fn next_content(&self, mut from: usize, mut no: usize) -> R<Option<Line>> {
        while from < self.b.len() {
            let line = self.line_at(from, no);
            match self.b[line.content()] {
                b'\n' | b'#' => {}
                b'\t' => return Err(Defer),
                _ if line.indent == 0 && self.marker(line, b'.') => {
                    let rest = self.skip_spaces(line.start + 3)?;
                    if !(self.b[rest] == b'\n' || (self.b[rest] == b'#' && rest > line.start + 3)) {
                        return Err(Defer);
                    }
                    return match self.next_content(line.end + 1, no + 1)? {
                        None => Ok(None),
                        Some(_) => Err(Defer),
                    };
                }
                _ if line.indent == 0 && self.marker(line, b'-') => return Err(Defer),
                _ => return Ok(Some(line)),
            }
            from = line.end + 1;
            no += 1;
        }
        Ok(None)
    }

    /// `---` or `...` at the start of the line, then a space or the line end.
    fn marker(&self, line: Line, c: u8) -> bool {
        let s = &self.b[line.start..=line.end];
        s.len() >= 4 && s[..3].iter().all(|&x| x == c) && matches!(s[3], b' ' | b'\n')
    }

    fn document(&mut self) -> R<Parsed<'t>> {
        // Prologue: blank and comment lines and at most one `---` line (with nothing after it
        // but a comment).
        let mut from = 0;
        let mut no = 0;
        let mut seen_start = false;
        let root_line = loop {
            if from >= self.b.len() {
                return Ok(Parsed::Empty);
            }
            let line = self.line_at(from, no);
            match self.b[line.content()] {
                b'\n' | b'#' => {}
                b'-' if line.indent == 0 && !seen_start && self.marker(line, b'-') => {
                    seen_start = true;
                    let after = self.skip_spaces(line.start + 3)?;
                    if !matches!(self.b[after], b'\n' | b'#')
                        || (self.b[after] == b'#' && after == line.start + 3)
                    {
                        return Err(Defer);
                    }
                }
                b'\t' | b'%' => return Err(Defer),
                _ if line.indent == 0 && (self.marker(line, b'.') || self.marker(line, b'-')) => {
                    return Err(Defer);
                }
                _ => break line,
            }
            from = line.end + 1;
            no += 1;
        };
        let (root, next) = self.block_node(root_line, -1, true)?;
        if let Some(kind) = self.stopped.take() {
            return Ok(Parsed::Skipped { kind });
        }
        if next.is_some() {
            return Err(Defer);
        }
        Ok(if root.is_null() {
            Parsed::Empty
        } else {
            Parsed::Node(root)
        })
    }

    /// Skip spaces from `i`; a tab there is left to libyaml.
    fn skip_spaces(&self, mut i: usize) -> R<usize> {
        while self.b[i] == b' ' {
            i += 1;
        }
        if self.b[i] == b'\t' {
            return Err(Defer);
        }
        Ok(i)
    }

    /// The node whose first token starts `line`'s content, inside a block collection indented
    /// `parent` (-1 at the root). Returns it and the next content line after it.
    fn block_node(&mut self, line: Line, parent: isize, root: bool) -> R<(Node<'t>, Option<Line>)> {
        let p = line.content();
        if self.dash(p) {
            self.block_seq(line, p, false)
        } else if let Some(key) = self.key_at(p, line)? {
            self.block_map(line, key, root)
        } else {
            self.inline_value(line, p, parent)
        }
    }

    /// `-` followed by a space or the line end.
    fn dash(&self, p: usize) -> bool {
        self.b[p] == b'-' && matches!(self.b[p + 1], b' ' | b'\n')
    }

    /// A stream-absolute node.
    fn node(&self, start: usize, end: usize, line: Line, value: Value<'t>) -> Node<'t> {
        Node {
            start: self.origin.offset + start,
            end: self.origin.offset + end,
            line: self.origin.line + line.no,
            col: self.column(line.start, start),
            value,
        }
    }

    /// libyaml counts columns in characters. Nodes on one line are asked for left to right, so
    /// counting resumes from the last answer: a one-line flow list with a million items is
    /// counted once, not once per item (which was quadratic).
    fn column(&self, line_start: usize, at: usize) -> usize {
        let (memo_line, memo_at, memo_col) = self.column_memo.get();
        let (from, col) = if memo_line == line_start && memo_at <= at {
            (memo_at, memo_col)
        } else {
            (line_start, 0)
        };
        let part = &self.b[from..at];
        let col = col
            + if part.is_ascii() {
                part.len()
            } else {
                self.text[from..at].chars().count()
            };
        self.column_memo.set((line_start, at, col));
        col
    }

    fn scalar(
        &self,
        start: usize,
        end: usize,
        line: Line,
        text: impl Into<CompactString>,
        style: Style,
    ) -> Node<'t> {
        let scalar = Scalar {
            text: text.into(),
            style,
            tagged: false,
        };
        self.node(start, end, line, Value::Scalar(scalar))
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Defer);
        }
        Ok(())
    }

    /// A block mapping whose first key (already scanned) is on `line`; its entries are the lines
    /// indented like that key.
    fn block_map(
        &mut self,
        mut line: Line,
        mut key: Key<'t>,
        root: bool,
    ) -> R<(Node<'t>, Option<Line>)> {
        let col = key.node.start - self.origin.offset - line.start;
        let (start, first_line) = (key.node.start - self.origin.offset, line);
        let rescan = self.rescan(Start::BlockMap { line, p: start });
        self.enter()?;
        let base = self.entries.len();
        let mut keep = self.keep(start);
        let mut checks = Checks::new(self.text, self.origin);
        let mut len = 0;
        let mut end;
        let next = loop {
            let (value, next) = self.value_after(line, key.colon + 1, col as isize, true)?;
            let stop = root
                && key.node.as_str() == Some("kind")
                && value.as_str().is_some_and(|kind| !(self.wanted)(kind));
            if stop {
                self.stopped = value.as_str().map(str::to_owned);
            }
            end = value.end - self.origin.offset;
            if keep == Keep::Visit {
                self.hand_over(Gathered::Entry(key.node, value))?;
            } else {
                let entry = (key.node, value);
                gather(
                    &mut keep,
                    &mut len,
                    &mut self.entries,
                    base,
                    entry,
                    &mut checks,
                    || true,
                );
            }
            if stop {
                break None;
            }
            match next {
                Some(l) if l.indent == col => {
                    line = l;
                    key = self.key_at(l.content(), l)?.ok_or(Defer)?;
                }
                Some(l) if l.indent > col => return Err(Defer),
                other => break other,
            }
        };
        let kept = take_from(&mut self.entries, base);
        let entries = entries(keep, || rescan.into(), len, kept, checks);
        let value = Value::Map {
            entries,
            flow: false,
        };
        self.depth -= 1;
        Ok((self.node(start, end, first_line, value), next))
    }

    /// A block sequence whose first `-` is at `p` on `line`. `indentless`: the sequence is a
    /// mapping value at the mapping's own indentation (`key:\n- a`), so a line at that
    /// indentation that is not an entry ends it instead of being an error.
    fn block_seq(
        &mut self,
        mut line: Line,
        mut p: usize,
        indentless: bool,
    ) -> R<(Node<'t>, Option<Line>)> {
        let col = p - line.start;
        let (start, first_line) = (p, line);
        let rescan = self.rescan(Start::BlockSeq {
            line,
            p,
            indentless,
        });
        self.enter()?;
        let base = self.items.len();
        let mut keep = self.keep(start);
        let mut checks = Checks::new(self.text, self.origin);
        let mut len = 0;
        let mut end;
        let next = loop {
            let (item, next) = self.value_after(line, p + 1, col as isize, false)?;
            end = item.end - self.origin.offset;
            if keep == Keep::Visit {
                self.hand_over(Gathered::Item(item))?;
            } else {
                gather(
                    &mut keep,
                    &mut len,
                    &mut self.items,
                    base,
                    item,
                    &mut checks,
                    || true,
                );
            }
            match next {
                Some(l) if l.indent == col && self.dash(l.content()) => {
                    line = l;
                    p = l.content();
                }
                Some(l) if l.indent == col && indentless => break Some(l),
                Some(l) if l.indent >= col => return Err(Defer),
                other => break other,
            }
        };
        let kept = take_from(&mut self.items, base);
        let items = items(keep, || rescan.into(), len, kept, checks);
        let value = Value::Seq { items, flow: false };
        self.depth -= 1;
        Ok((self.node(start, end, first_line, value), next))
    }

    /// The value after a mapping's `:` or a sequence's `-` (at `p`, just past the indicator),
    /// in a block collection indented `parent`.
    fn value_after(
        &mut self,
        line: Line,
        p: usize,
        parent: isize,
        in_map: bool,
    ) -> R<(Node<'t>, Option<Line>)> {
        let q = self.skip_spaces(p)?;
        if matches!(self.b[q], b'\n' | b'#') {
            let next = self.next_content(line.end + 1, line.no + 1)?;
            return match next {
                Some(l) if l.indent as isize > parent => self.block_node(l, parent, false),
                Some(l) if in_map && l.indent as isize == parent && self.dash(l.content()) => {
                    self.block_seq(l, l.content(), true)
                }
                // libyaml's empty scalar sits at the end of the indicator.
                _ => Ok((self.scalar(p, p, line, "", Style::Plain), next)),
            };
        }
        if in_map {
            if self.dash(q) {
                return Err(Defer); // `key: - x` is an error
            }
            return self.inline_value(line, q, parent);
        }
        if self.dash(q) {
            // `- - x`: a sequence nested on the same line.
            return self.block_seq(line, q, false);
        }
        match self.key_at(q, line)? {
            // `- key: value`: a mapping nested on the same line.
            Some(key) => self.block_map(line, key, false),
            None => self.inline_value(line, q, parent),
        }
    }

    /// A scalar or flow collection starting at `p` (not a key, not a `-` entry), inside a block
    /// collection indented `parent`.
    fn inline_value(&mut self, line: Line, p: usize, parent: isize) -> R<(Node<'t>, Option<Line>)> {
        let b = self.b;
        let (node, after, last) = match b[p] {
            b'|' => return self.literal(line, p, parent),
            b'[' | b'{' => {
                let (node, after) = self.flow(line, p, self.depth)?;
                (node, after, line)
            }
            b'"' | b'\'' => {
                let (node, end) = self.quoted(line, p)?;
                (node, end, line)
            }
            b'-' | b'?' | b':' if !matches!(b[p + 1], b' ' | b'\n' | b'\t') => {
                self.plain(line, p, parent)?
            }
            c if indicator(c) => return Err(Defer),
            _ => self.plain(line, p, parent)?,
        };
        // After the value only a comment may follow on its line, and the next content line must
        // not be indented under it (that would continue a multi-line scalar this function did
        // not read, or be an error: either way libyaml's business).
        let rest = self.skip_spaces(after)?;
        if !(b[rest] == b'\n' || (b[rest] == b'#' && rest > after)) {
            return Err(Defer);
        }
        let next = self.next_content(last.end + 1, last.no + 1)?;
        if next.is_some_and(|l| l.indent as isize > parent) {
            return Err(Defer);
        }
        Ok((node, next))
    }

    /// A plain scalar in block context starting at `p`, inside a block collection indented
    /// `parent`: to the end of its line or a comment, and over the following lines indented
    /// more than `parent` (folded as YAML does: one line break becomes a space, `n` blank lines
    /// become `n` line breaks). Returns the node, the offset just past it and its last line.
    fn plain(&self, line: Line, p: usize, parent: isize) -> R<(Node<'t>, usize, Line)> {
        let b = self.b;
        let (mut end, commented) = self.plain_line(p, line)?;
        let mut text = CompactString::from(&self.text[p..end]);
        let mut last = line;
        // A comment ends a plain scalar; so does the end of the document.
        if !commented && parent >= 0 {
            let mut from = line.end + 1;
            let mut no = line.no + 1;
            let mut blank = 0;
            while from < b.len() {
                let l = self.line_at(from, no);
                let c = l.content();
                if b[c] == b'\n' {
                    blank += 1;
                } else if b[c] == b'#' || l.indent as isize <= parent {
                    break;
                } else {
                    let (line_end, commented) = self.plain_line(c, l)?;
                    if commented {
                        return Err(Defer);
                    }
                    if blank == 0 {
                        text.push(' ');
                    }
                    for _ in 0..blank {
                        text.push('\n');
                    }
                    text.push_str(&self.text[c..line_end]);
                    blank = 0;
                    end = line_end;
                    last = l;
                }
                from = l.end + 1;
                no += 1;
            }
        }
        Ok((self.scalar(p, end, line, text, Style::Plain), end, last))
    }

    /// One line's part of a plain scalar starting at `p`: where it ends (trailing spaces
    /// trimmed) and whether a comment follows.
    fn plain_line(&self, p: usize, line: Line) -> R<(usize, bool)> {
        let b = self.b;
        // One pass over the candidates: `: ` inside a value is an error and a trailing `:`
        // makes it a key (libyaml's business either way), ` #` starts a comment, tabs are left
        // alone.
        let mut i = p;
        let mut comment = line.end;
        while let Some(off) = memchr::memchr3(b':', b'#', b'\t', &b[i..line.end]) {
            let c = i + off;
            match b[c] {
                b'#' if c > p && b[c - 1] == b' ' => {
                    comment = c;
                    break;
                }
                b'#' => {}
                b':' if matches!(b[c + 1], b' ' | b'\n') => return Err(Defer),
                b':' => {}
                _ => return Err(Defer),
            }
            i = c + 1;
        }
        let mut end = comment;
        while end > p && b[end - 1] == b' ' {
            end -= 1;
        }
        Ok((end, comment < line.end))
    }

    /// A quoted scalar on one line starting at `p` (`'` or `"`) and the offset past its closing
    /// quote.
    fn quoted(&self, line: Line, p: usize) -> R<(Node<'t>, usize)> {
        let (text, end) = self.quoted_text(p)?;
        let style = if self.b[p] == b'"' {
            Style::DoubleQuoted
        } else {
            Style::SingleQuoted
        };
        Ok((self.scalar(p, end, line, text, style), end))
    }

    /// The value of the quoted scalar at `p` and the offset past its closing quote.
    fn quoted_text(&self, p: usize) -> R<(String, usize)> {
        let b = self.b;
        let mut out = String::new();
        let mut i = p + 1;
        if b[p] == b'\'' {
            loop {
                let j = i + memchr::memchr2(b'\'', b'\n', &b[i..]).ok_or(Defer)?;
                if b[j] == b'\n' {
                    return Err(Defer);
                }
                out.push_str(&self.text[i..j]);
                if b[j + 1] == b'\'' {
                    out.push('\'');
                    i = j + 2;
                } else {
                    return Ok((out, j + 1));
                }
            }
        }
        loop {
            let j = i + memchr::memchr3(b'"', b'\\', b'\n', &b[i..]).ok_or(Defer)?;
            out.push_str(&self.text[i..j]);
            match b[j] {
                b'"' => return Ok((out, j + 1)),
                b'\n' => return Err(Defer),
                _ => {
                    let (c, len) = self.escape(j + 1)?;
                    out.push(c);
                    i = j + 1 + len;
                }
            }
        }
    }

    /// The double-quoted escape whose letter is at `i`: the character and how many bytes the
    /// escape takes after the backslash. An escaped line break (a multi-line scalar) defers.
    fn escape(&self, i: usize) -> R<(char, usize)> {
        let simple = match self.b[i] {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' => return self.hex_escape(i, 2),
            b'u' => return self.hex_escape(i, 4),
            b'U' => return self.hex_escape(i, 8),
            _ => return Err(Defer),
        };
        Ok((simple, 1))
    }

    fn hex_escape(&self, i: usize, digits: usize) -> R<(char, usize)> {
        let hex = self.text.get(i + 1..i + 1 + digits).ok_or(Defer)?;
        if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(Defer);
        }
        let code = u32::from_str_radix(hex, 16).map_err(|_| Defer)?;
        Ok((char::from_u32(code).ok_or(Defer)?, 1 + digits))
    }

    /// A literal block scalar (`|`, `|-`, `|+`, optionally with an indentation indicator) whose
    /// indicator is at `p`, inside a block collection indented `parent`.
    fn literal(&self, line: Line, p: usize, parent: isize) -> R<(Node<'t>, Option<Line>)> {
        let b = self.b;
        let mut i = p + 1;
        let mut chomp = 0i8; // -1 strip, 0 clip, 1 keep
        let mut increment = 0usize;
        for _ in 0..2 {
            match b[i] {
                b'-' if chomp == 0 => chomp = -1,
                b'+' if chomp == 0 => chomp = 1,
                c @ b'1'..=b'9' if increment == 0 => increment = (c - b'0') as usize,
                _ => break,
            }
            i += 1;
        }
        let rest = self.skip_spaces(i)?;
        if !(b[rest] == b'\n' || (b[rest] == b'#' && rest > i)) {
            return Err(Defer);
        }
        let min = (parent + 1).max(1) as usize;
        let mut indent = if increment > 0 {
            (parent.max(0) as usize) + increment
        } else {
            0
        };
        let mut from = line.end + 1;
        let mut no = line.no + 1;
        let mut value = String::new();
        let mut content = false; // a content line was seen
        let mut breaks = 0usize; // blank lines since the last content line
        let mut widest_blank = 0usize; // most spaces on a blank line before the first content
        let end = loop {
            if from >= b.len() {
                break from;
            }
            let limit = if indent == 0 { usize::MAX } else { indent };
            let mut s = from;
            while s - from < limit && b[s] == b' ' {
                s += 1;
            }
            let spaces = s - from;
            if b[s] == b'\n' && (indent == 0 || spaces <= indent) {
                if indent == 0 {
                    widest_blank = widest_blank.max(spaces);
                }
                breaks += 1;
                from = s + 1;
                no += 1;
                continue;
            }
            if indent == 0 {
                // A tab where indentation is expected; an empty scalar; leading blank lines
                // indented further than the first content line (libyaml then takes their
                // indentation, and the scalar ends before that line): libyaml's business.
                if b[s] == b'\t' || spaces < min || spaces < widest_blank {
                    return Err(Defer);
                }
                indent = spaces;
            }
            if spaces < indent {
                if b[s] == b'\t' {
                    return Err(Defer);
                }
                break from;
            }
            let line_end = s + memchr::memchr(b'\n', &b[s..]).expect("ends with a line break");
            if content {
                value.push('\n');
            }
            for _ in 0..breaks {
                value.push('\n');
            }
            value.push_str(&self.text[s..line_end]);
            content = true;
            breaks = 0;
            from = line_end + 1;
            no += 1;
        };
        if !content {
            return Err(Defer);
        }
        match chomp {
            0 => value.push('\n'),
            1 => {
                for _ in 0..=breaks {
                    value.push('\n');
                }
            }
            _ => {}
        }
        let node = self.scalar(p, end, line, value, Style::Literal);
        let next = self.next_content(end, no)?;
        if next.is_some_and(|l| l.indent as isize > parent) {
            return Err(Defer);
        }
        Ok((node, next))
    }

    /// A flow collection on one line starting at `p` (`[` or `{`): the node and the offset past
    /// its closing bracket.
    fn flow(&mut self, line: Line, p: usize, depth: usize) -> R<(Node<'t>, usize)> {
        if depth >= MAX_DEPTH {
            return Err(Defer);
        }
        let b = self.b;
        let close = if b[p] == b'[' { b']' } else { b'}' };
        let mut rescan = self.rescan(Start::Flow { line, p });
        rescan.depth = depth;
        let mut keep = self.keep(p);
        let mut checks = Checks::new(self.text, self.origin);
        let mut len = 0;
        let mut i = self.skip_spaces(p + 1)?;
        let mut items = Vec::new();
        let mut entries = Vec::new();
        if b[i] != close {
            loop {
                if close == b']' {
                    let (item, after) = self.flow_node(line, i, depth)?;
                    if keep == Keep::Visit {
                        self.hand_over(Gathered::Item(item))?;
                    } else {
                        gather(
                            &mut keep,
                            &mut len,
                            &mut items,
                            0,
                            item,
                            &mut checks,
                            || true,
                        );
                    }
                    i = self.skip_spaces(after)?;
                } else {
                    let (key, after) = self.flow_node(line, i, depth)?;
                    if !matches!(key.value, Value::Scalar(_)) {
                        return Err(Defer);
                    }
                    let colon = self.skip_spaces(after)?;
                    if b[colon] != b':' || b[colon + 1] != b' ' {
                        return Err(Defer);
                    }
                    let v = self.skip_spaces(colon + 1)?;
                    let (value, after) = self.flow_node(line, v, depth)?;
                    if keep == Keep::Visit {
                        self.hand_over(Gathered::Entry(key, value))?;
                    } else {
                        gather(
                            &mut keep,
                            &mut len,
                            &mut entries,
                            0,
                            (key, value),
                            &mut checks,
                            || true,
                        );
                    }
                    i = self.skip_spaces(after)?;
                }
                match b[i] {
                    b',' => {
                        i = self.skip_spaces(i + 1)?;
                        if b[i] == close {
                            return Err(Defer); // trailing comma
                        }
                    }
                    c if c == close => break,
                    _ => return Err(Defer),
                }
            }
        }
        let value = if close == b']' {
            Value::Seq {
                items: self::items(keep, || rescan.into(), len, items, checks),
                flow: true,
            }
        } else {
            Value::Map {
                entries: self::entries(keep, || rescan.into(), len, entries, checks),
                flow: true,
            }
        };
        Ok((self.node(p, i + 1, line, value), i + 1))
    }

    /// A node inside a one-line flow collection.
    fn flow_node(&mut self, line: Line, p: usize, depth: usize) -> R<(Node<'t>, usize)> {
        let b = self.b;
        match b[p] {
            b'[' | b'{' => self.flow(line, p, depth + 1),
            b'"' | b'\'' => self.quoted(line, p),
            b'-' if !matches!(
                b[p + 1],
                b' ' | b'\n' | b'\t' | b',' | b'[' | b']' | b'{' | b'}'
            ) =>
            {
                self.flow_plain(line, p)
            }
            c if indicator(c) => Err(Defer),
            _ => self.flow_plain(line, p),
        }
    }

    /// A plain scalar inside a flow collection: up to a flow indicator. A `:` or `#` inside it
    /// is left to libyaml (their flow-context rules differ between YAML versions).
    fn flow_plain(&self, line: Line, p: usize) -> R<(Node<'t>, usize)> {
        let b = self.b;
        let mut i = p;
        while !matches!(
            b[i],
            b',' | b'[' | b']' | b'{' | b'}' | b':' | b'#' | b'\n' | b'\t'
        ) {
            i += 1;
        }
        if !matches!(b[i], b',' | b']' | b'}' | b':') {
            return Err(Defer);
        }
        let mut end = i;
        while end > p && b[end - 1] == b' ' {
            end -= 1;
        }
        if end == p {
            return Err(Defer);
        }
        let node = self.scalar(p, end, line, &self.text[p..end], Style::Plain);
        Ok((node, end))
    }

    /// The mapping key starting at `p`, if the text there is `key:` followed by a space or the
    /// line end (a plain key up to the first such `:`, or a one-line quoted key).
    fn key_at(&self, p: usize, line: Line) -> R<Option<Key<'t>>> {
        let b = self.b;
        match b[p] {
            b'"' | b'\'' => {
                let (node, end) = self.quoted(line, p)?;
                let colon = self.skip_spaces(end)?;
                if b[colon] == b':' && matches!(b[colon + 1], b' ' | b'\n') {
                    return Ok(Some(Key { node, colon }));
                }
                Ok(None)
            }
            b'-' if !matches!(b[p + 1], b' ' | b'\n' | b'\t') => self.plain_key(p, line),
            c if indicator(c) => Ok(None),
            _ => self.plain_key(p, line),
        }
    }

    fn plain_key(&self, p: usize, line: Line) -> R<Option<Key<'t>>> {
        let b = self.b;
        let limit = comment_start(b, p, line.end);
        let mut i = p;
        let colon = loop {
            match memchr::memchr(b':', &b[i..limit]) {
                None => return Ok(None),
                Some(off) => {
                    let c = i + off;
                    if matches!(b[c + 1], b' ' | b'\n') {
                        break c;
                    }
                    i = c + 1;
                }
            }
        };
        let mut end = colon;
        while end > p && b[end - 1] == b' ' {
            end -= 1;
        }
        if end == p || end - p > 1024 || memchr::memchr(b'\t', &b[p..end]).is_some() {
            return Err(Defer);
        }
        let node = self.scalar(p, end, line, &self.text[p..end], Style::Plain);
        Ok(Some(Key { node, colon }))
    }
}

/// The collection's own entries, `stack[base..]`, as an exact-size `Vec`. When they are most of
/// the stack (one huge list), the stack itself becomes the `Vec` and the few entries below
/// `base` move to a new stack: copying a million nodes into a second buffer would hold both
/// (3x the nodes' memory at the peak, with the stack's spare capacity).
fn take_from<T>(stack: &mut Vec<T>, base: usize) -> Vec<T> {
    let len = stack.len() - base;
    if len <= 64 || len < base {
        return stack.drain(base..).collect();
    }
    let mut own = std::mem::take(stack);
    stack.extend(own.drain(..base));
    own.shrink_to_fit();
    own
}

/// A mapping key and the offset of its `:`.
struct Key<'t> {
    node: Node<'t>,
    colon: usize,
}

/// Where a comment starts on the line (` #`), or the line end.
fn comment_start(b: &[u8], p: usize, line_end: usize) -> usize {
    let mut i = p;
    while let Some(off) = memchr::memchr(b'#', &b[i..line_end]) {
        let h = i + off;
        if h > p && b[h - 1] == b' ' {
            return h;
        }
        i = h + 1;
    }
    line_end
}

#[cfg(test)]
mod tests;
