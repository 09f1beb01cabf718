//! What the user reads about the CLI: `--help` in the terms of the front end that runs it, and
//! man pages generated from the same clap definitions (so neither can drift from the flags).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Commands Helm, kustomize and kpt call; a person never types them after `helm regcred`.
/// (`install-binary` is for container images.)
const MACHINE_COMMANDS: &[&str] = &["post-render", "krm", "kustomize", "install-binary"];

#[derive(clap::Args)]
pub struct Args {
    /// Directory to write the pages into (created if missing).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
}

/// True when Helm runs this process as a plugin (`helm regcred ...`): Helm sets
/// HELM_PLUGIN_NAME for every plugin it runs, CLI and post-renderer, on both majors.
pub fn under_helm() -> bool {
    std::env::var_os("HELM_PLUGIN_NAME").is_some_and(|name| !name.is_empty())
}

/// The CLI as the running front end should describe it. Under Helm, usage lines and examples
/// read `helm regcred ...` and the commands Helm itself calls are hidden (they still run).
pub fn for_front_end(cmd: clap::Command) -> clap::Command {
    if under_helm() {
        in_helm_terms(cmd)
    } else {
        cmd
    }
}

/// `helm regcred --help`: Helm's command line, without the machine-facing commands.
pub fn in_helm_terms(mut cmd: clap::Command) -> clap::Command {
    cmd = cmd
        .bin_name("helm regcred")
        .display_name("helm regcred")
        .override_usage(
            "helm regcred install|upgrade|template RELEASE CHART [helm flags] [-r FILE] [--no-diff]\n       \
             helm regcred diff|check RELEASE CHART [helm flags] [-r FILE]\n       \
             helm regcred <COMMAND> [OPTIONS]",
        );
    for name in MACHINE_COMMANDS {
        cmd = cmd.mut_subcommand(*name, |sub| sub.hide(true));
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|sub| sub.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| {
            let usage = sub
                .get_overridden_usage()
                .map(|u| helm_terms(&u.to_string()));
            let after = sub.get_after_help().map(|a| helm_terms(&a.to_string()));
            let mut sub = sub;
            if let Some(usage) = usage {
                sub = sub.override_usage(usage);
            }
            if let Some(after) = after {
                sub = sub.after_help(after);
            }
            sub
        });
    }
    // Scripts for the binary are no use here: Helm completes `helm regcred` itself.
    cmd.mut_subcommand("completion", |sub| sub.hide(true))
        .after_help(HELM_EXAMPLES)
}

const HELM_EXAMPLES: &str = "Examples:
  helm regcred install app ./chart -n apps -r regcred.yaml
  helm regcred template app ./chart -r regcred.yaml --show-only pull-secrets.yaml
  helm regcred check app ./chart -r regcred.yaml
  helm regcred last-error

Helm 4 also has the post-renderer plugin: helm install app ./chart --post-renderer regcred-postrender
`helm regcred <TAB>` completes through Helm's own completion (`helm completion bash|zsh|fish`).";

/// `helm-regcred CMD` at the start of a usage or example line becomes `helm regcred CMD`; a
/// `helm-regcred` elsewhere (a `--post-renderer helm-regcred` argument) stays what it is.
fn helm_terms(text: &str) -> String {
    text.lines()
        .map(|line| {
            let indent = line.len() - line.trim_start().len();
            match line[indent..].strip_prefix("helm-regcred ") {
                Some(rest) => format!("{}helm regcred {rest}", &line[..indent]),
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `helm-regcred man --out-dir DIR`: one page per visible command, named as `man` finds them
/// (`helm-regcred.1`, `helm-regcred-install.1`, ...). Hidden commands get none.
pub fn run(args: &Args, cmd: clap::Command) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create {}", args.out_dir.display()))?;
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, &args.out_dir, &mut written)?;
    for path in &written {
        eprintln!("helm-regcred: wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn write_pages(
    cmd: &clap::Command,
    dir: &std::path::Path,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    // After `build()` a subcommand's display name is its whole path joined with '-'
    // (`helm-regcred-install`): the page's title and file name, as `man helm-regcred-install`
    // expects.
    let page = clap_mangen::Man::new(cmd.clone())
        .manual("helm-regcred manual")
        .source(format!("helm-regcred {}", env!("CARGO_PKG_VERSION")));
    let path = dir.join(page.get_filename());
    let mut bytes = Vec::new();
    page.render(&mut bytes)?;
    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::helm_terms;

    #[test]
    fn only_a_leading_binary_name_becomes_helm_regcred() {
        assert_eq!(
            helm_terms(
                "Examples:\n  helm-regcred values ./c\n  helm install a ./c --post-renderer helm-regcred"
            ),
            "Examples:\n  helm regcred values ./c\n  helm install a ./c --post-renderer helm-regcred"
        );
    }
}
