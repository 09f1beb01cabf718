//! Post-renderer inputs through the engine, in two tiers with the same assertions:
//!
//! * `fixtures_*`: the repository's own charts (tests/fixtures/charts) as the real Helm 3 and
//!   Helm 4 send them to a post-renderer, rendered during the test, and hand-written streams.
//!   Always run.
//! * `corpus_*`: the 16 real post-renderer inputs (eight public charts, Helm 3 and Helm 4) when
//!   the corpus is there; announced when it is not, required under `CI=true`.
//!
//! The oracle is independent of the engine: both sides are parsed with serde-saphyr (a different
//! YAML parser from the engine's libyaml), and the expected documents are computed on values.

use std::collections::BTreeSet;

use helm_regcred::{Config, Request, Stream, kinds};
use serde_json::{Value, json};

use crate::util::{TEST_PASSWORD, corpus, fixture_streams, postrender_inputs};

/// One post-renderer input: where it came from, its text, and whether Helm 4 sent it.
struct Input {
    name: String,
    text: String,
    helm4: bool,
}

fn fixture_inputs() -> Vec<Input> {
    fixture_streams()
        .iter()
        .map(|s| Input {
            name: s.name.clone(),
            text: s.text.clone(),
            helm4: s.is_helm4(),
        })
        .collect()
}

fn corpus_inputs() -> Option<Vec<Input>> {
    let inputs = postrender_inputs()?
        .into_iter()
        .map(|path| {
            let dir = path
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy();
            let name = format!("{dir}/{}", path.file_name().unwrap().to_string_lossy());
            Input {
                helm4: name.starts_with("postrender-helm4"),
                text: std::fs::read_to_string(&path).unwrap(),
                name,
            }
        })
        .collect();
    Some(inputs)
}

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

fn check_rules_that_select_nothing(inputs: &[Input]) {
    for input in inputs {
        for rules in [NOTHING_DEFAULT, NOTHING_RULE] {
            let out = render(input.text.as_bytes(), rules);
            assert!(out == input.text, "{} changed", input.name);
        }
    }
}

#[test]
fn fixtures_rules_that_select_nothing_pass_every_byte_through() {
    check_rules_that_select_nothing(&fixture_inputs());
}

