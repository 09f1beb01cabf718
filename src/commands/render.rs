//! `post-render` and `render`: the engine as a filter from manifests to manifests.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use helm_regcred::registry::credentials::Stdin;
use helm_regcred::trust::Trust;
use helm_regcred::{Options, Request, Stream, engine, input};

use super::ColorWhen;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rules file.
    #[arg(
        short,
        long,
        env = "HELM_REGCRED_RULES",
        default_value = "regcred.yaml"
    )]
    pub rules: PathBuf,
    /// The release namespace: where documents without `metadata.namespace` land (Helm does not
    /// tell a post-renderer).
    #[arg(short, long, env = "HELM_REGCRED_NAMESPACE")]
    pub namespace: Option<String>,
    /// The release name (Helm does not tell a post-renderer); used by templated names.
    #[arg(long, env = "HELM_REGCRED_RELEASE")]
    pub release: Option<String>,
    /// Print a unified diff of the changes on stderr (Secret data redacted).
    #[arg(long)]
    pub diff: bool,
    /// Write the diff to this file too: Helm 3 hides a successful post-renderer's stderr.
    #[arg(long, value_name = "PATH")]
    pub diff_file: Option<PathBuf>,
    /// Show what would change (with --diff) but write the manifests unchanged.
    #[arg(long)]
    pub dry_run: bool,
    /// Colour the diff.
    #[arg(long, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorWhen,
    /// Set a template variable: `vars.KEY` in templated names (over the rules file's `vars:`).
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = super::parse_set)]
    pub set: Vec<(String, String)>,
    /// Run this post-renderer on the input first (the `helm regcred` wrappers pass the user's
    /// `--post-renderer` here: Helm runs only one).
    #[arg(long, value_name = "PROGRAM", hide = true)]
    pub chain_before: Option<PathBuf>,
    /// An argument of `--chain-before`'s program.
    #[arg(long, value_name = "ARG", hide = true, allow_hyphen_values = true)]
    pub chain_arg: Vec<String>,
    /// `KEY=VALUE` in the environment of `--chain-before`'s program.
    #[arg(long, value_name = "KEY=VALUE", hide = true)]
    pub chain_env: Vec<String>,
    #[command(flatten)]
    pub trust: super::trust::TrustArgs,
}

/// `post-render`: as `render` on stdin. Run by Helm 4 as the `regcred-postrender` plugin (and
/// not by the wrappers, which report errors themselves), a failure is written to stdout as the
/// text Helm shows: Helm 4.1 discards a plugin's stderr, and its exit status too says only
/// "plugin exited with error", but it prints the output it cannot parse as manifests. A lone
/// block scalar is valid YAML but no manifest, so Helm 4 always refuses it, with the message in
/// full: `error while parsing post rendered output: ... expected MappingNode but got
/// ScalarNode: node contents:` and the text (docs/helm.md, "Errors on Helm 4").
pub fn post_render(args: &Args) -> ExitCode {
    match run(args, &[]) {
        Ok(code) => code,
        Err(e) => {
            let code = super::report_error(&e);
            if !helm4_plugin() {
                return code;
            }
            let message = format!("helm-regcred: error: {}", super::error_text(&e));
            match super::write_stdout(helm4_error_document(&message).as_bytes()) {
                // Exit 0, or Helm 4 discards the output along with the reason.
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => code,
            }
        }
    }
}

/// Run by Helm 4 as the `regcred-postrender` plugin, outside the `helm regcred` wrappers
/// (which print the error file themselves). Helm 3 cannot load that plugin type at all.
pub fn helm4_plugin() -> bool {
    super::process_env("HELM_PLUGIN_NAME").as_deref() == Some(super::POSTRENDER_PLUGIN)
        && super::process_env(super::ERROR_FILE_ENV).is_none()
}

/// The error as a YAML literal block (explicit indentation: any line of the message may start
/// with spaces) that Helm 4 prints and refuses.
pub fn helm4_error_document(message: &str) -> String {
    let mut out = String::from("|2\n");
    let message = format!(
        "{message}\n\n(helm-regcred failed. Helm 4 hides a post-renderer's stderr, so \
         helm-regcred wrote its error as its output, which Helm refuses: it is not a manifest. \
         `helm regcred last-error` prints it again.)"
    );
    for line in message.lines() {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

pub fn run(args: &Args, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    // A local CLI run: the user chose the rules file, so it is trusted unless they say not.
    let policy = args.trust.policy(Trust::Trusted)?;
    // Rules first: a broken rules file fails before any input is read.
    let config = super::load_config(&args.rules, &args.set, &policy)?;
    let mut input = super::read_input(files)?;
    if let Some(command) = &args.chain_before {
        let program = super::chain::Program::from_args(command, &args.chain_arg, &args.chain_env)?;
        input = program.run(&input)?;
    }
    let stream = Stream::parse(&input)?;
    let env = super::process_env;
    // `stdin: true` credentials need a stdin the manifests do not use.
    let stdin = if input::reads_stdin(files) {
        Stdin::unavailable(super::STDIN_TAKEN)
    } else {
        Stdin::process()
    };
    // The summary line is all it shows of the selected lists: counts, not a record each.
    let request = Request::new(&config, &stream)
        .counts_only()
        .options(Options {
            namespace: args.namespace.clone(),
            release: args.release.clone(),
            trust: policy,
        })
        .env(&env)
        .stdin(stdin);
    let request = if args.dry_run {
        request.plan_only()
    } else {
        request
    };
    let outcome = engine::run(request)?;
    super::print_warnings(outcome.warnings());
    if let Some(path) = &args.diff_file {
        let text = format!("{}\n{}", outcome.summary(), outcome.diff(false));
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.diff {
        eprintln!("{}", outcome.summary());
        eprint!("{}", outcome.diff(args.color.for_stderr()));
    }
    // One write of the whole result: a failure above leaves stdout empty, never half a stream.
    match outcome.write_output(|pieces| super::write_stdout_pieces(pieces)) {
        Some(written) => written?,
        None => super::write_stdout(&input)?,
    }
    Ok(ExitCode::SUCCESS)
}
