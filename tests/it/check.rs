//! `check`: the kubelet simulated over the final stream. Files, stdin, charts through
//! `helm regcred check` with the real Helm 3 and Helm 4, the 16 corpus inputs before and after
//! post-rendering, ServiceAccounts, workload CRDs, the exit codes and the JSON schema.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use helm_regcred::engine::no_env;
use helm_regcred::registry::image::ImageRef;
use helm_regcred::views::check::{FindingCode, Report, check as check_stream};
use helm_regcred::{Config, Options, Request, Stream, kinds};
use serde_json::Value;

use crate::helm::{CHART, Helm, RULES, repo, text};
use crate::util::{bin, fixture_streams, postrender_inputs, rules_file, run_with_stdin};

/// The private pulls of the demo chart without a credential (the hook Job included: a chart
/// check sees hooks, which Helm 3 never post-renders), as `resource path`.
const MISSING: [&str; 6] = [
    "DaemonSet/demo-agent spec.template.spec.containers[0]",
    "Deployment/demo-api spec.template.spec.initContainers[0]",
    "Deployment/demo-api spec.template.spec.containers[0]",
    "StatefulSet/demo-store spec.template.spec.containers[0]",
    "CronJob/demo-report spec.jobTemplate.spec.template.spec.containers[0]",
    "Job/demo-migrate spec.template.spec.containers[0]",
];

fn check() -> Command {
    let mut cmd = Command::new(bin());
    cmd.current_dir(repo())
        .arg("check")
        .env_remove("HELM_REGCRED_RULES")
        .env_remove("HELM_REGCRED_NAMESPACE")
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"));
    cmd
}

/// The demo chart as `helm template` (Helm 3) prints it, in a file.
fn rendered_demo() -> (tempfile::TempDir, PathBuf) {
    let helm = Helm::v3();
    let out = helm
        .cmd()
        .args(["template", "demo", CHART])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.yaml");
    std::fs::write(&path, &out.stdout).unwrap();
    (dir, path)
}

fn assert_findings(out: &Output) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}\n{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), MISSING.len(), "{stdout}");
    for (line, missing) in lines.iter().zip(MISSING) {
        let (resource, path) = missing.split_once(' ').unwrap();
        assert!(line.contains(&format!("({resource})")), "{line}");
        assert!(
            line.contains(&format!(": {path} pulls registry.example.com/")),
            "{line}"
        );
        assert!(line.contains("without a credential"), "{line}");
        assert!(line.contains("Secret `demo-pull`"), "{line}");
    }
    assert!(!stdout.contains("demo-frontend") && !stdout.contains("test-connection"));
    assert!(
        stderr.contains("0 covered, 6 without a credential"),
        "{stderr}"
    );
}

#[test]
fn check_lists_private_pulls_without_a_credential() {
    let (_dir, file) = rendered_demo();
    let out = check().args(["-r", RULES]).arg(&file).output().unwrap();
    assert_findings(&out);
    // The StatefulSet lists a Secret the input does not hold: the message says so.
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("`existing-secret` is not in the release namespace"),
        "{stdout}"
    );
}

#[test]
fn check_passes_on_post_rendered_input_from_stdin() {
    let (_dir, file) = rendered_demo();
    let rendered = Command::new(bin())
        .args(["render", "-r", RULES])
        .arg(&file)
        .current_dir(repo())
        .env("REGISTRY_USER", "robot")
        .env("REGISTRY_PASSWORD", "pw")
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{}", text(&rendered.stderr));
    let mut cmd = check();
    cmd.args(["--rules", RULES]);
    let out = run_with_stdin(cmd, &rendered.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("6 covered, 0 without a credential"),
        "{}",
        text(&out.stderr)
    );
}

