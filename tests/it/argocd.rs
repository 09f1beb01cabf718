//! The Argo CD Config Management Plugin of `examples/argocd/`: its `init` and `generate`
//! commands, read from plugin.yaml and run the way the CMP server runs them (cwd = a copy of
//! the app directory, `ARGOCD_APP_*` set, credentials mounted as a Secret volume), against the
//! real Helm 3 and kustomize.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::kustomize::{
    USER, add_pull_secret, assert_example_output, by_id, copy_dir, docs, edit, example_baseline,
    expected_auths, install_plugin, kubectl, pull_secret_auths, repo, text,
};
use crate::util::{TEST_PASSWORD, assert_no_password, bin, tool};

const PLUGIN: &str = "examples/argocd/plugin.yaml";
const PATCH: &str = "examples/argocd/repo-server-patch.yaml";
const CHART: &str = "examples/charts/demo";

fn helm3() -> PathBuf {
    tool("HELM3_BIN", "/root/.cache/helm-regcred/tools/helm3/helm")
}

fn plugin() -> Value {
    let text = std::fs::read_to_string(repo().join(PLUGIN)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// `spec.<phase>.command` followed by its `args`, as the CMP server execs them.
fn argv(phase: &str) -> Vec<String> {
    let plugin = plugin();
    let spec = &plugin["spec"][phase];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let mut argv = strings(&spec["command"]);
    assert!(!argv.is_empty(), "plugin.yaml has no spec.{phase}.command");
    argv.extend(strings(&spec["args"]));
    argv
}

/// What the sidecar container provides: helm, kubectl and helm-regcred, the mounted
/// credentials Secret, the kustomize plugin home; and nothing of the test's environment.
struct Sidecar {
    tools: tempfile::TempDir,
    credentials: tempfile::TempDir,
    home: tempfile::TempDir,
    plugin_home: tempfile::TempDir,
}

impl Sidecar {
    fn new() -> Sidecar {
        let tools = tempfile::tempdir().unwrap();
        symlink(helm3(), tools.path().join("helm")).unwrap();
        symlink(kubectl(), tools.path().join("kubectl")).unwrap();
        // The layout Kubernetes gives a Secret volume: files in a timestamped directory,
        // `..data` pointing at it, one link per key.
        let credentials = tempfile::tempdir().unwrap();
        let data = credentials.path().join("..2025_01_01_00_00_00.000000001");
        std::fs::create_dir(&data).unwrap();
        std::fs::write(data.join("REGISTRY_USER"), USER).unwrap();
        std::fs::write(data.join("REGISTRY_PASSWORD"), TEST_PASSWORD).unwrap();
        symlink(data.file_name().unwrap(), credentials.path().join("..data")).unwrap();
        for key in ["REGISTRY_USER", "REGISTRY_PASSWORD"] {
            symlink(Path::new("..data").join(key), credentials.path().join(key)).unwrap();
        }
        Sidecar {
            tools,
            credentials,
            home: tempfile::tempdir().unwrap(),
            plugin_home: install_plugin(&[]),
        }
    }

    /// Run one phase of the plugin in `app` as Argo CD does.
    fn run(&self, phase: &str, app: &Path, name: &str, namespace: &str) -> Output {
        self.run_with(phase, app, name, namespace, &[])
    }

    /// [`Self::run`] with more environment: Argo CD's build variables, or `ARGOCD_ENV_*`
    /// from the Application's `source.plugin.env`.
    fn run_with(
        &self,
        phase: &str,
        app: &Path,
        name: &str,
        namespace: &str,
        env: &[(&str, &str)],
    ) -> Output {
        let argv = argv(phase);
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(app)
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:/usr/local/bin:/usr/bin:/bin",
                    self.tools.path().display()
                ),
            )
            .env("HOME", self.home.path())
            .env("ARGOCD_APP_NAME", name)
            .env("ARGOCD_APP_NAMESPACE", namespace)
            .env("ARGOCD_APP_SOURCE_PATH", "app")
            // The sidecar's own settings (repo-server-patch.yaml).
            .env("HELM_REGCRED_BIN", bin())
            .env("HELM_REGCRED_CREDENTIALS", self.credentials.path())
            .env("KUSTOMIZE_PLUGIN_HOME", self.plugin_home.path())
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_no_password(&out);
        out
    }

    /// `init` then `generate`; the generated manifests.
    fn generate(&self, app: &Path, name: &str, namespace: &str) -> String {
        for phase in ["init", "generate"] {
            let out = self.run(phase, app, name, namespace);
            assert!(
                out.status.success(),
                "{phase} failed:\n{}",
                text(&out.stderr)
            );
            if phase == "generate" {
                return text(&out.stdout);
            }
        }
        unreachable!()
    }
}

