//! Post-renderer chains (shared by the `helm regcred` wrappers and `post-render`): the user's own `--post-renderer` first, helm-regcred last (so it sees
//! the final manifests). Helm runs one post-renderer (helm/helm#7260 asks for more), so the
//! wrapper resolves the user's program, passes it to helm-regcred's post-render
//! (`--chain-before`, `--chain-arg`, `--chain-env`), and that runs it on Helm's stream.
//!
//! What the user's program is follows what Helm itself would run:
//! * Helm 3 (`pkg/postrender/exec.go`): a path; a bare name is looked up on `PATH`, a relative
//!   path made absolute.
//! * Helm 4 (`internal/plugin/runtime_subprocess.go`): the name of an installed
//!   `postrenderer/v1` plugin, run as its `platformCommand` (command split on spaces, every
//!   part and arg env-expanded, `HELM_PLUGIN_NAME`/`HELM_PLUGIN_DIR` set). The wrappers also
//!   take a path there, as on Helm 3.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// A program to run before helm-regcred: what `--chain-*` carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    pub command: PathBuf,
    pub args: Vec<String>,
    /// Set for it on top of the environment (a Helm 4 plugin's `HELM_PLUGIN_*`).
    pub env: Vec<(String, String)>,
}

impl Program {
    /// As post-render flags.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut before = OsString::from("--chain-before=");
        before.push(self.command.as_os_str());
        let mut out = vec![before];
        out.extend(
            self.args
                .iter()
                .map(|a| OsString::from(format!("--chain-arg={a}"))),
        );
        out.extend(
            self.env
                .iter()
                .map(|(k, v)| OsString::from(format!("--chain-env={k}={v}"))),
        );
        out
    }

    /// From post-render flags.
    pub fn from_args(command: &Path, args: &[String], env: &[String]) -> anyhow::Result<Self> {
        let env = env
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .with_context(|| format!("--chain-env {kv:?} is not KEY=VALUE"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Program {
            command: command.to_path_buf(),
            args: args.to_vec(),
            env,
        })
    }

    /// Run it on `input`; its stdout, or its stderr in the error.
    pub fn run(&self, input: &[u8]) -> anyhow::Result<Vec<u8>> {
        let shown = self.command.display();
        let mut child = Command::new(&self.command)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run your post-renderer {shown}"))?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        // Written from a thread: a program that writes before it has read all would block us.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let mut err_pipe = child.stderr.take().expect("stderr is piped");
        let errors = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = err_pipe.read_to_end(&mut text);
            text
        });
        let mut output = Vec::new();
        child
            .stdout
            .take()
            .expect("stdout is piped")
            .read_to_end(&mut output)
            .with_context(|| format!("cannot read the output of your post-renderer {shown}"))?;
        let status = child.wait().context("waiting for your post-renderer")?;
        let _ = writer.join();
        let stderr = String::from_utf8_lossy(&errors.join().unwrap_or_default()).into_owned();
        if !status.success() {
            bail!(
                "your post-renderer {shown} (run before helm-regcred) failed ({status}); its \
                 stderr:\n{}",
                stderr.trim_end()
            );
        }
        eprint!("{stderr}");
        Ok(output)
    }
}

/// The user's `--post-renderer NAME` as Helm `major` would run it.
pub fn resolve(
    major: u32,
    name: &str,
    args: &[String],
    plugin_dirs: &[PathBuf],
) -> anyhow::Result<Program> {
    if major >= 4
        && !name.contains('/')
        && let Some(program) = helm4_plugin(name, args, plugin_dirs)?
    {
        return Ok(program);
    }
    Ok(Program {
        command: executable(name)?,
        args: args.to_vec(),
        env: Vec::new(),
    })
}

/// Helm 3's lookup: a bare name on `PATH`, a path made absolute.
fn executable(name: &str) -> anyhow::Result<PathBuf> {
    let path = Path::new(name);
    let found = if name.contains('/') {
        std::path::absolute(path).ok().filter(|p| p.is_file())
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    };
    found.with_context(|| {
        format!(
            "--post-renderer {name}: no such program{}",
            if name.contains('/') {
                ""
            } else {
                " on PATH (nor, on Helm 4, a postrenderer/v1 plugin of that name)"
            }
        )
    })
}

#[derive(serde::Deserialize)]
struct PluginFile {
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(rename = "runtimeConfig")]
    runtime_config: Option<RuntimeConfig>,
}

#[derive(serde::Deserialize)]
struct RuntimeConfig {
    #[serde(rename = "platformCommand", default)]
    platform_command: Vec<PlatformCommand>,
}

#[derive(serde::Deserialize)]
struct PlatformCommand {
    #[serde(default)]
    os: String,
    #[serde(default)]
    arch: String,
    command: String,
    #[serde(default)]
    args: Vec<String>,
}

