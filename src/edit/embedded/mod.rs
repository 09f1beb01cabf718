//! Editing a config that a manifest holds as a string (Cloudforet's supervisor keeps its plugin
//! scheduler config as YAML text in a ConfigMap key).
//!
//! The inner text is parsed and edited like any document, then the inner edits are carried back
//! to the outer file. For a literal block scalar (`|`, `|-`, `|+`) every inner line is one outer
//! line shifted by the block's indentation, so each inner insertion maps to an outer insertion:
//! only the added lines change, and the style, chomping and indentation stay as they were. Other
//! styles (quoted, plain, folded) have no such line correspondence; their value is written back
//! whole, quoted the same way where possible.

use crate::edit::Syntax as Format;
use crate::edit::{self, Edit, EditProblem};

mod literal;

use crate::yaml::{self, Node, Origin, Parsed, Style, Value};
use literal::LiteralLines;

/// Why an embedded config could not be edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddedProblem {
    NotAString {
        found: &'static str,
        line: usize,
    },
    /// The text is not valid YAML/JSON; `line` is the outer line of the problem when known.
    Invalid {
        message: String,
        line: usize,
    },
    Edit(EditProblem),
}

/// The result of editing an embedded config.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// Edits against the outer (manifest) text.
    pub outer: Vec<Edit>,
    /// The config text after the edits, e.g. for a checksum.
    pub new_inner: String,
}

/// Parse the string at `field` as `format`, let `inner_edits` edit it, and carry the edits back.
/// `Ok(None)` when there was nothing to change.
pub fn edit_embedded(
    text: &str,
    newline: &str,
    field: &Node,
    format: Format,
    inner_edits: impl FnOnce(&str, &Node) -> Result<Vec<Edit>, EditProblem>,
) -> Result<Option<Embedded>, EmbeddedProblem> {
    let Value::Scalar(scalar) = &field.value else {
        return Err(EmbeddedProblem::NotAString {
            found: field.type_name(),
            line: field.line,
        });
    };
    let inner = scalar.text.as_str();
    let root = parse_inner(inner, format, field)?;
    let edits = inner_edits(inner, &root).map_err(EmbeddedProblem::Edit)?;
    if edits.is_empty() {
        return Ok(None);
    }
    let new_inner = edit::apply(inner, &edits);
    let outer = match (scalar.style, LiteralLines::read(text, field, inner)) {
        (Style::Literal, Some(lines)) => lines.map_edits(&edits, newline),
        _ => vec![rewrite_whole(text, field, scalar.style, &new_inner)],
    };
    Ok(Some(Embedded { outer, new_inner }))
}

fn parse_inner<'i>(
    inner: &'i str,
    format: Format,
    field: &Node<'_>,
) -> Result<Node<'i>, EmbeddedProblem> {
    if format == Format::Json {
        // Our YAML parser reads JSON too (it is YAML flow syntax), but it would also accept
        // YAML that is not JSON; the consuming program would not.
        serde_json::from_str::<serde_json::Value>(inner).map_err(|e| EmbeddedProblem::Invalid {
            message: e.to_string(),
            line: field.line,
        })?;
    }
    match yaml::parse_document(inner, Origin { offset: 0, line: 1 }, &|_| true) {
        Ok(Parsed::Node(root)) => Ok(root),
        Ok(_) => Err(EmbeddedProblem::Invalid {
            message: "the config is empty".into(),
            line: field.line,
        }),
        Err(e) => Err(EmbeddedProblem::Invalid {
            message: format!("{} (line {} of the config)", e.message, e.line),
            line: field.line + e.line,
        }),
    }
}

