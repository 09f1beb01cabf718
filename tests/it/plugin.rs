//! scripts/install-plugin and the `helm regcred` CLI plugin, with the real Helm 3 and Helm 4,
//! each in its own HELM_*_HOME. The plugins are installed from this working tree; the test
//! build is their binary (`HELM_REGCRED_BINARY`), so no test writes into the checkout.

use std::process::Command;

use crate::helm::{CHART, FakeApi, Helm, RULES, documents, ok, repo, text};
use crate::util::{bin, tool};

/// The NAME column of `helm plugin list`.
pub fn plugin_names(list: &str) -> Vec<String> {
    list.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Every `plugin.yaml` Helm would load from this Helm's plugins directory.
fn installed_plugin_files(helm: &Helm) -> Vec<String> {
    let dir = helm.home.path().join("data/plugins");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("plugin.yaml")).ok())
        .collect()
}

/// Helm keeps working after the plugins are gone, and the checkout is untouched.
fn assert_helm_still_works(helm: &Helm) {
    assert!(plugin_names(&helm.plugin_list()).is_empty());
    let out = helm
        .cmd()
        .args(["template", "demo", CHART])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stdout.contains("kind: Deployment"), "{stderr}");
    assert!(!stderr.contains("failed to load plugins"), "{stderr}");
    for file in [
        "plugin.yaml",
        "plugins/regcred-postrender/plugin.yaml",
        "scripts/plugin-exec",
        "scripts/install-plugin",
    ] {
        assert!(repo().join(file).is_file(), "{file} went missing");
    }
}

