//! Values never appear in messages, through the real binary: a template rendering a password
//! into a bad name, a credential helper's answer, files that are not the rules file, and the
//! process environment. Every stream, the last-error record and KRM results are searched for
//! the test password. Templates also run with limits.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{TEST_PASSWORD, assert_no_password, regcred, run_with_stdin, write_executable};

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: apps}\nspec:\n  containers:\n  - {name: c, image: registry.example.com/app:1}\n";

fn rules(secret: &str, credentials: &str) -> String {
    format!(
        "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: {secret}\n    credentials: {credentials}\n"
    )
}

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

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = regcred();
        cmd.current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("HELM_REGCRED_ERROR_FILE", self.path("error-file"))
            .env_remove("HELM_REGCRED_TRUST")
            .args(args);
        cmd
    }

    /// Run, and check the password is in no stream and no file the run wrote.
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let out = run_with_stdin(self.cmd(args), stdin.as_bytes());
        assert_no_password(&out);
        for file in ["state/helm-regcred/last-error", "error-file", "diff.txt"] {
            let text = std::fs::read_to_string(self.path(file)).unwrap_or_default();
            assert!(!text.contains(TEST_PASSWORD), "password in {file}: {text}");
        }
        out
    }

    fn last_error(&self) -> String {
        std::fs::read_to_string(self.path("state/helm-regcred/last-error")).unwrap_or_default()
    }
}

