//! The binary end to end: edge-case input, bad input, diff views, and secrecy.

use std::process::{Command, Output};

use crate::util::{TEST_PASSWORD, assert_no_password, regcred, rules_file, run_with_stdin};

const RULES: &str = r#"
apiVersion: helm-regcred/v1
kind: RegcredConfig
registries:
  - server: registry.example.com
    secret: example-pull
    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}
"#;

fn post_render(input: &str, extra: &[&str]) -> Output {
    let (_dir, rules) = rules_file(RULES);
    let mut cmd = regcred();
    cmd.arg("post-render").arg("-r").arg(&rules).args(extra);
    let out = run_with_stdin(cmd, input.as_bytes());
    assert_no_password(&out);
    out
}

fn ok(input: &str) -> String {
    let out = post_render(input, &[]);
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let again = post_render(&text, &[]);
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        text,
        "second pass changed the output"
    );
    text
}

fn fails(input: &str) -> String {
    let out = post_render(input, &[]);
    assert!(!out.status.success(), "expected failure for {input:?}");
    assert!(out.stdout.is_empty(), "nothing may reach stdout on failure");
    String::from_utf8(out.stderr).unwrap()
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: registry.example.com/team/app:1.0\n";

#[test]
fn adds_secret_first_and_pull_secret_to_pod() {
    let out = ok(&format!("---\n# Source: chart/templates/pod.yaml\n{POD}"));
    let secret_at = out.find("kind: Secret").unwrap();
    let pod_at = out.find("kind: Pod").unwrap();
    assert!(secret_at < pod_at, "{out}");
    assert!(out.contains("# Source: helm-regcred/pull-secrets.yaml\n"));
    assert!(out.ends_with("    image: registry.example.com/team/app:1.0\n  imagePullSecrets:\n  - name: example-pull\n"), "{out}");
}

#[test]
fn public_images_are_left_alone() {
    let input = "---\n# Source: c/t.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: nginx:1.27}\n";
    assert_eq!(ok(input), input);
}

#[test]
fn every_builtin_kind_gets_its_pod_spec_edited() {
    let container = "containers: [{name: c, image: registry.example.com/a:1}]";
    let docs = [
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec:\n  template:\n    spec:\n      {container}\n"),
        format!("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: s}}\nspec:\n  template:\n    spec:\n      {container}\n"),
        format!("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: ds}}\nspec:\n  template:\n    spec:\n      {container}\n"),
        format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: rs}}\nspec:\n  template:\n    spec:\n      {container}\n"),
        format!("apiVersion: v1\nkind: ReplicationController\nmetadata: {{name: rc}}\nspec:\n  template:\n    spec:\n      {container}\n"),
        format!("apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j}}\nspec:\n  template:\n    spec:\n      {container}\n"),
        format!("apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: cj}}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          {container}\n"),
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  {container}\n"),
        format!("apiVersion: v1\nkind: PodTemplate\nmetadata: {{name: pt}}\ntemplate:\n  spec:\n    {container}\n"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: eph}\nspec:\n  containers: [{name: c, image: nginx}]\n  ephemeralContainers: [{name: e, image: registry.example.com/debug:1}]\n".to_string(),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: init}\nspec:\n  initContainers: [{name: i, image: registry.example.com/init:1}]\n  containers: [{name: c, image: nginx}]\n".to_string(),
    ];
    let input = docs.iter().map(|d| format!("---\n{d}")).collect::<String>();
    let out = ok(&input);
    assert_eq!(
        out.matches("imagePullSecrets:\n").count(),
        docs.len(),
        "{out}"
    );
}

#[test]
fn existing_pull_secrets_are_kept_in_order_and_not_duplicated() {
    let input = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  imagePullSecrets:\n  - name: zeta\n  - name: example-pull\n  - name: alpha\n  containers: [{name: c, image: registry.example.com/a:1}]\n";
    let out = ok(input);
    // The secret is emitted (the pod needs it) but the list is untouched.
    assert!(out.ends_with(input), "{out}");
    assert_eq!(out.matches("kind: Secret").count(), 1);
}

#[test]
fn a_pull_secret_already_in_the_stream_is_not_emitted_again() {
    let existing = "apiVersion: v1\nkind: Secret\nmetadata: {name: example-pull}\ntype: kubernetes.io/dockerconfigjson\ndata: {.dockerconfigjson: e30=}\n";
    let input = format!("---\n{existing}---\n{POD}");
    let out = ok(&input);
    assert_eq!(out.matches("kind: Secret").count(), 1, "{out}");
}

