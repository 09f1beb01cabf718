//! Docs that run: every command README.md, docs/*.md and examples/*/README.md show is taken
//! from the files themselves and executed with the real Helm 3 and 4, kubectl and kpt.
//!
//! What counts as a command (the convention the docs follow):
//! - each command in a ```` ```sh ````, ```` ```bash ```` or ```` ```shell ```` block (a line,
//!   with `\` continuations); a page runs as one shell script, top to bottom, as a reader
//!   would in one terminal (what one block exports, the next has);
//! - each `$ ` line of a ```` ```console ```` block; the transcript's first output line must
//!   appear in what the command prints (its exit status is the transcript's business);
//! - a code span in a table cell that starts with `helm `, `helm-regcred `, `kpt ` or
//!   `kubectl ` and names a file or directory (a word with `/` or ending in `.yaml`);
//! - synopses are ```` ```text ```` blocks, not commands.
//!
//! A command that cannot run here carries the marker `not run in tests: REASON` — a `#`
//! comment line just above it in a block, or the text in its table cell — and is listed in the
//! test's output. Commands that read `../shared/corpus` run when the corpus is there.
//!
//! Where they run: a temp copy of the checkout (nothing is written into the tree), with the
//! docs' placeholders filled in at its root: `chart/` (the demo chart), `regcred.yaml` (its
//! rules), `my-values.yaml` (a user's values file: the chart's defaults) and `rendered.yaml` (its post-rendered stream). `PATH` holds `helm` (the major under
//! test), `helm-regcred` (the test build), kubectl and kpt; `cargo run [--release] -- ARGS` is
//! the test build with ARGS. Each page gets fresh Helm homes with the plugins installed, and a
//! kubeconfig pointing at the read-only API stand-in of the Helm tests. A command naming
//! `regcred-postrender` runs with Helm 4 only, one passing `helm-regcred` as the
//! `--post-renderer` path with Helm 3 only, every other with both.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helm::{FakeApi, Helm, repo, text};
use crate::util::{bin, tool};

#[derive(Debug, Clone)]
struct DocCommand {
    /// `file:line`, for messages.
    at: String,
    text: String,
    /// The transcript's first output line (console blocks).
    expect: Option<String>,
    not_run: Option<String>,
    /// The exit status it must end with.
    status: i32,
}

#[derive(Debug)]
struct Block {
    commands: Vec<DocCommand>,
}

fn doc_files() -> Vec<PathBuf> {
    let root = repo();
    let mut files = vec![root.join("README.md")];
    let mut more = Vec::new();
    for dir in ["docs", "examples"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let path = entry.path();
            if dir == "docs" && path.extension().is_some_and(|e| e == "md") {
                more.push(path);
            } else if dir == "examples" && path.join("README.md").is_file() {
                more.push(path.join("README.md"));
            }
        }
    }
    more.sort();
    files.extend(more);
    files
}

const MARKER: &str = "not run in tests:";

fn marker(text: &str) -> Option<String> {
    text.find(MARKER).map(|at| {
        let reason = &text[at + MARKER.len()..];
        let end = reason.find([';', ')']).unwrap_or(reason.len());
        reason[..end].trim().to_string()
    })
}

/// The blocks of commands of one Markdown file.
fn extract(file: &Path) -> Vec<Block> {
    let name = file.strip_prefix(repo()).unwrap().display().to_string();
    extract_text(&name, &std::fs::read_to_string(file).unwrap())
}

fn extract_text(name: &str, source: &str) -> Vec<Block> {
    let lines: Vec<&str> = source.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if let Some(lang) = line.strip_prefix("```") {
            let lang = lang.trim().to_string();
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                body.push((i + 1, lines[i]));
                i += 1;
            }
            i += 1;
            let commands = match lang.as_str() {
                "sh" | "bash" | "shell" => script_commands(name, &body),
                "console" => console_commands(name, &body),
                _ => Vec::new(),
            };
            if !commands.is_empty() {
                blocks.push(Block { commands });
            }
            continue;
        }
        if line.starts_with('|') {
            for cell in line.split('|') {
                // Code spans alternate with text; a span's marker is in the text after it.
                let parts: Vec<&str> = cell.split('`').collect();
                for (k, span) in parts.iter().enumerate().skip(1).step_by(2) {
                    if is_table_command(span) {
                        let after = parts.get(k + 1).copied().unwrap_or_default();
                        blocks.push(Block {
                            commands: vec![DocCommand {
                                at: format!("{name}:{}", i + 1),
                                text: span.to_string(),
                                expect: None,
                                not_run: marker(after),
                                status: status(after).unwrap_or(0),
                            }],
                        });
                    }
                }
            }
        }
        i += 1;
    }
    blocks
}

