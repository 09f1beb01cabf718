//! Faults on every stream and file, through the real binary: closed stdin and stdout, a FIFO
//! where a regular file belongs, an unwritable or hostile state directory, and panics.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{TEST_PASSWORD, assert_no_password, bin, regcred, run_with_stdin};

const RULES: &str = "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: registry.example.com\n    secret: pull\n    credentials: {env: {username: REG_USER, password: REG_PASSWORD}}\n";
const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: registry.example.com/app:1}\n";

struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("regcred.yaml"), RULES).unwrap();
        std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
        Scene { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The binary with XDG_STATE_HOME in the scene.
    fn cmd(&self) -> Command {
        let mut cmd = regcred();
        cmd.current_dir(self.dir.path())
            .env("XDG_STATE_HOME", self.path("state"))
            .env_remove("HELM_REGCRED_ERROR_FILE");
        cmd
    }

    /// `sh -c SCRIPT` with `$0` the binary, for redirections Rust's Command cannot express.
    fn sh(&self, script: &str) -> Output {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg(bin())
            .current_dir(self.dir.path())
            .env("XDG_STATE_HOME", self.path("state"))
            .env("REG_USER", "robot")
            .env("REG_PASSWORD", TEST_PASSWORD)
            .env_remove("HELM_REGCRED_RULES");
        let out = cmd.output().unwrap();
        assert_no_password(&out);
        out
    }

    fn last_error(&self) -> String {
        std::fs::read_to_string(self.path("state/helm-regcred/last-error")).unwrap_or_default()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Spawn and wait, failing (and killing it) if it blocks: a refusal must not hang.
fn output_or_hang(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("helm-regcred blocked (still running after 60 s)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn closed_stdout_is_an_error_not_a_silent_success() {
    let scene = Scene::new();
    for script in [
        r#""$0" post-render -r regcred.yaml <pod.yaml >&-"#,
        r#""$0" render -r regcred.yaml pod.yaml >&-"#,
        r#""$0" schema >&-"#,
    ] {
        let out = scene.sh(script);
        assert_eq!(out.status.code(), Some(1), "{script}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("stdout is closed"),
            "{script}: {}",
            stderr(&out)
        );
    }
    assert!(scene.last_error().contains("stdout is closed"));
}

#[test]
fn closed_stdin_is_an_error_not_an_empty_stream() {
    let scene = Scene::new();
    for script in [
        r#""$0" post-render -r regcred.yaml <&-"#,
        r#""$0" render -r regcred.yaml - <&-"#,
        r#""$0" krm <&-"#,
    ] {
        let out = scene.sh(script);
        assert_eq!(out.status.code(), Some(1), "{script}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
        assert!(
            stderr(&out).contains("stdin: it is closed"),
            "{script}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn fifo_rules_or_credentials_file_is_refused_not_waited_on() {
    let scene = Scene::new();
    mkfifo(&scene.path("fifo.yaml"));
    let mut cmd = scene.cmd();
    cmd.args(["render", "-r", "fifo.yaml", "pod.yaml"]);
    let out = output_or_hang(cmd);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("cannot read rules file fifo.yaml: it is a FIFO, not a regular file"),
        "{}",
        stderr(&out)
    );

    // A credentials file likewise (and a device: /dev/zero would never end).
    mkfifo(&scene.path("login"));
    for file in ["login", "/dev/zero"] {
        std::fs::write(
            scene.path("regcred.yaml"),
            RULES.replace(
                "{env: {username: REG_USER, password: REG_PASSWORD}}",
                &format!("{{file: {file}}}"),
            ),
        )
        .unwrap();
        let mut cmd = scene.cmd();
        cmd.args(["render", "-r", "regcred.yaml", "pod.yaml"]);
        let out = output_or_hang(cmd);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn unwritable_state_is_reported_then_and_later() {
    let scene = Scene::new();
    // A regular file where the state directory should be: unwritable even for root.
    std::fs::write(scene.path("state"), "").unwrap();
    let mut cmd = scene.cmd();
    cmd.args(["render", "-r", "missing.yaml", "pod.yaml"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cannot read rules file missing.yaml"), "{err}");
    assert!(
        err.contains("this error could not be recorded for `helm regcred last-error`"),
        "{err}"
    );

    let mut cmd = scene.cmd();
    cmd.arg("last-error");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("errors could not be recorded in"), "{err}");
    assert!(!err.contains("no error recorded"), "{err}");
}

#[test]
fn planted_links_in_the_state_directory_are_not_followed() {
    let scene = Scene::new();
    // The state directory is a link to somewhere else: nothing is written there.
    let elsewhere = scene.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::create_dir(scene.path("state")).unwrap();
    symlink(&elsewhere, scene.path("state/helm-regcred")).unwrap();
    let mut cmd = scene.cmd();
    cmd.args(["render", "-r", "missing.yaml", "pod.yaml"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is a symbolic link"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    // A link planted where last-error goes is replaced, never written through.
    std::fs::remove_file(scene.path("state/helm-regcred")).unwrap();
    std::fs::create_dir(scene.path("state/helm-regcred")).unwrap();
    let victim = scene.path("victim");
    std::fs::write(&victim, "keep").unwrap();
    symlink(&victim, scene.path("state/helm-regcred/last-error")).unwrap();
    let mut cmd = scene.cmd();
    cmd.args(["render", "-r", "missing.yaml", "pod.yaml"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stderr(&out).contains("could not be recorded"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    assert!(
        scene
            .last_error()
            .contains("cannot read rules file missing.yaml")
    );
}

#[test]
fn a_panic_prints_no_payload_and_is_recorded_as_an_internal_error() {
    let scene = Scene::new();
    std::fs::create_dir_all(scene.path("state/helm-regcred")).unwrap();
    std::fs::write(scene.path("state/helm-regcred/last-error"), "stale\n").unwrap();
    let mut cmd = scene.cmd();
    // Debug builds panic on purpose with this text in the payload.
    cmd.arg("schema")
        .env("HELM_REGCRED_DEBUG_PANIC", TEST_PASSWORD);
    let out = run_with_stdin(cmd, b"");
    assert_eq!(out.status.code(), Some(101));
    assert_no_password(&out);
    assert!(stderr(&out).contains("helm-regcred: internal error at src/main.rs"));
    let recorded = scene.last_error();
    assert!(recorded.contains("internal error"), "{recorded}");
    assert!(!recorded.contains("stale"), "{recorded}");
    assert!(!recorded.contains(TEST_PASSWORD), "{recorded}");
}

#[test]
fn check_findings_are_not_lost_to_a_closed_stdout() {
    let scene = Scene::new();
    let out = scene.sh(r#""$0" check -r regcred.yaml pod.yaml >&-"#);
    // An error, not findings: `check` exits 2 when it cannot do its job.
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("stdout is closed"),
        "{}",
        stderr(&out)
    );
}
