//! `explain`: per pod, the rules (and the first field a miss failed on), the secrets kept, added
//! or inherited, and for each image the registry and Secret the kubelet uses.

use serde_json::Value;

use crate::util::{corpus, fixture_streams, regcred, rules_file, run_with_stdin};

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The command examples/cloudforet/README.md shows, on the real chart (Helm 3 and Helm 4 input).
#[test]
fn explain_the_cloudforet_example() {
    // The Cloudforet-shaped fixture chart as Helm 3 and Helm 4 send it, always; the real
    // Cloudforet chart too whenever the corpus is there.
    let scratch = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for stream in fixture_streams() {
        if stream.name.ends_with("/platform-defaults") {
            let path = scratch.path().join(stream.name.replace('/', "-") + ".yaml");
            std::fs::write(&path, &stream.text).unwrap();
            inputs.push((stream.name.clone(), path));
        }
    }
    assert_eq!(
        inputs.len(),
        2,
        "the platform fixture, rendered by Helm 3 and Helm 4"
    );
    if let Some(corpus) = corpus() {
        for dir in ["postrender-helm3", "postrender-helm4"] {
            inputs.push((
                dir.to_string(),
                corpus.join(dir).join("cloudforet-defaults.yaml"),
            ));
        }
    }
    for (dir, input) in inputs {
        let out = regcred()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["explain", "-r", "examples/cloudforet/regcred.yaml"])
            .arg(&input)
            .args(["--kind", "Deployment", "--name", "console", "-o", "json"])
            .output()
            .unwrap();
        let report = json(&out);
        let pods = report["pods"].as_array().unwrap();
        assert_eq!(pods.len(), 1, "{dir}: {report}");
        let console = &pods[0];
        assert_eq!(console["namespace"], "spaceone");
        assert_eq!(console["rules"][0]["rule"], "cloudforet-services");
        assert_eq!(console["rules"][0]["result"], "matched");
        assert_eq!(console["rules"][1]["result"], "missed");
        assert_eq!(console["rules"][1]["field"], "kinds");
        assert_eq!(console["rules"][1]["actual"], "Deployment");
        assert_eq!(console["secrets"]["added"][0], "my-credential");
        assert_eq!(
            console["secrets"]["used"][0]["state"],
            "emitted by helm-regcred"
        );
        let image = &console["images"][0];
        // `cloudforet/console` in the real chart, `example/console` in the fixture: Docker Hub.
        let reference = image["reference"].as_str().unwrap();
        assert!(
            reference.starts_with("docker.io/") && reference.contains("/console:"),
            "{dir}: {reference}"
        );
        assert_eq!(image["registry"], "docker.io");
        assert_eq!(image["servedBy"], "my-credential");
        assert_eq!(image["key"], "docker.io");

        // A service no rule selects: the rule's first failing field, with the actual name.
        let out = regcred()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["explain", "-r", "examples/cloudforet/regcred.yaml"])
            .arg(&input)
            .args(["--kind", "Deployment", "--name", "identity"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(
                "cloudforet-services: missed: names [\"console\", \"supervisor-scheduler\"] does not match `identity`"
            ),
            "{dir}: {text}"
        );
        assert!(
            text.contains("inherited from ServiceAccount default (not in the input"),
            "{text}"
        );
        assert!(
            text.contains("secret: none: the pod has no pull secrets"),
            "{text}"
        );
    }
}

#[test]
fn explain_a_rule_that_misses_by_one_field() {
    let (_dir, rules) = rules_file(
        r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: registry.example.com
    secret: corp-pull
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
rules:
  - name: api
    match: {kinds: [Deployment], names: [api], namespaces: [prod], labels: {tier: backend}}
    secrets: [corp-pull]
"#,
    );
    let input = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: staging, labels: {tier: backend}}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: api, image: registry.example.com/team/api:1}\n";
    let mut cmd = regcred();
    cmd.arg("explain")
        .arg("-r")
        .arg(&rules)
        .args(["-o", "json", "-"]);
    let report = json(&run_with_stdin(cmd, input.as_bytes()));
    let pod = &report["pods"][0];
    let rule = &pod["rules"][0];
    assert_eq!(rule["result"], "missed");
    assert_eq!(rule["field"], "namespaces");
    assert_eq!(rule["wanted"], serde_json::json!(["prod"]));
    assert_eq!(rule["actual"], "staging");
    assert_eq!(pod["secrets"]["added"], serde_json::json!([]));
    assert_eq!(pod["images"][0]["registry"], "registry.example.com");
    assert!(pod["images"][0].get("servedBy").is_none());

    // In the namespace it asks for, it matches, gets the Secret, and the kubelet sends it.
    let input = input.replace("staging", "prod");
    let mut cmd = regcred();
    cmd.arg("explain").arg("-r").arg(&rules).arg("-");
    let out = run_with_stdin(cmd, input.as_bytes());
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("    api: matched\n"), "{text}");
    assert!(
        text.contains("secrets: kept none; added corp-pull\n"),
        "{text}"
    );
    assert!(
        text.contains("secret: corp-pull: the kubelet matches auths key `registry.example.com`"),
        "{text}"
    );

    // The filters select pods; none left is said on stderr.
    let mut cmd = regcred();
    cmd.arg("explain")
        .arg("-r")
        .arg(&rules)
        .args(["--namespace", "other", "-"]);
    let out = run_with_stdin(cmd, input.as_bytes());
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pod spec in the input matches"));
}
