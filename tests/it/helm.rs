//! The real Helm binaries calling helm-regcred as a post-renderer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{TEST_PASSWORD, bin, tool};

/// A Helm command isolated in its own config/cache/data dirs, so nothing of the user's leaks in.
pub struct Helm {
    pub bin: PathBuf,
    pub home: tempfile::TempDir,
}

impl Helm {
    pub fn v3() -> Helm {
        Helm::new(tool(
            "HELM3_BIN",
            "/root/.cache/helm-regcred/tools/helm3/helm",
        ))
    }

    fn new(bin: PathBuf) -> Helm {
        Helm {
            bin,
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        let home = self.home.path();
        cmd.current_dir(repo())
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("HELM_PLUGINS", home.join("plugins"))
            .env_remove("HELM_REGCRED_RULES")
            .env_remove("HELM_NAMESPACE")
            .env("REGISTRY_USER", "robot")
            .env("REGISTRY_PASSWORD", TEST_PASSWORD);
        cmd
    }
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const CHART: &str = "examples/charts/demo";
const RULES: &str = "examples/charts/demo/regcred.yaml";

fn helm3_template(helm: &Helm, rules: &str, extra: &[&str]) -> Output {
    helm.cmd()
        .args([
            "template",
            "demo",
            CHART,
            "--namespace",
            "demo-ns",
            "--post-renderer",
        ])
        .arg(bin())
        .args([
            "--post-renderer-args",
            "post-render",
            "--post-renderer-args",
            "--rules",
        ])
        .args(["--post-renderer-args", rules])
        .args(extra)
        .output()
        .unwrap()
}

/// Split `helm template` output into (source, document text) pairs.
fn documents(text: &str) -> Vec<(String, String)> {
    text.split("\n---\n")
        .map(|d| d.trim_start_matches("---\n"))
        .filter(|d| d.contains("kind:"))
        .map(|d| {
            let source = d
                .lines()
                .find_map(|l| l.strip_prefix("# Source: "))
                .unwrap_or("")
                .to_string();
            (source, d.to_string())
        })
        .collect()
}

#[test]
fn helm3_template_with_post_renderer() {
    let helm = Helm::v3();
    let out = helm3_template(&helm, RULES, &[]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(!stdout.contains(TEST_PASSWORD) && !stderr.contains(TEST_PASSWORD));

    let docs = documents(&stdout);
    let (first_source, first) = &docs[0];
    assert_eq!(
        first_source, "helm-regcred/pull-secrets.yaml",
        "the Secret comes first"
    );
    assert!(
        first.contains("kind: Secret") && first.contains("name: demo-pull"),
        "{first}"
    );
    assert!(first.contains("type: kubernetes.io/dockerconfigjson"));

    // Every non-hook workload that pulls from the private registry has the pull secret. Helm 3
    // never post-renders hooks, so the pre-install hook Job is printed as the chart wrote it.
    let mut checked = 0;
    for (source, doc) in &docs {
        let private = doc.contains("image: registry.example.com/")
            || doc.contains("image: \"registry.example.com/");
        let hook = doc.contains("helm.sh/hook");
        if !private {
            continue;
        }
        if hook {
            assert!(
                !doc.contains("demo-pull"),
                "Helm 3 does not post-render hooks: {source}"
            );
        } else {
            assert!(
                doc.contains("- name: demo-pull"),
                "{source} has no pull secret:\n{doc}"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 4,
        "the demo chart has several private workloads, checked {checked}"
    );
}

#[test]
fn helm3_show_only_selects_the_added_secret() {
    let helm = Helm::v3();
    // Helm matches --show-only against the `# Source:` path minus its first component (the
    // chart name), so `# Source: helm-regcred/pull-secrets.yaml` is `pull-secrets.yaml`.
    let out = helm3_template(&helm, RULES, &["--show-only", "pull-secrets.yaml"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs = documents(&stdout);
    assert_eq!(docs.len(), 1, "{stdout}");
    assert!(docs[0].1.contains("kind: Secret"));
}

#[test]
fn helm3_shows_the_reason_of_a_failure() {
    let helm = Helm::v3();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("regcred.yaml");
    std::fs::write(&rules, "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: demo-pull\n    credentialz: {}\n").unwrap();
    let out = helm3_template(&helm, rules.to_str().unwrap(), &[]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "Helm prints no manifests on failure");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("error while running post render"),
        "{stderr}"
    );
    assert!(stderr.contains("regcred.yaml:6:5"), "{stderr}");
    assert!(stderr.contains("credentialz"), "{stderr}");
}
