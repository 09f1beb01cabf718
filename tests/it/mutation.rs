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

use helm_regcred::{Config, Request, Stream, kinds};
use serde_json::{Value, json};

use crate::util::{TEST_PASSWORD, regcred, rules_file, run_with_stdin};

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
const HOOK_SECRET: &str = "regcred-hook";

/// A document Helm runs as a hook: `helm.sh/hook` names at least one event Helm 3/4 runs.
fn is_hook(doc: &Value) -> bool {
    const EVENTS: &[&str] = &[
        "pre-install",
        "post-install",
        "pre-delete",
        "post-delete",
        "pre-upgrade",
        "post-upgrade",
        "pre-rollback",
        "post-rollback",
        "test",
        "test-success",
    ];
    doc["metadata"]["annotations"]["helm.sh/hook"]
        .as_str()
        .is_some_and(|h| h.split(',').any(|e| EVENTS.contains(&e.trim())))
}

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
    Written {
        out: String,
        diff: String,
        /// The input ranges the plan replaced (insertions are empty ranges), with their text.
        replaced: Vec<String>,
    },
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
    let outcome = match helm_regcred::run(Request::new(&config, &stream).env(&env)) {
        Ok(o) => o,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let out = outcome.output().expect("the credentials were read");
    let replaced = outcome
        .plan
        .edits
        .iter()
        .filter(|e| !e.range.is_empty())
        .map(|e| stream.text[e.range.clone()].to_string())
        .collect();
    Outcome::Written {
        out,
        diff: outcome.diff(false),
        replaced,
    }
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
/// `imagePullSecrets` that lacks it (a null list counts as empty, as Go's decoder has it); in
/// a `*List`, to each item's.
fn expected(doc: &Value) -> Value {
    let mut doc = doc.clone();
    let is_list = doc["kind"].as_str().is_some_and(|k| k.ends_with("List"));
    if is_list && let Some(items) = doc.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            *item = expected(item);
        }
        return doc;
    }
    // A Helm hook's pods get the hook Secret, which exists at their events (issue 13; the
    // events as `plan::resource::HOOK_EVENTS` lists them, after Helm's sortManifestsByHooks).
    let secret = if is_hook(&doc) { HOOK_SECRET } else { SECRET };
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
            && !items.iter().any(|i| i["name"] == secret)
        {
            items.push(json!({"name": secret}));
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
    if names.iter().any(|n| *n != SECRET && *n != HOOK_SECRET) {
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
        Outcome::Written {
            out,
            diff,
            replaced,
        } => {
            if diff.contains(TEST_PASSWORD) || diff.contains(&secret_data(&out)) {
                return Err(format!("the diff shows a secret value:\n{diff}"));
            }
            // Only additions: a replaced range may only be a null value that became the list.
            if let Some(r) = replaced
                .iter()
                .find(|r| !matches!(r.trim(), "" | "~" | "null" | "Null" | "NULL"))
            {
                return Err(format!("the plan rewrote input text {r:?}"));
            }
            let text = std::str::from_utf8(input).expect("written input is UTF-8");
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            // Where serde-saphyr cannot read the input at all (tags it refuses, YAML 1.1
            // leftovers), it is no oracle: the second run below still checks the output.
            if oracle_reads_like_go(text) && documents(text).is_ok() {
                check_faithful(text, &out)?;
            }
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

/// The `.dockerconfigjson` value of the Secret the output adds (what a diff must redact).
fn secret_data(out: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(".dockerconfigjson: "))
        .unwrap_or("\u{0}no Secret\u{0}")
        .to_string()
}

/// Whether serde-saphyr (YAML 1.2) reads `text` as Go's YAML (1.1, libyaml's) does, so its
/// values are an oracle: not where they differ on what a line break is (NEL, LS, PS, a lone
/// CR), on BOMs inside the stream, or on text after `...` (which Go never reads).
fn oracle_reads_like_go(text: &str) -> bool {
    !text.contains(['\u{85}', '\u{2028}', '\u{2029}', '\u{feff}'])
        && !text.replace("\r\n", "\n").contains('\r')
        && !text.lines().any(|l| l.starts_with("..."))
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

// The mutation test.

/// A small deterministic generator (xorshift), so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }
}

/// Workloads as charts render them, in the styles the tool must keep (block, flow, lists of
/// resources, hooks, Secrets, documents around them).
const SEEDS: &[&str] = &[
    "---\n# Source: c/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  replicas: 1\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n        - name: web\n          image: \"registry.example.com/web:1.0\"\n          args: [\"--port=8080\", --verbose]\n          env:\n            - name: A\n              value: \"1\"\n      volumes:\n        - name: config\n          configMap:\n            name: web-config\n",
    "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: report}\nspec:\n  schedule: '0 * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          imagePullSecrets:\n          - name: old-pull\n          containers:\n          - name: r\n            image: registry.example.com/report:2\n            command:\n            - /bin/sh\n            - -c\n            - |\n              echo start\n              run-report\n          restartPolicy: OnFailure\n",
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: flow\nspec: {containers: [{name: a, image: registry.example.com/a:1}], imagePullSecrets: [{name: old}]}\n",
    "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  serviceName: db\n  template:\n    spec:\n      initContainers:\n      - name: init\n        image: registry.example.com/init:1\n      containers:\n      - name: db\n        image: registry.example.com/db:1\n        ports:\n        - containerPort: 5432\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: one\n  spec:\n    containers:\n    - name: a\n      image: registry.example.com/a:1\n",
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secret\ntype: Opaque\ndata:\n  password: czNjcjN0\n",
    // A Secret whose `stringData` comes first, holding the password the diff must never show.
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-login\nstringData:\n  password: \"s3cr3t-<&>\\\"\\\\-ünï\"\ndata:\n  user: cm9ib3Q=\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  config.yaml: |\n    key: value\n    list:\n    - 1\n",
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  template:\n    spec:\n      imagePullSecrets: []\n      containers:\n      - name: agent\n        image: registry.example.com/agent:3\n      tolerations:\n      - operator: Exists\n",
];

/// The repository's example manifests, and the corpus's rendered charts when present, as
/// streams of a few documents each.
fn seed_streams() -> Vec<String> {
    let mut streams: Vec<String> = SEEDS.iter().map(|s| s.to_string()).collect();
    streams.push(SEEDS[..4].join("---\n"));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<std::path::PathBuf> = [
        "examples/quickstart/manifests.yaml",
        "examples/coding-per-user/manifests.yaml",
        "examples/multi-registry-docker-config/manifests.yaml",
        "examples/kpt/web.yaml",
        "examples/kustomize/web.yaml",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect();
    let corpus = std::env::var_os("HELM_REGCRED_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/corpus"));
    for dir in ["postrender-helm3", "postrender-helm4"] {
        if let Ok(entries) = std::fs::read_dir(corpus.join(dir)) {
            let mut these: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            these.sort();
            files.extend(these);
        }
    }
    for path in files {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stream = Stream::parse(text.as_bytes()).unwrap();
        // Workloads (and their neighbours) under 20 KB: mutations of 1 MB CRDs prove little.
        let docs: Vec<&str> = stream
            .docs
            .iter()
            .map(|d| stream.doc_text(d))
            .filter(|t| t.len() < 20_000)
            .collect();
        for (i, doc) in docs.iter().enumerate() {
            let kind = helm_regcred::input::stream::top_level_kind(doc);
            if kind.is_some_and(kinds::may_hold_pod_spec) {
                let next = docs.get(i + 1).copied().unwrap_or_default();
                streams.push(format!("{doc}{next}"));
            }
        }
    }
    streams
}

/// Damage `text` in one of the ways issue 12 found defects, or the way typos and bad
/// templates do.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let n = lines.len().max(1);
    let line = rng.below(n);
    let with_line = |new: String| {
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        if out.is_empty() {
            return new;
        }
        out[line] = new;
        out.concat()
    };
    let current = lines.get(line).copied().unwrap_or_default();
    let indent = " ".repeat(current.len() - current.trim_start_matches(' ').len());
    let key_colon = current
        .find(": ")
        .or_else(|| current.trim_end().strip_suffix(':').map(|k| k.len()));
    match rng.below(18) {
        // 2: properties on a value, an explicit key.
        0 => match key_colon {
            Some(c) => with_line(format!(
                "{}:{} {}",
                &current[..c],
                rng.pick(&[" !!seq", " &ips", " !!map", " &a !!str", " !!str"]),
                current[c + 1..].trim_start()
            ))
            .replace(":  ", ": "),
            None => text.to_string(),
        },
        1 => match key_colon {
            Some(c) if !current.trim_start().starts_with('-') => with_line(format!(
                "{indent}? {}\n{indent}:{}",
                current[..c].trim_start(),
                &current[c + 1..]
            )),
            _ => text.to_string(),
        },
        // 3: merge keys and aliases.
        2 => with_line(format!(
            "{current}{indent}{}\n",
            rng.pick(&[
                "<<: {imagePullSecrets: [{name: merged}]}",
                "<<: *a",
                "image: *img",
                "containers: *c",
                "x: &img registry.example.com/y:1",
            ])
        )),
        // 4: a key twice.
        3 => with_line(format!("{current}{current}")),
        // 5: line breaks libyaml sees and a line-based reader would not.
        4 => {
            let mut s = text.to_string();
            let mut i = rng.below(s.len() + 1);
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            s.insert_str(
                i,
                rng.pick(&["\u{85}", "\u{2028}", "\u{2029}", "\r", "\u{2028}  "]),
            );
            s
        }
        // 6: the end of the input, null lists, comments before the marker.
        5 => text.trim_end_matches('\n').to_string(),
        6 => format!("{text}  last: |\n    x"),
        7 => with_line(format!(
            "{indent}imagePullSecrets: {}\n",
            rng.pick(&["~", "null", "", "~ # none"])
        )),
        8 => format!(
            "# generated\n{}{text}",
            if text.starts_with("---") { "" } else { "---\n" }
        ),
        // 7: odd list items.
        9 => with_line(format!(
            "{indent}imagePullSecrets: {}\n",
            rng.pick(&[
                "[other-pull]",
                "[regcred]",
                "[null]",
                "[{}]",
                "[{name: [x]}]",
                "[{name: ''}]"
            ])
        )),
        // 8: BOMs and document ends.
        10 => format!(
            "{}{text}",
            rng.pick(&["\u{feff}", "\u{feff}\u{feff}", "---\n\u{feff}"])
        ),
        11 => with_line(format!(
            "{current}{}",
            rng.pick(&["...\n", "...\n  junk: [\n", "... x\n", "\u{feff}"])
        )),
        // 9: shapes (long one-line lists).
        12 => with_line(format!(
            "{indent}args: [{}]\n",
            (0..rng.below(200))
                .map(|i| format!("a{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        // Typos: a character inserted, deleted or replaced; a line re-indented or joined.
        13 => {
            let mut s = text.to_string();
            let mut i = rng.below(s.len() + 1);
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            s.insert_str(
                i,
                rng.pick(&[
                    ":", ": ", "- ", " ", "#", "'", "\"", "|", "[", "{", ",", "\t", "\n", "\n  ",
                    "&a ", "*a", "!t ", "? ",
                ]),
            );
            s
        }
        14 if !text.is_empty() => {
            let mut s = text.to_string();
            let mut i = rng.below(s.len());
            while !s.is_char_boundary(i) {
                i -= 1;
            }
            if let Some(c) = s[i..].chars().next() {
                s.replace_range(i..i + c.len_utf8(), "");
            }
            s
        }
        15 => with_line(format!(" {current}")),
        16 => with_line(current.strip_prefix("  ").unwrap_or(current).to_string()),
        _ => with_line(current.trim_end_matches('\n').to_string()),
    }
}

/// The binary on the same input: same outcome as the library, stdout empty on an error, never
/// a panic (exit 101).
fn check_binary(input: &[u8], library: &Outcome) -> Result<(), String> {
    let (_dir, rules) = rules_file(RULES);
    let diff_file = _dir.path().join("diff");
    let mut cmd = regcred();
    cmd.args(["render", "-r"])
        .arg(&rules)
        .arg("--diff-file")
        .arg(&diff_file)
        .arg("-");
    let out = run_with_stdin(cmd, input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(101) || stderr.contains("panicked") {
        return Err(format!("the binary panicked: {stderr}"));
    }
    if stderr.contains(TEST_PASSWORD)
        || String::from_utf8_lossy(&std::fs::read(&diff_file).unwrap_or_default())
            .contains(TEST_PASSWORD)
    {
        return Err("the binary showed the password".into());
    }
    match library {
        Outcome::Written { out: want, .. }
            if out.status.success() && out.stdout == want.as_bytes() =>
        {
            Ok(())
        }
        Outcome::Refused(_) if !out.status.success() && out.stdout.is_empty() => {
            if stderr.contains("document ") || stderr.contains("line ") {
                Ok(())
            } else {
                Err(format!(
                    "the binary's error names no document or line: {stderr}"
                ))
            }
        }
        _ => Err(format!(
            "the binary (exit {:?}, {} bytes out) disagrees with the library ({})\n{stderr}",
            out.status.code(),
            out.stdout.len(),
            matches!(library, Outcome::Written { .. })
                .then_some("written")
                .unwrap_or("refused")
        )),
    }
}

/// `HELM_REGCRED_FUZZ=SEED,COUNT` (scripts/fuzz) for a longer hunt than the suite's.
fn fuzz_setting() -> (u64, usize) {
    let setting = std::env::var("HELM_REGCRED_FUZZ").unwrap_or_default();
    let mut parts = setting.split(',').map(|x| x.trim().parse::<u64>().ok());
    let seed = parts.next().flatten().unwrap_or(0x5eed_1215);
    let count = parts.next().flatten().unwrap_or(600) as usize;
    (seed, count)
}

#[test]
fn mutants_are_written_faithfully_or_refused_with_a_location() {
    let seeds = seed_streams();
    let (seed, count) = fuzz_setting();
    let mut rng = Rng(seed | 1);
    // The binary is run on a sample: a process per mutant would dominate the suite's time.
    let binary_every = 25;
    let (mut written, mut refused, mut through_binary) = (0, 0, 0);
    for round in 0..count {
        let base = rng.pick(&seeds);
        let mut input = mutate(&base, &mut rng);
        for _ in 0..rng.below(3) {
            input = mutate(&input, &mut rng);
        }
        let mut bytes = input.into_bytes();
        if rng.below(200) == 0 {
            let at = rng.below(bytes.len() + 1);
            bytes.insert(at, 0xff); // invalid UTF-8
        }
        let fail = |e: String| {
            panic!(
                "seed {seed} round {round}: {e}\n--- input ({} bytes):\n{}",
                bytes.len(),
                String::from_utf8_lossy(&bytes)
            )
        };
        match check(&bytes) {
            Ok(true) => written += 1,
            Ok(false) => refused += 1,
            Err(e) => fail(e),
        }
        if round % binary_every == 0 {
            through_binary += 1;
            if let Err(e) = check_binary(&bytes, &engine(&bytes)) {
                fail(e);
            }
        }
    }
    eprintln!(
        "mutants (seed {seed}): {count} tried, {written} written, {refused} refused, {through_binary} also through the binary, from {} seed streams",
        seeds.len()
    );
    assert!(
        written > count / 10 && refused > count / 20,
        "the mutations are too mild or too wild"
    );
}
