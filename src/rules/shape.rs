//! Every structural mistake of a rules file at once: unknown keys, two credential sources, a
//! list where a mapping belongs.
//!
//! serde stops at the first field it cannot place, so a file with three typos took three
//! runs. When serde fails, the file is walked once more against the JSON Schema generated
//! from the same raw structs (`Config::json_schema`, so it cannot drift from what serde
//! accepts), collecting every such problem with its line and column.

use serde_json::Value as Schema;

use super::problem::{Position, Problem, ProblemKind, closest};
use crate::yaml::{self, Node, Parsed, Value};

/// The structural problems of `text`, in file order. Empty when it is not YAML at all (serde's
/// syntax error says that better).
pub(super) fn problems(text: &str, origin: &str) -> Vec<Problem> {
    let Ok(Parsed::Node(root)) =
        yaml::parse_document(text, yaml::Origin { offset: 0, line: 1 }, &|_| true)
    else {
        return Vec::new();
    };
    let schema = super::Config::json_schema();
    let mut walk = Walk {
        root: &schema,
        origin,
        out: Vec::new(),
    };
    walk.node(&root, &schema, "");
    walk.out.sort_by_key(|p| p.position);
    walk.out
}

struct Walk<'a> {
    root: &'a Schema,
    origin: &'a str,
    out: Vec<Problem>,
}

/// What a node is, in the schema's words.
fn node_type(node: &Node) -> &'static str {
    match &node.value {
        Value::Map { .. } => "object",
        Value::Seq { .. } => "array",
        Value::Alias => "alias",
        Value::Scalar(_) if node.is_null() => "null",
        Value::Scalar(_) => "scalar",
    }
}

fn types(schema: &Schema) -> Vec<&str> {
    match schema.get("type") {
        Some(Schema::String(t)) => vec![t.as_str()],
        Some(Schema::Array(ts)) => ts.iter().filter_map(Schema::as_str).collect(),
        _ => Vec::new(),
    }
}

fn accepts(schema: &Schema, found: &str) -> bool {
    let types = types(schema);
    types.is_empty()
        || types.iter().any(|t| match *t {
            "object" | "array" | "null" => *t == found,
            _ => found == "scalar",
        })
}

/// `schema`, or the definition its `$ref` names.
fn resolve<'s>(root: &'s Schema, schema: &'s Schema) -> &'s Schema {
    match schema.get("$ref").and_then(Schema::as_str) {
        Some(r) => r
            .strip_prefix("#/definitions/")
            .and_then(|name| root.get("definitions")?.get(name))
            .unwrap_or(schema),
        None => schema,
    }
}

impl<'a> Walk<'a> {
    fn problem(&mut self, at: &Node, kind: ProblemKind, message: String, hint: String) {
        self.out.push(Problem {
            kind,
            origin: self.origin.to_string(),
            position: Some(Position {
                line: at.line as u64,
                column: at.col as u64 + 1,
            }),
            message,
            hint,
        });
    }

    fn node(&mut self, node: &Node, schema: &'a Schema, field: &str) {
        let root = self.root;
        let schema = resolve(root, schema);
        let found = node_type(node);
        if found == "alias" {
            return;
        }
        let alternatives: Vec<&'a Schema> = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Schema::as_array)
            .map(|alts| alts.iter().map(|a| resolve(root, a)).collect())
            .unwrap_or_default();
        if !alternatives.is_empty() {
            let fitting: Vec<&'a Schema> = alternatives
                .into_iter()
                .filter(|a| accepts(a, found) || a.get("oneOf").is_some() && found == "object")
                .collect();
            match fitting.as_slice() {
                [] => {}
                [one] => self.node(node, one, field),
                several => self.one_of(node, several, field),
            }
            return;
        }
        if !accepts(schema, found) {
            let wanted = types(schema)
                .into_iter()
                .filter(|t| *t != "null")
                .map(|t| match t {
                    "object" => "a mapping",
                    "array" => "a list",
                    _ => "a single value",
                })
                .collect::<Vec<_>>()
                .join(" or ");
            let hint = match wanted.as_str() {
                "a list" => {
                    "write a list: `[a, b]`, or one `- item` per line (a single item is `[a]`)"
                }
                "a mapping" => {
                    "write `key: value` pairs, indented under this key, or `{key: value}`"
                }
                _ => "write one value here, quoted if it contains `: `",
            };
            let what = if field.is_empty() {
                String::new()
            } else {
                format!("`{field}`: ")
            };
            let found = match found {
                "object" => "a mapping",
                "array" => "a list",
                _ => "a single value",
            };
            self.problem(
                node,
                ProblemKind::WrongType,
                format!("{what}expected {wanted}, found {found}"),
                hint.to_string(),
            );
            return;
        }
        match &node.value {
            Value::Map { entries, .. } => {
                let Some(properties) = schema.get("properties").and_then(Schema::as_object) else {
                    return;
                };
                let closed = schema.get("additionalProperties") == Some(&Schema::Bool(false));
                for (key, value) in entries {
                    let name = key.as_str().unwrap_or_default();
                    match properties.get(name) {
                        Some(property) => self.node(value, property, name),
                        None if closed => {
                            let valid: Vec<&str> = properties.keys().map(String::as_str).collect();
                            let hint = match closest(name, valid.iter().copied()) {
                                Some(c) => format!("did you mean `{c}`?"),
                                None => {
                                    format!("remove `{name}`, or use one of: {}", valid.join(", "))
                                }
                            };
                            self.problem(
                                key,
                                ProblemKind::UnknownField,
                                format!(
                                    "unknown field `{name}`; valid fields here: {}",
                                    valid.join(", ")
                                ),
                                hint,
                            );
                        }
                        None => {}
                    }
                }
            }
            Value::Seq { items, .. } => {
                if let Some(item) = schema.get("items") {
                    for node in items {
                        self.node(node, item, field);
                    }
                }
            }
            _ => {}
        }
    }

