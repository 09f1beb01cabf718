//! Every credential source end to end into a post-rendered Secret, templated Secret names, and
//! the password kept out of every output stream, diff file and error record.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use helm_regcred::registry::secret::{RegistryAuth, docker_config_json};
use serde_json::Value;

use crate::helm::Helm;
use crate::util::{TEST_PASSWORD, bin, regcred, run_with_stdin};

/// A pod in namespace `apps` pulling from `image`.
fn pod(image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: apps\nspec:\n  containers:\n  - name: c\n    image: {image}\n"
    )
}

const IMAGE: &str = "registry.example.com/team/app:1.0";

fn rules(server: &str, secret: &str, credentials: &str) -> String {
    format!(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: {server}\n    secret: {secret}\n    credentials: {credentials}\n"
    )
}

/// A scratch directory holding the rules file and whatever the sources read; it is also the
/// HOME and XDG_STATE_HOME of the command, so nothing of the developer's is read or written.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new(rules_text: &str) -> Scene {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("regcred.yaml"), rules_text).unwrap();
        Scene { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = regcred();
        cmd.current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env_remove("DOCKER_CONFIG")
            .env_remove("HELM_REGCRED_RELEASE")
            .args(args);
        cmd
    }

    fn post_render(&self, input: &str, extra: &[&str]) -> Output {
        let mut args = vec!["post-render", "-r", "regcred.yaml"];
        args.extend_from_slice(extra);
        self.run(self.cmd(&args), input)
    }

    /// Runs and checks no output, diff file or error record holds the password.
    fn run(&self, cmd: Command, stdin: &str) -> Output {
        let before = Files::snapshot(self.dir.path());
        let out = run_with_stdin(cmd, stdin.as_bytes());
        assert_no_leak_in(&out, &before);
        out
    }

    /// A `docker-credential-fake` on a PATH of its own, answering `secret` for any server and
    /// logging each server it was asked about to `helper.log`.
    fn fake_helper(&self, username: &str) -> String {
        let bin_dir = self.path("helper-bin");
        std::fs::create_dir_all(&bin_dir).unwrap();
        let answer = serde_json::json!({"Username": username, "Secret": TEST_PASSWORD}).to_string();
        let log = self.path("helper.log");
        let script = format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nserver=$(cat)\nprintf '%s\\n' \"$server\" >> '{}'\ncat <<'EOF'\n{answer}\nEOF\n",
            log.display()
        );
        let helper = bin_dir.join("docker-credential-fake");
        crate::util::write_executable(&helper, &script);
        format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn helper_log(&self) -> String {
        std::fs::read_to_string(self.path("helper.log")).unwrap_or_default()
    }
}

/// The password in any form a careless tool might print it: raw, JSON-escaped, or as a
/// base64 `username:password` `auth` value.
fn leak_forms() -> Vec<String> {
    let json = serde_json::to_string(TEST_PASSWORD).unwrap();
    vec![
        TEST_PASSWORD.to_string(),
        json.trim_matches('"').to_string(),
        BASE64.encode(format!("robot:{TEST_PASSWORD}")),
    ]
}

/// The files under a directory and their contents, to tell which ones a command wrote.
pub struct Files {
    dir: PathBuf,
    contents: Vec<(PathBuf, Vec<u8>)>,
}

impl Files {
    pub fn snapshot(dir: &Path) -> Files {
        let contents = all_files(dir)
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap_or_default();
                (p, bytes)
            })
            .collect();
        Files {
            dir: dir.to_path_buf(),
            contents,
        }
    }

    /// Files created or changed since the snapshot.
    fn written(&self) -> Vec<PathBuf> {
        all_files(&self.dir)
            .into_iter()
            .filter(|p| {
                let now = std::fs::read(p).unwrap_or_default();
                !self.contents.iter().any(|(q, old)| q == p && *old == now)
            })
            .collect()
    }
}

