//! A multi-document YAML stream, split into documents that keep their raw text.
//!
//! Splitting is textual, on whole lines: YAML forbids `---` and `...` at column 0 inside a
//! document's content (even inside block scalars), so such a line is always a document marker.
//! Each document keeps its `---` line and header comments (`# Source: ...`), which is what lets
//! untouched documents pass through byte for byte.

use std::ops::Range;

use crate::error::InputError;

/// The input, validated as UTF-8 and split into documents.
#[derive(Debug)]
pub struct Stream<'a> {
    /// The input without a leading byte order mark; every offset in the crate indexes this.
    pub text: &'a str,
    /// The input started with a UTF-8 BOM (it is written back first).
    pub bom: bool,
    /// The line ending added text uses: the stream's own (`\r\n` if its first line ends so).
    pub newline: &'static str,
    pub docs: Vec<Document>,
}

/// One document of the stream: its byte range and what its header comments say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// 1-based position among the stream's non-blank documents, as a user would count them.
    pub index: usize,
    pub range: Range<usize>,
    /// 1-based line of the document's first line (its `---` line when it has one).
    pub line: usize,
    /// Helm 3's `# Source: chart/templates/x.yaml` header comment.
    pub source: Option<String>,
    /// Whether the document starts with a `---` line.
    pub explicit_start: bool,
    /// Where the text after a `...` line starts: up to the next `---` line, Helm and kubectl
    /// (which cut streams at `---` only, then read one YAML document per piece) never read it,
    /// so it is kept as it is and not parsed.
    pub unread: Option<usize>,
}

const BOM: &str = "\u{feff}";

impl<'a> Stream<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Stream<'a>, InputError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let at = e.valid_up_to();
            // The document it is in: the last one the valid text before it starts.
            let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            let valid = valid.strip_prefix(BOM).unwrap_or(valid);
            let docs = split(valid);
            let doc = docs.last();
            InputError::InvalidUtf8 {
                offset: at,
                line: 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count(),
                doc: doc.map_or(1, |d| d.index),
                file: doc.and_then(|d| d.source.clone()),
            }
        })?;
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let newline = match text.find('\n') {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
            _ => "\n",
        };
        Ok(Stream {
            text,
            bom,
            newline,
            docs: split(text),
        })
    }

    /// The document's YAML: its text up to the end of a `...` marker, if it has one.
    pub fn doc_text(&self, doc: &Document) -> &'a str {
        &self.text[doc.range.start..doc.unread.unwrap_or(doc.range.end)]
    }
}

/// Whether the line starting at the text is a document marker (`---`/`...` then blank or EOL).
fn marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

fn split(text: &str) -> Vec<Document> {
    let bytes = text.as_bytes();
    // Only lines that start with `---` or `...` can be markers: find just those with SIMD
    // substring search instead of walking every line (this runs on every byte of the input).
    let mut starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memmem::find_iter(bytes, b"\n---").map(|i| i + 1))
        .chain(memchr::memmem::find_iter(bytes, b"\n...").map(|i| i + 1))
        .collect();
    starts.sort_unstable();
    // Cut points: a `---` line starts a document. A `...` line ends one's YAML, and the text
    // after it, up to the next `---`, is read by nobody (see `Document::unread`).
    let mut cuts = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    for &at in &starts {
        let line_end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        let line = &text[at..line_end];
        if marker(line, "---") && at > 0 {
            cuts.push(at);
        } else if marker(line, "...") {
            // Just the marker: what follows it on its line is not read either.
            ends.push(at + 3);
        }
    }

    let mut docs = Vec::new();
    let mut line = 1;
    let mut counted = 0;
    let mut start = 0;
    let mut next_end = 0;
    for end in cuts.into_iter().chain(std::iter::once(bytes.len())) {
        if end <= start {
            continue;
        }
        // The first `...` in this piece ends the YAML Helm reads (both lists are sorted).
        while ends.get(next_end).is_some_and(|&e| e <= start) {
            next_end += 1;
        }
        let unread = ends.get(next_end).copied().filter(|&e| e < end);
        let body = &text[start..unread.unwrap_or(end)];
        // Nothing but whitespace, or comments before the first `---`: its bytes join the
        // neighbours' ranges below, but it is not counted as a document (YAML has none there;
        // counting one would shift every index and make the output grow an empty document).
        let prologue = docs.is_empty() && end < bytes.len() && only_comments(body);
        if !body.trim().is_empty() && !prologue {
            line += memchr::memchr_iter(b'\n', &bytes[counted..start]).count();
            counted = start;
            docs.push(Document {
                index: docs.len() + 1,
                explicit_start: marker(body, "---"),
                source: source_comment(body),
                range: start..end,
                line,
                unread,
            });
        }
        start = end;
    }
    // Stretch each document over the blank text before the next one, so the documents tile the
    // whole input and writing them back loses nothing.
    for i in 0..docs.len() {
        let next = docs.get(i + 1).map_or(text.len(), |d| d.range.start);
        docs[i].range.end = next;
    }
    if let Some(first) = docs.first_mut() {
        first.range.start = 0;
    }
    docs
}