fn is_table_command(span: &str) -> bool {
    let programs = ["helm ", "helm-regcred ", "kpt ", "kubectl "];
    let names_a_file = |w: &str| {
        let w = w.trim_matches(['\'', '"']);
        w.ends_with(".yaml")
            || w.starts_with("./")
            || w.starts_with("../")
            || (w.contains('/') && repo().join(w).exists())
    };
    // `NAME=value program ...`: the environment a command needs, written before it.
    let command = span
        .split_whitespace()
        .skip_while(|w| {
            w.split_once('=').is_some_and(|(n, _)| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            })
        })
        .collect::<Vec<_>>()
        .join(" ");
    programs.iter().any(|p| command.starts_with(p))
        && command.split_whitespace().skip(1).any(names_a_file)
}

const STATUS: &str = "exit status:";

/// `exit status: N` in a comment above a command or in its table cell: the status it must
/// end with (`check` with findings exits 1).
fn status(text: &str) -> Option<i32> {
    let at = text.find(STATUS)?;
    text[at + STATUS.len()..]
        .split(|c: char| !c.is_ascii_digit() && c != ' ')
        .next()?
        .trim()
        .parse()
        .ok()
}

fn script_commands(file: &str, body: &[(usize, &str)]) -> Vec<DocCommand> {
    let mut out = Vec::new();
    let mut pending_marker = None;
    let mut pending_status = None;
    let mut k = 0;
    while k < body.len() {
        let (number, line) = body[k];
        let trimmed = line.trim();
        if trimmed.is_empty() {
            k += 1;
            continue;
        }
        if trimmed.starts_with('#') {
            if let Some(m) = marker(trimmed) {
                pending_marker = Some(m);
            }
            if let Some(s) = status(trimmed) {
                pending_status = Some(s);
            }
            k += 1;
            continue;
        }
        let mut text = line.to_string();
        while text.trim_end().ends_with('\\') && k + 1 < body.len() {
            k += 1;
            text.push('\n');
            text.push_str(body[k].1);
        }
        out.push(DocCommand {
            at: format!("{file}:{number}"),
            text,
            expect: None,
            not_run: pending_marker.take(),
            status: pending_status.take().unwrap_or(0),
        });
        k += 1;
    }
    out
}

fn console_commands(file: &str, body: &[(usize, &str)]) -> Vec<DocCommand> {
    let mut out: Vec<DocCommand> = Vec::new();
    let mut pending_marker = None;
    for &(number, line) in body {
        let trimmed = line.trim();
        if let Some(command) = trimmed.strip_prefix("$ ") {
            out.push(DocCommand {
                at: format!("{file}:{number}"),
                text: command.to_string(),
                expect: None,
                not_run: pending_marker.take(),
                status: 0,
            });
        } else if trimmed.starts_with('#') && marker(trimmed).is_some() && out.is_empty() {
            pending_marker = marker(trimmed);
        } else if let Some(last) = out.last_mut()
            && last.expect.is_none()
            && !trimmed.is_empty()
        {
            last.expect = Some(trimmed.to_string());
        }
    }
    out
}

/// A command naming an absolute path (other than `/dev/...`) could write outside the temp
/// copy of the checkout, so it is not run unmarked.
fn writes_outside(command: &str) -> bool {
    command
        .split_whitespace()
        .map(|w| w.trim_matches(['\'', '"']))
        .any(|w| w.starts_with('/') && !w.starts_with("/dev/"))
}

/// Which Helm majors a command is for.
fn majors(command: &str) -> Vec<u32> {
    if command.contains("regcred-postrender") && command.contains("--post-renderer") {
        vec![4]
    } else if command.contains("--post-renderer helm-regcred")
        || command.contains("--post-renderer \"$(command -v helm-regcred)\"")
    {
        vec![3]
    } else {
        vec![3, 4]
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let dest = to.join(&name);
        if meta.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&path).unwrap(), &dest).unwrap();
        } else if meta.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// The temp checkout with the docs' placeholders, and a bin dir per major.
struct Playground {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    bins: [(u32, PathBuf); 2],
    corpus: bool,
    api: FakeApi,
}

