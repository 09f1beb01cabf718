//! `helm regcred install|upgrade|template|diff RELEASE CHART [helm flags]`: Helm with
//! helm-regcred as its post-renderer, wired the way each Helm major needs.
//!
//! * Helm 3 takes a path: `--post-renderer <this binary> --post-renderer-args=post-render ...`.
//! * Helm 4 takes the name of a `postrenderer/v1` plugin: `--post-renderer regcred-postrender`.
//!   If that plugin is not installed (a machine whose Helm 3 shares the plugins directory must
//!   not have it), the checkout's `plugins/` is added to `HELM_PLUGINS` for this one run.
//!   `HELM_REGCRED_BINARY` makes the plugin's launcher run this very binary.
//! * Neither major tells a post-renderer the release or its namespace, so both go in as
//!   `--release`/`--namespace` (from the arguments, else `HELM_NAMESPACE`, which Helm sets for
//!   CLI plugins after taking `-n` off their arguments).
//! * The post-renderer writes its redacted diff to a file of this run (Helm 3 hides a
//!   successful post-renderer's stderr, Helm 4 any) and its error to another
//!   (`HELM_REGCRED_ERROR_FILE`): Helm 4 only says "plugin exited with error", so the wrapper
//!   prints the reason itself.
//!
//! Helm's arguments, stdin, stdout and exit code pass through untouched; stderr is copied through
//! as it comes, and read on the way to recognise Helm's ownership conflict on our Secret.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use helm_regcred::{Config, Options, Stream, plan};

use super::last_error::ERROR_FILE_ENV;

/// The Helm 4 post-renderer plugin (plugins/regcred-postrender/plugin.yaml).
pub const POSTRENDER_PLUGIN: &str = "regcred-postrender";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Install,
    Upgrade,
    Template,
    /// `helm template` through the post-renderer, printing only the diff.
    Diff,
}

