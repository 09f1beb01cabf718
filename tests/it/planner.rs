//! The planner side of issue 13, end to end through `helm-regcred post-render`: what the
//! kubelet will do decides the output (ServiceAccount inheritance, Docker Hub spellings, servers
//! matched as the keyring does, JSON kept JSON). Each test is a defect seen on real charts.

use base64::Engine as _;
use serde_json::Value;

use crate::util::{TEST_PASSWORD, regcred, rules_file, run_with_stdin};

/// `post-render -r RULES` on `input`: (stdout, stderr), asserting success.
fn post_render(rules: &str, input: &str) -> (String, String) {
    let (_dir, path) = rules_file(rules);
    let mut cmd = regcred();
    cmd.arg("post-render").arg("-r").arg(&path);
    let out = run_with_stdin(cmd, input.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

fn documents(text: &str) -> Vec<Value> {
    let stream = helm_regcred::Stream::parse(text.as_bytes()).unwrap();
    stream
        .docs
        .iter()
        .map(|d| serde_saphyr::from_str(stream.doc_text(d)).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn rules(server: &str, extra: &str) -> String {
    format!(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: \"{server}\"\n    secret: pull\n    credentials: {{env: {{username: REG_USER, password: REG_PASSWORD}}}}\n{extra}"
    )
}

fn deployment(name: &str, image: &str, spec_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  template:\n    spec:\n{spec_extra}      containers:\n      - name: c\n        image: {image}\n"
    )
}

fn pull_secrets(doc: &Value) -> Vec<&str> {
    doc["spec"]["template"]["spec"]["imagePullSecrets"]
        .as_array()
        .map(|l| l.iter().map(|s| s["name"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// The `auths` keys of the added Secret named `name`.
fn auths_keys(docs: &[Value], name: &str) -> Vec<String> {
    let secret = docs
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no Secret {name}"));
    let payload = base64::engine::general_purpose::STANDARD
        .decode(secret["data"][".dockerconfigjson"].as_str().unwrap())
        .unwrap();
    let json: Value = serde_json::from_slice(&payload).unwrap();
    json["auths"].as_object().unwrap().keys().cloned().collect()
}

/// Issue 13 item 1: tempo's `serviceAccount.imagePullSecrets`, cert-manager's
/// `global.imagePullSecrets` reach only the ServiceAccount; a pod-level list of the new secret
/// alone made Kubernetes skip the ServiceAccount's.
#[test]
fn a_service_accounts_secrets_are_kept_when_a_pod_gets_its_own_list() {
    let input = format!(
        "{}---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: tempo\nimagePullSecrets:\n- name: corp-pull\n",
        deployment(
            "tempo",
            "r.example.com/tempo:2",
            "      serviceAccountName: tempo\n"
        )
    );
    let (out, stderr) = post_render(&rules("r.example.com", ""), &input);
    let docs = documents(&out);
    let tempo = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    assert_eq!(pull_secrets(tempo), ["corp-pull", "pull"], "{out}");
    assert!(!stderr.contains("warning"), "{stderr}");

    // `default`, not in the stream: said, with the remedy; declared: kept, and quiet.
    let input = deployment("api", "r.example.com/api:1", "");
    let (out, stderr) = post_render(&rules("r.example.com", ""), &input);
    assert_eq!(pull_secrets(&documents(&out)[1]), ["pull"]);
    assert!(
        stderr.contains("ServiceAccount default is not in the input")
            && stderr.contains("serviceAccounts: [{names: [default], imagePullSecrets: [NAME]}]"),
        "{stderr}"
    );
    let declared = "serviceAccounts:\n  - {names: [default], imagePullSecrets: [cluster-pull]}\n";
    let (out, stderr) = post_render(&rules("r.example.com", declared), &input);
    assert_eq!(pull_secrets(&documents(&out)[1]), ["cluster-pull", "pull"]);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(!out.contains(TEST_PASSWORD) && !stderr.contains(TEST_PASSWORD));
}

/// Issue 13 item 2: `registry.hub.docker.com/x/y` and `registry-1.docker.io/x/y` got a Secret
/// whose only key was `docker.io`, which the kubelet never sends for those hosts.
#[test]
fn docker_hub_spellings_each_get_an_auths_key() {
    let input = [
        deployment("a", "registry-1.docker.io/corp/a:1", ""),
        deployment("b", "registry.hub.docker.com/corp/b:1", ""),
        deployment("c", "corp/c:1", ""),
    ]
    .join("---\n");
    let declared = "serviceAccounts:\n  - {names: [default], imagePullSecrets: []}\n";
    let (out, _) = post_render(&rules("docker.io", declared), &input);
    let mut keys = auths_keys(&documents(&out), "pull");
    keys.sort();
    assert_eq!(
        keys,
        [
            "docker.io",
            "registry-1.docker.io",
            "registry.hub.docker.com"
        ]
    );
}

/// Issue 13 item 3: a glob server never matched, a path server served other teams, a scheme
/// and `/v2/` were written verbatim as the key.
#[test]
fn servers_serve_what_the_kubelet_matches() {
    let declared = "serviceAccounts:\n  - {names: [default], imagePullSecrets: []}\n";
    let ecr = deployment(
        "a",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1",
        "",
    );
    let (out, _) = post_render(&rules("*.dkr.ecr.eu-west-1.amazonaws.com", declared), &ecr);
    let docs = documents(&out);
    assert_eq!(pull_secrets(&docs[1]), ["pull"]);
    assert_eq!(
        auths_keys(&docs, "pull"),
        ["*.dkr.ecr.eu-west-1.amazonaws.com"]
    );

    let teams = [
        deployment("a", "harbor.example.com/team-a/app:1", ""),
        deployment("b", "harbor.example.com/team-b/app:1", ""),
    ]
    .join("---\n");
    let (out, _) = post_render(&rules("harbor.example.com/team-a", declared), &teams);
    let docs = documents(&out);
    let get = |name: &str| docs.iter().find(|d| d["metadata"]["name"] == name).unwrap();
    assert_eq!(pull_secrets(get("a")), ["pull"]);
    assert!(pull_secrets(get("b")).is_empty(), "team-b is not served");

    let other = deployment("a", "other.example.com/app:1", "");
    let (out, _) = post_render(&rules("https://other.example.com/v2/", declared), &other);
    assert_eq!(auths_keys(&documents(&out), "pull"), ["other.example.com"]);

    // A glob the kubelet cannot compile never matches: refused, with what to write.
    let (_dir, path) = rules_file(&rules("harbor[.example.com", ""));
    let mut cmd = regcred();
    cmd.arg("post-render").arg("-r").arg(&path);
    let out = run_with_stdin(cmd, other.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(
        stderr.contains("never send") && stderr.contains("hint:"),
        "{stderr}"
    );
}

/// Issue 13 item 6: JSON manifests came back with YAML flow syntax inserted.
#[test]
fn a_json_manifest_stays_json() {
    let json = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"r.example.com/api:1"}]}}}}"#;
    let declared = "serviceAccounts:\n  - {names: [default], imagePullSecrets: []}\n";
    let (out, _) = post_render(&rules("r.example.com", declared), &format!("{json}\n"));
    // After the added Secret and its `---`: the input document, edited.
    let edited = out.rsplit_once("\n---\n").unwrap().1.trim();
    let value: Value =
        serde_json::from_str(edited).unwrap_or_else(|e| panic!("no longer JSON ({e}): {edited}"));
    assert_eq!(
        value["spec"]["template"]["spec"]["imagePullSecrets"],
        serde_json::json!([{"name": "pull"}])
    );
}

/// `explain` shows what a pod keeps from its ServiceAccount when it gets a list of its own.
#[test]
fn explain_names_the_secrets_kept_from_the_service_account() {
    let input = format!(
        "{}---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: tempo\nimagePullSecrets:\n- name: corp-pull\n",
        deployment(
            "tempo",
            "r.example.com/tempo:2",
            "      serviceAccountName: tempo\n"
        )
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.yaml");
    std::fs::write(&file, &input).unwrap();
    let (_rules_dir, rules) = rules_file(&rules("r.example.com", ""));
    let out = regcred()
        .arg("explain")
        .arg(&file)
        .arg("-r")
        .arg(&rules)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("added pull; kept from ServiceAccount tempo: corp-pull"),
        "{stdout}"
    );
}

/// A Helm 4-shaped document: no `# Source:` comment, the file in Helm's annotation, hook
/// annotations when `hook` is `(events, weight)`.
fn helm4_doc(file: &str, head: &str, name: &str, hook: Option<(&str, &str)>, rest: &str) -> String {
    let hook = match hook {
        Some((events, weight)) => format!(
            "    helm.sh/hook: {events}\n    helm.sh/hook-weight: \"{weight}\"\n    helm.sh/hook-delete-policy: before-hook-creation\n"
        ),
        None => String::new(),
    };
    format!(
        "{head}metadata:\n  name: {name}\n  annotations:\n    postrenderer.helm.sh/postrender-filename: 'demo/templates/{file}'\n{hook}{rest}"
    )
}

fn helm4_job(file: &str, name: &str, hook: (&str, &str), sa: &str) -> String {
    helm4_doc(
        file,
        "apiVersion: batch/v1\nkind: Job\n",
        name,
        Some(hook),
        &format!(
            "spec:\n  template:\n    spec:\n      serviceAccountName: {sa}\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: r.example.com/tools:1\n"
        ),
    )
}

/// Hook resources under `mode: serviceAccount` and `target` rules, through the binary on the
/// stream Helm 4 sends (hooks included): each gets the hook Secret where it exists when the
/// pod pulls, release resources the release's Secret.
#[test]
fn hook_resources_get_the_hook_secret_in_service_account_mode_and_target_rules() {
    let sa = "apiVersion: v1\nkind: ServiceAccount\n";
    let input = [
        helm4_doc("sa.yaml", sa, "app", None, ""),
        helm4_doc(
            "web.yaml",
            "apiVersion: apps/v1\nkind: Deployment\n",
            "web",
            None,
            "spec:\n  template:\n    spec:\n      serviceAccountName: app\n      containers:\n      - name: c\n        image: r.example.com/web:1\n",
        ),
        helm4_doc(
            "migrate.yaml",
            sa,
            "migrate",
            Some(("pre-install,pre-upgrade", "-10")),
            "",
        ),
        helm4_job(
            "migrate.yaml",
            "migrate",
            ("pre-install,pre-upgrade", "-5"),
            "migrate",
        ),
        helm4_job("cleanup.yaml", "cleanup", ("post-delete", "0"), "app"),
        helm4_doc(
            "prometheus.yaml",
            "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\n",
            "prom",
            Some(("post-install", "0")),
            "spec:\n  image: r.example.com/prom:2\n",
        ),
    ]
    .join("---\n");
    let extra = "rules:\n  - name: accounts\n    match: {kinds: [Deployment, Job]}\n    mode: serviceAccount\n  - name: prometheus\n    match: {kinds: [Prometheus]}\n    target: {path: \"$.spec.imagePullSecrets\"}\n";
    let (out, stderr) = post_render(&rules("r.example.com", extra), &input);
    let docs = documents(&out);
    let get = |kind: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind}/{name} in {out}"))
    };
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .map(|l| {
                l.iter()
                    .map(|s| s["name"].as_str().unwrap().into())
                    .collect()
            })
            .unwrap_or_default()
    };
    // The release's ServiceAccount lists the release's Secret for its release pods.
    assert_eq!(
        names(&get("ServiceAccount", "app")["imagePullSecrets"]),
        ["pull"]
    );
    assert!(pull_secrets(get("Deployment", "web")).is_empty(), "{out}");
    // The hook ServiceAccount carries the hook Secret; its Job inherits it.
    assert_eq!(
        names(&get("ServiceAccount", "migrate")["imagePullSecrets"]),
        ["pull-hook"]
    );
    assert!(pull_secrets(get("Job", "migrate")).is_empty(), "{out}");
    // The post-delete Job runs after `app` is deleted: it lists the hook Secret itself.
    assert_eq!(pull_secrets(get("Job", "cleanup")), ["pull-hook"], "{out}");
    // A target rule on a hook custom resource.
    assert_eq!(
        names(&get("Prometheus", "prom")["spec"]["imagePullSecrets"]),
        ["pull-hook"]
    );
    // Two Secrets: the release's, and the hook Secret for every event, before every user.
    let release = get("Secret", "pull");
    assert!(
        release["metadata"]["annotations"]["helm.sh/hook"].is_null(),
        "{out}"
    );
    let hook = &get("Secret", "pull-hook")["metadata"]["annotations"];
    let mut events: Vec<&str> = hook["helm.sh/hook"].as_str().unwrap().split(',').collect();
    events.sort();
    assert_eq!(
        events,
        ["post-delete", "post-install", "pre-install", "pre-upgrade"],
        "{out}"
    );
    assert_eq!(hook["helm.sh/hook-weight"], "-6", "{out}");
    assert_eq!(
        hook["helm.sh/hook-delete-policy"],
        "before-hook-creation,hook-succeeded"
    );
    assert_eq!(auths_keys(&docs, "pull-hook"), ["r.example.com"]);
    assert!(!out.contains(TEST_PASSWORD) && !stderr.contains(TEST_PASSWORD));
}