/// Replace the whole scalar with `new_inner`, keeping single quotes when they can hold it.
fn rewrite_whole(text: &str, field: &Node, style: Style, new_inner: &str) -> Edit {
    let mut value = if style == Style::SingleQuoted && !new_inner.contains('\n') {
        format!("'{}'", new_inner.replace('\'', "''"))
    } else {
        // JSON string syntax is valid YAML double-quoted syntax.
        serde_json::to_string(new_inner).expect("a str always serializes")
    };
    // A block scalar's span runs to the start of the next line; keep that line break.
    if text[field.start..field.end].ends_with('\n') {
        value.push('\n');
    }
    Edit {
        range: field.start..field.end,
        text: value.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::fieldpath::FieldPath;
    use crate::edit::{ItemShape, Leaf, edit_at};

    /// Add `reg` at `path` inside the config at `.data.cfg` and return the new outer text.
    fn run(text: &str, path: &str, format: Format) -> String {
        let Parsed::Node(root) =
            yaml::parse_document(text, Origin { offset: 0, line: 1 }, &|_| true).unwrap()
        else {
            panic!()
        };
        let field = root.path(&["data", "cfg"]).unwrap();
        let path = FieldPath::parse(path).unwrap();
        let syntax = format;
        let embedded = edit_embedded(text, "\n", field, format, |inner, root| {
            let (parents, key) = path.parent_and_key().unwrap();
            let leaf = Leaf::List {
                names: &["reg"],
                shape: ItemShape::NameRef,
            };
            edit_at(inner, "\n", root, parents, key, leaf, syntax)
        })
        .unwrap()
        .unwrap();
        let out = edit::apply(text, &embedded.outer);
        // The outer document still parses and its string now holds the edited config.
        let Parsed::Node(again) =
            yaml::parse_document(&out, Origin { offset: 0, line: 1 }, &|_| true).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            again.path(&["data", "cfg"]).unwrap().as_str(),
            Some(embedded.new_inner.as_str())
        );
        out
    }

    #[test]
    fn literal_block_gets_only_new_lines() {
        let text = "data:\n  cfg: |-\n    A:\n      B:\n        port: 1\n    NAME: x\nnext: 1\n";
        assert_eq!(
            run(text, "$.A.B.imagePullSecrets", Format::Yaml),
            "data:\n  cfg: |-\n    A:\n      B:\n        port: 1\n        imagePullSecrets:\n        - name: reg\n    NAME: x\nnext: 1\n"
        );
    }

    #[test]
    fn literal_block_end_and_blank_lines() {
        let text = "data:\n  cfg: |\n    A:\n\n      port: 1\n";
        assert_eq!(
            run(text, "$.A.pull", Format::Yaml),
            "data:\n  cfg: |\n    A:\n\n      port: 1\n      pull:\n      - name: reg\n"
        );
        let text = "data:\n  cfg: |-\n    A:\n      port: 1";
        assert_eq!(
            run(text, "$.A.pull", Format::Yaml),
            "data:\n  cfg: |-\n    A:\n      port: 1\n      pull:\n      - name: reg"
        );
    }

    #[test]
    fn json_in_literal_block() {
        let text = "data:\n  cfg: |\n    {\n      \"a\": {\"port\": 1}\n    }\n";
        assert_eq!(
            run(text, "$.a.pull", Format::Json),
            "data:\n  cfg: |\n    {\n      \"a\": {\"port\": 1, \"pull\": [{\"name\": \"reg\"}]}\n    }\n"
        );
    }

    #[test]
    fn quoted_strings_are_rewritten_whole() {
        let text = "data:\n  cfg: '{\"a\": {}}'\n";
        assert_eq!(
            run(text, "$.a.pull", Format::Json),
            "data:\n  cfg: '{\"a\": {\"pull\": [{\"name\": \"reg\"}]}}'\n"
        );
        let text = "data:\n  cfg: \"a:\\n  port: 1\\n\"\n";
        assert_eq!(
            run(text, "$.a.pull", Format::Yaml),
            "data:\n  cfg: \"a:\\n  port: 1\\n  pull:\\n  - name: reg\\n\"\n"
        );
    }

    #[test]
    fn invalid_inner_config() {
        let text = "data:\n  cfg: |\n    a: [\n";
        let Parsed::Node(root) =
            yaml::parse_document(text, Origin { offset: 0, line: 1 }, &|_| true).unwrap()
        else {
            panic!()
        };
        let err = edit_embedded(
            text,
            "\n",
            root.path(&["data", "cfg"]).unwrap(),
            Format::Yaml,
            |_, _| Ok(vec![]),
        )
        .unwrap_err();
        assert!(matches!(err, EmbeddedProblem::Invalid { .. }), "{err:?}");
        let err = edit_embedded(
            text,
            "\n",
            root.path(&["data", "cfg"]).unwrap(),
            Format::Json,
            |_, _| Ok(vec![]),
        )
        .unwrap_err();
        assert!(matches!(err, EmbeddedProblem::Invalid { .. }), "{err:?}");
    }
}