impl Action {
    fn helm_command(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Upgrade => "upgrade",
            Action::Template | Action::Diff => "template",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// RELEASE CHART and any Helm flags, passed to Helm unchanged. helm-regcred's own, anywhere
    /// in the list: `--rules FILE` (`-r`; else $HELM_REGCRED_RULES, else ./regcred.yaml) and
    /// `--no-diff` (do not print what helm-regcred changed).
    #[arg(
        value_name = "RELEASE CHART [FLAGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

/// The wrapper's arguments, sorted into helm-regcred's and Helm's.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub rules: Option<PathBuf>,
    pub no_diff: bool,
    /// Everything for Helm, in the order given.
    pub helm_args: Vec<String>,
    pub positionals: Vec<String>,
    /// The last `-n`/`--namespace` among the arguments.
    pub namespace: Option<String>,
    pub generate_name: bool,
}

/// Long flags of `helm install|upgrade|template` (3.17 and 4.1, global ones included) that take
/// a value as the next argument. Needed to tell `-f values.yaml RELEASE CHART` apart; flags
/// with optional values (`--dry-run`, `--wait` in Helm 4) only take one after `=`.
const VALUE_FLAGS: &[&str] = &[
    "api-versions",
    "burst-limit",
    "ca-file",
    "cert-file",
    "color",
    "colour",
    "content-cache",
    "description",
    "history-max",
    "key-file",
    "keyring",
    "kube-apiserver",
    "kube-as-group",
    "kube-as-user",
    "kube-ca-file",
    "kube-context",
    "kube-tls-server-name",
    "kube-token",
    "kube-version",
    "kubeconfig",
    "labels",
    "name-template",
    "namespace",
    "output",
    "output-dir",
    "password",
    "qps",
    "registry-config",
    "repo",
    "repository-cache",
    "repository-config",
    "set",
    "set-file",
    "set-json",
    "set-literal",
    "set-string",
    "show-only",
    "timeout",
    "username",
    "values",
    "version",
];
/// Short flags that take a value: -a -f -l -n -o -s.
const VALUE_SHORTS: &str = "aflnos";

/// Sort `args` (what follows `helm regcred <action>`) for `helm <command>`; `check` also knows
/// its own `--release NAME`.
pub fn split(command: &str, args: &[String]) -> anyhow::Result<Split> {
    let mut s = Split::default();
    let mut i = 0;
    let value = |i: usize, flag: &str| -> anyhow::Result<String> {
        args.get(i + 1)
            .cloned()
            .with_context(|| format!("{flag} needs a value"))
    };
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            s.helm_args.extend(args[i..].iter().cloned());
            s.positionals.extend(args[i + 1..].iter().cloned());
            break;
        }
        if arg == "--no-diff" {
            s.no_diff = true;
        } else if arg == "--rules" || arg == "-r" {
            s.rules = Some(value(i, arg)?.into());
            i += 1;
        } else if let Some(v) = arg.strip_prefix("--rules=") {
            s.rules = Some(v.into());
        } else if arg.starts_with("--post-renderer") {
            bail!(
                "{arg}: helm regcred runs Helm with its own post-renderer; Helm takes only one \
                 (run helm itself to use another)"
            );
        } else if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let takes_value = VALUE_FLAGS.contains(&name)
                || (name == "server-side" && command == "upgrade")
                || (name == "release" && command == "check");
            s.helm_args.push(arg.clone());
            let v = match inline {
                Some(v) => Some(v),
                None if takes_value => {
                    let v = value(i, arg)?;
                    s.helm_args.push(v.clone());
                    i += 1;
                    Some(v)
                }
                None => None,
            };
            match name {
                "namespace" => s.namespace = v,
                "generate-name" => s.generate_name = true,
                _ => {}
            }
        } else if arg.len() >= 2 && arg.starts_with('-') {
            let mut chars = arg[1..].chars();
            let flag = chars.next().unwrap_or_default();
            let attached = chars.as_str();
            s.helm_args.push(arg.clone());
            if flag == 'g' {
                s.generate_name = true;
            }
            if VALUE_SHORTS.contains(flag) {
                let v = if !attached.is_empty() {
                    attached.trim_start_matches('=').to_string()
                } else {
                    let v = value(i, arg)?;
                    s.helm_args.push(v.clone());
                    i += 1;
                    v
                };
                if flag == 'n' {
                    s.namespace = Some(v);
                }
            }
        } else {
            s.helm_args.push(arg.clone());
            s.positionals.push(arg.clone());
        }
        i += 1;
    }
    Ok(s)
}

impl Split {
    /// The release name Helm will use, when the arguments say it.
    pub fn release(&self, command: &str) -> Option<String> {
        if self.generate_name {
            return None;
        }
        match self.positionals.as_slice() {
            [release, _chart, ..] => Some(release.clone()),
            // `helm template CHART` names the release `release-name`.
            [_chart] if command == "template" => Some("release-name".into()),
            _ => None,
        }
    }

    /// `-n` from the arguments, else `HELM_NAMESPACE` (Helm sets it for CLI plugins, with
    /// `-n` already taken off the arguments and the kube context's default applied).
    pub fn namespace(&self) -> Option<String> {
        self.namespace
            .clone()
            .or_else(|| std::env::var("HELM_NAMESPACE").ok())
            .filter(|ns| !ns.is_empty())
    }

    /// The rules file, made absolute (Helm 4 runs the post-renderer from the same directory,
    /// but an absolute path reads the same in every message).
    pub fn rules_path(&self) -> anyhow::Result<PathBuf> {
        let path = self
            .rules
            .clone()
            .or_else(|| std::env::var_os("HELM_REGCRED_RULES").map(PathBuf::from))
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("regcred.yaml"));
        Ok(if path.is_absolute() {
            path
        } else {
            std::env::current_dir()
                .context("cannot read the current directory")?
                .join(path)
        })
    }
}