    /// A mapping that is one of several single-key variants (`credentials:`).
    fn one_of(&mut self, node: &Node, variants: &[&'a Schema], field: &str) {
        let Value::Map { entries, .. } = &node.value else {
            return;
        };
        let key_of = |v: &Schema| -> Option<String> {
            v.get("required")?
                .as_array()?
                .first()?
                .as_str()
                .map(str::to_string)
        };
        let names: Vec<String> = variants
            .iter()
            .flat_map(|v| match v.get("oneOf").and_then(Schema::as_array) {
                Some(inner) => inner.iter().filter_map(key_of).collect::<Vec<_>>(),
                None => key_of(v).into_iter().collect(),
            })
            .collect();
        let all: Vec<&'a Schema> = variants
            .iter()
            .flat_map(|v| match v.get("oneOf").and_then(Schema::as_array) {
                Some(inner) => inner.iter().collect(),
                None => vec![*v],
            })
            .collect();
        let mut first: Option<String> = None;
        for (key, value) in entries {
            let name = key.as_str().unwrap_or_default().to_string();
            let Some(variant) = all
                .iter()
                .copied()
                .find(|v| key_of(v).as_deref() == Some(&name))
            else {
                let hint = match closest(&name, names.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("write one of: {}", names.join(", ")),
                };
                self.problem(
                    key,
                    ProblemKind::UnknownVariant,
                    format!("unknown `{name}`; expected one of: {}", names.join(", ")),
                    hint,
                );
                continue;
            };
            if let Some(first) = &first {
                self.problem(
                    key,
                    ProblemKind::WrongType,
                    format!(
                        "`{field}` has both `{first}` and `{name}`: it takes exactly one source"
                    ),
                    format!(
                        "keep either `{first}:` or `{name}:` under `{field}:`, and delete the other"
                    ),
                );
            } else {
                first = Some(name.clone());
            }
            if let Some(property) = variant.get("properties").and_then(|p| p.get(&name)) {
                self.node(value, property, &name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_structural_mistake_at_once() {
        let text = "\
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: r.example.com
    secret: s
    credentials: {env: {username: U, pasword: P}}
  - server: q.example.com
    secret: t
    bogus: 1
    credentials:
      env: {username: U, password: P}
      file: ./login
rules:
  - name: r
    match: {kinds: Deployment}
";
        let found: Vec<String> = problems(text, "r.yaml")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found[0].starts_with("r.yaml:6:38: unknown field `pasword`"),
            "{}",
            found[0]
        );
        assert!(
            found[0].contains("did you mean `password`?"),
            "{}",
            found[0]
        );
        assert!(
            found[1].starts_with("r.yaml:9:5: unknown field `bogus`"),
            "{}",
            found[1]
        );
        assert!(
            found[2].starts_with("r.yaml:12:7: `credentials` has both `env` and `file`"),
            "{}",
            found[2]
        );
        assert!(
            found[3].starts_with("r.yaml:15:20: `kinds`: expected a list"),
            "{}",
            found[3]
        );
    }

    #[test]
    fn a_valid_file_has_no_structural_problems() {
        let text = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nvars: {a: 1}\nregistries:\n  - server: r\n    secret: s\n    credentials: {dockerConfig: null}\nrules:\n  - name: x\n    match: {labels: {a: b}}\n    secretNamespaces: {fromPath: \"$.a\"}\n  - name: y\n    secretNamespaces: [a]\n";
        assert_eq!(problems(text, "r.yaml"), []);
    }
}