#[test]
fn a_conflicting_secret_of_another_type_is_an_error() {
    let input = format!(
        "---\n# Source: c/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata: {{name: example-pull}}\ndata: {{password: aGk=}}\n---\n{POD}"
    );
    let err = fails(&input);
    assert!(
        err.contains("document 1 (Secret/example-pull) from c/templates/secret.yaml"),
        "{err}"
    );
    assert!(err.contains("Opaque"), "{err}");
}

#[test]
fn edge_case_syntax_is_handled() {
    let flow = "apiVersion: v1\nkind: Pod\nmetadata: {name: flow}\nspec: {containers: [{name: c, image: registry.example.com/a:1}]}\n";
    for input in [
        format!("# just a comment\n---\n---\n{POD}"),
        format!("--- # trailing comment\n{POD}...\n---\n{flow}"),
        format!("\u{feff}---\n{POD}"),
        format!("{POD}---\n"),
        POD.trim_end().to_string(),
        format!("---\n{flow}"),
    ] {
        let out = ok(&input);
        assert_eq!(
            out.matches("imagePullSecrets").count(),
            input.matches("kind: Pod").count(),
            "{out}"
        );
        if input.starts_with('\u{feff}') {
            assert!(out.starts_with('\u{feff}') && out.matches('\u{feff}').count() == 1);
        }
    }
}

#[test]
fn crlf_input_keeps_crlf() {
    let input = format!("---\r\n{}", POD.replace('\n', "\r\n"));
    let out = ok(&input);
    assert!(
        !out.replace("\r\n", "").contains('\n'),
        "bare LF in CRLF output: {out:?}"
    );
}

#[test]
fn invalid_yaml_names_the_document_and_line() {
    let input = format!(
        "---\n# Source: c/templates/ok.yaml\n{POD}---\n# Source: c/templates/broken.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: [\n"
    );
    let err = fails(&input);
    assert!(
        err.contains("document 2 (Deployment/web) from c/templates/broken.yaml"),
        "{err}"
    );
    assert!(err.contains("line 1"), "{err}");
    assert!(err.contains("invalid YAML"), "{err}");
}

#[test]
fn document_that_is_not_a_mapping() {
    let err = fails(&format!("{POD}---\n- a\n- b\n"));
    assert!(
        err.contains("document 2") && err.contains("line 10") && err.contains("must be a mapping"),
        "{err}"
    );
}

#[test]
fn pull_secrets_that_are_not_a_list() {
    let input = "---\n# Source: c/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  imagePullSecrets: example-pull\n  containers: [{name: c, image: registry.example.com/a:1}]\n";
    let err = fails(input);
    assert!(
        err.contains("document 1 (Pod/p) from c/templates/pod.yaml, line 7"),
        "{err}"
    );
    assert!(
        err.contains("`spec.imagePullSecrets` must be a list"),
        "{err}"
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let bad = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {imagePullSecrets: 3, containers: [{name: c, image: registry.example.com/a:1}]}\n";
    let err = fails(&format!("---\n{bad}---\n{bad}"));
    assert!(err.contains("2 problems"), "{err}");
}

#[test]
fn invalid_utf8() {
    let (_dir, rules) = rules_file(RULES);
    let mut cmd = regcred();
    cmd.arg("post-render").arg("-r").arg(&rules);
    let out = run_with_stdin(cmd, b"kind: Pod\nmetadata: {name: \xff}\n");
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("not valid UTF-8: document 1, line 2 (byte 27)")
    );
}

#[test]
fn unreadable_input() {
    let (dir, rules) = rules_file(RULES);
    // A directory as stdin: read() fails with EISDIR.
    let stdin = std::fs::File::open(dir.path()).unwrap();
    let out = regcred()
        .arg("post-render")
        .arg("-r")
        .arg(&rules)
        .stdin(stdin)
        .output()
        .unwrap();
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read stdin"));
    let out = regcred()
        .arg("render")
        .arg("-r")
        .arg(&rules)
        .arg(dir.path().join("missing.yaml"))
        .output()
        .unwrap();
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.yaml"));
}

#[test]
fn bad_rules_fail_before_input_is_read() {
    let (_dir, rules) = rules_file(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: Bad_Name\n    credentials: {env: {username: U, password: P}}\n",
    );
    let mut cmd = regcred();
    cmd.arg("post-render").arg("-r").arg(&rules);
    // Invalid input too: the rules error must be the one reported.
    let out = run_with_stdin(cmd, b"spec: [\n");
    assert!(!out.status.success() && out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("regcred.yaml:5:13"), "{err}");
    assert!(!err.contains("invalid YAML"), "{err}");
}

#[test]
fn missing_credentials_fail_with_nothing_on_stdout() {
    let (_dir, rules) = rules_file(RULES);
    let mut cmd = regcred();
    cmd.arg("post-render")
        .arg("-r")
        .arg(&rules)
        .env_remove("REG_PASSWORD");
    let out = run_with_stdin(cmd, POD.as_bytes());
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("REG_PASSWORD is not set"));
}