/// `$HELM_BIN` (set by Helm for its plugins), else `helm` on PATH.
pub fn helm_bin() -> OsString {
    std::env::var_os("HELM_BIN")
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "helm".into())
}

/// The major version of `helm` (3 or 4).
pub fn helm_major(helm: &OsStr) -> anyhow::Result<u32> {
    let out = Command::new(helm)
        .args(["version", "--short"])
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "cannot run {} (set HELM_BIN or put helm on PATH)",
                helm.to_string_lossy()
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major = text
        .trim()
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse().ok());
    match major {
        Some(m @ (3 | 4)) if out.status.success() => Ok(m),
        _ => bail!(
            "{} version --short said {:?}: helm-regcred needs Helm 3 or Helm 4",
            helm.to_string_lossy(),
            text.trim()
        ),
    }
}

/// Run the wrapped Helm command.
pub fn run(action: Action, args: &Args) -> anyhow::Result<ExitCode> {
    let command = action.helm_command();
    let split = split(command, &args.args)?;
    if split.positionals.is_empty() {
        bail!("usage: helm regcred {command} RELEASE CHART [helm flags] (see --help)");
    }
    let rules = split.rules_path()?;
    // A broken rules file fails here, on stderr, before Helm runs: on Helm 4 the post-renderer
    // could only report it indirectly.
    let config = Config::load(&rules)?;
    let helm = helm_bin();
    let major = helm_major(&helm)?;
    let scratch = tempfile::Builder::new()
        .prefix("helm-regcred-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let diff_file = scratch.path().join("diff");
    let error_file = scratch.path().join("error");
    let exe = std::env::current_exe().context("cannot find the helm-regcred binary")?;

    let mut renderer_args: Vec<OsString> = Vec::new();
    if major == 3 {
        renderer_args.push("post-render".into()); // Helm 4: the plugin's own args say it
    }
    renderer_args.push(flag("--rules=", rules.as_os_str()));
    if let Some(release) = split.release(command) {
        renderer_args.push(flag("--release=", release.as_ref()));
    }
    if let Some(namespace) = split.namespace() {
        renderer_args.push(flag("--namespace=", namespace.as_ref()));
    }
    renderer_args.push(flag("--diff-file=", diff_file.as_os_str()));

    let mut cmd = Command::new(&helm);
    cmd.arg(command).arg("--post-renderer");
    if major == 3 {
        cmd.arg(&exe);
    } else {
        cmd.arg(POSTRENDER_PLUGIN);
        if let Some(plugins) = helm4_plugins(&helm, &exe)? {
            cmd.env("HELM_PLUGINS", plugins);
        }
        cmd.env("HELM_REGCRED_BINARY", &exe);
    }
    for a in &renderer_args {
        cmd.arg(flag("--post-renderer-args=", a));
    }
    // Ours first: Helm's own list may end in `--`, after which nothing is a flag.
    cmd.args(&split.helm_args)
        .env(ERROR_FILE_ENV, &error_file)
        .stdin(Stdio::inherit());

    // Helm 3 prints hooks (template, --dry-run) but never post-renders them: keep a copy of what
    // it prints to point out hook pods that still lack their pull secret.
    let prints_manifests = action == Action::Template
        || action == Action::Diff
        || split
            .helm_args
            .iter()
            .any(|a| a == "--dry-run" || a.starts_with("--dry-run="));
    let stdout = match (action, major == 3 && prints_manifests) {
        (Action::Diff, _) => Stdout::Keep,
        (_, true) => Stdout::PassAndKeep,
        (_, false) => Stdout::Pass,
    };
    let ran = run_helm(cmd, &helm, stdout)?;
    let diff = std::fs::read_to_string(&diff_file).ok();

    if !ran.status.success() {
        let error = std::fs::read_to_string(&error_file).unwrap_or_default();
        if major == 4 && !error.trim().is_empty() {
            // Helm 3 already printed the post-renderer's stderr inside its own error.
            eprintln!(
                "helm-regcred: the post-renderer failed (Helm 4 does not show why); its error:\n{}\n\
                 (`helm regcred last-error` shows it again)",
                error.trim_end()
            );
        }
        for conflict in ownership_conflicts(&ran.stderr) {
            if is_ours(&conflict.name, &config, diff.as_deref()) {
                eprintln!("{}", conflict.explain());
            }
        }
        if major == 3 && failed_pre_hook(&ran.stderr) {
            eprintln!("{HELM3_HOOKS}");
        }
        return Ok(exit_code(ran.status));
    }
    if let Some(printed) = &ran.stdout {
        let options = Options {
            namespace: split.namespace(),
            release: split.release(command),
            trust: super::trust::from_env(helm_regcred::trust::Trust::Trusted)?,
        };
        let unserved = helm3_unserved_hooks(printed, &config, &options);
        if !unserved.is_empty() {
            eprintln!(
                "helm-regcred: warning: these hook pods pull from a registry in the rules without its \
                 pull secret:"
            );
            for line in &unserved {
                eprintln!("  {line}");
            }
            eprintln!("{HELM3_HOOKS}");
        }
    }
    match diff {
        Some(diff) if action == Action::Diff => print!("{}", paint(&diff, stdout_color())),
        Some(diff) if !split.no_diff => {
            eprint!("{}", paint(&diff, super::ColorWhen::Auto.for_stderr()));
        }
        Some(_) => {}
        None if action == Action::Diff => {
            eprintln!("helm-regcred: Helm did not run the post-renderer (nothing to compare)");
        }
        None => {}
    }
    Ok(exit_code(ran.status))
}

fn flag(prefix: &str, value: &OsStr) -> OsString {
    let mut s = OsString::from(prefix);
    s.push(value);
    s
}

/// What becomes of Helm's stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// Straight to ours (a terminal stays a terminal).
    Pass,
    /// Copied to ours as it comes, and kept.
    PassAndKeep,
    /// Kept, not shown.
    Keep,
}