impl Playground {
    fn new() -> Playground {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("helm-regcred");
        copy_tree(repo(), &copy);
        // `../shared/corpus` from the copy, as from the checkout.
        let shared = repo().join("../shared");
        let corpus = shared.join("corpus/postrender-helm3").is_dir();
        if shared.is_dir() {
            std::os::unix::fs::symlink(&shared, dir.path().join("shared")).unwrap();
        }
        copy_tree(&repo().join("examples/charts/demo"), &copy.join("chart"));
        std::fs::copy(
            repo().join("examples/charts/demo/regcred.yaml"),
            copy.join("regcred.yaml"),
        )
        .unwrap();
        // The user's own values file the docs pass with `-f`: the demo chart's defaults.
        std::fs::copy(
            repo().join("examples/charts/demo/values.yaml"),
            copy.join("my-values.yaml"),
        )
        .unwrap();
        let mut bins = Vec::new();
        for (major, var, fallback) in [
            (3, "HELM3_BIN", "/root/.cache/helm-regcred/tools/helm3/helm"),
            (4, "HELM4_BIN", "/root/.cache/helm-regcred/tools/helm4/helm"),
        ] {
            let b = dir.path().join(format!("bin{major}"));
            std::fs::create_dir(&b).unwrap();
            std::os::unix::fs::symlink(tool(var, fallback), b.join("helm")).unwrap();
            std::os::unix::fs::symlink(bin(), b.join("helm-regcred")).unwrap();
            for (name, var, fallback) in [
                ("kubectl", "KUBECTL_BIN", "/usr/bin/kubectl"),
                ("kpt", "KPT_BIN", "/usr/bin/kpt"),
            ] {
                std::os::unix::fs::symlink(tool(var, fallback), b.join(name)).unwrap();
            }
            bins.push((major, b));
        }
        let bins: [(u32, PathBuf); 2] = bins.try_into().unwrap();
        let playground = Playground {
            _dir: dir,
            repo: copy,
            bins,
            corpus,
            api: FakeApi::start(Vec::new()),
        };
        // rendered.yaml: the demo chart through helm-regcred, as `helm template` gives it (Helm
        // 4: it post-renders hooks too, so every pod is served).
        let helm = Helm::v4().with_plugins(&[]);
        let rendered = helm
            .user()
            .current_dir(&playground.repo)
            .args(["template", "app", "chart", "-n", "apps"])
            .args(["--post-renderer", "regcred-postrender"])
            .args(["--post-renderer-args", "--rules=regcred.yaml"])
            .args(["--post-renderer-args", "--namespace=apps"])
            .output()
            .unwrap();
        assert!(rendered.status.success(), "{}", text(&rendered.stderr));
        std::fs::write(playground.repo.join("rendered.yaml"), &rendered.stdout).unwrap();
        playground
    }

    /// Run `commands` (one page) as one script with Helm `major`; `Err` names the command that
    /// failed and what it printed.
    fn run(&self, major: u32, commands: &[&DocCommand]) -> Result<(), String> {
        let helm = if major == 3 { Helm::v3() } else { Helm::v4() };
        let helm = helm.with_plugins(&[]);
        let home = helm.home.path();
        let bin_dir = &self.bins.iter().find(|(m, _)| *m == major).unwrap().1;
        let mut script = String::from(
            "set -e\n\
             cargo() {\n  [ \"$1\" = run ] || { echo \"the docs test runs only cargo run\" >&2; return 1; }\n  \
             while [ $# -gt 0 ] && [ \"$1\" != -- ]; do shift; done; shift\n  helm-regcred \"$@\"\n}\n",
        );
        let out_file = |n: usize| home.join(format!("console-output-{n}"));
        for (n, command) in commands.iter().enumerate() {
            script.push_str(&format!("echo '>>> {}' >&2\n", command.at));
            match &command.expect {
                None if command.status == 0 => {
                    script.push_str(&command.text);
                    script.push('\n');
                }
                None => {
                    script.push_str(&format!(
                        "set +e\n( {}\n)\nrc=$?\nset -e\n[ $rc -eq {} ] || {{ echo \"exit status $rc, not {}\" >&2; exit 1; }}\n",
                        command.text, command.status, command.status
                    ));
                }
                Some(_) => {
                    script.push_str(&format!(
                        "( {} ) > '{}' 2>&1 || true\n",
                        command.text,
                        out_file(n).display()
                    ));
                }
            }
        }
        let mut cmd = Command::new("bash");
        helm.isolate(&mut cmd);
        let path = format!("{}:/usr/bin:/bin", bin_dir.display());
        let out = cmd
            .current_dir(&self.repo)
            .arg("-c")
            .arg(&script)
            .env("PATH", path)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("xdg-config"))
            .env("KUSTOMIZE_PLUGIN_HOME", home.join("kustomize-plugins"))
            .env("KUBECONFIG", &self.api.kubeconfig)
            .env("HELM_REGCRED_BINARY", bin())
            .env_remove("HELM_REGCRED_CORPUS")
            .env_remove("CI")
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        if !out.status.success() {
            let failed = stderr
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix(">>> "))
                .unwrap_or("?");
            return Err(format!(
                "Helm {major}: {failed} failed ({}):\n--- stdout\n{}\n--- stderr\n{stderr}",
                out.status,
                text(&out.stdout)
            ));
        }
        for (n, command) in commands.iter().enumerate() {
            if let Some(expect) = &command.expect {
                let printed = std::fs::read_to_string(out_file(n)).unwrap_or_default();
                if !printed.contains(expect.as_str()) {
                    return Err(format!(
                        "Helm {major}: {} printed, not `{expect}`:\n{printed}",
                        command.at
                    ));
                }
            }
        }
        Ok(())
    }
}

