//! Shared test helpers: the test inputs (fixtures, corpus), the real tools, and how to run the
//! binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The two tiers of inputs (tests/fixtures/support.rs, shared with the fast path's unit tests):
/// `corpus()` is `Some` when the corpus is there, announces loudly when it is not, and panics when
/// it is missing under `CI=true`; `fixture_streams` are the repository's own charts rendered by
/// the real Helm 3 and Helm 4, plus hand-written streams.
#[allow(dead_code)]
mod tiers {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/support.rs"
    ));
}
pub use tiers::{FixtureStream, corpus, fixtures_dir};

/// Every fixture stream. The rendered ones need the real Helm 3 and Helm 4, like every Helm test
/// here: missing is a failure, never a skip.
pub fn fixture_streams() -> &'static [FixtureStream] {
    let streams = tiers::fixture_streams(true);
    assert!(streams.len() >= 8, "fixture streams: {streams:?}");
    streams
}

/// The 16 post-renderer inputs of the corpus tier, exactly what Helm 3 and Helm 4 send, or
/// `None` (announced) without the corpus.
pub fn postrender_inputs() -> Option<Vec<PathBuf>> {
    let corpus = corpus()?;
    let mut files = Vec::new();
    for dir in ["postrender-helm3", "postrender-helm4"] {
        let mut these: Vec<PathBuf> = std::fs::read_dir(corpus.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        these.sort();
        files.extend(these);
    }
    assert_eq!(
        files.len(),
        16,
        "expected 16 corpus inputs, found {files:?}"
    );
    Some(files)
}

/// A real tool installed by `scripts/tools`. Never skips: a missing tool is a failure, because a
/// skipped integration test is how a broken integration ships.
pub fn tool(var: &str, fallback: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(fallback));
    assert!(
        path.is_file(),
        "{var} not found at {} — run scripts/tools (or scripts/test) to install the real tools",
        path.display()
    );
    path
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_helm-regcred"))
}

/// A command for the binary with a scrubbed environment: no user rules, no colour surprises.
pub fn regcred() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_remove("HELM_REGCRED_RULES")
        .env_remove("HELM_REGCRED_NAMESPACE")
        .env_remove("NO_COLOR")
        // Errors are recorded for `helm regcred last-error`: never in the developer's own state.
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("REG_USER", "robot")
        .env("REG_PASSWORD", TEST_PASSWORD);
    cmd
}

/// A password no output may ever contain.
pub const TEST_PASSWORD: &str = "s3cr3t-<&>\"\\-ünï";

/// Run with `stdin` piped in; returns the output.
pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn helm-regcred");
    let mut pipe = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// A temp dir holding a rules file with this text.
pub fn rules_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("regcred.yaml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Assert no output stream of `out` contains the test password in any common encoding.
pub fn assert_no_password(out: &Output) {
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(stream);
        assert!(!text.contains(TEST_PASSWORD), "password leaked on {name}");
    }
}

/// Write an executable script. A script written by this process and then executed can fail
/// with ETXTBSY ("Text file busy") when another test thread forks while the write descriptor
/// is open: the child holds it until its exec. So the text goes to a side file that is never
/// executed, and a child process (`install`) creates the executable.
pub fn write_executable(path: &Path, text: &str) {
    let source = path.with_extension("source");
    std::fs::write(&source, text).unwrap();
    let status = Command::new("install")
        .arg("-m")
        .arg("0755")
        .arg(&source)
        .arg(path)
        .status()
        .expect("run install");
    assert!(status.success(), "install {} failed", path.display());
    std::fs::remove_file(&source).unwrap();
}
