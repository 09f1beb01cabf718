//! `check`: pod specs that pull from a registry in the rules without its pull secret, on files,
//! stdin, and charts through `helm regcred check` with the real Helm 3 and Helm 4.

use std::process::{Command, Output};

use crate::helm::{CHART, Helm, RULES, repo, text};
use crate::util::{bin, run_with_stdin};

/// The private workloads of the demo chart that lack the pull secret, hook Job included (a
/// chart check sees hooks, which Helm 3 never post-renders).
const MISSING: [&str; 5] = [
    "DaemonSet/demo-agent",
    "Deployment/demo-api",
    "StatefulSet/demo-store",
    "CronJob/demo-report",
    "Job/demo-migrate",
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
fn rendered_demo() -> (tempfile::TempDir, std::path::PathBuf) {
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
    for (line, workload) in lines.iter().zip(MISSING) {
        assert!(line.contains(&format!("({workload})")), "{line}");
        assert!(line.ends_with("imagePullSecrets lacks demo-pull"), "{line}");
    }
    assert!(!stdout.contains("demo-frontend") && !stdout.contains("test-connection"));
    assert!(
        stderr.contains("check: 5 of 5 pod specs the rules select lack a pull secret"),
        "{stderr}"
    );
}

#[test]
fn check_lists_pod_specs_without_their_pull_secret() {
    let (_dir, file) = rendered_demo();
    let out = check().args(["-r", RULES]).arg(&file).output().unwrap();
    assert_findings(&out);
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
        text(&out.stderr).contains("all 5 pod specs the rules select have their pull secrets"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn check_reports_bad_rules_and_missing_files() {
    let (_dir, rules) = crate::util::rules_file(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistriez: []\n",
    );
    let out = check()
        .arg("--rules")
        .arg(&rules)
        .arg("-")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("regcred.yaml:3:1"),
        "{}",
        text(&out.stderr)
    );

    let out = check()
        .args(["-r", RULES, "no-such-file.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read no-such-file.yaml"),
        "{}",
        text(&out.stderr)
    );
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
        .args(["--set", "imagePullSecrets[0].name=demo-pull"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn helm3_check_a_chart() {
    check_chart(Helm::v3());
}

#[test]
fn helm4_check_a_chart() {
    check_chart(Helm::v4());
}
