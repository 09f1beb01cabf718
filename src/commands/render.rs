//! `post-render` and `render`: the engine as a filter from manifests to manifests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use helm_regcred::credentials::{self, Stdin};
use helm_regcred::trust::{Policy, Trust};
use helm_regcred::{Config, Options, Stream, diff, output, plan};

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
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
    #[command(flatten)]
    pub trust: super::trust::TrustArgs,
}

/// `--set KEY=VALUE` for clap.
pub fn parse_set(arg: &str) -> Result<(String, String), String> {
    helm_regcred::template::parse_set(arg)
}

/// The rules file with `--set` applied; untrusted rules must be where `policy` allows.
pub fn load_config_as(
    rules: &Path,
    set: &[(String, String)],
    policy: &Policy,
) -> anyhow::Result<Config> {
    policy.check_rules_path(rules)?;
    let mut config = Config::load(rules)?;
    for (key, value) in set {
        config.set_var(key, value);
    }
    Ok(config)
}

pub fn run(args: &Args, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    // A local CLI run: the user chose the rules file, so it is trusted unless they say not.
    let policy = args.trust.policy(Trust::Trusted)?;
    // Rules first: a broken rules file fails before any input is read.
    let config = load_config_as(&args.rules, &args.set, &policy)?;
    let input = super::read_input(files)?;
    let stream = Stream::parse(&input)?;
    let options = Options {
        namespace: args.namespace.clone(),
        release: args.release.clone(),
        trust: policy.clone(),
    };
    let plan = plan(&stream, &config, &options)?;

    let rendered = if args.dry_run {
        None
    } else {
        let env = |name: &str| std::env::var(name).ok();
        // `stdin: true` credentials need a stdin the manifests do not use.
        let stdin = if files.is_empty() || files.iter().any(|f| f == Path::new("-")) {
            Stdin::unavailable(output::STDIN_TAKEN)
        } else {
            Stdin::process()
        };
        let cx = credentials::Context {
            env: &env,
            base_dir: config.dir(),
            stdin: &stdin,
            policy: &policy,
        };
        let credentials = output::resolve_credentials_with(&plan, &config, &cx)?;
        Some(output::render(&stream, &plan, &config, &credentials))
    };

    for warning in &plan.warnings {
        eprintln!("helm-regcred: warning: {warning}");
    }
    if args.diff || args.diff_file.is_some() {
        let (before, after) = output::redacted_views(&stream, &plan, &config);
        if let Some(path) = &args.diff_file {
            let text = format!(
                "{}\n{}",
                diff::summary(&plan),
                diff::unified(&before, &after, false)
            );
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if args.diff {
            eprintln!("{}", diff::summary(&plan));
            eprint!(
                "{}",
                diff::unified(&before, &after, args.color.for_stderr())
            );
        }
    }

    // One write of the whole result: a failure above leaves stdout empty, never half a stream.
    let out: &[u8] = match &rendered {
        Some(text) => text.as_bytes(),
        None => &input,
    };
    super::write_stdout(out)?;
    Ok(ExitCode::SUCCESS)
}