/// 0 = covered, 1 = findings, 2 = usage or input error (never 1, which CI reads as "pods lack
/// secrets").
#[test]
fn check_exit_codes() {
    let (_dir, rules) =
        rules_file("apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistriez: []\n");
    let out = check()
        .arg("--rules")
        .arg(&rules)
        .arg("-")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("regcred.yaml:3:1"),
        "{}",
        text(&out.stderr)
    );

    let out = check()
        .args(["-r", RULES, "no-such-file.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read no-such-file.yaml"),
        "{}",
        text(&out.stderr)
    );

    for bad in [
        &["--output", "xml"][..],
        &["--bogus", "x.yaml"],
        &["--output"],
    ] {
        let out = check().args(["-r", RULES]).args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out.stderr));
    }

    let mut cmd = check();
    cmd.args(["-r", RULES, "-"]);
    let out = run_with_stdin(cmd, b"kind: Pod\nmetadata: {name: [\n");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("invalid YAML"),
        "{}",
        text(&out.stderr)
    );

    let mut cmd = check();
    cmd.args(["-r", RULES, "-"]);
    let out = run_with_stdin(cmd, POD_PRIVATE.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let mut cmd = check();
    cmd.args(["-r", RULES, "-"]);
    let out = run_with_stdin(cmd, b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: nginx}]\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

const POD_PRIVATE: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: registry.example.com/demo/p:1}\n";

/// A `.dockerconfigjson` Secret document with these auths keys.
fn pull_secret(name: &str, keys: &[&str]) -> String {
    use base64::Engine as _;
    let auths: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| (k.to_string(), serde_json::json!({"auth": "dTpw"})))
        .collect();
    let json = serde_json::json!({ "auths": auths }).to_string();
    let data = base64::engine::general_purpose::STANDARD.encode(json);
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}}}\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {data}\n"
    )
}

const DEMO_RULES: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: registry.example.com
    secret: demo-pull
    credentials: {env: {username: U, password: P}}
"#;

fn run_check(rules: &str, input: &str, strict: bool) -> Report {
    let config = Config::parse(rules, "<test>").unwrap();
    let stream = Stream::parse(input.as_bytes()).unwrap();
    check_stream(&stream, &config, &Options::default(), &no_env, strict).unwrap()
}

fn finding_paths(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f.resource.as_deref().unwrap_or("?"),
                f.path.as_deref().unwrap_or("?")
            )
        })
        .collect()
}

/// What `helm regcred values` makes of charts like tempo and cert-manager: the secrets sit on
/// ServiceAccounts, and pods without a list of their own inherit them.
#[test]
fn secrets_on_service_accounts_cover_their_pods() {
    let deployment = |name: &str, sa: Option<&str>, own: Option<&str>| {
        let sa = sa.map_or(String::new(), |sa| {
            format!("      serviceAccountName: {sa}\n")
        });
        let own = own.map_or(String::new(), |s| {
            format!("      imagePullSecrets: [{{name: {s}}}]\n")
        });
        format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n{sa}{own}      containers:\n      - {{name: c, image: registry.example.com/demo/{name}:1}}\n"
        )
    };
    let service_account = |name: &str, secret: &str| {
        format!(
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}}}\nimagePullSecrets:\n- name: {secret}\n"
        )
    };
    let input = [
        service_account("tempo", "corp-pull"),
        service_account("default", "corp-pull"),
        pull_secret("corp-pull", &["registry.example.com"]),
        deployment("ingester", Some("tempo"), None),
        deployment("compactor", None, None),
        // A list of its own: the ServiceAccount's is not added, and `other` is not there.
        deployment("querier", Some("tempo"), Some("other")),
    ]
    .concat();
    let report = run_check(DEMO_RULES, &input, false);
    assert_eq!(
        finding_paths(&report),
        ["Deployment/querier spec.template.spec.containers[0]"]
    );
    let pods = &report.pods;
    assert_eq!(pods.len(), 3);
    assert!(pods[0].from_service_account && pods[1].from_service_account);
    assert_eq!(pods[0].image_pull_secrets, ["corp-pull"]);
    assert_eq!(pods[1].service_account, "default");
    assert_eq!(
        pods[0].images[0].served_by.as_ref().unwrap().secret,
        "corp-pull"
    );
    assert!(!pods[2].from_service_account);
    assert!(
        report.findings[0].message.contains("`other` is not in"),
        "{}",
        report.findings[0].message
    );
}