/// Only blank and comment lines (a `---` line is neither).
fn only_comments(body: &str) -> bool {
    body.lines().all(|l| {
        let l = l.trim_start_matches([' ', '\t']);
        l.trim().is_empty() || l.starts_with('#')
    })
}

/// The value of the document's top-level `kind:` line, read off the text without parsing.
///
/// Only a key of the root mapping can start at column 0 (nested keys are indented and a block
/// scalar's lines are indented past their key), so a single plain `kind: Word` line at column 0
/// names the kind. Anything less clear-cut (no such line, two of them, a quoted or flow value)
/// returns `None` and the caller parses. This lets a 1 MB CRD be skipped without starting the
/// YAML parser at all.
pub fn top_level_kind(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    // YAML also breaks lines at a lone `\r`, NEL, LS and PS: a `kind:` after one of those is a
    // root key this line-based reading would miss.
    if other_line_breaks(bytes) {
        return None;
    }
    let mut found = None;
    let lines = (bytes.starts_with(b"kind:").then_some(0))
        .into_iter()
        .chain(memchr::memmem::find_iter(bytes, b"\nkind:").map(|i| i + 1));
    for at in lines {
        let rest = &text[at + "kind:".len()..];
        let line = rest.split('\n').next().unwrap_or_default();
        let value = line.split(" #").next().unwrap_or_default().trim();
        if found.is_some() || value.is_empty() || !value.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return None;
        }
        found = Some(value);
    }
    found
}

/// Whether `bytes` breaks a line anywhere but at `\n` (and `\r\n`).
pub(crate) fn other_line_breaks(bytes: &[u8]) -> bool {
    ["\u{85}", "\u{2028}", "\u{2029}"]
        .iter()
        .any(|b| memchr::memmem::find(bytes, b.as_bytes()).is_some())
        || memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'))
}

