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

    pub fn v4() -> Helm {
        Helm::new(tool(
            "HELM4_BIN",
            "/root/.cache/helm-regcred/tools/helm4/helm",
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
        self.isolate(&mut cmd);
        cmd
    }

    /// The environment of `cmd()`, for other programs that run Helm (scripts/install-plugin).
    /// No kubeconfig of the user's, no state file of the user's (`helm regcred last-error`).
    pub fn isolate(&self, cmd: &mut Command) {
        let home = self.home.path();
        cmd.current_dir(repo())
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            // Helm's default for this data home: Helm 4.1 installs plugins there whatever
            // HELM_PLUGINS says, but loads them from HELM_PLUGINS.
            .env("HELM_PLUGINS", home.join("data/plugins"))
            .env("KUBECONFIG", home.join("no-kubeconfig"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env_remove("HELM_REGCRED_RULES")
            .env_remove("HELM_REGCRED_BINARY")
            .env_remove("HELM_NAMESPACE")
            .env_remove("HELM_BIN")
            .env_remove("NO_COLOR")
            .env("REGISTRY_USER", "robot")
            .env("REGISTRY_PASSWORD", TEST_PASSWORD);
    }

    /// `scripts/install-plugin ARGS` for this Helm, with the test build as the plugins' binary
    /// (`HELM_REGCRED_BINARY`) and a PATH without any other Helm or cargo.
    pub fn install_plugin(&self, args: &[&str]) -> Output {
        self.install_plugin_with_path(args, "/usr/bin:/bin")
    }

    pub fn install_plugin_with_path(&self, args: &[&str], path: &str) -> Output {
        let mut cmd = Command::new(repo().join("scripts/install-plugin"));
        self.isolate(&mut cmd);
        cmd.args(args)
            .env("HELM_BIN", &self.bin)
            .env("HELM_REGCRED_BINARY", bin())
            .env("PATH", path)
            .output()
            .unwrap()
    }

    /// Install the plugins and fail the test if that fails.
    pub fn with_plugins(self, args: &[&str]) -> Helm {
        let out = self.install_plugin(args);
        assert!(
            out.status.success(),
            "install-plugin failed:\n{}",
            text(&out.stderr)
        );
        self
    }

    /// `helm ...` as a user with the plugins installed runs it: the plugins' launcher runs the
    /// test build.
    pub fn user(&self) -> Command {
        let mut cmd = self.cmd();
        cmd.env("HELM_REGCRED_BINARY", bin());
        cmd
    }

    /// `helm plugin list`, which also proves every installed plugin loads.
    pub fn plugin_list(&self) -> String {
        let out = self.cmd().args(["plugin", "list"]).output().unwrap();
        assert!(
            out.status.success(),
            "helm plugin list failed: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    pub fn state_dir(&self) -> PathBuf {
        self.home.path().join("state/helm-regcred")
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A read-only stand-in for a Kubernetes API server: discovery for the kinds the demo chart
/// renders, `objects` (URL path -> JSON) as existing objects, 404 for every other GET and 405 for
/// any write. Only for Helm 3's `install --dry-run=client`, which contacts the cluster despite its
/// help text (helm/helm#13144): it needs discovery and looks up each object it would create,
/// which is exactly where Helm checks ownership.
pub struct FakeApi {
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl FakeApi {
    pub fn start(objects: Vec<(String, String)>) -> FakeApi {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let objects = objects.clone();
                std::thread::spawn(move || fake_api_serve(stream, &objects));
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"http://127.0.0.1:{port}\"}}}}]\ncontexts: [{{name: c, context: {{cluster: c}}}}]\ncurrent-context: c\nusers: [{{name: u, user: {{}}}}]\n"
            ),
        )
        .unwrap();
        FakeApi {
            kubeconfig,
            _dir: dir,
        }
    }
}

fn fake_api_serve(mut stream: std::net::TcpStream, objects: &[(String, String)]) {
    use std::io::{Read, Write};
    let mut request = Vec::new();
    let mut chunk = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&request);
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let resources = |gv: &str, list: &[(&str, &str)]| {
        let items: Vec<String> = list
            .iter()
            .map(|(name, kind)| format!("{{\"name\":\"{name}\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"{kind}\",\"verbs\":[\"get\",\"list\",\"create\",\"patch\",\"delete\"]}}"))
            .collect();
        format!(
            "{{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"{gv}\",\"resources\":[{}]}}",
            items.join(",")
        )
    };
    let group = |g: &str| {
        format!(
            "{{\"name\":\"{g}\",\"versions\":[{{\"groupVersion\":\"{g}/v1\",\"version\":\"v1\"}}],\"preferredVersion\":{{\"groupVersion\":\"{g}/v1\",\"version\":\"v1\"}}}}"
        )
    };
    let (status, body) = match (method, path) {
        ("GET", "/version") => ("200 OK", r#"{"major":"1","minor":"32","gitVersion":"v1.32.0","platform":"linux/amd64"}"#.to_string()),
        ("GET", "/api") => ("200 OK", r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[]}"#.to_string()),
        ("GET", "/apis") => ("200 OK", format!("{{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[{},{}]}}", group("apps"), group("batch"))),
        ("GET", "/api/v1") => ("200 OK", resources("v1", &[("secrets", "Secret"), ("configmaps", "ConfigMap"), ("services", "Service"), ("serviceaccounts", "ServiceAccount"), ("pods", "Pod")])),
        ("GET", "/apis/apps/v1") => ("200 OK", resources("apps/v1", &[("deployments", "Deployment"), ("statefulsets", "StatefulSet"), ("daemonsets", "DaemonSet")])),
        ("GET", "/apis/batch/v1") => ("200 OK", resources("batch/v1", &[("jobs", "Job"), ("cronjobs", "CronJob")])),
        ("GET", p) => match objects.iter().find(|(at, _)| at == p) {
            Some((_, json)) => ("200 OK", json.clone()),
            None => ("404 Not Found", r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#.to_string()),
        },
        _ => ("405 Method Not Allowed", r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"MethodNotAllowed","code":405}"#.to_string()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub const CHART: &str = "examples/charts/demo";
pub const RULES: &str = "examples/charts/demo/regcred.yaml";

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
pub fn documents(text: &str) -> Vec<(String, String)> {
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

/// A successful run's stdout and stderr; fails the test on a non-zero exit or a leaked password.
pub fn ok(out: &Output) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "failed: {stderr}\n{stdout}");
    assert!(
        !stdout.contains(TEST_PASSWORD) && !stderr.contains(TEST_PASSWORD),
        "password leaked"
    );
    (stdout, stderr)
}

/// A throwaway chart named `name` with these `templates/` files.
pub fn temp_chart(name: &str, templates: &[(&str, &str)]) -> tempfile::TempDir {
    let chart = tempfile::tempdir().unwrap();
    std::fs::create_dir(chart.path().join("templates")).unwrap();
    std::fs::write(
        chart.path().join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )
    .unwrap();
    for (file, text) in templates {
        std::fs::write(chart.path().join("templates").join(file), text).unwrap();
    }
    chart
}
