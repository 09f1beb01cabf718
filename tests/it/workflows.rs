//! The `helm regcred` wrappers in the workflows users bring: template variables through
//! `--regcred-set`, their own post-renderer chained before helm-regcred, Helm 4 without a
//! terminal, and the flags the wrappers refuse rather than ignore. Real Helm 3 and Helm 4.

use std::path::Path;

use crate::helm::{CHART, Helm, RULES, ok, text};
use crate::util::{rules_file, write_executable};

/// A rules file whose Secret name needs `vars.user_id`.
const PER_USER: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: \"cred-{{ vars.user_id }}\"\n    credentials:\n      env: {username: REGISTRY_USER, password: REGISTRY_PASSWORD}\n";

fn both() -> [Helm; 2] {
    [
        Helm::v3().with_plugins(&[]),
        Helm::v4().with_plugins(&["--no-postrender"]),
    ]
}

#[test]
fn regcred_set_reaches_the_rules_and_set_stays_the_charts() {
    for helm in both() {
        let (_dir, rules) = rules_file(PER_USER);
        let out = helm
            .user()
            .args(["regcred", "template", "demo", CHART, "--no-diff"])
            .args(["--set", "unused=1", "--regcred-set", "user_id=1001"])
            .arg("--regcred-rules")
            .arg(&rules)
            .output()
            .unwrap();
        let (stdout, _) = ok(&out);
        assert!(stdout.contains("name: cred-1001"), "{stdout}");
        assert!(stdout.contains("- name: cred-1001"), "{stdout}");
    }
}

/// A post-renderer of the user's: adds a Pod pulling from the private registry, which
/// helm-regcred (last) must then serve.
fn users_post_renderer(dir: &Path) -> std::path::PathBuf {
    let script = dir.join("mine.sh");
    write_executable(
        &script,
        "#!/bin/sh\ncat\necho\nprintf -- '---\\napiVersion: v1\\nkind: Pod\\nmetadata:\\n  name: added-by-mine\\n  labels: {arg: \"%s\"}\\nspec:\\n  containers: [{name: c, image: registry.example.com/mine:1}]\\n' \"$1\"\n",
    );
    script
}

fn assert_chained(stdout: &str) {
    let pod = stdout
        .split("\n---")
        .find(|d| d.contains("name: added-by-mine"))
        .unwrap_or_else(|| panic!("the user's post-renderer did not run:\n{stdout}"));
    assert!(pod.contains("arg: \"hello world\""), "{pod}");
    assert!(
        pod.contains("imagePullSecrets"),
        "helm-regcred did not run last:\n{pod}"
    );
}

#[test]
fn the_users_post_renderer_runs_first_as_a_path_on_both_majors() {
    for helm in both() {
        let dir = tempfile::tempdir().unwrap();
        let script = users_post_renderer(dir.path());
        let out = helm
            .user()
            .args([
                "regcred",
                "template",
                "demo",
                CHART,
                "--no-diff",
                "--rules",
                RULES,
            ])
            .arg("--post-renderer")
            .arg(&script)
            .args(["--post-renderer-args", "hello world"])
            .output()
            .unwrap();
        let (stdout, _) = ok(&out);
        assert_chained(&stdout);
    }
}

#[test]
fn the_users_post_renderer_runs_first_as_a_helm4_plugin() {
    let helm = Helm::v4().with_plugins(&["--no-postrender"]);
    let plugins = helm.home.path().join("data/plugins/mine");
    std::fs::create_dir_all(&plugins).unwrap();
    users_post_renderer(&plugins);
    std::fs::write(
        plugins.join("plugin.yaml"),
        "apiVersion: v1\ntype: postrenderer/v1\nname: mine\nversion: 0.1.0\nruntime: subprocess\nruntimeConfig:\n  platformCommand:\n    - command: ${HELM_PLUGIN_DIR}/mine.sh\n",
    )
    .unwrap();
    // Helm itself runs it so, without the wrapper:
    let out = helm
        .cmd()
        .args(["template", "demo", CHART, "--post-renderer", "mine"])
        .args(["--post-renderer-args", "hello world"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("name: added-by-mine"),
        "{}",
        text(&out.stderr)
    );
    let out = helm
        .user()
        .args([
            "regcred",
            "template",
            "demo",
            CHART,
            "--no-diff",
            "--rules",
            RULES,
        ])
        .args([
            "--post-renderer",
            "mine",
            "--post-renderer-args",
            "hello world",
        ])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    assert_chained(&stdout);
}

#[test]
fn a_failing_users_post_renderer_is_reported_with_its_stderr() {
    for helm in both() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("broken.sh");
        write_executable(
            &script,
            "#!/bin/sh\ncat >/dev/null\necho 'kustomize: no such patch' >&2\nexit 3\n",
        );
        let out = helm
            .user()
            .args(["regcred", "template", "demo", CHART, "--rules", RULES])
            .arg("--post-renderer")
            .arg(&script)
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let stderr = text(&out.stderr);
        assert!(stderr.contains("kustomize: no such patch"), "{stderr}");
        assert!(
            stderr.contains("broken.sh (run before helm-regcred) failed"),
            "{stderr}"
        );
    }
}