pub struct Ran {
    pub status: std::process::ExitStatus,
    /// The tail of Helm's stderr (which was copied to ours as it came).
    pub stderr: String,
    pub stdout: Option<Vec<u8>>,
}

/// Run `cmd` with its stderr copied to ours as it comes, keeping the tail (an error, if any, is
/// at the end).
pub fn run_helm(mut cmd: Command, helm: &OsStr, stdout: Stdout) -> anyhow::Result<Ran> {
    const KEEP: usize = 256 * 1024;
    cmd.stderr(Stdio::piped()).stdout(match stdout {
        Stdout::Pass => Stdio::inherit(),
        Stdout::PassAndKeep | Stdout::Keep => Stdio::piped(),
    });
    let mut child = cmd
        .spawn()
        .with_context(|| format!("cannot run {}", helm.to_string_lossy()))?;
    // Ctrl-C reaches Helm too (same process group) and Helm decides what to do with it (roll
    // back, clean up). Dying first would close the pipes Helm writes to and kill it mid-cleanup.
    // Ignored only after the spawn, so Helm itself keeps the default handling.
    let guard = IgnoreInterrupts::new();
    let err_pipe = child.stderr.take().expect("stderr is piped");
    let err = std::thread::spawn(move || pump(err_pipe, Some(Box::new(std::io::stderr())), KEEP));
    let out = child.stdout.take().map(|pipe| {
        let to: Option<Box<dyn Write + Send>> = match stdout {
            Stdout::PassAndKeep => Some(Box::new(std::io::stdout())),
            _ => None,
        };
        std::thread::spawn(move || pump(pipe, to, usize::MAX))
    });
    let status = child.wait().context("waiting for helm")?;
    drop(guard);
    let stderr = err.join().unwrap_or_default();
    let stdout = out.map(|t| t.join().unwrap_or_default());
    Ok(Ran {
        status,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        stdout,
    })
}

