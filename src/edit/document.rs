//! Writing a document the plan adds (a pull Secret, a ServiceAccount): its `---` line, how it
//! names its source template, and its `metadata:`. The one writer, so every added document is
//! named and quoted the same way.

use std::fmt::Write as _;

use crate::input::FILENAME_ANNOTATION;
use crate::yaml::{yaml_quoted, yaml_scalar};

/// The head of an added document, up to and including `metadata:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewDocument<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    /// The template it is shown as coming from, e.g. `helm-regcred/pull-secrets.yaml`.
    pub source: &'a str,
    /// Name the source with Helm 4's filename annotation instead of a `# Source:` comment.
    pub filename_annotation: bool,
    /// Further annotations, written as given (values already YAML).
    pub annotations: &'a [(&'a str, &'a str)],
}

impl NewDocument<'_> {
    /// `---`, the source, `apiVersion`, `kind` and `metadata`; the caller appends the rest.
    pub fn header(&self) -> String {
        let mut out = String::from("---\n");
        // Helm 4 writes its own `# Source:` from the annotation; a second one would be noise.
        if !self.filename_annotation {
            // A comment ends at a line break, so one in `source` would spill into YAML.
            let comment: String = self
                .source
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            writeln!(out, "# Source: {comment}").unwrap();
        }
        writeln!(
            out,
            "apiVersion: {}\nkind: {}\nmetadata:",
            self.api_version, self.kind
        )
        .unwrap();
        writeln!(out, "  name: {}", yaml_scalar(self.name)).unwrap();
        if let Some(namespace) = self.namespace {
            writeln!(out, "  namespace: {}", yaml_scalar(namespace)).unwrap();
        }
        if self.filename_annotation || !self.annotations.is_empty() {
            out.push_str("  annotations:\n");
        }
        if self.filename_annotation {
            writeln!(
                out,
                "    {FILENAME_ANNOTATION}: {}",
                yaml_quoted(self.source)
            )
            .unwrap();
        }
        for (key, value) in self.annotations {
            writeln!(out, "    {key}: {value}").unwrap();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_the_source_one_way() {
        let doc = |filename_annotation, annotations: &'static [(&'static str, &'static str)]| {
            NewDocument {
                api_version: "v1",
                kind: "ServiceAccount",
                name: "web",
                namespace: Some("shop"),
                source: "helm-regcred/service-accounts.yaml",
                filename_annotation,
                annotations,
            }
            .header()
        };
        let cases: [(String, &str); 3] = [
            (
                doc(false, &[]),
                "---\n# Source: helm-regcred/service-accounts.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n",
            ),
            (
                doc(true, &[]),
                "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    postrenderer.helm.sh/postrender-filename: 'helm-regcred/service-accounts.yaml'\n",
            ),
            (
                doc(false, &[("a", "'b'")]),
                "---\n# Source: helm-regcred/service-accounts.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n  annotations:\n    a: 'b'\n",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