/// A copy of an example directory, as Argo CD checks the repository out for the plugin.
fn app(example: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join(example), dir.path());
    dir
}

/// Plain `helm template` of the demo chart, isolated from the user's Helm.
fn helm_template(name: &str, namespace: &str) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(helm3())
        .args(["template", name])
        .arg(repo().join(CHART))
        .args(["--namespace", namespace, "--include-crds"])
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Where a kind keeps its pod spec (the kinds the demo chart renders).
fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => Some("/spec/template/spec"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        "Pod" => Some("/spec"),
        _ => None,
    }
}

#[test]
fn helm_app_generates_the_chart_with_pull_secrets() {
    let sidecar = Sidecar::new();
    let dir = app(CHART);
    let got = sidecar.generate(dir.path(), "shop", "shop-ns");
    let mut got = by_id(docs(&got));

    // The Secret, from the mounted credentials (the environment had none).
    let secret_key = got
        .keys()
        .find(|k| k.0 == "Secret" && k.2 == "demo-pull")
        .cloned()
        .unwrap_or_else(|| panic!("no Secret demo-pull in {:?}", got.keys()));
    let secret = got.remove(&secret_key).unwrap();
    assert_eq!(
        pull_secret_auths(&secret),
        expected_auths("registry.example.com")
    );
    // Where the pods are: the chart sets no namespace, Argo CD applies both to the app's.
    assert!(
        secret_key.1.is_empty() || secret_key.1 == "shop-ns",
        "{secret_key:?}"
    );

    // Everything else is `helm template` with the release name and namespace Argo CD gave,
    // hooks included, plus `demo-pull` in each pod pulling from registry.example.com.
    let mut want = by_id(docs(&helm_template("shop", "shop-ns")));
    let mut changed = Vec::new();
    for ((kind, _, name), doc) in want.iter_mut() {
        let Some(pointer) = pod_spec_pointer(kind) else {
            continue;
        };
        let spec = doc.pointer(pointer).unwrap().clone();
        let private = ["containers", "initContainers"].iter().any(|list| {
            spec[list].as_array().is_some_and(|cs| {
                cs.iter().any(|c| {
                    c["image"]
                        .as_str()
                        .is_some_and(|i| i.starts_with("registry.example.com/"))
                })
            })
        });
        if private {
            add_pull_secret(doc, pointer, "demo-pull");
            changed.push(name.clone());
        }
    }
    changed.sort();
    assert_eq!(
        changed,
        [
            "shop-demo-agent",
            "shop-demo-api",
            "shop-demo-migrate",
            "shop-demo-report",
            "shop-demo-store"
        ]
    );
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (key, doc) in &want {
        assert_eq!(&got[key], doc, "{key:?} differs");
    }
    let store = &got[&(
        "StatefulSet".to_string(),
        String::new(),
        "shop-demo-store".to_string(),
    )];
    assert_eq!(
        store["spec"]["template"]["spec"]["imagePullSecrets"],
        json!([{"name": "existing-secret"}, {"name": "demo-pull"}])
    );
}

