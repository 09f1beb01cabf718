//! The real Helm 4 with helm-regcred: `--post-renderer regcred-postrender` (a plugin name, not
//! a path), hooks, `--show-only`, failures Helm 4 does not show, and the `helm regcred` wrappers.

use std::process::Output;

use crate::helm::{CHART, Helm, RULES, documents, ok, text};
use crate::plugin::plugin_names;

/// A chart Helm renders happily but helm-regcred must refuse: `imagePullSecrets` is a string.
pub fn bad_chart() -> tempfile::TempDir {
    crate::helm::temp_chart(
        "bad",
        &[(
            "pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  imagePullSecrets: oops\n  containers:\n    - name: c\n      image: registry.example.com/x:1\n",
        )],
    )
}

fn bad_rules() -> (tempfile::TempDir, std::path::PathBuf) {
    crate::util::rules_file(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: demo-pull\n    credentialz: {}\n",
    )
}

/// `helm template demo CHART --post-renderer regcred-postrender [ARGS as --post-renderer-args]`.
fn direct(helm: &Helm, args: &[&str], extra: &[&str]) -> Output {
    let mut cmd = helm.user();
    cmd.args(["template", "demo", CHART, "-n", "demo-ns"])
        .args(["--post-renderer", "regcred-postrender"]);
    for a in args {
        cmd.arg(format!("--post-renderer-args={a}"));
    }
    cmd.args(extra).output().unwrap()
}

#[test]
fn helm4_template_with_the_post_renderer_plugin() {
    let helm = Helm::v4().with_plugins(&[]);
    let out = direct(
        &helm,
        &[&format!("--rules={RULES}"), "--namespace=demo-ns"],
        &[],
    );
    let (stdout, _) = ok(&out);
    let docs = documents(&stdout);
    // Helm 4 re-sorts by kind and turns our filename annotation into the `# Source:` name.
    let secrets: Vec<_> = docs
        .iter()
        .filter(|(s, _)| s == "helm-regcred/pull-secrets.yaml")
        .collect();
    assert_eq!(secrets.len(), 1, "{stdout}");
    assert!(secrets[0].1.contains("kind: Secret") && secrets[0].1.contains("name: demo-pull"));
    assert!(
        !stdout.contains("postrenderer.helm.sh/postrender-filename"),
        "Helm strips the annotation"
    );

    let mut hooks = 0;
    let mut workloads = 0;
    for (source, doc) in &docs {
        let private = doc.contains("image: registry.example.com/")
            || doc.contains("image: \"registry.example.com/");
        if private {
            // Helm 4 post-renders hooks too: the pre-install Job pulls with the Secret.
            assert!(doc.contains("- name: demo-pull"), "{source}:\n{doc}");
            if doc.contains("helm.sh/hook") {
                hooks += 1;
            } else {
                workloads += 1;
            }
        } else {
            assert!(!doc.contains("- name: demo-pull"), "{source}:\n{doc}");
        }
    }
    assert_eq!((workloads, hooks), (4, 1));
    // The test Pod (busybox, public) is left alone.
    let test_pod = docs
        .iter()
        .find(|(s, _)| s.ends_with("tests/test-connection.yaml"))
        .expect("test pod");
    assert!(!test_pod.1.contains("imagePullSecrets"));
}

#[test]
fn helm4_show_only_selects_the_added_secret() {
    let helm = Helm::v4().with_plugins(&[]);
    let out = direct(
        &helm,
        &[&format!("--rules={RULES}")],
        &["--show-only", "pull-secrets.yaml"],
    );
    let (stdout, _) = ok(&out);
    let docs = documents(&stdout);
    assert_eq!(docs.len(), 1, "{stdout}");
    assert!(docs[0].1.contains("kind: Secret"));
    assert!(docs[0].1.contains("type: kubernetes.io/dockerconfigjson"));
}