/// No output stream, and no file the command wrote (diff files, the last-error record, a
/// written Secret) contains the password in any form.
pub fn assert_no_leak_in(out: &Output, before: &Files) {
    let forms = leak_forms();
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        for form in &forms {
            assert!(
                !text.contains(form.as_str()),
                "password leaked on {name}:\n{text}"
            );
        }
    }
    for file in before.written() {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        for form in &forms {
            assert!(
                !text.contains(form.as_str()),
                "password leaked into {}:\n{text}",
                file.display()
            );
        }
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr_of_failure(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    assert!(out.stdout.is_empty(), "nothing may reach stdout on failure");
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Every document of a stream, parsed.
pub fn documents(text: &str) -> Vec<Value> {
    if text.trim_start().starts_with('{') {
        return vec![serde_json::from_str(text).unwrap()];
    }
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            docs.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
        }
    }
    docs.push(current);
    docs.iter()
        .filter(|d| d.lines().any(|l| l.starts_with("kind:")))
        .map(|d| serde_saphyr::from_str(d).unwrap_or_else(|e| panic!("{e}\n{d}")))
        .collect()
}

/// (name, namespace, decoded `.dockerconfigjson`) of every dockerconfigjson Secret.
pub fn pull_secrets(text: &str) -> Vec<(String, Option<String>, String)> {
    documents(text)
        .into_iter()
        .filter(|d| d["kind"] == "Secret" && d["type"] == "kubernetes.io/dockerconfigjson")
        .map(|d| {
            let data = d["data"][".dockerconfigjson"].as_str().unwrap();
            let decoded = String::from_utf8(BASE64.decode(data).unwrap()).unwrap();
            (
                d["metadata"]["name"].as_str().unwrap().to_string(),
                d["metadata"]["namespace"].as_str().map(str::to_string),
                decoded,
            )
        })
        .collect()
}

fn payload(server: &str, username: &str, password: &str) -> String {
    docker_config_json(&[RegistryAuth {
        server: server.to_string(),
        username: username.to_string(),
        password: password.to_string(),
        email: None,
    }])
}

/// The one Secret of a successful post-render: it must carry exactly this login.
fn assert_one_secret(out: &Output, name: &str, server: &str, username: &str) {
    let text = stdout(out);
    let secrets = pull_secrets(&text);
    assert_eq!(secrets.len(), 1, "{text}");
    let (got_name, namespace, json) = &secrets[0];
    assert_eq!(got_name, name);
    assert_eq!(namespace.as_deref(), Some("apps"));
    assert_eq!(json, &payload(server, username, TEST_PASSWORD), "{text}");
    assert!(
        text.contains(&format!("imagePullSecrets:\n  - name: {name}\n")),
        "{text}"
    );
}

fn auth_b64(username: &str) -> String {
    BASE64.encode(format!("{username}:{TEST_PASSWORD}"))
}

// ---- each source, end to end ----

#[test]
fn env_source() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    let out = scene.post_render(&pod(IMAGE), &[]);
    assert_one_secret(&out, "example-pull", "registry.example.com", "robot");
}

#[test]
fn file_source_with_username_password_relative_to_the_rules_file() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{file: secrets/registry.txt}",
    ));
    scene.write("secrets/registry.txt", &format!("robot:{TEST_PASSWORD}\n"));
    // Run from elsewhere: the path is the rules file's, not the working directory's.
    let mut cmd = scene.cmd(&["post-render", "-r"]);
    cmd.arg(scene.path("regcred.yaml")).current_dir("/");
    let out = scene.run(cmd, &pod(IMAGE));
    assert_one_secret(&out, "example-pull", "registry.example.com", "robot");
}

#[test]
fn file_source_with_docker_config_json() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{file: config.json}",
    ));
    scene.write(
        "config.json",
        &format!(
            r#"{{"auths": {{"other.example.com": {{"auth": "b3RoZXI6eA=="}}, "https://registry.example.com": {{"auth": "{}"}}}}}}"#,
            auth_b64("robot")
        ),
    );
    let out = scene.post_render(&pod(IMAGE), &[]);
    assert_one_secret(&out, "example-pull", "registry.example.com", "robot");
}