#[test]
fn corpus_rules_that_select_nothing_pass_every_byte_through() {
    if let Some(inputs) = corpus_inputs() {
        check_rules_that_select_nothing(&inputs);
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

fn check_rules_that_select_everything(inputs: &[Input]) {
    for input in inputs {
        let file = &input.name;
        let helm4 = input.helm4;
        let input_text = &input.text;
        let out = render(input_text.as_bytes(), EVERYTHING);

        let before = documents(input_text);
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
        assert!(!pods.is_empty(), "{file}: the input has pods");

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
        assert_only_additions(file, input_text, &out);
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

/// `after` is `before` with text inserted and nothing deleted: whole lines added, or text added
/// inside a line (a flow list gaining `, {name: regcred}`, `key:` with no value gaining one).
/// Lines first, then characters within each changed run of lines, so it stays linear on
/// megabyte inputs with few edits.
fn assert_only_additions(file: &str, before: &str, after: &str) {
    let diff = similar::TextDiff::from_lines(before, after);
    for op in diff.ops() {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal | similar::DiffTag::Insert => {}
            similar::DiffTag::Delete | similar::DiffTag::Replace => {
                let old: String = old.map(|i| diff.old_slice(i).unwrap()).collect();
                let new: String = new.map(|i| diff.new_slice(i).unwrap()).collect();
                let mut rest = new.chars();
                let kept = old.chars().all(|c| rest.any(|n| n == c));
                assert!(
                    kept,
                    "{file}: the output deletes text:\n{old}--- became ---\n{new}"
                );
            }
        }
    }
}

#[test]
fn fixtures_rules_that_select_everything_add_exactly_the_pull_secrets() {
    check_rules_that_select_everything(&fixture_inputs());
}

#[test]
fn corpus_rules_that_select_everything_add_exactly_the_pull_secrets() {
    if let Some(inputs) = corpus_inputs() {
        check_rules_that_select_everything(&inputs);
    }
}

/// The default rule of a registry gives its Secret to exactly the pod specs with an image from
/// that registry (host and port as written: `registry.example.com:5000` is another registry).
fn check_default_rule(inputs: &[Input], server: &str, secret: &str) {
    let rules = format!(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: {server}\n    \
         secret: {secret}\n    credentials: {{env: {{username: REG_USER, password: REG_PASSWORD}}}}\n"
    );
    let prefix = format!("{server}/");
    for input in inputs {
        let out = render(input.text.as_bytes(), &rules);
        let (before, after) = (documents(&input.text), documents(&out));
        assert_eq!(
            after.len(),
            before.len() + 1,
            "{}: plus one Secret",
            input.name
        );
        let mut pulling = 0;
        for (doc, got) in before.iter().zip(after.iter().skip(1)) {
            let api = doc["apiVersion"].as_str().unwrap_or_default();
            let kind = doc["kind"].as_str().unwrap_or_default();
            let Some(spec_path) = kinds::pod_spec_path(api, kind) else {
                assert_eq!(doc, got, "{}", input.name);
                continue;
            };
            let spec = spec_path.path.iter().fold(doc, |v, k| &v[*k]);
            let pulls_from_server = ["initContainers", "containers"].iter().any(|list| {
                spec[*list]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["image"].as_str().unwrap_or_default().starts_with(&prefix))
            });
            pulling += usize::from(pulls_from_server);
            let want = if pulls_from_server {
                expected(doc, secret)
            } else {
                doc.clone()
            };
            assert_eq!(
                got, &want,
                "{}: {kind}/{}",
                input.name, doc["metadata"]["name"]
            );
        }
        assert!(pulling > 0, "{}: some pod pulls from {server}", input.name);
    }
}

#[test]
fn fixtures_default_rule_matches_registries_of_images() {
    let workloads: Vec<Input> = fixture_inputs()
        .into_iter()
        .filter(|i| i.name.ends_with("/workloads"))
        .collect();
    assert_eq!(workloads.len(), 2, "Helm 3 and Helm 4");
    check_default_rule(&workloads, "registry.example.com", "example-pull");
}

#[test]
fn corpus_default_rule_matches_registries_of_images() {
    // gitlab pulls from registry.gitlab.com; only those pod specs get the registry's secret.
    let Some(corpus) = corpus() else { return };
    let inputs: Vec<Input> = ["postrender-helm3", "postrender-helm4"]
        .iter()
        .map(|dir| Input {
            name: format!("{dir}/gitlab.yaml"),
            text: std::fs::read_to_string(corpus.join(dir).join("gitlab.yaml")).unwrap(),
            helm4: *dir == "postrender-helm4",
        })
        .collect();
    check_default_rule(&inputs, "registry.gitlab.com", "gitlab-pull");
}

/// The fixture tier stands in for the corpus only while the fixtures hold what the corpus
/// holds: this says what that is, so an edit to a fixture chart cannot quietly drop a case.
#[test]
fn fixtures_cover_what_the_corpus_covers() {
    let streams = fixture_streams();
    let find = |name: &str| {
        let found = streams.iter().find(|s| s.name == name);
        found.unwrap_or_else(|| panic!("no fixture stream {name}"))
    };
    for stream in streams.iter().filter(|s| !s.name.starts_with("streams/")) {
        let name = &stream.name;
        let text = &stream.text;
        let docs = documents(text);
        let has = |kind: &str| docs.iter().any(|d| d["kind"] == kind);
        if stream.is_helm4() {
            // Helm 4 re-serializes and names each document's template in an annotation.
            assert!(!text.contains("# Source:"), "{name}");
            for doc in &docs {
                let file =
                    &doc["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"];
                assert!(file.is_string(), "{name}: {doc}");
            }
        } else {
            assert!(text.starts_with("---\n# Source: "), "{name}");
            assert!(!text.contains("postrenderer.helm.sh/"), "{name}");
        }
        let comment_only = Stream::parse(text.as_bytes())
            .unwrap()
            .docs
            .iter()
            .filter(|d| {
                let doc = &text[d.range.clone()];
                doc.contains('#')
                    && doc.lines().all(|l| {
                        let l = l.trim();
                        l.is_empty() || l == "---" || l.starts_with('#')
                    })
            })
            .count();
        if !name.ends_with("/workloads") {
            assert!(has("Deployment") && has("ConfigMap"), "{name}");
            continue;
        }
        for kind in kinds::POD_SPEC_PATHS {
            assert!(has(kind.kind), "{name}: no {}", kind.kind);
        }
        for kind in [
            "CustomResourceDefinition",
            "Prometheus",
            "Alertmanager",
            "Widget",
        ] {
            assert!(has(kind), "{name}: no {kind}");
        }
        // Helm 3 passes a template's comment-only documents on (a commented-out template, the
        // comments before a CRD's `---`); Helm 4's re-serialization drops them.
        if stream.is_helm4() {
            assert_eq!(comment_only, 0, "{name}: comment-only documents");
        } else {
            assert!(
                comment_only >= 3,
                "{name}: {comment_only} comment-only documents"
            );
        }
        let enums = text.lines().filter(|l| l.trim() == "- =").count();
        assert!(enums >= 1, "{name}: a `- =` enum (a YAML 1.1 value tag)");
        assert!(
            text.contains("/charts/worker/templates/deployment.yaml"),
            "{name}: the subchart"
        );
        let big_crd = Stream::parse(text.as_bytes())
            .unwrap()
            .docs
            .iter()
            .any(|d| {
                let doc = &text[d.range.clone()];
                doc.len() > 100_000 && doc.contains("\nkind: CustomResourceDefinition\n")
            });
        assert!(big_crd, "{name}: a CRD with a large schema");
        // YAML and JSON held as text, and a quoted scalar over several lines with an empty line.
        assert!(text.contains("  settings.yaml: |-\n"), "{name}");
        assert!(text.contains("  settings.json: \"{\\\"logLevel"), "{name}");
        assert!(
            text.contains("values do.\n\n          A second paragraph"),
            "{name}: a multi-line quoted scalar"
        );
        let hooks: Vec<&str> = docs
            .iter()
            .filter_map(|d| d["metadata"]["annotations"]["helm.sh/hook"].as_str())
            .collect();
        if stream.is_helm4() {
            // Helm 4 sends hooks (and never crds/); Helm 3 sends crds/ (with --include-crds)
            // and never hooks.
            assert_eq!(hooks.len(), 4, "{name}: {hooks:?}");
            for hook in [
                "pre-install,pre-upgrade",
                "post-delete",
                "post-install",
                "test",
            ] {
                assert!(hooks.contains(&hook), "{name}: no {hook} hook");
            }
            assert!(!text.contains("gadgets.example.com"), "{name}");
        } else {
            assert!(hooks.is_empty(), "{name}: {hooks:?}");
            assert!(
                text.contains("# Source: workloads/crds/gadgets.yaml"),
                "{name}"
            );
            assert!(enums >= 2, "{name}: the crds/ CRD's `- =` too");
        }
    }
    // Helm 4 re-serializes: a double-quoted scalar continued over lines comes out on one.
    let note = "        note: \"first line\\n\\\n";
    assert!(find("helm3/workloads").text.contains(note));
    assert!(!find("helm4/workloads").text.contains(note));
}