/// Docker Hub's other host names need keys of their own; a wildcard ECR server matches.
#[test]
fn docker_hub_aliases_and_host_globs_as_the_kubelet_matches_them() {
    let rules = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: docker.io
    secret: hub-pull
    credentials: {env: {username: U, password: P}}
  - server: "*.dkr.ecr.eu-west-1.amazonaws.com"
    secret: ecr-pull
    create: false
"#;
    let pod = |name: &str, image: &str, secret: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  imagePullSecrets: [{{name: {secret}}}]\n  containers:\n  - {{name: c, image: {image}}}\n"
        )
    };
    let input = [
        pull_secret("hub-pull", &["docker.io"]),
        pod("official", "nginx:1", "hub-pull"),
        pod("alias", "registry-1.docker.io/library/nginx:1", "hub-pull"),
        pod("hub", "registry.hub.docker.com/bitnami/redis", "hub-pull"),
        pod(
            "ecr",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1",
            "ecr-pull",
        ),
    ]
    .concat();
    let report = run_check(rules, &input, false);
    assert_eq!(
        finding_paths(&report),
        ["Pod/alias spec.containers[0]", "Pod/hub spec.containers[0]",]
    );
    assert!(
        report.findings[0]
            .message
            .contains("with auths key `registry-1.docker.io`"),
        "{}",
        report.findings[0].message
    );
    assert!(
        report.findings[0]
            .message
            .contains("`hub-pull` has no auths key the kubelet sends for `registry-1.docker.io/library/nginx` (keys: docker.io)"),
        "{}",
        report.findings[0].message
    );
    let ecr = &report.pods[3].images[0];
    assert_eq!(
        ecr.registry.as_deref(),
        Some("*.dkr.ecr.eu-west-1.amazonaws.com")
    );
    assert_eq!(ecr.served_by.as_ref().unwrap().secret, "ecr-pull");
}

/// Workloads of other kinds are pods too: an Argo Rollout, a Knative Service, a Kubeflow job.
#[test]
fn workload_crds_are_checked() {
    let input = &format!(
        "{}---{}",
        pull_secret("demo-pull", &["registry.example.com"]),
        r#"
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: web, image: registry.example.com/demo/web:1}]
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: hello}
spec:
  template:
    spec:
      imagePullSecrets: [{name: demo-pull}]
      containers: [{image: registry.example.com/demo/hello:1}]
---
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: train}
spec:
  pytorchReplicaSpecs:
    Master:
      template:
        spec:
          containers: [{name: pytorch, image: registry.example.com/demo/train:1}]
    Worker:
      template:
        spec:
          containers: [{name: pytorch, image: registry.example.com/demo/train:1}]
"#
    );
    let report = run_check(DEMO_RULES, input, false);
    assert_eq!(
        finding_paths(&report),
        [
            "Rollout/web spec.template.spec.containers[0]",
            "PyTorchJob/train spec.pytorchReplicaSpecs.Master.template.spec.containers[0]",
            "PyTorchJob/train spec.pytorchReplicaSpecs.Worker.template.spec.containers[0]",
        ]
    );
    // The Knative Service lists demo-pull, which the stream holds.
    assert_eq!(report.pods.len(), 4);
    assert_eq!(
        report.pods[1].images[0].served_by.as_ref().unwrap().key,
        "registry.example.com"
    );
}