#[test]
fn kustomize_app_generates_the_kustomize_result() {
    let sidecar = Sidecar::new();
    let baseline = example_baseline();
    // The example lists helm-regcred as a transformer: the kustomize plugin runs, the
    // plugin's own pass afterwards changes nothing.
    let dir = app(crate::kustomize::EXAMPLE);
    let got = sidecar.generate(dir.path(), "shop", "shop");
    assert_example_output(&got, &baseline);

    // Without the transformer in the kustomization, the plugin's pass does the same job.
    let dir = app(crate::kustomize::EXAMPLE);
    edit(
        dir.path(),
        "kustomization.yaml",
        "transformers:\n  - regcred.yaml\n",
        "",
    );
    let without = sidecar.generate(dir.path(), "shop", "shop");
    assert_example_output(&without, &baseline);
}

#[test]
fn generate_fails_loudly() {
    let sidecar = Sidecar::new();
    // Neither a chart nor a kustomization.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("regcred.yaml"), "").unwrap();
    let out = sidecar.run("generate", dir.path(), "x", "x");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("neither Chart.yaml nor kustomization.yaml"));

    // A chart that does not render: no half output reaches helm-regcred or Argo CD.
    let dir = app(CHART);
    edit(
        dir.path(),
        "templates/configmap.yaml",
        "metadata:",
        "{{ fail \"broken chart\" }}\nmetadata:",
    );
    let out = sidecar.run("generate", dir.path(), "x", "x");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("broken chart"));
}

