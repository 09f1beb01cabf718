//! helm-regcred as a KRM function run by the real kpt: `kpt fn eval --exec` (imperative) and
//! `kpt fn render` with the `examples/kpt` Kptfile pipeline (declarative).
//!
//! "The same result" is checked against Kustomize: the kpt example holds the kustomize
//! example's resources (with their namespace written out instead of set by a kustomization),
//! so both must render to the same resources.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::kustomize::{
    USER, assert_example_output, copy_dir, docs, edit, example_baseline, repo, text,
};
use crate::util::{TEST_PASSWORD, assert_no_password, bin, tool};

const EXAMPLE: &str = "examples/kpt";

fn kpt() -> PathBuf {
    tool("KPT_BIN", "/usr/bin/kpt")
}

/// A temp copy of the kpt example, and a directory with `helm-regcred` (the test build) for
/// PATH: the Kptfile's `exec: helm-regcred krm` is looked up there.
struct Package {
    dir: tempfile::TempDir,
    path_dir: tempfile::TempDir,
}

impl Package {
    fn new() -> Package {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join(EXAMPLE), dir.path());
        let path_dir = tempfile::tempdir().unwrap();
        symlink(bin(), path_dir.path().join("helm-regcred")).unwrap();
        Package { dir, path_dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn kpt(&self) -> Command {
        let mut cmd = Command::new(kpt());
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![self.path_dir.path().to_path_buf()];
        dirs.extend(std::env::split_paths(&path));
        cmd.env("PATH", std::env::join_paths(dirs).unwrap())
            .env_remove("HELM_REGCRED_RULES")
            .env("REGISTRY_USER", USER)
            .env("REGISTRY_PASSWORD", TEST_PASSWORD)
            // The function's rules come from the package: untrusted, so whoever runs kpt
            // names the variables they may read (examples/kpt/README.md).
            .env("HELM_REGCRED_ALLOW_ENV", "REGISTRY_USER,REGISTRY_PASSWORD");
        cmd
    }

    /// `kpt fn eval PKG --exec "<test build> krm" ARGS...`
    fn eval(&self, args: &[&str]) -> Output {
        let out = self
            .kpt()
            .args(["fn", "eval"])
            .arg(self.path())
            .arg("--exec")
            .arg(format!("{} krm", bin().display()))
            .args(args)
            .output()
            .unwrap();
        assert_no_password(&out);
        out
    }

    /// `kpt fn render PKG --allow-exec ARGS...`
    fn render(&self, args: &[&str]) -> Output {
        let out = self
            .kpt()
            .args(["fn", "render"])
            .arg(self.path())
            .arg("--allow-exec")
            .args(args)
            .output()
            .unwrap();
        assert_no_password(&out);
        out
    }

    fn fn_config(&self) -> String {
        self.path().join("regcred.yaml").display().to_string()
    }

    /// Every file of the package, by relative path.
    fn files(&self) -> BTreeMap<PathBuf, String> {
        let mut files = BTreeMap::new();
        collect(self.path(), self.path(), &mut files);
        files
    }
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let text = std::fs::read_to_string(&path).unwrap();
            files.insert(path.strip_prefix(root).unwrap().to_path_buf(), text);
        }
    }
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    text(&out.stdout)
}

/// kpt's `-o unwrap` output as a plain stream of the resources that would be applied: the
/// local-config ones (Kptfile, the function config) dropped, kpt's bookkeeping annotations
/// removed, so it compares with what kustomize renders.
fn applied_resources(unwrapped: &str) -> String {
    let mut out = Vec::new();
    for mut doc in docs(unwrapped) {
        let annotations = doc.pointer("/metadata/annotations").cloned();
        if annotations
            .as_ref()
            .and_then(|a| a.get("config.kubernetes.io/local-config"))
            .is_some_and(|v| v == "true")
        {
            continue;
        }
        if let Some(Value::Object(map)) = doc.pointer_mut("/metadata/annotations") {
            map.retain(|k, _| {
                !k.starts_with("config.kubernetes.io/")
                    && !k.starts_with("internal.config.kubernetes.io/")
                    && !k.starts_with("config.k8s.io/")
            });
            if map.is_empty() {
                doc["metadata"]
                    .as_object_mut()
                    .unwrap()
                    .remove("annotations");
            }
        }
        out.push(serde_json::to_string(&doc).unwrap());
    }
    // JSON documents are YAML documents.
    out.join("\n---\n")
}