/// Copy `from` to `to` as it comes; return what came, at most about the last `keep` bytes.
fn pump(mut from: impl Read, mut to: Option<Box<dyn Write + Send>>, keep: usize) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Some(to) = to.as_mut() {
                    let _ = to.write_all(&buf[..n]).and_then(|()| to.flush());
                }
                seen.extend_from_slice(&buf[..n]);
                if seen.len() > keep.saturating_mul(2) {
                    seen.drain(..seen.len() - keep);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    seen
}

/// What Helm 3 cannot do for hooks, and what to do instead (docs/helm.md, "Hooks").
const HELM3_HOOKS: &str = "\
helm-regcred: Helm 3 never passes hooks to a post-renderer: hook pods get no pull secret from
  helm-regcred, and pre-install/pre-upgrade hooks run before the release's own Secret exists.
  If a hook pulls from a private registry, either
  - use Helm 4 (helm-regcred then adds the pull Secret as a hook too), or
  - create the Secret before installing (`helm regcred create-secret`, and `create: false` for
    that registry in the rules) and reference it through the chart's values
    (`helm regcred values`).
  `helm regcred check RELEASE CHART` lists every pod that lacks its pull secret.";

/// Helm 3 says a pre-install/pre-upgrade hook failed (`failed pre-install: ...`).
fn failed_pre_hook(stderr: &str) -> bool {
    stderr.contains("failed pre-install") || stderr.contains("failed pre-upgrade")
}

/// Pre-install/pre-upgrade hook pods in what Helm 3 printed that lack a pull secret the rules
/// give them, as `Kind/name (source): lacks secret`.
fn helm3_unserved_hooks(printed: &[u8], config: &Config, options: &Options) -> Vec<String> {
    let text = String::from_utf8_lossy(printed);
    // `install --dry-run` prints `HOOKS:` and `MANIFEST:` sections around YAML; `template`
    // prints YAML only.
    let yaml = match text.split_once("\nHOOKS:\n") {
        Some((_, rest)) => rest.split("\nMANIFEST:\n").next().unwrap_or_default(),
        None => &text,
    };
    let hooks: Vec<&str> = yaml
        .split("\n---")
        .filter(|doc| {
            doc.contains("helm.sh/hook")
                && (doc.contains("pre-install") || doc.contains("pre-upgrade"))
        })
        .collect();
    if hooks.is_empty() {
        return Vec::new();
    }
    let joined = hooks.join("\n---");
    let Ok(stream) = Stream::parse(joined.as_bytes()) else {
        return Vec::new();
    };
    let Ok(plan) = plan(&stream, config, options) else {
        return Vec::new();
    };
    plan.changes
        .iter()
        .filter(|c| !c.added.is_empty())
        .map(|c| {
            let what = match (&c.at.kind, &c.at.name) {
                (Some(k), Some(n)) => format!("{k}/{n}"),
                _ => format!("document {}", c.at.doc),
            };
            let from =
                c.at.source
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
            format!("{what}{from}: lacks {}", c.added.join(", "))
        })
        .collect()
}

/// Helm's exit code, as ours.
pub fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE, // killed by a signal
    }
}

struct IgnoreInterrupts {
    #[cfg(unix)]
    previous: libc::sighandler_t,
}

impl IgnoreInterrupts {
    fn new() -> Self {
        #[cfg(unix)]
        {
            // SAFETY: SIG_IGN is a valid disposition; restored in Drop.
            let previous = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
            IgnoreInterrupts { previous }
        }
        #[cfg(not(unix))]
        IgnoreInterrupts {}
    }
}

impl Drop for IgnoreInterrupts {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: restores the disposition `new` found.
        unsafe {
            libc::signal(libc::SIGINT, self.previous);
        }
    }
}

