//! `explain [FILE|-] -r RULES [--kind K] [--name GLOB] [--namespace GLOB] [--output text|json]`:
//! a front end of [`helm_regcred::explain`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use helm_regcred::rules::selector::Pattern;
use helm_regcred::trust::Trust;
use helm_regcred::views::explain::{Filter, explain};
use helm_regcred::{Options, Stream};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifests to explain (`-` or none: stdin), as given to the post-renderer.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The rules file (else $HELM_REGCRED_RULES, else ./regcred.yaml).
    #[arg(short = 'r', long = "rules", value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Only pods of this kind.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only pods whose resource name matches this glob.
    #[arg(long, value_name = "GLOB")]
    pub name: Option<String>,
    /// Only pods whose namespace (their own, else the release namespace) matches this glob.
    #[arg(long, value_name = "GLOB")]
    pub namespace: Option<String>,
    /// The release namespace, for documents without one (else $HELM_REGCRED_NAMESPACE).
    #[arg(long, value_name = "NS")]
    pub release_namespace: Option<String>,
    /// The release name, for templated names.
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let pattern = |flag: &str, text: &Option<String>| -> anyhow::Result<Option<Pattern>> {
        text.as_deref()
            .map(|t| Pattern::new(t).with_context(|| format!("--{flag}")))
            .transpose()
    };
    let filter = Filter {
        kind: args.kind.clone(),
        name: pattern("name", &args.name)?,
        namespace: pattern("namespace", &args.namespace)?,
    };
    let options = Options {
        namespace: args
            .release_namespace
            .clone()
            .or_else(|| super::process_env("HELM_REGCRED_NAMESPACE").filter(|n| !n.is_empty())),
        release: args.release.clone(),
        trust: super::trust::from_env(Trust::Trusted)?,
    };
    let rules = helm_regcred::rules::find_file(args.rules.as_deref(), &super::process_env)?;
    options.trust.check_rules_path(&rules)?;
    let config = helm_regcred::Config::load(&rules)?;
    let files: Vec<PathBuf> = args.file.iter().cloned().collect();
    let input = super::read_input(&files)?;
    let stream = Stream::parse(&input)?;
    let explanation = explain(&stream, &config, &options, &super::process_env, &filter)?;
    let out = match args.output {
        Output::Text => explanation.to_text(),
        Output::Json => explanation.to_json(),
    };
    super::write_stdout(out.as_bytes())?;
    if explanation.pods.is_empty() {
        eprintln!("helm-regcred: explain: no pod spec in the input matches the filters");
    }
    Ok(ExitCode::SUCCESS)
}