/// A typo in a rule selects nothing: a warning, a finding with `--strict`; so is a registry no
/// image uses.
#[test]
fn unmatched_rules_and_unused_registries_are_warnings() {
    let rules = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: registry.example.com
    secret: demo-pull
    credentials: {env: {username: U, password: P}}
  - server: quay.io
    secret: quay-pull
    credentials: {env: {username: U, password: P}}
rules:
  - name: console
    match: {names: [consol]}
    secrets: [demo-pull]
"#;
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: console}\nspec:\n  containers: [{name: c, image: registry.example.com/demo/console:1}]\n";
    // The typo leaves the pod without its secret: a finding, and the rule is named.
    let report = run_check(rules, pod, false);
    assert_eq!(finding_paths(&report), ["Pod/console spec.containers[0]"]);
    assert_eq!(report.warnings[0].code, FindingCode::UnmatchedRule);
    assert_eq!(report.summary.exit_code, 1);

    // With the pod covered, only the warnings are left.
    let input = &format!(
        "{}---\n{}",
        pull_secret("demo-pull", &["registry.example.com"]),
        pod.replace(
            "spec:\n",
            "spec:\n  imagePullSecrets: [{name: demo-pull}]\n"
        )
    );
    let report = run_check(rules, input, false);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    let codes: Vec<FindingCode> = report.warnings.iter().map(|w| w.code).collect();
    assert_eq!(
        codes,
        [FindingCode::UnmatchedRule, FindingCode::UnusedRegistry]
    );
    assert_eq!(report.warnings[0].rule.as_deref(), Some("console"));
    assert_eq!(report.warnings[1].registry.as_deref(), Some("quay.io"));
    assert_eq!(report.summary.exit_code, 0);
    assert_eq!(run_check(rules, input, true).summary.exit_code, 1);

    let (_dir, path) = rules_file(rules);
    for (strict, code) in [(false, 0), (true, 1)] {
        let mut cmd = check();
        cmd.arg("-r").arg(&path).args(["-o", "github"]);
        if strict {
            cmd.arg("--strict");
        }
        cmd.arg("-");
        let out = run_with_stdin(cmd, input.as_bytes());
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        let level = if strict { "error" } else { "warning" };
        assert!(
            text(&out.stdout).starts_with(&format!(
                "::{level} title=helm-regcred check%3A unmatchedRule::rule `console` selects no resource"
            )),
            "{}",
            text(&out.stdout)
        );
    }
}