#[test]
fn eval_with_fn_config_gives_the_kustomize_result() {
    let pkg = Package::new();
    let out = pkg.eval(&["--fn-config", &pkg.fn_config(), "-o", "unwrap"]);
    let got = ok(&out, "kpt fn eval");
    assert_example_output(&applied_resources(&got), &example_baseline());
}

#[test]
fn eval_with_rules_path_config_map_gives_the_same() {
    // `-- rules=PATH` makes kpt pass a ConfigMap functionConfig naming the rules file; kpt
    // runs the function in its own working directory, so the path is absolute here.
    // Untrusted rules named by path must be under the working directory (or an allowed
    // directory): run from the package's parent, as the README does from the repository.
    let pkg = Package::new();
    let parent = pkg.path().parent().unwrap();
    let rules = format!(
        "rules={}",
        Path::new(pkg.path().file_name().unwrap())
            .join("regcred.yaml")
            .display()
    );
    let out = pkg
        .kpt()
        .current_dir(parent)
        .args(["fn", "eval"])
        .arg(pkg.path())
        .arg("--exec")
        .arg(format!("{} krm", bin().display()))
        .args(["-o", "unwrap", "--", &rules])
        .output()
        .unwrap();
    assert_no_password(&out);
    let got = ok(&out, "kpt fn eval -- rules=");
    assert_example_output(&applied_resources(&got), &example_baseline());
}