#[test]
fn docker_config_source_defaults_to_home_then_docker_config_env() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{dockerConfig: null}",
    ));
    scene.write(
        "home/.docker/config.json",
        &format!(
            r#"{{"auths": {{"registry.example.com": {{"auth": "{}"}}}}}}"#,
            auth_b64("home-user")
        ),
    );
    let out = scene.post_render(&pod(IMAGE), &[]);
    assert_one_secret(&out, "example-pull", "registry.example.com", "home-user");

    // $DOCKER_CONFIG wins over ~/.docker, as with docker.
    scene.write(
        "dockercfg/config.json",
        &serde_json::json!({"auths": {"registry.example.com": {"username": "env-user", "password": TEST_PASSWORD}}}).to_string(),
    );
    let mut cmd = scene.cmd(&["post-render", "-r", "regcred.yaml"]);
    cmd.env("DOCKER_CONFIG", scene.path("dockercfg"));
    let out = scene.run(cmd, &pod(IMAGE));
    assert_one_secret(&out, "example-pull", "registry.example.com", "env-user");
}

#[test]
fn docker_config_source_explicit_path_and_docker_hub_spellings() {
    let scene = Scene::new(&rules(
        "docker.io",
        "hub-pull",
        "{dockerConfig: ~/hub.json}",
    ));
    // `docker login` files Docker Hub under https://index.docker.io/v1/.
    scene.write(
        "home/hub.json",
        &format!(
            r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}}}}}"#,
            auth_b64("hubber")
        ),
    );
    let out = scene.post_render(&pod("team/app:1.0"), &[]);
    assert_one_secret(&out, "hub-pull", "docker.io", "hubber");
}

#[test]
fn docker_config_cred_helpers_run_the_helper_on_path() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{dockerConfig: config.json}",
    ));
    scene.write(
        "config.json",
        r#"{"auths": {"registry.example.com": {}}, "credHelpers": {"registry.example.com": "fake"}}"#,
    );
    let path = scene.fake_helper("helper-user");
    let mut cmd = scene.cmd(&["post-render", "-r", "regcred.yaml"]);
    cmd.env("PATH", &path);
    let out = scene.run(cmd, &pod(IMAGE));
    assert_one_secret(&out, "example-pull", "registry.example.com", "helper-user");
    // Asked once, with the host name as docker asks.
    assert_eq!(scene.helper_log(), "registry.example.com\n");
}

#[test]
fn docker_config_creds_store_is_asked_for_docker_hub_by_its_index_url() {
    let scene = Scene::new(&rules(
        "docker.io",
        "hub-pull",
        "{dockerConfig: config.json}",
    ));
    scene.write(
        "config.json",
        r#"{"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "fake"}"#,
    );
    let path = scene.fake_helper("store-user");
    let mut cmd = scene.cmd(&["post-render", "-r", "regcred.yaml"]);
    cmd.env("PATH", &path);
    let out = scene.run(cmd, &pod("docker.io/library/nginx:1.27"));
    assert_one_secret(&out, "hub-pull", "docker.io", "store-user");
    assert_eq!(scene.helper_log(), "https://index.docker.io/v1/\n");
}

#[test]
fn stdin_source_with_render_file() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{stdin: true}",
    ));
    scene.write("manifests.yaml", &pod(IMAGE));
    let cmd = scene.cmd(&["render", "-r", "regcred.yaml", "manifests.yaml"]);
    let out = scene.run(cmd, &format!("robot:{TEST_PASSWORD}\n"));
    assert_one_secret(&out, "example-pull", "registry.example.com", "robot");
}

