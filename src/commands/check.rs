//! `check`: which pod specs pull from a registry in the rules without its pull secret. For CI:
//! exit 1 when there is any.
//!
//! * `helm-regcred check [-r RULES] [-n NS] [--release R] [FILE|-]...` reads manifests (stdin
//!   when no file is given);
//! * `helm regcred check RELEASE CHART [helm flags]` renders the chart with `helm template`
//!   (no post-renderer: the question is what the chart itself pulls) and checks that.
//!
//! The findings are the plan's changes that add something: a pod spec the rules select that
//! lacks one of the Secrets they give it. So `check` and the post-renderer cannot disagree.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use helm_regcred::adapters::helm;
use helm_regcred::{Config, Options, Plan, Request, Stream, engine};

use super::process_env;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest files (`-` or none: stdin), or RELEASE CHART [helm flags] to render a chart
    /// with `helm template` (chosen when the first argument is not an existing file).
    /// Own flags: `--rules FILE` (`-r`; else $HELM_REGCRED_RULES, else ./regcred.yaml);
    /// for files also `-n NS` and `--release NAME`.
    #[arg(
        value_name = "FILE... | RELEASE CHART [FLAGS]",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let split = helm::split("check", &args.args)?;
    // A chart needs RELEASE CHART; one argument is a file (so a typo says "cannot read").
    let file_mode = match split.positionals.as_slice() {
        [] | [_] => true,
        [first, ..] => first == "-" || Path::new(first).is_file(),
    };
    if file_mode {
        files(&args.args)
    } else {
        chart(&split)
    }
}

/// `check [-r RULES] [-n NS] [--release R] [FILE|-]...`
fn files(args: &[String]) -> anyhow::Result<ExitCode> {
    let mut rules = None;
    let mut options = Options::default();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{flag} needs a value"))
        };
        match arg.as_str() {
            "-r" | "--rules" => rules = Some(PathBuf::from(value(arg)?)),
            "-n" | "--namespace" => options.namespace = Some(value(arg)?),
            "--release" => options.release = Some(value(arg)?),
            a if a.starts_with("--rules=") => rules = Some(a["--rules=".len()..].into()),
            a if a.starts_with("--namespace=") => {
                options.namespace = Some(a["--namespace=".len()..].into());
            }
            a if a.starts_with("--release=") => {
                options.release = Some(a["--release=".len()..].into())
            }
            a if a.starts_with('-') && a != "-" => {
                bail!(
                    "check: unknown flag {a} for files (a chart is `check RELEASE CHART [helm flags]`)"
                )
            }
            _ => files.push(arg.into()),
        }
    }
    if options.namespace.is_none() {
        options.namespace = std::env::var("HELM_REGCRED_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty());
    }
    let split = helm::Split {
        rules,
        ..Default::default()
    };
    let config = Config::load(&split.rules_path(&process_env)?)?;
    let input = helm_regcred::input::read_all(&files)?;
    report(&check(&input, &config, &options)?)
}

/// `helm regcred check RELEASE CHART [helm flags]`
fn chart(split: &helm::Split) -> anyhow::Result<ExitCode> {
    let config = Config::load(&split.rules_path(&process_env)?)?;
    let helm = helm::helm_bin(&process_env);
    let mut cmd = Command::new(&helm);
    cmd.arg("template")
        .args(&split.helm_args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", helm.to_string_lossy()))?;
    if !out.status.success() {
        return Ok(helm::exit_code(out.status));
    }
    let options = Options {
        namespace: split.namespace(&process_env),
        release: split.release("template"),
    };
    report(&check(&out.stdout, &config, &options)?)
}

/// The plan for `input`; its changes that add a Secret are the findings.
pub fn check(input: &[u8], config: &Config, options: &Options) -> anyhow::Result<Plan> {
    let stream = Stream::parse(input)?;
    let request = Request::new(config, &stream)
        .options(options.clone())
        .env(&process_env)
        .plan_only();
    Ok(engine::run(request)?.plan)
}

/// Print one line per pod spec that lacks a pull secret (stdout) and a summary (stderr).
fn report(plan: &Plan) -> anyhow::Result<ExitCode> {
    super::print_warnings(&plan.warnings);
    let missing: Vec<_> = plan.lacking().collect();
    for change in &missing {
        println!(
            "{}: {} lacks {}",
            change.at,
            change.path,
            change.added.join(", ")
        );
    }
    let selected = plan.changes.len();
    if missing.is_empty() {
        eprintln!(
            "helm-regcred: check: all {selected} pod spec{} the rules select have their pull secrets",
            if selected == 1 { "" } else { "s" }
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "helm-regcred: check: {} of {selected} pod spec{} the rules select lack a pull secret",
            missing.len(),
            if selected == 1 { "" } else { "s" }
        );
        Ok(ExitCode::FAILURE)
    }
}