#[test]
fn plugin_discovers_the_examples_it_renders() {
    let plugin = plugin();
    assert_eq!(plugin["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let file = plugin["spec"]["discover"]["fileName"].as_str().unwrap();
    for example in [CHART, crate::kustomize::EXAMPLE] {
        assert!(
            repo().join(example).join(file).is_file(),
            "{example}/{file}"
        );
    }
    // application.yaml selects the plugin by the name Argo CD gives it: <name>-<version>.
    let app: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join("examples/argocd/application.yaml")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        app["spec"]["source"]["plugin"]["name"],
        format!(
            "{}-{}",
            plugin["metadata"]["name"].as_str().unwrap(),
            plugin["spec"]["version"].as_str().unwrap()
        )
    );
}

/// The sidecar patch merged (by the real kustomize) into a repo-server Deployment with the
/// stock volumes: every mount has its volume, and the paths agree with plugin.yaml's defaults.
#[test]
fn sidecar_patch_is_consistent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("repo-server.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: argocd-repo-server}\nspec:\n  selector: {matchLabels: {app: r}}\n  template:\n    metadata: {labels: {app: r}}\n    spec:\n      containers:\n      - name: argocd-repo-server\n        image: quay.io/argoproj/argocd:v2.13.1\n        volumeMounts:\n        - {name: var-files, mountPath: /var/run/argocd}\n        - {name: plugins, mountPath: /home/argocd/cmp-server/plugins}\n      volumes:\n      - {name: var-files, emptyDir: {}}\n      - {name: plugins, emptyDir: {}}\n",
    )
    .unwrap();
    std::fs::copy(repo().join(PATCH), dir.path().join("patch.yaml")).unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [repo-server.yaml]\npatches: [{path: patch.yaml}]\n",
    )
    .unwrap();
    let out = Command::new(kubectl())
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deployment = docs(&text(&out.stdout)).remove(0);
    let spec = &deployment["spec"]["template"]["spec"];
    let volumes: Vec<&str> = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    let mut mounts: BTreeMap<String, String> = BTreeMap::new();
    for list in ["containers", "initContainers"] {
        for container in spec[list].as_array().unwrap() {
            for mount in container["volumeMounts"].as_array().unwrap() {
                let name = mount["name"].as_str().unwrap();
                assert!(volumes.contains(&name), "no volume {name}");
                if container["name"] == "helm-regcred" {
                    mounts.insert(
                        mount["mountPath"].as_str().unwrap().to_string(),
                        name.to_string(),
                    );
                }
            }
        }
    }
    let sidecar = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "helm-regcred")
        .expect("sidecar container");
    assert_eq!(
        sidecar["command"],
        json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert_eq!(
        mounts["/home/argocd/cmp-server/config/plugin.yaml"],
        "helm-regcred-plugin"
    );
    let env: BTreeMap<&str, &str> = sidecar["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        mounts[env["HELM_REGCRED_CREDENTIALS"]],
        "helm-regcred-credentials"
    );
    // The generate script's default credentials path is the one mounted.
    let generate = argv("generate").join(" ");
    assert!(generate.contains(&format!(
        "${{HELM_REGCRED_CREDENTIALS:-{}}}",
        env["HELM_REGCRED_CREDENTIALS"]
    )));
    assert!(env["HELM_REGCRED_BIN"].starts_with("/helm-regcred/"));
    assert!(env["KUSTOMIZE_PLUGIN_HOME"].starts_with("/helm-regcred/"));
    assert_eq!(mounts["/helm-regcred"], "helm-regcred-tools");
    let secret_volume = spec["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "helm-regcred-credentials")
        .unwrap();
    assert_eq!(
        secret_volume["secret"]["secretName"],
        "helm-regcred-credentials"
    );
}

/// The demo chart's rules with its `credentials:` (or `secret:`) replaced: what a team could
/// commit to its own repository.
fn hostile_app(credentials: &str, secret: &str) -> tempfile::TempDir {
    let dir = app(CHART);
    edit(
        dir.path(),
        "regcred.yaml",
        "      env: {username: REGISTRY_USER, password: REGISTRY_PASSWORD}\n",
        &format!("      {credentials}\n"),
    );
    edit(
        dir.path(),
        "regcred.yaml",
        "    secret: demo-pull\n",
        &format!("    secret: {secret}\n"),
    );
    edit(
        dir.path(),
        "regcred.yaml",
        "secrets: [demo-pull]",
        &format!("secrets: [{secret}]"),
    );
    dir
}

/// A failed generate: nothing on stdout, and `expected` in the reason.
fn assert_refused(out: &Output, expected: &str) {
    let err = text(&out.stderr);
    assert!(
        !out.status.success(),
        "generate succeeded: {}",
        text(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
}

/// Rules from the app's repository are untrusted in the plugin: they reach the exported
/// credentials and nothing else of the repo server (its files, environment, other logins).
#[test]
fn rules_from_the_repository_read_only_the_exported_credentials() {
    let sidecar = Sidecar::new();
    let password_file = sidecar.credentials.path().join("REGISTRY_PASSWORD");
    let cases: Vec<(String, &str, String)> = vec![
        (
            "file: /proc/self/environ".into(),
            "demo-pull",
            "the rules are untrusted and may not read /proc/self/environ".into(),
        ),
        (
            "file: ../../../../../../etc/passwd".into(),
            "demo-pull",
            "may not read ../../../../../../etc/passwd".into(),
        ),
        (
            format!("file: {}", password_file.display()),
            "demo-pull",
            format!("may not read {}", password_file.display()),
        ),
        (
            "env: {username: HOME, password: REGISTRY_PASSWORD}".into(),
            "demo-pull",
            "may not read environment variable HOME".into(),
        ),
        (
            "dockerConfig: null".into(),
            "demo-pull",
            "may not read".into(),
        ),
        (
            "env: {username: REGISTRY_USER, password: REGISTRY_PASSWORD}".into(),
            "\"x-{{ env.REGISTRY_PASSWORD }}\"",
            "templates may not read `env.REGISTRY_PASSWORD`".into(),
        ),
    ];
    for (credentials, secret, expected) in &cases {
        let dir = hostile_app(credentials, secret);
        let out = sidecar.run("generate", dir.path(), "shop", "shop");
        assert_refused(&out, expected);
        // Nothing of the process environment is quoted either.
        assert!(
            !text(&out.stderr).contains("ARGOCD_APP_NAME="),
            "{credentials}"
        );
    }

    // The app chooses the rules path: it stays inside the app directory.
    let dir = app(CHART);
    let out = sidecar.run_with(
        "generate",
        dir.path(),
        "shop",
        "shop",
        &[("ARGOCD_ENV_REGCRED_RULES", "../../etc/passwd")],
    );
    assert_refused(
        &out,
        "REGCRED_RULES must be a relative path inside the app directory",
    );
}

/// Kustomize apps too: kustomize runs helm-regcred as a transformer with the rules resource
/// as its config, and the policy the plugin exported applies there as well.
#[test]
fn kustomize_transformer_rules_are_untrusted_too() {
    let sidecar = Sidecar::new();
    let dir = app(crate::kustomize::EXAMPLE);
    edit(
        dir.path(),
        "regcred.yaml",
        "env: {username: REGISTRY_USER, password: REGISTRY_PASSWORD}",
        "file: /proc/self/environ",
    );
    let out = sidecar.run("generate", dir.path(), "shop", "shop");
    assert_refused(
        &out,
        "the rules are untrusted and may not read /proc/self/environ",
    );
}

/// With a directory per Argo CD project in the credentials volume, an app gets its project's
/// login and cannot name another team's variables.
#[test]
fn each_project_gets_its_own_credentials() {
    let sidecar = Sidecar::new();
    let team = sidecar.credentials.path().join("team-a");
    std::fs::create_dir(&team).unwrap();
    std::fs::write(team.join("TEAM_A_USER"), "team-a-robot").unwrap();
    std::fs::write(team.join("TEAM_A_PASSWORD"), TEST_PASSWORD).unwrap();
    let dir = hostile_app(
        "env: {username: TEAM_A_USER, password: TEAM_A_PASSWORD}",
        "demo-pull",
    );
    let project = [("ARGOCD_APP_PROJECT_NAME", "team-a")];
    let out = sidecar.run_with("generate", dir.path(), "shop", "shop", &project);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got = by_id(docs(&text(&out.stdout)));
    let secret = got
        .iter()
        .find(|(k, _)| k.0 == "Secret" && k.2 == "demo-pull")
        .map(|(_, v)| v.clone())
        .expect("the pull Secret");
    let auths = pull_secret_auths(&secret);
    assert_eq!(
        auths["auths"]["registry.example.com"]["username"], "team-a-robot",
        "{auths}"
    );

    // The top-level login is not exported for team-a's apps, so not readable either.
    let dir = app(CHART);
    let out = sidecar.run_with("generate", dir.path(), "shop", "shop", &project);
    assert_refused(&out, "may not read environment variable REGISTRY_USER");
}

/// `HELM_ARGS` comes from the Application: untrusted, only values files inside the app and
/// `--set` pass, so an app cannot make Helm run a program or read the server's files.
#[test]
fn helm_args_of_an_untrusted_app_are_limited() {
    let sidecar = Sidecar::new();
    let dir = app(CHART);
    for (args, expected) in [
        ("--post-renderer cat", "--post-renderer is not allowed"),
        (
            "-f /etc/passwd",
            "values file /etc/passwd is not inside the app directory",
        ),
        (
            "--values=../../x.yaml",
            "values file ../../x.yaml is not inside",
        ),
        (
            "-f http://169.254.169.254/x",
            "is not inside the app directory",
        ),
        ("--set-file a=/etc/passwd", "--set-file is not allowed"),
        ("--set", "a flag at the end has no value"),
    ] {
        let out = sidecar.run_with(
            "generate",
            dir.path(),
            "shop",
            "shop",
            &[("ARGOCD_ENV_HELM_ARGS", args)],
        );
        assert_refused(&out, expected);
    }
    let out = sidecar.run_with(
        "generate",
        dir.path(),
        "shop",
        "shop",
        &[(
            "ARGOCD_ENV_HELM_ARGS",
            "-f values.yaml --set store.replicas=2",
        )],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}