#[test]
fn stdin_is_read_once_for_several_registries() {
    let text = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: a-pull\n    credentials: {stdin: true}\n  - server: ghcr.io\n    secret: b-pull\n    credentials: {stdin: true}\n";
    let scene = Scene::new(text);
    scene.write(
        "manifests.yaml",
        &format!(
            "{}---\n{}",
            pod(IMAGE),
            pod("ghcr.io/org/tool:2").replace("name: p\n", "name: q\n")
        ),
    );
    let config = serde_json::json!({"auths": {
        "registry.example.com": {"username": "a-user", "password": TEST_PASSWORD},
        "ghcr.io": {"username": "b-user", "password": TEST_PASSWORD},
    }})
    .to_string();
    let cmd = scene.cmd(&["render", "-r", "regcred.yaml", "manifests.yaml"]);
    let out = scene.run(cmd, &config);
    let secrets = pull_secrets(&stdout(&out));
    assert_eq!(
        secrets,
        [
            (
                "a-pull".to_string(),
                Some("apps".to_string()),
                payload("registry.example.com", "a-user", TEST_PASSWORD)
            ),
            (
                "b-pull".to_string(),
                Some("apps".to_string()),
                payload("ghcr.io", "b-user", TEST_PASSWORD)
            ),
        ]
    );
}

#[test]
fn stdin_source_where_stdin_carries_the_manifests_is_a_clear_error() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{stdin: true}",
    ));
    let out = scene.post_render(&pod(IMAGE), &[]);
    let err = stderr_of_failure(&out);
    assert!(
        err.contains("registry registry.example.com (secret example-pull): `stdin: true` cannot be used here: stdin carries the manifests here"),
        "{err}"
    );
    assert!(err.contains("helm-regcred render -r RULES FILE"), "{err}");

    scene.write("m.yaml", &pod(IMAGE));
    let cmd = scene.cmd(&["render", "-r", "regcred.yaml", "m.yaml", "-"]);
    let err = stderr_of_failure(&scene.run(cmd, ""));
    assert!(err.contains("`stdin: true` cannot be used here"), "{err}");
}

/// The credential-helper path through the real Helm 3 post-renderer protocol.
#[test]
fn helm3_post_renderer_with_a_credential_helper() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "demo-pull",
        "{dockerConfig: config.json}",
    ));
    scene.write(
        "config.json",
        r#"{"credHelpers": {"registry.example.com": "fake"}}"#,
    );
    let path = scene.fake_helper("helm-helper-user");
    let helm = Helm::v3();
    let before = Files::snapshot(scene.dir.path());
    let out = helm
        .cmd()
        .args([
            "template",
            "demo",
            crate::helm::CHART,
            "--namespace",
            "demo-ns",
        ])
        .arg("--post-renderer")
        .arg(bin())
        .args([
            "--post-renderer-args",
            "post-render",
            "--post-renderer-args",
            "--rules",
        ])
        .arg("--post-renderer-args")
        .arg(scene.path("regcred.yaml"))
        .env("PATH", &path)
        .env("HOME", scene.path("home"))
        .env_remove("DOCKER_CONFIG")
        .output()
        .unwrap();
    assert_no_leak_in(&out, &before);
    let text = stdout(&out);
    let secrets = pull_secrets(&text);
    assert!(!secrets.is_empty(), "{text}");
    for (name, _, json) in secrets {
        assert_eq!(name, "demo-pull");
        assert_eq!(
            json,
            payload("registry.example.com", "helm-helper-user", TEST_PASSWORD)
        );
    }
    assert!(scene.helper_log().starts_with("registry.example.com\n"));
}

// ---- failures: named, before any output, never with a value ----

