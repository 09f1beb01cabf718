//! Issue 4: targets beyond pod specs — the Cloudforet oracle, CRs, embedded YAML/JSON,
//! ServiceAccount mode, pull policy. Every case is also run twice to prove idempotence.

use helm_regcred::{Config, Request, Stream};
use serde_json::{Value, json};

use crate::util::{corpus, fixture_streams, regcred, rules_file, run_with_stdin};

fn env(name: &str) -> Option<String> {
    Some(format!("value-of-{name}"))
}

/// Render through the library and check that a second pass changes nothing.
fn render_twice(input: &str, rules: &str) -> (String, helm_regcred::Plan) {
    let config = Config::parse(rules, "<test>").expect("rules");
    let run = |text: &str| {
        let stream = Stream::parse(text.as_bytes()).expect("stream");
        let outcome = helm_regcred::run(Request::new(&config, &stream).env(&env)).expect("plan");
        (outcome.output().expect("credentials"), outcome.plan)
    };
    let (out, plan) = run(input);
    let (again, _) = run(&out);
    assert_eq!(again, out, "second pass changed the output");
    (out, plan)
}

fn documents(text: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).expect("oracle parse");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// Parse YAML-looking ConfigMap values so embedded configs compare by value, not by text.
fn normalize_configs(doc: &mut Value) {
    if doc["kind"] == "ConfigMap"
        && let Some(data) = doc.get_mut("data").and_then(Value::as_object_mut)
    {
        for value in data.values_mut() {
            if let Some(text) = value.as_str()
                && let Ok(parsed) = serde_saphyr::from_str::<Value>(text)
                && parsed.is_object()
            {
                *value = parsed;
            }
        }
    }
}

fn strip_annotations(doc: &mut Value, keys: &[&str]) {
    for path in [&["metadata"][..], &["spec", "template", "metadata"][..]] {
        let mut node = &mut *doc;
        for key in path {
            node = &mut node[*key];
        }
        if let Some(annotations) = node.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.retain(|k, _| !keys.iter().any(|p| k.starts_with(p)));
        }
    }
}

/// The charts' own checksum annotations of the embedded config: the corpus's Cloudforet and the
/// fixture chart `platform`.
const CHART_CHECKSUMS: &[&str] = &[
    "spaceone.auto-deploy-flag",
    "spaceone.application-flag",
    "platform.example.com/",
];

/// The corpus's Cloudforet rendered without and with the seed values, by Helm 3 and Helm 4.
#[test]
fn cloudforet_oracle() {
    let Some(corpus) = corpus() else { return };
    let read =
        |dir: &str, file: &str| std::fs::read_to_string(corpus.join(dir).join(file)).unwrap();
    let pairs = ["postrender-helm3", "postrender-helm4"].map(|dir| {
        let (before, oracle) = (
            read(dir, "cloudforet-defaults.yaml"),
            read(dir, "cloudforet.yaml"),
        );
        (dir.to_owned(), before, oracle)
    });
    check_cloudforet_oracle(&pairs);
}

/// The same oracle on the fixture chart `platform`, a miniature of Cloudforet, rendered during
/// the test by the real Helm 3 and Helm 4 without and with tests/fixtures/values/platform-seed.yaml.
#[test]
fn cloudforet_oracle_on_the_platform_fixture() {
    let stream = |name: &str| {
        let streams = fixture_streams();
        let found = streams.iter().find(|s| s.name == name);
        found
            .unwrap_or_else(|| panic!("no fixture stream {name}"))
            .text
            .clone()
    };
    let pairs = ["helm3", "helm4"].map(|helm| {
        let before = stream(&format!("{helm}/platform-defaults"));
        let oracle = stream(&format!("{helm}/platform-seed"));
        (helm.to_owned(), before, oracle)
    });
    check_cloudforet_oracle(&pairs);
}