/// Helm 4 shows nothing of a failing post-renderer's stderr; helm-regcred writes the reason as
/// its output, which Helm prints while refusing it, and `helm regcred last-error` has it too.
#[test]
fn helm4_bad_rules_reach_the_user_through_last_error() {
    let helm = Helm::v4().with_plugins(&[]);
    let (_dir, rules) = bad_rules();
    let out = direct(&helm, &[&format!("--rules={}", rules.display())], &[]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error while parsing post rendered output")
            && stderr.contains("node contents:")
            && stderr.contains("credentialz"),
        "{stderr}"
    );

    let out = helm
        .user()
        .args(["regcred", "last-error"])
        .output()
        .unwrap();
    let (last, _) = ok(&out);
    assert!(
        last.contains(&format!(
            "{}:6:5: unknown field `credentialz`",
            rules.display()
        )),
        "{last}"
    );
    assert!(last.contains("did you mean `credentials`"), "{last}");
    let file = helm.state_dir().join("last-error");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// The wrappers print the post-renderer's reason themselves when Helm 4 only says it failed.
#[test]
fn helm4_wrapper_prints_the_post_renderers_error() {
    let helm = Helm::v4().with_plugins(&[]);
    let chart = bad_chart();
    let out = helm
        .user()
        .args(["regcred", "template", "bad"])
        .arg(chart.path())
        .args(["--rules", RULES])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("exited with error"), "{stderr}");
    assert!(
        stderr.contains("helm-regcred: the post-renderer failed (Helm 4 does not show why)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "(Pod/p) from bad/templates/pod.yaml, line 8: `spec.imagePullSecrets` must be a list"
        ),
        "{stderr}"
    );
    // Bad rules are caught before Helm runs, with the file position.
    let (_dir, rules) = bad_rules();
    let out = helm
        .user()
        .args(["regcred", "install", "demo", CHART, "--dry-run=client"])
        .arg(format!("--rules={}", rules.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("regcred.yaml:6:5"), "{stderr}");
}

#[test]
fn helm4_wrapper_template_and_diff() {
    let helm = Helm::v4().with_plugins(&[]);
    let out = helm
        .user()
        .args(["regcred", "template", "demo", CHART, "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stdout.contains("# Source: helm-regcred/pull-secrets.yaml"));
    assert!(
        stderr.contains("5 pod specs selected, 5 changed, 1 pull Secret added"),
        "{stderr}"
    );

    // `diff` prints only the changes, on stdout; no manifests.
    let out = helm
        .user()
        .args(["regcred", "diff", "demo", CHART, "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    assert!(
        stdout.starts_with("helm-regcred: 5 pod specs selected"),
        "{stdout}"
    );
    assert!(stdout.contains("+      - name: demo-pull"), "{stdout}");
    assert!(stdout.contains(".dockerconfigjson: <redacted>"), "{stdout}");
    assert!(
        stdout.lines().all(|l| !l.starts_with("apiVersion")),
        "only diff lines: {stdout}"
    );
}

/// Helm 4's `install --dry-run=client` needs no cluster at all.
#[test]
fn helm4_install_dry_run_through_the_wrapper() {
    let helm = Helm::v4().with_plugins(&[]);
    let out = helm
        .user()
        .args(["regcred", "install", "demo", CHART, "-n", "apps"])
        .args(["--dry-run=client", "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stdout.contains("STATUS: pending-install"), "{stdout}");
    let (hooks, manifest) = stdout
        .split_once("MANIFEST:")
        .expect("HOOKS and MANIFEST sections");
    // One pull Secret: among the hooks here, since a pre-install hook pod needs it too
    // (`helm4_pre_install_hook_gets_a_hook_secret`).
    assert_eq!(stdout.matches("kind: Secret").count(), 1, "{stdout}");
    assert_eq!(
        manifest.matches("- name: demo-pull").count(),
        4,
        "{manifest}"
    );
    assert!(hooks.contains("name: demo-migrate"));
    let migrate = hooks
        .split("\n---\n")
        .find(|d| d.contains("name: demo-migrate"))
        .unwrap();
    assert!(migrate.contains("- name: demo-pull"), "{migrate}");
    assert!(stderr.contains("1 pull Secret added"), "{stderr}");
}

/// A pre-install hook runs before the release's resources exist, so the Secret its pod pulls
/// with must be created by Helm as a hook of its own, before the hook Job.
#[test]
fn helm4_pre_install_hook_gets_a_hook_secret() {
    let helm = Helm::v4().with_plugins(&[]);
    let out = helm
        .user()
        .args(["regcred", "install", "demo", CHART, "-n", "apps"])
        .args(["--dry-run=client", "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    let (hooks, _) = stdout.split_once("MANIFEST:").unwrap();
    let hook_docs: Vec<&str> = hooks.split("\n---\n").collect();
    let secret = hook_docs
        .iter()
        .find(|d| d.contains("kind: Secret"))
        .unwrap_or_else(|| panic!("no hook Secret among the hooks:\n{hooks}"));
    assert!(secret.contains("helm.sh/hook"), "{secret}");
    assert!(secret.contains("pre-install"), "{secret}");
    let name = secret
        .lines()
        .find_map(|l| l.trim().strip_prefix("name: "))
        .unwrap();
    let migrate = hook_docs
        .iter()
        .find(|d| d.contains("name: demo-migrate"))
        .unwrap();
    assert!(migrate.contains(&format!("- name: {name}")), "{migrate}");
    // Helm creates hooks in weight order: the Secret before the Job (weight -5).
    let secret_at = hooks.find(*secret).unwrap();
    let migrate_at = hooks.find(*migrate).unwrap();
    assert!(secret_at < migrate_at, "{hooks}");
}

/// `--post-renderer regcred-postrender` needs the plugin installed; the wrappers do not.
#[test]
fn helm4_wrapper_without_the_postrender_plugin() {
    let helm = Helm::v4().with_plugins(&["--no-postrender"]);
    assert_eq!(plugin_names(&helm.plugin_list()), ["regcred"]);
    let out = helm
        .user()
        .args([
            "regcred",
            "template",
            "demo",
            CHART,
            "--rules",
            RULES,
            "--no-diff",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stdout.contains("# Source: helm-regcred/pull-secrets.yaml"));
    assert!(
        !stderr.contains("pod specs selected"),
        "--no-diff: {stderr}"
    );
    // Helm itself still knows only `regcred`: nothing was installed behind the user's back.
    assert_eq!(plugin_names(&helm.plugin_list()), ["regcred"]);
}

/// The wrappers tell the post-renderer the release name: `{{ release }}` in a Secret name works.
pub fn release_name_reaches_the_post_renderer(helm: Helm) {
    let helm = helm.with_plugins(&["--no-postrender"]);
    let (_dir, rules) = crate::util::rules_file(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: \"{{ release }}-pull\"\n    credentials:\n      env: {username: REGISTRY_USER, password: REGISTRY_PASSWORD}\n",
    );
    let out = helm
        .user()
        .args([
            "regcred",
            "template",
            "myrel",
            CHART,
            "-n",
            "apps",
            "--no-diff",
        ])
        .arg("--rules")
        .arg(&rules)
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    let secret = documents(&stdout)
        .into_iter()
        .find(|(s, _)| s == "helm-regcred/pull-secrets.yaml")
        .expect("the pull Secret");
    assert!(secret.1.contains("name: myrel-pull"), "{}", secret.1);
    assert!(stdout.contains("- name: myrel-pull"));
    assert!(!stdout.contains("{{"));
}

#[test]
fn helm4_wrapper_passes_the_release_name() {
    release_name_reaches_the_post_renderer(Helm::v4());
}