#[test]
fn unreadable_credentials_fail_naming_where_they_were_looked_for() {
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            "{env: {username: REG_USER, password: MISSING_PASSWORD_VAR}}",
            "password environment variable MISSING_PASSWORD_VAR is not set",
            vec![],
        ),
        (
            "{file: nope.txt}",
            "cannot read credentials file",
            vec!["nope.txt"],
        ),
        (
            "{file: bad.txt}",
            "has no `:` between username and password",
            vec!["bad.txt"],
        ),
        (
            "{dockerConfig: config.json}",
            "has no login for registry.example.com; it lists: ghcr.io",
            vec!["config.json"],
        ),
        (
            "{dockerConfig: helper.json}",
            "credential helper docker-credential-nothere (from credHelpers[\"registry.example.com\"] in docker config",
            vec!["is not on PATH"],
        ),
        (
            "{dockerConfig: token.json}",
            "holds only an identity token for registry.example.com",
            vec![],
        ),
        (
            "{dockerConfig: null}",
            "home/.docker/config.json",
            vec!["cannot read docker config"],
        ),
    ];
    for (source, expected, also) in cases {
        let scene = Scene::new(&rules("registry.example.com", "example-pull", source));
        scene.write("bad.txt", TEST_PASSWORD);
        scene.write(
            "config.json",
            &format!(
                r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
                auth_b64("robot")
            ),
        );
        scene.write(
            "helper.json",
            r#"{"credHelpers": {"registry.example.com": "nothere"}}"#,
        );
        scene.write(
            "token.json",
            &serde_json::json!({"auths": {"registry.example.com": {
                "auth": BASE64.encode("00000000-0000-0000-0000-000000000000:"),
                "identitytoken": TEST_PASSWORD,
            }}})
            .to_string(),
        );
        let out = scene.post_render(&pod(IMAGE), &[]);
        let err = stderr_of_failure(&out);
        assert!(
            err.contains("registry registry.example.com (secret example-pull): "),
            "{source}: {err}"
        );
        assert!(err.contains(expected), "{source}: {err}");
        for part in also {
            assert!(err.contains(part), "{source}: {err}");
        }
    }
}

#[test]
fn exactly_one_source_per_registry() {
    for (credentials, expected) in [
        (
            "{env: {username: U, password: P}, file: creds}",
            "regcred.yaml:6:",
        ),
        (
            "{}",
            "expected exactly one credential source: env, file, dockerConfig or stdin",
        ),
        ("{stdin: false}", "`false` names no source"),
        (
            "{vault: x}",
            "unknown `vault`; expected one of: env, file, dockerConfig, stdin",
        ),
    ] {
        let scene = Scene::new(&rules("registry.example.com", "example-pull", credentials));
        let err = stderr_of_failure(&scene.post_render(&pod(IMAGE), &[]));
        assert!(err.contains(expected), "{credentials}: {err}");
        if credentials.contains("file") {
            assert!(err.contains("both `env` and `file`"), "{err}");
        }
    }
}

// ---- templated names ----

const CODING_RULES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nvars:\n  user_id: \"1001\"\nregistries:\n  - server: registry.example.com\n    secret: coding-registry-cred-{{ vars.user_id }}\n    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}\nrules:\n  - name: all-private\n    match: {images: [\"registry.example.com/**\"]}\n    secrets: [\"coding-registry-cred-{{ vars.user_id }}\"]\n";

#[test]
fn templated_secret_name_from_vars_and_set() {
    let scene = Scene::new(CODING_RULES);
    let out = scene.post_render(&pod(IMAGE), &[]);
    assert_one_secret(
        &out,
        "coding-registry-cred-1001",
        "registry.example.com",
        "robot",
    );
    let out = scene.post_render(&pod(IMAGE), &["--set", "user_id=42"]);
    assert_one_secret(
        &out,
        "coding-registry-cred-42",
        "registry.example.com",
        "robot",
    );
}

#[test]
fn templated_names_with_release_namespace_and_env() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "\"{{ release }}-{{ namespace }}-{{ env.TEAM }}\"",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    let mut cmd = scene.cmd(&["post-render", "-r", "regcred.yaml", "--release", "shop"]);
    cmd.env("TEAM", "core");
    let out = scene.run(cmd, &pod(IMAGE));
    assert_one_secret(&out, "shop-apps-core", "registry.example.com", "robot");
}