/// Long collections (64 children and more) are left unread by the parser and read again when
/// asked: through the binary, with the threshold it ships with, the output is what a kept tree
/// gives — labels select, a hook annotation after 200 others is seen, a List's items and a
/// root with many keys are planned, a CRLF document (the libyaml-safer path) too — and a second
/// run changes nothing.
#[test]
fn long_collections_plan_as_short_ones_do() {
    let labels: String = (0..200).map(|i| format!("    l{i:03}: v\n")).collect();
    let annotations: String = (0..200).map(|i| format!("    a{i:03}: v\n")).collect();
    let args: String = (0..300).map(|i| format!("        - arg{i}\n")).collect();
    let selected = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hook\n  labels:\n{labels}    team: web\n  annotations:\n{annotations}    helm.sh/hook: pre-install\nspec:\n  containers:\n  - name: c\n    image: r.example.com/x\n    args: [{}]\n",
        (0..300)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let other = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: other\n  labels:\n{labels}    team: db\nspec:\n  containers:\n  - name: c\n    image: r.example.com/x\n"
    );
    let items: String = (0..100)
        .map(|i| {
            format!(
                "- apiVersion: v1\n  kind: Pod\n  metadata: {{name: p{i}, labels: {{team: web}}}}\n  spec:\n    containers:\n    - name: c\n      image: r.example.com/x\n      args:\n{}",
                args.replace("        - ", "      - ")
            )
        })
        .collect();
    let list = format!("apiVersion: v1\nkind: List\nitems:\n{items}");
    let root_keys: String = (0..100).map(|i| format!("x{i:03}: v\n")).collect();
    let wide = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: wide\n  labels: {{team: web}}\nspec:\n  containers:\n  - name: c\n    image: r.example.com/x\n{root_keys}"
    );
    let crlf = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: crlf\n  labels:\n{labels}    team: web\nspec:\n  containers:\n  - name: c\n    image: r.example.com/x\n    args:\n{}",
        args.replace("        - ", "    - ")
    )
    .replace('\n', "\r\n");
    let input = [selected, other, list, wide]
        .join("---\n")
        .replace("\r\n", "\n");
    let rules = rules(
        "r.example.com",
        "rules:\n  - name: web\n    match: {labels: {team: web}}\n    secrets: [pull]\n",
    );
    let (out, _) = post_render(&rules, &input);
    let docs = documents(&out);
    let names = |doc: &Value| {
        doc["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let secrets = |doc: &Value| -> Vec<String> {
        doc["spec"]["imagePullSecrets"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|s| s["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let hook = docs.iter().find(|d| names(d) == "hook").unwrap();
    assert_eq!(
        secrets(hook),
        ["pull-hook"],
        "a hook pod lists the hook Secret"
    );
    assert_eq!(
        hook["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .len(),
        300
    );
    let other = docs.iter().find(|d| names(d) == "other").unwrap();
    assert!(secrets(other).is_empty(), "team: db is not selected");
    let list = docs.iter().find(|d| d["kind"] == "List").unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 100);
    for item in items {
        assert_eq!(secrets(item), ["pull"]);
        assert_eq!(
            item["spec"]["containers"][0]["args"]
                .as_array()
                .unwrap()
                .len(),
            300
        );
    }
    let wide = docs.iter().find(|d| names(d) == "wide").unwrap();
    assert_eq!(secrets(wide), ["pull"]);
    assert_eq!(wide["x099"], "v");
    let (again, _) = post_render(&rules, &out);
    assert_eq!(again, out, "a second run changes nothing");

    let (out, _) = post_render(&rules, &crlf);
    let crlf_doc = documents(&out)
        .into_iter()
        .find(|d| names(d) == "crlf")
        .unwrap();
    assert_eq!(secrets(&crlf_doc), ["pull"]);
    assert!(
        out.contains("  imagePullSecrets:\r\n  - name: pull\r\n"),
        "{}",
        &out[out.len() - 200..]
    );
    let (again, _) = post_render(&rules, &out);
    assert_eq!(again, out);
}