/// Helm 4 discards a post-renderer plugin's stderr; the bare `--post-renderer
/// regcred-postrender` writes its error as the output Helm prints (docs/helm.md).
#[test]
fn helm4_bare_post_renderer_failure_shows_the_reason_without_a_terminal() {
    let helm = Helm::v4().with_plugins(&[]);
    let (_dir, rules) = rules_file(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: s\n    credentials: {env: {username: U, pasword: P}}\n",
    );
    let out = helm
        .user()
        .args([
            "template",
            "demo",
            CHART,
            "--post-renderer",
            "regcred-postrender",
        ])
        .arg(format!("--post-renderer-args=--rules={}", rules.display()))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown field `pasword`"), "{stderr}");
    assert!(stderr.contains("did you mean `password`?"), "{stderr}");
    // A usage error too.
    let out = helm
        .user()
        .args([
            "template",
            "demo",
            CHART,
            "--post-renderer",
            "regcred-postrender",
        ])
        .args(["--post-renderer-args", "--bogus"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unexpected argument '--bogus'"), "{stderr}");
}

#[test]
fn flags_the_wrappers_cannot_honour_are_refused() {
    let helm = Helm::v3().with_plugins(&[]);
    let out = helm
        .user()
        .args([
            "regcred",
            "diff",
            "demo",
            CHART,
            "--no-diff",
            "--rules",
            RULES,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("with --no-diff it would print nothing"));
    let dir = tempfile::tempdir().unwrap();
    let out = helm
        .user()
        .args([
            "regcred",
            "template",
            "demo",
            CHART,
            "--rules",
            RULES,
            "--output-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("--output-dir: Helm 3 post-renders nothing"));
    let out = helm
        .user()
        .args([
            "regcred",
            "template",
            "demo",
            CHART,
            "--rules",
            "/nonexistent/regcred.yaml",
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("-r FILE") && stderr.contains("HELM_REGCRED_RULES"),
        "{stderr}"
    );
}

#[test]
fn color_is_the_wrappers_on_both_majors() {
    for helm in both() {
        let out = helm
            .user()
            .args([
                "regcred", "diff", "demo", CHART, "--rules", RULES, "--color", "always",
            ])
            .output()
            .unwrap();
        let (stdout, _) = ok(&out);
        assert!(stdout.contains("\x1b["), "{stdout}");
        let out = helm
            .user()
            .args([
                "regcred",
                "diff",
                "demo",
                CHART,
                "--rules",
                RULES,
                "--color=never",
            ])
            .output()
            .unwrap();
        let (stdout, _) = ok(&out);
        assert!(
            !stdout.contains("\x1b[") && stdout.contains("imagePullSecrets"),
            "{stdout}"
        );
    }
}

/// `check RELEASE CHART` takes the same flags: the rules' variables, and the user's own
/// post-renderer, whose output is what gets installed (helm-regcred's is not run: check asks
/// what the chart pulls without it).
#[test]
fn check_takes_regcred_set_and_the_users_post_renderer() {
    let helm = Helm::v3().with_plugins(&[]);
    let (_dir, rules) = rules_file(PER_USER);
    let dir = tempfile::tempdir().unwrap();
    let script = users_post_renderer(dir.path());
    let out = helm
        .user()
        .args([
            "regcred",
            "check",
            "demo",
            CHART,
            "--regcred-set",
            "user_id=7",
        ])
        .arg("--regcred-rules")
        .arg(&rules)
        .arg("--post-renderer")
        .arg(&script)
        .args(["--post-renderer-args", "x"])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("Pod/added-by-mine"), "{stdout}");
    // Without the variable the rules cannot name the Secret: an error (2), not findings (1).
    let out = helm
        .user()
        .args(["regcred", "check", "demo", CHART, "--regcred-rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--regcred-set user_id=VALUE"));
}