#[test]
fn undefined_template_variables_are_errors() {
    let scene = Scene::new(&CODING_RULES.replace("vars:\n  user_id: \"1001\"\n", ""));
    let err = stderr_of_failure(&scene.post_render(&pod(IMAGE), &[]));
    assert!(
        err.contains("template `coding-registry-cred-{{ vars.user_id }}`: undefined variable `vars.user_id`: set it under `vars:` in the rules file, or with `--set user_id=VALUE`"),
        "{err}"
    );
    assert!(err.contains("Pod/p"), "{err}");

    let scene = Scene::new(&rules(
        "registry.example.com",
        "\"{{ release }}-pull\"",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    let err = stderr_of_failure(&scene.post_render(&pod(IMAGE), &[]));
    assert!(err.contains("undefined variable `release`"), "{err}");
    assert!(err.contains("--release"), "{err}");
}

#[test]
fn rendered_names_must_be_valid_secret_names() {
    let scene = Scene::new(CODING_RULES);
    let err = stderr_of_failure(&scene.post_render(&pod(IMAGE), &["--set", "user_id=Bob_1"]));
    assert!(
        err.contains("secret name template `coding-registry-cred-{{ vars.user_id }}` (using vars.user_id) does not render to a valid Kubernetes Secret name"),
        "{err}"
    );
    // The value is not shown: it could have come from the environment.
    assert!(!err.contains("Bob_1"), "{err}");
}

#[test]
fn template_syntax_errors_are_rules_errors_with_a_location() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "\"cred-{{ vars.user_id \"",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    let err = stderr_of_failure(&scene.post_render(&pod(IMAGE), &[]));
    assert!(err.contains("regcred.yaml:5:"), "{err}");
    assert!(err.contains("does not parse"), "{err}");
}

// ---- secrecy across every output of the engine commands ----

#[test]
fn no_output_diff_or_error_record_holds_the_password() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{file: creds}",
    ));
    scene.write("creds", &format!("robot:{TEST_PASSWORD}"));
    let existing = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: other}}\nstringData:\n  token: not-the-password\n---\n{}",
        pod(IMAGE)
    );
    for extra in [
        vec!["--diff", "--color", "always"],
        vec!["--diff-file", "out.diff"],
        vec!["--dry-run", "--diff", "--diff-file", "dry.diff"],
    ] {
        let out = scene.post_render(&existing, &extra);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if extra.contains(&"--diff") {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("example-pull"), "{err}");
        }
    }
    assert!(scene.path("out.diff").is_file() && scene.path("dry.diff").is_file());

    // Failures after the credentials were read do not echo them either.
    let out = scene.post_render(&format!("{}: [", pod(IMAGE)), &[]);
    assert!(!out.status.success());
}

// ---- the examples, end to end ----

fn example(dir: &str, args: &[&str]) -> String {
    let state = tempfile::tempdir().unwrap();
    let mut cmd = regcred();
    cmd.current_dir(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(dir),
    )
    .env("XDG_STATE_HOME", state.path())
    .env("CODING_REGISTRY_USER", "dev@example.com")
    .env("CODING_REGISTRY_TOKEN", TEST_PASSWORD)
    .args(args);
    let before = Files::snapshot(state.path());
    let out = run_with_stdin(cmd, b"");
    assert_no_leak_in(&out, &before);
    stdout(&out)
}

#[test]
fn coding_per_user_example() {
    let args = [
        "render",
        "-r",
        "regcred.yaml",
        "manifests.yaml",
        "--set",
        "user_id=1001",
    ];
    let text = example("coding-per-user", &args);
    assert_eq!(
        pull_secrets(&text),
        [(
            "coding-registry-cred-1001".to_string(),
            Some("shop".to_string()),
            payload(
                "myteam-docker.pkg.coding.net",
                "dev@example.com",
                TEST_PASSWORD
            )
        )]
    );
    // shop-web gets it, shop-cache (redis) does not.
    assert_eq!(text.matches("imagePullSecrets:").count(), 1, "{text}");
    assert!(
        text.contains("  - name: coding-registry-cred-1001\n"),
        "{text}"
    );
}