/// GitHub annotations name the template file and the line in its rendered output.
#[test]
fn github_annotations_point_at_the_source() {
    let (_dir, file) = rendered_demo();
    let out = check()
        .args(["-r", RULES, "--output", "github"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with(
            "::error file=demo/templates/daemonset.yaml,line=30,title=helm-regcred check%3A missingCredential::document 4 (DaemonSet/demo-agent)"
        ),
        "{first}"
    );
    // That line of the template's output is the image line.
    let rendered = std::fs::read_to_string(&file).unwrap();
    let doc = rendered
        .split("---\n")
        .find(|d| d.starts_with("# Source: demo/templates/daemonset.yaml"))
        .unwrap();
    let line = doc.lines().nth(30).unwrap();
    assert!(line.trim_start().starts_with("image: "), "{line}");
}

/// The committed schema is the generated one, and real reports validate against it with an
/// independent validator (check-jsonschema, python-jsonschema underneath).
#[test]
fn check_json_output_matches_its_schema() {
    let printed = check().arg("--print-schema").output().unwrap();
    assert!(printed.status.success(), "{}", text(&printed.stderr));
    let committed = std::fs::read_to_string(repo().join("check-report.schema.json"))
        .expect("check-report.schema.json at the repository root");
    assert!(
        committed == text(&printed.stdout),
        "check-report.schema.json is stale: regenerate it with \
         `cargo run -q -- check --print-schema > check-report.schema.json`"
    );

    let (_dir, file) = rendered_demo();
    let dir = tempfile::tempdir().unwrap();
    let mut reports = Vec::new();
    for (name, args) in [
        ("findings.json", vec!["-r", RULES]),
        ("strict.json", vec!["-r", RULES, "--strict"]),
    ] {
        let out = check()
            .args(&args)
            .args(["--output", "json"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["kind"], "CheckReport");
        assert_eq!(report["summary"]["findings"], 6);
        let path = dir.path().join(name);
        std::fs::write(&path, &out.stdout).unwrap();
        reports.push(path);
    }
    let (_rules_dir, rules) = rules_file(DEMO_RULES);
    let mut cmd = check();
    cmd.arg("-r").arg(&rules).args(["-o", "json", "-"]);
    let out = run_with_stdin(cmd, b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: 'Nginx'}]\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["warnings"].as_array().unwrap().len(), 2);
    let path = dir.path().join("warnings.json");
    std::fs::write(&path, &out.stdout).unwrap();
    reports.push(path);

    let validate = Command::new(check_jsonschema())
        .arg("--schemafile")
        .arg(repo().join("check-report.schema.json"))
        .args(&reports)
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}\n{}",
        text(&validate.stdout),
        text(&validate.stderr)
    );

    // The validator is not a rubber stamp: a report with a wrong field fails.
    let mut broken: Value = serde_json::from_slice(&std::fs::read(&reports[0]).unwrap()).unwrap();
    broken["findings"][0]["code"] = "noSuchCode".into();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, broken.to_string()).unwrap();
    let validate = Command::new(check_jsonschema())
        .arg("--schemafile")
        .arg(repo().join("check-report.schema.json"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(!validate.status.success(), "{}", text(&validate.stdout));
}

/// The version of check-jsonschema (PyPI) the tests validate with.
const CHECK_JSONSCHEMA_VERSION: &str = "0.39.0";

/// `$CHECK_JSONSCHEMA_BIN`, else a venv under ~/.cache/helm-regcred/tools made on first use
/// (pip from PyPI), reused afterwards. A missing validator fails the test, never skips it.
fn check_jsonschema() -> PathBuf {
    if let Some(bin) = std::env::var_os("CHECK_JSONSCHEMA_BIN") {
        return PathBuf::from(bin);
    }
    let home = std::env::var_os("HOME").expect("HOME");
    let venv = PathBuf::from(home).join(format!(
        ".cache/helm-regcred/tools/check-jsonschema-{CHECK_JSONSCHEMA_VERSION}"
    ));
    let bin = venv.join("bin/check-jsonschema");
    // Written last: an interrupted install is never taken for a finished one.
    let done = venv.join(".installed");
    if done.is_file() {
        return bin;
    }
    let _ = std::fs::remove_dir_all(&venv);
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 -m venv (python3 is needed to validate the JSON report)");
    assert!(status.success(), "python3 -m venv failed");
    let status = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("check-jsonschema=={CHECK_JSONSCHEMA_VERSION}"))
        .status()
        .expect("pip");
    assert!(status.success(), "pip install check-jsonschema failed");
    std::fs::write(&done, "").unwrap();
    bin
}

/// Rules naming every registry the corpus charts pull from (ECR Public excepted).
const CORPUS_RULES: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: docker.io
    secret: hub-pull
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
  - server: quay.io
    secret: quay-pull
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
  - server: registry.k8s.io
    secret: k8s-pull
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
  - server: ghcr.io
    secret: ghcr-pull
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
  - server: registry.gitlab.com
    secret: gitlab-pull
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
"#;

const CORPUS_REGISTRIES: [&str; 5] = [
    "docker.io",
    "quay.io",
    "registry.k8s.io",
    "ghcr.io",
    "registry.gitlab.com",
];

/// The oracle, on serde-saphyr's reading of the input: every private pull of every built-in
/// pod spec, as `Kind/name path image` (the corpus has no docker config Secrets, so none is
/// covered before post-rendering).
fn private_pulls(text: &str) -> BTreeMap<String, usize> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).expect("oracle parse");
    let mut out = BTreeMap::new();
    for doc in docs.iter().filter(|d| !d.is_null()) {
        assert_ne!(doc["type"], "kubernetes.io/dockerconfigjson");
        let api = doc["apiVersion"].as_str().unwrap_or_default();
        let kind = doc["kind"].as_str().unwrap_or_default();
        let Some(spec_path) = kinds::pod_spec_path(api, kind) else {
            continue;
        };
        let spec = spec_path.path.iter().fold(doc, |v, k| &v[*k]);
        for list in kinds::CONTAINER_LISTS {
            for (i, c) in spec[list].as_array().into_iter().flatten().enumerate() {
                let Some(image) = c["image"].as_str() else {
                    continue;
                };
                let registry = ImageRef::parse(image).unwrap().registry().to_string();
                if CORPUS_REGISTRIES.contains(&registry.as_str()) {
                    let key = format!(
                        "{kind}/{} {}.{list}[{i}] {image}",
                        doc["metadata"]["name"].as_str().unwrap(),
                        spec_path.path.join(".")
                    );
                    *out.entry(key).or_insert(0) += 1;
                }
            }
        }
    }
    out
}

