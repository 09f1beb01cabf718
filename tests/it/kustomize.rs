//! The real `kubectl kustomize --enable-alpha-plugins` running helm-regcred as a legacy exec
//! transformer plugin installed by `scripts/install-kustomize-plugin`.
//!
//! Expected output is never written by hand: it is kustomize's own output for the same
//! kustomization without the transformer, plus exactly the pull secrets and the Secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::{Value, json};

use crate::util::{TEST_PASSWORD, assert_no_password, bin, tool};

pub const EXAMPLE: &str = "examples/kustomize";
pub const USER: &str = "robot";

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn kubectl() -> PathBuf {
    tool("KUBECTL_BIN", "/usr/bin/kubectl")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A plugin home filled by the install script, pointing at the test build.
pub fn install_plugin(extra: &[&str]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(repo().join("scripts/install-kustomize-plugin"))
        .arg("--bin")
        .arg(bin())
        .arg("--plugin-home")
        .arg(home.path())
        .args(extra)
        .env_remove("KUSTOMIZE_PLUGIN_HOME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "install-kustomize-plugin failed: {}",
        text(&out.stderr)
    );
    let plugin = home
        .path()
        .canonicalize()
        .unwrap()
        .join("helm-regcred/v1/regcredconfig/RegcredConfig");
    assert_eq!(text(&out.stdout).trim(), plugin.display().to_string());
    home
}

/// `kubectl kustomize [--enable-alpha-plugins] DIR` with the registry login in the environment.
pub fn kustomize(dir: &Path, plugin_home: Option<&Path>) -> Output {
    let mut cmd = Command::new(kubectl());
    cmd.arg("kustomize");
    if let Some(home) = plugin_home {
        cmd.arg("--enable-alpha-plugins")
            .env("KUSTOMIZE_PLUGIN_HOME", home);
    }
    let out = cmd
        .arg(dir)
        .env_remove("HELM_REGCRED_RULES")
        .env_remove("HELM_REGCRED_NAMESPACE")
        .env("REGISTRY_USER", USER)
        .env("REGISTRY_PASSWORD", TEST_PASSWORD)
        .output()
        .unwrap();
    assert_no_password(&out);
    out
}

pub fn kustomize_ok(dir: &Path, plugin_home: Option<&Path>) -> String {
    let out = kustomize(dir, plugin_home);
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed:\n{}",
        dir.display(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Every document of a YAML stream, parsed (empty documents dropped).
pub fn docs(stream: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(stream)
        .unwrap_or_else(|e| panic!("output is not YAML: {e}\n{stream}"))
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// Documents by (kind, namespace, name); a duplicate is a failure.
pub fn by_id(docs: Vec<Value>) -> BTreeMap<(String, String, String), Value> {
    let mut map = BTreeMap::new();
    for doc in docs {
        let field = |p: &str| {
            doc.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let id = (
            field("/kind"),
            field("/metadata/namespace"),
            field("/metadata/name"),
        );
        assert!(
            map.insert(id.clone(), doc).is_none(),
            "{id:?} appears twice"
        );
    }
    map
}

/// Copy a directory tree (files only; the examples have no links).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temp copy of the kustomize example.
pub fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join(EXAMPLE), dir.path());
    dir
}

/// Replace `from` (which must occur) in `dir/file`.
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let old = std::fs::read_to_string(&path).unwrap();
    assert!(old.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(&path, old.replacen(from, to, 1)).unwrap();
}

/// The decoded `.dockerconfigjson` kubectl would write for the test login.
pub fn expected_auths(server: &str) -> Value {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{TEST_PASSWORD}"));
    json!({"auths": {server: {"username": USER, "password": TEST_PASSWORD, "auth": auth}}})
}

/// Check a pull Secret and return its decoded `.dockerconfigjson`.
pub fn pull_secret_auths(secret: &Value) -> Value {
    assert_eq!(secret["apiVersion"], "v1");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson", "{secret}");
    let data = secret["data"][".dockerconfigjson"]
        .as_str()
        .unwrap_or_else(|| panic!("no .dockerconfigjson in {secret}"));
    let json = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    serde_json::from_slice(&json).unwrap()
}

/// Append `name` to the imagePullSecrets of the pod spec at `pointer` in `doc`.
pub fn add_pull_secret(doc: &mut Value, pointer: &str, name: &str) {
    let spec = doc
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no pod spec at {pointer}"));
    let list = spec
        .as_object_mut()
        .unwrap()
        .entry("imagePullSecrets")
        .or_insert_with(|| json!([]));
    list.as_array_mut().unwrap().push(json!({ "name": name }));
}

fn id(kind: &str, namespace: &str, name: &str) -> (String, String, String) {
    (kind.into(), namespace.into(), name.into())
}

/// What the kustomize example must render to: kustomize's own output without the transformer,
/// with `shop-pull` added to the two pods pulling from registry.example.com, and the Secret.
pub fn expected_example(baseline: &str) -> BTreeMap<(String, String, String), Value> {
    let mut want = by_id(docs(baseline));
    let web = want.get_mut(&id("Deployment", "shop", "web")).unwrap();
    add_pull_secret(web, "/spec/template/spec", "shop-pull");
    let report = want.get_mut(&id("CronJob", "shop", "report")).unwrap();
    add_pull_secret(report, "/spec/jobTemplate/spec/template/spec", "shop-pull");
    want
}

/// Compare an output with [`expected_example`]: every resource equal, plus the one Secret.
pub fn assert_example_output(got: &str, baseline: &str) {
    let mut got = by_id(docs(got));
    let secret = got
        .remove(&id("Secret", "shop", "shop-pull"))
        .unwrap_or_else(|| panic!("no Secret shop/shop-pull in {:?}", got.keys()));
    assert_eq!(
        pull_secret_auths(&secret),
        expected_auths("registry.example.com")
    );
    let want = expected_example(baseline);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (key, doc) in &want {
        assert_eq!(&got[key], doc, "{key:?} differs");
    }
}

/// Kustomize's output for the example without the transformer: the baseline.
pub fn example_baseline() -> String {
    let plain = example_copy();
    edit(
        plain.path(),
        "kustomization.yaml",
        "transformers:\n  - regcred.yaml\n",
        "",
    );
    kustomize_ok(plain.path(), None)
}

#[test]
fn example_gets_pull_secrets_and_secret_and_the_rest_passes_through() {
    let home = install_plugin(&[]);
    let got = kustomize_ok(&repo().join(EXAMPLE), Some(home.path()));
    assert_example_output(&got, &example_baseline());
}

#[test]
fn copied_plugin_outlives_the_build() {
    // --copy: the plugin directory holds its own binary, as in a container image.
    let home = install_plugin(&["--copy"]);
    let dir = home
        .path()
        .canonicalize()
        .unwrap()
        .join("helm-regcred/v1/regcredconfig");
    let script = std::fs::read_to_string(dir.join("RegcredConfig")).unwrap();
    assert!(
        script.contains(&format!("'{}'", dir.join("helm-regcred").display())),
        "{script}"
    );
    let got = kustomize_ok(&repo().join(EXAMPLE), Some(home.path()));
    assert_example_output(&got, &example_baseline());
}

#[test]
fn second_run_changes_nothing() {
    let home = install_plugin(&[]);
    let first = kustomize_ok(&repo().join(EXAMPLE), Some(home.path()));
    // The first output as the only resource of a kustomization with the same transformer.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("all.yaml"), &first).unwrap();
    std::fs::copy(
        repo().join(EXAMPLE).join("regcred.yaml"),
        dir.path().join("regcred.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "namespace: shop\nresources: [all.yaml]\ntransformers: [regcred.yaml]\n",
    )
    .unwrap();
    let second = kustomize_ok(dir.path(), Some(home.path()));
    assert_eq!(second, first);
}

#[test]
fn bad_config_fails_naming_the_field() {
    let home = install_plugin(&[]);
    let dir = example_copy();
    edit(
        dir.path(),
        "regcred.yaml",
        "    secret: shop-pull",
        "    secrte: shop-pull",
    );
    let out = kustomize(dir.path(), Some(home.path()));
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown field `secrte`"), "{stderr}");
    assert!(stderr.contains("did you mean `secret`?"), "{stderr}");

    // A missing login fails too, naming the variable (never a value).
    let out = Command::new(kubectl())
        .args(["kustomize", "--enable-alpha-plugins"])
        .arg(repo().join(EXAMPLE))
        .env("KUSTOMIZE_PLUGIN_HOME", home.path())
        .env("REGISTRY_USER", USER)
        .env_remove("REGISTRY_PASSWORD")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("password environment variable REGISTRY_PASSWORD is not set"),
        "{stderr}"
    );
}

/// A base/overlay pair built from the example's resources, for the namespace-order cases.
struct Layout {
    dir: tempfile::TempDir,
}

impl Layout {
    /// `base/` holds the example's resources (no namespace); `extra` is appended to its
    /// kustomization, `overlay` is the overlay's whole kustomization.
    fn new(base_extra: &str, overlay: &str) -> Layout {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base");
        copy_dir(&repo().join(EXAMPLE), &base);
        std::fs::write(
            base.join("kustomization.yaml"),
            format!("resources: [web.yaml, report.yaml, cache.yaml, config.yaml]\n{base_extra}"),
        )
        .unwrap();
        let overlay_dir = dir.path().join("overlay");
        std::fs::create_dir(&overlay_dir).unwrap();
        std::fs::copy(base.join("regcred.yaml"), overlay_dir.join("regcred.yaml")).unwrap();
        std::fs::write(overlay_dir.join("kustomization.yaml"), overlay).unwrap();
        Layout { dir }
    }

    fn overlay(&self) -> PathBuf {
        self.dir.path().join("overlay")
    }

    /// Put the CronJob in its own namespace in the base.
    fn report_in(&self, namespace: &str) {
        edit(
            &self.dir.path().join("base"),
            "report.yaml",
            "  name: report\n",
            &format!("  name: report\n  namespace: {namespace}\n"),
        );
    }
}

/// docs/kustomize.md, order 1: the transformer beside `namespace:`. Kustomize runs the
/// built-in namespace transformer first, so one Secret lands in the final namespace.
#[test]
fn transformer_beside_namespace_sees_the_final_namespace() {
    let home = install_plugin(&[]);
    let layout = Layout::new(
        "",
        "namespace: prod\nresources: [../base]\ntransformers: [regcred.yaml]\n",
    );
    layout.report_in("reports");
    let got = by_id(docs(&kustomize_ok(&layout.overlay(), Some(home.path()))));
    let secrets: Vec<_> = got.keys().filter(|k| k.0 == "Secret").collect();
    assert_eq!(secrets, [&id("Secret", "prod", "shop-pull")]);
    let report = &got[&id("CronJob", "prod", "report")];
    assert_eq!(
        report["spec"]["jobTemplate"]["spec"]["template"]["spec"]["imagePullSecrets"],
        json!([{"name": "reports-pull"}, {"name": "shop-pull"}])
    );
}

/// Order 2: the transformer in a base without namespaces, `namespace:` (and `namePrefix:`) in
/// an overlay: the Secret is a resource like the others, so it moves and is renamed with
/// them, and kustomize renames the references.
#[test]
fn namespace_and_prefix_in_an_overlay_carry_the_secret_along() {
    let home = install_plugin(&[]);
    let layout = Layout::new(
        "transformers: [regcred.yaml]\n",
        "namespace: prod\nnamePrefix: eu-\nresources: [../base]\n",
    );
    let got = by_id(docs(&kustomize_ok(&layout.overlay(), Some(home.path()))));
    let secret = &got[&id("Secret", "prod", "eu-shop-pull")];
    assert_eq!(
        pull_secret_auths(secret),
        expected_auths("registry.example.com")
    );
    let web = &got[&id("Deployment", "prod", "eu-web")];
    assert_eq!(
        web["spec"]["template"]["spec"]["imagePullSecrets"],
        json!([{"name": "eu-shop-pull"}])
    );
    assert_eq!(got.keys().filter(|k| k.0 == "Secret").count(), 1);
}

/// The order that does not work: a base spanning two namespaces runs the transformer (one
/// Secret per namespace), then an overlay's `namespace:` folds them into one namespace.
#[test]
fn namespace_after_a_multi_namespace_base_conflicts() {
    let home = install_plugin(&[]);
    let layout = Layout::new(
        "transformers: [regcred.yaml]\n",
        "namespace: prod\nresources: [../base]\n",
    );
    layout.report_in("reports");
    let out = kustomize(&layout.overlay(), Some(home.path()));
    assert!(!out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("ID conflict"),
        "{}",
        text(&out.stderr)
    );
}

/// Some resources with a namespace, others without (they will be applied to the same one):
/// `argsOneLiner: --namespace shop` makes that one Secret, not two spellings of it.
#[test]
fn args_one_liner_namespace_merges_the_secrets() {
    let home = install_plugin(&[]);
    let dir = example_copy();
    edit(dir.path(), "kustomization.yaml", "namespace: shop\n", "");
    edit(
        dir.path(),
        "report.yaml",
        "  name: report\n",
        "  name: report\n  namespace: shop\n",
    );
    let secrets = |out: &str| -> Vec<(String, String, String)> {
        by_id(docs(out))
            .into_keys()
            .filter(|k| k.0 == "Secret")
            .collect()
    };
    let two = kustomize_ok(dir.path(), Some(home.path()));
    assert_eq!(
        secrets(&two),
        [
            id("Secret", "", "shop-pull"),
            id("Secret", "shop", "shop-pull")
        ]
    );
    edit(
        dir.path(),
        "regcred.yaml",
        "metadata:\n  name: regcred\n",
        "metadata:\n  name: regcred\nargsOneLiner: --namespace shop\n",
    );
    let one = kustomize_ok(dir.path(), Some(home.path()));
    assert_eq!(secrets(&one).len(), 1, "{one}");
}

#[test]
fn install_script_help_and_bad_binary() {
    let script = repo().join("scripts/install-kustomize-plugin");
    let out = Command::new(&script).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("regcredconfig/RegcredConfig"));
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(&script)
        .args(["--bin", "/bin/true", "--plugin-home"])
        .arg(home.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("does not have the 'kustomize' command"),
        "{}",
        text(&out.stderr)
    );
}
