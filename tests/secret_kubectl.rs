//! The pull Secret must be byte-identical to what `kubectl create secret docker-registry`
//! produces, so these tests run the real kubectl (client-side dry run, no cluster needed).
//!
//! A missing kubectl is a failure, not a skip: a skipped comparison would let an encoding
//! regression through unnoticed.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use helm_regcred::registry::secret::{Payload, RegistryAuth, SecretManifest, docker_config_json};
use serde_json::Value;

fn kubectl_path() -> PathBuf {
    let path = std::env::var_os("KUBECTL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/kubectl"));
    assert!(
        path.is_file(),
        "kubectl not found at {}: run scripts/tools to install it \
         (or set KUBECTL_BIN to an existing kubectl)",
        path.display()
    );
    path
}

/// Runs `kubectl create secret docker-registry` and returns the Secret object it prints.
fn kubectl_secret(name: &str, namespace: Option<&str>, auth: &RegistryAuth) -> Value {
    // Isolate from the developer's kubeconfig and environment, which could otherwise change
    // the namespace kubectl reports.
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(kubectl_path());
    command
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("no-kubeconfig"))
        .env_remove("POD_NAMESPACE")
        .args(["create", "secret", "docker-registry", name])
        .arg(format!("--docker-server={}", auth.server))
        .arg(format!("--docker-username={}", auth.username))
        .arg(format!("--docker-password={}", auth.password));
    if let Some(email) = &auth.email {
        command.arg(format!("--docker-email={email}"));
    }
    if let Some(namespace) = namespace {
        command.arg(format!("--namespace={namespace}"));
    }
    command.args(["--dry-run=client", "-o", "json"]);

    let output = command.output().expect("running kubectl");
    assert!(
        output.status.success(),
        "kubectl failed for {auth:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("kubectl printed JSON")
}

fn payload_of(secret: &Value) -> Vec<u8> {
    let encoded = secret["data"][".dockerconfigjson"]
        .as_str()
        .expect("kubectl Secret has data.\".dockerconfigjson\"");
    BASE64.decode(encoded).expect("kubectl payload is base64")
}

fn auth(server: &str, username: &str, password: &str, email: Option<&str>) -> RegistryAuth {
    RegistryAuth {
        server: server.to_owned(),
        username: username.to_owned(),
        password: password.to_owned(),
        email: email.map(str::to_owned),
    }
}

fn assert_same_payload_as_kubectl(auth: RegistryAuth) {
    let secret = kubectl_secret("regcred", None, &auth);
    let from_kubectl = payload_of(&secret);
    let ours = docker_config_json(std::slice::from_ref(&auth));
    assert_eq!(
        String::from_utf8(from_kubectl).expect("kubectl payload is UTF-8"),
        ours,
        "payload differs from kubectl's for {auth:?}"
    );
}

#[test]
fn plain_credentials() {
    assert_same_payload_as_kubectl(auth("registry.example.com", "robot", "p4ss", None));
}

#[test]
fn with_email() {
    assert_same_payload_as_kubectl(auth(
        "registry.example.com",
        "robot",
        "p4ss",
        Some("dev@example.com"),
    ));
}

#[test]
fn empty_email_is_omitted() {
    assert_same_payload_as_kubectl(auth("registry.example.com", "robot", "p4ss", Some("")));
}

#[test]
fn html_and_json_special_characters() {
    assert_same_payload_as_kubectl(auth(
        "registry.example.com",
        "user<&>",
        r#"<>&"\ '$`{}[]:,/+="#,
        Some("a&b<c>@example.com"),
    ));
}

#[test]
fn non_ascii_credentials() {
    assert_same_payload_as_kubectl(auth(
        "registry.example.com",
        "ünïcödé",
        "ünïcödé密码",
        Some("ü@example.com"),
    ));
}

#[test]
fn control_characters_and_line_separators() {
    let mut password: String = (1u8..0x20).map(char::from).collect();
    password.push_str("\u{7f}\u{2028}\u{2029}\u{feff}🔑");
    assert_same_payload_as_kubectl(auth("registry.example.com", "robot", &password, None));
}

#[test]
fn server_spellings_are_kept_verbatim() {
    for server in [
        "https://index.docker.io/v1/",
        "docker.io",
        "localhost:5000",
        "csmssim01:80",
    ] {
        assert_same_payload_as_kubectl(auth(server, "robot", "p4ss", None));
    }
}

#[test]
fn rendered_manifest_matches_kubectl_object() {
    for namespace in [Some("team-apps"), None] {
        let auth = auth("ghcr.io", "robot", "p<a>ss&\"ü", Some("dev@example.com"));
        let kubectl = kubectl_secret("regcred-ghcr-io", namespace, &auth);

        let json = docker_config_json(std::slice::from_ref(&auth));
        let manifest = SecretManifest {
            name: "regcred-ghcr-io",
            namespace,
            payload: Payload::Data(&json),
            source: "helm-regcred/pull-secrets.yaml",
            filename_annotation: true,
            hook: false,
        };
        let rendered = manifest.render();
        let ours: Value = serde_saphyr::from_str(&rendered)
            .unwrap_or_else(|e| panic!("rendered Secret is not YAML: {e}\n{rendered}"));

        for field in ["apiVersion", "kind", "type", "data"] {
            assert_eq!(ours[field], kubectl[field], "{field}\n{rendered}");
        }
        for field in ["name", "namespace"] {
            assert_eq!(
                ours["metadata"][field], kubectl["metadata"][field],
                "metadata.{field}\n{rendered}"
            );
        }
        assert_eq!(
            ours["metadata"]["annotations"]["postrenderer.helm.sh/postrender-filename"],
            "helm-regcred/pull-secrets.yaml"
        );
    }
}