/// Before post-render, a finding for every private pull (counted independently with
/// serde-saphyr); after it, none. On the repository's own rendered charts always, and on the 16
/// corpus inputs whenever the corpus is there.
fn check_before_and_after(name: &str, input: &str) -> usize {
    let config = Config::parse(CORPUS_RULES, "<test>").unwrap();
    let env = |name: &str| Some(format!("{name}-value"));
    let stream = Stream::parse(input.as_bytes()).unwrap();
    let before = check_stream(&stream, &config, &Options::default(), &no_env, false).unwrap();
    let mut found = BTreeMap::new();
    for f in &before.findings {
        assert_eq!(f.code, FindingCode::MissingCredential, "{name}");
        let key = format!(
            "{} {} {}",
            f.resource.as_deref().unwrap(),
            f.path.as_deref().unwrap(),
            f.image.as_deref().unwrap()
        );
        *found.entry(key).or_insert(0) += 1;
    }
    let want = private_pulls(input);
    assert_eq!(found, want, "{name}");
    if !want.is_empty() {
        assert_eq!(before.summary.exit_code, 1, "{name}");
    }

    let outcome = helm_regcred::run(Request::new(&config, &stream).env(&env)).unwrap();
    let out = outcome.output().unwrap();
    let after = check_stream(
        &Stream::parse(out.as_bytes()).unwrap(),
        &config,
        &Options::default(),
        &no_env,
        false,
    )
    .unwrap();
    assert!(after.findings.is_empty(), "{name}: {:?}", after.findings);
    assert_eq!(
        after.summary.covered, before.summary.private_pulls,
        "{name}"
    );
    assert_eq!(after.summary.exit_code, 0, "{name}");
    want.len()
}

#[test]
fn fixtures_before_post_render_every_private_pull_is_a_finding_and_after_none() {
    let mut pulls = 0;
    for stream in fixture_streams() {
        pulls += check_before_and_after(&stream.name, &stream.text);
    }
    assert!(
        pulls > 10,
        "the fixtures pull from the rules' registries: {pulls}"
    );
}

#[test]
fn corpus_before_post_render_every_private_pull_is_a_finding_and_after_none() {
    let Some(inputs) = postrender_inputs() else {
        return;
    };
    for path in inputs {
        let input = std::fs::read_to_string(&path).unwrap();
        let pulls = check_before_and_after(&path.display().to_string(), &input);
        assert!(
            pulls > 0,
            "{}: pulls from the rules' registries",
            path.display()
        );
    }
}

/// `helm regcred check RELEASE CHART` renders with the user's Helm; values that fill the chart's
/// own `imagePullSecrets` make it pass (the CI use: prove a values file covers every pod).
fn check_chart(helm: Helm) {
    let helm = helm.with_plugins(&["--no-postrender"]);
    let out = helm
        .user()
        .args(["regcred", "check", "demo", CHART, "--rules", RULES])
        .output()
        .unwrap();
    assert_findings(&out);

    let out = helm
        .user()
        .args(["regcred", "check", "demo", CHART, "--rules", RULES])
        .args([
            "--set",
            "imagePullSecrets[0].name=demo-pull",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["findings"], 0, "{report}");
    assert_eq!(report["summary"]["covered"], 6, "{report}");

    // Helm refusing the chart is an input error, not a finding.
    let out = helm
        .user()
        .args([
            "regcred",
            "check",
            "demo",
            "./no-such-chart",
            "--rules",
            RULES,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn helm3_check_a_chart() {
    check_chart(Helm::v3());
}

#[test]
fn helm4_check_a_chart() {
    check_chart(Helm::v4());
}
