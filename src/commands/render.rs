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
    #[command(flatten)]
    pub trust: super::trust::TrustArgs,
}

pub fn run(args: &Args, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    // A local CLI run: the user chose the rules file, so it is trusted unless they say not.
    let policy = args.trust.policy(Trust::Trusted)?;
    // Rules first: a broken rules file fails before any input is read.
    let config = super::load_config(&args.rules, &args.set, &policy)?;
    let input = super::read_input(files)?;
    let stream = Stream::parse(&input)?;
    let env = super::process_env;
    // `stdin: true` credentials need a stdin the manifests do not use.
    let stdin = if input::reads_stdin(files) {
        Stdin::unavailable(super::STDIN_TAKEN)
    } else {
        Stdin::process()
    };
    let request = Request::new(&config, &stream)
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
    match outcome.output() {
        Some(text) => super::write_stdout(text.as_bytes())?,
        None => super::write_stdout(&input)?,
    }
    Ok(ExitCode::SUCCESS)
}
