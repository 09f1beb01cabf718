//! The rules file's JSON Schema is generated from the code; the committed copy must be exactly
//! that, and the examples must point editors at it.

use std::path::{Path, PathBuf};

use helm_regcred::Config;

use crate::util::regcred;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const SCHEMA_LINE: &str = "# yaml-language-server: $schema=";

/// Examples that must carry the schema line (every other one is checked if it has it).
const REQUIRED: [&str; 4] = [
    "examples/quickstart/regcred.yaml",
    "examples/charts/demo/regcred.yaml",
    "examples/coding-per-user/regcred.yaml",
    "examples/multi-registry-docker-config/regcred.yaml",
];

#[test]
fn committed_schema_is_what_the_code_generates() {
    let out = regcred().arg("schema").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(repo().join("regcred.schema.json"))
        .expect("regcred.schema.json at the repository root");
    assert!(
        committed == printed,
        "regcred.schema.json is stale: regenerate it with \
         `cargo run -q -- schema > regcred.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(
        schema["properties"]["apiVersion"]["const"],
        "helm-regcred/v1"
    );
    assert_eq!(schema["additionalProperties"], false);
    let sources: Vec<String> = schema["definitions"]["CredentialSource"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["required"][0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sources, ["env", "file", "dockerConfig", "stdin"]);
}

/// Every rules file under examples/ that is a plain rules file (not a kustomize/kpt resource,
/// which carries `metadata`).
fn example_rules() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![repo().join("examples")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("kind: RegcredConfig") && !text.contains("\nmetadata:") {
                    out.push(path);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn examples_start_with_the_schema_line_and_load() {
    let examples = example_rules();
    for required in REQUIRED {
        assert!(
            examples.contains(&repo().join(required)),
            "{required} missing from {examples:?}"
        );
    }
    for path in examples {
        let text = std::fs::read_to_string(&path).unwrap();
        Config::load(Path::new(&path))
            .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display()));
        let first = text.lines().next().unwrap_or_default();
        let Some(target) = first.strip_prefix(SCHEMA_LINE) else {
            assert!(
                !REQUIRED.iter().any(|r| path.ends_with(r)),
                "{} must start with `{SCHEMA_LINE}...`",
                path.display()
            );
            continue;
        };
        let schema = path.parent().unwrap().join(target);
        assert_eq!(
            schema.canonicalize().ok(),
            repo().join("regcred.schema.json").canonicalize().ok(),
            "{}: $schema={target} is not the repository's regcred.schema.json",
            path.display()
        );
    }
}