#[test]
fn multi_registry_docker_config_example() {
    let text = example(
        "multi-registry-docker-config",
        &["render", "-r", "regcred.yaml", "manifests.yaml"],
    );
    let login = |server: &str, user: &str, password: &str| RegistryAuth {
        server: server.into(),
        username: user.into(),
        password: password.into(),
        email: None,
    };
    assert_eq!(
        pull_secrets(&text),
        [
            (
                "team-pull".to_string(),
                Some("apps".to_string()),
                docker_config_json(&[
                    login("harbor.example.com", "harbor-robot", "fake-harbor-password"),
                    login("ghcr.io", "ghcr-bot", "fake-ghcr-token"),
                ])
            ),
            (
                "dockerhub-pull".to_string(),
                Some("apps".to_string()),
                docker_config_json(&[login("docker.io", "hub-user", "fake-hub-token")])
            ),
        ]
    );
    let text = example(
        "multi-registry-docker-config",
        &[
            "create-secret",
            "node-pull",
            "--from-docker-config",
            "docker-config.json",
        ],
    );
    let secrets = pull_secrets(&text);
    let auths: Value = serde_json::from_str(&secrets[0].2).unwrap();
    let servers: Vec<&String> = auths["auths"].as_object().unwrap().keys().collect();
    assert_eq!(
        servers,
        [
            "harbor.example.com",
            "https://ghcr.io",
            "https://index.docker.io/v1/",
            "registry.unused.example.com"
        ]
    );
}

/// Every command that reads rules or credentials, succeeding and failing: no stream, diff file
/// or error record (`last-error`) ever holds the password.
#[test]
fn every_command_keeps_the_password_out() {
    let scene = Scene::new(&rules(
        "registry.example.com",
        "example-pull",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    scene.write("pod.yaml", &pod(IMAGE));
    let indented: String = pod(IMAGE).lines().map(|l| format!("  {l}\n")).collect();
    let resource_list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {}",
        indented.trim_start()
    );
    let runs: Vec<(Vec<&str>, String)> = vec![
        (
            vec![
                "post-render",
                "-r",
                "regcred.yaml",
                "--diff",
                "--diff-file",
                "a.diff",
            ],
            pod(IMAGE),
        ),
        (
            vec!["render", "-r", "regcred.yaml", "pod.yaml", "--diff"],
            String::new(),
        ),
        (
            vec!["check", "-r", "regcred.yaml", "pod.yaml"],
            String::new(),
        ),
        (
            vec![
                "krm",
                "-r",
                "regcred.yaml",
                "--allow-env",
                "REG_USER,REG_PASSWORD",
            ],
            resource_list,
        ),
        (
            vec![
                "create-secret",
                "x",
                "--username",
                "robot",
                "--password-stdin",
            ],
            TEST_PASSWORD.to_string(),
        ),
        (
            vec!["create-secret", "--from-rules", "regcred.yaml"],
            String::new(),
        ),
        (vec!["schema"], String::new()),
    ];
    for (args, stdin) in &runs {
        for password_set in [true, false] {
            let mut cmd = scene.cmd(args);
            if !password_set {
                cmd.env_remove("REG_PASSWORD");
            }
            let out = scene.run(cmd, stdin);
            let err = String::from_utf8_lossy(&out.stderr);
            if !password_set && args[0] != "schema" && args[0] != "check" && args[1] != "x" {
                assert!(err.contains("REG_PASSWORD"), "{args:?}: {err}");
            }
            // Whatever was recorded for `helm regcred last-error` is checked too.
            scene.run(scene.cmd(&["last-error"]), "");
        }
    }
}

#[test]
fn templated_secret_namespaces() {
    let text = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nvars: {team: core}\nregistries:\n  - server: registry.example.com\n    secret: example-pull\n    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}\nrules:\n  - name: runners\n    match: {images: [\"registry.example.com/**\"]}\n    secretNamespaces: [\"{{ vars.team }}-runs\"]\n";
    let scene = Scene::new(text);
    let out = scene.post_render(&pod(IMAGE), &[]);
    let namespaces: Vec<Option<String>> = pull_secrets(&stdout(&out))
        .into_iter()
        .map(|(_, ns, _)| ns)
        .collect();
    assert_eq!(
        namespaces,
        [Some("apps".to_string()), Some("core-runs".to_string())]
    );
    let out = scene.post_render(&pod(IMAGE), &["--set", "team=Bad_Team"]);
    let err = stderr_of_failure(&out);
    assert!(
        err.contains(
            "secretNamespaces template `{{ vars.team }}-runs` (using vars.team) does not render to a valid namespace name"
        ),
        "{err}"
    );
    assert!(!err.contains("Bad_Team"), "{err}");
}
