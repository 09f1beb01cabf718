//! Hostile and damaged manifests through the whole engine: every outcome is either faithful
//! output or a located refusal with nothing written.
//!
//! The mutation test at the bottom takes corpus-like documents (the repository's own, plus the
//! corpus when it is present), damages them in each way issue 12 found defects, and checks the
//! engine's promise on every result:
//! - exit 0 ⇒ the output, read by serde-saphyr (not the engine's parser), is the input plus
//!   only the planned additions, and a second run changes nothing;
//! - an error ⇒ no output and a message naming the document and a line;
//! - never a panic, and the diff never shows the password.
//!
//! `scripts/fuzz SEED COUNT` runs it long (`HELM_REGCRED_FUZZ=SEED,COUNT`).

use std::collections::BTreeSet;

use helm_regcred::{Config, Options, Stream, diff, kinds, output, plan};
use serde_json::{Value, json};

use crate::util::TEST_PASSWORD;

/// Every pod spec gets `regcred`.
const RULES: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: registry.example.com
    secret: regcred
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
rules:
  - name: all
    match: {}
    secrets: [regcred]
"#;

const SECRET: &str = "regcred";

fn env(name: &str) -> Option<String> {
    match name {
        "REG_USER" => Some("robot".into()),
        "REG_PASSWORD" => Some(TEST_PASSWORD.into()),
        _ => None,
    }
}

/// What one run of the engine gave: the output and its diff, or the error message.
#[derive(Debug)]
enum Outcome {
    Written { out: String, diff: String },
    Refused(String),
}

/// The engine as the post-renderer runs it, in-process.
fn engine(input: &[u8]) -> Outcome {
    engine_with(RULES, input)
}

