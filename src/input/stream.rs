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
}

const BOM: &str = "\u{feff}";

impl<'a> Stream<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Stream<'a>, InputError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let at = e.valid_up_to();
            InputError::InvalidUtf8 {
                offset: at,
                line: 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count(),
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

    pub fn doc_text(&self, doc: &Document) -> &'a str {
        &self.text[doc.range.clone()]
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
    // Cut points: a `---` line starts a document; a `...` line ends one (the next starts after).
    let mut cuts = Vec::new();
    for &at in &starts {
        let line_end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        let line = &text[at..line_end];
        if marker(line, "---") && at > 0 {
            cuts.push(at);
        } else if marker(line, "...") {
            cuts.push(line_end);
        }
    }
    cuts.dedup();

    let mut docs = Vec::new();
    let mut line = 1;
    let mut counted = 0;
    let mut start = 0;
    for end in cuts.into_iter().chain(std::iter::once(bytes.len())) {
        if end <= start {
            continue;
        }
        let body = &text[start..end];
        // Nothing but whitespace: its bytes join the neighbours' ranges below, but it is not
        // counted as a document.
        if !body.trim().is_empty() {
            line += memchr::memchr_iter(b'\n', &bytes[counted..start]).count();
            counted = start;
            docs.push(Document {
                index: docs.len() + 1,
                explicit_start: marker(body, "---"),
                source: source_comment(body),
                range: start..end,
                line,
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

/// The value of the document's top-level `kind:` line, read off the text without parsing.
///
/// Only a key of the root mapping can start at column 0 (nested keys are indented and a block
/// scalar's lines are indented past their key), so a single plain `kind: Word` line at column 0
/// names the kind. Anything less clear-cut (no such line, two of them, a quoted or flow value)
/// returns `None` and the caller parses. This lets a 1 MB CRD be skipped without starting the
/// YAML parser at all.
pub fn top_level_kind(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
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
            "--- # comment\nkind: A\n---\t\nkind: B\n",
            "",
            "# only a comment\n",
        ] {
            let s = Stream::parse(input.as_bytes()).unwrap();
            assert_eq!(texts(&s).concat(), input, "{input:?}");
        }
    }

    #[test]
    fn markers_need_column_zero_and_a_break() {
        let s = Stream::parse(b"a: |\n  ---\n---x: 1\nb: 2\n").unwrap();
        assert_eq!(s.docs.len(), 1);
    }

    #[test]
    fn document_end_marker_splits() {
        let s = Stream::parse(b"kind: A\n...\nkind: B\n").unwrap();
        assert_eq!(texts(&s), ["kind: A\n...\n", "kind: B\n"]);
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
            InputError::InvalidUtf8 { line: 2, offset: 8 }
        ));
    }
}