/// examples/cloudforet/regcred.yaml applied to each "before" gives what Helm renders from the
/// seed values (the oracle), but for the Secrets it adds and the checksum annotations.
fn check_cloudforet_oracle(pairs: &[(String, String, String)]) {
    let rules =
        std::fs::read_to_string(crate::helm::repo().join("examples/cloudforet/regcred.yaml"))
            .unwrap();
    for (dir, before, oracle) in pairs {
        let (out, plan) = render_twice(before, &rules);

        // The Secrets helm-regcred adds on purpose: in spaceone, and in spaceone-plugin where
        // the scheduler starts plugin pods (read from the embedded config).
        let mut got = documents(&out);
        let secrets: Vec<Value> = got.drain(..2).collect();
        let namespaces: Vec<&str> = secrets
            .iter()
            .map(|s| s["metadata"]["namespace"].as_str().unwrap())
            .collect();
        assert_eq!(namespaces, ["spaceone", "spaceone-plugin"], "{dir}");
        assert!(
            secrets
                .iter()
                .all(|s| s["kind"] == "Secret" && s["metadata"]["name"] == "my-credential")
        );

        let mut want = documents(oracle);
        assert_eq!(got.len(), want.len(), "{dir}: same documents");
        let mut restarted = 0;
        for (i, (g, w)) in got.iter_mut().zip(want.iter_mut()).enumerate() {
            if g["spec"]["template"]["metadata"]["annotations"]
                ["checksum.helm-regcred.io/supervisor-application-scheduler-conf"]
                .is_string()
            {
                restarted += 1;
            }
            strip_annotations(g, &["checksum.helm-regcred.io/"]);
            for doc in [&mut *g, &mut *w] {
                strip_annotations(doc, CHART_CHECKSUMS);
                normalize_configs(doc);
            }
            assert!(
                g == w,
                "{dir}: document {i} ({}/{}) differs from what Helm renders",
                w["kind"],
                w["metadata"]["name"]
            );
        }
        assert_eq!(
            restarted, 1,
            "{dir}: the scheduler Deployment mounting the ConfigMap is rolled"
        );
        assert_eq!(
            plan.notes.len(),
            1,
            "{dir}: the diff says why the annotation changed"
        );

        // Minimal: nothing is removed or rewritten, only lines added — the embedded config
        // gains exactly its two lines inside the |- block, at the block's indentation.
        let deleted = similar::TextDiff::from_lines(before, &out)
            .iter_all_changes()
            .filter(|c| c.tag() == similar::ChangeTag::Delete)
            .count();
        assert_eq!(deleted, 0, "{dir}: the output only adds lines");
        let inner_added: Vec<&str> = out
            .lines()
            .filter(|l| {
                l.trim_start().starts_with("- name: my-credential")
                    || l.trim_start() == "imagePullSecrets:"
            })
            .collect();
        assert_eq!(
            inner_added.len(),
            2 * 3,
            "{dir}: two pod specs and the embedded config, two lines each"
        );
        assert!(out.contains("        start_port: 50051\n        imagePullSecrets:\n        - name: my-credential\n")
            || out.contains("      start_port: 50051\n      imagePullSecrets:\n      - name: my-credential\n"), "{dir}");
    }
}

const REG: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: quay.io
    secret: regcred
    credentials: {env: {username: U, password: P}}
"#;

fn rules(extra: &str) -> String {
    format!("{REG}rules:\n{extra}")
}

#[test]
fn prometheus_and_alertmanager_custom_resources() {
    let Some(corpus) = corpus() else { return };
    let inputs = ["postrender-helm3", "postrender-helm4"].map(|dir| {
        let path = corpus.join(dir).join("kube-prometheus-stack.yaml");
        (dir.to_owned(), std::fs::read_to_string(path).unwrap())
    });
    check_prometheus_and_alertmanager(&inputs);
}

/// The fixture chart `workloads` holds one Prometheus and one Alertmanager (with an empty list).
#[test]
fn prometheus_and_alertmanager_custom_resources_in_the_fixtures() {
    let inputs: Vec<(String, String)> = fixture_streams()
        .iter()
        .filter(|s| s.name.ends_with("/workloads"))
        .map(|s| (s.name.clone(), s.text.clone()))
        .collect();
    assert_eq!(inputs.len(), 2, "Helm 3 and Helm 4");
    check_prometheus_and_alertmanager(&inputs);
}

fn check_prometheus_and_alertmanager(inputs: &[(String, String)]) {
    let rules = rules(
        "  - name: prometheus-cr\n    match: {kinds: [Prometheus, Alertmanager]}\n    target: {path: \"$.spec.imagePullSecrets\"}\n",
    );
    for (dir, input) in inputs {
        let (out, plan) = render_twice(input, &rules);
        let crs: Vec<_> = plan
            .changes
            .iter()
            .filter(|c| c.path == "$.spec.imagePullSecrets")
            .collect();
        assert_eq!(crs.len(), 2, "{dir}: one Prometheus and one Alertmanager");
        let before = documents(input);
        let after = documents(&out);
        assert_eq!(after.len(), before.len() + 1, "{dir}: plus one Secret");
        for (b, a) in before.iter().zip(&after[1..]) {
            if b["kind"] == "Prometheus" || b["kind"] == "Alertmanager" {
                let mut expected = b.clone();
                let list = expected["spec"]
                    .as_object_mut()
                    .unwrap()
                    .entry("imagePullSecrets")
                    .or_insert(json!([]));
                if list.is_null() {
                    *list = json!([]);
                }
                list.as_array_mut()
                    .unwrap()
                    .push(json!({"name": "regcred"}));
                assert_eq!(a, &expected, "{dir}");
            } else {
                assert!(a == b, "{dir}: {} changed", b["kind"]);
            }
        }
    }
}