/// `HELM_PLUGINS` for Helm 4 when `regcred-postrender` is not installed: the current list plus
/// the checkout's `plugins/` (found beside the CLI plugin, or above this binary). `None` when
/// Helm already has the plugin.
fn helm4_plugins(helm: &OsStr, exe: &Path) -> anyhow::Result<Option<OsString>> {
    let current = match std::env::var_os("HELM_PLUGINS").filter(|p| !p.is_empty()) {
        Some(p) => p,
        None => {
            let out = Command::new(helm)
                .args(["env", "HELM_PLUGINS"])
                .stdin(Stdio::null())
                .output()
                .context("helm env HELM_PLUGINS")?;
            String::from_utf8_lossy(&out.stdout).trim().into()
        }
    };
    let dirs: Vec<PathBuf> = std::env::split_paths(&current).collect();
    if dirs.iter().any(|d| has_postrender_plugin(d)) {
        return Ok(None);
    }
    let plugin_dir = std::env::var_os("HELM_PLUGIN_DIR").map(PathBuf::from);
    let bundled = plugin_dir
        .iter()
        .map(|d| d.join("plugins"))
        .chain(exe.ancestors().skip(1).map(|d| d.join("plugins")))
        .find(|d| d.join(POSTRENDER_PLUGIN).join("plugin.yaml").is_file());
    let Some(bundled) = bundled else {
        bail!(
            "Helm 4 runs post-renderers as plugins, and {POSTRENDER_PLUGIN} is not installed: run \
             scripts/install-plugin in the helm-regcred checkout, or `helm plugin install \
             <checkout>/plugins/{POSTRENDER_PLUGIN}`"
        );
    };
    let joined = std::env::join_paths(dirs.into_iter().chain([bundled]))
        .context("cannot extend HELM_PLUGINS")?;
    Ok(Some(joined))
}

/// Does `dir` hold a plugin named regcred-postrender? Helm names the directory after where the
/// plugin was installed from, so read each plugin.yaml's top-level `name:`.
fn has_postrender_plugin(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        std::fs::read_to_string(entry.path().join("plugin.yaml")).is_ok_and(|text| {
            text.lines().any(|line| {
                line.strip_prefix("name:")
                    .map(|v| v.trim().trim_matches(['"', '\'']))
                    == Some(POSTRENDER_PLUGIN)
            })
        })
    })
}

fn stdout_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Colour a unified diff the way `helm_regcred::diff` does, for a diff read back from a file.
fn paint(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    diff.lines()
        .map(|line| {
            let code = if line.starts_with("+++") || line.starts_with("---") {
                "\x1b[1m"
            } else if line.starts_with('+') {
                "\x1b[32m"
            } else if line.starts_with('-') {
                "\x1b[31m"
            } else if line.starts_with("@@") {
                "\x1b[36m"
            } else {
                return format!("{line}\n");
            };
            format!("{code}{line}\x1b[0m\n")
        })
        .collect()
}

/// Helm refusing to adopt an existing object into a release (pkg/action/validate.go):
/// `Secret "N" in namespace "NS" exists and cannot be imported into the current release:
/// invalid ownership metadata; ...`.
#[derive(Debug, PartialEq, Eq)]
pub struct Conflict {
    pub name: String,
    pub namespace: String,
    /// The release that owns it (`current value is "..."`); `None`: not created by Helm.
    pub owner: Option<String>,
}

pub fn ownership_conflicts(stderr: &str) -> Vec<Conflict> {
    const MARK: &str = "exists and cannot be imported into the current release";
    let mut out = Vec::new();
    for (at, _) in stderr.match_indices("Secret \"") {
        let rest = &stderr[at + "Secret \"".len()..];
        let Some((name, rest)) = rest.split_once('"') else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(" in namespace \"") else {
            continue;
        };
        let Some((namespace, rest)) = rest.split_once('"') else {
            continue;
        };
        let rest = rest.trim_start();
        if !rest.starts_with(MARK) || !rest.contains("invalid ownership metadata") {
            continue;
        }
        let detail = rest.lines().next().unwrap_or_default();
        let owner = detail
            .split_once("\"meta.helm.sh/release-name\" must equal ")
            .and_then(|(_, r)| r.split_once("current value is \""))
            .and_then(|(_, r)| r.split_once('"'))
            .map(|(owner, _)| owner.to_string());
        let conflict = Conflict {
            name: name.to_string(),
            namespace: namespace.to_string(),
            owner,
        };
        if !out.contains(&conflict) {
            out.push(conflict);
        }
    }
    out
}