/// Every private workload of `stdout` has the pull secret; hooks only when `hooks` (Helm 4).
fn assert_private_pods_pull(stdout: &str, hooks: bool) -> usize {
    let mut checked = 0;
    for (source, doc) in documents(stdout) {
        let private = doc.contains("image: registry.example.com/")
            || doc.contains("image: \"registry.example.com/");
        if !private {
            assert!(
                !doc.contains("- name: demo-pull"),
                "{source} pulls nothing private:\n{doc}"
            );
            continue;
        }
        let hook = doc.contains("helm.sh/hook");
        if hook && !hooks {
            assert!(
                !doc.contains("demo-pull"),
                "Helm 3 never post-renders hooks: {source}"
            );
        } else {
            assert!(doc.contains("- name: demo-pull"), "{source}:\n{doc}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn helm3_install_plugin_template_and_uninstall() {
    let helm = Helm::v3();
    let (_, stderr) = ok(&helm.install_plugin(&[]));
    assert!(stderr.contains("Helm 3"), "{stderr}");
    assert_eq!(plugin_names(&helm.plugin_list()), ["regcred"]);
    // Helm 3 never gets the Helm 4 post-renderer plugin (it cannot load it).
    let files = installed_plugin_files(&helm);
    assert_eq!(files.len(), 1);
    assert!(!files[0].contains("postrenderer/v1"));

    // Idempotent: a second run changes nothing and says so.
    let (_, stderr) = ok(&helm.install_plugin(&[]));
    assert!(stderr.contains("regcred: already installed"), "{stderr}");
    assert_eq!(plugin_names(&helm.plugin_list()), ["regcred"]);

    let out = helm
        .user()
        .args(["regcred", "template", "demo", CHART, "-n", "demo-ns"])
        .args(["--rules", RULES])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    let docs = documents(&stdout);
    assert_eq!(docs[0].0, "helm-regcred/pull-secrets.yaml", "Secret first");
    assert!(docs[0].1.contains("name: demo-pull"));
    assert_eq!(assert_private_pods_pull(&stdout, false), 4);
    // The redacted diff of what helm-regcred changed, on stderr only.
    assert!(
        stderr.contains("helm-regcred: 4 pod specs selected, 4 changed, 1 pull Secret added"),
        "{stderr}"
    );
    assert!(stderr.contains("+        - name: demo-pull"), "{stderr}");
    assert!(stderr.contains(".dockerconfigjson: <redacted>"), "{stderr}");
    assert!(!stdout.contains("--- input"));
    // Helm 3 printed the pre-install hook Job as the chart wrote it: the wrapper says so.
    assert!(
        stderr.contains("hook Job/demo-migrate (demo/templates/migrate-job.yaml) lacks demo-pull"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Helm 3 never post-renders hooks"),
        "{stderr}"
    );

    // --no-diff silences it; Helm's own flags (--show-only) pass through.
    let out = helm
        .user()
        .args(["regcred", "template", "demo", CHART, "--no-diff"])
        .args(["--show-only", "pull-secrets.yaml", "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert_eq!(documents(&stdout).len(), 1, "{stdout}");
    assert!(stdout.contains("kind: Secret"));
    assert!(!stderr.contains("helm-regcred"), "{stderr}");

    // `helm plugin uninstall` removes it cleanly.
    let out = helm
        .cmd()
        .args(["plugin", "uninstall", "regcred"])
        .output()
        .unwrap();
    ok(&out);
    assert_helm_still_works(&helm);
}

#[test]
fn helm4_install_plugin_installs_both_and_uninstalls_cleanly() {
    let helm = Helm::v4();
    let (_, stderr) = ok(&helm.install_plugin(&[]));
    assert!(
        stderr.contains("regcred and regcred-postrender"),
        "{stderr}"
    );
    let mut names = plugin_names(&helm.plugin_list());
    names.sort();
    assert_eq!(names, ["regcred", "regcred-postrender"]);

    let (_, stderr) = ok(&helm.install_plugin(&[]));
    assert!(stderr.contains("regcred: already installed"), "{stderr}");
    assert!(
        stderr.contains("regcred-postrender: already installed"),
        "{stderr}"
    );

    let out = helm
        .user()
        .args(["regcred", "template", "demo", CHART, "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    assert_eq!(assert_private_pods_pull(&stdout, true), 5);

    ok(&helm.install_plugin(&["--uninstall"]));
    assert_helm_still_works(&helm);
}

#[test]
fn helm4_uninstall_by_name_removes_both() {
    let helm = Helm::v4().with_plugins(&[]);
    let out = helm
        .cmd()
        .args(["plugin", "uninstall", "regcred", "regcred-postrender"])
        .output()
        .unwrap();
    ok(&out);
    assert_helm_still_works(&helm);
}

/// One plugins directory for a Helm 3 and a Helm 4 (their default): installing the Helm 4
/// post-renderer plugin there would break Helm 3, so install-plugin leaves it out.
#[test]
fn helm4_install_plugin_spares_a_helm3_sharing_the_plugins_directory() {
    let helm4 = Helm::v4();
    let path_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        tool("HELM3_BIN", "/root/.cache/helm-regcred/tools/helm3/helm"),
        path_dir.path().join("helm3"),
    )
    .unwrap();
    let path = format!("{}:/usr/bin:/bin", path_dir.path().display());
    let out = helm4.install_plugin_with_path(&[], &path);
    let (_, stderr) = ok(&out);
    assert!(
        stderr.contains("NOT installing regcred-postrender: Helm 3 at"),
        "{stderr}"
    );
    assert_eq!(plugin_names(&helm4.plugin_list()), ["regcred"]);

    // That Helm 3 still loads its plugins (and sees `regcred`, which works on both).
    let mut helm3 = Command::new(path_dir.path().join("helm3"));
    helm4.isolate(&mut helm3);
    let out = helm3.args(["plugin", "list"]).output().unwrap();
    let (stdout, _) = ok(&out);
    assert_eq!(plugin_names(&stdout), ["regcred"]);

    // And `helm regcred` on Helm 4 works without the post-renderer plugin installed: the
    // wrapper adds the checkout's plugins/ for its own run.
    let out = helm4
        .user()
        .args(["regcred", "template", "demo", CHART, "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, _) = ok(&out);
    assert_eq!(assert_private_pods_pull(&stdout, true), 5);
}

/// The hazard is real (Helm 3 cannot load a v1 plugin and then fails plugin commands), and
/// install-plugin for Helm 3 refuses to go on top of it, saying how to fix it.
#[test]
fn helm3_install_plugin_refuses_a_directory_holding_the_helm4_plugin() {
    let helm4 = Helm::v4().with_plugins(&[]);
    let helm3_bin = tool("HELM3_BIN", "/root/.cache/helm-regcred/tools/helm3/helm");
    let mut list = Command::new(&helm3_bin);
    helm4.isolate(&mut list);
    let out = list.args(["plugin", "list"]).output().unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown field \"apiVersion\""));

    let mut install = Command::new(repo().join("scripts/install-plugin"));
    helm4.isolate(&mut install);
    let out = install
        .env("HELM_BIN", &helm3_bin)
        .env("HELM_REGCRED_BINARY", bin())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Helm 3 cannot load that Helm 4 plugin"),
        "{stderr}"
    );
    assert!(
        stderr.contains("helm plugin uninstall regcred-postrender"),
        "{stderr}"
    );
}

/// The launcher says what is wrong when there is no binary, also to where Helm 4 users look.
#[test]
fn launcher_reports_a_missing_binary() {
    let helm = Helm::v4().with_plugins(&[]);
    let out = helm
        .user()
        .env("HELM_REGCRED_BINARY", "/nonexistent/helm-regcred")
        .args([
            "template",
            "demo",
            CHART,
            "--post-renderer",
            "regcred-postrender",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let recorded = std::fs::read_to_string(helm.state_dir().join("last-error")).unwrap();
    assert!(
        recorded
            .contains("HELM_REGCRED_BINARY=/nonexistent/helm-regcred is not an executable file"),
        "{recorded}"
    );
}

#[test]
fn helm3_wrapper_rejects_bad_rules_before_helm_runs() {
    let helm = Helm::v3().with_plugins(&[]);
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("regcred.yaml");
    std::fs::write(&rules, "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: demo-pull\n    credentialz: {}\n").unwrap();
    let out = helm
        .user()
        .args(["regcred", "install", "demo", CHART, "--dry-run=client"])
        .arg("--rules")
        .arg(&rules)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("regcred.yaml:6:5"), "{stderr}");
    assert!(stderr.contains("did you mean `credentials`"), "{stderr}");
    assert!(
        !stderr.contains("INSTALLATION FAILED"),
        "Helm never ran: {stderr}"
    );
}

/// Helm 3 prints a failing post-renderer's stderr itself; the wrapper adds nothing to it.
#[test]
fn helm3_wrapper_shows_a_post_render_failure_once() {
    let helm = Helm::v3().with_plugins(&[]);
    let chart = crate::helm4::bad_chart();
    let out = helm
        .user()
        .args(["regcred", "template", "bad"])
        .arg(chart.path())
        .args(["--rules", RULES])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error while running post render"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .matches("`spec.imagePullSecrets` must be a list of {name: ...}")
            .count(),
        1,
        "{stderr}"
    );
}

/// Helm 3's `install --dry-run=client` contacts the cluster despite its help text
/// (helm/helm#13144), so it runs against a read-only API stand-in (discovery, GETs).
#[test]
fn helm3_install_dry_run_through_the_wrapper() {
    let helm = Helm::v3().with_plugins(&[]);
    let api = FakeApi::start(Vec::new());
    let out = helm
        .user()
        .env("KUBECONFIG", &api.kubeconfig)
        .args(["regcred", "install", "demo", CHART, "-n", "apps"])
        .args(["--dry-run=client", "--disable-openapi-validation"])
        .args(["--rules", RULES])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    assert!(stdout.contains("STATUS: pending-install"), "{stdout}");
    let manifest = stdout
        .split("MANIFEST:")
        .nth(1)
        .expect("a MANIFEST section");
    assert_eq!(assert_private_pods_pull(manifest, false), 4);
    assert!(manifest.contains("# Source: helm-regcred/pull-secrets.yaml"));
    assert!(stderr.contains("1 pull Secret added"), "{stderr}");
    assert!(stderr.contains("Job/demo-migrate"), "{stderr}");
}

/// Two releases in one namespace adding a Secret of one name: Helm refuses the second, and
/// the wrapper explains what to do.
#[test]
fn helm3_wrapper_explains_a_secret_owned_by_another_release() {
    let helm = Helm::v3().with_plugins(&[]);
    let existing = r#"{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/dockerconfigjson","metadata":{"name":"demo-pull","namespace":"apps","labels":{"app.kubernetes.io/managed-by":"Helm"},"annotations":{"meta.helm.sh/release-name":"first","meta.helm.sh/release-namespace":"apps"}}}"#;
    let api = FakeApi::start(vec![(
        "/api/v1/namespaces/apps/secrets/demo-pull".into(),
        existing.into(),
    )]);
    let out = helm
        .user()
        .env("KUBECONFIG", &api.kubeconfig)
        .args(["regcred", "install", "second", CHART, "-n", "apps"])
        .args(["--dry-run=client", "--disable-openapi-validation"])
        .args(["--rules", RULES])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    // Helm's own error passes through, then the explanation.
    assert!(stderr.contains("current value is \"first\""), "{stderr}");
    assert!(
        stderr.contains("release \"first\" already owns it"),
        "{stderr}"
    );
    assert!(stderr.contains("{{ release }}-pull"), "{stderr}");
    assert!(stderr.contains("create: false"), "{stderr}");
}

/// `-n` reaches the post-renderer (Helm turns it into HELM_NAMESPACE for the plugin): a pod with
/// an explicit namespace and one without then share one Secret instead of getting two.
#[test]
fn helm3_wrapper_passes_the_release_namespace() {
    let helm = Helm::v3().with_plugins(&[]);
    let chart = crate::helm::temp_chart(
        "ns",
        &[(
            "pods.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: {{ .Release.Namespace }}\nspec:\n  containers: [{name: c, image: registry.example.com/a:1}]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers: [{name: c, image: registry.example.com/b:1}]\n",
        )],
    );
    let out = helm
        .user()
        .args(["regcred", "template", "ns"])
        .arg(chart.path())
        .args(["-n", "apps", "--rules", RULES])
        .output()
        .unwrap();
    let (stdout, stderr) = ok(&out);
    let secrets = documents(&stdout)
        .into_iter()
        .filter(|(_, d)| d.contains("kind: Secret"))
        .count();
    assert_eq!(secrets, 1, "{stdout}\n{stderr}");
    assert!(!stderr.contains("collide"), "{stderr}");
}

#[test]
fn helm3_wrapper_passes_the_release_name() {
    crate::helm4::release_name_reaches_the_post_renderer(Helm::v3());
}