#[test]
fn diff_shows_only_added_lines_and_no_secret_data() {
    let out = post_render(POD, &["--diff", "--color", "never"]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("+  imagePullSecrets:\n+  - name: example-pull\n"),
        "{err}"
    );
    assert!(err.contains("+  .dockerconfigjson: <redacted>"), "{err}");
    assert!(
        !err.lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---")),
        "{err}"
    );
    assert!(!err.contains("\x1b["), "no colour when told so");
}

#[test]
fn diff_redacts_existing_secret_data_in_context() {
    // The chart's own Secret follows the edited pod, its data inside the diff's context lines.
    let input = format!(
        "{POD}---\nstringData:\n  token: {TEST_PASSWORD:?}\nkind: Secret\napiVersion: v1\nmetadata: {{name: app}}\n"
    );
    let out = post_render(&input, &["--diff"]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("   token: <redacted>"), "{err}");
}

#[test]
fn diff_file_and_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let diff_path = dir.path().join("changes.diff");
    let out = post_render(
        POD,
        &["--dry-run", "--diff-file", diff_path.to_str().unwrap()],
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        POD,
        "dry run leaves manifests unchanged"
    );
    let diff = std::fs::read_to_string(&diff_path).unwrap();
    assert!(diff.contains("+  - name: example-pull"), "{diff}");
    assert!(!diff.contains(TEST_PASSWORD));
}

#[test]
fn color_follows_flag() {
    let out = post_render(POD, &["--diff", "--color", "always"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("\x1b[32m+"));
    let (_dir, rules) = rules_file(RULES);
    let mut cmd = regcred();
    cmd.arg("post-render")
        .arg("-r")
        .arg(&rules)
        .arg("--diff")
        .env("NO_COLOR", "1");
    let out = run_with_stdin(cmd, POD.as_bytes());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("\x1b["));
}

#[test]
fn render_joins_files_into_one_stream() {
    let (dir, rules) = rules_file(RULES);
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, POD).unwrap();
    std::fs::write(&b, POD.replace("name: p", "name: q")).unwrap();
    let out = Command::new(crate::util::bin())
        .env("REG_USER", "u")
        .env("REG_PASSWORD", "p")
        .arg("render")
        .arg("-r")
        .arg(&rules)
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("kind: Secret").count(), 1);
    assert_eq!(text.matches("- name: example-pull").count(), 2);
}

#[test]
fn label_values_may_be_templates() {
    let rules = format!(
        "{RULES}vars: {{team: shop}}\nrules:\n  - name: team\n    match:\n      labels: {{team: \"{{{{ vars.team }}}}\"}}\n"
    );
    let pod = |name: &str, team: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, labels: {{team: {team}}}}}\nspec:\n  containers: [{{name: c, image: registry.example.com/a:1}}]\n"
        )
    };
    let input = pod("shop-pod", "shop") + &pod("ops-pod", "ops");
    let (_dir, path) = rules_file(&rules);
    let run = |extra: &[&str]| {
        let mut cmd = regcred();
        cmd.arg("post-render").arg("-r").arg(&path).args(extra);
        let out = run_with_stdin(cmd, input.as_bytes());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let shop_pulls = |out: &str| {
        out.split("\n---\n")
            .any(|d| d.contains("name: shop-pod") && d.contains("- name: example-pull"))
    };
    let ops_pulls = |out: &str| {
        out.split("\n---\n")
            .any(|d| d.contains("name: ops-pod") && d.contains("- name: example-pull"))
    };
    let out = run(&[]);
    assert!(shop_pulls(&out) && !ops_pulls(&out), "{out}");
    let out = run(&["--set", "team=ops"]);
    assert!(!shop_pulls(&out) && ops_pulls(&out), "{out}");
}

/// A reader that stops early (`| head`) is not a failure: SIGPIPE stays ignored although the
/// binary starts without Rust's runtime set-up on Linux (`main.rs`).
#[test]
fn a_reader_that_goes_away_is_not_a_failure() {
    let (dir, rules) = rules_file(RULES);
    // Far more output than a pipe holds, so the write meets the closed pipe.
    let input: String = (0..2000)
        .map(|i| {
            format!(
                "---\n{}",
                POD.replace("name: p\n", &format!("name: p{i}\n"))
            )
        })
        .collect();
    let input_path = dir.path().join("input.yaml");
    std::fs::write(&input_path, input).unwrap();
    let mut child = regcred()
        .arg("post-render")
        .arg("-r")
        .arg(&rules)
        .stdin(std::fs::File::open(&input_path).unwrap())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
