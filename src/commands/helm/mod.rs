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
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use helm_regcred::Options;
use helm_regcred::adapters::helm::{Color, exit_code, helm_bin, split};
use helm_regcred::views::diff::paint;

use super::{ColorWhen, ERROR_FILE_ENV, chain, process_env};

mod hooks;
mod plugins;
mod process;
mod stderr;
mod version;

pub use super::POSTRENDER_PLUGIN;

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
    /// in the list: `--regcred-rules FILE` (also `-r`/`--rules`; else $HELM_REGCRED_RULES, else
    /// ./regcred.yaml), `--regcred-set KEY=VALUE` (repeatable: `vars.KEY` in the rules'
    /// templates; Helm's `--set` stays the chart's), `--no-diff` (print nothing of what
    /// helm-regcred changed, nor its Helm 3 hook warnings), `--color auto|always|never` (the
    /// diff), and Helm's own `--post-renderer`/`--post-renderer-args`, run before helm-regcred.
    #[arg(
        value_name = "RELEASE CHART [FLAGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

/// Run the wrapped Helm command.
pub fn run(action: Action, args: &Args) -> anyhow::Result<ExitCode> {
    let command = action.helm_command();
    let split = split(command, &args.args)?;
    let env = &process_env;
    if split.positionals.is_empty() {
        bail!("usage: helm regcred {command} RELEASE CHART [helm flags] (see --help)");
    }
    if action == Action::Diff && split.no_diff {
        bail!("helm regcred diff prints only the diff: with --no-diff it would print nothing");
    }
    let rules = split
        .rules_path(env)
        .context("cannot read the current directory")?;
    // A broken rules file fails here, on stderr, before Helm runs: on Helm 4 the post-renderer
    // could only report it indirectly.
    let config = split.config(env)?;
    let helm = helm_bin(env);
    let major = version::helm_major(&helm)?;
    if major == 3 && split.output_dir {
        bail!(
            "--output-dir: Helm 3 post-renders nothing when it writes files (the post-renderer \
             gets an empty stream), so the files would lack the pull secrets; write the stream \
             instead (`helm regcred template ... > manifests.yaml`), or use Helm 4"
        );
    }
    let chained = match &split.post_renderer {
        Some(name) => {
            let dirs = if major >= 4 {
                plugins::plugin_dirs(&helm)?
            } else {
                Vec::new()
            };
            Some(chain::resolve(
                major,
                name,
                &split.post_renderer_args,
                &dirs,
            )?)
        }
        None => None,
    };
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
    if let Some(namespace) = split.namespace(env) {
        renderer_args.push(flag("--namespace=", namespace.as_ref()));
    }
    for (key, value) in &split.sets {
        renderer_args.push(format!("--set={key}={value}").into());
    }
    renderer_args.push(flag("--diff-file=", diff_file.as_os_str()));
    if let Some(program) = &chained {
        renderer_args.extend(program.to_args());
    }

    let mut cmd = Command::new(&helm);
    cmd.arg(command).arg("--post-renderer");
    if major == 3 {
        cmd.arg(&exe);
    } else {
        cmd.arg(POSTRENDER_PLUGIN);
        if let Some(plugins) = plugins::helm4_plugins(&helm, &exe)? {
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
        (Action::Diff, _) => process::Stdout::Keep,
        (_, true) => process::Stdout::PassAndKeep,
        (_, false) => process::Stdout::Pass,
    };
    let ran = process::run_helm(cmd, &helm, stdout)?;
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
        for conflict in stderr::ownership_conflicts(&ran.stderr) {
            if stderr::is_ours(&conflict.name, &config, diff.as_deref()) {
                eprintln!("{}", conflict.explain());
            }
        }
        if major == 3 && !split.no_diff && stderr::failed_pre_hook(&ran.stderr) {
            eprintln!("{}", hooks::HELM3_HOOKS);
        }
        return Ok(exit_code(ran.status));
    }
    let color = match split.color {
        Color::Auto => ColorWhen::Auto,
        Color::Always => ColorWhen::Always,
        Color::Never => ColorWhen::Never,
    };
    if let Some(printed) = ran.stdout.as_ref().filter(|_| !split.no_diff) {
        let options = Options {
            namespace: split.namespace(env),
            release: split.release(command),
            trust: super::trust::from_env(helm_regcred::trust::Trust::Trusted)?,
        };
        let unserved = hooks::helm3_unserved_hooks(printed, &config, &options, env);
        for line in &unserved {
            eprintln!("helm-regcred: warning: hook {line}");
        }
        if !unserved.is_empty() {
            eprintln!("{}", hooks::HELM3_HOOKS);
        }
    }
    match diff {
        Some(diff) if action == Action::Diff => {
            print!("{}", paint(&diff, color.for_stdout()))
        }
        Some(diff) if !split.no_diff => {
            eprint!("{}", paint(&diff, color.for_stderr()));
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