/// Go's names for this machine (`runtime.GOOS`, `runtime.GOARCH`).
fn go_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    (std::env::consts::OS, arch)
}

/// An installed `postrenderer/v1` plugin named `name`, as the command Helm 4 runs.
fn helm4_plugin(
    name: &str,
    args: &[String],
    plugin_dirs: &[PathBuf],
) -> anyhow::Result<Option<Program>> {
    for entry in plugin_dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .flatten()
    {
        let file = entry.path().join("plugin.yaml");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(plugin) = serde_saphyr::from_str::<PluginFile>(&text) else {
            continue;
        };
        if plugin.name != name {
            continue;
        }
        if plugin.kind != "postrenderer/v1" {
            bail!(
                "--post-renderer {name}: the Helm plugin {name} ({}) is of type {:?}, not \
                 postrenderer/v1",
                file.display(),
                plugin.kind
            );
        }
        let dir = entry.path();
        let commands = plugin
            .runtime_config
            .map(|r| r.platform_command)
            .unwrap_or_default();
        let (os, arch) = go_platform();
        // Helm's order: os and arch, then os alone, then an entry for every platform.
        let chosen = commands
            .iter()
            .find(|c| c.os == os && c.arch == arch)
            .or_else(|| commands.iter().find(|c| c.os == os && c.arch.is_empty()))
            .or_else(|| commands.iter().find(|c| c.os.is_empty()))
            .with_context(|| {
                format!(
                    "--post-renderer {name}: {} has no platformCommand for {os}/{arch}",
                    file.display()
                )
            })?;
        let env = vec![
            ("HELM_PLUGIN_NAME".to_string(), name.to_string()),
            ("HELM_PLUGIN_DIR".to_string(), dir.display().to_string()),
        ];
        let lookup = |var: &str| {
            env.iter()
                .find(|(k, _)| k == var)
                .map(|(_, v)| v.clone())
                .or_else(|| std::env::var(var).ok())
                .unwrap_or_default()
        };
        let mut parts = chosen.command.split(' ').map(|p| expand_env(p, &lookup));
        let command = PathBuf::from(parts.next().unwrap_or_default());
        let mut all: Vec<String> = parts.collect();
        all.extend(chosen.args.iter().map(|a| expand_env(a, &lookup)));
        all.extend(args.iter().cloned()); // Helm appends --post-renderer-args raw
        return Ok(Some(Program {
            command,
            args: all,
            env,
        }));
    }
    Ok(None)
}

/// Go's `os.Expand`: `$NAME` and `${NAME}`; unknown names become empty.
fn expand_env(text: &str, lookup: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(braced) = after.strip_prefix('{')
            && let Some(end) = braced.find('}')
        {
            out.push_str(&lookup(&braced[..end]));
            rest = &braced[end + 1..];
            continue;
        }
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if len == 0 {
            out.push('$');
        } else {
            out.push_str(&lookup(&after[..len]));
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_like_go() {
        let lookup = |v: &str| match v {
            "HELM_PLUGIN_DIR" => "/p".to_string(),
            _ => String::new(),
        };
        assert_eq!(expand_env("${HELM_PLUGIN_DIR}/bin/x", &lookup), "/p/bin/x");
        assert_eq!(expand_env("$HELM_PLUGIN_DIR/x", &lookup), "/p/x");
        assert_eq!(expand_env("a$NOPE-b", &lookup), "a-b");
        assert_eq!(expand_env("cost $", &lookup), "cost $");
    }

    #[test]
    fn resolves_a_helm4_plugin_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = dir.path().join("whatever");
        std::fs::create_dir(&plugin).unwrap();
        std::fs::write(
            plugin.join("plugin.yaml"),
            "apiVersion: v1\ntype: postrenderer/v1\nname: mine\nversion: 0.1.0\nruntime: subprocess\n\
             runtimeConfig:\n  platformCommand:\n    - os: plan9\n      command: nope\n    \
             - command: ${HELM_PLUGIN_DIR}/run.sh --fixed\n      args: [\"$HELM_PLUGIN_NAME\"]\n",
        )
        .unwrap();
        let dirs = [dir.path().to_path_buf()];
        let p = resolve(4, "mine", &["extra".into()], &dirs).unwrap();
        assert_eq!(p.command, plugin.join("run.sh"));
        assert_eq!(p.args, ["--fixed", "mine", "extra"]);
        assert!(p.env.contains(&("HELM_PLUGIN_NAME".into(), "mine".into())));
        // Helm 3 has no postrenderer plugins: a name is a program on PATH.
        let e = resolve(3, "mine", &[], &dirs).unwrap_err();
        assert!(e.to_string().contains("no such program on PATH"), "{e}");
        let back = Program::from_args(
            &p.command,
            &p.args,
            &p.env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert_eq!(back, p);
    }
}