const CONFIG_MAP_RULE: &str = r#"  - name: plugins
    match: {kinds: [ConfigMap], names: [plugin-conf]}
    target:
      field: "$.data['config.json']"
      format: json
      path: "$.scheduler.pullSecrets"
      itemShape: string
    secrets: [regcred]
"#;

#[test]
fn json_embedded_config_and_missing_parent() {
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plugin-conf\ndata:\n  config.json: |\n    {\n      \"port\": 50051\n    }\n";
    let (out, _) = render_twice(input, &rules(CONFIG_MAP_RULE));
    assert!(
        out.ends_with("  config.json: |\n    {\n      \"port\": 50051, \"scheduler\": {\"pullSecrets\": [\"regcred\"]}\n    }\n"),
        "{out}"
    );
    let cm = &documents(&out)[1];
    let config: Value = serde_json::from_str(cm["data"]["config.json"].as_str().unwrap()).unwrap();
    assert_eq!(config["scheduler"]["pullSecrets"], json!(["regcred"]));
}

#[test]
fn already_present_entry_is_left_alone() {
    let input = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plugin-conf\ndata:\n  config.json: '{\"scheduler\": {\"pullSecrets\": [\"regcred\"]}}'\n";
    let (out, plan) = render_twice(input, &rules(CONFIG_MAP_RULE));
    assert!(out.ends_with(input), "the ConfigMap is untouched");
    assert!(plan.edits.is_empty());
    assert_eq!(plan.changes[0].present, ["regcred"]);
}

#[test]
fn invalid_embedded_config_is_a_located_error() {
    let input = "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plugin-conf\ndata:\n  config.json: '{\"scheduler\": '\n";
    let config = Config::parse(&rules(CONFIG_MAP_RULE), "<test>").unwrap();
    let stream = Stream::parse(input.as_bytes()).unwrap();
    let err = helm_regcred::run(Request::new(&config, &stream).plan_only())
        .err()
        .expect("a problem")
        .to_string();
    assert!(
        err.contains("document 1 (ConfigMap/plugin-conf) from c/templates/cm.yaml"),
        "{err}"
    );
    assert!(err.contains("not valid JSON"), "{err}");
}

const POD: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      serviceAccountName: web-sa\n      containers:\n      - name: c\n        image: quay.io/team/web:1\n";
const SA: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web-sa\n";

#[test]
fn service_account_mode_with_the_account_in_the_stream() {
    let rules =
        rules("  - name: via-sa\n    mode: serviceAccount\n    match: {kinds: [Deployment]}\n");
    // The ServiceAccount comes after the pod that uses it: planning sees the whole stream.
    let input = format!("---\n{POD}---\n{SA}");
    let (out, plan) = render_twice(&input, &rules);
    assert!(
        out.ends_with(&format!(
            "---\n{POD}---\n{SA}imagePullSecrets:\n- name: regcred\n"
        )),
        "{out}"
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    assert_eq!(
        plan.secrets.len(),
        1,
        "the pods still need the Secret in their namespace"
    );
}

#[test]
fn service_account_mode_without_the_account() {
    let rules_text =
        rules("  - name: via-sa\n    mode: serviceAccount\n    match: {kinds: [Deployment]}\n");
    let (out, plan) = render_twice(POD, &rules_text);
    assert!(
        out.ends_with(POD),
        "the pod spec is not edited in serviceAccount mode"
    );
    assert!(plan.warnings.iter().any(|w| {
        w.message
            .contains("ServiceAccount web-sa which is not in the input")
    }));
    // The warning reaches the user on stderr.
    let (_dir, path) = rules_file(&rules_text);
    let mut cmd = regcred();
    cmd.env("U", "u")
        .env("P", "p")
        .arg("post-render")
        .arg("-r")
        .arg(&path);
    let result = run_with_stdin(cmd, POD.as_bytes());
    assert!(result.status.success());
    assert!(
        String::from_utf8_lossy(&result.stderr).contains("warning: document 1 (Deployment/web)")
    );

    // Allowed to create it: the ServiceAccount is emitted after the Secret.
    let creating = rules(
        "  - name: via-sa\n    mode: serviceAccount\n    createServiceAccounts: true\n    match: {kinds: [Deployment]}\n",
    );
    let (out, plan) = render_twice(POD, &creating);
    assert_eq!(plan.service_accounts.len(), 1);
    let docs = documents(&out);
    assert_eq!(docs[0]["kind"], "Secret");
    assert_eq!(docs[1]["kind"], "ServiceAccount");
    assert_eq!(docs[1]["imagePullSecrets"], json!([{"name": "regcred"}]));
}

#[test]
fn service_account_mode_leaves_pods_that_list_the_secret() {
    let rules =
        rules("  - name: via-sa\n    mode: serviceAccount\n    match: {kinds: [Deployment]}\n");
    let pod = POD.replace(
        "      serviceAccountName",
        "      imagePullSecrets: [{name: regcred}]\n      serviceAccountName",
    );
    let (out, plan) = render_twice(&format!("---\n{pod}---\n{SA}"), &rules);
    assert!(
        out.ends_with(&format!("---\n{SA}")),
        "the ServiceAccount is left alone: {out}"
    );
    assert!(plan.warnings.is_empty());
}

#[test]
fn image_pull_policy_on_selected_containers() {
    let rules =
        rules("  - name: always\n    match: {kinds: [Deployment]}\n    imagePullPolicy: Always\n");
    let pod = POD.replace("      containers:\n", "      containers:\n      - name: public\n        image: nginx:1.27\n        imagePullPolicy: IfNotPresent\n");
    let (out, _) = render_twice(&pod, &rules);
    let doc = &documents(&out)[1];
    let containers = doc["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(
        containers[0]["imagePullPolicy"], "IfNotPresent",
        "public image: not this rule's registry"
    );
    assert_eq!(containers[1]["imagePullPolicy"], "Always");
    assert_eq!(
        doc["spec"]["template"]["spec"]["imagePullSecrets"],
        json!([{"name": "regcred"}])
    );
}

const EMBEDDED_RULE: &str = r#"  - name: scheduler
    match: {kinds: [ConfigMap], names: [sched-conf]}
    target:
      field: "$.data['app.yaml']"
      path: "$.connector.imagePullSecrets"
    secrets: [regcred]
"#;

fn workload(name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n{spec}"
    )
}

#[test]
fn pods_using_an_edited_config_map_any_way_are_restarted_unless_opted_out() {
    let config_map = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sched-conf\ndata:\n  app.yaml: |\n    connector:\n      port: 1\n";
    let via_env_from = workload(
        "env-from",
        "      containers:\n      - name: c\n        image: nginx\n        envFrom:\n        - configMapRef: {name: sched-conf}\n",
    );
    let via_value_from = workload(
        "value-from",
        "      containers:\n      - name: c\n        image: nginx\n        env:\n        - name: PORT\n          valueFrom: {configMapKeyRef: {name: sched-conf, key: app.yaml}}\n",
    );
    let via_projected = workload(
        "projected",
        "      containers: [{name: c, image: nginx}]\n      volumes:\n      - name: v\n        projected:\n          sources:\n          - configMap: {name: sched-conf}\n",
    );
    let unrelated = workload(
        "other",
        "      containers: [{name: c, image: nginx}]\n      volumes:\n      - {name: v, configMap: {name: other-conf}}\n",
    );
    let input = [
        config_map,
        &via_env_from,
        &via_value_from,
        &via_projected,
        &unrelated,
    ]
    .concat();

    let (out, plan) = render_twice(&input, &rules(EMBEDDED_RULE));
    let docs = documents(&out);
    let annotation = "checksum.helm-regcred.io/sched-conf";
    let annotated: Vec<&str> = docs
        .iter()
        .filter(|d| d["spec"]["template"]["metadata"]["annotations"][annotation].is_string())
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(annotated, ["env-from", "value-from", "projected"]);
    assert_eq!(plan.notes.len(), 3, "each annotation is explained");

    // rollout: false leaves the pods alone (the config still changes).
    let (out, plan) = render_twice(
        &input,
        &rules(&format!("{EMBEDDED_RULE}    rollout: false\n")),
    );
    assert!(!out.contains(annotation) && plan.notes.is_empty());
    assert!(
        out.contains("      imagePullSecrets:\n      - name: regcred\n"),
        "{out}"
    );
}
