//! Input: reading the bytes, splitting them into documents, and what their source says.
//!
//! Facts about where the input comes from (Helm 3's `# Source:` comments, Helm 4's filename
//! annotation) live here, so the planner and the views ask the input instead of knowing Helm.

use std::io::Read as _;
use std::path::Path;

use crate::error::InputError;
use crate::yaml::Node;

pub mod stream;

use stream::{Document, Stream};

/// Helm 4 names each document's template with this annotation instead of a `# Source:` line.
pub const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// How the documents of a stream name the template they came from; added documents are named
/// the same way, so `helm template --show-only` finds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceNaming {
    /// `# Source: chart/templates/x.yaml` comments (Helm 3), or no naming at all.
    #[default]
    Comment,
    /// The [`FILENAME_ANNOTATION`] on every document (Helm 4, which drops comments).
    Annotation,
}

impl SourceNaming {
    /// Helm 4 annotates every document it hands a post-renderer, so the first document
    /// decides. Only its text is searched: searching the whole stream showed as ~5% on the
    /// largest Helm 3 inputs of the corpus (interleaved timing), where the answer is always no.
    /// A KRM `ResourceList` is one document, so there every item still counts.
    pub fn of(stream: &Stream) -> SourceNaming {
        let first = stream.docs.first().map_or("", |doc| stream.doc_text(doc));
        if memchr::memmem::find(first.as_bytes(), FILENAME_ANNOTATION.as_bytes()).is_some() {
            SourceNaming::Annotation
        } else {
            SourceNaming::Comment
        }
    }
}

/// The template a resource came from: the document's `# Source:` comment, else the Helm 4
/// filename annotation of the resource.
pub fn template_source(doc: &Document, resource: &Node) -> Option<String> {
    doc.source.clone().or_else(|| {
        resource
            .path(&["metadata", "annotations", FILENAME_ANNOTATION])
            .and_then(Node::as_str)
            .map(str::to_string)
    })
}

/// Stdin (no files), or the files in order joined into one stream (so Secrets are emitted
/// once); `-` among the files reads stdin.
pub fn read_all(files: &[std::path::PathBuf]) -> Result<Vec<u8>, InputError> {
    if files.is_empty() {
        return read(Path::new("-"));
    }
    let mut joined = Vec::new();
    for file in files {
        let bytes = read(file)?;
        if !joined.is_empty() {
            if !joined.ends_with(b"\n") {
                joined.push(b'\n');
            }
            if !bytes.starts_with(b"---") {
                joined.extend_from_slice(b"---\n");
            }
        }
        joined.extend_from_slice(&bytes);
    }
    Ok(joined)
}

/// Whether reading `files` reads stdin (so stdin cannot also carry a password).
pub fn reads_stdin(files: &[std::path::PathBuf]) -> bool {
    files.is_empty() || files.iter().any(|f| f == Path::new("-"))
}

/// One file, or stdin for `-`.
pub fn read(path: &Path) -> Result<Vec<u8>, InputError> {
    let stdin = path == Path::new("-");
    let mut bytes = Vec::new();
    let result = if stdin {
        std::io::stdin().lock().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes).map(|_| ()))
    };
    result.map_err(|source| InputError::Read {
        what: if stdin {
            "stdin".into()
        } else {
            path.display().to_string()
        },
        source,
    })?;
    Ok(bytes)
}

/// Read stdin whole.
pub fn read_stdin() -> Result<Vec<u8>, InputError> {
    read(Path::new("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_naming_follows_the_filename_annotation() {
        let cases = [
            (
                "# Source: c/templates/a.yaml\nkind: Pod\n",
                SourceNaming::Comment,
            ),
            ("kind: Pod\n", SourceNaming::Comment),
            (
                "kind: Pod\nmetadata:\n  annotations:\n    postrenderer.helm.sh/postrender-filename: a.yaml\n",
                SourceNaming::Annotation,
            ),
            (
                "kind: Pod\nmetadata:\n  annotations:\n    postrenderer.helm.sh/postrender-filename: a.yaml\n---\nkind: Pod\n",
                SourceNaming::Annotation,
            ),
        ];
        for (input, want) in cases {
            let stream = Stream::parse(input.as_bytes()).unwrap();
            assert_eq!(SourceNaming::of(&stream), want, "{input}");
        }
    }
}