/// Is `name` a Secret helm-regcred adds? Its rules name it, or this run's diff added it.
fn is_ours(name: &str, config: &Config, diff: Option<&str>) -> bool {
    config.registries.iter().any(|r| r.secret == name)
        || diff.is_some_and(|d| {
            d.lines()
                .any(|l| l.trim_start_matches('+').trim() == format!("name: {name}"))
        })
}

impl Conflict {
    pub fn explain(&self) -> String {
        let Conflict {
            name, namespace, ..
        } = self;
        match &self.owner {
            Some(owner) => format!(
                "helm-regcred: Secret {name} in namespace {namespace} is the pull Secret helm-regcred \
                 adds, and release {owner:?} already owns it: Helm lets one release own an object, so \
                 two releases in one namespace cannot both add a Secret of that name. Fix, either:\n  \
                 - name the Secret per release in the rules: `secret: \"{{{{ release }}}}-pull\"` \
                 (and `secrets: [\"{{{{ release }}}}-pull\"]` in rules that name it), or\n  \
                 - let one release (or `helm regcred create-secret`) own it and give the other \
                 releases rules with `create: false` for that registry: they then only reference it."
            ),
            None => format!(
                "helm-regcred: Secret {name} in namespace {namespace} exists but was not created by \
                 Helm (kubectl, `helm regcred create-secret`, ...), so Helm will not add it to this \
                 release. Fix, either:\n  \
                 - keep it and set `create: false` for that registry in the rules: pods still get \
                 `imagePullSecrets: [{name}]`, no Secret is emitted, or\n  \
                 - delete it and run again, or let Helm adopt it with --take-ownership."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn split_finds_release_chart_namespace_and_our_flags() {
        let args = strings(&[
            "-f",
            "values.yaml",
            "--rules",
            "r.yaml",
            "app",
            "--set=a=b",
            "--namespace",
            "ns1",
            "./chart",
            "--no-diff",
            "--dry-run",
            "-nns2",
            "--wait",
            "--timeout",
            "5m",
        ]);
        let s = split("install", &args).unwrap();
        assert_eq!(s.positionals, ["app", "./chart"]);
        assert_eq!(s.rules, Some(PathBuf::from("r.yaml")));
        assert!(s.no_diff);
        assert_eq!(s.namespace.as_deref(), Some("ns2"));
        assert_eq!(s.release("install").as_deref(), Some("app"));
        assert_eq!(
            s.helm_args,
            strings(&[
                "-f",
                "values.yaml",
                "app",
                "--set=a=b",
                "--namespace",
                "ns1",
                "./chart",
                "--dry-run",
                "-nns2",
                "--wait",
                "--timeout",
                "5m",
            ])
        );
    }

    #[test]
    fn split_generate_name_and_template_defaults() {
        let s = split("install", &strings(&["./chart", "-g"])).unwrap();
        assert_eq!(s.release("install"), None);
        let s = split("template", &strings(&["./chart"])).unwrap();
        assert_eq!(s.release("template").as_deref(), Some("release-name"));
        let s = split("upgrade", &strings(&["--server-side", "true", "r", "c"])).unwrap();
        assert_eq!(s.positionals, ["r", "c"]);
        let s = split("install", &strings(&["--server-side", "r", "c"])).unwrap();
        assert_eq!(s.positionals, ["r", "c"]);
        let s = split(
            "template",
            &strings(&["-é", "-n=ns", "r", "--", "c", "--x"]),
        )
        .unwrap();
        assert_eq!(s.namespace.as_deref(), Some("ns"));
        assert_eq!(s.positionals, ["r", "c", "--x"]);
        assert_eq!(s.helm_args, ["-é", "-n=ns", "r", "--", "c", "--x"]);
    }

    #[test]
    fn split_rejects_a_second_post_renderer_and_missing_values() {
        let e = split("install", &strings(&["r", "c", "--post-renderer", "x"])).unwrap_err();
        assert!(e.to_string().contains("its own post-renderer"), "{e}");
        let e = split("install", &strings(&["r", "c", "--rules"])).unwrap_err();
        assert!(e.to_string().contains("--rules needs a value"), "{e}");
    }

    #[test]
    fn recognises_helms_ownership_errors() {
        let owned = "Error: INSTALLATION FAILED: Unable to continue with install: Secret \"demo-pull\" \
            in namespace \"apps\" exists and cannot be imported into the current release: invalid \
            ownership metadata; annotation validation error: key \"meta.helm.sh/release-name\" must \
            equal \"rel2\": current value is \"rel1\"\n";
        assert_eq!(
            ownership_conflicts(owned),
            [Conflict {
                name: "demo-pull".into(),
                namespace: "apps".into(),
                owner: Some("rel1".into()),
            }]
        );
        let foreign = "Error: Unable to continue with install: Secret \"regcred\" in namespace \"d\" \
            exists and cannot be imported into the current release: invalid ownership metadata; label \
            validation error: missing key \"app.kubernetes.io/managed-by\": must be set to \"Helm\"; \
            annotation validation error: missing key \"meta.helm.sh/release-name\": must be set to \"x\"";
        let found = ownership_conflicts(foreign);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].owner, None);
        assert!(found[0].explain().contains("create: false"));
        let other = "Error: ServiceAccount \"sa\" in namespace \"d\" exists and cannot be imported into \
            the current release: invalid ownership metadata";
        assert!(ownership_conflicts(other).is_empty());
        let explained = ownership_conflicts(owned)[0].explain();
        assert!(explained.contains("{{ release }}-pull"), "{explained}");
        assert!(explained.contains("\"rel1\""), "{explained}");
    }

    #[test]
    fn recognises_a_failed_pre_hook() {
        assert!(failed_pre_hook(
            "Error: INSTALLATION FAILED: failed pre-install: 1 error occurred:\n\t* timed out waiting for the condition\n"
        ));
        assert!(failed_pre_hook(
            "Error: UPGRADE FAILED: failed pre-upgrade: job failed: BackoffLimitExceeded"
        ));
        assert!(!failed_pre_hook(
            "Error: INSTALLATION FAILED: failed post-install: x"
        ));
    }

    #[test]
    fn finds_unserved_pre_hooks_in_dry_run_output() {
        let config = Config::parse(
            "apiVersion: helm-regcred/v1\nkind: RegcredConfig\nregistries:\n  - server: r.example.com\n    secret: pull\n    credentials: {env: {username: U, password: P}}\n",
            "<test>",
        )
        .unwrap();
        let printed = "NAME: x\nHOOKS:\n---\n# Source: c/templates/job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  template:\n    spec:\n      containers: [{name: m, image: r.example.com/m:1}]\n---\n# Source: c/templates/test.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers: [{name: t, image: r.example.com/t:1}]\nMANIFEST:\n---\n# Source: c/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [{name: p, image: r.example.com/p:1}]\n\nNOTES:\nhello: [\n";
        assert_eq!(
            helm3_unserved_hooks(printed.as_bytes(), &config, &Options::default()),
            ["Job/migrate (c/templates/job.yaml): lacks pull"]
        );
    }

    #[test]
    fn finds_the_postrender_plugin_by_name_not_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_postrender_plugin(dir.path()));
        std::fs::create_dir(dir.path().join("whatever")).unwrap();
        std::fs::write(
            dir.path().join("whatever/plugin.yaml"),
            "apiVersion: v1\nname: \"regcred-postrender\"\n",
        )
        .unwrap();
        assert!(has_postrender_plugin(dir.path()));
    }
}
