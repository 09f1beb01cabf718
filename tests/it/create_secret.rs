//! `create-secret` against the real `kubectl create secret docker-registry --dry-run=client`:
//! same bytes out for the same input, with the password only ever on stdin.

use std::path::Path;
use std::process::{Command, Output};

use helm_regcred::registry::secret::{RegistryAuth, docker_config_json};

use crate::credentials::{Files, assert_no_leak_in, documents, pull_secrets};
use crate::util::{TEST_PASSWORD, regcred, run_with_stdin, tool};

/// `kubectl create secret docker-registry ... --dry-run=client -o FORMAT`, isolated from any
/// kubeconfig (which could add a namespace).
fn kubectl(
    name: &str,
    namespace: Option<&str>,
    login: Option<(&str, &str, &str)>,
    email: Option<&str>,
    format: &str,
) -> String {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(tool("KUBECTL_BIN", "/usr/bin/kubectl"));
    cmd.env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("no-kubeconfig"))
        .env_remove("POD_NAMESPACE")
        .args(["create", "secret", "docker-registry", name]);
    if let Some((server, username, password)) = login {
        cmd.arg(format!("--docker-server={server}"))
            .arg(format!("--docker-username={username}"))
            .arg(format!("--docker-password={password}"));
    }
    if let Some(email) = email {
        cmd.arg(format!("--docker-email={email}"));
    }
    if let Some(namespace) = namespace {
        cmd.arg(format!("--namespace={namespace}"));
    }
    cmd.args(["--dry-run=client", "-o", format]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A scratch dir as HOME and XDG_STATE_HOME; every run is checked for leaks there.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        Scene {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        self.run_with(args, stdin, |_| {})
    }

    fn run_with(&self, args: &[&str], stdin: &str, adjust: impl FnOnce(&mut Command)) -> Output {
        let mut cmd = regcred();
        cmd.current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env_remove("DOCKER_CONFIG")
            .env_remove("HELM_REGCRED_RELEASE")
            .arg("create-secret")
            .args(args);
        adjust(&mut cmd);
        let before = Files::snapshot(self.dir.path());
        let out = run_with_stdin(cmd, stdin.as_bytes());
        assert_no_leak_in(&out, &before);
        out
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failure(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    assert!(out.stdout.is_empty(), "nothing may reach stdout on failure");
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// The decoded `.dockerconfigjson` of a single Secret printed as YAML or JSON.
fn payload_of(text: &str) -> String {
    let secrets = pull_secrets(text);
    assert_eq!(secrets.len(), 1, "{text}");
    secrets[0].2.clone()
}

#[test]
fn flags_and_password_stdin_match_kubectl_byte_for_byte() {
    // (name, namespace, server, username, password, email)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
        &'a str,
        Option<&'a str>,
    );
    let cases: [Case; 5] = [
        (
            "regcred",
            None,
            Some("registry.example.com"),
            "robot",
            TEST_PASSWORD,
            None,
        ),
        (
            "regcred",
            Some("team-apps"),
            Some("ghcr.io"),
            "user<&>\"\\",
            "<>&\"\\ '$`{}",
            Some("a&b<c>@example.com"),
        ),
        (
            "pull-secret",
            None,
            Some("harbor.example.com:8443"),
            "ünïcödé",
            "ünïcödé密码",
            Some("ü@example.com"),
        ),
        (
            "regcred",
            Some("apps"),
            Some("registry.example.com"),
            "robot",
            "p4ss",
            Some(""),
        ),
        // No --server: Docker Hub's index URL, as kubectl defaults to.
        ("123", None, None, "robot", "p4ss word ", None),
    ];
    let scene = Scene::new();
    for (name, namespace, server, username, password, email) in cases {
        for format in ["yaml", "json"] {
            let mut args = vec![
                name,
                "--username",
                username,
                "--password-stdin",
                "-o",
                format,
            ];
            if let Some(server) = server {
                args.extend(["--server", server]);
            }
            if let Some(namespace) = namespace {
                args.extend(["-n", namespace]);
            }
            if let Some(email) = email {
                args.extend(["--email", email]);
            }
            // `docker login --password-stdin` style: one trailing line break is not part of it.
            let out = scene.run(&args, &format!("{password}\n"));
            let ours = ok(&out);
            let server = server.unwrap_or("https://index.docker.io/v1/");
            let theirs = kubectl(
                name,
                namespace,
                Some((server, username, password)),
                email,
                format,
            );
            assert_eq!(
                payload_of(&ours),
                payload_of(&theirs),
                "decoded payload differs for {name} {format}"
            );
            assert_eq!(ours, theirs, "output differs for {name} {format}");
        }
    }
}

#[test]
fn password_on_argv_works_only_with_a_warning() {
    let scene = Scene::new();
    let out = scene.run(
        &[
            "regcred",
            "--server",
            "r.example.com",
            "--username",
            "robot",
            "--password",
            "p4ss",
        ],
        "",
    );
    let ours = ok(&out);
    assert_eq!(
        ours,
        kubectl(
            "regcred",
            None,
            Some(("r.example.com", "robot", "p4ss")),
            None,
            "yaml"
        )
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: using --password on the command line is insecure"),
        "{err}"
    );
    assert!(!err.contains("p4ss"), "{err}");
}

#[test]
fn missing_or_empty_password_and_bad_names_are_errors() {
    let scene = Scene::new();
    let err = failure(&scene.run(&["regcred", "--username", "robot"], ""));
    assert!(err.contains("the password is empty"), "{err}");
    let err = failure(&scene.run(&["regcred", "--password-stdin"], "pw"));
    assert!(err.contains("--username is required"), "{err}");
    let err = failure(&scene.run(&["Reg_Cred", "--username", "u", "--password-stdin"], "pw"));
    assert!(
        err.contains("`Reg_Cred` is not a valid Kubernetes Secret name"),
        "{err}"
    );
    let err = failure(&scene.run(&["regcred", "-n", "Team", "--username", "u"], "pw"));
    assert!(err.contains("namespace `Team` is not a valid"), "{err}");
    let err = failure(&scene.run(&["--username", "u"], "pw"));
    assert!(err.contains("NAME is required"), "{err}");
}

const RULES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nvars:\n  user_id: \"7\"\nregistries:\n  - server: registry.example.com\n    secret: coding-registry-cred-{{ vars.user_id }}\n    email: dev@example.com\n    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}\n  - server: ghcr.io\n    secret: coding-registry-cred-{{ vars.user_id }}\n    credentials: {file: ghcr.txt}\n  - server: quay.io\n    secret: quay-pull\n    credentials: {stdin: true}\n";

/// What post-render emits for the same rules: the reference for `--from-rules`.
fn post_rendered_payload(scene: &Scene, name: &str, set: &[&str]) -> String {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: apps}\nspec:\n  containers:\n  - {name: a, image: registry.example.com/a:1}\n  - {name: b, image: ghcr.io/b:1}\n";
    let mut cmd = regcred();
    cmd.current_dir(scene.dir.path())
        .env("HOME", scene.path("home"))
        .env("XDG_STATE_HOME", scene.path("state"))
        .args(["post-render", "-r", "regcred.yaml"])
        .args(set);
    let out = run_with_stdin(cmd, pod.as_bytes());
    let text = ok(&out);
    pull_secrets(&text)
        .into_iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no Secret {name} in\n{text}"))
        .2
}

#[test]
fn from_rules_makes_the_secret_post_render_would() {
    let scene = Scene::new();
    scene.write("regcred.yaml", RULES);
    scene.write("ghcr.txt", &format!("ghcr-bot:{TEST_PASSWORD}\n"));

    // Two registries share the templated Secret: one Secret, both logins.
    let out = scene.run(
        &[
            "coding-registry-cred-7",
            "--from-rules",
            "regcred.yaml",
            "-n",
            "apps",
        ],
        "",
    );
    let text = ok(&out);
    let expected = docker_config_json(&[
        RegistryAuth {
            server: "registry.example.com".into(),
            username: "robot".into(),
            password: TEST_PASSWORD.into(),
            email: Some("dev@example.com".into()),
        },
        RegistryAuth {
            server: "ghcr.io".into(),
            username: "ghcr-bot".into(),
            password: TEST_PASSWORD.into(),
            email: None,
        },
    ]);
    assert_eq!(payload_of(&text), expected);
    assert_eq!(
        payload_of(&text),
        post_rendered_payload(&scene, "coding-registry-cred-7", &[])
    );
    let doc = &documents(&text)[0];
    assert_eq!(doc["metadata"]["namespace"], "apps");

    // NAME comes from the entry when --server picks one; --set renders the template.
    let out = scene.run(
        &[
            "--from-rules",
            "regcred.yaml",
            "--server",
            "ghcr.io",
            "--set",
            "user_id=8",
        ],
        "",
    );
    let text = ok(&out);
    assert_eq!(
        documents(&text)[0]["metadata"]["name"],
        "coding-registry-cred-8"
    );

    // A single-registry entry matches kubectl for the same login byte for byte.
    let out = scene.run(
        &[
            "--from-rules",
            "regcred.yaml",
            "--server",
            "quay.io",
            "-o",
            "json",
        ],
        &format!("quay-bot:{TEST_PASSWORD}"),
    );
    assert_eq!(
        ok(&out),
        kubectl(
            "quay-pull",
            None,
            Some(("quay.io", "quay-bot", TEST_PASSWORD)),
            None,
            "json"
        )
    );
}

#[test]
fn from_rules_errors_name_the_choices() {
    let scene = Scene::new();
    scene.write("regcred.yaml", RULES);
    let err = failure(&scene.run(&["--from-rules", "regcred.yaml"], ""));
    assert!(
        err.contains("has several Secrets (coding-registry-cred-7, quay-pull); name one"),
        "{err}"
    );
    let err = failure(&scene.run(&["nope", "--from-rules", "regcred.yaml"], ""));
    assert!(
        err.contains("no registry entry of regcred.yaml makes Secret `nope`"),
        "{err}"
    );
    let err = failure(&scene.run(
        &["coding-registry-cred-7", "--from-rules", "regcred.yaml"],
        "",
    ));
    assert!(
        err.contains("registry ghcr.io (secret coding-registry-cred-7, credentials from `file`)"),
        "{err}"
    );
    assert!(err.contains("ghcr.txt"), "{err}");
    let err = failure(&scene.run(
        &[
            "coding-registry-cred-7",
            "--from-rules",
            "regcred.yaml",
            "--username",
            "x",
        ],
        "",
    ));
    assert!(err.contains("cannot be used with"), "{err}");
}

fn fake_docker_config(scene: &Scene) -> String {
    let auth = |user: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{TEST_PASSWORD}"))
    };
    let config = serde_json::json!({
        "auths": {
            "https://index.docker.io/v1/": {"auth": auth("hub-user")},
            "ghcr.io": {"auth": auth("ghcr-user"), "email": "ci@example.com"},
            "harbor.example.com": {"username": "harbor-user", "password": TEST_PASSWORD},
            "registry.example.com": {}
        },
        "credHelpers": {"registry.example.com": "fake"},
        "psFormat": "table {{.ID}}"
    });
    scene.write("home/.docker/config.json", &config.to_string());
    let bin = scene.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let answer = serde_json::json!({"Username": "helper-user", "Secret": TEST_PASSWORD});
    let helper = bin.join("docker-credential-fake");
    crate::util::write_executable(
        &helper,
        &format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\ncat >/dev/null\ncat <<'EOF'\n{answer}\nEOF\n"
        ),
    );
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn login(server: &str, username: &str, email: Option<&str>) -> RegistryAuth {
    RegistryAuth {
        server: server.into(),
        username: username.into(),
        password: TEST_PASSWORD.into(),
        email: email.map(str::to_string),
    }
}