fn failed(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    text(&out.stderr)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_name_rendered_from_a_password_shows_the_template_not_the_value() {
    let scene = Scene::new(&rules(
        "\"pull-{{ env.REG_PASSWORD }}\"",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    let out = scene.run(&["post-render", "--diff-file", "diff.txt"], POD);
    assert!(out.stdout.is_empty());
    let err = failed(&out);
    assert!(
        err.contains(
            "secret name template `pull-{{ env.REG_PASSWORD }}` (using env.REG_PASSWORD) does \
             not render to a valid Kubernetes Secret name"
        ),
        "{err}"
    );
    assert!(scene.last_error().contains("(using env.REG_PASSWORD)"));

    // The KRM function's results (stdout) too, once the runner allows the template to read it.
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {}",
        POD.trim_end().replace('\n', "\n  ")
    );
    let out = scene.run(
        &[
            "krm",
            "-r",
            "regcred.yaml",
            "--allow-env",
            "REG_USER,REG_PASSWORD",
            "--allow-template-env",
            "REG_PASSWORD",
        ],
        &format!("{list}\n"),
    );
    let err = failed(&out);
    assert!(err.contains("(using env.REG_PASSWORD)"), "{err}");
    assert!(
        text(&out.stdout).contains("severity: error"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_credential_helper_answer_is_never_echoed() {
    let scene = Scene::new(&rules("pull", "{dockerConfig: docker/config.json}"));
    std::fs::create_dir_all(scene.path("docker")).unwrap();
    std::fs::write(
        scene.path("docker/config.json"),
        r#"{"credsStore": "leaky"}"#,
    )
    .unwrap();
    std::fs::create_dir_all(scene.path("bin")).unwrap();
    // Prints a login on stdout, then fails: docker would show that stdout.
    write_executable(
        &scene.path("bin/docker-credential-leaky"),
        "#!/bin/sh\ncat >/dev/null\nprintf '{\"Username\":\"robot\",\"Secret\":\"%s\"}\\n' \"$REG_PASSWORD\"\nexit 1\n",
    );
    let mut cmd = scene.cmd(&["post-render"]);
    cmd.env(
        "PATH",
        format!("{}:/usr/bin:/bin", scene.path("bin").display()),
    );
    let out = run_with_stdin(cmd, POD.as_bytes());
    assert_no_password(&out);
    let err = failed(&out);
    assert!(
        err.contains("credential helper docker-credential-leaky failed for registry.example.com"),
        "{err}"
    );
    assert!(err.contains("its stdout is not shown"), "{err}");
    assert!(!scene.last_error().contains(TEST_PASSWORD));
}

#[test]
fn files_that_are_not_the_rules_file_are_never_quoted() {
    // A docker config cut short in the middle of a password, a login file without `:`, a
    // config whose password has the wrong type, and the process environment (which holds the
    // password in REG_PASSWORD, and reads as one line with `:`s in it).
    let whole = serde_json::json!({"auths": {"registry.example.com": {"password": TEST_PASSWORD}}});
    let whole = whole.to_string();
    let cut = whole.strip_suffix("\"}}}").unwrap().to_string();
    let cases = [
        (
            "{file: login.json}",
            "login.json",
            cut.clone(),
            "is not valid JSON",
        ),
        (
            "{file: login}",
            "login",
            TEST_PASSWORD.to_string(),
            "has no `:`",
        ),
        (
            "{dockerConfig: config.json}",
            "config.json",
            serde_json::json!({"auths": {"registry.example.com": {
                "username": TEST_PASSWORD, "password": 5
            }}})
            .to_string(),
            "does not have the shape of a docker config.json",
        ),
        (
            "{file: /proc/self/environ}",
            "unused",
            String::new(),
            // "holds control characters" (NULs), or "more than one line" if some variable
            // holds a line break: refused either way, unquoted.
            "expected one line `username:password` or a docker config.json",
        ),
    ];
    for (credentials, file, content, expected) in cases {
        let scene = Scene::new(&rules("pull", credentials));
        std::fs::write(scene.path(file), &content).unwrap();
        let out = scene.run(&["post-render"], POD);
        let err = failed(&out);
        assert!(err.contains(expected), "{credentials}: {err}");
        assert!(!err.contains("REG_USER="), "{credentials}: {err}");
    }
}

#[test]
fn a_template_that_never_ends_stops_with_a_clear_error() {
    let scene = Scene::new(&rules(
        "\"{% for a in 'x' * 100000 %}{% for b in 'x' * 100000 %}{% endfor %}{% endfor %}pull\"",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    let mut child = scene
        .cmd(&["post-render"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(POD.as_bytes())
            .unwrap();
    }
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("the template render did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let err = failed(&out);
    assert!(err.contains("stopped after 100000 steps"), "{err}");

    let scene = Scene::new(&rules(
        "\"{{ 'x' * 10000 ~ 'x' * 10000 }}\"",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    let err = failed(&scene.run(&["post-render"], POD));
    assert!(err.contains("renders to more than 16384 bytes"), "{err}");
}

/// A Secret whose `stringData` comes before `data`: `--diff`, `--diff-file` (and so every
/// `helm regcred` wrapper) once panicked on it, and the panic message printed the document,
/// plaintext included. Now the diff shows it redacted.
#[test]
fn a_secret_with_string_data_before_data_is_diffed_redacted() {
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: app, namespace: apps}}\nstringData:\n  password: {}\ndata:\n  token: c2VjcmV0\n---\n",
        serde_json::Value::from(TEST_PASSWORD)
    );
    let scene = Scene::new(&rules(
        "pull",
        "{env: {username: REG_USER, password: REG_PASSWORD}}",
    ));
    let input = format!("{secret}{POD}");
    let out = run_with_stdin(
        scene.cmd(&["post-render", "--diff", "--diff-file", "diff.txt"]),
        input.as_bytes(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains(TEST_PASSWORD), "{err}");
    let diff = std::fs::read_to_string(scene.path("diff.txt")).unwrap();
    assert!(!diff.contains(TEST_PASSWORD), "{diff}");
    assert!(
        diff.contains("+  - name: pull") || diff.contains("imagePullSecrets"),
        "{diff}"
    );
    // The input Secret passes through untouched.
    assert!(text(&out.stdout).starts_with("---\n# Source: helm-regcred/pull-secrets.yaml\n"));
    assert!(text(&out.stdout).contains(&secret));

    // Through the wrapper and the real Helm 3, which always passes --diff-file.
    let chart = crate::helm::temp_chart(
        "leaky",
        &[
            ("secret.yaml", secret.trim_end_matches("---\n")),
            ("pod.yaml", POD),
        ],
    );
    let helm = crate::helm::Helm::v3();
    let mut cmd = scene.cmd(&["template", "rel"]);
    cmd.arg(chart.path())
        .args(["--rules", "regcred.yaml"])
        .env("HELM_BIN", &helm.bin)
        .env("HELM_CACHE_HOME", helm.home.path().join("cache"))
        .env("HELM_CONFIG_HOME", helm.home.path().join("config"))
        .env("HELM_DATA_HOME", helm.home.path().join("data"));
    let out = run_with_stdin(cmd, b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains(TEST_PASSWORD), "{err}");
    assert!(
        err.contains("<redacted>") || err.contains("imagePullSecrets"),
        "{err}"
    );
}