fn engine_with(rules: &str, input: &[u8]) -> Outcome {
    let config = Config::parse(rules, "regcred.yaml").expect("the test's rules are valid");
    let stream = match Stream::parse(input) {
        Ok(s) => s,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let plan = match plan(&stream, &config, &Options::default()) {
        Ok(p) => p,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let credentials = match output::resolve_credentials(&plan, &config, &env) {
        Ok(c) => c,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let out = output::render(&stream, &plan, &config, &credentials);
    let (before, after) = output::redacted_views(&stream, &plan, &config);
    let diff = diff::unified(&before, &after, false);
    Outcome::Written { out, diff }
}

#[track_caller]
fn written(input: &str) -> String {
    match engine(input.as_bytes()) {
        Outcome::Written { out, .. } => out,
        Outcome::Refused(e) => panic!("refused\n{input}\n--- {e}"),
    }
}

#[track_caller]
fn refused(input: &str) -> String {
    match engine(input.as_bytes()) {
        Outcome::Refused(e) => e,
        Outcome::Written { out, .. } => panic!("written\n{input}\n--- output:\n{out}"),
    }
}

fn documents(text: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| e.to_string())?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The pull secrets of `doc`'s pod spec, if it is a workload.
fn pod_spec_mut(doc: &mut Value) -> Option<&mut Value> {
    let api = doc["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = doc["kind"].as_str().unwrap_or_default().to_string();
    let path = kinds::pod_spec_path(&api, &kind)?;
    let mut spec = doc;
    for key in path.path {
        spec = spec.get_mut(*key)?;
    }
    spec.is_object().then_some(spec)
}

/// The input document as the rules must leave it: `regcred` appended to every pod spec's
/// `imagePullSecrets` that lacks it (a null list counts as empty, as Go's decoder has it).
fn expected(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(spec) = pod_spec_mut(&mut doc) {
        let list = spec
            .as_object_mut()
            .unwrap()
            .entry("imagePullSecrets")
            .or_insert(Value::Null);
        if list.is_null() {
            *list = json!([]);
        }
        if let Some(items) = list.as_array_mut()
            && !items.iter().any(|i| i["name"] == SECRET)
        {
            items.push(json!({"name": SECRET}));
        }
    }
    doc
}

/// The output's documents: the input's, each as the rules must leave it, then only Secrets.
fn check_faithful(input: &str, out: &str) -> Result<(), String> {
    let before = documents(input).map_err(|e| format!("the oracle cannot read the input: {e}"))?;
    let after = documents(out).map_err(|e| format!("the output is not YAML: {e}"))?;
    let added: Vec<&Value> = after
        .iter()
        .filter(|d| d["kind"] == "Secret" && d["type"] == "kubernetes.io/dockerconfigjson")
        .filter(|d| !before.contains(d))
        .collect();
    let kept: Vec<&Value> = after.iter().filter(|d| !added.contains(d)).collect();
    let want: Vec<Value> = before.iter().map(expected).collect();
    if kept.len() != want.len() {
        return Err(format!(
            "{} documents in, {} out (plus {} Secrets)",
            want.len(),
            kept.len(),
            added.len()
        ));
    }
    for (i, (got, want)) in kept.iter().zip(&want).enumerate() {
        if *got != want {
            return Err(format!(
                "document {} differs from the input plus the planned additions:\n  got  {got}\n  want {want}",
                i + 1
            ));
        }
    }
    let names: BTreeSet<&str> = added
        .iter()
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    if names.iter().any(|n| *n != SECRET) {
        return Err(format!("unexpected Secrets added: {names:?}"));
    }
    Ok(())
}

/// The promises for one input, or what broke. `Ok(true)` when the input was written.
fn check(input: &[u8]) -> Result<bool, String> {
    let first = std::panic::catch_unwind(|| engine(input))
        .map_err(|_| "the engine panicked".to_string())?;
    match first {
        Outcome::Refused(message) => {
            if !message.contains("document ") && !message.contains("line ") {
                return Err(format!("the refusal names no document or line: {message}"));
            }
            if message.contains(TEST_PASSWORD) {
                return Err("the refusal shows the password".into());
            }
            Ok(false)
        }
        Outcome::Written { out, diff } => {
            if diff.contains(TEST_PASSWORD) {
                return Err("the diff shows the password".into());
            }
            let text = std::str::from_utf8(input).expect("written input is UTF-8");
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            check_faithful(text, &out)?;
            match std::panic::catch_unwind(|| engine(out.as_bytes())) {
                Ok(Outcome::Written { out: again, .. }) if again == out => Ok(true),
                Ok(Outcome::Written { out: again, .. }) => Err(format!(
                    "a second run changed the output:\n{out}\n--- second run:\n{again}"
                )),
                Ok(Outcome::Refused(e)) => Err(format!("a second run refused the output: {e}")),
                Err(_) => Err("the engine panicked on its own output".into()),
            }
        }
    }
}

#[track_caller]
fn holds(input: &str) -> bool {
    check(input.as_bytes()).unwrap_or_else(|e| panic!("{e}\n--- input:\n{input}"))
}

const DEPLOYMENT_HEAD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n";

fn deployment(pod_spec: &str) -> String {
    let body: String = pod_spec.lines().map(|l| format!("      {l}\n")).collect();
    format!("{DEPLOYMENT_HEAD}{body}")
}

// Item 2: properties and explicit keys must not move the new text.

#[test]
fn anchored_or_tagged_pull_secrets_get_items_at_the_dash_column() {
    for props in ["!!seq", "&ips", "&ips !!seq", "!!seq # a comment"] {
        let input = deployment(&format!(
            "imagePullSecrets: {props}\n  - name: old\ncontainers:\n- name: a\n  image: registry.example.com/a:1"
        ));
        let out = written(&input);
        assert!(
            out.contains("  - name: old\n        - name: regcred\n"),
            "{out}"
        );
        assert!(holds(&input));
    }
    // Flow and scalar nodes with properties too.
    let input = deployment(
        "imagePullSecrets: &ips [{name: old}]\ncontainers:\n- name: a\n  image: !!str registry.example.com/a:1",
    );
    assert!(written(&input).contains("&ips [{name: old}, {name: regcred}]"));
    assert!(holds(&input));
}

#[test]
fn explicit_keys_keep_new_keys_at_the_mappings_column() {
    for spec in [
        "? containers\n: - name: a\n    image: registry.example.com/a:1",
        "? containers\n:\n  - name: a\n    image: registry.example.com/a:1\n? restartPolicy\n: Always",
        "? !!str containers\n: - name: a\n    image: registry.example.com/a:1",
    ] {
        let input = deployment(spec);
        let out = written(&input);
        assert!(out.contains("\n      imagePullSecrets:\n"), "{out}");
        assert!(holds(&input));
    }
}

// Item 3: aliases and merge keys are refused where they would be skipped or overridden.

#[test]
fn aliases_and_merge_keys_are_refused_with_their_line() {
    for (spec, line, what) in [
        (
            "<<: {imagePullSecrets: [{name: old}]}\ncontainers:\n- name: a\n  image: registry.example.com/a:1",
            8,
            "merge key",
        ),
        (
            "base: &b\n  containers:\n  - name: a\n    image: registry.example.com/a:1\n<<: *b",
            12,
            "merge key",
        ),
        (
            "containers:\n- name: a\n  image: &img registry.example.com/a:1\ninitContainers:\n- name: b\n  image: *img",
            13,
            "alias `*img`",
        ),
        (
            "initContainers: &c\n- name: a\n  image: registry.example.com/a:1\ncontainers: *c",
            11,
            "alias `*c`",
        ),
    ] {
        let input = deployment(spec);
        let e = refused(&input);
        assert!(
            e.contains(what) && e.contains(&format!("line {line}")) && e.contains("document 1"),
            "{e}\n{input}"
        );
        assert!(!holds(&input));
    }
    // An anchor nobody refers to changes nothing.
    assert!(holds(&deployment(
        "containers: &c\n- name: a\n  image: registry.example.com/a:1"
    )));
}

// Item 4: duplicate keys, at any level.

#[test]
fn duplicate_keys_are_refused_naming_both_lines() {
    let pod = "containers:\n- name: a\n  image: registry.example.com/a:1";
    for (input, lines) in [
        (
            deployment(&format!(
                "imagePullSecrets: [{{name: x}}]\n{pod}\nimagePullSecrets: [{{name: y}}]"
            )),
            (8, 12),
        ),
        (
            format!("{}metadata:\n  name: other\n", deployment(pod)),
            (3, 11),
        ),
        (format!("kind: Pod\n{}", deployment(pod)), (1, 3)),
        (
            deployment(&format!("{pod}\n  image: registry.example.com/b:1")),
            (10, 11),
        ),
    ] {
        let e = refused(&input);
        assert!(
            e.contains("duplicate key")
                && e.contains(&format!("lines {} and {}", lines.0, lines.1))
                && e.contains(&format!("line {}", lines.1))
                && e.contains("document 1"),
            "{e}\n{input}"
        );
        assert!(!holds(&input));
    }
}

// Item 5: NEL, LS and PS break lines for libyaml and Go, so they do here.

/// The default rule: pod specs with an image of the registry get its secret.
const BY_IMAGE: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: registry.example.com
    secret: regcred
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
"#;

#[test]
fn unicode_line_breaks_do_not_hide_containers() {
    for br in ['\u{85}', '\u{2028}', '\u{2029}', '\r'] {
        let input = format!(
            "{DEPLOYMENT_HEAD}      containers:\n      - name: a\n        image: nginx{br}      initContainers:\n      - name: b\n        image: registry.example.com/b:1\n"
        );
        match engine_with(BY_IMAGE, input.as_bytes()) {
            Outcome::Written { out, .. } => {
                assert!(
                    out.contains("imagePullSecrets:\n      - name: regcred\n"),
                    "{out:?}"
                );
                let Outcome::Written { out: again, .. } = engine_with(BY_IMAGE, out.as_bytes())
                else {
                    panic!("second run refused");
                };
                assert_eq!(again, out);
            }
            Outcome::Refused(e) => panic!("{br:?}: {e}"),
        }
    }
    // A `kind:` after such a break is the root's key too: not skipped as a Secret.
    let input = "apiVersion: v1\nkind: Secret\nx: 1\u{2028}kind: Pod\nspec:\n  containers:\n  - {name: a, image: registry.example.com/a:1}\n";
    let e = match engine_with(BY_IMAGE, input.as_bytes()) {
        Outcome::Refused(e) => e,
        Outcome::Written { out, .. } => panic!("{out}"),
    };
    assert!(e.contains("duplicate key `kind`"), "{e}");
}

// Item 6: values, nulls and document boundaries stay what they were.

#[test]
fn a_block_scalar_ending_the_input_keeps_its_value() {
    for last in [
        "args:\n- |\n  x",
        "args:\n- >\n  x\n  y",
        "args:\n- |+\n  x",
        "command: [a]\nargs:\n- |2\n   x",
    ] {
        let input = deployment(&format!(
            "containers:\n- name: a\n  image: registry.example.com/a:1\n  {}",
            last.replace('\n', "\n  ")
        ));
        let input = input.trim_end_matches('\n');
        let out = written(input);
        assert!(out.contains("imagePullSecrets:"), "{out}");
        assert!(!out.ends_with('\n'), "{out:?}");
        assert!(holds(input));
    }
}

#[test]
fn a_null_pull_secret_list_is_replaced_by_the_list_and_nothing_else() {
    for null in ["~", "null", "~ # none yet", ""] {
        let pod = "containers:\n- name: a\n  image: registry.example.com/a:1";
        let value = if null.is_empty() {
            String::new()
        } else {
            format!(" {null}")
        };
        let input = deployment(&format!("imagePullSecrets:{value}\n{pod}"));
        let out = written(&input);
        let token = null.split(" #").next().unwrap();
        let want = if token.is_empty() {
            input.replace(
                "imagePullSecrets:\n",
                "imagePullSecrets: [{name: regcred}]\n",
            )
        } else {
            input.replace(
                &format!("imagePullSecrets: {token}"),
                "imagePullSecrets: [{name: regcred}]",
            )
        };
        assert!(out.ends_with(&want), "{out}");
        assert!(holds(&input));
    }
}

#[test]
fn comments_before_the_first_marker_add_no_document() {
    let pod = "containers:\n- name: a\n  image: registry.example.com/a:1";
    let input = format!("# rendered by a script\n\n---\n{}", deployment(pod));
    let out = written(&input);
    let markers = out.lines().filter(|l| *l == "---").count();
    assert_eq!(markers, 2, "{out}");
    let (head, _) = input.split_once("      containers:").unwrap();
    assert!(out.contains(head), "{out}");
    assert!(holds(&input));
}

// Item 8: what Helm accepts around BOMs and `...`, the tool accepts (or refuses, named).

fn pod(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: a\n    image: registry.example.com/a:1\n"
    )
}

/// Templates Helm 3 renders and installs (`install --dry-run=client` builds its objects with
/// Go's YAML): a template file starting with a BOM, one after a `---` (concatenated files), and
/// text after a `...` line, which Go never reads.
fn helm_accepted_templates() -> Vec<(&'static str, String)> {
    vec![
        ("a BOM first", format!("\u{feff}{}", pod("p1"))),
        (
            "a BOM after ---",
            format!("{}---\n\u{feff}{}", pod("p1"), pod("p2")),
        ),
        ("two BOMs first", format!("\u{feff}\u{feff}{}", pod("p1"))),
        ("text after ...", format!("{}...\n  bad: [\n", pod("p1"))),
        (
            "text on the ... line",
            format!("{}... trailing\n", pod("p1")),
        ),
    ]
}

#[test]
fn boms_and_document_ends_helm_accepts_are_accepted() {
    // The same texts as a file (`render FILE`), with the stream's own BOM first.
    for (label, text) in helm_accepted_templates() {
        // As Helm 3 hands them to a post-renderer (one BOM of two is gone by then), and as a
        // file.
        let helm = format!(
            "---\n# Source: c/t.yaml\n{}",
            text.replacen("\u{feff}\u{feff}", "\u{feff}", 1)
        );
        for input in [text.clone(), helm] {
            let out = match engine(input.as_bytes()) {
                Outcome::Written { out, .. } => out,
                Outcome::Refused(e) => panic!("{label}: {e}\n{input:?}"),
            };
            assert!(out.contains("- name: regcred"), "{label}: {out}");
            let Outcome::Written { out: again, .. } = engine(out.as_bytes()) else {
                panic!("{label}: the second run refused\n{out:?}");
            };
            assert_eq!(again, out, "{label}: the second run changed it");
        }
    }
    // What Go never reads is kept and not edited.
    let input = format!("{}...\n{}", pod("p1"), pod("p2"));
    let out = written(&input);
    assert_eq!(out.matches("- name: regcred").count(), 1, "{out}");
    assert!(out.ends_with(&format!("...\n{}", pod("p2"))), "{out}");
}

#[test]
fn the_real_helm_3_and_the_tool_accept_the_same_boms_and_document_ends() {
    use crate::helm::{Helm, ok, temp_chart};
    let (_dir, rules) = crate::util::rules_file(RULES);
    for (label, text) in helm_accepted_templates() {
        let chart = temp_chart("c", &[("all.yaml", &text)]);
        let helm = Helm::v3();
        let plain = helm
            .cmd()
            .args(["template", "x"])
            .arg(chart.path())
            .output()
            .unwrap();
        ok(&plain);
        let out = helm
            .cmd()
            .env("REG_USER", "robot")
            .env("REG_PASSWORD", TEST_PASSWORD)
            .args(["template", "x"])
            .arg(chart.path())
            .arg("--post-renderer")
            .arg(crate::util::bin())
            .args([
                "--post-renderer-args",
                "post-render",
                "--post-renderer-args",
                "--rules",
            ])
            .arg("--post-renderer-args")
            .arg(&rules)
            .output()
            .unwrap();
        let (stdout, _) = ok(&out);
        assert!(stdout.contains("- name: regcred"), "{label}: {stdout}");
    }
}

#[test]
fn a_bom_inside_a_document_is_refused_named() {
    // A file joined to the one before without its `---`: Go reads one mapping with every key
    // twice (and Helm refuses `\u{feff}---`).
    for input in [
        format!("{}\u{feff}{}", pod("p1"), pod("p2")),
        format!("{}\u{feff}---\n{}", pod("p1"), pod("p2")),
    ] {
        let e = refused(&input);
        assert!(
            e.contains("document 1 (Pod/p1), line 9") && e.contains("byte order mark"),
            "{e}"
        );
    }
}

#[test]
fn invalid_utf8_names_the_document() {
    let mut input = format!(
        "---\n# Source: c/a.yaml\n{}---\n# Source: c/b.yaml\n",
        pod("p1")
    )
    .into_bytes();
    input.extend_from_slice(b"kind: \xff\n");
    let Outcome::Refused(e) = engine(&input) else {
        panic!("written")
    };
    assert!(e.contains("document 2 from c/b.yaml, line 13"), "{e}");
}