#[test]
fn from_docker_config_puts_every_registry_in_one_secret() {
    let scene = Scene::new();
    let path = fake_docker_config(&scene);
    let out = scene.run_with(&["node-pull", "--from-docker-config"], "", |cmd| {
        cmd.env("PATH", &path);
    });
    let text = ok(&out);
    // Keys sorted, as Go (and so kubectl and docker) write a map.
    let expected = docker_config_json(&[
        login("ghcr.io", "ghcr-user", Some("ci@example.com")),
        login("harbor.example.com", "harbor-user", None),
        login("https://index.docker.io/v1/", "hub-user", None),
        login("registry.example.com", "helper-user", None),
    ]);
    assert_eq!(payload_of(&text), expected);
    assert_eq!(documents(&text)[0]["metadata"]["name"], "node-pull");
}

#[test]
fn from_docker_config_selected_servers_and_explicit_path() {
    let scene = Scene::new();
    let path = fake_docker_config(&scene);
    let config = scene.path("home/.docker/config.json");
    let config = config.to_str().unwrap();
    let out = scene.run_with(
        &[
            "hub",
            "--from-docker-config",
            config,
            "--server",
            "docker.io",
            "-o",
            "json",
        ],
        "",
        |cmd| {
            cmd.env("PATH", &path);
        },
    );
    // One registry: exactly kubectl's Secret for that login.
    assert_eq!(
        ok(&out),
        kubectl(
            "hub",
            None,
            Some(("https://index.docker.io/v1/", "hub-user", TEST_PASSWORD)),
            None,
            "json"
        )
    );
    let out = scene.run_with(
        &[
            "two",
            "--from-docker-config",
            config,
            "--server",
            "registry.example.com",
            "--server",
            "harbor.example.com",
        ],
        "",
        |cmd| {
            cmd.env("PATH", &path);
        },
    );
    assert_eq!(
        payload_of(&ok(&out)),
        docker_config_json(&[
            login("harbor.example.com", "harbor-user", None),
            login("registry.example.com", "helper-user", None),
        ])
    );
    let err = failure(&scene.run(
        &["x", "--from-docker-config", config, "--server", "quay.io"],
        "",
    ));
    assert!(err.contains("has no login for quay.io; it lists: ghcr.io, harbor.example.com, https://index.docker.io/v1/, registry.example.com"), "{err}");
    // Without the helper on PATH, taking every registry fails on the helper, naming it.
    let err = failure(
        &scene.run_with(&["x", "--from-docker-config", config], "", |cmd| {
            cmd.env("PATH", "/usr/bin:/bin");
        }),
    );
    assert!(err.contains("docker-credential-fake"), "{err}");
}

#[cfg(unix)]
#[test]
fn output_file_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let scene = Scene::new();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let args = [
        "regcred",
        "--username",
        "robot",
        "--password-stdin",
        "--output-file",
        "secret.yaml",
    ];
    let out = scene.run(&args, TEST_PASSWORD);
    assert!(ok(&out).is_empty(), "the Secret goes to the file only");
    let file = scene.path("secret.yaml");
    assert_eq!(mode(&file), 0o600);
    let written = std::fs::read_to_string(&file).unwrap();
    let printed = ok(&scene.run(&args[..4], TEST_PASSWORD));
    assert_eq!(written, printed);

    // An existing, wider file is narrowed before it receives the credential.
    std::fs::write(
        &file,
        "old content that is longer than nothing\n".repeat(40),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    ok(&scene.run(&args, TEST_PASSWORD));
    assert_eq!(mode(&file), 0o600);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), printed);
}