/// The `# Source:` path among the comments that open a document.
fn source_comment(body: &str) -> Option<String> {
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        if marker(line, "---") && line[3..].trim().is_empty() {
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let comment = trimmed.strip_prefix('#')?;
        if let Some(path) = comment.trim_start().strip_prefix("Source:") {
            return Some(path.trim().to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(s: &Stream<'a>) -> Vec<&'a str> {
        s.docs.iter().map(|d| s.doc_text(d)).collect()
    }

    #[test]
    fn helm3_stream() {
        let input = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n";
        let s = Stream::parse(input.as_bytes()).unwrap();
        assert_eq!(
            texts(&s),
            [
                "---\n# Source: c/templates/a.yaml\nkind: A\n",
                "---\n# Source: c/templates/b.yaml\nkind: B\n"
            ]
        );
        assert_eq!(s.docs[1].source.as_deref(), Some("c/templates/b.yaml"));
        assert_eq!(s.docs[1].line, 4);
        assert_eq!(s.docs[1].index, 2);
    }

    #[test]
    fn documents_tile_the_input() {
        for input in [
            "kind: A\n---\nkind: B",
            "\n\n---\nkind: A\n---\n\n---\nkind: B\n\n",
            "kind: A\n...\n# after end\n---\nkind: B\n",
            "kind: A\n...\nnot read\n",
            "--- # comment\nkind: A\n---\t\nkind: B\n",
            "",
            "# only a comment\n",
            "# leading comment\n---\nkind: A\n",
        ] {
            let s = Stream::parse(input.as_bytes()).unwrap();
            let whole: String = s.docs.iter().map(|d| &s.text[d.range.clone()]).collect();
            assert_eq!(whole, input, "{input:?}");
        }
    }

    #[test]
    fn markers_need_column_zero_and_a_break() {
        let s = Stream::parse(b"a: |\n  ---\n---x: 1\nb: 2\n").unwrap();
        assert_eq!(s.docs.len(), 1);
    }

    #[test]
    fn text_after_a_document_end_marker_is_not_read() {
        // Helm and kubectl cut at `---` only and read one document per piece.
        let s = Stream::parse(b"kind: A\n... # end\nkind: B\n  bad: [\n---\nkind: C\n").unwrap();
        assert_eq!(texts(&s), ["kind: A\n...", "---\nkind: C\n"]);
        assert_eq!(s.docs[0].unread, Some(11));
        assert_eq!(s.docs[0].range, 0..35);
        assert_eq!(s.docs[1].index, 2);
    }

    #[test]
    fn bom_and_crlf() {
        let s = Stream::parse("\u{feff}---\r\nkind: A\r\n---\r\nkind: B\r\n".as_bytes()).unwrap();
        assert!(s.bom);
        assert_eq!(s.newline, "\r\n");
        assert_eq!(texts(&s), ["---\r\nkind: A\r\n", "---\r\nkind: B\r\n"]);
    }

    #[test]
    fn top_level_kind_only_when_clear() {
        assert_eq!(
            top_level_kind("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"),
            Some("ConfigMap")
        );
        assert_eq!(top_level_kind("kind: Secret # comment\r\n"), Some("Secret"));
        assert_eq!(top_level_kind("{kind: Secret}"), None);
        assert_eq!(top_level_kind("kind: 'Secret'\n"), None);
        assert_eq!(top_level_kind("kind: A\nkind: B\n"), None);
        assert_eq!(top_level_kind("spec:\n  kind: Secret\n"), None);
        assert_eq!(
            top_level_kind("items:\n- kind: Pod\nkind: List\n"),
            Some("List")
        );
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = Stream::parse(b"a: 1\nb: \xff\n").unwrap_err();
        assert!(matches!(
            err,
            InputError::InvalidUtf8 {
                line: 2,
                offset: 8,
                doc: 1,
                ..
            }
        ));
        let err =
            Stream::parse(b"---\n# Source: a.yaml\nkind: A\n---\n# Source: b.yaml\nb: \xff\n")
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "input is not valid UTF-8: document 2 from b.yaml, line 6 (byte 53)"
        );
    }

    #[test]
    fn comments_before_the_first_marker_are_no_document() {
        let s = Stream::parse(b"# generated\n\n---\n# Source: a.yaml\nkind: A\n---\nkind: B\n")
            .unwrap();
        assert_eq!(s.docs.len(), 2);
        assert_eq!(s.docs[0].range.start, 0);
        assert_eq!((s.docs[0].index, s.docs[0].line), (1, 3));
        assert_eq!(s.docs[0].source.as_deref(), Some("a.yaml"));
        assert!(s.docs[0].explicit_start);
        // A comment-only stream is still one (empty) document.
        assert_eq!(Stream::parse(b"# only\n").unwrap().docs.len(), 1);
    }
}