#[test]
fn eval_with_rules_flag_or_regcred_yaml_in_the_working_directory() {
    // kpt always sends a functionConfig (a ConfigMap with no data without --fn-config): it
    // names no rules, so `--rules FILE`, else ./regcred.yaml, applies.
    let pkg = Package::new();
    let out = pkg
        .kpt()
        .current_dir(pkg.path()) // untrusted rules must be under the working directory
        .args(["fn", "eval"])
        .arg(pkg.path())
        .arg("--exec")
        .arg(format!(
            "{} krm --rules {}",
            bin().display(),
            pkg.fn_config()
        ))
        .args(["-o", "unwrap"])
        .output()
        .unwrap();
    let got = ok(&out, "kpt fn eval --exec 'krm --rules FILE'");
    assert_example_output(&applied_resources(&got), &example_baseline());
    let out = pkg
        .kpt()
        .current_dir(pkg.path())
        .args(["fn", "eval", "--exec", "helm-regcred krm", "-o", "unwrap"])
        .output()
        .unwrap();
    let got = ok(&out, "kpt fn eval --exec 'helm-regcred krm' in the package");
    assert_example_output(&applied_resources(&got), &example_baseline());
    let empty = tempfile::tempdir().unwrap();
    let out = pkg
        .kpt()
        .current_dir(empty.path())
        .args(["fn", "eval"])
        .arg(pkg.path())
        .args(["--exec", "helm-regcred krm", "-o", "unwrap"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(err.contains("helm-regcred krm --rules FILE"), "{err}");
}

#[test]
fn render_gives_the_same_and_keeps_untouched_files_byte_for_byte() {
    let pkg = Package::new();
    let out = pkg.render(&["-o", "unwrap"]);
    let got = ok(&out, "kpt fn render -o unwrap");
    assert_example_output(&applied_resources(&got), &example_baseline());
    // -o unwrap writes nothing back.
    let before = pkg.files();
    let original = {
        let mut files = BTreeMap::new();
        collect(&repo().join(EXAMPLE), &repo().join(EXAMPLE), &mut files);
        files
    };
    assert_eq!(before, original);

    // In place: kpt writes every item back to its file.
    ok(&pkg.render(&[]), "kpt fn render");
    let after = pkg.files();
    for (path, old) in &original {
        let new = &after[path];
        match path.to_str().unwrap() {
            // The two changed resources: only lines added, every original line (comments
            // included) still there, in order.
            "web.yaml" | "report.yaml" => {
                assert_ne!(new, old, "{}", path.display());
                let mut new_lines = new.lines();
                for line in old.lines() {
                    assert!(
                        new_lines.any(|l| l == line),
                        "{}: line {line:?} lost or moved:\n{new}",
                        path.display()
                    );
                }
                assert!(new.contains("- name: shop-pull"), "{new}");
            }
            // Everything else, the untouched resources and their comments: byte for byte.
            _ => assert_eq!(new, old, "{} changed", path.display()),
        }
    }
    let added: Vec<_> = after
        .keys()
        .filter(|p| !original.contains_key(*p))
        .collect();
    assert_eq!(added.len(), 1, "{added:?}");
    let secret = &after[added[0]];
    assert!(secret.contains("kind: Secret") && secret.contains("name: shop-pull"));

    // Idempotence: a second render changes no file.
    ok(&pkg.render(&[]), "second kpt fn render");
    assert_eq!(pkg.files(), after);
}

#[test]
fn render_with_inline_config_map_reads_rules_relative_to_the_package() {
    // `configMap: {rules: regcred.yaml}` in the Kptfile: kpt runs the function in its own
    // working directory (the repository here), the path still means the package's file.
    let pkg = Package::new();
    edit(
        pkg.path(),
        "Kptfile",
        "      configPath: regcred.yaml",
        "      configMap: {rules: regcred.yaml}",
    );
    let out = pkg.render(&["-o", "unwrap"]);
    let got = ok(&out, "kpt fn render with configMap");
    assert_example_output(&applied_resources(&got), &example_baseline());
}

#[test]
fn eval_in_place_keeps_comments_and_second_run_changes_nothing() {
    let pkg = Package::new();
    ok(
        &pkg.eval(&["--fn-config", &pkg.fn_config()]),
        "kpt fn eval (in place)",
    );
    let once = pkg.files();
    for untouched in ["cache.yaml", "config.yaml", "Kptfile"] {
        let original = std::fs::read_to_string(repo().join(EXAMPLE).join(untouched)).unwrap();
        assert_eq!(once[Path::new(untouched)], original, "{untouched} changed");
    }
    let web = &once[Path::new("web.yaml")];
    assert!(web.contains("image: registry.example.com/shop/web:2.3.1 # the same image, serving"));
    let out = pkg.eval(&["--fn-config", &pkg.fn_config()]);
    ok(&out, "second kpt fn eval");
    assert_eq!(pkg.files(), once);
    // The second run reports nothing added.
    assert!(
        !text(&out.stderr).contains("added"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_function_config_fails_naming_the_field() {
    let pkg = Package::new();
    edit(pkg.path(), "regcred.yaml", "registries:", "registriez:");
    let out = pkg.eval(&["--fn-config", &pkg.fn_config(), "-o", "unwrap"]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    // kpt shows the function's results (an error on the RegcredConfig) and its stderr.
    assert!(
        stderr.contains("[error] helm-regcred/v1/RegcredConfig/regcred"),
        "{stderr}"
    );
    assert!(stderr.contains("unknown field `registriez`"), "{stderr}");
    assert!(stderr.contains("did you mean `registries`?"), "{stderr}");

    // The declarative pipeline reads the same file: render fails the same way.
    let out = pkg.render(&["-o", "unwrap"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown field `registriez`"));

    let pkg = Package::new();
    let out = pkg.eval(&["-o", "unwrap", "--", "rulez=regcred.yaml"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`functionConfig.data.rulez`"), "{stderr}");
}

#[test]
fn missing_login_fails_with_a_result_and_writes_nothing() {
    let pkg = Package::new();
    let out = pkg
        .kpt()
        .args(["fn", "eval"])
        .arg(pkg.path())
        .arg("--exec")
        .arg(format!("{} krm", bin().display()))
        .args(["--fn-config", &pkg.fn_config()])
        .env_remove("REGISTRY_PASSWORD")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("password environment variable REGISTRY_PASSWORD is not set"),
        "{stderr}"
    );
    let mut original = BTreeMap::new();
    collect(&repo().join(EXAMPLE), &repo().join(EXAMPLE), &mut original);
    assert_eq!(pkg.files(), original);
}

#[test]
fn problems_in_items_are_results_on_the_resource() {
    let pkg = Package::new();
    edit(
        pkg.path(),
        "report.yaml",
        "          imagePullSecrets:\n            - name: reports-pull\n",
        "          imagePullSecrets: reports-pull\n",
    );
    let out = pkg.eval(&["--fn-config", &pkg.fn_config(), "-o", "unwrap"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "[error] batch/v1/CronJob/shop/report spec.jobTemplate.spec.template.spec.imagePullSecrets:"
        ),
        "{stderr}"
    );
}

#[test]
fn not_a_resource_list_fails() {
    let out = crate::util::run_with_stdin(
        {
            let mut cmd = crate::util::regcred();
            cmd.arg("krm");
            cmd
        },
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("not a KRM ResourceList: its kind is `ConfigMap`"),
        "{}",
        text(&out.stderr)
    );
}

/// The package's rules with `credentials:` (and the secret name) replaced.
fn hostile_package(credentials: &str, secret: &str) -> Package {
    let pkg = Package::new();
    edit(
        pkg.path(),
        "regcred.yaml",
        "      env: {username: REGISTRY_USER, password: REGISTRY_PASSWORD}\n",
        &format!("      {credentials}\n"),
    );
    edit(
        pkg.path(),
        "regcred.yaml",
        "    secret: shop-pull\n",
        &format!("    secret: {secret}\n"),
    );
    pkg
}

/// A package's rules are untrusted in the KRM function: they read only what whoever runs kpt
/// allowed (here the two variables of the example), not the machine's files, environment or
/// other rules files. Each refusal is an error result on the config and writes nothing.
#[test]
fn package_rules_are_untrusted_by_default() {
    let mut original = BTreeMap::new();
    collect(&repo().join(EXAMPLE), &repo().join(EXAMPLE), &mut original);
    for (credentials, secret, expected) in [
        (
            "file: /proc/self/environ",
            "shop-pull",
            "the rules are untrusted and may not read /proc/self/environ",
        ),
        (
            "file: ../../../../../../../etc/passwd",
            "shop-pull",
            "may not read ../../../../../../../etc/passwd",
        ),
        (
            "env: {username: HOME, password: REGISTRY_PASSWORD}",
            "shop-pull",
            "may not read environment variable HOME",
        ),
        (
            "dockerConfig: /root/.docker/config.json",
            "shop-pull",
            "may not read /root/.docker/config.json",
        ),
        (
            "env: {username: REGISTRY_USER, password: REGISTRY_PASSWORD}",
            "\"{{ env.REGISTRY_PASSWORD }}\"",
            "templates may not read `env.REGISTRY_PASSWORD`",
        ),
    ] {
        let pkg = hostile_package(credentials, secret);
        let out = pkg.eval(&["--fn-config", &pkg.fn_config()]);
        assert!(!out.status.success(), "{credentials}");
        let stderr = text(&out.stderr);
        // A result: on the config for sources, on the resource for a template.
        assert!(stderr.contains("[error] "), "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(!stderr.contains("PATH="), "{stderr}");
        let mut files = pkg.files();
        files.remove(Path::new("regcred.yaml"));
        let mut want = original.clone();
        want.remove(Path::new("regcred.yaml"));
        assert_eq!(files, want, "{credentials}: the package was changed");
    }

    // A rules file named by path must be where kpt runs, or allowed: not any file.
    let pkg = Package::new();
    let out = pkg.eval(&["-o", "unwrap", "--", "rules=/etc/passwd"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the rules file /etc/passwd is not under the working directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("root:"), "{stderr}");
}

/// Whoever runs kpt grants more: a directory of login files, or `--trust trusted`.
#[test]
fn whoever_runs_kpt_allows_more() {
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(
        creds.path().join("login"),
        format!("{USER}:{TEST_PASSWORD}\n"),
    )
    .unwrap();
    let pkg = hostile_package(
        &format!("file: {}", creds.path().join("login").display()),
        "shop-pull",
    );
    let out = pkg
        .kpt()
        .args(["fn", "eval"])
        .arg(pkg.path())
        .arg("--exec")
        .arg(format!("{} krm", bin().display()))
        .args(["--fn-config", &pkg.fn_config(), "-o", "unwrap"])
        .env("HELM_REGCRED_ALLOW_DIR", creds.path())
        .output()
        .unwrap();
    assert_no_password(&out);
    let got = ok(&out, "kpt fn eval with --allow-dir");
    assert_example_output(&applied_resources(&got), &example_baseline());

    // Trusted on the exec line: the variables need no allow-list.
    let pkg = Package::new();
    let out = pkg
        .kpt()
        .args(["fn", "eval"])
        .arg(pkg.path())
        .arg("--exec")
        .arg(format!("{} krm --trust trusted", bin().display()))
        .args(["--fn-config", &pkg.fn_config(), "-o", "unwrap"])
        .env_remove("HELM_REGCRED_ALLOW_ENV")
        .output()
        .unwrap();
    assert_no_password(&out);
    let got = ok(&out, "kpt fn eval --trust trusted");
    assert_example_output(&applied_resources(&got), &example_baseline());
}
