//! The 16 real post-renderer inputs (Helm 3 and Helm 4, eight charts) through the engine.
//!
//! The oracle is independent of the engine: both sides are parsed with serde-saphyr (a different
//! YAML parser from the engine's libyaml), and the expected documents are computed on values.

use std::collections::BTreeSet;
use std::path::Path;

use helm_regcred::{Config, Request, Stream, kinds};
use serde_json::{Value, json};

use crate::util::{TEST_PASSWORD, postrender_inputs};

/// Rules that select nothing in the corpus: the default rule, for a registry no chart uses.
const NOTHING_DEFAULT: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: registry.invalid
    secret: unused
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
"#;

/// Rules that select nothing through a selector that matches no document.
const NOTHING_RULE: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: docker.io
    secret: regcred
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
rules:
  - name: none
    match: {names: ["no-such-workload-*"]}
"#;

/// Every pod spec gets `regcred`.
const EVERYTHING: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: docker.io
    secret: regcred
    email: ops@example.com
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
rules:
  - name: all
    match: {}
    secrets: [regcred]
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "REG_USER" => Some("robot".into()),
        "REG_PASSWORD" => Some(TEST_PASSWORD.into()),
        _ => None,
    }
}

fn render(input: &[u8], rules: &str) -> String {
    let config = Config::parse(rules, "<test>").expect("rules");
    let stream = Stream::parse(input).expect("stream");
    let outcome = helm_regcred::run(Request::new(&config, &stream).env(&env)).expect("plan");
    outcome.output().expect("credentials")
}

fn name(path: &Path) -> String {
    let dir = path
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    format!("{dir}/{}", path.file_name().unwrap().to_string_lossy())
}

#[test]
fn rules_that_select_nothing_pass_every_byte_through() {
    for path in postrender_inputs() {
        let input = std::fs::read(&path).unwrap();
        for rules in [NOTHING_DEFAULT, NOTHING_RULE] {
            let out = render(&input, rules);
            assert!(
                out.as_bytes() == input.as_slice(),
                "{} changed",
                name(&path)
            );
        }
    }
}

fn documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).expect("oracle parse");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The input document as the rules should leave it.
fn expected(doc: &Value, secret: &str) -> Value {
    let mut doc = doc.clone();
    let api = doc["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = doc["kind"].as_str().unwrap_or_default().to_string();
    if let Some(spec_path) = kinds::pod_spec_path(&api, &kind) {
        let mut spec = &mut doc;
        for key in spec_path.path {
            spec = &mut spec[*key];
        }
        let list = spec
            .as_object_mut()
            .unwrap()
            .entry("imagePullSecrets")
            .or_insert(json!([]));
        if list.is_null() {
            *list = json!([]);
        }
        let items = list.as_array_mut().unwrap();
        if !items.iter().any(|i| i["name"] == secret) {
            items.push(json!({"name": secret}));
        }
    }
    doc
}

#[test]
fn rules_that_select_everything_add_exactly_the_pull_secrets() {
    for path in postrender_inputs() {
        let file = name(&path);
        let helm4 = file.starts_with("postrender-helm4");
        let input_text = std::fs::read_to_string(&path).unwrap();
        let out = render(input_text.as_bytes(), EVERYTHING);

        let before = documents(&input_text);
        let after = documents(&out);
        let pods: Vec<&Value> = before
            .iter()
            .filter(|d| {
                kinds::pod_spec_path(
                    d["apiVersion"].as_str().unwrap_or_default(),
                    d["kind"].as_str().unwrap_or_default(),
                )
                .is_some()
            })
            .collect();
        assert!(!pods.is_empty(), "{file}: corpus file has pods");

        // One Secret per namespace the pods are in (absent namespace = release namespace).
        let namespaces: BTreeSet<Option<String>> = pods
            .iter()
            .map(|d| d["metadata"]["namespace"].as_str().map(str::to_string))
            .collect();
        let (secrets, rest) = after.split_at(namespaces.len());
        let secret_namespaces: BTreeSet<Option<String>> = secrets
            .iter()
            .map(|s| {
                assert_eq!(s["kind"], "Secret", "{file}: Secrets come first");
                assert_eq!(s["type"], "kubernetes.io/dockerconfigjson");
                assert_eq!(s["metadata"]["name"], "regcred");
                let annotation =
                    &s["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"];
                assert_eq!(
                    annotation.is_string(),
                    helm4,
                    "{file}: filename annotation only for Helm 4"
                );
                s["metadata"]["namespace"].as_str().map(str::to_string)
            })
            .collect();
        assert_eq!(secret_namespaces, namespaces, "{file}");

        assert_eq!(rest.len(), before.len(), "{file}: same documents");
        for (i, (got, doc)) in rest.iter().zip(&before).enumerate() {
            assert!(
                *got == expected(doc, "regcred"),
                "{file}: document {i} differs from the oracle"
            );
        }

        // Only additions, and a second pass adds nothing.
        let removed = similar::TextDiff::from_lines(&input_text, &out)
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Delete)
            .count();
        assert_eq!(removed, 0, "{file}: the output only adds lines");
        assert_eq!(
            render(out.as_bytes(), EVERYTHING),
            out,
            "{file}: second pass is byte-identical"
        );
        assert!(
            !out.contains(TEST_PASSWORD),
            "{file}: password in clear text"
        );
    }
}

#[test]
fn default_rule_matches_registries_of_images() {
    // gitlab pulls from registry.gitlab.com; only those pod specs get the registry's secret.
    let rules = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: registry.gitlab.com
    secret: gitlab-pull
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
"#;
    for dir in ["postrender-helm3", "postrender-helm4"] {
        let path = crate::util::corpus().join(dir).join("gitlab.yaml");
        let input = std::fs::read_to_string(&path).unwrap();
        let out = render(input.as_bytes(), rules);
        for (doc, got) in documents(&input).iter().zip(documents(&out).iter().skip(1)) {
            let api = doc["apiVersion"].as_str().unwrap_or_default();
            let kind = doc["kind"].as_str().unwrap_or_default();
            let Some(spec_path) = kinds::pod_spec_path(api, kind) else {
                assert_eq!(doc, got);
                continue;
            };
            let spec = spec_path.path.iter().fold(doc, |v, k| &v[*k]);
            let pulls_from_gitlab = ["initContainers", "containers"].iter().any(|list| {
                spec[*list].as_array().into_iter().flatten().any(|c| {
                    c["image"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("registry.gitlab.com/")
                })
            });
            let want = if pulls_from_gitlab {
                expected(doc, "gitlab-pull")
            } else {
                doc.clone()
            };
            assert_eq!(got, &want, "{dir}: {kind}/{}", doc["metadata"]["name"]);
        }
    }
}