#[test]
fn every_command_the_docs_show_runs() {
    let files = doc_files();
    // One script per file: a reader follows a page top to bottom in one shell, so what one
    // block exports, the next has.
    let pages: Vec<Vec<DocCommand>> = files
        .iter()
        .map(|f| extract(f).into_iter().flat_map(|b| b.commands).collect())
        .collect();
    let total: usize = pages.iter().map(Vec::len).sum();
    assert!(total > 20, "found only {total} commands in {files:?}");
    let playground = Playground::new();
    let mut not_run = Vec::new();
    let mut failures = Vec::new();
    let mut ran = 0;
    for page in &pages {
        let runnable: Vec<&DocCommand> = page
            .iter()
            .filter(|c| match &c.not_run {
                Some(reason) => {
                    not_run.push(format!(
                        "{}: {} — {reason}",
                        c.at,
                        c.text.lines().next().unwrap()
                    ));
                    false
                }
                // Only the temp copy may be written: an absolute path is somewhere else.
                None if writes_outside(&c.text) => {
                    failures.push(format!(
                        "{}: names an absolute path outside the temp copy; mark it `{MARKER} ...` \
                         or use a relative path: {}",
                        c.at, c.text
                    ));
                    false
                }
                None if c.text.contains("../shared/corpus") && !playground.corpus => {
                    not_run.push(format!("{}: needs ../shared/corpus, absent here", c.at));
                    false
                }
                None => true,
            })
            .collect();
        for major in [3, 4] {
            let these: Vec<&DocCommand> = runnable
                .iter()
                .copied()
                .filter(|c| majors(&c.text).contains(&major))
                .collect();
            if these.is_empty() {
                continue;
            }
            ran += these.len();
            if let Err(e) = playground.run(major, &these) {
                failures.push(e);
            }
        }
    }
    // Straight to stderr, not `println!`: libtest captures only the print macros, and this
    // list belongs in every run's output.
    let mut list = format!(
        "docs: {ran} command runs; not run here ({}):\n",
        not_run.len()
    );
    for line in &not_run {
        list.push_str(&format!("  {line}\n"));
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr(), list.as_bytes());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn extraction_follows_the_convention() {
    let blocks = extract_text(
        "t.md",
        "# t\n\n```sh\nexport A=1   # set\nhelm template app ./chart \\\n  -n apps\n# not run in tests: needs a cluster\nhelm install app ./chart\n```\n\n```text\nhelm regcred install RELEASE CHART\n```\n\n```console\n$ helm-regcred schema\n{\n```\n\n| a | `helm regcred values ./chart -o x.yaml`, then `helm install app ./chart` (not run in tests: needs a cluster) | `kpt fn eval --exec` |\n",
    );
    let commands: Vec<(String, Option<String>, Option<String>)> = blocks
        .iter()
        .flat_map(|b| b.commands.iter())
        .map(|c| (c.text.clone(), c.expect.clone(), c.not_run.clone()))
        .collect();
    assert_eq!(
        commands,
        [
            ("export A=1   # set".into(), None, None),
            ("helm template app ./chart \\\n  -n apps".into(), None, None),
            (
                "helm install app ./chart".into(),
                None,
                Some("needs a cluster".into())
            ),
            ("helm-regcred schema".into(), Some("{".into()), None),
            ("helm regcred values ./chart -o x.yaml".into(), None, None),
            (
                "helm install app ./chart".into(),
                None,
                Some("needs a cluster".into())
            ),
        ]
    );
    assert_eq!(blocks.len(), 4);
    assert_eq!(
        majors("helm template x --post-renderer regcred-postrender"),
        [4]
    );
    assert_eq!(majors("helm template x --post-renderer helm-regcred"), [3]);
    assert_eq!(majors("helm regcred template x ./chart"), [3, 4]);
}
