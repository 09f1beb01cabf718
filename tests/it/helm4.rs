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
    // The release's Secret, and the hook Secret of the pre-install hook Job.
    assert_eq!(secrets.len(), 2, "{stdout}");
    assert!(secrets.iter().all(|(_, d)| d.contains("kind: Secret")));
    assert!(
        secrets
            .iter()
            .any(|(_, d)| d.contains("name: demo-pull\n") && !d.contains("helm.sh/hook"))
    );
    assert!(
        secrets
            .iter()
            .any(|(_, d)| d.contains("name: demo-pull-hook\n")
                && d.contains("helm.sh/hook: pre-install"))
    );
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
    // The release's Secret and the pre-install hook Job's hook Secret.
    assert_eq!(docs.len(), 2, "{stdout}");
    for (_, doc) in &docs {
        assert!(doc.contains("kind: Secret"));
        assert!(doc.contains("type: kubernetes.io/dockerconfigjson"));
    }
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
        stderr.contains("5 pod specs selected, 5 changed, 2 pull Secrets added"),
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
    // The release's pull Secret in the manifest, and the pre-install hook Job's own hook Secret
    // among the hooks (`helm4_hook_pods_get_a_hook_secret_the_release_keeps_its_own`).
    assert_eq!(stdout.matches("kind: Secret").count(), 2, "{stdout}");
    assert_eq!(manifest.matches("kind: Secret").count(), 1, "{manifest}");
    assert_eq!(
        manifest.matches("- name: demo-pull\n").count(),
        4,
        "{manifest}"
    );
    assert!(hooks.contains("name: demo-migrate"));
    let migrate = hooks
        .split("\n---\n")
        .find(|d| d.contains("name: demo-migrate"))
        .unwrap();
    assert!(migrate.contains("- name: demo-pull-hook"), "{migrate}");
    assert!(stderr.contains("2 pull Secrets added"), "{stderr}");
}

/// A chart with a pre-install and a post-delete hook pod, and a release Deployment.
fn hooked_chart() -> tempfile::TempDir {
    let pod = |name: &str, hook: &str, weight: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  annotations:\n    helm.sh/hook: {hook}\n    helm.sh/hook-weight: \"{weight}\"\nspec:\n  restartPolicy: Never\n  containers:\n    - name: c\n      image: registry.example.com/tools/{name}:1\n"
        )
    };
    crate::helm::temp_chart(
        "hooked",
        &[
            ("migrate.yaml", &pod("migrate", "pre-install", "-5")),
            ("cleanup.yaml", &pod("cleanup", "post-delete", "3")),
            (
                "api.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec:\n      containers:\n        - name: api\n          image: registry.example.com/api:1\n",
            ),
        ],
    )
}

/// Issue 13 item 5. Hook pods get a hook Secret of their own, created before them (lower
/// weight, their events) and deleted once the hooks succeeded; the release's Secret stays in the
/// release manifest (so `helm uninstall` deletes it) instead of becoming a hook.
#[test]
fn helm4_hook_pods_get_a_hook_secret_the_release_keeps_its_own() {
    let helm = Helm::v4().with_plugins(&[]);
    let chart = hooked_chart();
    let out = helm
        .user()
        .args(["regcred", "install", "demo"])
        .arg(chart.path())
        .args(["-n", "apps", "--dry-run=client", "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    let (hooks, manifest) = stdout.split_once("MANIFEST:").unwrap();
    let docs = |text: &str| -> Vec<serde_json::Value> {
        text.split("\n---\n")
            .filter(|d| d.contains("kind:"))
            .map(|d| {
                let d = d.split_once("\napiVersion:").map_or(d, |(_, rest)| rest);
                serde_saphyr::from_str(&format!("apiVersion:{d}"))
                    .unwrap_or_else(|e| panic!("{e}: {d}"))
            })
            .collect()
    };
    let (hooks, manifest) = (docs(hooks), docs(manifest));
    let named = |docs: &[serde_json::Value], kind: &str, name: &str| -> Option<serde_json::Value> {
        docs.iter()
            .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            .cloned()
    };

    // The managed Secret: a release resource, listed by the release's Deployment.
    let managed = named(&manifest, "Secret", "demo-pull").expect("demo-pull in the manifest");
    assert!(
        managed["metadata"]["annotations"]["helm.sh/hook"].is_null(),
        "{managed}"
    );
    let api = named(&manifest, "Deployment", "api").unwrap();
    assert_eq!(
        api["spec"]["template"]["spec"]["imagePullSecrets"][0]["name"],
        "demo-pull"
    );
    assert!(named(&hooks, "Secret", "demo-pull").is_none());

    // The hook Secret: both events, a weight below both pods', deleted after they succeed.
    let hook = named(&hooks, "Secret", "demo-pull-hook").expect("demo-pull-hook among the hooks");
    let annotations = &hook["metadata"]["annotations"];
    assert_eq!(
        annotations["helm.sh/hook"], "pre-install,post-delete",
        "{hook}"
    );
    assert_eq!(annotations["helm.sh/hook-weight"], "-6", "{hook}");
    assert_eq!(
        annotations["helm.sh/hook-delete-policy"], "before-hook-creation,hook-succeeded",
        "{hook}"
    );
    assert_eq!(hook["type"], "kubernetes.io/dockerconfigjson");
    assert!(named(&manifest, "Secret", "demo-pull-hook").is_none());
    for pod in ["migrate", "cleanup"] {
        let pod = named(&hooks, "Pod", pod).unwrap();
        assert_eq!(
            pod["spec"]["imagePullSecrets"][0]["name"], "demo-pull-hook",
            "{pod}"
        );
    }
}

/// A Secret only post-delete hook pods need is a hook Secret, not a release resource (which
/// `helm uninstall` would delete before they run).
#[test]
fn helm4_a_secret_only_post_delete_hooks_need_is_no_release_resource() {
    let helm = Helm::v4().with_plugins(&[]);
    let chart = crate::helm::temp_chart(
        "cleanup-only",
        &[(
            "cleanup.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: cleanup\n  annotations:\n    helm.sh/hook: post-delete\nspec:\n  restartPolicy: Never\n  containers:\n    - name: c\n      image: registry.example.com/tools/cleanup:1\n",
        )],
    );
    let out = helm
        .user()
        .args(["regcred", "install", "demo"])
        .arg(chart.path())
        .args(["-n", "apps", "--dry-run=client", "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    let (hooks, manifest) = stdout.split_once("MANIFEST:").unwrap();
    assert!(!manifest.contains("kind: Secret"), "{manifest}");
    assert!(hooks.contains("name: demo-pull-hook"), "{hooks}");
    assert!(hooks.contains("helm.sh/hook: post-delete"), "{hooks}");
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
